// The Prometheus targets API, in Prometheus's shape (Grafana and promtool-style clients read it):
//   GET /api/v1/targets[?state=active|dropped|any][&scrapePool=JOB]   read
// activeTargets: labels, discoveredLabels, scrapePool, scrapeUrl, globalUrl, health ("up",
// "down", "unknown"), lastError, lastScrape (RFC 3339), lastScrapeDuration (seconds),
// lastSamplesScraped, scrapeInterval, scrapeTimeout; droppedTargets: discoveredLabels (with
// droppedTargetCounts per job).
#pragma once

#include "auth/auth.h"
#include "http/router.h"

namespace tyto::scrape {
class Manager;
}

namespace tyto::api {

// `manager` must outlive the router.
void AddTargetsRoutes(http::Router* router, auth::Guard* guard, scrape::Manager* manager);

}  // namespace tyto::api
