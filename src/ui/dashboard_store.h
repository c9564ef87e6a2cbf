// DashboardStore: the dashboards the UI lists, from three sources, by uid:
//   builtin   dashboards/*.json of the source tree, compiled in (EmbeddedDashboards)
//   file      files named by tyto.yml's ui.dashboards (paths or globs), read at start and reload
//   imported  POST /api/v1/dashboards, kept as <dir>/<uid>.json (docs/format/dashboards.md)
// For one uid, imported wins over file, file over builtin: importing a copy of a built-in
// dashboard under its uid replaces it, and deleting the copy brings the original back.
//
// Thread-safe. Writes go to disk through Env (atomically) before the in-memory view changes.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mutex.h"
#include "tyto/env.h"
#include "tyto/status.h"
#include "ui/dashboard.h"

namespace tyto::ui {

enum class DashboardSource { kBuiltin, kFile, kImported };
std::string_view SourceName(DashboardSource s);  // "builtin", "file", "imported"

struct DashboardSummary {
  std::string uid;
  std::string title;
  std::vector<std::string> tags;
  DashboardSource source = DashboardSource::kBuiltin;
};

struct ImportOutcome {
  std::string uid;
  std::vector<std::string> warnings;
};

// The compiled-in dashboards, validated. One that fails validation (a test keeps that from
// happening) is logged and left out; their warnings are dropped.
std::vector<Dashboard> BuiltinDashboards();

// Reads and validates the files `patterns` name (globs as rule_files'). Fails listing every
// file that cannot be read or does not validate, or whose uid another of them has ("FILE: why").
// A file without a uid gets the slug of its title.
Result<std::vector<Dashboard>> LoadDashboardFiles(const std::vector<std::string>& patterns, Env* env);

class DashboardStore {
 public:
  // `dir` keeps the imported dashboards; created at the first import.
  DashboardStore(Env* env, std::string dir);

  // Reads the imported dashboards from `dir` (missing: none). A file that does not validate is
  // logged and skipped, so one bad file cannot keep the server from starting.
  Status Open() EXCLUDES(mu_);

  void SetBuiltin(std::vector<Dashboard> dashboards) EXCLUDES(mu_);
  void SetFiles(std::vector<Dashboard> dashboards) EXCLUDES(mu_);

  // One entry per uid (the winning source), sorted by title, then uid.
  std::vector<DashboardSummary> List() const EXCLUDES(mu_);
  // The dashboard JSON for a uid, from the winning source.
  std::optional<std::string> Get(std::string_view uid) const EXCLUDES(mu_);

  // Validates `body` (ValidateDashboard), gives it a uid when it has none (the slug of its
  // title, with -2, -3, ... until unused), and stores it. kAlreadyExists when an imported
  // dashboard has the uid and `overwrite` (the wrapper's, or the argument) is false.
  Result<ImportOutcome> Import(std::string_view body, bool overwrite = false) EXCLUDES(mu_);

  // Removes an imported dashboard. kNotFound when no dashboard has the uid; kFailedPrecondition
  // when it is builtin or from a file (those change in their files).
  Status Delete(std::string_view uid) EXCLUDES(mu_);

 private:
  std::string PathOf(std::string_view uid) const { return dir_ + "/" + std::string(uid) + ".json"; }
  bool Taken(const std::string& uid) const REQUIRES(mu_);

  Env* env_;
  const std::string dir_;
  mutable Mutex mu_;
  std::map<std::string, Dashboard, std::less<>> builtin_ GUARDED_BY(mu_);
  std::map<std::string, Dashboard, std::less<>> files_ GUARDED_BY(mu_);
  std::map<std::string, Dashboard, std::less<>> imported_ GUARDED_BY(mu_);
};

}  // namespace tyto::ui
