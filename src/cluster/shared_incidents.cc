#include "cluster/shared_incidents.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "common/log.h"
#include "http/encoding.h"

namespace tyto::cluster {
namespace {

const log::Logger kLog("cluster");

using incident::EntryKind;

std::string ReadString(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                      : std::string();
}

std::optional<EntryKind> KindOf(const std::string& kind) {
  if (kind == "acknowledged") return EntryKind::kAcknowledged;
  if (kind == "resolved") return EntryKind::kResolved;
  if (kind == "note") return EntryKind::kNote;
  return std::nullopt;
}

}  // namespace

std::string EncodeIncidentAction(const IncidentActionRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : {std::pair<const char*, const std::string*>{"incident", &r.incident},
                             {"kind", &r.kind},
                             {"by", &r.by},
                             {"text", &r.text},
                             {"node", &r.node}}) {
    w.Key(k);
    w.String(v->data(), static_cast<rapidjson::SizeType>(v->size()));
  }
  w.Key("at_ms");
  w.Int64(r.at_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<IncidentActionRecord> DecodeIncidentAction(std::string_view value) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("incident action is not a JSON object");
  const rapidjson::Value& o = d;
  IncidentActionRecord r;
  r.incident = ReadString(o, "incident");
  r.kind = ReadString(o, "kind");
  r.by = ReadString(o, "by");
  r.text = ReadString(o, "text");
  r.node = ReadString(o, "node");
  auto at = o.FindMember("at_ms");
  if (at == o.MemberEnd() || !at->value.IsInt64()) return InvalidArgument("incident action: no integer \"at_ms\"");
  r.at_ms = at->value.GetInt64();
  if (r.incident.empty()) return InvalidArgument("incident action: no \"incident\"");
  if (!KindOf(r.kind)) return InvalidArgument("incident action: kind \"" + r.kind + "\" is not acknowledged, resolved or note");
  return r;
}

SharedIncidents::SharedIncidents(KeyValue* kv, Clock* clock, SharedIncidentsOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {}

SharedIncidents::~SharedIncidents() { Stop(); }

std::string SharedIncidents::IncidentIdentity(const incident::Incident& inc) {
  if (inc.alerts.empty()) return "";
  const incident::IncidentAlert& first = inc.alerts.front();
  return http::Sha256Hex(std::to_string(alertmanager::Fingerprint(first.labels)) + ":" +
                         std::to_string(first.starts_at_ms));
}

Status SharedIncidents::Publish(const incident::Incident& inc, const incident::TimelineEntry& entry) {
  IncidentActionRecord r;
  switch (entry.kind) {
    case EntryKind::kAcknowledged: r.kind = "acknowledged"; break;
    case EntryKind::kResolved: r.kind = "resolved"; break;
    case EntryKind::kNote: r.kind = "note"; break;
    default: return Status::Ok();
  }
  r.incident = IncidentIdentity(inc);
  if (r.incident.empty()) return Status::Ok();
  r.by = entry.by;
  if (entry.kind == EntryKind::kNote) r.text = entry.text;
  r.at_ms = entry.time_ms;
  r.node = options_.node;
  std::string key;
  {
    MutexLock l(&mu_);
    key = "incidents." + r.incident + "." + std::to_string(r.at_ms) + "-" + std::to_string(++counter_) + "-" +
          options_.node;
    applied_.insert(key);
  }
  Result<uint64_t> w = kv_->Create(key, EncodeIncidentAction(r));
  if (!w.ok()) {
    kLog.Warn("sharing an incident action failed; other servers will not see it", {{"key", key}, {"err", w.status()}});
    return w.status();
  }
  return Status::Ok();
}

Status SharedIncidents::Sync(incident::Tracker* tracker) {
  TYTO_ASSIGN_OR_RETURN(std::vector<Entry> entries, kv_->List("incidents."));
  const int64_t cutoff = clock_->NowMillis() - options_.retention.count();
  std::vector<std::pair<std::string, IncidentActionRecord>> fresh;
  {
    MutexLock l(&mu_);
    // Forget keys gone from the store (deleted past the retention by any server).
    std::set<std::string> listed;
    for (const Entry& e : entries) listed.insert(e.key);
    for (auto it = applied_.begin(); it != applied_.end();) it = listed.count(*it) ? std::next(it) : applied_.erase(it);
    for (const Entry& e : entries) {
      if (applied_.count(e.key) != 0) continue;
      Result<IncidentActionRecord> r = DecodeIncidentAction(e.value);
      if (!r.ok()) {
        kLog.Warn("unreadable incident action skipped", {{"key", e.key}, {"err", r.status()}});
        applied_.insert(e.key);
        continue;
      }
      if (r->at_ms < cutoff) {
        (void)kv_->Delete(e.key);
        applied_.erase(e.key);
        continue;
      }
      if (r->node == options_.node) {  // this server's own (before a restart): in its journal already
        applied_.insert(e.key);
        continue;
      }
      fresh.emplace_back(e.key, std::move(r).value());
    }
  }
  if (fresh.empty()) return Status::Ok();
  std::stable_sort(fresh.begin(), fresh.end(), [](const auto& a, const auto& b) { return a.second.at_ms < b.second.at_ms; });
  std::map<std::string, uint64_t> by_identity;
  for (const incident::Incident& inc : tracker->List(std::nullopt, 0)) {
    const std::string identity = IncidentIdentity(inc);
    // List is newest first: the first seen of an identity is the newest incident.
    if (!identity.empty()) by_identity.emplace(identity, inc.id);
  }
  for (auto& [key, r] : fresh) {
    auto it = by_identity.find(r.incident);
    if (it == by_identity.end()) continue;  // not here yet: the next poll tries again
    Status st = tracker->ApplyShared(it->second, *KindOf(r.kind), r.by, r.text, r.at_ms, key);
    if (!st.ok()) kLog.Warn("applying an incident action failed", {{"key", key}, {"err", st}});
    MutexLock l(&mu_);
    applied_.insert(key);
  }
  return Status::Ok();
}

void SharedIncidents::Start(incident::Tracker* tracker) {
  if (thread_.joinable()) return;
  {
    MutexLock l(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, tracker] {
    while (true) {
      if (Status s = Sync(tracker); !s.ok()) kLog.Warn("reading shared incident actions failed", {{"err", s}});
      MutexLock l(&mu_);
      if (stop_) return;
      cv_.wait_for(mu_.native(), options_.poll_interval);
      if (stop_) return;
    }
  });
}

void SharedIncidents::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tyto::cluster
