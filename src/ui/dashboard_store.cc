#include "ui/dashboard_store.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "rules/loader.h"
#include "ui/embedded.h"

namespace tyto::ui {
namespace {

const log::Logger kLog("ui");

// Gives a dashboard without a uid the slug of its title, made unique by `taken`.
template <typename Taken>
Status AssignUid(Dashboard* d, Taken taken) {
  if (!d->uid.empty()) return Status::Ok();
  const std::string base = Slugify(d->title);
  std::string uid = base;
  for (int n = 2; taken(uid); ++n) uid = base + "-" + std::to_string(n);
  TYTO_ASSIGN_OR_RETURN(d->json, SetUid(d->json, uid));
  d->uid = std::move(uid);
  return Status::Ok();
}

}  // namespace

std::string_view SourceName(DashboardSource s) {
  switch (s) {
    case DashboardSource::kBuiltin: return "builtin";
    case DashboardSource::kFile: return "file";
    case DashboardSource::kImported: return "imported";
  }
  return "builtin";
}

std::vector<Dashboard> BuiltinDashboards() {
  std::vector<Dashboard> out;
  for (const EmbeddedFile& f : EmbeddedDashboards()) {
    Result<ValidatedDashboard> v = ValidateDashboard(f.contents);
    Status st = v.ok() ? AssignUid(&v->dashboard, [&](const std::string& uid) {
      return std::any_of(out.begin(), out.end(), [&](const Dashboard& d) { return d.uid == uid; });
    })
                       : v.status();
    if (!st.ok()) {
      kLog.Error("built-in dashboard left out", {{"file", std::string(f.path)}, {"error", st}});
      continue;
    }
    out.push_back(std::move(v->dashboard));
  }
  return out;
}

Result<std::vector<Dashboard>> LoadDashboardFiles(const std::vector<std::string>& patterns, Env* env) {
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> files, rules::ExpandRuleFiles(patterns, env));
  std::vector<Dashboard> out;
  std::string errors;
  auto fail = [&](const std::string& file, const std::string& why) {
    errors += (errors.empty() ? "" : "\n") + file + ": " + why;
  };
  for (const std::string& file : files) {
    Result<std::string> text = env->ReadFile(file);
    if (!text.ok()) {
      fail(file, text.status().message());
      continue;
    }
    Result<ValidatedDashboard> v = ValidateDashboard(*text);
    if (!v.ok()) {
      fail(file, v.status().message());
      continue;
    }
    for (const std::string& w : v->warnings) kLog.Warn("dashboard query", {{"file", file}, {"warning", w}});
    Status st = AssignUid(&v->dashboard, [&](const std::string& uid) {
      return std::any_of(out.begin(), out.end(), [&](const Dashboard& d) { return d.uid == uid; });
    });
    if (!st.ok()) {
      fail(file, st.message());
      continue;
    }
    if (std::any_of(out.begin(), out.end(), [&](const Dashboard& d) { return d.uid == v->dashboard.uid; })) {
      fail(file, "uid '" + v->dashboard.uid + "' is used by another file of ui.dashboards");
      continue;
    }
    out.push_back(std::move(v->dashboard));
  }
  if (!errors.empty()) return InvalidArgument("ui.dashboards: " + errors);
  return out;
}

DashboardStore::DashboardStore(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

Status DashboardStore::Open() {
  if (!env_->FileExists(dir_)) return Status::Ok();
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(dir_));
  std::map<std::string, Dashboard, std::less<>> loaded;
  for (const std::string& name : names) {
    if (!name.ends_with(".json")) continue;
    const std::string path = dir_ + "/" + name;
    Result<std::string> text = env_->ReadFile(path);
    Result<ValidatedDashboard> v = text.ok() ? ValidateDashboard(*text) : Result<ValidatedDashboard>(text.status());
    if (!v.ok()) {
      kLog.Warn("imported dashboard skipped", {{"file", path}, {"error", v.status()}});
      continue;
    }
    const std::string want = name.substr(0, name.size() - 5);
    if (v->dashboard.uid != want) {
      kLog.Warn("imported dashboard skipped: its uid does not match its file name", {{"file", path}});
      continue;
    }
    loaded[want] = std::move(v->dashboard);
  }
  MutexLock lock(&mu_);
  imported_ = std::move(loaded);
  return Status::Ok();
}

void DashboardStore::SetBuiltin(std::vector<Dashboard> dashboards) {
  MutexLock lock(&mu_);
  builtin_.clear();
  for (Dashboard& d : dashboards) builtin_[d.uid] = std::move(d);
}

void DashboardStore::SetFiles(std::vector<Dashboard> dashboards) {
  MutexLock lock(&mu_);
  files_.clear();
  for (Dashboard& d : dashboards) files_[d.uid] = std::move(d);
}

std::vector<DashboardSummary> DashboardStore::List() const {
  std::vector<DashboardSummary> out;
  MutexLock lock(&mu_);
  auto add = [&](const std::map<std::string, Dashboard, std::less<>>& m, DashboardSource source) {
    for (const auto& entry : m) {
      const std::string& uid = entry.first;
      if (std::any_of(out.begin(), out.end(), [&](const DashboardSummary& s) { return s.uid == uid; })) continue;
      out.push_back({uid, entry.second.title, entry.second.tags, source});
    }
  };
  add(imported_, DashboardSource::kImported);
  add(files_, DashboardSource::kFile);
  add(builtin_, DashboardSource::kBuiltin);
  std::sort(out.begin(), out.end(), [](const DashboardSummary& a, const DashboardSummary& b) {
    return std::tie(a.title, a.uid) < std::tie(b.title, b.uid);
  });
  return out;
}

std::optional<std::string> DashboardStore::Get(std::string_view uid) const {
  MutexLock lock(&mu_);
  for (const auto* m : {&imported_, &files_, &builtin_}) {
    if (auto it = m->find(uid); it != m->end()) return it->second.json;
  }
  return std::nullopt;
}

bool DashboardStore::Taken(const std::string& uid) const {
  return imported_.count(uid) > 0 || files_.count(uid) > 0 || builtin_.count(uid) > 0;
}

Result<ImportOutcome> DashboardStore::Import(std::string_view body, bool overwrite) {
  TYTO_ASSIGN_OR_RETURN(ValidatedDashboard v, ValidateDashboard(body));
  overwrite = overwrite || v.overwrite;
  MutexLock lock(&mu_);
  Dashboard& d = v.dashboard;
  if (d.uid.empty()) {
    // As AssignUid, inline: the check reads the maps under mu_.
    const std::string base = Slugify(d.title);
    std::string uid = base;
    for (int n = 2; Taken(uid); ++n) uid = base + "-" + std::to_string(n);
    TYTO_ASSIGN_OR_RETURN(d.json, SetUid(d.json, uid));
    d.uid = std::move(uid);
  }
  if (imported_.count(d.uid) > 0 && !overwrite) {
    return Status(StatusCode::kAlreadyExists, "a dashboard with uid '" + d.uid +
                         "' was imported already; import with \"overwrite\": true to replace it");
  }
  if (imported_.count(d.uid) == 0 && (files_.count(d.uid) > 0 || builtin_.count(d.uid) > 0)) {
    v.warnings.push_back("replaces the " + std::string(files_.count(d.uid) > 0 ? "file" : "built-in") +
                         " dashboard with uid '" + d.uid + "' until this one is deleted");
  }
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  TYTO_RETURN_IF_ERROR(WriteFileAtomically(env_, PathOf(d.uid), d.json));
  ImportOutcome out{d.uid, std::move(v.warnings)};
  imported_[d.uid] = std::move(d);
  return out;
}

Status DashboardStore::Delete(std::string_view uid) {
  MutexLock lock(&mu_);
  auto it = imported_.find(uid);
  if (it == imported_.end()) {
    if (files_.count(uid) > 0 || builtin_.count(uid) > 0) {
      return InvalidArgument("dashboard '" + std::string(uid) +
                             "' is not an imported one: built-in and ui.dashboards dashboards change in their files");
    }
    return NotFound("no dashboard with uid '" + std::string(uid) + "'");
  }
  TYTO_RETURN_IF_ERROR(env_->RemoveFile(PathOf(uid)));
  imported_.erase(it);
  return Status::Ok();
}

}  // namespace tyto::ui
