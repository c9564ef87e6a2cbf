#include "cluster/lease.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <utility>

#include "common/log.h"

namespace tyto::cluster {
namespace {

const log::Logger kLog("cluster");

}  // namespace

std::string EncodeLeaseRecord(const LeaseRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("node");
  w.String(r.node.data(), static_cast<rapidjson::SizeType>(r.node.size()));
  w.Key("url");
  w.String(r.url.data(), static_cast<rapidjson::SizeType>(r.url.size()));
  w.Key("expires_at_ms");
  w.Int64(r.expires_at_ms);
  w.Key("acquired_at_ms");
  w.Int64(r.acquired_at_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<LeaseRecord> DecodeLeaseRecord(std::string_view value) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("lease record is not a JSON object");
  LeaseRecord r;
  const rapidjson::Value& o = d;
  auto node = o.FindMember("node");
  if (node == o.MemberEnd() || !node->value.IsString()) return InvalidArgument("lease record: no string \"node\"");
  r.node = std::string(node->value.GetString(), node->value.GetStringLength());
  auto url = o.FindMember("url");
  if (url != o.MemberEnd() && url->value.IsString()) r.url = std::string(url->value.GetString(), url->value.GetStringLength());
  auto expires = o.FindMember("expires_at_ms");
  if (expires == o.MemberEnd() || !expires->value.IsInt64()) {
    return InvalidArgument("lease record: no integer \"expires_at_ms\"");
  }
  r.expires_at_ms = expires->value.GetInt64();
  auto acquired = o.FindMember("acquired_at_ms");
  if (acquired != o.MemberEnd() && acquired->value.IsInt64()) r.acquired_at_ms = acquired->value.GetInt64();
  return r;
}

Lease::Lease(KeyValue* kv, Clock* clock, LeaseOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {}

LeaseRecord Lease::Mine(int64_t now_ms) const {
  LeaseRecord r;
  r.node = options_.node;
  r.url = options_.advertise_url;
  r.expires_at_ms = now_ms + options_.ttl.count();
  r.acquired_at_ms = now_ms;
  return r;
}

Result<bool> Lease::Write(const LeaseRecord& record, uint64_t revision) {
  Result<uint64_t> w = revision == 0 ? kv_->Create(options_.key, EncodeLeaseRecord(record))
                                     : kv_->Update(options_.key, EncodeLeaseRecord(record), revision);
  if (!w.ok()) {
    if (w.status().code() == StatusCode::kAlreadyExists) {
      // Another node wrote first: whatever this node held is gone.
      if (held_) kLog.Info("lease lost", {{"key", options_.key}});
      held_ = false;
      return false;
    }
    return w.status();
  }
  if (!held_) kLog.Info("lease acquired", {{"key", options_.key}, {"node", options_.node}});
  held_ = true;
  revision_ = *w;
  expires_at_ms_ = record.expires_at_ms;
  written_at_ms_ = clock_->NowMillis();
  acquired_at_ms_ = record.acquired_at_ms;
  last_seen_ = record;
  return true;
}

Result<bool> Lease::Acquire() {
  MutexLock l(&mu_);
  const int64_t now = clock_->NowMillis();
  const int64_t ttl = options_.ttl.count();
  if (held_ && now < expires_at_ms_ && now - written_at_ms_ < ttl / 3) return true;
  if (held_ && now < expires_at_ms_) {
    // Renewal: straight to a compare-and-set on this node's last revision; only a lost race
    // costs a read.
    LeaseRecord r = Mine(now);
    r.acquired_at_ms = acquired_at_ms_;
    Result<bool> renewed = Write(r, revision_);
    if (!renewed.ok() || *renewed) return renewed;
  }
  Result<std::optional<Entry>> e = kv_->Get(options_.key);
  if (!e.ok()) {
    if (held_ && now >= expires_at_ms_) held_ = false;
    return e.status();
  }
  if (!e->has_value()) return Write(Mine(now), 0);
  Result<LeaseRecord> current = DecodeLeaseRecord((*e)->value);
  if (!current.ok()) {
    kLog.Warn("lease record unreadable; taking the lease", {{"key", options_.key}, {"err", current.status()}});
    return Write(Mine(now), (*e)->revision);
  }
  last_seen_ = *current;
  if (current->node == options_.node && current->expires_at_ms > now) {
    // Ours (a restart of this node, or a write whose reply was lost): carry on holding it.
    LeaseRecord r = Mine(now);
    r.acquired_at_ms = current->acquired_at_ms;
    return Write(r, (*e)->revision);
  }
  if (current->expires_at_ms <= now) return Write(Mine(now), (*e)->revision);
  held_ = false;
  return false;
}

bool Lease::Held() const {
  MutexLock l(&mu_);
  return held_ && clock_->NowMillis() < expires_at_ms_;
}

Status Lease::Release() {
  MutexLock l(&mu_);
  if (!held_) return Status::Ok();
  held_ = false;
  LeaseRecord r;
  r.node = options_.node;
  r.url = options_.advertise_url;
  r.expires_at_ms = 0;
  Result<uint64_t> w = kv_->Update(options_.key, EncodeLeaseRecord(r), revision_);
  if (!w.ok() && w.status().code() != StatusCode::kAlreadyExists) return w.status();
  if (w.ok()) kLog.Info("lease released", {{"key", options_.key}});
  return Status::Ok();
}

std::optional<LeaseRecord> Lease::LastSeen() const {
  MutexLock l(&mu_);
  return last_seen_;
}

}  // namespace tyto::cluster
