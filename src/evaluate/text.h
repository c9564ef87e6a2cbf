// Words of a text as the heuristic evaluators read them: UTF-8 decoded (an invalid byte reads as
// U+FFFD and separates words), case-folded, split into words, each word's script named by its
// Unicode block, English-like words lightly stemmed, and words hashed for table lookups.
// Internal to tyto_evaluate.
//
// What a word is:
//   - a run of letters, digits and combining marks (ASCII, Latin, Greek, Cyrillic, Armenian,
//     Hebrew, Arabic, Indic, Georgian and Hangul letters), with an apostrophe (', U+2019, U+02BC)
//     between two letters kept inside it and written as ' ("can't", "l'homme");
//   - a single Han, Hiragana, Katakana or Thai character: these scripts do not put spaces
//     between words, so each character is a word of its own;
//   - everything else (punctuation, symbols, emoji, spaces, invalid bytes) separates words.
// Case folding covers ASCII, Latin-1, Latin Extended-A, Greek (final sigma as sigma), Cyrillic,
// Armenian, and fullwidth ASCII (folded to ASCII). Every function is linear in its input and
// reads any bytes safely.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace tyto::evaluate {

// Scripts told apart by Unicode block. kOther: letters of a script not listed.
enum class Script : uint8_t {
  kNone,  // digits only
  kLatin,
  kGreek,
  kCyrillic,
  kArmenian,
  kHebrew,
  kArabic,
  kDevanagari,
  kBengali,
  kTamil,
  kThai,
  kGeorgian,
  kHangul,
  kKana,  // Hiragana and Katakana
  kHan,
  kOther,
};
inline constexpr size_t kScriptCount = 16;
std::string_view ScriptName(Script s);  // "latin", "cyrillic", "han", ...

// The longest word kept whole; a longer word is cut to its first kMaxWordBytes bytes of folded
// text (at a character boundary). Its offsets still cover the whole word.
inline constexpr size_t kMaxWordBytes = 96;

struct Word {
  std::string_view text;  // folded UTF-8; points into the reader's buffer, valid during the call
  Script script = Script::kNone;  // of its first letter; kNone for a number
  uint32_t letters = 0;           // letters in it (not digits, not marks)
  bool ascii_letters = false;     // only a-z (what StemAscii stems)
  uint32_t begin = 0;             // bytes [begin, end) of the original text
  uint32_t end = 0;
};

// Calls f(const Word&) for each word of text, in order. Texts longer than kMaxTextBytes are read
// up to that length (evaluators look at the first MiB of a response only).
inline constexpr size_t kMaxTextBytes = size_t{1} << 20;
template <typename F>
void ForEachWord(std::string_view text, F&& f);

// Stems an ASCII lowercase word in place and returns its new length: plural and -ing/-ed/-ly
// endings removed, a doubled final consonant undoubled, a final e dropped and a final y after a
// consonant written i, so that "make", "makes" and "making" all read "mak". Words shorter than
// four bytes, or holding anything but a-z, are left as they are.
size_t StemAscii(char* word, size_t length);

// A 64-bit hash of a word (never 0), the key of every word table. Inline: every evaluator
// hashes every word.
inline uint64_t HashWord(std::string_view word);

// One word of a text with what the evaluators look up (analysis.h makes them).
struct Token {
  uint64_t hash = 0;  // WordKey(word, stem=true): what phrases and relevance terms match
  uint64_t word = 0;  // HashWord(folded word): stop words, repetition
  uint32_t begin = 0;  // bytes [begin, end) of the original text
  uint32_t end = 0;
  uint32_t stop = 0;     // StopWordMask(word) (stop_words.h)
  uint16_t letters = 0;  // Word::letters, at most 65535
  Script script = Script::kNone;
  uint8_t bytes = 0;  // folded length, at most 255
};

// Hashes of the word as a table looks it up: the folded word, stemmed when asked.
uint64_t WordKey(const Word& w, bool stem);

// Whether StemAscii may change the word: only a-z words of four letters or more ending in s
// (plurals), g (-ing), d (-ed), y or e. When false, WordKey(w, true) == HashWord(w.text).
inline bool StemChanges(const Word& w) {
  if (!w.ascii_letters || w.text.size() < 4) return false;
  const char last = w.text.back();
  return last == 's' || last == 'g' || last == 'd' || last == 'y' || last == 'e';
}

// An open-addressing hash table from word hashes (never 0) to small values, for the fixed word
// lists (built once, then read from any thread) and for per-call counting. A key and its value
// sit side by side, so a lookup touches one cache line.
template <typename V>
class WordTable {
 public:
  explicit WordTable(size_t expected = 16) { Reset(expected); }

  // Empties the table, sized for `expected` keys without growing.
  void Reset(size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2) cap <<= 1;
    slots_.assign(cap, Slot{});
    mask_ = cap - 1;
    size_ = 0;
  }

  // The value of `key`, inserted as V{} if absent.
  V& operator[](uint64_t key) {
    size_t i = Find(key, slots_, mask_);
    if (slots_[i].key == 0) {
      if ((size_ + 1) * 2 > slots_.size()) {
        Grow();
        i = Find(key, slots_, mask_);
      }
      slots_[i].key = key;
      ++size_;
    }
    return slots_[i].value;
  }

  const V* Find(uint64_t key) const {
    const Slot& s = slots_[Find(key, slots_, mask_)];
    return s.key == 0 ? nullptr : &s.value;
  }
  bool Contains(uint64_t key) const { return Find(key) != nullptr; }
  size_t size() const { return size_; }

  // Calls f(key, value) for each entry, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.key != 0) f(s.key, s.value);
    }
  }

 private:
  struct Slot {
    uint64_t key = 0;
    V value{};
  };
  static size_t Find(uint64_t key, const std::vector<Slot>& slots, size_t mask) {
    size_t i = static_cast<size_t>(key ^ (key >> 29)) & mask;
    while (slots[i].key != 0 && slots[i].key != key) i = (i + 1) & mask;
    return i;
  }
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.key != 0) slots_[Find(s.key, slots_, mask_)] = s;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Implementation details of ForEachWord, inline for speed.

namespace text_internal {

enum class CharClass : uint8_t {
  kSeparator,
  kLetter,      // part of a word
  kDigit,       // part of a word, not counted as a letter
  kMark,        // joins the word before it; separates otherwise
  kIdeograph,   // a word by itself
  kApostrophe,  // inside a word between two letters; separates otherwise
};

struct CharInfo {
  CharClass cls = CharClass::kSeparator;
  Script script = Script::kNone;
  char32_t folded = 0;  // case-folded code point (letters and digits)
};

// Decodes the code point at text[pos] (pos < text.size()). Invalid or truncated sequences,
// overlong forms and surrogates give U+FFFD with length 1.
struct Decoded {
  char32_t value;
  uint32_t length;
};
inline Decoded DecodeUtf8(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char b0 = s[pos];
  if (b0 < 0x80) return {b0, 1};
  auto cont = [&](size_t i) { return i < n && (s[i] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (cont(pos + 1)) return {static_cast<char32_t>(((b0 & 0x1F) << 6) | (s[pos + 1] & 0x3F)), 2};
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (cont(pos + 1) && cont(pos + 2)) {
      const char32_t c = ((b0 & 0x0F) << 12) | ((s[pos + 1] & 0x3F) << 6) | (s[pos + 2] & 0x3F);
      if (c >= 0x800 && (c < 0xD800 || c > 0xDFFF)) return {c, 3};
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (cont(pos + 1) && cont(pos + 2) && cont(pos + 3)) {
      const char32_t c =
          ((b0 & 0x07) << 18) | ((s[pos + 1] & 0x3F) << 12) | ((s[pos + 2] & 0x3F) << 6) | (s[pos + 3] & 0x3F);
      if (c >= 0x10000 && c <= 0x10FFFF) return {c, 4};
    }
  }
  return {0xFFFD, 1};
}

// Classifies a code point at or above U+0080.
CharInfo ClassifyNonAscii(char32_t c);

// Appends the UTF-8 of c to buf at *len if it fits in kMaxWordBytes; returns whether it did.
inline bool AppendUtf8(char* buf, size_t* len, char32_t c) {
  char tmp[4];
  size_t k;
  if (c < 0x80) {
    tmp[0] = static_cast<char>(c);
    k = 1;
  } else if (c < 0x800) {
    tmp[0] = static_cast<char>(0xC0 | (c >> 6));
    tmp[1] = static_cast<char>(0x80 | (c & 0x3F));
    k = 2;
  } else if (c < 0x10000) {
    tmp[0] = static_cast<char>(0xE0 | (c >> 12));
    tmp[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    tmp[2] = static_cast<char>(0x80 | (c & 0x3F));
    k = 3;
  } else {
    tmp[0] = static_cast<char>(0xF0 | (c >> 18));
    tmp[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    tmp[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    tmp[3] = static_cast<char>(0x80 | (c & 0x3F));
    k = 4;
  }
  if (*len + k > kMaxWordBytes) return false;
  std::memcpy(buf + *len, tmp, k);
  *len += k;
  return true;
}

// ASCII: the folded letter or digit, or 0 for anything else.
extern const char kAsciiFold[128];

inline CharInfo Classify(char32_t c) {
  if (c < 0x80) {
    const char f = kAsciiFold[c];
    if (f == 0) return {c == '\'' ? CharClass::kApostrophe : CharClass::kSeparator, Script::kNone, c};
    if (f >= '0' && f <= '9') return {CharClass::kDigit, Script::kNone, static_cast<char32_t>(f)};
    return {CharClass::kLetter, Script::kLatin, static_cast<char32_t>(f)};
  }
  return ClassifyNonAscii(c);
}

// Whether the character starting at text[pos] is a letter (for the apostrophe rule).
inline bool LetterAt(std::string_view text, size_t pos) {
  if (pos >= text.size()) return false;
  const Decoded d = DecodeUtf8(text, pos);
  return Classify(d.value).cls == CharClass::kLetter;
}

}  // namespace text_internal

// Words are short: every byte is read with fixed-size loads (the first and last four bytes of a
// word of 4 to 8, the first, middle and last byte of a shorter one), so nothing calls memcpy or
// loops per byte.
inline uint64_t HashWord(std::string_view word) {
  constexpr uint64_t kMul1 = 0xbf58476d1ce4e5b9ULL;
  constexpr uint64_t kMul2 = 0x94d049bb133111ebULL;
  auto mix = [](uint64_t h, uint64_t v) {
    h = (h ^ v) * kMul1;
    return h ^ (h >> 31);
  };
  const char* p = word.data();
  const size_t n = word.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * kMul2);
  if (n >= 8) {
    uint64_t v;
    size_t i = 0;
    for (; i + 8 < n; i += 8) {
      std::memcpy(&v, p + i, 8);
      h = mix(h, v);
    }
    std::memcpy(&v, p + n - 8, 8);
    h = mix(h, v);
  } else if (n >= 4) {
    uint32_t a;
    uint32_t b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    h = mix(h, (uint64_t{a} << 32) | b);
  } else if (n > 0) {
    const auto byte = [&](size_t i) { return uint64_t{static_cast<unsigned char>(p[i])}; };
    h = mix(h, byte(0) | (byte(n / 2) << 8) | (byte(n - 1) << 16));
  }
  h = (h ^ (h >> 32)) * kMul2;
  h ^= h >> 29;
  return h == 0 ? 1 : h;
}

template <typename F>
void ForEachWord(std::string_view text, F&& f) {
  using text_internal::CharClass;
  if (text.size() > kMaxTextBytes) text = text.substr(0, kMaxTextBytes);
  char buf[kMaxWordBytes];
  size_t len = 0;
  bool in_word = false;
  bool last_letter = false;  // the word's last character was a letter
  Word w;
  const size_t n = text.size();
  auto emit = [&](size_t end) {
    w.text = std::string_view(buf, len);
    w.end = static_cast<uint32_t>(end);
    f(static_cast<const Word&>(w));
    in_word = false;
    len = 0;
  };
  auto start = [&](size_t pos, Script script) {
    in_word = true;
    w.begin = static_cast<uint32_t>(pos);
    w.script = script;
    w.letters = 0;
    w.ascii_letters = true;
  };
  size_t i = 0;
  while (i < n) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {  // the common case, without decoding
      const char folded = text_internal::kAsciiFold[b];
      if (folded != 0) {
        const bool letter = folded > '9';
        if (!in_word) start(i, letter ? Script::kLatin : Script::kNone);
        if (letter) {
          if (w.script == Script::kNone) w.script = Script::kLatin;
          ++w.letters;
        } else {
          w.ascii_letters = false;
        }
        if (len < kMaxWordBytes) buf[len++] = folded;
        last_letter = letter;
        ++i;
        continue;
      }
      if (b == '\'' && in_word && last_letter && text_internal::LetterAt(text, i + 1)) {
        if (len < kMaxWordBytes) buf[len++] = '\'';
        last_letter = false;
        w.ascii_letters = false;
        ++i;
        continue;
      }
      if (in_word) emit(i);
      ++i;
      continue;
    }
    const text_internal::Decoded d = text_internal::DecodeUtf8(text, i);
    const text_internal::CharInfo info = text_internal::ClassifyNonAscii(d.value);
    w.ascii_letters = false;  // harmless when no word is open: start() sets it again
    switch (info.cls) {
      case CharClass::kLetter:
      case CharClass::kDigit:
        if (!in_word) start(i, info.script);
        if (info.cls == CharClass::kLetter) {
          if (w.script == Script::kNone) w.script = info.script;
          ++w.letters;
        }
        text_internal::AppendUtf8(buf, &len, info.folded);
        last_letter = info.cls == CharClass::kLetter;
        break;
      case CharClass::kMark:
        if (in_word) {
          text_internal::AppendUtf8(buf, &len, d.value);
        }
        break;
      case CharClass::kApostrophe:
        if (in_word && last_letter && text_internal::LetterAt(text, i + d.length)) {
          if (len < kMaxWordBytes) buf[len++] = '\'';
          last_letter = false;
        } else if (in_word) {
          emit(i);
        }
        break;
      case CharClass::kIdeograph:
        if (in_word) emit(i);
        start(i, info.script);
        w.letters = 1;
        text_internal::AppendUtf8(buf, &len, info.folded);
        emit(i + d.length);
        break;
      case CharClass::kSeparator:
        if (in_word) emit(i);
        break;
    }
    i += d.length;
  }
  if (in_word) emit(n);
}

}  // namespace tyto::evaluate
