#include "alertmanager/store.h"

#include <algorithm>

#include "common/coding.h"
#include "common/crc32.h"

namespace tyto::alertmanager {

using namespace tyto::coding;  // NOLINT(google-build-using-namespace)

namespace {

constexpr std::string_view kMagic = "TYTOAMS1";
constexpr char kKindSilences = 'S';         // before tenants: every silence is the default tenant's
constexpr char kKindTenantSilences = 'T';   // each silence ends with its tenant
constexpr char kKindNflog = 'N';
// magic, kind, payload length (fixed64), payload, CRC-32 (fixed32).
constexpr size_t kHeader = 8 + 1 + 8;
constexpr size_t kTrailer = 4;

std::string Frame(char kind, const std::string& payload) {
  std::string out(kMagic);
  out.push_back(kind);
  PutFixed64(&out, payload.size());
  out += payload;
  PutFixed32(&out, Crc32(out));
  return out;
}

// The payload of a snapshot of one of `kinds`; `*kind` gets which.
Result<std::string_view> Unframe(std::string_view data, std::string_view kinds, char* kind) {
  if (data.size() < kHeader + kTrailer) return Corruption("snapshot truncated: " + std::to_string(data.size()) + " bytes");
  if (data.substr(0, kMagic.size()) != kMagic) return Corruption("snapshot has a bad magic number");
  if (kinds.find(data[8]) == std::string_view::npos) {
    return Corruption(std::string("snapshot of kind '") + data[8] + "', expected one of '" + std::string(kinds) + "'");
  }
  *kind = data[8];
  const uint64_t len = DecodeFixed64(data.data() + 9);
  if (len != data.size() - kHeader - kTrailer) {
    return Corruption("snapshot payload length " + std::to_string(len) + " does not match the file size " +
                      std::to_string(data.size()));
  }
  const uint32_t want = DecodeFixed32(data.data() + data.size() - kTrailer);
  if (Crc32(data.substr(0, data.size() - kTrailer)) != want) return Corruption("snapshot checksum mismatch");
  return data.substr(kHeader, static_cast<size_t>(len));
}

Status Truncated(std::string_view what) { return Corruption("snapshot record truncated in " + std::string(what)); }

}  // namespace

std::string EncodeSilences(const std::vector<Silence>& silences) {
  std::string p;
  PutVarint64(&p, silences.size());
  for (const Silence& s : silences) {
    PutLengthPrefixed(&p, s.id);
    PutVarint64(&p, s.matchers.size());
    for (const Matcher& m : s.matchers) {
      p.push_back(static_cast<char>(m.type()));
      PutLengthPrefixed(&p, m.name());
      PutLengthPrefixed(&p, m.value());
    }
    PutVarintSigned64(&p, s.starts_at);
    PutVarintSigned64(&p, s.ends_at);
    PutVarintSigned64(&p, s.updated_at);
    PutLengthPrefixed(&p, s.created_by);
    PutLengthPrefixed(&p, s.comment);
    PutLengthPrefixed(&p, s.tenant);
  }
  return Frame(kKindTenantSilences, p);
}

Result<std::vector<Silence>> DecodeSilences(std::string_view data) {
  char kind = 0;
  constexpr char kKinds[] = {kKindSilences, kKindTenantSilences, '\0'};
  TYTO_ASSIGN_OR_RETURN(std::string_view payload, Unframe(data, kKinds, &kind));
  const char* p = payload.data();
  const char* end = p + payload.size();
  uint64_t count = 0;
  if ((p = GetVarint64(p, end, &count)) == nullptr) return Truncated("the silence count");
  // Every silence takes at least 7 bytes: a bound that needs no trust in `count`.
  if (count > payload.size() / 7) return Corruption("snapshot silence count " + std::to_string(count) + " too large");
  std::vector<Silence> out;
  out.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    Silence s;
    std::string_view id, created_by, comment;
    uint64_t matchers = 0;
    if ((p = GetLengthPrefixed(p, end, &id)) == nullptr) return Truncated("a silence id");
    if ((p = GetVarint64(p, end, &matchers)) == nullptr) return Truncated("a matcher count");
    if (matchers > static_cast<uint64_t>(end - p) / 3) return Corruption("snapshot matcher count too large");
    s.id = std::string(id);
    for (uint64_t j = 0; j < matchers; ++j) {
      if (p >= end) return Truncated("a matcher");
      const auto type = static_cast<uint8_t>(*p++);
      if (type > static_cast<uint8_t>(MatchType::kRegexNoMatch)) return Corruption("snapshot matcher type unknown");
      std::string_view name, value;
      if ((p = GetLengthPrefixed(p, end, &name)) == nullptr) return Truncated("a matcher name");
      if ((p = GetLengthPrefixed(p, end, &value)) == nullptr) return Truncated("a matcher value");
      auto m = Matcher::Make(static_cast<MatchType>(type), std::string(name), std::string(value));
      if (!m.ok()) return Corruption("snapshot silence " + s.id + ": " + m.status().message());
      s.matchers.push_back(std::move(*m));
    }
    if ((p = GetVarintSigned64(p, end, &s.starts_at)) == nullptr) return Truncated("a start time");
    if ((p = GetVarintSigned64(p, end, &s.ends_at)) == nullptr) return Truncated("an end time");
    if ((p = GetVarintSigned64(p, end, &s.updated_at)) == nullptr) return Truncated("an update time");
    if ((p = GetLengthPrefixed(p, end, &created_by)) == nullptr) return Truncated("created_by");
    if ((p = GetLengthPrefixed(p, end, &comment)) == nullptr) return Truncated("a comment");
    s.created_by = std::string(created_by);
    s.comment = std::string(comment);
    if (kind == kKindTenantSilences) {
      std::string_view tenant;
      if ((p = GetLengthPrefixed(p, end, &tenant)) == nullptr) return Truncated("a tenant");
      if (tenant.empty()) return Corruption("snapshot silence " + s.id + " has an empty tenant");
      s.tenant = std::string(tenant);
    }
    out.push_back(std::move(s));
  }
  if (p != end) return Corruption("snapshot has trailing bytes after the silences");
  return out;
}

std::string EncodeNflog(const NotificationLog& log) {
  std::string p;
  PutVarint64(&p, log.size());
  for (const auto& [key, e] : log.entries()) {
    PutLengthPrefixed(&p, key.first);
    PutLengthPrefixed(&p, key.second);
    PutVarintSigned64(&p, e.timestamp_ms);
    PutVarintSigned64(&p, e.expires_at_ms);
    PutVarint64(&p, e.firing.size());
    for (uint64_t fp : e.firing) PutFixed64(&p, fp);
    PutVarint64(&p, e.resolved.size());
    for (uint64_t fp : e.resolved) PutFixed64(&p, fp);
  }
  return Frame(kKindNflog, p);
}

Result<NotificationLog> DecodeNflog(std::string_view data) {
  char kind = 0;
  TYTO_ASSIGN_OR_RETURN(std::string_view payload, Unframe(data, "N", &kind));
  const char* p = payload.data();
  const char* end = p + payload.size();
  uint64_t count = 0;
  if ((p = GetVarint64(p, end, &count)) == nullptr) return Truncated("the entry count");
  if (count > payload.size() / 6) return Corruption("snapshot entry count " + std::to_string(count) + " too large");
  NotificationLog log;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view group_key, integration_key;
    NflogEntry e;
    if ((p = GetLengthPrefixed(p, end, &group_key)) == nullptr) return Truncated("a group key");
    if ((p = GetLengthPrefixed(p, end, &integration_key)) == nullptr) return Truncated("an integration key");
    if ((p = GetVarintSigned64(p, end, &e.timestamp_ms)) == nullptr) return Truncated("a timestamp");
    if ((p = GetVarintSigned64(p, end, &e.expires_at_ms)) == nullptr) return Truncated("an expiry");
    for (std::vector<uint64_t>* fps : {&e.firing, &e.resolved}) {
      uint64_t n = 0;
      if ((p = GetVarint64(p, end, &n)) == nullptr) return Truncated("a fingerprint count");
      if (n > static_cast<uint64_t>(end - p) / 8) return Truncated("the fingerprints");
      fps->reserve(static_cast<size_t>(n));
      for (uint64_t j = 0; j < n; ++j, p += 8) fps->push_back(DecodeFixed64(p));
      std::sort(fps->begin(), fps->end());
    }
    log.Log(std::string(group_key), std::string(integration_key), std::move(e));
  }
  if (p != end) return Corruption("snapshot has trailing bytes after the log entries");
  return log;
}

Status WriteSnapshot(Env* env, const std::string& dir, const std::string& name, std::string_view data) {
  TYTO_RETURN_IF_ERROR(env->CreateDirs(dir));
  return WriteFileAtomically(env, dir + "/" + name, data);
}

Result<std::string> ReadSnapshot(Env* env, const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  if (!env->FileExists(path)) return NotFound(path + " does not exist");
  return env->ReadFile(path);
}

}  // namespace tyto::alertmanager
