#include "cluster/shared_notification_log.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "common/log.h"
#include "http/encoding.h"

namespace tyto::cluster {
namespace {

const log::Logger kLog("cluster");

using alertmanager::ClaimOutcome;
using alertmanager::NflogEntry;
using alertmanager::NotificationClaim;
using alertmanager::NotificationClaimRequest;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Bounded retries of a compare-and-set that keeps losing (every loss means another server made
// progress).
constexpr int kMaxRounds = 8;
// At most this many fingerprints in a record (about 18 bytes each as JSON).
constexpr size_t kMaxFingerprints = 20000;

void WriteString(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

// Fingerprints as 16 hex digits: JSON numbers lose precision past 2^53.
void WriteFingerprints(Writer& w, const char* key, const std::vector<uint64_t>& fps) {
  w.Key(key);
  w.StartArray();
  char buf[17];
  for (uint64_t fp : fps) {
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(fp));
    w.String(buf, 16);
  }
  w.EndArray();
}

bool ReadFingerprints(const rapidjson::Value& o, const char* key, std::vector<uint64_t>* out) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd()) return true;
  if (!it->value.IsArray() || it->value.Size() > kMaxFingerprints) return false;
  for (const rapidjson::Value& v : it->value.GetArray()) {
    if (!v.IsString() || v.GetStringLength() != 16) return false;
    char* end = nullptr;
    const unsigned long long fp = std::strtoull(v.GetString(), &end, 16);
    if (end != v.GetString() + 16) return false;
    out->push_back(fp);
  }
  return true;
}

int64_t ReadInt(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsInt64() ? it->value.GetInt64() : 0;
}

std::string ReadString(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                      : std::string();
}

// The last notification sent, from a record: its own for "sent", the previous one otherwise.
std::optional<NflogEntry> LastSent(const NotificationRecord& r) {
  if (r.state == "sent") return NflogEntry{r.firing, r.resolved, r.sent_at_ms, 0};
  if (r.has_previous) return NflogEntry{r.previous_firing, r.previous_resolved, r.previous_sent_at_ms, 0};
  return std::nullopt;
}

}  // namespace

std::string EncodeNotificationRecord(const NotificationRecord& r) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  WriteString(w, "state", r.state);
  WriteString(w, "node", r.node);
  w.Key("expires_at_ms");
  w.Int64(r.expires_at_ms);
  WriteFingerprints(w, "firing", r.firing);
  WriteFingerprints(w, "resolved", r.resolved);
  w.Key("sent_at_ms");
  w.Int64(r.sent_at_ms);
  if (r.has_previous) {
    w.Key("previous");
    w.StartObject();
    WriteFingerprints(w, "firing", r.previous_firing);
    WriteFingerprints(w, "resolved", r.previous_resolved);
    w.Key("sent_at_ms");
    w.Int64(r.previous_sent_at_ms);
    w.EndObject();
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<NotificationRecord> DecodeNotificationRecord(std::string_view value) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("notification record is not a JSON object");
  const rapidjson::Value& o = d;
  NotificationRecord r;
  r.state = ReadString(o, "state");
  if (r.state != "sending" && r.state != "sent" && r.state != "released") {
    return InvalidArgument("notification record: state \"" + r.state + "\" is not sending, sent or released");
  }
  r.node = ReadString(o, "node");
  r.expires_at_ms = ReadInt(o, "expires_at_ms");
  r.sent_at_ms = ReadInt(o, "sent_at_ms");
  if (!ReadFingerprints(o, "firing", &r.firing) || !ReadFingerprints(o, "resolved", &r.resolved)) {
    return InvalidArgument("notification record: bad fingerprints");
  }
  auto prev = o.FindMember("previous");
  if (prev != o.MemberEnd()) {
    if (!prev->value.IsObject()) return InvalidArgument("notification record: previous is not an object");
    r.has_previous = true;
    r.previous_sent_at_ms = ReadInt(prev->value, "sent_at_ms");
    if (!ReadFingerprints(prev->value, "firing", &r.previous_firing) ||
        !ReadFingerprints(prev->value, "resolved", &r.previous_resolved)) {
      return InvalidArgument("notification record: bad previous fingerprints");
    }
  }
  return r;
}

SharedNotificationLog::SharedNotificationLog(KeyValue* kv, Clock* clock, SharedNotificationLogOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {}

std::string SharedNotificationLog::Key(const std::string& integration_key, const std::string& group_key) {
  std::string name = integration_key;
  name.push_back('\0');
  name += group_key;
  return "nflog." + http::Sha256Hex(name);
}

NotificationClaim SharedNotificationLog::Claim(const NotificationClaimRequest& req) {
  bool gc = false;
  {
    MutexLock l(&mu_);
    const int64_t now = clock_->NowMillis();
    if (now >= next_gc_ms_) {
      next_gc_ms_ = now + options_.gc_interval.count();
      gc = true;
    }
  }
  if (gc) (void)GarbageCollect();

  NotificationClaim claim;
  claim.key = Key(req.integration_key, req.group_key);
  auto fail_open = [&](const Status& st) {
    kLog.Warn("shared notification log unreachable; sending without a claim", {{"key", claim.key}, {"err", st}});
    claim.outcome = ClaimOutcome::kSend;
    claim.revision = 0;
    return claim;
  };
  for (int round = 0; round < kMaxRounds; ++round) {
    const int64_t now = clock_->NowMillis();
    NotificationRecord mine;
    mine.state = "sending";
    mine.node = options_.node;
    mine.expires_at_ms = now + req.attempt_ms + options_.claim_grace.count();
    mine.firing = req.firing;
    mine.resolved = req.resolved;
    mine.sent_at_ms = req.flush_ms;

    Result<std::optional<Entry>> e = kv_->Get(claim.key);
    if (!e.ok()) return fail_open(e.status());
    uint64_t revision = 0;
    if (e->has_value()) {
      revision = (*e)->revision;
      Result<NotificationRecord> current = DecodeNotificationRecord((*e)->value);
      if (current.ok()) {
        if (current->state == "sending" && current->expires_at_ms > now) {
          claim.outcome = ClaimOutcome::kBusy;
          return claim;
        }
        std::optional<NflogEntry> last = LastSent(*current);
        if (!alertmanager::NeedsUpdate(last ? &*last : nullptr, req.firing, req.resolved, req.send_resolved,
                                       req.repeat_interval_ms, req.flush_ms)) {
          claim.outcome = ClaimOutcome::kAlreadySent;
          claim.sent = last ? *last : NflogEntry{{}, {}, req.flush_ms, 0};
          return claim;
        }
        if (current->state == "sending") {
          kLog.Warn("taking over a stale notification claim", {{"key", claim.key}, {"node", current->node}});
        }
        if (last) {
          mine.has_previous = true;
          mine.previous_firing = last->firing;
          mine.previous_resolved = last->resolved;
          mine.previous_sent_at_ms = last->timestamp_ms;
        }
      } else {
        kLog.Warn("notification record unreadable; overwriting it", {{"key", claim.key}, {"err", current.status()}});
      }
    }
    const std::string value = EncodeNotificationRecord(mine);
    Result<uint64_t> w = revision == 0 ? kv_->Create(claim.key, value) : kv_->Update(claim.key, value, revision);
    if (w.ok()) {
      claim.outcome = ClaimOutcome::kSend;
      claim.revision = *w;
      claim.value = value;
      return claim;
    }
    if (w.status().code() != StatusCode::kAlreadyExists) return fail_open(w.status());
    // Another server wrote first: read again and decide.
  }
  claim.outcome = ClaimOutcome::kBusy;
  return claim;
}

bool SharedNotificationLog::Renew(NotificationClaim* claim, int64_t attempt_ms) {
  if (claim->revision == 0) return true;  // sending without a claim (store unreachable)
  Result<NotificationRecord> r = DecodeNotificationRecord(claim->value);
  if (!r.ok()) return true;
  r->expires_at_ms = clock_->NowMillis() + attempt_ms + options_.claim_grace.count();
  const std::string value = EncodeNotificationRecord(*r);
  Result<uint64_t> w = kv_->Update(claim->key, value, claim->revision);
  if (w.ok()) {
    claim->revision = *w;
    claim->value = value;
    return true;
  }
  if (w.status().code() == StatusCode::kAlreadyExists) {
    kLog.Warn("notification claim taken over by another server", {{"key", claim->key}});
    return false;
  }
  // Unreachable: carry on (the claim may lapse, and another server may then send too).
  kLog.Warn("renewing a notification claim failed", {{"key", claim->key}, {"err", w.status()}});
  return true;
}

void SharedNotificationLog::Done(const NotificationClaim& claim, const NotificationClaimRequest& req,
                                 bool delivered) {
  if (claim.outcome != ClaimOutcome::kSend || claim.revision == 0) return;
  Result<NotificationRecord> r = DecodeNotificationRecord(claim.value);
  if (!r.ok()) return;
  NotificationRecord out;
  out.node = options_.node;
  if (delivered) {
    out.state = "sent";
    out.firing = req.firing;
    out.resolved = req.resolved;
    out.sent_at_ms = req.flush_ms;
  } else if (r->has_previous) {
    // Give the claim up: the record says again what was sent before.
    out.state = "sent";
    out.firing = r->previous_firing;
    out.resolved = r->previous_resolved;
    out.sent_at_ms = r->previous_sent_at_ms;
  } else {
    out.state = "released";
  }
  Result<uint64_t> w = kv_->Update(claim.key, EncodeNotificationRecord(out), claim.revision);
  if (!w.ok()) {
    // Taken over meanwhile (this server was slower than its claim): the newer record stands.
    kLog.Warn("recording a notification in the shared log failed", {{"key", claim.key}, {"err", w.status()}});
  }
}

size_t SharedNotificationLog::GarbageCollect() {
  Result<std::vector<Entry>> all = kv_->List("nflog.");
  if (!all.ok()) return 0;
  const int64_t cutoff = clock_->NowMillis() - options_.retention.count();
  size_t n = 0;
  for (const Entry& e : *all) {
    Result<NotificationRecord> r = DecodeNotificationRecord(e.value);
    const bool old = !r.ok() || (r->state != "sending" && r->sent_at_ms < cutoff &&
                                 (!r->has_previous || r->previous_sent_at_ms < cutoff));
    if (!old) continue;
    // Not a compare-and-set (the contract has none for deletes): a record rewritten in the
    // instant between List and Delete is lost, which at worst repeats one notification.
    if (kv_->Delete(e.key).ok()) ++n;
  }
  return n;
}

}  // namespace tyto::cluster
