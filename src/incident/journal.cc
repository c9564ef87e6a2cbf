#include "incident/journal.h"

#include <cstring>

#include "common/coding.h"
#include "common/crc32.h"

namespace tyto::incident::journal {
namespace {

// The type byte of kOpened for a tenant other than "default" (journal.h).
constexpr uint8_t kOpenedInTenant = 8;

using coding::GetLengthPrefixed;
using coding::GetVarint64;
using coding::GetVarintSigned64;
using coding::PutLengthPrefixed;
using coding::PutVarint64;
using coding::PutVarintSigned64;

void PutPairs(std::string* dst, const alertmanager::LabelSet& m) {
  PutVarint64(dst, m.size());
  for (const auto& [k, v] : m) {
    PutLengthPrefixed(dst, k);
    PutLengthPrefixed(dst, v);
  }
}

void PutFields(std::string* dst, const Fields& f) {
  PutVarint64(dst, f.size());
  for (const auto& [k, v] : f) {
    PutLengthPrefixed(dst, k);
    PutLengthPrefixed(dst, v);
  }
}

void PutDouble(std::string* dst, double v) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(bits));
  coding::PutFixed64(dst, bits);
}

// A cursor over one frame's payload; any read past its end marks it failed.
class Reader {
 public:
  Reader(const char* p, const char* end) : p_(p), end_(end) {}
  bool ok() const { return p_ != nullptr; }
  bool done() const { return p_ != nullptr && p_ == end_; }

  uint64_t U64() {
    uint64_t v = 0;
    if (p_ != nullptr) p_ = GetVarint64(p_, end_, &v);
    return v;
  }
  int64_t S64() {
    int64_t v = 0;
    if (p_ != nullptr) p_ = GetVarintSigned64(p_, end_, &v);
    return v;
  }
  uint8_t Byte() {
    if (p_ == nullptr || p_ == end_) {
      p_ = nullptr;
      return 0;
    }
    return static_cast<uint8_t>(*p_++);
  }
  std::string Str() {
    std::string_view s;
    if (p_ != nullptr) p_ = GetLengthPrefixed(p_, end_, &s);
    return p_ != nullptr ? std::string(s) : std::string();
  }
  double Double() {
    if (p_ == nullptr || end_ - p_ < 8) {
      p_ = nullptr;
      return 0;
    }
    const uint64_t bits = coding::DecodeFixed64(p_);
    p_ += 8;
    double v = 0;
    std::memcpy(&v, &bits, sizeof(v));
    return v;
  }
  // A count of items each at least `min_bytes` long: more than the bytes left can hold fails.
  uint64_t Count(size_t min_bytes) {
    const uint64_t n = U64();
    if (p_ != nullptr && n > static_cast<uint64_t>(end_ - p_) / min_bytes) p_ = nullptr;
    return p_ != nullptr ? n : 0;
  }
  alertmanager::LabelSet Pairs() {
    alertmanager::LabelSet m;
    const uint64_t n = Count(2);
    for (uint64_t i = 0; i < n && ok(); ++i) {
      std::string k = Str();
      m[k] = Str();
    }
    return m;
  }
  Fields FieldList() {
    Fields f;
    const uint64_t n = Count(2);
    for (uint64_t i = 0; i < n && ok(); ++i) {
      std::string k = Str();
      f.emplace_back(std::move(k), Str());
    }
    return f;
  }

 private:
  const char* p_;
  const char* end_;
};

void EncodeOp(const Op& op, std::string* out) {
  const bool tenant = op.type == OpType::kOpened && op.tenant != alertmanager::kDefaultTenant;
  out->push_back(static_cast<char>(tenant ? kOpenedInTenant : static_cast<uint8_t>(op.type)));
  PutVarint64(out, op.id);
  switch (op.type) {
    case OpType::kOpened:
      PutVarintSigned64(out, op.time_ms);
      PutLengthPrefixed(out, op.title);
      if (tenant) PutLengthPrefixed(out, op.tenant);
      break;
    case OpType::kAlert:
      PutVarintSigned64(out, op.time_ms);
      PutPairs(out, op.alert.labels);
      PutPairs(out, op.alert.annotations);
      PutVarintSigned64(out, op.alert.starts_at_ms);
      PutVarintSigned64(out, op.alert.ends_at_ms);
      PutLengthPrefixed(out, op.alert.generator_url);
      out->push_back(op.alert.firing ? 1 : 0);
      break;
    case OpType::kEntry:
      PutVarintSigned64(out, op.entry.time_ms);
      out->push_back(static_cast<char>(op.entry.kind));
      PutLengthPrefixed(out, op.entry.by);
      PutLengthPrefixed(out, op.entry.text);
      PutFields(out, op.entry.fields);
      break;
    case OpType::kCorrelations:
      PutVarintSigned64(out, op.time_ms);
      PutVarint64(out, op.correlations.size());
      for (const Correlation& c : op.correlations) {
        PutPairs(out, c.labels);
        PutLengthPrefixed(out, c.kind);
        PutDouble(out, c.score);
        PutDouble(out, c.before);
        PutDouble(out, c.after);
        PutLengthPrefixed(out, c.direction);
      }
      break;
    case OpType::kState:
      out->push_back(static_cast<char>(op.state));
      PutVarintSigned64(out, op.acknowledged_ms);
      PutLengthPrefixed(out, op.acknowledged_by);
      PutVarintSigned64(out, op.resolved_ms);
      PutLengthPrefixed(out, op.resolved_by);
      break;
    case OpType::kForget:
    case OpType::kNextId:
      break;
  }
}

// Decodes one op; false when the bytes do not hold one.
bool DecodeOp(Reader& r, Op* op) {
  const uint8_t type = r.Byte();
  if (!r.ok() || type < static_cast<uint8_t>(OpType::kOpened) ||
      (type > static_cast<uint8_t>(OpType::kNextId) && type != kOpenedInTenant)) {
    return false;
  }
  op->type = type == kOpenedInTenant ? OpType::kOpened : static_cast<OpType>(type);
  op->id = r.U64();
  switch (op->type) {
    case OpType::kOpened:
      op->time_ms = r.S64();
      op->title = r.Str();
      if (type == kOpenedInTenant) {
        op->tenant = r.Str();
        if (op->tenant.empty() || op->tenant == alertmanager::kDefaultTenant) return false;
      }
      break;
    case OpType::kAlert: {
      op->time_ms = r.S64();
      op->alert.labels = r.Pairs();
      op->alert.annotations = r.Pairs();
      op->alert.starts_at_ms = r.S64();
      op->alert.ends_at_ms = r.S64();
      op->alert.generator_url = r.Str();
      const uint8_t firing = r.Byte();
      if (firing > 1) return false;
      op->alert.firing = firing == 1;
      break;
    }
    case OpType::kEntry: {
      op->entry.time_ms = r.S64();
      const uint8_t kind = r.Byte();
      if (kind >= kEntryKinds) return false;
      op->entry.kind = static_cast<EntryKind>(kind);
      op->entry.by = r.Str();
      op->entry.text = r.Str();
      op->entry.fields = r.FieldList();
      break;
    }
    case OpType::kCorrelations: {
      op->time_ms = r.S64();
      const uint64_t n = r.Count(28);
      for (uint64_t i = 0; i < n && r.ok(); ++i) {
        Correlation c;
        c.labels = r.Pairs();
        c.kind = r.Str();
        c.score = r.Double();
        c.before = r.Double();
        c.after = r.Double();
        c.direction = r.Str();
        op->correlations.push_back(std::move(c));
      }
      break;
    }
    case OpType::kState: {
      const uint8_t state = r.Byte();
      if (state > static_cast<uint8_t>(State::kResolved)) return false;
      op->state = static_cast<State>(state);
      op->acknowledged_ms = r.S64();
      op->acknowledged_by = r.Str();
      op->resolved_ms = r.S64();
      op->resolved_by = r.Str();
      break;
    }
    case OpType::kForget:
    case OpType::kNextId:
      break;
  }
  return r.ok();
}

}  // namespace

std::string FileHeader() {
  std::string h;
  coding::PutFixed32(&h, kMagic);
  h.push_back(static_cast<char>(kVersion));
  h.append(3, '\0');
  return h;
}

std::string EncodeFrame(const std::vector<Op>& ops) {
  std::string payload;
  for (const Op& op : ops) EncodeOp(op, &payload);
  std::string frame;
  frame.reserve(kFrameHeaderSize + payload.size());
  coding::PutFixed32(&frame, static_cast<uint32_t>(payload.size()));
  coding::PutFixed32(&frame, Crc32(payload));
  frame += payload;
  return frame;
}

Result<ParsedFile> ParseFile(std::string_view bytes) {
  ParsedFile out;
  if (bytes.empty()) return out;  // created, header not yet written
  if (bytes.size() < kHeaderSize) {
    out.problem = "torn write: the file ends inside its header";
    return out;
  }
  if (bytes.substr(0, kHeaderSize) != FileHeader()) {
    return Corruption("not an incident journal of version " + std::to_string(kVersion) + " (bad header)");
  }
  uint64_t offset = kHeaderSize;
  out.good_bytes = offset;
  while (offset < bytes.size()) {
    const uint64_t left = bytes.size() - offset;
    if (left < kFrameHeaderSize) {
      out.problem = "torn write: the file ends inside a frame header at offset " + std::to_string(offset);
      break;
    }
    const uint32_t length = coding::DecodeFixed32(bytes.data() + offset);
    const uint32_t crc = coding::DecodeFixed32(bytes.data() + offset + 4);
    if (length > kMaxFrameBytes || length > left - kFrameHeaderSize) {
      out.problem = "torn write: a frame of " + std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                    " runs past the end of the file";
      break;
    }
    const std::string_view payload = bytes.substr(offset + kFrameHeaderSize, length);
    if (Crc32(payload) != crc) {
      out.problem = "checksum mismatch in the frame at offset " + std::to_string(offset);
      break;
    }
    std::vector<Op> ops;
    Reader r(payload.data(), payload.data() + payload.size());
    while (!r.done()) {
      Op op;
      if (!DecodeOp(r, &op)) {
        return Corruption("the frame at offset " + std::to_string(offset) +
                          " passes its checksum but does not decode (written by a newer version?)");
      }
      ops.push_back(std::move(op));
    }
    out.frames.push_back(std::move(ops));
    offset += kFrameHeaderSize + length;
    out.good_bytes = offset;
  }
  return out;
}

}  // namespace tyto::incident::journal
