#include "evaluate/text.h"

#include <algorithm>
#include <array>

namespace tyto::evaluate {

std::string_view ScriptName(Script s) {
  static constexpr std::array<std::string_view, kScriptCount> kNames = {
      "none",       "latin",   "greek", "cyrillic", "armenian", "hebrew", "arabic", "devanagari",
      "bengali",    "tamil",   "thai",  "georgian", "hangul",   "kana",   "han",    "other"};
  return kNames[static_cast<size_t>(s)];
}

namespace text_internal {

// clang-format off
const char kAsciiFold[128] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0,   0,   0,   0,   0,   0,
    0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0,   0,   0,   0,   0,
    0,   'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 0,   0,   0,   0,   0,
};
// clang-format on

namespace {

struct Range {
  char32_t first;
  char32_t last;
  CharClass cls;
  Script script;
};

constexpr CharClass kSep = CharClass::kSeparator;
constexpr CharClass kLet = CharClass::kLetter;
constexpr CharClass kDig = CharClass::kDigit;
constexpr CharClass kMrk = CharClass::kMark;
constexpr CharClass kIdg = CharClass::kIdeograph;
constexpr CharClass kApo = CharClass::kApostrophe;

// Every code point from U+0080 up, in order; code points in no range are separators. Digit
// ranges start at their script's zero, so that they fold to ASCII digits.
constexpr Range kRanges[] = {
    {0x0080, 0x00A9, kSep, Script::kNone},       {0x00AA, 0x00AA, kLet, Script::kLatin},
    {0x00AB, 0x00AC, kSep, Script::kNone},       {0x00AD, 0x00AD, kMrk, Script::kNone},
    {0x00AE, 0x00B4, kSep, Script::kNone},       {0x00B5, 0x00B5, kLet, Script::kGreek},
    {0x00B6, 0x00B9, kSep, Script::kNone},       {0x00BA, 0x00BA, kLet, Script::kLatin},
    {0x00BB, 0x00BF, kSep, Script::kNone},       {0x00C0, 0x00D6, kLet, Script::kLatin},
    {0x00D7, 0x00D7, kSep, Script::kNone},       {0x00D8, 0x00F6, kLet, Script::kLatin},
    {0x00F7, 0x00F7, kSep, Script::kNone},       {0x00F8, 0x02AF, kLet, Script::kLatin},
    {0x02B0, 0x02BB, kSep, Script::kNone},       {0x02BC, 0x02BC, kApo, Script::kNone},
    {0x02BD, 0x02FF, kSep, Script::kNone},       {0x0300, 0x036F, kMrk, Script::kNone},
    {0x0370, 0x037D, kLet, Script::kGreek},      {0x037E, 0x037E, kSep, Script::kNone},
    {0x037F, 0x0386, kLet, Script::kGreek},      {0x0387, 0x0387, kSep, Script::kNone},
    {0x0388, 0x03FF, kLet, Script::kGreek},      {0x0400, 0x0481, kLet, Script::kCyrillic},
    {0x0482, 0x0482, kSep, Script::kNone},       {0x0483, 0x0489, kMrk, Script::kNone},
    {0x048A, 0x052F, kLet, Script::kCyrillic},   {0x0530, 0x0588, kLet, Script::kArmenian},
    {0x0589, 0x058F, kSep, Script::kNone},       {0x0590, 0x05C7, kMrk, Script::kNone},
    {0x05C8, 0x05CF, kSep, Script::kNone},       {0x05D0, 0x05F2, kLet, Script::kHebrew},
    {0x05F3, 0x060F, kSep, Script::kNone},       {0x0610, 0x061A, kMrk, Script::kNone},
    {0x061B, 0x061F, kSep, Script::kNone},       {0x0620, 0x064A, kLet, Script::kArabic},
    {0x064B, 0x065F, kMrk, Script::kNone},       {0x0660, 0x0669, kDig, Script::kNone},
    {0x066A, 0x066D, kSep, Script::kNone},       {0x066E, 0x06D3, kLet, Script::kArabic},
    {0x06D4, 0x06D4, kSep, Script::kNone},       {0x06D5, 0x06D5, kLet, Script::kArabic},
    {0x06D6, 0x06ED, kMrk, Script::kNone},       {0x06EE, 0x06EF, kLet, Script::kArabic},
    {0x06F0, 0x06F9, kDig, Script::kNone},       {0x06FA, 0x06FF, kLet, Script::kArabic},
    {0x0700, 0x074F, kLet, Script::kOther},      {0x0750, 0x077F, kLet, Script::kArabic},
    {0x0780, 0x089F, kLet, Script::kOther},      {0x08A0, 0x08FF, kLet, Script::kArabic},
    {0x0900, 0x0963, kLet, Script::kDevanagari}, {0x0964, 0x0965, kSep, Script::kNone},
    {0x0966, 0x096F, kDig, Script::kNone},       {0x0970, 0x097F, kLet, Script::kDevanagari},
    {0x0980, 0x09E5, kLet, Script::kBengali},    {0x09E6, 0x09EF, kDig, Script::kNone},
    {0x09F0, 0x09FF, kLet, Script::kBengali},    {0x0A00, 0x0B7F, kLet, Script::kOther},
    {0x0B80, 0x0BE5, kLet, Script::kTamil},      {0x0BE6, 0x0BEF, kDig, Script::kNone},
    {0x0BF0, 0x0BFF, kLet, Script::kTamil},      {0x0C00, 0x0DFF, kLet, Script::kOther},
    {0x0E00, 0x0E3A, kIdg, Script::kThai},       {0x0E3B, 0x0E3F, kSep, Script::kNone},
    {0x0E40, 0x0E4E, kIdg, Script::kThai},       {0x0E4F, 0x0E4F, kSep, Script::kNone},
    {0x0E50, 0x0E59, kDig, Script::kNone},       {0x0E5A, 0x0E7F, kSep, Script::kNone},
    {0x0E80, 0x109F, kLet, Script::kOther},      {0x10A0, 0x10FA, kLet, Script::kGeorgian},
    {0x10FB, 0x10FB, kSep, Script::kNone},       {0x10FC, 0x10FF, kLet, Script::kGeorgian},
    {0x1100, 0x11FF, kLet, Script::kHangul},     {0x1200, 0x1CFF, kLet, Script::kOther},
    {0x1D00, 0x1DBF, kLet, Script::kLatin},      {0x1DC0, 0x1DFF, kMrk, Script::kNone},
    {0x1E00, 0x1EFF, kLet, Script::kLatin},      {0x1F00, 0x1FFF, kLet, Script::kGreek},
    {0x2000, 0x200B, kSep, Script::kNone},       {0x200C, 0x200D, kMrk, Script::kNone},
    {0x200E, 0x2018, kSep, Script::kNone},       {0x2019, 0x2019, kApo, Script::kNone},
    {0x201A, 0x20CF, kSep, Script::kNone},       {0x20D0, 0x20FF, kMrk, Script::kNone},
    {0x2100, 0x2BFF, kSep, Script::kNone},       {0x2C00, 0x2C5F, kLet, Script::kOther},
    {0x2C60, 0x2C7F, kLet, Script::kLatin},      {0x2C80, 0x2DDF, kLet, Script::kOther},
    {0x2DE0, 0x2DFF, kMrk, Script::kNone},       {0x2E00, 0x2E7F, kSep, Script::kNone},
    {0x2E80, 0x2FDF, kIdg, Script::kHan},        {0x2FE0, 0x3004, kSep, Script::kNone},
    {0x3005, 0x3007, kIdg, Script::kHan},        {0x3008, 0x3020, kSep, Script::kNone},
    {0x3021, 0x3029, kIdg, Script::kHan},        {0x302A, 0x302F, kMrk, Script::kNone},
    {0x3030, 0x3040, kSep, Script::kNone},       {0x3041, 0x3096, kIdg, Script::kKana},
    {0x3097, 0x3098, kSep, Script::kNone},       {0x3099, 0x309A, kMrk, Script::kNone},
    {0x309B, 0x30FA, kIdg, Script::kKana},       {0x30FB, 0x30FB, kSep, Script::kNone},
    {0x30FC, 0x30FF, kIdg, Script::kKana},       {0x3100, 0x312F, kLet, Script::kOther},
    {0x3130, 0x318F, kLet, Script::kHangul},     {0x3190, 0x31EF, kSep, Script::kNone},
    {0x31F0, 0x31FF, kIdg, Script::kKana},       {0x3200, 0x33FF, kSep, Script::kNone},
    {0x3400, 0x4DBF, kIdg, Script::kHan},        {0x4DC0, 0x4DFF, kSep, Script::kNone},
    {0x4E00, 0x9FFF, kIdg, Script::kHan},        {0xA000, 0xA63F, kLet, Script::kOther},
    {0xA640, 0xA69F, kLet, Script::kCyrillic},   {0xA6A0, 0xA6FF, kLet, Script::kOther},
    {0xA700, 0xA71F, kSep, Script::kNone},       {0xA720, 0xA7FF, kLet, Script::kLatin},
    {0xA800, 0xABFF, kLet, Script::kOther},      {0xAC00, 0xD7FF, kLet, Script::kHangul},
    {0xE000, 0xF8FF, kSep, Script::kNone},       {0xF900, 0xFAFF, kIdg, Script::kHan},
    {0xFB00, 0xFB06, kLet, Script::kLatin},      {0xFB07, 0xFB1C, kLet, Script::kOther},
    {0xFB1D, 0xFB4F, kLet, Script::kHebrew},     {0xFB50, 0xFDFF, kLet, Script::kArabic},
    {0xFE00, 0xFE0F, kMrk, Script::kNone},       {0xFE10, 0xFE1F, kSep, Script::kNone},
    {0xFE20, 0xFE2F, kMrk, Script::kNone},       {0xFE30, 0xFE6F, kSep, Script::kNone},
    {0xFE70, 0xFEFE, kLet, Script::kArabic},     {0xFEFF, 0xFF0F, kSep, Script::kNone},
    {0xFF10, 0xFF19, kDig, Script::kNone},       {0xFF1A, 0xFF20, kSep, Script::kNone},
    {0xFF21, 0xFF3A, kLet, Script::kLatin},      {0xFF3B, 0xFF40, kSep, Script::kNone},
    {0xFF41, 0xFF5A, kLet, Script::kLatin},      {0xFF5B, 0xFF65, kSep, Script::kNone},
    {0xFF66, 0xFF9F, kIdg, Script::kKana},       {0xFFA0, 0xFFDC, kLet, Script::kHangul},
    {0xFFDD, 0xFFFF, kSep, Script::kNone},       {0x10000, 0x1CFFF, kLet, Script::kOther},
    {0x1D000, 0x1DFFF, kSep, Script::kNone},     {0x1E000, 0x1EFFF, kLet, Script::kOther},
    {0x1F000, 0x1FFFF, kSep, Script::kNone},     {0x20000, 0x3FFFF, kIdg, Script::kHan},
};

char32_t FoldLatin(char32_t c) {
  if (c >= 0xC0 && c <= 0xDE) return c + 0x20;  // U+00D7 is not a letter and never gets here
  if (c >= 0x100 && c <= 0x137) return c | 1;
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
  if (c >= 0x14A && c <= 0x177) return c | 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
  if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF)) return c | 1;
  if (c >= 0xFF21 && c <= 0xFF3A) return 'a' + (c - 0xFF21);
  if (c >= 0xFF41 && c <= 0xFF5A) return 'a' + (c - 0xFF41);
  return c;
}

char32_t FoldGreek(char32_t c) {
  if (c >= 0x391 && c <= 0x3A9) return c + 0x20;
  if (c == 0x386) return 0x3AC;
  if (c >= 0x388 && c <= 0x38A) return c + 0x25;
  if (c == 0x38C) return 0x3CC;
  if (c == 0x38E || c == 0x38F) return c + 0x3F;
  if (c == 0x3C2) return 0x3C3;  // final sigma
  if (c == 0xB5) return 0x3BC;   // micro sign
  return c;
}

char32_t FoldCyrillic(char32_t c) {
  if (c >= 0x410 && c <= 0x42F) return c + 0x20;
  if (c >= 0x400 && c <= 0x40F) return c + 0x50;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) || (c >= 0x4D0 && c <= 0x52F)) return c | 1;
  if (c >= 0x4C1 && c <= 0x4CE) return (c & 1) ? c + 1 : c;
  if (c == 0x4C0) return 0x4CF;
  return c;
}

}  // namespace

CharInfo ClassifyNonAscii(char32_t c) {
  const Range* end = std::end(kRanges);
  const Range* r = std::upper_bound(std::begin(kRanges), end, c,
                                    [](char32_t v, const Range& range) { return v < range.first; });
  if (r == std::begin(kRanges)) return {};
  --r;
  if (c > r->last) return {};
  CharInfo info{r->cls, r->script, c};
  switch (r->cls) {
    case kDig:
      info.folded = '0' + (c - r->first);
      break;
    case kLet:
      switch (r->script) {
        case Script::kLatin:
          info.folded = FoldLatin(c);
          break;
        case Script::kGreek:
          info.folded = FoldGreek(c);
          break;
        case Script::kCyrillic:
          info.folded = FoldCyrillic(c);
          break;
        case Script::kArmenian:
          if (c >= 0x531 && c <= 0x556) info.folded = c + 0x30;
          break;
        default:
          break;
      }
      break;
    default:
      break;
  }
  return info;
}

}  // namespace text_internal

namespace {

bool EndsWith(const char* w, size_t n, std::string_view suffix) {
  if (n < suffix.size()) return false;
  const char* tail = w + n - suffix.size();
  for (size_t i = 0; i < suffix.size(); ++i) {
    if (tail[i] != suffix[i]) return false;
  }
  return true;
}

bool IsVowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'; }

bool HasVowel(const char* w, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (IsVowel(w[i])) return true;
  }
  return false;
}

}  // namespace

size_t StemAscii(char* w, size_t n) {
  if (n < 4) return n;
  for (size_t i = 0; i < n; ++i) {
    if (w[i] < 'a' || w[i] > 'z') return n;
  }
  // Plurals and third persons.
  if (EndsWith(w, n, "sses")) {
    n -= 2;
  } else if (n >= 5 && EndsWith(w, n, "ies")) {
    n -= 2;
    w[n - 1] = 'i';
  } else if (n >= 5 && EndsWith(w, n, "es") &&
             (w[n - 3] == 'x' || w[n - 3] == 'z' || w[n - 3] == 's' || EndsWith(w, n, "ches") ||
              EndsWith(w, n, "shes"))) {
    n -= 2;
  } else if (w[n - 1] == 's' && w[n - 2] != 's' && w[n - 2] != 'u' && w[n - 2] != 'i') {
    n -= 1;
  }
  // -ing and -ed, keeping at least three letters with a vowel among them.
  size_t cut = 0;
  if (EndsWith(w, n, "ing")) {
    cut = 3;
  } else if (EndsWith(w, n, "ed") && !EndsWith(w, n, "eed")) {
    cut = 2;
  }
  if (cut > 0 && n - cut >= 3 && HasVowel(w, n - cut)) {
    n -= cut;
    const char last = w[n - 1];
    if (n >= 4 && last == w[n - 2] &&
        (last == 'b' || last == 'd' || last == 'g' || last == 'm' || last == 'n' || last == 'p' || last == 'r' ||
         last == 't')) {
      --n;
    }
  }
  if (n >= 4 && w[n - 1] == 'y' && !IsVowel(w[n - 2])) w[n - 1] = 'i';
  if (n >= 4 && w[n - 1] == 'e') --n;
  return n;
}

uint64_t WordKey(const Word& w, bool stem) {
  if (!stem || !StemChanges(w)) return HashWord(w.text);
  char tmp[kMaxWordBytes];
  std::memcpy(tmp, w.text.data(), w.text.size());
  const size_t n = StemAscii(tmp, w.text.size());
  return HashWord(std::string_view(tmp, n));
}

}  // namespace tyto::evaluate
