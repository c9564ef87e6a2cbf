// The WAL directory as a whole: listing segments, cutting the log at damage, dropping old
// segments.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "tsdb/wal/format.h"
#include "tsdb/wal/wal.h"

namespace tyto::tsdb::wal {
namespace {

constexpr size_t kMinNameDigits = 8;

bool AllDigits(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses a canonical segment name: at least 8 digits, zero-padded to 8 and no further.
bool ParseSegmentName(std::string_view name, uint64_t* segment) {
  if (name.size() < kMinNameDigits) return false;
  if (name.size() > kMinNameDigits && name[0] == '0') return false;
  uint64_t v = 0;
  for (char c : name) {
    auto digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *segment = v;
  return true;
}

}  // namespace

std::string SegmentName(uint64_t segment) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08" PRIu64, segment);
  return name;
}

std::string SegmentPath(const std::string& dir, uint64_t segment) { return dir + "/" + SegmentName(segment); }

Result<std::vector<uint64_t>> ListSegments(Env* env, const std::string& dir) {
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  std::vector<uint64_t> segments;
  for (const std::string& name : names) {
    if (!AllDigits(name)) continue;
    uint64_t segment = 0;
    if (!ParseSegmentName(name, &segment)) {
      std::string message = "wal directory " + dir;
      message += " holds '" + name + "', which looks like a segment but is not a valid segment name";
      message += " (8 or more decimal digits, zero-padded to 8 only, below 2^64); move it away";
      return Corruption(std::move(message));
    }
    segments.push_back(segment);
  }
  std::sort(segments.begin(), segments.end());
  return segments;
}

Result<std::string> Repair(Env* env, const std::string& dir, Position damage) {
  TYTO_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(env, dir));
  std::string what;
  bool damaged_exists = std::binary_search(segments.begin(), segments.end(), damage.segment);
  if (damaged_exists) {
    std::string path = SegmentPath(dir, damage.segment);
    TYTO_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
    if (damage.offset > size) {
      return InvalidArgument("wal repair: offset " + std::to_string(damage.offset) + " is beyond the end of " + path +
                             " (" + std::to_string(size) + " bytes)");
    }
    // Part of a header is useless: a reader would report it as a torn write again.
    uint64_t cut = damage.offset < format::kSegmentHeaderSize ? 0 : damage.offset;
    TYTO_RETURN_IF_ERROR(env->TruncateFile(path, cut));
    TYTO_RETURN_IF_ERROR(SyncFile(env, path));
    what = "truncated " + path + " at offset " + std::to_string(cut) + ", dropping " + std::to_string(size - cut) +
           " bytes";
  } else {
    what = "segment " + SegmentName(damage.segment) + " is missing";
  }

  uint64_t later_bytes = 0;
  std::vector<uint64_t> later;
  for (uint64_t s : segments) {
    if (s > damage.segment) later.push_back(s);
  }
  // Newest first, so that a crash part-way never leaves a gap in front of surviving segments.
  for (auto it = later.rbegin(); it != later.rend(); ++it) {
    std::string path = SegmentPath(dir, *it);
    TYTO_ASSIGN_OR_RETURN(uint64_t size, env->FileSize(path));
    TYTO_RETURN_IF_ERROR(env->RemoveFile(path));
    later_bytes += size;
  }
  if (later.empty()) {
    what += "; no later segments";
  } else {
    what += "; deleted " + std::to_string(later.size()) + " later segment" + (later.size() == 1 ? "" : "s") + " (" +
            SegmentName(later.front()) + (later.size() == 1 ? "" : "-" + SegmentName(later.back())) + ", " +
            std::to_string(later_bytes) + " bytes)";
  }
  if (!later.empty()) TYTO_RETURN_IF_ERROR(env->SyncDir(dir));
  return what;
}

Status DeleteSegmentsBefore(Env* env, const std::string& dir, uint64_t segment) {
  TYTO_ASSIGN_OR_RETURN(std::vector<uint64_t> segments, ListSegments(env, dir));
  bool deleted = false;
  for (uint64_t s : segments) {  // ascending: oldest first
    if (s >= segment) break;
    TYTO_RETURN_IF_ERROR(env->RemoveFile(SegmentPath(dir, s)));
    deleted = true;
  }
  if (deleted) TYTO_RETURN_IF_ERROR(env->SyncDir(dir));
  return Status::Ok();
}

}  // namespace tyto::tsdb::wal
