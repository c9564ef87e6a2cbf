#include "api/ui_handlers.h"

#include <cstdio>
#include <map>
#include <string>
#include <utility>

#include "api/json.h"
#include "common/mutex.h"
#include "common/units.h"
#include "http/sse.h"
#include "ui/assets.h"
#include "ui/dashboard_store.h"

namespace tyto::api {
namespace {

using http::Request;
using http::Response;

constexpr std::chrono::milliseconds kDefaultInterval = std::chrono::seconds(5);
constexpr std::chrono::milliseconds kMinInterval = std::chrono::seconds(1);
constexpr std::chrono::milliseconds kMaxInterval = std::chrono::seconds(60);
// Streams share the counts, read at most this often (the rules' groups and the incidents are
// copied to count them).
constexpr std::chrono::milliseconds kCountsMaxAge = std::chrono::seconds(1);

struct AlertCounts {
  size_t firing = 0;
  size_t pending = 0;
  friend bool operator==(const AlertCounts&, const AlertCounts&) = default;
};

// The counts the live streams report, per tenant, shared by all the streams of a tenant.
class LiveCounts {
 public:
  explicit LiveCounts(UiSources sources) : sources_(std::move(sources)) {}

  // `tenant`'s counts: its groups' alerts and its incidents only.
  std::pair<AlertCounts, IncidentCounts> Get(const std::string& tenant) EXCLUDES(mu_) {
    const auto now = sources_.clock->MonotonicNow();
    MutexLock lock(&mu_);
    if (auto it = by_tenant_.find(tenant); it != by_tenant_.end() && now - it->second.read_at < kCountsMaxAge) {
      return {it->second.alerts, it->second.incidents};
    }
    if (by_tenant_.size() >= kMaxTenants) by_tenant_.clear();  // a bound; counts are re-read
    Counts& c = by_tenant_[tenant];
    c.alerts = {};
    if (sources_.rules != nullptr) {
      for (const RuleGroup& g : sources_.rules->Groups()) {
        if (g.tenant != tenant) continue;
        for (const Rule& r : g.rules) {
          for (const ActiveAlert& a : r.alerts) {
            if (a.state == "firing") ++c.alerts.firing;
            if (a.state == "pending") ++c.alerts.pending;
          }
        }
      }
    }
    c.incidents = sources_.incidents ? sources_.incidents(tenant) : IncidentCounts{};
    c.read_at = now;
    return {c.alerts, c.incidents};
  }

  const Clock* clock() const { return sources_.clock; }

 private:
  static constexpr size_t kMaxTenants = 1000;
  struct Counts {
    std::chrono::steady_clock::time_point read_at;
    AlertCounts alerts;
    IncidentCounts incidents;
  };
  const UiSources sources_;
  Mutex mu_;
  std::map<std::string, Counts> by_tenant_ GUARDED_BY(mu_);
};

// One client's /api/v1/stream: polled on its connection's strand, one call at a time.
class LiveStream {
 public:
  LiveStream(std::shared_ptr<LiveCounts> counts, std::string tenant, std::chrono::milliseconds interval)
      : counts_(std::move(counts)), tenant_(std::move(tenant)), interval_(interval) {}

  http::BodyStream::Chunk Next() {
    http::BodyStream::Chunk out;
    const auto [alerts, incidents] = counts_->Get(tenant_);
    if (!sent_ || alerts != alerts_) {
      out.data += http::SseEvent("alerts", "{\"firing\":" + std::to_string(alerts.firing) +
                                               ",\"pending\":" + std::to_string(alerts.pending) + "}");
    }
    if (!sent_ || incidents != incidents_) {
      out.data += http::SseEvent("incidents", "{\"open\":" + std::to_string(incidents.open) +
                                                  ",\"acknowledged\":" + std::to_string(incidents.acknowledged) + "}");
    }
    alerts_ = alerts;
    incidents_ = incidents;
    const auto now = counts_->clock()->MonotonicNow();
    if (!sent_ || now >= next_tick_) {
      // Ticks keep their rhythm; after a stall the next one comes an interval from now.
      next_tick_ = sent_ && now - next_tick_ < interval_ ? next_tick_ + interval_ : now + interval_;
      const double seconds = static_cast<double>(counts_->clock()->NowMillis()) / 1000.0;
      char buf[64];
      std::snprintf(buf, sizeof(buf), "{\"time\":%.3f}", seconds);
      out.data += http::SseEvent("tick", buf);
    }
    sent_ = true;
    return out;
  }

 private:
  std::shared_ptr<LiveCounts> counts_;
  const std::string tenant_;  // the request's
  const std::chrono::milliseconds interval_;
  bool sent_ = false;
  AlertCounts alerts_;
  IncidentCounts incidents_;
  std::chrono::steady_clock::time_point next_tick_{};
};

Response Stream(const std::shared_ptr<LiveCounts>& counts, const Request& req) {
  std::chrono::milliseconds interval = kDefaultInterval;
  if (auto v = req.Param("interval"); v && !v->empty()) {
    Result<std::chrono::milliseconds> d = ParseDuration(*v);
    if (!d.ok() || *d < kMinInterval || *d > kMaxInterval) {
      return Response::Error(400, "bad_data",
                             "invalid parameter \"interval\": '" + std::string(v->substr(0, 64)) +
                                 "' is not a duration from 1s to 60s (e.g. 5s)");
    }
    interval = *d;
  }
  auto live = std::make_shared<LiveStream>(counts, req.principal.tenant, interval);
  return http::SseResponse(
      std::make_shared<http::SseStream>([live] { return live->Next(); }, counts->clock()));
}

Response Redirect(std::string location) {
  Response r = Response::Text(302, "see " + location + "\n");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

Response Html(int status, std::string body) {
  Response r = Response::Text(status, std::move(body));
  r.content_type = "text/html; charset=utf-8";
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

// The request's query string with its '?', or "" (kept across a redirect).
std::string_view QuerySuffix(const Request& req) {
  std::string_view t = req.target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q);
}

Response ServeUi(const UiSources& s, const Request& req) {
  if (req.path == "/ui") return Redirect("/ui/" + std::string(QuerySuffix(req)));
  std::string_view rel = std::string_view(req.path).substr(std::min<size_t>(req.path.size(), 4));  // after "/ui/"
  if (ui::LeavesUiRoot(rel)) return Response::Error(400, "bad_data", "invalid UI path: '.', '..', '\\' and NUL are refused");
  std::shared_ptr<const ui::UiAssets> assets = s.assets ? s.assets() : nullptr;
  std::optional<std::string> index = assets ? assets->Read("index.html") : std::nullopt;
  if (!index) return Html(404, ui::NotBuiltPage());
  if (!rel.empty() && rel != "index.html" && ui::SafeAssetPath(rel)) {
    if (std::optional<std::string> file = assets->Read(rel)) {
      Response r = Response::Text(200, std::move(*file));
      r.content_type = std::string(ui::ContentTypeOf(rel));
      r.headers.emplace_back("Cache-Control",
                             rel.starts_with("assets/") ? "public, max-age=31536000, immutable" : "no-cache");
      return r;
    }
  }
  // A hashed asset that is not there is an error (a stale page asking for an old build's file);
  // anything else is a route of the app, which index.html handles in the browser.
  if (rel.starts_with("assets/")) return Response::Error(404, "not_found", "no UI file " + std::string(rel));
  return Html(200, std::move(*index));
}

Response ListDashboards(const ui::DashboardStore& store) {
  const std::vector<ui::DashboardSummary> list = store.List();
  return SuccessValue([&](JsonWriter& w) {
    w.StartArray();
    for (const ui::DashboardSummary& d : list) {
      w.StartObject();
      String(w, "uid", d.uid);
      String(w, "title", d.title);
      Key(w, "tags");
      w.StartArray();
      for (const std::string& t : d.tags) w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
      w.EndArray();
      String(w, "source", ui::SourceName(d.source));
      w.EndObject();
    }
    w.EndArray();
  });
}

Response GetDashboard(const ui::DashboardStore& store, std::string_view uid) {
  std::optional<std::string> json = store.Get(uid);
  if (!json) return Response::Error(404, "not_found", "no dashboard with uid '" + std::string(uid.substr(0, 64)) + "'");
  return SuccessValue([&](JsonWriter& w) { w.RawValue(json->data(), json->size(), rapidjson::kObjectType); });
}

Response ImportDashboard(ui::DashboardStore* store, const Request& req) {
  if (req.body.size() > ui::kMaxDashboardBytes) {
    return Response::Error(413, "bad_data", "dashboard is " + std::to_string(req.body.size()) +
                                                " bytes, more than the limit of " + std::to_string(ui::kMaxDashboardBytes));
  }
  const bool overwrite = req.Param("overwrite").value_or("") == "true";
  Result<ui::ImportOutcome> out = store->Import(req.body, overwrite);
  if (!out.ok()) return StatusError(out.status());
  return Success([&](JsonWriter& w) {
    String(w, "uid", out->uid);
    Key(w, "warnings");
    w.StartArray();
    for (const std::string& s : out->warnings) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  });
}

}  // namespace

void AddUiRoutes(http::Router* router, auth::Guard* guard, UiSources sources) {
  using auth::Scope;
  router->Add({"GET"}, "/", "/", guard->Require(Scope::kPublic, [](Request& req) {
                return Redirect("/ui/" + std::string(QuerySuffix(req)));
              }));
  router->Add({"GET"}, "/ui/*path", "/ui", guard->Require(Scope::kPublic, [sources](Request& req) {
                return ServeUi(sources, req);
              }));
  auto counts = std::make_shared<LiveCounts>(sources);
  router->Add({"GET"}, "/api/v1/stream", "/api/v1/stream",
              guard->Require(Scope::kRead, [counts](Request& req) { return Stream(counts, req); }));
  ui::DashboardStore* store = sources.dashboards;
  router->Add({"GET"}, "/api/v1/dashboards", "/api/v1/dashboards",
              guard->Require(Scope::kRead, [store](Request&) { return ListDashboards(*store); }));
  router->Add({"POST"}, "/api/v1/dashboards", "/api/v1/dashboards",
              guard->RequireServerWide(Scope::kEdit, [store](Request& req) { return ImportDashboard(store, req); }));
  router->Add({"GET"}, "/api/v1/dashboards/:uid", "/api/v1/dashboards/:uid", guard->Require(Scope::kRead, [store](Request& req) {
                return GetDashboard(*store, req.PathParam("uid").value_or(""));
              }));
  router->Add({"DELETE"}, "/api/v1/dashboards/:uid", "/api/v1/dashboards/:uid",
              guard->RequireServerWide(Scope::kEdit, [store](Request& req) {
                Status st = store->Delete(req.PathParam("uid").value_or(""));
                if (!st.ok()) return StatusError(st);
                return Success([](JsonWriter&) {});
              }));
}

}  // namespace tyto::api
