#include "api/targets_handler.h"

#include "api/json.h"
#include "common/units.h"
#include "scrape/manager.h"

namespace tyto::api {
namespace {

// The zero time before the first scrape, as Go's encoding of a zero time.Time.
std::string LastScrape(int64_t ms) { return ms == 0 ? "0001-01-01T00:00:00Z" : FormatTimestamp(ms); }

}  // namespace

void AddTargetsRoutes(http::Router* router, auth::Guard* guard, scrape::Manager* manager) {
  router->Add({"GET"}, "/api/v1/targets", "/api/v1/targets",
              guard->Require(auth::Scope::kRead, [manager](http::Request& req) {
                const std::string state(req.Param("state").value_or("any"));
                if (state != "any" && state != "active" && state != "dropped") {
                  return http::Response::Error(400, "bad_data", "invalid state '" + state +
                                                                    "': expected active, dropped or any");
                }
                const std::string pool(req.Param("scrapePool").value_or(""));
                // Scrape targets are tyto.yml's, whose series are the default tenant's.
                const bool mine = req.principal.tenant == auth::kDefaultTenant;
                const bool active = mine && state != "dropped";
                const bool dropped = mine && state != "active";
                return Success([&](JsonWriter& w) {
                  Key(w, "activeTargets");
                  w.StartArray();
                  for (const scrape::TargetInfo& t : active ? manager->Targets() : std::vector<scrape::TargetInfo>{}) {
                    if (!pool.empty() && t.job != pool) continue;
                    w.StartObject();
                    Key(w, "discoveredLabels");
                    LabelsObject(w, t.discovered);
                    Key(w, "labels");
                    LabelsObject(w, t.labels);
                    String(w, "scrapePool", t.job);
                    String(w, "scrapeUrl", t.url);
                    String(w, "globalUrl", t.url);
                    String(w, "lastError", t.status.last_error);
                    String(w, "lastScrape", LastScrape(t.status.last_scrape_ms));
                    Key(w, "lastScrapeDuration");
                    GoNumber(w, t.status.last_duration_seconds);
                    Key(w, "lastSamplesScraped");
                    w.Uint64(t.status.last_samples);
                    String(w, "health", t.status.health);
                    String(w, "scrapeInterval", FormatDuration(t.interval));
                    String(w, "scrapeTimeout", FormatDuration(t.timeout));
                    w.EndObject();
                  }
                  w.EndArray();
                  Key(w, "droppedTargets");
                  w.StartArray();
                  const auto all_dropped = manager->DroppedTargets();
                  if (dropped) {
                    for (const auto& [job, list] : all_dropped) {
                      if (!pool.empty() && job != pool) continue;
                      for (const Labels& l : list) {
                        w.StartObject();
                        Key(w, "discoveredLabels");
                        LabelsObject(w, l);
                        w.EndObject();
                      }
                    }
                  }
                  w.EndArray();
                  Key(w, "droppedTargetCounts");
                  w.StartObject();
                  for (const auto& [job, list] : all_dropped) {
                    Key(w, job);
                    w.Uint64(list.size());
                  }
                  w.EndObject();
                });
              }));
}

}  // namespace tyto::api
