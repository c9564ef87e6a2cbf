#include "cluster/playbook_claims.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "http/encoding.h"

namespace tyto::cluster {
namespace {

const log::Logger kLog("cluster");

constexpr int kMaxRounds = 8;

std::string ReadString(const rapidjson::Value& o, const char* key) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                      : std::string();
}

}  // namespace

std::string EncodePlaybookClaim(const PlaybookClaimRecord& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (const auto& [k, v] : {std::pair<const char*, const std::string*>{"node", &r.node},
                             {"playbook", &r.playbook},
                             {"incident", &r.incident},
                             {"state", &r.state}}) {
    w.Key(k);
    w.String(v->data(), static_cast<rapidjson::SizeType>(v->size()));
  }
  w.Key("claimed_at_ms");
  w.Int64(r.claimed_at_ms);
  w.Key("expires_at_ms");
  w.Int64(r.expires_at_ms);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<PlaybookClaimRecord> DecodePlaybookClaim(std::string_view value) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("playbook claim is not a JSON object");
  const rapidjson::Value& o = d;
  PlaybookClaimRecord r;
  r.node = ReadString(o, "node");
  r.playbook = ReadString(o, "playbook");
  r.incident = ReadString(o, "incident");
  r.state = ReadString(o, "state");
  auto expires = o.FindMember("expires_at_ms");
  if (expires == o.MemberEnd() || !expires->value.IsInt64()) {
    return InvalidArgument("playbook claim: no integer \"expires_at_ms\"");
  }
  r.expires_at_ms = expires->value.GetInt64();
  auto claimed = o.FindMember("claimed_at_ms");
  if (claimed != o.MemberEnd() && claimed->value.IsInt64()) r.claimed_at_ms = claimed->value.GetInt64();
  return r;
}

PlaybookClaims::PlaybookClaims(KeyValue* kv, Clock* clock, PlaybookClaimsOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {}

std::string PlaybookClaims::Key(const std::string& playbook, const alertmanager::LabelSet& alert_labels) {
  std::string name = playbook;
  name.push_back('\0');
  name += std::to_string(alertmanager::Fingerprint(alert_labels));
  return "playbook." + http::Sha256Hex(name);
}

bool PlaybookClaims::Claim(const std::string& playbook, const std::string& incident_id,
                           const alertmanager::Alert& alert, std::chrono::milliseconds cooldown) {
  const std::string key = Key(playbook, alert.labels);
  for (int round = 0; round < kMaxRounds; ++round) {
    const int64_t now = clock_->NowMillis();
    PlaybookClaimRecord mine{options_.node, playbook, incident_id, "running", now,
                             now + std::max(options_.run_ttl, cooldown).count()};
    Result<std::optional<Entry>> e = kv_->Get(key);
    if (!e.ok()) {
      kLog.Warn("playbook claim: store unreachable; not running", {{"playbook", playbook}, {"err", e.status()}});
      return false;
    }
    if (e->has_value()) {
      Result<PlaybookClaimRecord> current = DecodePlaybookClaim((*e)->value);
      // Held by another server and not over: that server runs it.
      if (current.ok() && current->expires_at_ms > now && current->node != options_.node) return false;
    }
    Result<uint64_t> w = e->has_value() ? kv_->Update(key, EncodePlaybookClaim(mine), (*e)->revision)
                                        : kv_->Create(key, EncodePlaybookClaim(mine));
    if (w.ok()) return true;
    if (w.status().code() != StatusCode::kAlreadyExists) {
      kLog.Warn("playbook claim: store unreachable; not running", {{"playbook", playbook}, {"err", w.status()}});
      return false;
    }
  }
  return false;
}

void PlaybookClaims::Finished(const std::string& playbook, const alertmanager::LabelSet& alert_labels,
                              std::chrono::milliseconds cooldown) {
  const std::string key = Key(playbook, alert_labels);
  for (int round = 0; round < kMaxRounds; ++round) {
    Result<std::optional<Entry>> e = kv_->Get(key);
    if (!e.ok() || !e->has_value()) return;
    Result<PlaybookClaimRecord> r = DecodePlaybookClaim((*e)->value);
    if (!r.ok() || r->node != options_.node) return;  // not ours (any more)
    r->state = "finished";
    r->expires_at_ms = clock_->NowMillis() + cooldown.count();
    Result<uint64_t> w = kv_->Update(key, EncodePlaybookClaim(*r), (*e)->revision);
    if (w.ok() || w.status().code() != StatusCode::kAlreadyExists) return;
  }
}

}  // namespace tyto::cluster
