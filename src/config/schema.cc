#include "config/schema.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace tyto::config {

void Diagnostics::Add(const Position& pos, std::string_view message) {
  messages_.push_back(pos.ToString() + ": " + std::string(message));
}

Status Diagnostics::ToStatus() const {
  if (messages_.empty()) return Status::Ok();
  std::string all;
  for (const std::string& m : messages_) {
    if (!all.empty()) all += '\n';
    all += m;
  }
  return InvalidArgument(std::move(all));
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
// neighbouring characters each cost one. Keys are short, so the full table is fine.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> t(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) t[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) t[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      t[i][j] = std::min({t[i - 1][j] + 1, t[i][j - 1] + 1, t[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        t[i][j] = std::min(t[i][j], t[i - 2][j - 2] + 1);
      }
    }
  }
  return t[a.size()][b.size()];
}

bool ExpectScalar(const Node& n, std::string_view what, Diagnostics* d) {
  if (n.IsScalar()) return true;
  d->Add(n.position(), "expected " + std::string(what) + ", got " + std::string(n.KindName()));
  return false;
}

}  // namespace

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t dist = EditDistance(word, c);
    if (dist < best_distance) {
      best_distance = dist;
      best = c;
    }
  }
  return best;
}

bool DecodeString(const Node& n, std::string* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!ExpectScalar(n, "a string", d)) return false;
  *out = n.scalar();
  return true;
}

bool DecodeBool(const Node& n, bool* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!ExpectScalar(n, "true or false", d)) return false;
  const std::string& s = n.scalar();
  if (!n.quoted() && (s == "true" || s == "True" || s == "TRUE")) {
    *out = true;
    return true;
  }
  if (!n.quoted() && (s == "false" || s == "False" || s == "FALSE")) {
    *out = false;
    return true;
  }
  d->Add(n.position(), "expected true or false, got '" + s + "'");
  return false;
}

bool DecodeInt(const Node& n, int64_t min, int64_t max, int64_t* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!ExpectScalar(n, "an integer", d)) return false;
  const std::string& s = n.scalar();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (n.quoted() || ec != std::errc() || ptr != s.data() + s.size()) {
    d->Add(n.position(), "expected an integer, got '" + s + "'");
    return false;
  }
  if (v < min || v > max) {
    d->Add(n.position(), "value " + s + " out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return false;
  }
  *out = v;
  return true;
}

std::string FormatNumber(double v) {
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, ptr) : std::string("NaN");
}

bool DecodeNumber(const Node& n, double min, double max, double* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!ExpectScalar(n, "a number", d)) return false;
  const std::string& s = n.scalar();
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (n.quoted() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    d->Add(n.position(), "expected a number, got '" + s + "'");
    return false;
  }
  if (v < min || v > max) {
    d->Add(n.position(), "value " + s + " out of range [" + FormatNumber(min) + ", " + FormatNumber(max) + "]");
    return false;
  }
  *out = v;
  return true;
}

bool DecodeDuration(const Node& n, std::chrono::milliseconds min, std::chrono::milliseconds* out,
                    Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!ExpectScalar(n, "a duration", d)) return false;
  auto r = ParseDuration(n.scalar());
  if (!r.ok()) {
    d->Add(n.position(), r.status().message());
    return false;
  }
  if (*r < min) {
    d->Add(n.position(), "duration " + n.scalar() + " is below the minimum " + FormatDuration(min));
    return false;
  }
  *out = *r;
  return true;
}

bool DecodeByteSize(const Node& n, uint64_t min, uint64_t* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!ExpectScalar(n, "a size", d)) return false;
  auto r = ParseByteSize(n.scalar());
  if (!r.ok()) {
    d->Add(n.position(), r.status().message());
    return false;
  }
  if (*r < min) {
    d->Add(n.position(), "size " + n.scalar() + " is below the minimum " + FormatByteSize(min));
    return false;
  }
  *out = *r;
  return true;
}

bool DecodeStringList(const Node& n, std::vector<std::string>* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!n.IsSequence()) {
    d->Add(n.position(), "expected a list of strings, got " + std::string(n.KindName()));
    return false;
  }
  std::vector<std::string> v;
  bool ok = true;
  for (const Node& item : n.items()) {
    if (!ExpectScalar(item, "a string", d)) {
      ok = false;
      continue;
    }
    v.push_back(item.scalar());
  }
  if (ok) *out = std::move(v);
  return ok;
}

bool DecodeStringMap(const Node& n, std::map<std::string, std::string>* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!n.IsMap()) {
    d->Add(n.position(), "expected a mapping of strings, got " + std::string(n.KindName()));
    return false;
  }
  std::map<std::string, std::string> m;
  bool ok = true;
  for (const auto& [k, v] : n.entries()) {
    if (!ExpectScalar(k, "a string key", d) || !ExpectScalar(v, "a string", d)) {
      ok = false;
      continue;
    }
    if (!m.emplace(k.scalar(), v.scalar()).second) {
      d->Add(k.position(), "duplicate key '" + k.scalar() + "'");
      ok = false;
    }
  }
  if (ok) *out = std::move(m);
  return ok;
}

bool DecodeStringListMap(const Node& n, std::map<std::string, std::vector<std::string>>* out, Diagnostics* d) {
  if (n.IsNull()) return true;
  if (!n.IsMap()) {
    d->Add(n.position(), "expected a mapping of lists of strings, got " + std::string(n.KindName()));
    return false;
  }
  std::map<std::string, std::vector<std::string>> m;
  bool ok = true;
  for (const auto& [k, v] : n.entries()) {
    std::vector<std::string> list;
    if (!ExpectScalar(k, "a string key", d) || !DecodeStringList(v, &list, d)) {
      ok = false;
      continue;
    }
    if (!m.emplace(k.scalar(), std::move(list)).second) {
      d->Add(k.position(), "duplicate key '" + k.scalar() + "'");
      ok = false;
    }
  }
  if (ok) *out = std::move(m);
  return ok;
}

bool DecodeEnum(const Node& n, const std::vector<std::string>& allowed, std::string* out, Diagnostics* d) {
  std::string v = *out;
  if (!DecodeString(n, &v, d)) return false;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    std::string msg = "invalid value '" + v + "' (expected one of";
    for (size_t i = 0; i < allowed.size(); ++i) msg += (i ? ", " : " ") + allowed[i];
    msg += ")";
    std::string guess = DidYouMean(v, allowed);
    if (!guess.empty()) msg += ", did you mean '" + guess + "'?";
    d->Add(n.position(), msg);
    return false;
  }
  *out = v;
  return true;
}

}  // namespace tyto::config
