// info(v, {selector}): each series of v enriched with the data labels of the info series (by
// default target_info) that share its identifying labels, as Prometheus 3's info() does.
#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "promql/eval.h"
#include "promql/lex.h"

namespace tyto::promql {
namespace {

constexpr std::string_view kIdentifyingLabels[] = {"instance", "job"};

// An info metric's name and the identifying labels a series has: equal for a series and the
// info series that describes it.
std::string Signature(std::string_view info_name, const Labels& l) {
  std::string sig(info_name);
  for (std::string_view name : kIdentifyingLabels) {
    const std::string_view v = l.Get(name);
    if (v.empty()) continue;
    sig += '\xff';
    sig += name;
    sig += '\xff';
    sig += v;
  }
  return sig;
}

}  // namespace

bool IsInfoSeries(const Labels& l, const std::vector<Matcher>& name_matchers) {
  bool positive = false;
  for (const Matcher& m : name_matchers) {
    if (!m.Matches(l.MetricName())) return false;
    positive = positive || m.type() == MatchType::kEqual || m.type() == MatchType::kRegexMatch;
  }
  return positive;
}

Status EnrichWithInfo(const std::vector<Series>& info, std::span<const int64_t> ref_times, int64_t lookback,
                      const std::vector<Matcher>& name_matchers, const std::vector<Matcher>& data_matchers, Val* base) {
  std::set<std::string> info_names;
  std::vector<std::string> info_sigs;
  info_sigs.reserve(info.size());
  for (const Series& s : info) {
    info_names.emplace(s.metric.MetricName());
    info_sigs.push_back(Signature(s.metric.MetricName(), s.metric));
  }
  // A series no info series describes is dropped when a data matcher needs a value.
  const bool need_match =
      std::any_of(data_matchers.begin(), data_matchers.end(), [](const Matcher& m) { return !m.MatchesEmpty(); });
  std::map<std::string, std::pair<size_t, int64_t>> current;  // signature -> info series, sample time
  for (size_t i = 0; i < base->vectors.size(); ++i) {
    // The info series current at this step's reference time: the newest sample per signature.
    current.clear();
    const int64_t ref = ref_times[i];
    auto after = [](int64_t x, const Point& p) { return x < p.t; };
    for (size_t k = 0; k < info.size(); ++k) {
      const auto& pts = info[k].points;
      auto it = std::upper_bound(pts.begin(), pts.end(), ref, after);
      if (it == pts.begin()) continue;
      --it;
      if (it->t <= ref - lookback || IsStaleMarker(it->v)) continue;
      auto [slot, inserted] = current.try_emplace(info_sigs[k], k, it->t);
      if (inserted || slot->second.second < it->t) {
        slot->second = {k, it->t};
      } else if (slot->second.second == it->t) {
        return InvalidArgument("found duplicate series for info metric: existing " +
                               LabelsString(info[slot->second.first].metric) + " @ " + std::to_string(it->t) + ", new " +
                               LabelsString(info[k].metric) + " @ " + std::to_string(it->t));
      }
    }
    Vector out;
    out.reserve(base->vectors[i].size());
    for (Elem& el : base->vectors[i]) {
      if (IsInfoSeries(el.metric, name_matchers)) {  // info series themselves pass unchanged
        out.push_back(std::move(el));
        continue;
      }
      LabelsBuilder added;
      bool matched = false;
      for (const std::string& name : info_names) {
        auto hit = current.find(Signature(name, el.metric));
        if (hit == current.end()) continue;
        matched = true;
        for (const Label& l : info[hit->second.first].metric) {
          if (l.name == kMetricNameLabel) continue;
          if (!data_matchers.empty() && std::none_of(data_matchers.begin(), data_matchers.end(),
                                                     [&](const Matcher& m) { return m.name() == l.name; })) {
            continue;  // not a data label asked for
          }
          const std::string_view have = added.Get(l.name);
          if (!have.empty() && have != l.value) return InvalidArgument("conflicting label: " + l.name);
          if (el.metric.Has(l.name)) continue;  // the series' own labels win
          added.Set(l.name, l.value);
        }
      }
      if (!matched && need_match) continue;
      if (!added.empty()) {
        LabelsBuilder b(el.metric);
        for (const Label& l : added.pairs()) b.Set(l.name, l.value);
        el.metric = b.Build();
      }
      out.push_back(std::move(el));
    }
    base->vectors[i] = std::move(out);
  }
  return Status::Ok();
}

}  // namespace tyto::promql
