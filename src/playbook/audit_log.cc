#include "playbook/audit_log.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <deque>
#include <functional>

#include "common/units.h"
#include "http/encoding.h"
#include "scrape/text_lexing.h"

namespace tyto::playbook {
namespace {

constexpr std::string_view kZeroHash = "0000000000000000000000000000000000000000000000000000000000000000";
constexpr std::string_view kHashKey = ",\"hash\":\"";
// `,"hash":"` + 64 hex digits + `"}`
constexpr size_t kHashSuffixBytes = 9 + 64 + 2;

// Cut to the field bound and made valid UTF-8 (each bad byte becomes '?').
std::string Clean(std::string_view s) {
  std::string out;
  if (s.size() > kMaxAuditFieldBytes) {
    out.assign(s.substr(0, kMaxAuditFieldBytes));
    out += "...[" + std::to_string(s.size() - kMaxAuditFieldBytes) + " bytes cut]";
  } else {
    out.assign(s);
  }
  size_t from = 0;
  while (from < out.size()) {
    size_t bad = from + scrape::FindInvalidUtf8(std::string_view(out).substr(from));
    if (bad >= out.size()) break;
    out[bad] = '?';
    from = bad + 1;
  }
  return out;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Splits a record line into the part its hash covers (the object without "hash", closed) and
// the hash written; false when the line does not end in the hash member.
bool SplitHash(std::string_view line, std::string* covered, std::string_view* hash) {
  if (line.size() < kHashSuffixBytes + 2 || line.back() != '}') return false;
  std::string_view tail = line.substr(line.size() - kHashSuffixBytes);
  if (!tail.starts_with(kHashKey) || !tail.ends_with("\"}")) return false;
  *hash = tail.substr(kHashKey.size(), 64);
  if (!IsHex64(*hash)) return false;
  covered->assign(line.substr(0, line.size() - kHashSuffixBytes));
  covered->push_back('}');
  return true;
}

struct Parsed {
  AuditRecord record;
  std::string prev;
  std::string hash;
};

// Parses a record line; an error message when it is not one.
std::string ParseLine(std::string_view line, Parsed* out) {
  std::string covered;
  std::string_view hash;
  if (!SplitHash(line, &covered, &hash)) return "the line does not end in a \"hash\" member";
  rapidjson::Document parsed;
  parsed.Parse(line.data(), line.size());
  if (parsed.HasParseError() || !parsed.IsObject()) return "the line is not a JSON object";
  const rapidjson::Document& doc = parsed;
  auto str = [&doc](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString(), it->value.GetStringLength())
                                                         : std::string();
  };
  auto seq = doc.FindMember("seq");
  if (seq == doc.MemberEnd() || !seq->value.IsUint64()) return "the record has no \"seq\"";
  out->record.seq = seq->value.GetUint64();
  auto t = doc.FindMember("time_ms");
  if (t != doc.MemberEnd() && t->value.IsInt64()) out->record.time_ms = t->value.GetInt64();
  out->record.type = str("type");
  out->record.run_id = str("run");
  out->record.incident_id = str("incident");
  out->record.playbook = str("playbook");
  out->record.json.assign(line);
  out->prev = str("prev");
  out->hash.assign(hash);
  if (!IsHex64(out->prev)) return "the record has no valid \"prev\"";
  return "";
}

// Calls `fn(line, line_number)` for each complete line, in order; stops at the first error it
// returns. A last line without a newline is passed too when `partial_tail` is true.
Status ForEachLine(Env* env, const std::string& path,
                   const std::function<Status(std::string_view, uint64_t)>& fn) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
  TYTO_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  constexpr size_t kChunk = 1 << 20;
  std::string pending;
  std::string chunk;
  uint64_t line_no = 0;
  for (uint64_t offset = 0; offset < size;) {
    TYTO_RETURN_IF_ERROR(file->Read(offset, kChunk, &chunk));
    if (chunk.empty()) break;
    offset += chunk.size();
    size_t start = 0;
    while (true) {
      size_t nl = chunk.find('\n', start);
      if (nl == std::string::npos) {
        pending.append(chunk, start, std::string::npos);
        if (pending.size() > kMaxAuditLineBytes) {
          return Corruption(path + ":" + std::to_string(line_no + 1) + ": line longer than " +
                            std::to_string(kMaxAuditLineBytes) + " bytes");
        }
        break;
      }
      ++line_no;
      if (pending.empty()) {
        TYTO_RETURN_IF_ERROR(fn(std::string_view(chunk).substr(start, nl - start), line_no));
      } else {
        pending.append(chunk, start, nl - start);
        TYTO_RETURN_IF_ERROR(fn(pending, line_no));
        pending.clear();
      }
      start = nl + 1;
    }
  }
  if (!pending.empty()) {
    return Corruption(path + ":" + std::to_string(line_no + 1) + ": the last line has no newline (torn write)");
  }
  return Status::Ok();
}

}  // namespace


Result<std::unique_ptr<AuditLog>> AuditLog::Open(Env* env, const std::string& path, Clock* clock) {
  std::unique_ptr<AuditLog> log(new AuditLog(env, path, clock));
  std::string last_hash(kZeroHash);
  uint64_t last_seq = 0;
  if (env->FileExists(path)) {
    TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
    TYTO_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    // The tail: enough for the last complete line and a torn one after it.
    const uint64_t window = std::min<uint64_t>(size, 2 * kMaxAuditLineBytes + 2);
    std::string tail;
    TYTO_RETURN_IF_ERROR(file->Read(size - window, window, &tail));
    size_t last_nl = tail.rfind('\n');
    uint64_t keep = last_nl == std::string::npos ? size - window : size - window + last_nl + 1;
    if (last_nl == std::string::npos && window < size) {
      return Corruption(path + ": no record boundary in the last " + std::to_string(window) + " bytes");
    }
    if (keep < size) {
      TYTO_RETURN_IF_ERROR(env->TruncateFile(path, keep));
      TYTO_RETURN_IF_ERROR(SyncFile(env, path));
      tail.resize(keep - (size - window));
    }
    if (!tail.empty()) {
      tail.pop_back();  // the newline
      size_t prev_nl = tail.rfind('\n');
      if (prev_nl == std::string::npos && keep > tail.size() + 1) {
        return Corruption(path + ": the last record is longer than " + std::to_string(kMaxAuditLineBytes) + " bytes");
      }
      std::string_view line = prev_nl == std::string::npos ? std::string_view(tail) : std::string_view(tail).substr(prev_nl + 1);
      Parsed p;
      std::string problem = ParseLine(line, &p);
      if (!problem.empty()) return Corruption(path + ": last record: " + problem);
      last_hash = p.hash;
      last_seq = p.record.seq;
    }
  }
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env->NewAppendableFile(path));
  MutexLock l(&log->mu_);
  log->file_ = std::move(out);
  log->last_hash_ = std::move(last_hash);
  log->last_seq_ = last_seq;
  return log;
}

Status AuditLog::Append(const AuditEntry& entry) {
  MutexLock l(&mu_);
  if (file_ == nullptr) return FailedPrecondition("audit log " + path_ + " is closed");
  const int64_t now = clock_->NowMillis();
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("seq");
  w.Uint64(last_seq_ + 1);
  Str(w, "time", FormatTimestamp(now));
  w.Key("time_ms");
  w.Int64(now);
  Str(w, "type", Clean(entry.type));
  if (!entry.run_id.empty()) Str(w, "run", Clean(entry.run_id));
  if (!entry.incident_id.empty()) Str(w, "incident", Clean(entry.incident_id));
  if (!entry.playbook.empty()) Str(w, "playbook", Clean(entry.playbook));
  for (const auto& [k, v] : entry.strings) {
    if (k == "seq" || k == "prev" || k == "hash") continue;  // reserved
    Str(w, Clean(k), Clean(v));
  }
  for (const auto& [k, v] : entry.numbers) {
    if (k == "seq" || k == "prev" || k == "hash") continue;
    const std::string key = Clean(k);
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    w.Int64(v);
  }
  Str(w, "prev", last_hash_);
  w.EndObject();
  std::string covered(buf.GetString(), buf.GetSize());
  std::string hash = http::Sha256Hex(covered);
  std::string line = covered.substr(0, covered.size() - 1);
  line.append(kHashKey);
  line.append(hash);
  line.append("\"}\n");
  if (line.size() > kMaxAuditLineBytes) return ResourceExhausted("audit record too large");
  Status s = file_->Append(line);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) return s;
  ++last_seq_;
  last_hash_ = std::move(hash);
  return Status::Ok();
}

Result<std::vector<AuditRecord>> AuditLog::Read(const AuditFilter& filter) const {
  return ReadAuditLog(env_, path_, filter);
}

Result<std::vector<AuditRecord>> ReadAuditLog(Env* env, const std::string& path, const AuditFilter& filter) {
  std::deque<AuditRecord> kept;
  const size_t limit = std::min(filter.limit, kMaxAuditReadLimit);
  if (!env->FileExists(path) || limit == 0) return std::vector<AuditRecord>{};
  Status s = ForEachLine(env, path, [&](std::string_view line, uint64_t) {
    if (!filter.run_id.empty() && line.find(filter.run_id) == std::string_view::npos) return Status::Ok();
    if (!filter.incident_id.empty() && line.find(filter.incident_id) == std::string_view::npos) return Status::Ok();
    Parsed p;
    if (!ParseLine(line, &p).empty()) return Status::Ok();  // VerifyAuditLog reports these
    if (!filter.run_id.empty() && p.record.run_id != filter.run_id) return Status::Ok();
    if (!filter.incident_id.empty() && p.record.incident_id != filter.incident_id) return Status::Ok();
    kept.push_back(std::move(p.record));
    if (kept.size() > limit) kept.pop_front();
    return Status::Ok();
  });
  // A torn last line (being written, or cut by a crash) ends the read; what came before stands.
  if (!s.ok() && s.code() != StatusCode::kCorruption) return s;
  return std::vector<AuditRecord>(std::make_move_iterator(kept.begin()), std::make_move_iterator(kept.end()));
}

Status VerifyAuditLog(Env* env, const std::string& path, uint64_t* records) {
  std::string prev(kZeroHash);
  uint64_t seq = 0;
  uint64_t count = 0;
  TYTO_RETURN_IF_ERROR(ForEachLine(env, path, [&](std::string_view line, uint64_t line_no) {
    const std::string where = path + ":" + std::to_string(line_no) + ": ";
    Parsed p;
    std::string problem = ParseLine(line, &p);
    if (!problem.empty()) return Corruption(where + problem);
    std::string covered;
    std::string_view hash;
    (void)SplitHash(line, &covered, &hash);
    if (http::Sha256Hex(covered) != hash) return Corruption(where + "the record's hash does not match its content");
    if (p.prev != prev) return Corruption(where + "\"prev\" is not the hash of the record before (removed or reordered)");
    if (count > 0 && p.record.seq != seq + 1) {
      return Corruption(where + "seq " + std::to_string(p.record.seq) + " follows " + std::to_string(seq));
    }
    prev = p.hash;
    seq = p.record.seq;
    ++count;
    return Status::Ok();
  }));
  if (records != nullptr) *records = count;
  return Status::Ok();
}

}  // namespace tyto::playbook
