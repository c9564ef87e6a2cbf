#include "tyto/labels.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

namespace tyto {

Result<Labels> Labels::FromPairs(std::vector<Label> pairs) {
  std::erase_if(pairs, [](const Label& l) { return l.value.empty(); });
  std::sort(pairs.begin(), pairs.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (pairs[i].name.empty()) return InvalidArgument("empty label name");
    if (i > 0 && pairs[i].name == pairs[i - 1].name) {
      return InvalidArgument("label name '" + pairs[i].name + "' given twice");
    }
  }
  return Adopt(std::move(pairs));
}

Labels Labels::Adopt(std::vector<Label> pairs) {
  Labels l;
  if (!pairs.empty()) {
    l.rep_ = new Rep;
    l.rep_->pairs = std::move(pairs);
  }
  return l;
}

const std::vector<Label>& Labels::NoPairs() {
  static const std::vector<Label> none;
  return none;
}

Labels Labels::Of(std::initializer_list<std::string_view> name_value_pairs) {
  std::vector<Label> pairs;
  for (auto it = name_value_pairs.begin(); it != name_value_pairs.end(); it += 2) {
    if (it + 1 == name_value_pairs.end()) std::abort();  // odd count: a bug in the caller
    pairs.push_back({std::string(*it), std::string(*(it + 1))});
  }
  auto l = FromPairs(std::move(pairs));
  if (!l.ok()) std::abort();
  return std::move(l).value();
}

namespace {

std::vector<Label>::const_iterator Find(const std::vector<Label>& pairs, std::string_view name) {
  return std::lower_bound(pairs.begin(), pairs.end(), name, [](const Label& l, std::string_view n) { return l.name < n; });
}

std::string_view ValueOf(const std::vector<Label>& pairs, std::string_view name) {
  auto it = Find(pairs, name);
  return it != pairs.end() && it->name == name ? std::string_view(it->value) : std::string_view();
}

}  // namespace

std::string_view Labels::Get(std::string_view name) const { return ValueOf(pairs(), name); }

bool Labels::Has(std::string_view name) const { return !Get(name).empty(); }

std::string_view LabelsBuilder::Get(std::string_view name) const { return ValueOf(pairs_, name); }

void LabelsBuilder::Set(std::string_view name, std::string_view value) {
  if (name.empty()) return;
  if (value.empty()) {
    Del(name);
    return;
  }
  auto it = pairs_.begin() + (Find(pairs_, name) - pairs_.cbegin());
  if (it != pairs_.end() && it->name == name) {
    it->value.assign(value);
  } else {
    pairs_.insert(it, Label{std::string(name), std::string(value)});
  }
}

void LabelsBuilder::Del(std::string_view name) {
  auto it = Find(pairs_, name);
  if (it != pairs_.end() && it->name == name) pairs_.erase(it);
}

uint64_t Labels::Hash() const {
  if (rep_ != nullptr) {
    if (const uint64_t cached = rep_->hash.load(std::memory_order_relaxed); cached != 0) return cached;
  }
  // FNV-1a over name 0xff value 0xff ..., then a final avalanche (splitmix64's) so that
  // similar label sets spread over hash-table buckets.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;
    h *= 0x100000001b3ull;
  };
  for (const Label& l : pairs()) {
    mix(l.name);
    mix(l.value);
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  if (rep_ != nullptr) rep_->hash.store(h, std::memory_order_relaxed);
  return h;
}

std::string Labels::ToString() const {
  std::string out(MetricName());
  out += '{';
  bool first = true;
  for (const Label& l : pairs()) {
    if (l.name == kMetricNameLabel) continue;
    if (!first) out += ", ";
    first = false;
    out += l.name;
    out += "=\"";
    AppendEscapedLabelValue(&out, l.value);
    out += '"';
  }
  out += '}';
  return out;
}

bool operator<(const Labels& a, const Labels& b) {
  if (a.rep_ == b.rep_) return false;
  const std::vector<Label>& x = a.pairs();
  const std::vector<Label>& y = b.pairs();
  const size_t n = std::min(x.size(), y.size());
  for (size_t i = 0; i < n; ++i) {
    if (x[i].name != y[i].name) return x[i].name < y[i].name;
    if (x[i].value != y[i].value) return x[i].value < y[i].value;
  }
  return x.size() < y.size();
}

void AppendEscapedLabelValue(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

bool IsStaleMarker(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }
double StaleMarker() { return std::bit_cast<double>(kStaleNaNBits); }

}  // namespace tyto
