// The built-in rules' scanners, internal to tyto_redact. Each scanner appends every span of a
// text that its rule matches (docs/redaction.md says what that is) as a Candidate; the Redactor
// then picks among overlapping candidates.
//
// The contract that makes redaction idempotent (redacting redacted text changes nothing): a
// scanner's decision about a span depends only on the bytes in [context_begin, context_end),
// and the scanner reports *every* span its rule accepts (never skipping one because another
// overlaps it). The Redactor drops candidates whose context touches an earlier replacement, so
// a span found in redacted text would, by this contract, have been found (and replaced) the first
// time. Every span is ASCII-delimited, so none splits a multi-byte UTF-8 sequence.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "redact/config.h"

namespace tyto::redact {

struct Candidate {
  size_t begin = 0;  // the bytes replaced: [begin, end)
  size_t end = 0;
  size_t context_begin = 0;  // every byte the decision read: [context_begin, context_end) ⊇ [begin, end)
  size_t context_end = 0;
  BuiltinRule rule = BuiltinRule::kEmail;
};

// scan_personal.cc
void ScanEmail(std::string_view text, std::vector<Candidate>* out);
void ScanPhone(std::string_view text, std::vector<Candidate>* out);
void ScanCard(std::string_view text, std::vector<Candidate>* out);
// scan_network.cc
void ScanIpv4(std::string_view text, std::vector<Candidate>* out);
void ScanIpv6(std::string_view text, std::vector<Candidate>* out);
// scan_credentials.cc
void ScanApiKey(std::string_view text, std::vector<Candidate>* out);
void ScanSecret(std::string_view text, std::vector<Candidate>* out);

// Character classes, ASCII only: every byte of a multi-byte UTF-8 sequence is in none of them.
constexpr bool IsDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAlnum(char c) { return IsDigit(c) || IsAlpha(c); }
constexpr bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
constexpr bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline bool OneOf(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

// The end of the run of bytes satisfying `pred` that starts at `from` (from itself when none).
template <typename Pred>
size_t RunEnd(std::string_view text, size_t from, Pred pred) {
  while (from < text.size() && pred(text[from])) ++from;
  return from;
}

// Eight bytes at a time: whether a word holds a decimal digit, or byte `c` (exact: no false
// answers either way, for any byte values).
inline constexpr uint64_t kEveryByte = 0x0101010101010101ULL;
inline uint64_t Load8(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}
inline bool HasDigitByte(uint64_t w) {
  const uint64_t low7 = w & (kEveryByte * 127);
  return ((kEveryByte * (127 + '9' + 1) - low7) & ~w & (low7 + kEveryByte * (127 - ('0' - 1))) &
          (kEveryByte * 0x80)) != 0;
}
inline bool HasByte(uint64_t w, char c) {
  const uint64_t x = w ^ (kEveryByte * static_cast<uint8_t>(c));
  return ((x - kEveryByte) & ~x & (kEveryByte * 0x80)) != 0;
}

// The first position at or after `from` whose byte satisfies `is` (text.size() when none),
// skipping eight bytes at a time where `word_may_hold` says a word cannot hold one.
template <typename WordTest, typename ByteTest>
size_t FindNext(std::string_view text, size_t from, WordTest word_may_hold, ByteTest is) {
  const size_t n = text.size();
  size_t i = from;
  while (true) {
    while (i + 8 <= n && !word_may_hold(Load8(text.data() + i))) i += 8;
    const size_t stop = std::min(n, i + 8);
    for (; i < stop; ++i) {
      if (is(text[i])) return i;
    }
    if (i >= n) return n;
  }
}

inline size_t NextDigit(std::string_view text, size_t from) { return FindNext(text, from, HasDigitByte, IsDigit); }

// Calls `chain(a, b)` for each maximal chain [a, b) holding a digit, where `pair(x, y)` says
// whether y may follow x in a chain. Chain ends are found from neighbours alone, so a chain is the
// same whatever precedes it; each byte is read at most twice.
template <typename Pair, typename Chain>
void ForEachDigitChain(std::string_view text, Pair pair, Chain chain) {
  const size_t n = text.size();
  size_t pos = 0;
  while (pos < n) {
    const size_t d = NextDigit(text, pos);
    if (d == n) return;
    size_t a = d;
    while (a > pos && pair(text[a - 1], text[a])) --a;
    size_t b = d + 1;
    while (b < n && pair(text[b - 1], text[b])) ++b;
    chain(a, b);
    pos = b;
  }
}

// A candidate whose context end is clipped to the text (scanners look one or two bytes past a span).
inline Candidate MakeCandidate(std::string_view text, BuiltinRule rule, size_t begin, size_t end, size_t context_begin,
                               size_t context_end) {
  return Candidate{begin, end, context_begin, std::min(context_end, text.size()), rule};
}

}  // namespace tyto::redact
