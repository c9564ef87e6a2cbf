#include "cluster/shared_silences.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <utility>

#include "common/log.h"

namespace tyto::cluster {
namespace {

const log::Logger kLog("cluster");

using alertmanager::MatchType;
using alertmanager::Silence;
using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

constexpr size_t kMaxMatchers = 1000;
constexpr int kMaxRounds = 8;

void WriteString(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

bool ReadString(const rapidjson::Value& o, const char* key, std::string* out) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsString()) return false;
  *out = std::string(it->value.GetString(), it->value.GetStringLength());
  return true;
}

bool ReadInt(const rapidjson::Value& o, const char* key, int64_t* out) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsInt64()) return false;
  *out = it->value.GetInt64();
  return true;
}

bool ReadBool(const rapidjson::Value& o, const char* key, bool fallback) {
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsBool() ? it->value.GetBool() : fallback;
}

// Whether `record` (what the store holds) is at least as new as `s`.
bool StoreIsNewer(const std::string& record, const Silence& s) {
  Result<Silence> held = DecodeSilenceRecord(record);
  return held.ok() && held->updated_at >= s.updated_at;
}

}  // namespace

// Matchers as Alertmanager's API v2 writes them: name, value, isRegex, isEqual.
std::string EncodeSilenceRecord(const Silence& s) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  WriteString(w, "id", s.id);
  w.Key("matchers");
  w.StartArray();
  for (const alertmanager::Matcher& m : s.matchers) {
    w.StartObject();
    WriteString(w, "name", m.name());
    WriteString(w, "value", m.value());
    w.Key("isRegex");
    w.Bool(m.type() == MatchType::kRegexMatch || m.type() == MatchType::kRegexNoMatch);
    w.Key("isEqual");
    w.Bool(m.type() == MatchType::kEqual || m.type() == MatchType::kRegexMatch);
    w.EndObject();
  }
  w.EndArray();
  w.Key("starts_at_ms");
  w.Int64(s.starts_at);
  w.Key("ends_at_ms");
  w.Int64(s.ends_at);
  w.Key("updated_at_ms");
  w.Int64(s.updated_at);
  WriteString(w, "created_by", s.created_by);
  WriteString(w, "comment", s.comment);
  WriteString(w, "tenant", s.tenant);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<Silence> DecodeSilenceRecord(std::string_view value) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(value.data(), value.size());
  if (d.HasParseError() || !d.IsObject()) return InvalidArgument("silence record is not a JSON object");
  const rapidjson::Value& o = d;
  Silence s;
  if (!ReadString(o, "id", &s.id) || s.id.empty()) return InvalidArgument("silence record: no \"id\"");
  if (!ReadInt(o, "starts_at_ms", &s.starts_at) || !ReadInt(o, "ends_at_ms", &s.ends_at) ||
      !ReadInt(o, "updated_at_ms", &s.updated_at)) {
    return InvalidArgument("silence record " + s.id + ": starts_at_ms, ends_at_ms and updated_at_ms must be integers");
  }
  (void)ReadString(o, "created_by", &s.created_by);
  (void)ReadString(o, "comment", &s.comment);
  // A record from a server that predates tenants has none: the default tenant's.
  if (o.HasMember("tenant") && (!ReadString(o, "tenant", &s.tenant) || s.tenant.empty())) {
    return InvalidArgument("silence record " + s.id + ": \"tenant\" must be a non-empty string");
  }
  auto ms = o.FindMember("matchers");
  if (ms == o.MemberEnd() || !ms->value.IsArray() || ms->value.Size() > kMaxMatchers) {
    return InvalidArgument("silence record " + s.id + ": \"matchers\" must be an array of at most 1000");
  }
  for (const rapidjson::Value& m : ms->value.GetArray()) {
    std::string name, val;
    if (!m.IsObject() || !ReadString(m, "name", &name) || !ReadString(m, "value", &val)) {
      return InvalidArgument("silence record " + s.id + ": a matcher needs a name and a value");
    }
    const bool regex = ReadBool(m, "isRegex", false);
    const bool equal = ReadBool(m, "isEqual", true);
    const MatchType type = regex ? (equal ? MatchType::kRegexMatch : MatchType::kRegexNoMatch)
                                 : (equal ? MatchType::kEqual : MatchType::kNotEqual);
    Result<alertmanager::Matcher> made = alertmanager::Matcher::Make(type, std::move(name), std::move(val));
    if (!made.ok()) return InvalidArgument("silence record " + s.id + ": " + made.status().message());
    s.matchers.push_back(std::move(made).value());
  }
  return s;
}

SharedSilences::SharedSilences(KeyValue* kv, Clock* clock, SharedSilencesOptions options)
    : kv_(kv), clock_(clock), options_(std::move(options)) {}

SharedSilences::~SharedSilences() { Stop(); }

std::string SharedSilences::Key(const std::string& silence_id) { return "silences." + silence_id; }

Status SharedSilences::Publish(const Silence& silence) {
  const std::string key = Key(silence.id);
  const std::string value = EncodeSilenceRecord(silence);
  for (int round = 0; round < kMaxRounds; ++round) {
    Result<std::optional<Entry>> e = kv_->Get(key);
    if (!e.ok()) {
      kLog.Warn("publishing a silence failed; the next poll retries", {{"silence", silence.id}, {"err", e.status()}});
      return e.status();
    }
    if (e->has_value() && StoreIsNewer((*e)->value, silence)) return Status::Ok();
    Result<uint64_t> w = e->has_value() ? kv_->Update(key, value, (*e)->revision) : kv_->Create(key, value);
    if (w.ok()) return Status::Ok();
    if (w.status().code() != StatusCode::kAlreadyExists) {
      kLog.Warn("publishing a silence failed; the next poll retries", {{"silence", silence.id}, {"err", w.status()}});
      return w.status();
    }
  }
  return Unavailable("silence " + silence.id + ": too many concurrent writes");
}

Status SharedSilences::Sync(alertmanager::Dispatcher* dispatcher) {
  TYTO_ASSIGN_OR_RETURN(std::vector<Entry> entries, kv_->List("silences."));
  const int64_t now = clock_->NowMillis();
  const int64_t cutoff = now - options_.retention.count();
  std::map<std::string, Silence> shared;
  for (const Entry& e : entries) {
    Result<Silence> s = DecodeSilenceRecord(e.value);
    if (!s.ok()) {
      kLog.Warn("unreadable silence record skipped", {{"key", e.key}, {"err", s.status()}});
      continue;
    }
    if (s->ends_at <= cutoff) {
      (void)kv_->Delete(e.key);  // expired long ago; the dispatchers forget it too
      continue;
    }
    if (Status st = dispatcher->ApplySilence(*s); !st.ok()) {
      kLog.Warn("shared silence refused", {{"silence", s->id}, {"err", st}});
    }
    std::string id = s->id;
    shared.emplace(std::move(id), std::move(s).value());
  }
  for (const Silence& local : dispatcher->Silences()) {
    if (local.ends_at <= cutoff) continue;
    auto it = shared.find(local.id);
    if (it != shared.end() && it->second.updated_at >= local.updated_at) continue;
    (void)Publish(local);
  }
  return Status::Ok();
}

void SharedSilences::Start(alertmanager::Dispatcher* dispatcher) {
  if (thread_.joinable()) return;
  {
    MutexLock l(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, dispatcher] {
    while (true) {
      if (Status s = Sync(dispatcher); !s.ok()) kLog.Warn("reading shared silences failed", {{"err", s}});
      MutexLock l(&mu_);
      if (stop_) return;
      cv_.wait_for(mu_.native(), options_.poll_interval);
      if (stop_) return;
    }
  });
}

void SharedSilences::Stop() {
  {
    MutexLock l(&mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tyto::cluster
