#include "eventstore/text_query.h"

#include <vector>

namespace tyto::eventstore {

namespace {

struct Term {
  std::string text;
  bool prefix = false;
  bool negated = false;
  size_t pos = 0;  // 1-based character position, for messages
};

struct Item {
  bool is_or = false;
  Term term;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Whether the unicode61 tokenizer can find a word in `s`: an ASCII letter or digit, or any
// non-ASCII character (most are letters; the rest just find nothing).
bool HasWordCharacter(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u >= 0x80) return true;
  }
  return false;
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string ToFts(const Term& t) { return Quote(t.text) + (t.prefix ? " *" : ""); }

}  // namespace

Result<std::string> TranslateSearchText(std::string_view text) {
  if (text.size() > kMaxSearchTextBytes) {
    return InvalidArgument("search text is " + std::to_string(text.size()) + " bytes; at most " +
                           std::to_string(kMaxSearchTextBytes) + " are allowed");
  }
  // 1-based character (not byte) position of byte offset i.
  auto position = [&](size_t i) {
    size_t chars = 0;
    for (size_t k = 0; k < i && k < text.size(); ++k) {
      if ((static_cast<unsigned char>(text[k]) & 0xc0) != 0x80) ++chars;
    }
    return chars + 1;
  };
  auto error = [&](size_t i, const std::string& what) {
    return InvalidArgument("search text: " + what + " at position " + std::to_string(position(i)));
  };

  std::vector<Item> items;
  bool pending_not = false;
  size_t pending_not_at = 0;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    if (IsSpace(text[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    Term t;
    t.pos = start;
    if (text[i] == '-') {
      t.negated = true;
      ++i;
      if (i == n || IsSpace(text[i])) continue;  // a lone '-' is punctuation
    }
    if (text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) return error(i, "unterminated quote");
      t.text = std::string(text.substr(i + 1, close - i - 1));
      i = close + 1;
      if (i < n && text[i] == '*') {
        t.prefix = true;
        ++i;
      }
      if (!HasWordCharacter(t.text)) continue;  // nothing the tokenizer would index
    } else {
      size_t j = i;
      while (j < n && !IsSpace(text[j]) && text[j] != '"') ++j;
      std::string_view word = text.substr(i, j - i);
      i = j;
      if (!t.negated && word == "OR") {
        Item item;
        item.is_or = true;
        item.term.pos = start;
        items.push_back(std::move(item));
        continue;
      }
      if (!t.negated && word == "AND") continue;
      if (!t.negated && word == "NOT") {
        if (pending_not) return error(start, "NOT twice");
        pending_not = true;
        pending_not_at = start;
        continue;
      }
      while (!word.empty() && word.back() == '*') {
        t.prefix = true;
        word.remove_suffix(1);
      }
      if (!HasWordCharacter(word)) continue;  // punctuation ("->", ":") separates words, as in the body
      t.text = std::string(word);
    }
    if (pending_not) {
      if (t.negated) return error(start, "NOT before an excluded term");
      t.negated = true;
      pending_not = false;
    }
    Item item;
    item.term = std::move(t);
    items.push_back(std::move(item));
  }
  if (pending_not) return error(pending_not_at, "NOT must be followed by a word or a quoted phrase");

  std::vector<std::vector<Term>> groups;  // ANDed; the terms of each are ORed
  std::vector<Term> excluded;
  bool after_or = false;
  bool after_excluded = false;
  size_t terms = 0;
  for (Item& item : items) {
    if (item.is_or) {
      if (groups.empty() || after_or || after_excluded) return error(item.term.pos, "OR needs a word before it");
      after_or = true;
      continue;
    }
    if (++terms > kMaxSearchTerms) {
      return error(item.term.pos, "more than " + std::to_string(kMaxSearchTerms) + " terms");
    }
    if (item.term.negated) {
      if (after_or) return error(item.term.pos, "an excluded term cannot be part of OR");
      excluded.push_back(std::move(item.term));
      after_excluded = true;
    } else {
      if (after_or) {
        groups.back().push_back(std::move(item.term));
      } else {
        groups.push_back({std::move(item.term)});
      }
      after_excluded = false;
    }
    after_or = false;
  }
  if (after_or) return error(n, "OR needs a word after it");
  if (groups.empty()) {
    if (!excluded.empty()) return InvalidArgument("search text: needs at least one word that is not excluded");
    return InvalidArgument("search text has no letter or digit to search for");
  }

  std::string positive;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g > 0) positive += " AND ";
    if (groups[g].size() == 1) {
      positive += ToFts(groups[g][0]);
      continue;
    }
    positive += "(";
    for (size_t k = 0; k < groups[g].size(); ++k) {
      if (k > 0) positive += " OR ";
      positive += ToFts(groups[g][k]);
    }
    positive += ")";
  }
  if (excluded.empty()) return positive;
  std::string out = "(" + positive + ") NOT (";
  for (size_t k = 0; k < excluded.size(); ++k) {
    if (k > 0) out += " OR ";
    out += ToFts(excluded[k]);
  }
  return out + ")";
}

}  // namespace tyto::eventstore
