// ClickHouseStore's insides, shared by store.cc (open, health, retention), store_append.cc
// (checking rows, the group-commit queues, inserts and their retries) and store_query.cc.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "clickhouse/config.h"
#include "clickhouse/connection.h"
#include "clickhouse/schema.h"
#include "clickhouse/store.h"
#include "common/mutex.h"
#include "instrumentation/metrics.h"

namespace tyto::clickhouse {

// One Append call's accepted rows, encoded on the caller's thread without the leading columns
// the inserting leader writes (batch_id, seq, and for logs cursor).
struct Pending {
  Pending(TableId t, const eventstore::AppendOptions& options)
      : table(t), source(options.source), maybe_repeated(options.maybe_repeated) {}

  TableId table = TableId::kSpans;
  size_t rows = 0;
  std::string source;           // AppendOptions::source: every row's `source` column
  bool maybe_repeated = false;  // look for rows of `source` before inserting
  std::string encoded;           // the rows' other columns, one after the other
  std::vector<size_t> ends;      // end offset of each row in `encoded`
  std::vector<std::string> orgs;  // each row's `org` column (written by the leader, after source)
  size_t stored_before = 0;      // leading rows an earlier copy of the batch stored (dropped here)
  int64_t min_second = 0;        // range of the rows' `time` column (for the dedup count)
  int64_t max_second = 0;
  // Spans only: each span's trace id (16 bytes) followed by its org, and its start, for trace_index.
  std::vector<std::pair<std::string, int64_t>> trace_starts;
  eventstore::AppendResult result;
  Status status;
  bool done = false;
  // Counted in Impl::arriving_ (its rows are being encoded) until it joins the queue or gives up.
  bool arriving = false;
  std::thread::id caller;  // the appending thread
};

// Batch ids and cursors: see store.h.
class IdSource {
 public:
  explicit IdSource(uint64_t writer_id) : writer_id_(writer_id) {}
  // The first of `n` consecutive ids (their time parts), each later one one more.
  uint64_t Reserve(uint64_t n);
  uint64_t writer_id() const { return writer_id_; }
  static uint64_t NowMicros();

 private:
  Mutex mu_;
  uint64_t last_ GUARDED_BY(mu_) = 0;
  const uint64_t writer_id_;
};

inline constexpr int kWriterBits = 10;
inline uint64_t MakeId(uint64_t time_part, uint64_t writer) { return (time_part << kWriterBits) | writer; }

struct Metrics {
  explicit Metrics(instrumentation::Registry* r);
  instrumentation::Family<instrumentation::Counter>& inserted;
  instrumentation::Family<instrumentation::Counter>& rejected;
  instrumentation::Family<instrumentation::Counter>& batches;
  instrumentation::Family<instrumentation::Counter>& retries;
  instrumentation::Family<instrumentation::Counter>& found_after_retry;
  instrumentation::Family<instrumentation::Counter>& repeated;
  instrumentation::Family<instrumentation::Counter>& errors;
  instrumentation::Family<instrumentation::Histogram>& insert_duration;
  instrumentation::Family<instrumentation::Histogram>& query_duration;
  instrumentation::Family<instrumentation::Counter>& dropped;
};

class ClickHouseStore::Impl {
 public:
  Impl(const ClickHouseConfig& config, std::string password, Clock* clock, instrumentation::Registry* registry);
  ~Impl();

  Status CreateTables();
  void Close();

  // store_append.cc
  const char* CheckTime(int64_t time_ms, int64_t now_ms, std::string* why) const;
  void Reject(Pending* p, std::string_view reason, const std::string& description);
  // Counts `p` as arriving in its table's queue (see arriving_); Submit or Leave uncounts it.
  void Arrive(Pending* p);
  // Uncounts `p` if it never reached Submit's queue (an append that returned early).
  void Leave(Pending* p);
  Result<eventstore::AppendResult> Submit(Pending* p);
  // Rows of `table` whose source column is `source`, in [min_second, max_second].
  Result<uint64_t> CountSource(TableId table, const std::string& source, int64_t min_second, int64_t max_second);
  // Waits until the inserts into `table` running now (in system.processes of every server) are
  // over, at most insert_timeout, then stops any left: a batch about to be looked for by its
  // source may be in one of them (its first delivery's server died with the insert under way),
  // which could otherwise commit after the look.
  void AwaitRunningInserts(TableId table);
  // Inserts `body` (rows with every column; row i ends at body offset row_ends[i]) into `table`
  // as batch `batch_id`, retrying as store.h says. The seconds bound the dedup count. A failed
  // insert may have stored a prefix of its rows (ClickHouse commits what it parsed when a body
  // ends early): then only the rest is sent again.
  Status InsertBatch(TableId table, uint64_t batch_id, const std::string& body, const std::vector<size_t>& row_ends,
                     int64_t min_second, int64_t max_second);
  Status WriteGroup(TableId table, const std::vector<Pending*>& group);

  // store_query.cc
  // Runs a SELECT (FORMAT RowBinary appended) on a server that answers, in turn.
  Result<std::string> Select(const std::string& sql, std::string_view what) const;
  // Erasure (store_erase.cc): rows of `table` meeting `where`, and their ALTER TABLE DELETE on
  // every server, waited for.
  Result<uint64_t> CountWhere(TableId table, const std::string& where) const;
  Status DeleteWhere(TableId table, const std::string& where) const;
  Mutex retention_mu_;
  eventstore::OrgRetention org_retention_ GUARDED_BY(retention_mu_);
  Result<std::vector<std::vector<events::Span>>> ReadTraces(const std::vector<std::string>& ids,
                                                            const eventstore::TraceLookup& lookup) const;
  uint64_t TailBound() const;
  void RefreshKnownCursor(bool force) const;

  Status CheckOpen() const;

  ClickHouseConfig config_;
  // Set once by Open before any use; null: values are stored as given.
  std::shared_ptr<const crypto::FieldEncryption> encryption_;
  Layout layout_;
  Clock* clock_;
  std::unique_ptr<instrumentation::Registry> own_registry_;
  Metrics metrics_;
  mutable Connection conn_;
  IdSource ids_;
  mutable std::atomic<size_t> next_server_{0};
  std::atomic<bool> closed_{false};

  // Group commit: one queue per table (spans also write trace_index).
  Mutex queue_mu_;
  std::condition_variable_any queue_cv_;
  std::array<std::deque<Pending*>, kTableCount> queues_ GUARDED_BY(queue_mu_);
  std::array<size_t, kTableCount> queued_rows_ GUARDED_BY(queue_mu_){};
  // Appends to each table still encoding their rows: a leader waits for them (they join within
  // moments), so concurrent appends share one insert.
  std::array<int, kTableCount> arriving_ GUARDED_BY(queue_mu_){};
  // When each table's last insert began: a leader with no append on its way waits until
  // flush_interval after it (at most one insert per flush_interval per table at light load).
  std::array<std::chrono::steady_clock::time_point, kTableCount> last_insert_ GUARDED_BY(queue_mu_){};
  // The threads whose appends were in each table's last insert and have not appended to it
  // since: a leader waits for them too (a server's HTTP threads and consumer workers come back
  // with more rows at once when busy), never past flush_interval.
  std::array<std::vector<std::thread::id>, kTableCount> returning_ GUARDED_BY(queue_mu_);
  int inserting_ GUARDED_BY(queue_mu_) = 0;

  // Live tail.
  mutable Mutex tail_mu_;
  mutable std::condition_variable_any tail_cv_;
  // First cursor of the logs batch being inserted by this server; 0: none.
  std::atomic<uint64_t> logs_in_flight_{0};
  std::atomic<uint64_t> own_committed_{0};  // newest cursor this server committed
  mutable std::atomic<uint64_t> polled_{0};  // newest cursor the last poll found
  mutable std::chrono::steady_clock::time_point last_poll_ GUARDED_BY(tail_mu_){};
  mutable bool polling_ GUARDED_BY(tail_mu_) = false;

  Mutex subs_mu_;
  std::map<uint64_t, eventstore::LogListener> listeners_ GUARDED_BY(subs_mu_);
  uint64_t next_listener_ GUARDED_BY(subs_mu_) = 1;

  // Maintenance.
  Mutex bg_mu_;
  std::condition_variable_any bg_cv_;
  bool bg_stop_ GUARDED_BY(bg_mu_) = false;
  std::thread bg_;
};

// Counts an append as arriving from its start until it is queued (or returns early).
class ArrivingAppend {
 public:
  ArrivingAppend(ClickHouseStore::Impl* impl, Pending* p) : impl_(impl), p_(p) { impl_->Arrive(p_); }
  ~ArrivingAppend() { impl_->Leave(p_); }
  ArrivingAppend(const ArrivingAppend&) = delete;
  ArrivingAppend& operator=(const ArrivingAppend&) = delete;

 private:
  ClickHouseStore::Impl* impl_;
  Pending* p_;
};

// Helpers shared by the .cc files.
// Seconds since the epoch for DateTime, clamped to what the type holds.
int64_t ClampSecond(int64_t s);
int64_t FloorDiv(int64_t a, int64_t b);

}  // namespace tyto::clickhouse
