#include "audit/chain.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "common/log.h"
#include "common/units.h"
#include "http/encoding.h"
#include "scrape/text_lexing.h"

namespace tyto::audit {
namespace {

const log::Logger kLog("audit");

constexpr std::string_view kHashKey = ",\"hash\":\"";
// `,"hash":"` + 64 hex digits + `"}`
constexpr size_t kHashSuffixBytes = 9 + 64 + 2;
constexpr std::string_view kHeadMagic = "tyto-audit-head 1 ";

// Cut to the field bound and made valid UTF-8 (each bad byte becomes '?').
std::string Clean(std::string_view s) {
  std::string out;
  if (s.size() > kMaxFieldBytes) {
    out.assign(s.substr(0, kMaxFieldBytes));
    out += "...[" + std::to_string(s.size() - kMaxFieldBytes) + " bytes cut]";
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

bool Reserved(std::string_view k) { return k == "seq" || k == "time" || k == "time_ms" || k == "prev" || k == "hash"; }

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
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

// Calls `fn(line, line_number)` for each complete line, in order, while it returns true. A last
// line without a newline is reported through *torn (its number in *torn_line).
Status ForEachLine(Env* env, const std::string& path, const std::function<bool(std::string_view, uint64_t)>& fn,
                   bool* torn, uint64_t* torn_line) {
  *torn = false;
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
        if (pending.size() > kMaxLineBytes) {
          // Handed over whole so the caller names it; nothing after it is read.
          fn(pending, line_no + 1);
          return Status::Ok();
        }
        break;
      }
      ++line_no;
      bool more;
      if (pending.empty()) {
        more = fn(std::string_view(chunk).substr(start, nl - start), line_no);
      } else {
        pending.append(chunk, start, nl - start);
        more = fn(pending, line_no);
        pending.clear();
      }
      if (!more) return Status::Ok();
      start = nl + 1;
    }
  }
  if (!pending.empty()) {
    *torn = true;
    *torn_line = line_no + 1;
  }
  return Status::Ok();
}

Status WriteHead(Env* env, const std::string& path, uint64_t seq, std::string_view hash) {
  std::string text(kHeadMagic);
  text += std::to_string(seq);
  text += ' ';
  text += hash;
  text += '\n';
  return WriteFileAtomically(env, HeadPath(path), text);
}

}  // namespace

std::string_view Record::Get(std::string_view key) const {
  for (const auto& [k, v] : strings) {
    if (k == key) return v;
  }
  return {};
}

std::string_view ProblemName(Problem p) {
  switch (p) {
    case Problem::kNone: return "none";
    case Problem::kNotARecord: return "not_a_record";
    case Problem::kHashMismatch: return "hash_mismatch";
    case Problem::kPrevMismatch: return "prev_mismatch";
    case Problem::kSequenceGap: return "sequence_gap";
    case Problem::kReordered: return "reordered";
    case Problem::kBadStart: return "bad_start";
    case Problem::kTorn: return "torn";
    case Problem::kTooLong: return "too_long";
    case Problem::kTruncated: return "truncated";
    case Problem::kHeadMismatch: return "head_mismatch";
    case Problem::kBadHead: return "bad_head";
  }
  return "unknown";
}

std::string Verdict::ToString(std::string_view path) const {
  std::string out(path);
  if (intact()) {
    out += ": intact: " + std::to_string(records) + " records";
    if (records > 0) out += ", last seq " + std::to_string(last_seq) + " hash " + last_hash;
    if (head_checked) {
      out += "; head file at seq " + std::to_string(head_seq);
      if (after_head > 0) {
        out += " (" + std::to_string(after_head) +
               " later records not yet confirmed by it: written while verifying, or a crash between the two writes)";
      }
    } else {
      out += "; no head file (a removed tail cannot be detected)";
    }
    return out;
  }
  if (line > 0) out += ":" + std::to_string(line);
  out += ": seq " + std::to_string(seq) + ": " + std::string(ProblemName(problem)) + ": " + detail;
  return out;
}

std::string ParseRecord(std::string_view line, Record* out) {
  std::string covered;
  std::string_view hash;
  if (!SplitHash(line, &covered, &hash)) return "the line does not end in a \"hash\" member";
  rapidjson::Document parsed;
  parsed.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (parsed.HasParseError() || !parsed.IsObject()) return "the line is not a JSON object";
  const rapidjson::Document& doc = parsed;
  auto seq = doc.FindMember("seq");
  if (seq == doc.MemberEnd() || !seq->value.IsUint64()) return "the record has no \"seq\"";
  out->seq = seq->value.GetUint64();
  auto t = doc.FindMember("time_ms");
  out->time_ms = t != doc.MemberEnd() && t->value.IsInt64() ? t->value.GetInt64() : 0;
  out->strings.clear();
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    if (!it->value.IsString()) continue;
    out->strings.emplace_back(std::string(it->name.GetString(), it->name.GetStringLength()),
                              std::string(it->value.GetString(), it->value.GetStringLength()));
  }
  if (!IsHex64(out->Get("prev"))) return "the record has no valid \"prev\"";
  out->hash.assign(hash);
  out->json.assign(line);
  return "";
}

std::string HeadPath(const std::string& path) { return path + ".head"; }

Result<bool> ReadHead(Env* env, const std::string& path, uint64_t* seq, std::string* hash) {
  const std::string head = HeadPath(path);
  if (!env->FileExists(head)) return false;
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(head));
  std::string text;
  TYTO_RETURN_IF_ERROR(file->Read(0, 256, &text));
  // "tyto-audit-head 1 <seq> <64 hex>\n"
  std::string_view rest(text);
  if (!rest.starts_with(kHeadMagic) || !rest.ends_with('\n')) return Corruption(head + ": not an audit head file");
  rest.remove_prefix(kHeadMagic.size());
  rest.remove_suffix(1);
  size_t space = rest.find(' ');
  if (space == std::string_view::npos || space == 0 || space > 20) return Corruption(head + ": not an audit head file");
  uint64_t n = 0;
  for (char c : rest.substr(0, space)) {
    if (c < '0' || c > '9') return Corruption(head + ": not an audit head file");
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  std::string_view h = rest.substr(space + 1);
  if (!IsHex64(h)) return Corruption(head + ": not an audit head file");
  *seq = n;
  hash->assign(h);
  return true;
}

void LineVerifier::SetHead(uint64_t seq, std::string hash) {
  verdict_.head_checked = true;
  verdict_.head_seq = seq;
  head_hash_ = std::move(hash);
  head_seen_ = seq == 0;
}

void LineVerifier::Fail(Problem p, uint64_t line, uint64_t seq, std::string detail) {
  verdict_.problem = p;
  verdict_.line = line;
  verdict_.seq = seq;
  verdict_.detail = std::move(detail);
}

bool LineVerifier::Add(std::string_view line, uint64_t line_no) {
  if (!verdict_.intact()) return false;
  Verdict& v = verdict_;
  if (v.last_hash.empty()) v.last_hash.assign(kZeroHash);
  const uint64_t expected = v.last_seq + 1;
  if (line.size() > kMaxLineBytes) {
    Fail(Problem::kTooLong, line_no, expected, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
    return false;
  }
  Record r;
  std::string problem = ParseRecord(line, &r);
  if (!problem.empty()) {
    Fail(Problem::kNotARecord, line_no, expected, problem);
    return false;
  }
  std::string covered;
  std::string_view hash;
  (void)SplitHash(line, &covered, &hash);
  if (http::Sha256Hex(covered) != hash) {
    Fail(Problem::kHashMismatch, line_no, r.seq, "the record's hash does not match its content (the record was edited)");
    return false;
  }
  const std::string_view prev = r.Get("prev");
  if (v.records == 0) {
    if (r.seq != 1 || prev != kZeroHash) {
      Fail(Problem::kBadStart, line_no, r.seq,
           "the first record is seq " + std::to_string(r.seq) + (prev == kZeroHash ? "" : " with a non-zero prev") +
               ", not seq 1 with a zero prev (records at the start were removed)");
      return false;
    }
  } else if (r.seq > expected) {
    const uint64_t missing = r.seq - expected;
    Fail(Problem::kSequenceGap, line_no, r.seq,
         "seq " + std::to_string(r.seq) + " follows seq " + std::to_string(v.last_seq) + ": " + std::to_string(missing) +
             (missing == 1 ? " record is" : " records are") + " missing");
    return false;
  } else if (r.seq < expected) {
    Fail(Problem::kReordered, line_no, r.seq,
         "seq " + std::to_string(r.seq) + " follows seq " + std::to_string(v.last_seq) +
             " (records were moved, or one was copied)");
    return false;
  } else if (prev != v.last_hash) {
    Fail(Problem::kPrevMismatch, line_no, r.seq,
         "\"prev\" is not the hash of the record before (a record was replaced or inserted)");
    return false;
  }
  if (v.head_checked && r.seq == v.head_seq) {
    if (r.hash != head_hash_) {
      Fail(Problem::kHeadMismatch, line_no, r.seq,
           "the head file records hash " + head_hash_ + " for this seq (the log from here on was rewritten)");
      return false;
    }
    head_seen_ = true;
  }
  ++v.records;
  v.last_seq = r.seq;
  v.last_hash = std::move(r.hash);
  if (v.head_checked && v.last_seq > v.head_seq) v.after_head = v.last_seq - v.head_seq;
  return true;
}

void LineVerifier::Finish(bool torn_tail, uint64_t line_no) {
  if (!verdict_.intact()) return;
  if (verdict_.last_hash.empty()) verdict_.last_hash.assign(kZeroHash);
  if (torn_tail) {
    Fail(Problem::kTorn, line_no, verdict_.last_seq + 1,
         "the last line has no newline (a write cut by a crash; opening the log cuts it off)");
    return;
  }
  if (verdict_.head_checked && !head_seen_) {
    Fail(Problem::kTruncated, 0, verdict_.head_seq,
         "the file ends at seq " + std::to_string(verdict_.last_seq) + " but the head file records seq " +
             std::to_string(verdict_.head_seq) + ": records after " + std::to_string(verdict_.last_seq) +
             " were removed");
  }
}

Result<Verdict> Verify(Env* env, const std::string& path) {
  LineVerifier verifier;
  // The head first: it is written after the log, so read in this order a live log is never
  // behind it.
  uint64_t head_seq = 0;
  std::string head_hash;
  Result<bool> has_head = ReadHead(env, path, &head_seq, &head_hash);
  if (!has_head.ok()) {
    if (has_head.status().code() != StatusCode::kCorruption) return has_head.status();
    Verdict v;
    v.problem = Problem::kBadHead;
    v.detail = has_head.status().message();
    return v;
  }
  if (*has_head) verifier.SetHead(head_seq, std::move(head_hash));
  bool torn = false;
  uint64_t torn_line = 0;
  TYTO_RETURN_IF_ERROR(ForEachLine(
      env, path, [&](std::string_view line, uint64_t line_no) { return verifier.Add(line, line_no); }, &torn,
      &torn_line));
  verifier.Finish(torn, torn_line);
  return verifier.verdict();
}

Status ForEachRecord(Env* env, const std::string& path, const std::function<bool(Record&&)>& fn) {
  if (!env->FileExists(path)) return Status::Ok();
  bool torn = false;
  uint64_t torn_line = 0;
  return ForEachLine(
      env, path,
      [&](std::string_view line, uint64_t line_no) {
        if (line.size() > kMaxLineBytes) return false;
        Record r;
        if (!ParseRecord(line, &r).empty()) return true;
        r.line = line_no;
        return fn(std::move(r));
      },
      &torn, &torn_line);
}

Result<std::unique_ptr<ChainLog>> ChainLog::Open(Env* env, const std::string& path, Clock* clock) {
  std::unique_ptr<ChainLog> log(new ChainLog(env, path, clock));
  std::string last_hash(kZeroHash);
  uint64_t last_seq = 0;
  uint64_t file_size = 0;
  if (env->FileExists(path)) {
    TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
    TYTO_ASSIGN_OR_RETURN(uint64_t size, file->Size());
    // The tail: enough for the last complete line and a torn one after it.
    const uint64_t window = std::min<uint64_t>(size, 2 * kMaxLineBytes + 2);
    std::string tail;
    TYTO_RETURN_IF_ERROR(file->Read(size - window, window, &tail));
    size_t last_nl = tail.rfind('\n');
    uint64_t keep = last_nl == std::string::npos ? size - window : size - window + last_nl + 1;
    if (last_nl == std::string::npos && window < size) {
      return Corruption(path + ": no record boundary in the last " + std::to_string(window) + " bytes");
    }
    if (keep < size) {
      kLog.Warn("cutting a torn last line off the audit log", {{"path", path}, {"bytes", std::to_string(size - keep)}});
      TYTO_RETURN_IF_ERROR(env->TruncateFile(path, keep));
      TYTO_RETURN_IF_ERROR(SyncFile(env, path));
      tail.resize(keep - (size - window));
    }
    file_size = keep;
    if (!tail.empty()) {
      tail.pop_back();  // the newline
      size_t prev_nl = tail.rfind('\n');
      if (prev_nl == std::string::npos && keep > tail.size() + 1) {
        return Corruption(path + ": the last record is longer than " + std::to_string(kMaxLineBytes) + " bytes");
      }
      std::string_view line = prev_nl == std::string::npos ? std::string_view(tail) : std::string_view(tail).substr(prev_nl + 1);
      Record r;
      std::string problem = ParseRecord(line, &r);
      if (!problem.empty()) return Corruption(path + ": last record: " + problem);
      last_hash = r.hash;
      last_seq = r.seq;
    }
  }
  // The head is never ahead of the file (it is written after the record's fsync), and names a
  // record the file holds when it is at the file's end.
  uint64_t head_seq = 0;
  std::string head_hash;
  TYTO_ASSIGN_OR_RETURN(bool has_head, ReadHead(env, path, &head_seq, &head_hash));
  if (has_head && head_seq > last_seq) {
    return Corruption(path + ": the file ends at seq " + std::to_string(last_seq) + " but its head file records seq " +
                      std::to_string(head_seq) + ": the tail of the audit log was removed (`tyto audit verify`; " +
                      "move the log and its .head aside to start a new one)");
  }
  if (has_head && head_seq == last_seq && head_hash != last_hash) {
    return Corruption(path + ": the last record's hash differs from its head file: the audit log was rewritten " +
                      "(`tyto audit verify`; move the log and its .head aside to start a new one)");
  }
  // One record past the head is a crash between the record's fsync and the head's; more were
  // written by something other than ChainLog.
  if (has_head && last_seq > head_seq + 1) {
    return Corruption(path + ": the file ends at seq " + std::to_string(last_seq) + " but its head file records seq " +
                      std::to_string(head_seq) + ": records were appended by something other than Tyto " +
                      "(`tyto audit verify`; move the log and its .head aside to start a new one)");
  }
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> out, env->NewAppendableFile(path));
  if (!has_head || head_seq != last_seq) {
    Status s = WriteHead(env, path, last_seq, last_hash);
    if (!s.ok()) kLog.Warn("cannot write the audit log's head file", {{"path", path}, {"error", s.ToString()}});
  }
  MutexLock l(&log->mu_);
  log->file_ = std::move(out);
  log->size_ = file_size;
  log->last_hash_ = std::move(last_hash);
  log->last_seq_ = last_seq;
  return log;
}

uint64_t ChainLog::last_seq() const {
  MutexLock l(&mu_);
  return last_seq_;
}

Status ChainLog::Append(const Entry& entry, uint64_t* seq) {
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
  for (const auto& [k, v] : entry.strings) {
    if (Reserved(k)) continue;
    Str(w, Clean(k), Clean(v));
  }
  for (const auto& [k, v] : entry.numbers) {
    if (Reserved(k)) continue;
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
  if (line.size() > kMaxLineBytes) return ResourceExhausted("audit record too large");
  Status s = file_->Append(line);
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    // Part of the line may be on disk: cut it off, so the next record starts on a line of its
    // own; if that fails too, the log stays closed (reopening repairs it).
    file_.reset();
    // The cut need not be durable: after a crash, Open cuts a torn line again, and a whole line
    // that comes back is a record of an action that did happen.
    Status cut = env_->TruncateFile(path_, size_);
    if (cut.ok()) {
      auto reopened = env_->NewAppendableFile(path_);
      if (reopened.ok()) file_ = std::move(*reopened);
      else cut = reopened.status();
    }
    if (!cut.ok()) {
      kLog.Error("cannot cut a failed write off the audit log; it stays closed until reopened",
                 {{"path", path_}, {"error", cut.ToString()}});
    }
    return s;
  }
  size_ += line.size();
  ++last_seq_;
  last_hash_ = std::move(hash);
  if (seq != nullptr) *seq = last_seq_;
  Status h = WriteHead(env_, path_, last_seq_, last_hash_);
  if (!h.ok()) kLog.Warn("cannot write the audit log's head file", {{"path", path_}, {"error", h.ToString()}});
  return Status::Ok();
}

}  // namespace tyto::audit
