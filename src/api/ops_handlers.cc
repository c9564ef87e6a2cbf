#include "api/ops_handlers.h"

#include "api/json.h"
#include "common/log.h"

namespace tyto::api {
namespace {

using auth::Scope;
using http::Request;
using http::Response;

const log::Logger kLog("api");

}  // namespace

void AddOpsRoutes(http::Router* router, auth::Guard* guard, instrumentation::Registry* registry, OpsHooks hooks) {
  router->Add({"GET"}, "/-/healthy", "/-/healthy", guard->Require(Scope::kPublic, [](Request&) {
                return Response::Text(200, "Tyto is Healthy.\n");
              }));

  router->Add({"GET"}, "/-/ready", "/-/ready",
              guard->Require(Scope::kPublic, [ready = hooks.ready, deps = hooks.dependencies](Request&) {
                if (ready && !ready()) return Response::Text(503, "Service Unavailable\n");
                if (!deps) return Response::Text(200, "Tyto is Ready.\n");
                // One line per dependency, so a probe's log says which one is down.
                std::string lines;
                bool all_ok = true;
                for (const DependencyHealth& d : deps()) {
                  all_ok = all_ok && d.status.ok();
                  lines += d.name + ": " + (d.status.ok() ? std::string("ok") : d.status.message()) + "\n";
                }
                if (!all_ok) return Response::Text(503, "Service Unavailable\n" + lines);
                return Response::Text(200, "Tyto is Ready.\n" + lines);
              }));

  router->Add({"GET"}, "/metrics", "/metrics", guard->RequireServerWide(Scope::kRead, [registry](Request&) {
                Response r = Response::Text(200, registry->Expose());
                r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                return r;
              }));

  router->Add({"POST", "PUT"}, "/-/reload", "/-/reload",
              guard->RequireServerWide(Scope::kAdmin, [reload = hooks.reload](Request& req) {
                kLog.Info("reload requested over HTTP", {{"by", req.principal.name}});
                ReloadOutcome out = reload();
                if (!out.status.ok()) {
                  return Response::Error(500, "reload_failed",
                                         "failed to reload config, keeping the previous one: " +
                                             out.status.message());
                }
                return Success([&](auto& w) {
                  w.Key("restart_required");
                  w.StartArray();
                  for (const std::string& k : out.restart_required) w.String(k.c_str());
                  w.EndArray();
                });
              }));

  router->Add({"GET"}, "/-/log-level", "/-/log-level", guard->Require(Scope::kRead, [](Request&) {
                return Success([](auto& w) { String(w, "level", log::LevelName(log::GetLevel())); });
              }));
  router->Add({"PUT", "POST"}, "/-/log-level", "/-/log-level", guard->RequireServerWide(Scope::kAdmin, [](Request& req) {
                auto name = req.Param("level");
                if (!name) return Response::Error(400, "bad_data", "missing parameter 'level'");
                auto level = log::ParseLevel(*name);
                if (!level.ok()) return Response::Error(400, "bad_data", level.status().message());
                log::SetLevel(*level);
                kLog.Info("log level changed", {{"level", log::LevelName(*level)}, {"by", req.principal.name}});
                return Success([&](auto& w) { String(w, "level", log::LevelName(*level)); });
              }));

  router->Add({"POST", "PUT"}, "/api/v1/admin/tsdb/flush", "/api/v1/admin/tsdb/flush",
              guard->RequireServerWide(Scope::kAdmin, [flush = hooks.flush](Request& req) {
                if (!flush) return Response::Error(501, "unavailable", "flushing is not available");
                kLog.Info("flush requested over HTTP", {{"by", req.principal.name}});
                auto out = flush();
                if (!out.ok()) return Response::Error(500, "internal", "flush failed: " + out.status().message());
                return Success([&](auto& w) {
                  Key(w, "blocks_written");
                  w.Int(out->blocks_written);
                  Key(w, "compactions");
                  w.Int(out->compactions);
                });
              }));
}

}  // namespace tyto::api
