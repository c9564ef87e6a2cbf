#include "forward/disk_queue.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <utility>
#include <vector>

#include "common/coding.h"
#include "common/crc32.h"
#include "common/log.h"

namespace tyto::forward {
namespace {

const log::Logger kLog("forward");

// docs/format/agent-queue.md
constexpr uint32_t kSegmentMagic = 0x53515954;  // "TYQS" in file byte order
constexpr uint32_t kCursorMagic = 0x43515954;   // "TYQC"
constexpr uint8_t kVersion = 1;
constexpr size_t kCursorSize = 28;
// Payloads are checked in pieces of this size at Open, so a large record needs no large buffer.
constexpr size_t kScanChunk = 64 * 1024;

std::string SegmentHeader(uint64_t number) {
  std::string h;
  coding::PutFixed32(&h, kSegmentMagic);
  h.push_back(static_cast<char>(kVersion));
  h.append(3, '\0');
  coding::PutFixed64(&h, number);
  return h;
}

// The CRC stored in a record: over its length and sample count fields, then the payload.
uint32_t RecordCrc(std::string_view length_and_samples, std::string_view payload) {
  return Crc32(payload, Crc32(length_and_samples));
}

std::string EncodeCursor(QueuePosition p) {
  std::string c;
  coding::PutFixed32(&c, kCursorMagic);
  c.push_back(static_cast<char>(kVersion));
  c.append(3, '\0');
  coding::PutFixed64(&c, p.segment);
  coding::PutFixed64(&c, p.offset);
  coding::PutFixed32(&c, Crc32(c));
  return c;
}

// The cursor, or an error naming what is wrong with the file's bytes.
Result<QueuePosition> DecodeCursor(std::string_view c) {
  if (c.size() != kCursorSize) {
    return Corruption("is " + std::to_string(c.size()) + " bytes, not " + std::to_string(kCursorSize));
  }
  if (coding::DecodeFixed32(c.data()) != kCursorMagic) return Corruption("has a bad magic number");
  if (static_cast<uint8_t>(c[4]) != kVersion) {
    return Corruption("has version " + std::to_string(static_cast<uint8_t>(c[4])) + ", not " +
                      std::to_string(kVersion));
  }
  if (coding::DecodeFixed32(c.data() + 24) != Crc32(c.substr(0, 24))) return Corruption("fails its checksum");
  return QueuePosition{coding::DecodeFixed64(c.data() + 8), coding::DecodeFixed64(c.data() + 16)};
}

std::string SegmentName(uint64_t number) {
  char name[32];
  std::snprintf(name, sizeof(name), "%08" PRIu64, number);
  return name;
}

// Segment numbers in `dir`: the names made only of digits, ascending.
Result<std::vector<uint64_t>> ListSegments(Env* env, const std::string& dir) {
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  std::vector<uint64_t> numbers;
  for (const std::string& name : names) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
    if (ec != std::errc() || end != name.data() + name.size()) continue;  // over 2^64: not ours
    numbers.push_back(n);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

}  // namespace

Result<FsyncMode> ParseFsyncMode(std::string_view text) {
  if (text == "always") return FsyncMode::kAlways;
  if (text == "interval") return FsyncMode::kInterval;
  return InvalidArgument("fsync mode \"" + std::string(text) + "\": want \"always\" or \"interval\"");
}

DiskQueue::DiskQueue(Env* env, Clock* clock, std::string dir, DiskQueueOptions options, Metrics* metrics)
    : env_(env),
      clock_(clock != nullptr ? clock : Clock::Real()),
      dir_(std::move(dir)),
      options_(options),
      own_registry_(metrics == nullptr ? std::make_unique<instrumentation::Registry>() : nullptr),
      own_metrics_(metrics == nullptr ? std::make_unique<Metrics>(own_registry_.get()) : nullptr),
      metrics_(metrics != nullptr ? metrics : own_metrics_.get()) {}

DiskQueue::~DiskQueue() {
  if (Status s = Close(); !s.ok()) kLog.Error("closing the agent queue failed", {{"dir", dir_}, {"error", s}});
}

std::string DiskQueue::SegmentPath(uint64_t number) const { return dir_ + "/" + SegmentName(number); }

Result<std::unique_ptr<DiskQueue>> DiskQueue::Open(Env* env, Clock* clock, const std::string& dir,
                                                   DiskQueueOptions options, Metrics* metrics) {
  if (options.segment_bytes < 4096) {
    return InvalidArgument("agent queue segment size " + std::to_string(options.segment_bytes) +
                           " bytes is below the minimum of 4096");
  }
  if (options.max_bytes / 2 < options.segment_bytes) {
    return InvalidArgument("agent queue max size " + std::to_string(options.max_bytes) +
                           " bytes must be at least twice the segment size (" + std::to_string(options.segment_bytes) +
                           " bytes)");
  }
  if (options.fsync_interval.count() < 0) return InvalidArgument("agent queue fsync interval must not be negative");
  std::unique_ptr<DiskQueue> q(new DiskQueue(env, clock, WithoutTrailingSlashes(dir), options, metrics));
  TYTO_RETURN_IF_ERROR(q->Recover());
  return q;
}

Status DiskQueue::Recover() {
  const bool created = !env_->FileExists(dir_);
  TYTO_RETURN_IF_ERROR(env_->CreateDirs(dir_));
  TYTO_ASSIGN_OR_RETURN(lock_, env_->LockFile(dir_ + "/lock"));

  QueuePosition cursor;
  bool have_cursor = false;
  if (env_->FileExists(CursorPath())) {
    TYTO_ASSIGN_OR_RETURN(std::string bytes, env_->ReadFile(CursorPath()));
    auto decoded = DecodeCursor(bytes);
    if (decoded.ok()) {
      cursor = *decoded;
      have_cursor = true;
    } else {
      // Reading from the oldest segment sends acknowledged records again; nothing is lost.
      kLog.Warn("agent queue cursor file is damaged; reading from the oldest segment",
                {{"path", CursorPath()}, {"problem", decoded.status().message()}});
    }
  }

  TYTO_ASSIGN_OR_RETURN(std::vector<uint64_t> numbers, ListSegments(env_, dir_));
  std::vector<Segment> found;
  uint64_t acked_records = 0, acked_samples = 0;
  QueuePosition read = cursor;
  for (uint64_t n : numbers) {
    if (n < cursor.segment) {  // acknowledged; a crash came between the cursor and the deletion
      TYTO_RETURN_IF_ERROR(env_->RemoveFile(SegmentPath(n)));
      continue;
    }
    Segment seg;
    uint64_t resume = kSegmentHeaderSize;
    TYTO_RETURN_IF_ERROR(
        ScanSegment(n, n == cursor.segment ? cursor.offset : 0, &seg, &acked_records, &acked_samples, &resume));
    if (n == cursor.segment) read.offset = resume;
    found.push_back(seg);
  }

  MutexLock lock(&mu_);
  parent_needs_sync_ = created;
  last_sync_ = clock_->MonotonicNow();
  for (const Segment& seg : found) {
    segments_.push_back(seg);
    total_bytes_ += seg.bytes;
    unread_records_ += seg.records;
    unread_samples_ += seg.samples;
  }
  // After the cursor's segment even when that is gone, so the cursor never points ahead.
  next_segment_ = std::max(found.empty() ? 0 : found.back().number + 1, have_cursor ? cursor.segment + 1 : 0);
  read_ = acked_ = read;
  if (!segments_.empty() && segments_.front().number == cursor.segment) {
    read_records_in_segment_ = acked_records;
    read_samples_in_segment_ = acked_samples;
    unread_records_ -= acked_records;
    unread_samples_ -= acked_samples;
  }
  (void)NormalizeRead();
  if (read_.segment != acked_.segment) acked_ = read_;  // the cursor's segment is gone
  Publish();
  if (!segments_.empty()) {
    kLog.Info("agent queue opened", {{"dir", dir_},
                                     {"segments", segments_.size()},
                                     {"bytes", total_bytes_},
                                     {"unsent_records", unread_records_},
                                     {"unsent_samples", unread_samples_}});
  }
  return Status::Ok();
}

Status DiskQueue::ScanSegment(uint64_t number, uint64_t cursor_offset, Segment* seg, uint64_t* acked_records,
                              uint64_t* acked_samples, uint64_t* resume) {
  const std::string path = SegmentPath(number);
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env_->NewRandomAccessFile(path));
  TYTO_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  seg->number = number;
  if (size == 0) return Status::Ok();  // a crash between creating the file and writing its header

  std::string problem;
  uint64_t offset = 0;
  std::string buf;
  TYTO_RETURN_IF_ERROR(file->Read(0, kSegmentHeaderSize, &buf));
  if (buf.size() < kSegmentHeaderSize) {
    problem = "torn write: the file ends inside its header";
  } else if (buf != SegmentHeader(number)) {
    problem = "bad segment header (not an agent queue segment of version " + std::to_string(kVersion) + " numbered " +
              std::to_string(number) + ")";
  } else {
    offset = kSegmentHeaderSize;
  }
  while (problem.empty() && offset < size) {
    if (size - offset < kRecordHeaderSize) {
      problem = "torn write: the file ends inside a record header";
      break;
    }
    TYTO_RETURN_IF_ERROR(file->Read(offset, kRecordHeaderSize, &buf));
    if (buf.size() < kRecordHeaderSize) return IOError("agent queue: short read of " + path);
    const uint32_t crc = coding::DecodeFixed32(buf.data());
    const uint64_t length = coding::DecodeFixed32(buf.data() + 4);
    const uint32_t samples = coding::DecodeFixed32(buf.data() + 8);
    if (length > kMaxPayloadBytes || length > size - offset - kRecordHeaderSize) {
      problem = "torn write: a record of " + std::to_string(length) + " bytes runs past the end of the file";
      break;
    }
    uint32_t actual = Crc32(std::string_view(buf).substr(4));
    for (uint64_t done = 0; done < length;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kScanChunk, length - done));
      TYTO_RETURN_IF_ERROR(file->Read(offset + kRecordHeaderSize + done, n, &buf));
      if (buf.size() < n) return IOError("agent queue: short read of " + path);
      actual = Crc32(buf, actual);
      done += n;
    }
    if (actual != crc) {
      problem = "checksum mismatch in a record of " + std::to_string(length) + " bytes";
      break;
    }
    const uint64_t end = offset + kRecordHeaderSize + length;
    if (offset < cursor_offset) {  // acknowledged before the restart
      ++*acked_records;
      *acked_samples += samples;
      *resume = end;
    }
    ++seg->records;
    seg->samples += samples;
    offset = end;
  }
  seg->bytes = offset;
  if (!problem.empty()) {
    kLog.Warn("agent queue segment damaged; truncated at the last intact record",
              {{"path", path}, {"offset", offset}, {"problem", problem}, {"dropped_bytes", size - offset}});
    TYTO_RETURN_IF_ERROR(env_->TruncateFile(path, offset));
    TYTO_RETURN_IF_ERROR(SyncFile(env_, path));
  }
  return Status::Ok();
}

std::deque<DiskQueue::Segment>::iterator DiskQueue::LowerBound(uint64_t number) {
  return std::lower_bound(segments_.begin(), segments_.end(), number,
                          [](const Segment& s, uint64_t n) { return s.number < n; });
}

DiskQueue::Segment* DiskQueue::Find(uint64_t number) {
  auto it = LowerBound(number);
  return it != segments_.end() && it->number == number ? &*it : nullptr;
}

void DiskQueue::Publish() {
  metrics_->queue_bytes.Set(static_cast<double>(total_bytes_));
  metrics_->queue_segments.Set(static_cast<double>(segments_.size()));
  metrics_->queue_samples.Set(static_cast<double>(unread_samples_));
}

Status DiskQueue::StartSegment() {
  const uint64_t number = next_segment_;
  const std::string path = SegmentPath(number);
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file, env_->NewWritableFile(path));
  Status s = file->Append(SegmentHeader(number));
  if (s.ok()) s = file->Flush();
  if (!s.ok()) {
    (void)file->Close();
    (void)env_->RemoveFile(path);  // the next attempt truncates it anyway
    return s;
  }
  file_ = std::move(file);
  segments_.push_back({number, kSegmentHeaderSize, 0, 0});
  total_bytes_ += kSegmentHeaderSize;
  ++next_segment_;
  needs_sync_ = true;
  dir_needs_sync_ = true;
  return Status::Ok();
}

Status DiskQueue::FinishSegment() {
  // A finished segment is synced once, so Sync() only ever has the current one to do.
  Status s = file_->Sync();
  Status closed = file_->Close();
  file_.reset();
  needs_sync_ = false;
  return s.ok() ? closed : s;
}

Status DiskQueue::SyncLocked() {
  if (file_ != nullptr && needs_sync_) {
    TYTO_RETURN_IF_ERROR(file_->Sync());
    needs_sync_ = false;
  }
  if (dir_needs_sync_) {
    TYTO_RETURN_IF_ERROR(env_->SyncDir(dir_));
    dir_needs_sync_ = false;
  }
  if (parent_needs_sync_) {
    TYTO_RETURN_IF_ERROR(env_->SyncDir(ParentDir(dir_)));
    parent_needs_sync_ = false;
  }
  last_sync_ = clock_->MonotonicNow();
  return Status::Ok();
}

void DiskQueue::AbandonSegment() {
  if (file_ == nullptr) return;
  (void)file_->Close();  // its error is the one already being reported, or a consequence of it
  file_.reset();
  needs_sync_ = false;
  const Segment& seg = segments_.back();
  if (Status s = env_->TruncateFile(SegmentPath(seg.number), seg.bytes); !s.ok()) {
    // Harmless in this run (reads stop at seg.bytes); after a restart the scan cuts it off.
    kLog.Warn("agent queue: could not cut a failed append off its segment", {{"error", s}});
  }
}

void DiskQueue::DropOldest() {
  const Segment seg = segments_.front();
  uint64_t records = 0, samples = 0;  // unread: the sender still holds those it has read
  if (seg.number > read_.segment) {
    records = seg.records;
    samples = seg.samples;
  } else if (seg.number == read_.segment) {
    records = seg.records - read_records_in_segment_;
    samples = seg.samples - read_samples_in_segment_;
  }
  if (Status s = env_->RemoveFile(SegmentPath(seg.number)); !s.ok()) {
    kLog.Error("agent queue: could not delete a dropped segment", {{"error", s}});
  }
  segments_.pop_front();
  total_bytes_ -= seg.bytes;
  unread_records_ -= records;
  unread_samples_ -= samples;
  dropped_records_ += records;
  dropped_samples_ += samples;
  metrics_->dropped_queue_full.Inc(static_cast<double>(samples));
  const QueuePosition next{segments_.front().number, kSegmentHeaderSize};
  if (read_.segment <= seg.number) {
    read_ = next;
    read_records_in_segment_ = read_samples_in_segment_ = 0;
  }
  if (acked_.segment <= seg.number) acked_ = next;
  kLog.Warn("agent queue full: dropped its oldest segment", {{"segment", SegmentName(seg.number)},
                                                             {"bytes", seg.bytes},
                                                             {"unsent_samples", samples},
                                                             {"max_bytes", options_.max_bytes}});
}

Status DiskQueue::Append(std::string_view payload, uint32_t samples) {
  const uint64_t framed = kRecordHeaderSize + payload.size();
  if (payload.size() > kMaxPayloadBytes || kSegmentHeaderSize + framed > options_.max_bytes) {
    return ResourceExhausted("agent queue: a record of " + std::to_string(payload.size()) +
                             " bytes cannot fit (payload limit " + std::to_string(kMaxPayloadBytes) +
                             " bytes, queue size " + std::to_string(options_.max_bytes) + " bytes)");
  }
  std::string header;
  coding::PutFixed32(&header, static_cast<uint32_t>(payload.size()));
  coding::PutFixed32(&header, samples);
  std::string frame;
  frame.reserve(framed);
  coding::PutFixed32(&frame, RecordCrc(header, payload));
  frame += header;
  frame += payload;

  MutexLock lock(&mu_);
  if (closed_) return FailedPrecondition("agent queue " + dir_ + " is closed");
  if (file_ != nullptr && segments_.back().bytes > kSegmentHeaderSize &&
      segments_.back().bytes + framed > options_.segment_bytes) {
    if (Status s = FinishSegment(); !s.ok()) return s.WithContext("agent queue: finishing a segment");
  }
  if (file_ == nullptr) {
    if (Status s = StartSegment(); !s.ok()) return s.WithContext("agent queue: starting a segment");
  }
  while (total_bytes_ + framed > options_.max_bytes) {
    if (segments_.size() == 1) {  // the current segment alone is too full: continue in a new one
      if (Status s = FinishSegment(); !s.ok()) return s.WithContext("agent queue: finishing a segment");
      if (Status s = StartSegment(); !s.ok()) return s.WithContext("agent queue: starting a segment");
    }
    DropOldest();
  }

  Status s = file_->Append(frame);
  if (s.ok()) s = file_->Flush();
  if (s.ok()) needs_sync_ = true;
  if (s.ok() && options_.fsync == FsyncMode::kAlways) s = SyncLocked();
  if (!s.ok()) {
    AbandonSegment();
    Publish();
    return s.WithContext("agent queue append");
  }
  Segment& seg = segments_.back();
  seg.bytes += framed;
  ++seg.records;
  seg.samples += samples;
  total_bytes_ += framed;
  ++unread_records_;
  unread_samples_ += samples;
  metrics_->samples_in.Inc(samples);
  if (options_.fsync == FsyncMode::kInterval && clock_->MonotonicNow() - last_sync_ >= options_.fsync_interval) {
    if (Status synced = SyncLocked(); !synced.ok()) {
      // The record was written and is readable; only its durability against a power cut is in
      // doubt. Continue in a new segment rather than fail the caller, who would append it again.
      kLog.Warn("agent queue fsync failed; continuing in a new segment", {{"error", synced}});
      AbandonSegment();
    }
  }
  Publish();
  cv_.notify_all();
  return Status::Ok();
}

Status DiskQueue::Sync() {
  MutexLock lock(&mu_);
  if (closed_) return Status::Ok();
  Status s = SyncLocked();
  if (!s.ok()) {
    AbandonSegment();
    return s.WithContext("agent queue sync");
  }
  return Status::Ok();
}

Status DiskQueue::Close() {
  MutexLock lock(&mu_);
  if (closed_) return Status::Ok();
  closed_ = true;
  Status s = SyncLocked();
  if (file_ != nullptr) {
    Status closed = file_->Close();
    file_.reset();
    if (s.ok()) s = closed;
  }
  cv_.notify_all();
  return s.ok() ? s : s.WithContext("agent queue close");
}

bool DiskQueue::NormalizeRead() {
  if (segments_.empty()) return false;
  if (read_.segment < segments_.front().number) {
    read_ = {segments_.front().number, kSegmentHeaderSize};
    read_records_in_segment_ = read_samples_in_segment_ = 0;
  }
  for (;;) {
    auto it = LowerBound(read_.segment);
    if (it == segments_.end()) return false;
    if (it->number != read_.segment) {  // a gap (removed by hand): go on with the next one
      read_ = {it->number, kSegmentHeaderSize};
      read_records_in_segment_ = read_samples_in_segment_ = 0;
    }
    read_.offset = std::max(read_.offset, kSegmentHeaderSize);
    if (read_.offset < it->bytes) return true;
    if (std::next(it) == segments_.end()) return false;
    read_ = {std::next(it)->number, kSegmentHeaderSize};
    read_records_in_segment_ = read_samples_in_segment_ = 0;
  }
}

void DiskQueue::SkipDamagedSegment(const std::string& why) {
  Segment* seg = Find(read_.segment);
  if (seg == nullptr) return;
  const uint64_t records = seg->records - read_records_in_segment_;
  const uint64_t samples = seg->samples - read_samples_in_segment_;
  kLog.Error("agent queue record damaged after it was checked; skipping the rest of its segment",
             {{"path", SegmentPath(seg->number)},
              {"offset", read_.offset},
              {"problem", why},
              {"lost_records", records},
              {"lost_samples", samples}});
  read_.offset = seg->bytes;
  read_records_in_segment_ = seg->records;
  read_samples_in_segment_ = seg->samples;
  unread_records_ -= records;
  unread_samples_ -= samples;
  corrupt_samples_ += samples;
  metrics_->dropped_corrupt.Inc(static_cast<double>(samples));
  Publish();
}

Result<bool> DiskQueue::Read(QueueRecord* record) {
  MutexLock read_lock(&read_mu_);
  std::string header;
  for (;;) {
    QueuePosition at;
    uint64_t data_end = 0;
    {
      MutexLock lock(&mu_);
      if (!NormalizeRead()) return false;
      at = read_;
      data_end = Find(at.segment)->bytes;
    }
    const auto dropped_meanwhile = [&] {
      MutexLock lock(&mu_);
      return read_ != at;
    };
    if (read_file_ == nullptr || read_file_segment_ != at.segment) {
      read_file_.reset();
      auto file = env_->NewRandomAccessFile(SegmentPath(at.segment));
      if (!file.ok()) {
        if (dropped_meanwhile()) continue;
        return file.status().WithContext("agent queue read");
      }
      read_file_ = std::move(file).value();
      read_file_segment_ = at.segment;
    }
    std::string problem;
    uint32_t samples = 0;
    uint64_t length = 0;
    if (Status s = read_file_->Read(at.offset, kRecordHeaderSize, &header); !s.ok()) {
      if (dropped_meanwhile()) continue;
      return s.WithContext("agent queue read");
    }
    if (header.size() < kRecordHeaderSize || data_end - at.offset < kRecordHeaderSize) {
      problem = "the file is shorter than what was written";
    } else {
      length = coding::DecodeFixed32(header.data() + 4);
      samples = coding::DecodeFixed32(header.data() + 8);
      if (length > data_end - at.offset - kRecordHeaderSize) {
        problem = "a record length of " + std::to_string(length) + " bytes runs past the written data";
      }
    }
    if (problem.empty()) {
      if (Status s = read_file_->Read(at.offset + kRecordHeaderSize, length, &record->payload); !s.ok()) {
        if (dropped_meanwhile()) continue;
        return s.WithContext("agent queue read");
      }
      if (record->payload.size() < length) {
        problem = "the file is shorter than what was written";
      } else if (RecordCrc(std::string_view(header).substr(4), record->payload) !=
                 coding::DecodeFixed32(header.data())) {
        problem = "checksum mismatch";
      }
    }
    MutexLock lock(&mu_);
    if (read_ != at) continue;  // its segment was dropped while we read: the record counts as dropped
    if (!problem.empty()) {
      SkipDamagedSegment(problem);
      continue;
    }
    read_.offset += kRecordHeaderSize + length;
    ++read_records_in_segment_;
    read_samples_in_segment_ += samples;
    --unread_records_;
    unread_samples_ -= samples;
    Publish();
    record->samples = samples;
    record->end = read_;
    return true;
  }
}

Status DiskQueue::Ack(QueuePosition end) {
  MutexLock ack_lock(&ack_mu_);
  QueuePosition cursor;
  {
    MutexLock lock(&mu_);
    if (end <= acked_) return Status::Ok();
    if (end > read_) {
      return InvalidArgument("agent queue: acknowledgement at segment " + std::to_string(end.segment) + " offset " +
                             std::to_string(end.offset) + " is beyond the last record read (segment " +
                             std::to_string(read_.segment) + " offset " + std::to_string(read_.offset) + ")");
    }
    acked_ = end;
    // At the end of a finished segment: the next one's start, so that this one can go.
    for (;;) {
      auto it = LowerBound(acked_.segment);
      if (it == segments_.end() || it->number != acked_.segment || std::next(it) == segments_.end() ||
          acked_.offset < it->bytes) {
        break;
      }
      acked_ = {std::next(it)->number, kSegmentHeaderSize};
    }
    cursor = acked_;
  }
  if (Status s = WriteFileAtomically(env_, CursorPath(), EncodeCursor(cursor)); !s.ok()) {
    return s.WithContext("agent queue: writing the cursor");
  }
  MutexLock lock(&mu_);
  while (segments_.size() > 1 && segments_.front().number < cursor.segment) {
    const Segment& seg = segments_.front();
    if (Status s = env_->RemoveFile(SegmentPath(seg.number)); !s.ok()) {
      // Left behind, it is removed at the next Open (it lies before the cursor).
      kLog.Warn("agent queue: could not delete an acknowledged segment", {{"error", s}});
    }
    total_bytes_ -= seg.bytes;
    segments_.pop_front();
  }
  Publish();
  return Status::Ok();
}

bool DiskQueue::WaitForRecords(std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
  // Real time: the wait is for other threads, not for something the clock schedules.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MutexLock lock(&mu_);
  while (unread_records_ == 0 && !closed_ && !(cancel != nullptr && cancel->load())) {
    if (cv_.wait_until(mu_.native(), deadline) == std::cv_status::timeout) break;
  }
  return unread_records_ > 0;
}

void DiskQueue::WakeReaders() {
  MutexLock lock(&mu_);  // a waiter between its check and its wait cannot miss the notification
  cv_.notify_all();
}

DiskQueueStats DiskQueue::Stats() const {
  MutexLock lock(&mu_);
  DiskQueueStats s;
  s.bytes = total_bytes_;
  s.segments = segments_.size();
  s.unread_records = unread_records_;
  s.unread_samples = unread_samples_;
  s.dropped_records = dropped_records_;
  s.dropped_samples = dropped_samples_;
  s.corrupt_samples = corrupt_samples_;
  s.acked = acked_;
  s.read = read_;
  return s;
}

}  // namespace tyto::forward
