// IPv4 and IPv6 addresses.
#include <cstring>

#include "redact/scan.h"

namespace tyto::redact {

namespace {

// Four decimal octets 0-255 without leading zeros.
bool IsIpv4(std::string_view v) {
  size_t octets = 0;
  size_t i = 0;
  while (true) {
    const size_t e = RunEnd(v, i, IsDigit);
    const size_t len = e - i;
    if (len == 0 || len > 3 || (len > 1 && v[i] == '0')) return false;
    int value = 0;
    for (size_t k = i; k < e; ++k) value = value * 10 + (v[k] - '0');
    if (value > 255) return false;
    ++octets;
    if (e == v.size()) return octets == 4;
    if (v[e] != '.' || octets == 4) return false;
    i = e + 1;
  }
}

bool Ipv4Pair(char x, char y) { return (IsDigit(x) && (IsDigit(y) || y == '.')) || (x == '.' && IsDigit(y)); }

void Ipv4Chain(std::string_view text, size_t a, size_t b, std::vector<Candidate>* out) {
  const size_t n = text.size();
  size_t s = a;
  if (text[s] == '.') ++s;
  size_t t = b;
  if (text[t - 1] == '.') --t;
  if (t - s < 7 || t - s > 15 || !IsIpv4(text.substr(s, t - s))) return;  // 0.0.0.0 to 255.255.255.255
  // Not part of a word (v1.2.3.4, build1.2.3.4) or of a name (a.1.2.3.4, 1.2.3.4.in-addr).
  if (s > 0) {
    const char c = text[s - 1];
    if (IsWord(c) || (c == '.' && s >= 2 && IsWord(text[s - 2]))) return;
  }
  if (t < n) {
    const char c = text[t];
    if (IsWord(c) || (c == '.' && t + 1 < n && IsWord(text[t + 1]))) return;
  }
  out->push_back(MakeCandidate(text, BuiltinRule::kIpv4, s, t, a >= 2 ? a - 2 : 0, b + 2));
}

// Groups of 1-4 hex digits separated by ':' in `part` (empty when nothing is on that side of
// "::"); the last group of the address may be a dotted IPv4 address, which counts as two.
bool ParseIpv6Groups(std::string_view part, bool holds_last, size_t* groups, size_t* units) {
  if (part.empty()) return true;
  size_t i = 0;
  while (true) {
    size_t e = part.find(':', i);
    const bool last = e == std::string_view::npos;
    if (last) e = part.size();
    std::string_view g = part.substr(i, e - i);
    if (g.find('.') != std::string_view::npos) {
      if (!last || !holds_last || !IsIpv4(g)) return false;
      *groups += 2;
    } else {
      if (g.empty() || g.size() > 4) return false;
      for (char c : g) {
        if (!IsHex(c)) return false;
      }
      *groups += 1;
    }
    *units += 1;
    if (last) return true;
    i = e + 1;
  }
}

// RFC 4291's text forms: eight groups, or fewer around one "::", the last two optionally as an
// IPv4 address. Besides, at least two groups written out and a decimal digit somewhere, so that
// words and code such as "cafe::beef" or "Add::add" are left alone.
bool IsIpv6(std::string_view v) {
  if (v.size() < 4 || v.size() > 45) return false;
  bool digit = false;
  for (char c : v) digit = digit || IsDigit(c);
  if (!digit) return false;
  size_t groups = 0;
  size_t units = 0;
  const size_t dc = v.find("::");
  if (dc == std::string_view::npos) {
    if (!ParseIpv6Groups(v, true, &groups, &units)) return false;
    return groups == 8;
  }
  if (v.find("::", dc + 1) != std::string_view::npos) return false;
  std::string_view head = v.substr(0, dc);
  std::string_view tail = v.substr(dc + 2);
  if (!ParseIpv6Groups(head, tail.empty(), &groups, &units) || !ParseIpv6Groups(tail, true, &groups, &units)) {
    return false;
  }
  return groups <= 7 && units >= 2;
}

bool IsIpv6Char(char c) { return IsHex(c) || c == ':' || c == '.'; }

void Ipv6Chain(std::string_view text, size_t a, size_t b, std::vector<Candidate>* out) {
  const size_t n = text.size();
  size_t s = a;
  size_t t = b;
  while (s < t && text[s] == '.') ++s;
  if (s < t && text[s] == ':' && !(s + 1 < t && text[s + 1] == ':')) ++s;  // "addr:fe80::1"
  while (t > s && text[t - 1] == '.') --t;                                  // "at fe80::1."
  if (t > s && text[t - 1] == ':' && !(t >= s + 2 && text[t - 2] == ':')) --t;  // "fe80::1: down"
  if (s >= t) return;
  if (s > 0 && IsWord(text[s - 1])) return;
  if (t < n && IsWord(text[t])) return;
  if (!IsIpv6(text.substr(s, t - s))) return;
  out->push_back(MakeCandidate(text, BuiltinRule::kIpv6, s, t, a > 0 ? a - 1 : 0, b + 1));
}

}  // namespace

void ScanIpv4(std::string_view text, std::vector<Candidate>* out) {
  ForEachDigitChain(text, Ipv4Pair, [&](size_t a, size_t b) { Ipv4Chain(text, a, b, out); });
}

void ScanIpv6(std::string_view text, std::vector<Candidate>* out) {
  const size_t n = text.size();
  const char* data = text.data();
  size_t pos = 0;
  while (pos < n) {
    const void* hit = std::memchr(data + pos, ':', n - pos);
    if (hit == nullptr) return;
    const size_t colon = static_cast<size_t>(static_cast<const char*>(hit) - data);
    size_t a = colon;
    while (a > pos && IsIpv6Char(text[a - 1])) --a;
    const size_t b = RunEnd(text, colon, IsIpv6Char);
    Ipv6Chain(text, a, b, out);
    pos = b;
  }
}

}  // namespace tyto::redact
