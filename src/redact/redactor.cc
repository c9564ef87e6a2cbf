#include "redact/redactor.h"

#include <re2/re2.h>

#include <algorithm>

#include "redact/pattern.h"
#include "redact/scan.h"

namespace tyto::redact {

namespace {

using Scanner = void (*)(std::string_view, std::vector<Candidate>*);

// By BuiltinRule.
constexpr std::array<Scanner, kBuiltinRuleCount> kScanners = {ScanEmail, ScanPhone,  ScanCard,  ScanIpv4,
                                                              ScanIpv6,  ScanApiKey, ScanSecret};
// Which rule names a span two rules find alike (the more specific first), by BuiltinRule.
constexpr std::array<uint8_t, kBuiltinRuleCount> kPriority = {/*email*/ 2, /*phone*/ 5,   /*card*/ 1, /*ipv4*/ 4,
                                                              /*ipv6*/ 3,  /*api_key*/ 0, /*secret*/ 6};

constexpr std::string_view kTokenPrefix = "[REDACTED:";
constexpr size_t kMaxTokenName = 64;

struct Span {
  size_t begin;
  size_t end;
};

bool IsNameChar(char c) { return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '_'; }
bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string Token(std::string_view name) { return std::string(kTokenPrefix) + std::string(name) + "]"; }

// Whether `s` is exactly a "[REDACTED:<name>]" token.
bool IsToken(std::string_view s) {
  if (!s.starts_with(kTokenPrefix) || !s.ends_with(']')) return false;
  std::string_view name = s.substr(kTokenPrefix.size(), s.size() - kTokenPrefix.size() - 1);
  return !name.empty() && name.size() <= kMaxTokenName && std::all_of(name.begin(), name.end(), IsNameChar);
}

// Replacements already in `text`: "[REDACTED:<name>]" tokens and the custom replacements in
// `literals`; sorted, not overlapping (of overlapping ones, the first, then the longest, is kept).
std::vector<Span> InertSpans(std::string_view text, const std::vector<std::string>& literals) {
  std::vector<Span> spans;
  for (size_t pos = text.find(kTokenPrefix); pos != std::string_view::npos; pos = text.find(kTokenPrefix, pos)) {
    const size_t name = pos + kTokenPrefix.size();
    const size_t e = RunEnd(text, name, IsNameChar);
    if (e > name && e - name <= kMaxTokenName && e < text.size() && text[e] == ']') {
      spans.push_back({pos, e + 1});
      pos = e + 1;
    } else {
      pos += 1;
    }
  }
  for (const std::string& l : literals) {
    for (size_t pos = text.find(l); pos != std::string_view::npos; pos = text.find(l, pos + l.size())) {
      spans.push_back({pos, pos + l.size()});
    }
  }
  if (literals.empty() || spans.size() < 2) return spans;
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin != b.begin ? a.begin < b.begin : a.end > b.end; });
  std::vector<Span> kept;
  for (const Span& s : spans) {
    if (kept.empty() || s.begin >= kept.back().end) kept.push_back(s);
  }
  return kept;
}

// Whether [begin, end) overlaps one of `spans` (sorted, not overlapping).
bool Touches(const std::vector<Span>& spans, size_t begin, size_t end) {
  auto it = std::upper_bound(spans.begin(), spans.end(), begin, [](size_t b, const Span& s) { return b < s.end; });
  return it != spans.end() && it->begin < end;
}

}  // namespace

uint64_t Stats::Total() const {
  uint64_t total = 0;
  for (uint64_t f : findings) total += f;
  return total;
}

Result<Redactor> Redactor::Create(const RedactionConfig& config) {
  TYTO_RETURN_IF_ERROR(CheckRedactionConfig(config));
  Redactor r;
  if (!config.enabled) return r;
  for (size_t b = 0; b < kBuiltinRuleCount; ++b) {
    const std::string_view name = kBuiltinRuleNames[b];
    if (std::find(config.builtin.begin(), config.builtin.end(), name) == config.builtin.end()) continue;
    r.builtin_index_[b] = static_cast<int>(r.names_.size());
    r.names_.emplace_back(name);
    r.replacements_.push_back(Token(name));
  }
  for (const CustomRuleConfig& c : config.rules) {
    std::string error;
    std::shared_ptr<const RE2> pattern = CompilePattern(c.regex, &error);
    if (pattern == nullptr) return Internal("redaction rule '" + c.name + "' passed its check but does not compile");
    r.patterns_.push_back(std::move(pattern));
    r.names_.push_back(c.name);
    r.replacements_.push_back(c.replacement.empty() ? Token(c.name) : c.replacement);
    if (!c.replacement.empty() && !IsToken(c.replacement) &&
        std::find(r.literals_.begin(), r.literals_.end(), c.replacement) == r.literals_.end()) {
      r.literals_.push_back(c.replacement);
    }
  }
  return r;
}

std::vector<Finding> Redactor::Find(std::string_view text) const {
  std::vector<Finding> found;
  if (names_.empty() || text.empty()) return found;
  std::vector<Candidate> candidates;
  for (size_t b = 0; b < kBuiltinRuleCount; ++b) {
    if (builtin_index_[b] >= 0) kScanners[b](text, &candidates);
  }
  if (!candidates.empty()) {
    const std::vector<Span> inert = InertSpans(text, literals_);
    if (!inert.empty()) {
      std::erase_if(candidates,
                    [&](const Candidate& c) { return Touches(inert, c.context_begin, c.context_end); });
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
      if (a.begin != b.begin) return a.begin < b.begin;
      if (a.end != b.end) return a.end > b.end;
      return kPriority[static_cast<size_t>(a.rule)] < kPriority[static_cast<size_t>(b.rule)];
    });
    for (const Candidate& c : candidates) {
      if (!found.empty() && c.begin < found.back().end) continue;
      found.push_back({c.begin, c.end, static_cast<size_t>(builtin_index_[static_cast<size_t>(c.rule)])});
    }
  }
  if (!patterns_.empty()) AddCustomFindings(text, &found);
  return found;
}

void Redactor::AddCustomFindings(std::string_view text, std::vector<Finding>* found) const {
  const re2::StringPiece whole(text.data(), text.size());
  // What a custom rule may not touch: replacements already in the text and the findings so far.
  std::vector<Span> blocked = InertSpans(text, literals_);
  for (const Finding& f : *found) blocked.push_back({f.begin, f.end});
  std::sort(blocked.begin(), blocked.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  const size_t first_custom = names_.size() - patterns_.size();
  std::vector<Finding> added;
  std::vector<Finding> merged;
  std::vector<Span> next_blocked;
  for (size_t k = 0; k < patterns_.size(); ++k) {
    const RE2& re = *patterns_[k];
    const size_t rule = first_custom + k;
    added.clear();
    auto search = [&](size_t gap_begin, size_t gap_end) {
      size_t pos = gap_begin;
      while (pos < gap_end) {
        re2::StringPiece m;
        if (!re.Match(whole, pos, gap_end, RE2::UNANCHORED, &m, 1)) return;
        size_t begin = static_cast<size_t>(m.data() - text.data());
        size_t end = begin + m.size();
        if (begin == end) {
          // An empty match (a lone \b): nothing to replace; go on from the next character.
          pos = begin + 1;
          while (pos < gap_end && IsContinuationByte(text[pos])) ++pos;
          continue;
        }
        // \C can match part of a UTF-8 sequence: take the whole sequence.
        while (begin > pos && IsContinuationByte(text[begin])) --begin;
        while (end < gap_end && IsContinuationByte(text[end])) ++end;
        added.push_back({begin, end, rule});
        pos = end;
      }
    };
    size_t gap_begin = 0;
    for (const Span& b : blocked) {
      if (b.begin > gap_begin) search(gap_begin, b.begin);
      gap_begin = std::max(gap_begin, b.end);
    }
    search(gap_begin, text.size());
    if (added.empty()) continue;
    merged.clear();
    std::merge(found->begin(), found->end(), added.begin(), added.end(), std::back_inserter(merged),
               [](const Finding& a, const Finding& b) { return a.begin < b.begin; });
    found->swap(merged);
    next_blocked.clear();
    std::vector<Span> added_spans;
    for (const Finding& f : added) added_spans.push_back({f.begin, f.end});
    std::merge(blocked.begin(), blocked.end(), added_spans.begin(), added_spans.end(),
               std::back_inserter(next_blocked), [](const Span& a, const Span& b) { return a.begin < b.begin; });
    blocked.swap(next_blocked);
  }
}

void Redactor::Count(const std::vector<Finding>& found, Stats* stats) const {
  if (stats == nullptr) return;
  if (stats->findings.size() < names_.size()) stats->findings.resize(names_.size());
  for (const Finding& f : found) ++stats->findings[f.rule];
}

std::string Redactor::Replace(std::string_view text, const std::vector<Finding>& found) const {
  size_t size = text.size();
  for (const Finding& f : found) size = size - (f.end - f.begin) + replacements_[f.rule].size();
  std::string out;
  out.reserve(size);
  size_t pos = 0;
  for (const Finding& f : found) {
    out.append(text.substr(pos, f.begin - pos));
    out.append(replacements_[f.rule]);
    pos = f.end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string Redactor::Redact(std::string_view text, Stats* stats) const {
  const std::vector<Finding> found = Find(text);
  Count(found, stats);
  if (found.empty()) return std::string(text);
  return Replace(text, found);
}

bool Redactor::RedactInPlace(std::string* text, Stats* stats) const {
  const std::vector<Finding> found = Find(*text);
  Count(found, stats);
  if (found.empty()) return false;
  *text = Replace(*text, found);
  return true;
}

}  // namespace tyto::redact
