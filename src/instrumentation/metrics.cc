#include "instrumentation/metrics.h"

#include "tyto/labels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace tyto::instrumentation {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  // NaN compares false with every bound; like Prometheus's client, count it in +Inf.
  size_t i = std::isnan(v) ? bounds_.size()
                           : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<double> DefaultLatencyBuckets() { return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; }

template <typename M>
M& Family<M>::WithLabels(std::initializer_list<std::string_view> values) {
  std::vector<std::string> key(values.begin(), values.end());
  if (key.size() != label_names_.size()) {
    std::abort();  // a bug in the caller: label values must match the declared names
  }
  MutexLock lock(&mu_);
  auto& slot = series_[std::move(key)];
  if (!slot) slot = make_();
  return *slot;
}

template <typename M>
void Family<M>::Remove(std::initializer_list<std::string_view> values) {
  std::vector<std::string> key(values.begin(), values.end());
  MutexLock lock(&mu_);
  series_.erase(key);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus uses: the shortest digits that
  // round-trip, in exponent form only when the exponent is below -4 or at least 6.
  char buf[64];
  char* end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific).ptr;
  const char* e = std::find(buf, end, 'e') + 1;
  if (*e == '+') ++e;
  int exponent = 0;
  std::from_chars(e, end, exponent);
  if (exponent < -4 || exponent >= 6) return std::string(buf, end);
  end = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed).ptr;
  return std::string(buf, end);
}

namespace {

// HELP text escapes backslash and line feed only; label values also escape quotes.
void AppendEscapedHelp(std::string* out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

void AppendLabels(std::string* out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  *out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) *out += ',';
    *out += names[i];
    *out += "=\"";
    AppendEscapedLabelValue(out, values[i]);
    *out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) *out += ',';
    *out += extra_name;
    *out += "=\"";
    *out += extra_value;
    *out += '"';
  }
  *out += '}';
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

struct Registry::Entry {
  // One line per series of a counter or gauge family.
  template <typename M, typename Line>
  static void WriteValues(const Family<M>& f, const Line& line) {
    MutexLock lock(&f.mu_);
    for (const auto& [values, m] : f.series_) line("", f.label_names_, values, m->Value());
  }

  std::string name;
  std::string help;
  Type type;
  std::unique_ptr<Family<Counter>> counters;
  std::unique_ptr<Family<Gauge>> gauges;
  std::unique_ptr<Family<Histogram>> histograms;
  std::function<double()> callback;

  void Write(std::string* out) const {
    *out += "# HELP " + name + " ";
    AppendEscapedHelp(out, help);
    *out += "\n# TYPE " + name + " ";
    *out += TypeName(type);
    *out += '\n';
    auto line = [&](std::string_view suffix, const std::vector<std::string>& names,
                    const std::vector<std::string>& values, double v, std::string_view le = {}) {
      *out += name;
      *out += suffix;
      AppendLabels(out, names, values, le.empty() ? std::string_view() : "le", le);
      *out += ' ';
      *out += FormatValue(v);
      *out += '\n';
    };
    if (callback) {
      line("", {}, {}, callback());
    } else if (counters) {
      WriteValues(*counters, line);
    } else if (gauges) {
      WriteValues(*gauges, line);
    } else if (histograms) {
      MutexLock lock(&histograms->mu_);
      for (const auto& [values, h] : histograms->series_) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h->bounds().size(); ++i) {
          cumulative += h->BucketCount(i);
          line("_bucket", histograms->label_names_, values, static_cast<double>(cumulative),
               FormatValue(h->bounds()[i]));
        }
        cumulative += h->BucketCount(h->bounds().size());
        line("_bucket", histograms->label_names_, values, static_cast<double>(cumulative), "+Inf");
        line("_sum", histograms->label_names_, values, h->Sum());
        line("_count", histograms->label_names_, values, static_cast<double>(cumulative));
      }
    }
  }
};

Registry::Registry() = default;
Registry::~Registry() = default;

void Registry::Add(std::unique_ptr<Entry> e) {
  MutexLock lock(&mu_);
  std::string name = e->name;
  // Two subsystems claiming one metric name is a bug.
  if (!entries_.try_emplace(std::move(name), std::move(e)).second) std::abort();
}

template <typename M>
Family<M>& Registry::AddFamily(std::string name, std::string help, Type type,
                               std::unique_ptr<Family<M>> Entry::*slot, Family<M>* family) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = type;
  ((*e).*slot).reset(family);
  Add(std::move(e));
  return *family;
}

Family<Counter>& Registry::AddCounter(std::string name, std::string help, std::vector<std::string> label_names) {
  return AddFamily(std::move(name), std::move(help), Type::kCounter, &Entry::counters,
                   new Family<Counter>(std::move(label_names), [] { return std::make_unique<Counter>(); }));
}

Family<Gauge>& Registry::AddGauge(std::string name, std::string help, std::vector<std::string> label_names) {
  return AddFamily(std::move(name), std::move(help), Type::kGauge, &Entry::gauges,
                   new Family<Gauge>(std::move(label_names), [] { return std::make_unique<Gauge>(); }));
}

Family<Histogram>& Registry::AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                                          std::vector<double> bounds) {
  return AddFamily(std::move(name), std::move(help), Type::kHistogram, &Entry::histograms,
                   new Family<Histogram>(std::move(label_names),
                                         [bounds] { return std::make_unique<Histogram>(bounds); }));
}

void Registry::AddCallback(std::string name, std::string help, Type type, std::function<double()> read) {
  auto e = std::make_unique<Entry>();
  e->name = std::move(name);
  e->help = std::move(help);
  e->type = type;
  e->callback = std::move(read);
  Add(std::move(e));
}

std::string Registry::Expose() const {
  std::string out;
  MutexLock lock(&mu_);
  for (const auto& [name, e] : entries_) e->Write(&out);
  return out;
}

}  // namespace tyto::instrumentation
