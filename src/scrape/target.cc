#include "scrape/target.h"

#include "common/units.h"
#include "http/url.h"

namespace tyto::scrape {
namespace {

Result<Target> Populate(const ScrapeConfig& job, const relabel::Relabeler& relabel, const std::string& address,
                        const std::map<std::string, std::string>& group_labels, std::vector<Labels>* dropped) {
  LabelsBuilder lb;
  for (const auto& [k, v] : group_labels) lb.Set(k, v);
  lb.Set("__address__", address);
  auto set_default = [&lb](std::string_view name, std::string_view value) {
    if (lb.Get(name).empty()) lb.Set(name, value);
  };
  set_default("job", job.job_name);
  set_default("__scheme__", job.scheme);
  set_default("__metrics_path__", job.metrics_path);
  set_default("__scrape_interval__", FormatDuration(job.scrape_interval));
  set_default("__scrape_timeout__", FormatDuration(job.scrape_timeout));
  for (const auto& [name, values] : job.params) {
    if (!values.empty()) set_default("__param_" + name, values.front());
  }
  Target t;
  t.discovered = lb.Build();
  if (!relabel.Process(&lb)) {
    dropped->push_back(t.discovered);
    return Status(StatusCode::kNotFound, "dropped");
  }
  const std::string addr(lb.Get("__address__"));
  if (addr.empty()) return InvalidArgument("no __address__ label after relabelling");
  const std::string scheme(lb.Get("__scheme__"));
  if (scheme != "http" && scheme != "https") return InvalidArgument("__scheme__ '" + scheme + "' is not http or https");
  t.https = scheme == "https";
  TYTO_RETURN_IF_ERROR(http::SplitAddress(addr, t.https, &t.host, &t.port));
  auto interval = ParseDuration(lb.Get("__scrape_interval__"));
  auto timeout = ParseDuration(lb.Get("__scrape_timeout__"));
  if (!interval.ok() || interval->count() <= 0) return InvalidArgument("bad __scrape_interval__");
  if (!timeout.ok() || timeout->count() <= 0) return InvalidArgument("bad __scrape_timeout__");
  if (*timeout > *interval) return InvalidArgument("__scrape_timeout__ is greater than __scrape_interval__");
  t.interval = *interval;
  t.timeout = *timeout;
  std::string path(lb.Get("__metrics_path__"));
  if (path.empty() || path[0] != '/') path = "/" + path;
  // Query: the job's params, each overridden by a __param_<name> label.
  std::map<std::string, std::vector<std::string>> params = job.params;
  for (const Label& l : lb.pairs()) {
    if (l.name.rfind("__param_", 0) == 0) {
      auto& values = params[l.name.substr(8)];
      if (values.empty()) {
        values.push_back(l.value);
      } else {
        values.front() = l.value;
      }
    }
  }
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [name, values] : params) {
    for (const std::string& v : values) query.emplace_back(name, v);
  }
  t.path_and_query = query.empty() ? path : path + "?" + http::EncodeQueryString(query);
  set_default("instance", addr);
  LabelsBuilder out;
  for (const Label& l : lb.pairs()) {
    if (l.name.rfind("__", 0) != 0) out.Set(l.name, l.value);
  }
  t.labels = out.Build();
  return t;
}

}  // namespace

std::string Target::Url() const {
  const bool v6 = host.find(':') != std::string::npos;
  return std::string(https ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) +
         path_and_query;
}

std::string Target::Key() const { return labels.ToString() + " " + Url(); }

TargetsResult BuildTargets(const ScrapeConfig& job, const relabel::Relabeler& relabel,
                           const std::vector<TargetGroup>& groups) {
  TargetsResult r;
  for (const TargetGroup& g : groups) {
    for (const std::string& address : g.targets) {
      auto t = Populate(job, relabel, address, g.labels, &r.dropped);
      if (t.ok()) {
        r.targets.push_back(std::move(t).value());
      } else if (t.status().code() != StatusCode::kNotFound) {
        r.errors.push_back(g.source + ": target '" + address + "': " + t.status().message());
      }
    }
  }
  return r;
}

}  // namespace tyto::scrape
