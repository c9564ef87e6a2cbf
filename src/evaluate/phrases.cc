#include "evaluate/phrases.h"

#include <algorithm>
#include <array>

namespace tyto::evaluate {
namespace {

constexpr size_t kMaxItems = 32;
constexpr size_t kMaxAlternativeWords = 32;
constexpr size_t kMaxPositions = 256;

enum class Kind : uint8_t {
  kWords,        // one or more words
  kExact,        // =Word: one word, spelled exactly so
  kFolded,       // ~word: one word, not inflected
  kPunctuation,  // follows the previous word
};

struct Alternative {
  Kind kind = Kind::kWords;
  std::vector<uint64_t> words;  // keys, hashed as the text's tokens are
  std::string text;             // kExact, kFolded: the spelling; kPunctuation: the characters
};

struct Item {
  std::vector<Alternative> alternatives;
  bool optional = false;
  // The word alternatives by their first word, so that a step costs one lookup however many
  // alternatives the item has: first word -> index + 1 into by_first_lists.
  WordTable<uint32_t> by_first{4};
  std::vector<std::vector<uint16_t>> by_first_lists;
  std::vector<uint16_t> punctuation;  // the punctuation alternatives
};

struct Pattern {
  uint32_t group = 0;
  std::vector<Item> items;
};

// Where the automaton stands: at the start of item `item` (alt == kStart), or inside
// alternative `alt` of it, expecting its word-th word.
constexpr uint16_t kStart = 0xFFFF;
struct State {
  uint16_t item;
  uint16_t alt;
  uint16_t word;
  friend bool operator==(const State&, const State&) = default;
};

// A small set of states without allocation (a spec has at most kMaxPositions of them).
struct StateSet {
  std::array<State, kMaxPositions> states;
  size_t size = 0;
  void Add(State s) {
    for (size_t i = 0; i < size; ++i) {
      if (states[i] == s) return;
    }
    if (size < states.size()) states[size++] = s;
  }
};

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

Result<Alternative> ParseAlternative(std::string_view alt, bool stem) {
  Alternative a;
  const bool exact = alt[0] == '=' || alt[0] == '~';
  if (exact) {
    a.kind = alt[0] == '=' ? Kind::kExact : Kind::kFolded;
    alt.remove_prefix(1);
  }
  ForEachWord(alt, [&](const Word& w) { a.words.push_back(WordKey(w, stem)); });
  if (exact) {
    if (a.words.size() != 1) return InvalidArgument(std::string(a.kind == Kind::kExact ? "=" : "~") +
                                                    std::string(alt) + " must be exactly one word");
    a.text = std::string(alt);
    if (a.kind == Kind::kFolded) {
      for (char& ch : a.text) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
    }
  } else if (a.words.empty()) {
    a.kind = Kind::kPunctuation;
    a.text = std::string(alt);
  } else if (a.words.size() > kMaxAlternativeWords) {
    return InvalidArgument("an alternative of more than 32 words");
  }
  return a;
}

// Whether token t is spelled as an =Word or ~word alternative demands (any other: true).
bool Spelled(const Alternative& alt, std::string_view text, const Token& t) {
  if (alt.kind != Kind::kExact && alt.kind != Kind::kFolded) return true;
  const std::string_view original = text.substr(t.begin, t.end - t.begin);
  if (original.size() != alt.text.size()) return false;
  for (size_t c = 0; c < original.size(); ++c) {
    char ch = original[c];
    if (alt.kind == Kind::kFolded && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    if (ch != alt.text[c]) return false;
  }
  return true;
}

}  // namespace

struct PhraseSet::Impl {
  std::vector<Pattern> patterns;                 // by entry
  std::vector<std::vector<uint32_t>> starting;   // lists of entries, by first_ value - 1
  WordTable<uint32_t> first{64};                 // a possible first word -> starting index + 1

  // Adds to *set the states at the start of item k and after, when the next token is tokens[j]
  // (previous: tokens[j - 1]); sets *accepted when the pattern can end there.
  void Enter(const Pattern& p, size_t k, std::string_view text, const std::vector<Token>& tokens, size_t j,
             StateSet* set, bool* accepted) const {
    for (; k <= p.items.size(); ++k) {
      if (k == p.items.size()) {
        *accepted = true;
        return;
      }
      const Item& item = p.items[k];
      if (!item.by_first_lists.empty()) set->Add({static_cast<uint16_t>(k), kStart, 0});
      for (uint16_t a : item.punctuation) {
        const Alternative& alt = item.alternatives[a];
        size_t pos = tokens[j - 1].end;  // never first (checked at Create), so j > 0
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        if (text.substr(pos, alt.text.size()) == alt.text) Enter(p, k + 1, text, tokens, j, set, accepted);
      }
      if (!item.optional) return;
    }
  }
};

PhraseSet::PhraseSet() = default;
PhraseSet::~PhraseSet() = default;
PhraseSet::PhraseSet(PhraseSet&&) noexcept = default;
PhraseSet& PhraseSet::operator=(PhraseSet&&) noexcept = default;

size_t PhraseSet::size() const { return impl_ ? impl_->patterns.size() : 0; }

uint32_t PhraseSet::group(uint32_t entry) const { return impl_->patterns[entry].group; }

const std::vector<uint32_t>* PhraseSet::Starting(uint64_t word) const {
  if (!impl_) return nullptr;
  const uint32_t* i = impl_->first.Find(word);
  return i == nullptr ? nullptr : &impl_->starting[*i - 1];
}

Result<PhraseSet> PhraseSet::Create(const std::vector<Entry>& entries, bool stem) {
  auto impl = std::make_shared<Impl>();
  for (uint32_t e = 0; e < entries.size(); ++e) {
    const Entry& entry = entries[e];
    auto error = [&](std::string_view what) {
      return InvalidArgument("phrase \"" + entry.spec + "\": " + std::string(what));
    };
    Pattern p;
    p.group = entry.group;
    size_t positions = 0;
    size_t min_words = 0;
    for (std::string_view text : Split(entry.spec, ' ')) {
      if (text.empty()) continue;
      Item item;
      if (text.front() == '[') {
        if (text.size() < 2 || text.back() != ']') return error("unclosed [");
        item.optional = true;
        text = text.substr(1, text.size() - 2);
      }
      size_t fewest = kMaxAlternativeWords;
      for (std::string_view alt : Split(text, '|')) {
        if (alt.empty()) return error("empty alternative");
        auto parsed = ParseAlternative(alt, stem);
        if (!parsed.ok()) return error(parsed.status().message());
        positions += parsed->words.size();
        fewest = std::min(fewest, parsed->words.size());
        item.alternatives.push_back(std::move(parsed).value());
      }
      if (!item.optional) min_words += fewest;
      for (uint16_t a = 0; a < item.alternatives.size(); ++a) {
        const Alternative& alt = item.alternatives[a];
        if (alt.kind == Kind::kPunctuation) {
          item.punctuation.push_back(a);
          continue;
        }
        uint32_t& slot = item.by_first[alt.words[0]];
        if (slot == 0) {
          item.by_first_lists.emplace_back();
          slot = static_cast<uint32_t>(item.by_first_lists.size());
        }
        item.by_first_lists[slot - 1].push_back(a);
      }
      p.items.push_back(std::move(item));
    }
    if (p.items.empty()) return error("no words");
    if (p.items.size() > kMaxItems) return error("more than 32 items");
    if (positions > kMaxPositions) return error("more than 256 word positions");
    if (min_words == 0) return error("can match without a word: at least one item must need a word");
    // The words it may start with: the first item's, and the next item's while items are
    // optional.
    std::vector<uint64_t> firsts;
    for (const Item& item : p.items) {
      for (const Alternative& a : item.alternatives) {
        if (a.kind == Kind::kPunctuation) return error("punctuation before the first word");
        firsts.push_back(a.words[0]);
      }
      if (!item.optional) break;
    }
    for (uint64_t w : firsts) {
      uint32_t& slot = impl->first[w];
      if (slot == 0) {
        impl->starting.emplace_back();
        slot = static_cast<uint32_t>(impl->starting.size());
      }
      std::vector<uint32_t>& list = impl->starting[slot - 1];
      if (list.empty() || list.back() != e) list.push_back(e);
    }
    impl->patterns.push_back(std::move(p));
  }
  PhraseSet set;
  set.stem_ = stem;
  set.impl_ = std::move(impl);
  return set;
}

bool PhraseSet::MatchAt(uint32_t entry, std::string_view text, const std::vector<Token>& tokens, size_t first,
                        size_t* end) const {
  const Pattern& p = impl_->patterns[entry];
  StateSet sets[2];
  StateSet* current = &sets[0];
  StateSet* next = &sets[1];
  bool accepted = false;
  impl_->Enter(p, 0, text, tokens, first, current, &accepted);
  for (size_t j = first; j < tokens.size() && current->size > 0; ++j) {
    next->size = 0;
    accepted = false;
    const Token& t = tokens[j];
    for (size_t i = 0; i < current->size; ++i) {
      const State s = current->states[i];
      const Item& item = p.items[s.item];
      if (s.alt == kStart) {
        const uint32_t* list = item.by_first.Find(Key(t));
        if (list == nullptr) continue;
        for (uint16_t a : item.by_first_lists[*list - 1]) {
          const Alternative& alt = item.alternatives[a];
          if (!Spelled(alt, text, t)) continue;
          if (alt.words.size() > 1) {
            next->Add({s.item, a, 1});
          } else {
            impl_->Enter(p, s.item + 1u, text, tokens, j + 1, next, &accepted);
          }
        }
        continue;
      }
      const Alternative& alt = item.alternatives[s.alt];
      if (alt.words[s.word] != Key(t)) continue;
      if (s.word + 1u < alt.words.size()) {
        next->Add({s.item, s.alt, static_cast<uint16_t>(s.word + 1)});
      } else {
        impl_->Enter(p, s.item + 1u, text, tokens, j + 1, next, &accepted);
      }
    }
    if (accepted) {
      *end = j + 1;
      return true;
    }
    std::swap(current, next);  // the pointers
  }
  return false;
}

std::string PhraseSet::MatchedText(std::string_view text, const std::vector<Token>& tokens, const Match& m) {
  if (m.words == 0 || m.first_word + m.words > tokens.size()) return {};
  const size_t begin = tokens[m.first_word].begin;
  const size_t stop = tokens[m.first_word + m.words - 1].end;
  std::string out;
  ForEachWord(text.substr(begin, stop - begin), [&](const Word& w) {
    if (!out.empty()) out += ' ';
    out.append(w.text);
  });
  return out;
}

}  // namespace tyto::evaluate
