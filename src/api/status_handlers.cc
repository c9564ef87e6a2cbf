#include "api/status_handlers.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "api/json.h"

namespace tyto::api {
namespace {

using auth::Scope;
using http::Request;
using http::Response;

struct Stat {
  std::string name;
  uint64_t value = 0;
};

// The `limit` largest, largest first (ties by name, so answers are stable).
std::vector<Stat> Top(std::vector<Stat> all, size_t limit) {
  auto larger = [](const Stat& a, const Stat& b) { return a.value != b.value ? a.value > b.value : a.name < b.name; };
  if (all.size() > limit) {
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(limit), all.end(), larger);
    all.resize(limit);
  } else {
    std::sort(all.begin(), all.end(), larger);
  }
  return all;
}

std::vector<Stat> FromMap(const std::unordered_map<std::string, uint64_t>& m, size_t limit) {
  std::vector<Stat> v;
  v.reserve(m.size());
  for (const auto& [name, value] : m) v.push_back({name, value});
  return Top(std::move(v), limit);
}

void Stats(JsonWriter& w, std::string_view key, const std::vector<Stat>& stats) {
  Key(w, key);
  w.StartArray();
  for (const Stat& s : stats) {
    w.StartObject();
    String(w, "name", s.name);
    Key(w, "value");
    w.Uint64(s.value);
    w.EndObject();
  }
  w.EndArray();
}

// Prometheus's TSDBStatus, computed as its head's postings statistics are: per metric name the
// series, per label name the distinct values and the bytes of its pairs over all series, per
// pair the series.
Response TsdbStatus(const HeadCardinality& head, size_t limit) {
  std::unordered_map<std::string, uint64_t> by_metric, values_by_name, bytes_by_name;
  std::vector<Stat> pairs;
  pairs.reserve(head.pairs.size());
  for (const LabelPairCount& p : head.pairs) {
    if (p.name == kMetricNameLabel) by_metric[p.value] += p.series;
    ++values_by_name[p.name];
    bytes_by_name[p.name] += (p.name.size() + p.value.size()) * p.series;
    pairs.push_back({p.name + "=" + p.value, p.series});
  }
  return Success([&](JsonWriter& w) {
    Key(w, "headStats");
    w.StartObject();
    Key(w, "numSeries");
    w.Uint64(head.num_series);
    Key(w, "numLabelPairs");
    w.Uint64(head.pairs.size());
    Key(w, "chunkCount");
    w.Uint64(head.chunk_count);
    Key(w, "minTime");
    w.Int64(head.min_time);
    Key(w, "maxTime");
    w.Int64(head.max_time);
    w.EndObject();
    Stats(w, "seriesCountByMetricName", FromMap(by_metric, limit));
    Stats(w, "labelValueCountByLabelName", FromMap(values_by_name, limit));
    Stats(w, "memoryInBytesByLabelName", FromMap(bytes_by_name, limit));
    Stats(w, "seriesCountByLabelValuePair", Top(std::move(pairs), limit));
  });
}

Response Unavailable(std::string_view what) {
  return Response::Error(501, "unavailable", std::string(what) + " is not available");
}

}  // namespace

namespace {

// The configuration and the head's cardinality (every tenant's metric names) are the server's:
// shown to the default tenant's readers only.
Response ServerWide(const Request& req) {
  return Response::Error(403, "forbidden",
                         "this status is the whole server's: it is shown to the default tenant only, not to '" +
                             req.principal.tenant + "'");
}

}  // namespace

void AddStatusRoutes(http::Router* router, auth::Guard* guard, StatusSources sources) {
  router->Add({"GET"}, "/api/v1/status/buildinfo", "/api/v1/status/buildinfo",
              guard->Require(Scope::kRead, [build = sources.build](Request&) {
                const BuildInfo& b = build != nullptr ? *build : GetBuildInfo();
                return Success([&](JsonWriter& w) {
                  String(w, "version", b.version);
                  String(w, "revision", b.revision);
                  String(w, "branch", "");
                  String(w, "buildUser", "");
                  String(w, "buildDate", "");
                  String(w, "goVersion", b.compiler);
                });
              }));

  router->Add({"GET"}, "/api/v1/status/runtimeinfo", "/api/v1/status/runtimeinfo",
              guard->Require(Scope::kRead, [runtime = sources.runtime](Request&) {
                if (!runtime) return Unavailable("runtime information");
                const RuntimeInfo r = runtime();
                return Success([&](JsonWriter& w) {
                  String(w, "startTime", GoTime(r.start_time_ms));
                  String(w, "CWD", r.cwd);
                  String(w, "hostname", r.hostname);
                  String(w, "serverTime", GoTime(r.server_time_ms));
                  Key(w, "reloadConfigSuccess");
                  w.Bool(r.reload_config_success);
                  String(w, "lastConfigTime", GoTime(r.last_config_time_ms));
                  Key(w, "corruptionCount");
                  w.Int64(r.corruption_count);
                  Key(w, "goroutineCount");
                  w.Int64(r.thread_count);
                  Key(w, "GOMAXPROCS");
                  w.Int64(r.cpu_count);
                  Key(w, "GOMEMLIMIT");
                  w.Int64(INT64_MAX);
                  String(w, "GOGC", "");
                  String(w, "GODEBUG", "");
                  String(w, "storageRetention", r.storage_retention);
                });
              }));

  router->Add({"GET"}, "/api/v1/status/flags", "/api/v1/status/flags",
              guard->Require(Scope::kRead, [flags = sources.flags](Request&) {
                return Success([&](JsonWriter& w) {
                  for (const auto& [name, value] : flags) String(w, name, value);
                });
              }));

  router->Add({"GET"}, "/api/v1/status/config", "/api/v1/status/config",
              guard->Require(Scope::kRead, [config_yaml = sources.config_yaml](Request& req) {
                if (req.principal.tenant != auth::kDefaultTenant) return ServerWide(req);
                if (!config_yaml) return Unavailable("the configuration");
                const std::string yaml = config_yaml();
                return Success([&](JsonWriter& w) { String(w, "yaml", yaml); });
              }));

  router->Add({"GET"}, "/api/v1/status/tsdb", "/api/v1/status/tsdb",
              guard->Require(Scope::kRead, [head = sources.head](Request& req) {
                if (req.principal.tenant != auth::kDefaultTenant) return ServerWide(req);
                size_t limit = 10;
                if (auto l = req.Param("limit"); l && !l->empty()) {
                  const std::string s(*l);
                  char* end = nullptr;
                  const long long n = std::strtoll(s.c_str(), &end, 10);
                  if (end != s.c_str() + s.size() || n < 1) {
                    return Response::Error(400, "bad_data", "limit must be a positive number");
                  }
                  limit = static_cast<size_t>(n);
                }
                if (!head) return Unavailable("the storage's statistics");
                auto h = head();
                if (!h.ok()) return Response::Error(500, "internal", h.status().message());
                return TsdbStatus(*h, limit);
              }));
}

}  // namespace tyto::api
