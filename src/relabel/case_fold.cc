#include "relabel/case_fold.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace tyto::relabel {
namespace {

// A run of code points that map alike: each adds `to_upper` to uppercase and `to_lower` to
// lowercase (0: no mapping), or, with kPairs, the run alternates capital, small, capital, ...
// from `lo`, each capital's small letter the next code point. Written from the blocks' layout in
// the Unicode code charts (capitals 0x20 below small letters in Latin-1, pairs in Latin
// Extended-A and Cyrillic's historic letters, 0x20 and 0x50 offsets in Cyrillic, and each
// irregular letter by itself); checked code point by code point against Python's unicodedata
// (str.lower and str.upper where they give one code point).
constexpr int32_t kPairs = INT32_MAX;

struct CaseRun {
  char32_t lo;
  char32_t hi;
  int32_t to_upper;
  int32_t to_lower;
};

constexpr std::array<CaseRun, 62> kRuns = {{
    // Basic Latin.
    {0x0041, 0x005A, 0, 32},   // A-Z
    {0x0061, 0x007A, -32, 0},  // a-z
    // Latin-1 Supplement.
    {0x00B5, 0x00B5, 0x039C - 0x00B5, 0},  // micro sign: Greek capital mu
    {0x00C0, 0x00D6, 0, 32},               // À-Ö
    {0x00D8, 0x00DE, 0, 32},               // Ø-Þ (not U+00D7, the multiplication sign)
    {0x00E0, 0x00F6, -32, 0},              // à-ö (ß, U+00DF, has no simple capital)
    {0x00F8, 0x00FE, -32, 0},              // ø-þ (not U+00F7, the division sign)
    {0x00FF, 0x00FF, 0x0178 - 0x00FF, 0},  // ÿ: Ÿ, in Latin Extended-A
    // Latin Extended-A.
    {0x0100, 0x012F, kPairs, kPairs},      // Ā ā ... Į į
    {0x0130, 0x0130, 0, 0x0069 - 0x0130},  // İ: i
    {0x0131, 0x0131, 0x0049 - 0x0131, 0},  // ı: I
    {0x0132, 0x0137, kPairs, kPairs},      // Ĳ ĳ Ĵ ĵ Ķ ķ (ĸ, U+0138, has no capital)
    {0x0139, 0x0148, kPairs, kPairs},      // Ĺ ĺ ... Ň ň (ŉ, U+0149, has no simple capital)
    {0x014A, 0x0177, kPairs, kPairs},      // Ŋ ŋ ... Ŷ ŷ
    {0x0178, 0x0178, 0, 0x00FF - 0x0178},  // Ÿ: ÿ
    {0x0179, 0x017E, kPairs, kPairs},      // Ź ź Ż ż Ž ž
    {0x017F, 0x017F, 0x0053 - 0x017F, 0},  // long s: S
    // Combining Diacritical Marks: the iota subscript.
    {0x0345, 0x0345, 0x0399 - 0x0345, 0},
    // Greek and Coptic.
    {0x0370, 0x0373, kPairs, kPairs},      // Ͱ ͱ Ͳ ͳ
    {0x0376, 0x0377, kPairs, kPairs},      // Ͷ ͷ
    {0x037B, 0x037D, 0x03FD - 0x037B, 0},  // ͻ ͼ ͽ: Ͻ Ͼ Ͽ
    {0x037F, 0x037F, 0, 0x03F3 - 0x037F},  // Ϳ: ϳ
    {0x0386, 0x0386, 0, 0x03AC - 0x0386},  // Ά: ά
    {0x0388, 0x038A, 0, 0x03AD - 0x0388},  // Έ Ή Ί: έ ή ί
    {0x038C, 0x038C, 0, 0x03CC - 0x038C},  // Ό: ό
    {0x038E, 0x038F, 0, 0x03CD - 0x038E},  // Ύ Ώ: ύ ώ (ΐ, U+0390, has no simple capital)
    {0x0391, 0x03A1, 0, 32},               // Α-Ρ
    {0x03A3, 0x03AB, 0, 32},               // Σ-Ϋ (U+03A2 is unassigned)
    {0x03AC, 0x03AC, 0x0386 - 0x03AC, 0},  // ά: Ά
    {0x03AD, 0x03AF, 0x0388 - 0x03AD, 0},  // έ ή ί (ΰ, U+03B0, has no simple capital)
    {0x03B1, 0x03C1, -32, 0},              // α-ρ
    {0x03C2, 0x03C2, 0x03A3 - 0x03C2, 0},  // final ς: Σ
    {0x03C3, 0x03CB, -32, 0},              // σ-ϋ
    {0x03CC, 0x03CC, 0x038C - 0x03CC, 0},  // ό: Ό
    {0x03CD, 0x03CE, 0x038E - 0x03CD, 0},  // ύ ώ: Ύ Ώ
    {0x03CF, 0x03CF, 0, 0x03D7 - 0x03CF},  // Ϗ: ϗ
    {0x03D0, 0x03D0, 0x0392 - 0x03D0, 0},  // ϐ: Β
    {0x03D1, 0x03D1, 0x0398 - 0x03D1, 0},  // ϑ: Θ (ϒ ϓ ϔ have no small letters)
    {0x03D5, 0x03D5, 0x03A6 - 0x03D5, 0},  // ϕ: Φ
    {0x03D6, 0x03D6, 0x03A0 - 0x03D6, 0},  // ϖ: Π
    {0x03D7, 0x03D7, 0x03CF - 0x03D7, 0},  // ϗ: Ϗ
    {0x03D8, 0x03EF, kPairs, kPairs},      // Ϙ ϙ ... Ϯ ϯ
    {0x03F0, 0x03F0, 0x039A - 0x03F0, 0},  // ϰ: Κ
    {0x03F1, 0x03F1, 0x03A1 - 0x03F1, 0},  // ϱ: Ρ
    {0x03F2, 0x03F2, 0x03F9 - 0x03F2, 0},  // ϲ: Ϲ
    {0x03F3, 0x03F3, 0x037F - 0x03F3, 0},  // ϳ: Ϳ
    {0x03F4, 0x03F4, 0, 0x03B8 - 0x03F4},  // ϴ: θ
    {0x03F5, 0x03F5, 0x0395 - 0x03F5, 0},  // ϵ: Ε (϶ has no capital)
    {0x03F7, 0x03F8, kPairs, kPairs},      // Ϸ ϸ
    {0x03F9, 0x03F9, 0, 0x03F2 - 0x03F9},  // Ϲ: ϲ
    {0x03FA, 0x03FB, kPairs, kPairs},      // Ϻ ϻ (ϼ has no capital)
    {0x03FD, 0x03FF, 0, 0x037B - 0x03FD},  // Ͻ Ͼ Ͽ: ͻ ͼ ͽ
    // Cyrillic and Cyrillic Supplement.
    {0x0400, 0x040F, 0, 0x0450 - 0x0400},  // Ѐ-Џ: ѐ-џ
    {0x0410, 0x042F, 0, 32},               // А-Я
    {0x0430, 0x044F, -32, 0},              // а-я
    {0x0450, 0x045F, 0x0400 - 0x0450, 0},  // ѐ-џ
    {0x0460, 0x0481, kPairs, kPairs},      // Ѡ ѡ ... Ҁ ҁ (then signs and combining marks)
    {0x048A, 0x04BF, kPairs, kPairs},      // Ҋ ҋ ... Ҿ ҿ
    {0x04C0, 0x04C0, 0, 0x04CF - 0x04C0},  // palochka Ӏ: ӏ
    {0x04C1, 0x04CE, kPairs, kPairs},      // Ӂ ӂ ... Ӎ ӎ
    {0x04CF, 0x04CF, 0x04C0 - 0x04CF, 0},  // ӏ: Ӏ
    {0x04D0, 0x052F, kPairs, kPairs},      // Ӑ ӑ ... Ԯ ԯ
}};

// A guard against a run typed out of order or overlapping: lookups search the list.
constexpr bool Sorted() {
  for (size_t i = 0; i < kRuns.size(); ++i) {
    if (kRuns[i].lo > kRuns[i].hi) return false;
    if (i > 0 && kRuns[i - 1].hi >= kRuns[i].lo) return false;
  }
  return true;
}
static_assert(Sorted(), "kRuns must be sorted and must not overlap");

char32_t Map(char32_t c, bool upper) {
  auto it = std::upper_bound(kRuns.begin(), kRuns.end(), c, [](char32_t v, const CaseRun& r) { return v < r.lo; });
  if (it == kRuns.begin()) return c;
  const CaseRun& r = *(it - 1);
  if (c > r.hi) return c;
  if (r.to_upper == kPairs) {
    const bool capital = ((c - r.lo) & 1) == 0;
    if (upper) return capital ? c : c - 1;
    return capital ? c + 1 : c;
  }
  return static_cast<char32_t>(static_cast<int32_t>(c) + (upper ? r.to_upper : r.to_lower));
}

constexpr char32_t kReplacement = 0xFFFD;

// Decodes the code point at the start of `s` (not empty) as Go's utf8.DecodeRuneInString does:
// an invalid or truncated sequence, an overlong form or a surrogate gives U+FFFD, 1 byte long.
char32_t Decode(std::string_view s, size_t* width) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = b(0);
  *width = 1;
  if (b0 < 0x80) return b0;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  char32_t c = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
    c = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    c = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    c = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return kReplacement;
  }
  if (s.size() < n || b(1) < lo || b(1) > hi) return kReplacement;
  for (size_t i = 1; i < n; ++i) {
    if (i > 1 && (b(i) < 0x80 || b(i) > 0xBF)) return kReplacement;
    c = (c << 6) | (b(i) & 0x3F);
  }
  *width = n;
  return c;
}

void Encode(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string Convert(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {  // ASCII, the common case
      char ch = s[i];
      if (upper && ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 32);
      if (!upper && ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch + 32);
      out.push_back(ch);
      ++i;
      continue;
    }
    size_t width = 1;
    const char32_t c = Decode(s.substr(i), &width);
    const char32_t m = Map(c, upper);
    if (m == c && width > 1) {
      out.append(s.substr(i, width));  // unchanged: the same bytes
    } else {
      Encode(m, &out);
    }
    i += width;
  }
  return out;
}

}  // namespace

char32_t LowerRune(char32_t c) { return Map(c, false); }
char32_t UpperRune(char32_t c) { return Map(c, true); }

std::string ToLower(std::string_view utf8) { return Convert(utf8, false); }
std::string ToUpper(std::string_view utf8) { return Convert(utf8, true); }

}  // namespace tyto::relabel
