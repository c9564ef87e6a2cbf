// The incident journal: an append-only file of checksummed frames, each holding the changes
// one call made to one incident, replayed at start. Byte layout: docs/format/incidents.md.
//
// Pure encoding and decoding; the tracker (tracker.h) owns the file and applies the changes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "incident/incident.h"
#include "tyto/status.h"

namespace tyto::incident::journal {

inline constexpr uint32_t kMagic = 0x4A495954;  // "TYIJ" in file byte order
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderSize = 8;        // magic, version, 3 zero bytes
inline constexpr size_t kFrameHeaderSize = 8;   // payload length, CRC-32 of the payload
inline constexpr uint32_t kMaxFrameBytes = 16u << 20;

enum class OpType : uint8_t {
  kOpened = 1,        // id, time, title: a new incident, state open
  kAlert = 2,         // id, time, the alert: added, or replaces the one with the same labels
  kEntry = 3,         // id, a timeline entry appended
  kCorrelations = 4,  // id, time, the ranked series (replace the previous ones)
  kState = 5,         // id, state, acknowledged at/by, resolved at/by
  kForget = 6,        // id: pruned, gone from memory
  kNextId = 7,        // id: the next incident's id (kept across a rewrite that drops the newest)
  // 8 on disk: kOpened with a tenant other than "default" (docs/format/incidents.md); read back as
  // kOpened with Op::tenant set.
};

// One change. Only the members its type names are meaningful.
struct Op {
  OpType type = OpType::kOpened;
  uint64_t id = 0;
  int64_t time_ms = 0;
  std::string title;
  std::string tenant = std::string(alertmanager::kDefaultTenant);  // kOpened: whose incident
  IncidentAlert alert;
  TimelineEntry entry;
  std::vector<Correlation> correlations;
  State state = State::kOpen;
  int64_t acknowledged_ms = 0;
  std::string acknowledged_by;
  int64_t resolved_ms = 0;
  std::string resolved_by;
};

// The 8-byte file header.
std::string FileHeader();

// One frame holding `ops` in order: length, CRC-32 (src/common/crc32.h) of the payload, payload.
std::string EncodeFrame(const std::vector<Op>& ops);

struct ParsedFile {
  std::vector<std::vector<Op>> frames;  // in file order
  uint64_t good_bytes = 0;              // header and intact frames: the file is cut here
  std::string problem;                  // why the rest was not read; empty when all was read
};

// Reads a whole journal. A missing or torn header, a frame running past the end, or a checksum
// mismatch ends the reading there (`problem` says which and where) so the caller truncates the
// damaged tail. A frame whose checksum holds but whose contents do not decode is kCorruption:
// written by a newer version or a bug, not by a crash, so nothing is silently dropped.
Result<ParsedFile> ParseFile(std::string_view bytes);

}  // namespace tyto::incident::journal
