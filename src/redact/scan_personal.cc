// Email addresses, phone numbers and payment card numbers.
#include <array>
#include <cstring>

#include "redact/scan.h"

namespace tyto::redact {

namespace {

// ---- email ----

bool IsLocalChar(char c) { return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'; }
bool IsDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

// At least two labels of 1-63 letters, digits and inner '-', the last (the top-level domain)
// 2-63 letters; at most 253 bytes in all.
bool IsDomain(std::string_view d) {
  if (d.empty() || d.size() > 253) return false;
  size_t labels = 0;
  size_t start = 0;
  while (true) {
    size_t dot = d.find('.', start);
    std::string_view label = d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    ++labels;
    if (dot == std::string_view::npos) {
      if (labels < 2 || label.size() < 2) return false;
      for (char c : label) {
        if (!IsAlpha(c)) return false;
      }
      return true;
    }
    start = dot + 1;
  }
}

// ---- phone ----

// The characters a phone number is written with, and which may follow which: "+1 (555) 123-4567",
// "+44 20 7946 0958", "555.123.4567", "1-800-555-0199". A chain is a maximal run in which every
// pair of neighbours is allowed; whether a chain is a phone number is decided on the whole
// chain, so a long number is never cut into a phone number and a remainder.
enum class PhoneChar : uint8_t { kOther, kDigit, kSep, kOpen, kClose, kPlus };

constexpr PhoneChar PhoneClassOf(char c) {
  if (IsDigit(c)) return PhoneChar::kDigit;
  switch (c) {
    case ' ':
    case '-':
    case '.':
      return PhoneChar::kSep;
    case '(':
      return PhoneChar::kOpen;
    case ')':
      return PhoneChar::kClose;
    case '+':
      return PhoneChar::kPlus;
    default:
      return PhoneChar::kOther;
  }
}

constexpr bool PhoneClassPair(PhoneChar a, PhoneChar b) {
  switch (a) {
    case PhoneChar::kDigit:
      return b == PhoneChar::kDigit || b == PhoneChar::kSep || b == PhoneChar::kOpen || b == PhoneChar::kClose;
    case PhoneChar::kSep:
      return b == PhoneChar::kDigit || b == PhoneChar::kOpen;
    case PhoneChar::kOpen:
    case PhoneChar::kPlus:
      return b == PhoneChar::kDigit;
    case PhoneChar::kClose:
      return b == PhoneChar::kDigit || b == PhoneChar::kSep;
    case PhoneChar::kOther:
      return false;
  }
  return false;
}

// Tables: chains are walked byte by byte over every number in a text.
constexpr std::array<PhoneChar, 256> kPhoneClass = [] {
  std::array<PhoneChar, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = PhoneClassOf(static_cast<char>(c));
  return t;
}();
constexpr std::array<std::array<bool, 6>, 6> kPhonePair = [] {
  std::array<std::array<bool, 6>, 6> t{};
  for (int a = 0; a < 6; ++a) {
    for (int b = 0; b < 6; ++b) t[a][b] = PhoneClassPair(static_cast<PhoneChar>(a), static_cast<PhoneChar>(b));
  }
  return t;
}();

bool PhonePair(char x, char y) {
  return kPhonePair[static_cast<size_t>(kPhoneClass[static_cast<unsigned char>(x)])]
                   [static_cast<size_t>(kPhoneClass[static_cast<unsigned char>(y)])];
}

constexpr size_t kMaxPhoneGroups = 16;

struct PhoneShape {
  bool plus = false;
  size_t groups = 0;
  std::array<uint8_t, kMaxPhoneGroups> size{};  // digits per group
  std::array<char, kMaxPhoneGroups> sep{};      // the separator before each group; 0 for none
  std::array<bool, kMaxPhoneGroups> paren{};    // written in parentheses
  size_t digits = 0;
};

// Splits [s, t) into groups; false when it is not written as a phone number is.
bool ParsePhone(std::string_view text, size_t s, size_t t, PhoneShape* p) {
  size_t i = s;
  if (text[i] == '+') {
    p->plus = true;
    ++i;
  }
  char sep = 0;
  while (true) {
    if (p->groups == kMaxPhoneGroups) return false;
    size_t j;
    bool paren = text[i] == '(';
    if (paren) {
      j = RunEnd(text, i + 1, IsDigit);
      if (j == i + 1 || j >= t || text[j] != ')') return false;
    } else {
      j = RunEnd(text, i, IsDigit);
      if (j == i) return false;
    }
    const size_t len = j - i - (paren ? 1 : 0);
    if (len > 15) return false;
    p->size[p->groups] = static_cast<uint8_t>(len);
    p->sep[p->groups] = sep;
    p->paren[p->groups] = paren;
    ++p->groups;
    p->digits += len;
    i = paren ? j + 1 : j;
    if (i >= t) return true;
    const char c = text[i];
    if (c == ' ' || c == '-' || c == '.') {
      sep = c;
      ++i;
    } else if (c == '(' || IsDigit(c)) {
      sep = 0;  // "1(555)" or "(555)123": no separator
    } else {
      return false;  // a ')' without its '('
    }
  }
}

bool IsPhoneShape(const PhoneShape& p) {
  bool dot = false;
  bool other_sep = false;
  for (size_t g = 1; g < p.groups; ++g) {
    if (p.sep[g] == '.') dot = true;
    if (p.sep[g] == ' ' || p.sep[g] == '-') other_sep = true;
  }
  if (dot) {
    // "555.123.4567", "01.23.45.67.89"; not a decimal (two groups), a version or an address.
    if (other_sep || p.groups < 3) return false;
    bool small = true;
    for (size_t g = 0; g < p.groups; ++g) {
      if (p.size[g] < 2) return false;
      small = small && p.size[g] <= 3;
    }
    if (p.groups == 4 && small) return false;  // 192.168.10.20
  }
  if (p.plus) return p.digits >= 8 && p.digits <= 15;  // E.164: at most 15 digits
  // A national number: written in groups, 9 to 12 digits, not a date.
  if (p.digits < 9 || p.digits > 12 || p.groups < 2) return false;
  for (size_t g = 0; g < p.groups; ++g) {
    if (p.size[g] > 8) return false;
  }
  if (p.size[0] == 1 && !(p.sep[1] == '-' || p.paren[1])) return false;  // "1-800-...", "1 (800) ..."
  if (p.groups >= 3 && ((p.size[0] == 4 && p.size[1] <= 2 && p.size[2] <= 2) ||
                        (p.size[0] <= 2 && p.size[1] <= 2 && p.size[2] == 4))) {
    return false;  // 2024-01-15 10, 15-01-2024 12
  }
  return true;
}

// A segment of a chain: a part between spaces. A formatted one is written with '+', '-', '.' or
// parentheses ("+1", "555-0199", "(555)"); a bare one is digits only.
struct Segment {
  size_t begin;
  size_t end;
  bool formatted;
};

// Whether segments i..j of a chain are a phone number; if so, sets [*begin, *end) to it (less an
// unbalanced parenthesis at either end). A window of bare segments only is taken whole, between
// the chain's ends or formatted segments, never cut out of a longer run of bare groups
// ("1234 5678 9012 3456" is no phone number followed by a remainder).
bool PhoneWindow(std::string_view text, const std::vector<Segment>& seg, size_t i, size_t j, size_t* begin,
                 size_t* end) {
  const size_t n = text.size();
  bool formatted = false;
  for (size_t k = i; k <= j; ++k) formatted = formatted || seg[k].formatted;
  if (i > 0 && !formatted && !seg[i - 1].formatted) return false;
  if (j + 1 < seg.size() && !formatted && !seg[j + 1].formatted) return false;
  size_t s = seg[i].begin;
  size_t t = seg[j].end;
  size_t opens = 0;
  size_t closes = 0;
  for (size_t k = s; k < t; ++k) {
    opens += text[k] == '(';
    closes += text[k] == ')';
  }
  if (opens > closes && text[s] == '(') ++s;      // "(call 555 123 4567"
  if (closes > opens && text[t - 1] == ')') --t;  // "(call 555 123 4567)"
  if (s >= t) return false;
  // At the chain's ends: not part of an id, a version, a sum or a longer number.
  if (i == 0 && s > 0) {
    const char c = text[s - 1];
    if (IsWord(c) || OneOf(c, ".-/+@#$%\\")) return false;
    if ((c == ',' || c == ':') && s >= 2 && IsDigit(text[s - 2])) return false;  // 1,555 123 4567 or 10:30
  }
  if (j + 1 == seg.size() && t < n) {
    const char c = text[t];
    if (IsWord(c) || c == '%') return false;
    if (OneOf(c, ".-,:/") && t + 1 < n && IsDigit(text[t + 1])) return false;  // 555 123 4567.5
  }
  PhoneShape shape;
  if (!ParsePhone(text, s, t, &shape) || !IsPhoneShape(shape)) return false;
  *begin = s;
  *end = t;
  return true;
}

// Digits in [a, b).
size_t CountDigits(std::string_view text, size_t a, size_t b) {
  size_t digits = 0;
  for (size_t i = a; i < b; ++i) digits += IsDigit(text[i]);
  return digits;
}

void PhoneChain(std::string_view text, size_t a, size_t b, std::vector<Segment>* segments,
                std::vector<Candidate>* out) {
  if (CountDigits(text, a, b) < 8) return;  // most numbers in text: too short to decide anything
  size_t s = a;
  while (s < b && !(IsDigit(text[s]) || text[s] == '(' || text[s] == '+')) ++s;
  size_t t = b;
  while (t > s && !(IsDigit(text[t - 1]) || text[t - 1] == ')')) --t;
  if (s >= t) return;
  // Inside a chain a space lies between a digit or ')' and a digit or '(', so the segments are
  // never empty and each but the first starts with a digit or '('.
  segments->clear();
  for (size_t k = s; k < t;) {
    size_t e = k;
    bool formatted = false;
    while (e < t && text[e] != ' ') {
      formatted = formatted || !IsDigit(text[e]);
      ++e;
    }
    segments->push_back({k, e, formatted});
    k = e + 1;
  }
  const std::vector<Segment>& seg = *segments;
  for (size_t i = 0; i < seg.size(); ++i) {
    size_t digits = 0;
    for (size_t j = i; j < seg.size() && digits <= 15; ++j) {
      for (size_t k = seg[j].begin; k < seg[j].end; ++k) digits += IsDigit(text[k]);
      size_t begin;
      size_t end;
      if (digits >= 8 && digits <= 15 && PhoneWindow(text, seg, i, j, &begin, &end)) {
        out->push_back(MakeCandidate(text, BuiltinRule::kPhone, begin, end, a >= 2 ? a - 2 : 0, b + 2));
      }
    }
  }
}

// ---- card ----

bool CardPair(char x, char y) {
  const bool xs = x == ' ' || x == '-';
  const bool ys = y == ' ' || y == '-';
  return (IsDigit(x) && (IsDigit(y) || ys)) || (xs && IsDigit(y));
}

bool Luhn(std::string_view text, size_t s, size_t t) {
  int sum = 0;
  bool twice = false;
  for (size_t i = t; i-- > s;) {
    if (!IsDigit(text[i])) continue;
    int d = text[i] - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

struct Group {
  size_t begin;
  size_t end;
};

// Groups [i, j] of a chain as a card number: 13-19 digits, the first 2-6 (the networks that issue
// cards to people: Mastercard, Amex, Diners, JCB, Visa, Discover, UnionPay, Maestro), Luhn's check
// passing; written as one group, or as groups of 3-6 digits starting with 4 and separated
// alike ("4111 1111 1111 1111", "3782 822463 10005").
bool IsCardWindow(std::string_view text, const std::vector<Group>& g, size_t i, size_t j) {
  size_t digits = 0;
  for (size_t k = i; k <= j; ++k) digits += g[k].end - g[k].begin;
  if (digits < 13 || digits > 19) return false;
  const char first = text[g[i].begin];
  if (first < '2' || first > '6') return false;
  if (j > i) {
    if (g[i].end - g[i].begin != 4) return false;
    const char sep = text[g[i].end];
    for (size_t k = i; k <= j; ++k) {
      const size_t len = g[k].end - g[k].begin;
      if (len < 3 || len > 6) return false;
      if (k > i && text[g[k].begin - 1] != sep) return false;
    }
  }
  return Luhn(text, g[i].begin, g[j].end);
}

void CardChain(std::string_view text, size_t a, size_t b, std::vector<Group>* groups, std::vector<Candidate>* out) {
  if (CountDigits(text, a, b) < 13) return;
  const size_t n = text.size();
  groups->clear();
  for (size_t i = a; i < b;) {
    if (!IsDigit(text[i])) {
      ++i;
      continue;
    }
    const size_t e = RunEnd(text, i, IsDigit);
    groups->push_back({i, e});
    i = e;
  }
  const std::vector<Group>& g = *groups;
  if (g.empty()) return;
  const size_t s = g.front().begin;
  const size_t t = g.back().end;
  // The chain's own edges: not part of an id (ORD-4111...), a decimal (0.4111... or 4111....5).
  bool left_ok = true;
  if (s > 0) {
    const char c = text[s - 1];
    left_ok = !(IsWord(c) || c == '.' || c == '-');
  }
  bool right_ok = true;
  if (t < n) {
    const char c = text[t];
    right_ok = !(IsWord(c) || (c == '.' && t + 1 < n && IsDigit(text[t + 1])));
  }
  const size_t last = g.size() - 1;
  auto add = [&](size_t i, size_t j) {
    if (IsCardWindow(text, g, i, j)) {
      out->push_back(MakeCandidate(text, BuiltinRule::kCard, g[i].begin, g[j].end, a >= 2 ? a - 2 : 0, b + 2));
    }
  };
  // A card number is the chain, or begins or ends it ("4111 1111 1111 1111 12/25",
  // "cvv 123 4111 1111 1111 1111").
  if (left_ok) {
    size_t digits = 0;
    for (size_t j = 0; j <= last && digits <= 19; ++j) {
      digits += g[j].end - g[j].begin;
      if (j < last || right_ok) add(0, j);
    }
  }
  if (right_ok) {
    size_t digits = 0;
    for (size_t i = last + 1; i-- > 1 && digits <= 19;) {
      digits += g[i].end - g[i].begin;
      add(i, last);
    }
  }
}

}  // namespace

void ScanEmail(std::string_view text, std::vector<Candidate>* out) {
  const size_t n = text.size();
  const char* data = text.data();
  size_t pos = 0;
  while (pos < n) {
    const void* hit = std::memchr(data + pos, '@', n - pos);
    if (hit == nullptr) return;
    const size_t at = static_cast<size_t>(static_cast<const char*>(hit) - data);
    pos = at + 1;
    size_t a = at;
    while (a > 0 && IsLocalChar(text[a - 1])) --a;
    size_t s = a;
    while (s < at && !IsWord(text[s])) ++s;  // ".john@" or "--john@": the address starts at j
    if (s == at || at - s > 64 || text[at - 1] == '.') continue;
    const size_t b = RunEnd(text, at + 1, IsDomainChar);
    size_t t = b;
    while (t > at + 1 && (text[t - 1] == '.' || text[t - 1] == '-')) --t;  // "mail a@b.com."
    if (t < n && IsWord(text[t])) continue;  // a@b.com_x is an identifier
    if (!IsDomain(text.substr(at + 1, t - at - 1))) continue;
    out->push_back(MakeCandidate(text, BuiltinRule::kEmail, s, t, a > 0 ? a - 1 : 0, b + 1));
  }
}

void ScanPhone(std::string_view text, std::vector<Candidate>* out) {
  std::vector<Segment> segments;
  ForEachDigitChain(text, PhonePair, [&](size_t a, size_t b) { PhoneChain(text, a, b, &segments, out); });
}

void ScanCard(std::string_view text, std::vector<Candidate>* out) {
  std::vector<Group> groups;
  ForEachDigitChain(text, CardPair, [&](size_t a, size_t b) { CardChain(text, a, b, &groups, out); });
}

}  // namespace tyto::redact
