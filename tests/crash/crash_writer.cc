// Child of tsdb_crash_test: appends to the metrics engine (tsdb::DB) in `dir` forever and, after
// each successful Commit, prints "ack <t>" meaning every sample with timestamp <= t of every
// series is acknowledged. Its block range is small (crash_options.h), so the loop also cuts
// blocks (each cut truncates the head and writes a WAL checkpoint) and compacts them, as the
// server's maintenance thread does; it prints "maintenance" before and "maintenance done" after,
// so the parent can aim its kill. The parent kills it with SIGKILL at a random moment.
//
// Usage: tsdb_crash_writer DIR START_T SERIES
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "crash_options.h"
#include "tsdb/db.h"

namespace {

double ValueFor(int series, int64_t t) { return static_cast<double>(t) * 0.5 + series; }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  std::string dir = argv[1];
  int64_t t = std::atoll(argv[2]);
  int series = std::atoi(argv[3]);
  const tyto::tsdb::DBOptions o = tyto::tsdb::CrashDBOptions();
  auto db = tyto::tsdb::DB::Open(tyto::Env::Default(), dir, o, nullptr);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  auto app = (*db)->NewAppender();
  std::vector<tyto::SeriesRef> refs(series, 0);
  std::vector<tyto::Labels> labels;
  for (int s = 0; s < series; ++s) labels.push_back(tyto::Labels::Of({"__name__", "crash", "s", std::to_string(s)}));
  std::srand(static_cast<unsigned>(getpid()));
  std::printf("ready\n");
  std::fflush(stdout);
  const int64_t range = o.head.block_range.count();
  tyto::tsdb::Head* head = (*db)->head();
  for (;; ++t) {
    for (int s = 0; s < series; ++s) {
      auto r = app->Append(refs[s], labels[s], t, ValueFor(s, t));
      if (!r.ok()) {
        std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
        return 1;
      }
      refs[s] = *r;
    }
    if (t % 7 != 0) continue;  // commits of varying size: 7 timestamps x series samples
    if (auto st = app->Commit(); !st.ok()) {
      std::fprintf(stderr, "commit: %s\n", st.ToString().c_str());
      return 1;
    }
    std::printf("ack %lld\n", static_cast<long long>(t));
    std::fflush(stdout);
    // Maintenance when a cut is due (DB::CutBlocks cuts while the head spans more than 1.5
    // block ranges): cut, checkpoint, compact.
    if (head->max_time() - head->min_time() > range * 3 / 2) {
      std::printf("maintenance\n");
      std::fflush(stdout);
      auto cut = (*db)->CutBlocks();
      auto compacted = cut.ok() ? (*db)->Compact() : cut;
      if (!compacted.ok()) {
        std::fprintf(stderr, "maintenance: %s\n", compacted.status().ToString().c_str());
        return 1;
      }
      std::printf("maintenance done\n");
      std::fflush(stdout);
    }
    // A random pause keeps the log small enough that 50 rounds of replay stay quick, while
    // the kill still lands at random points relative to writes.
    usleep(static_cast<useconds_t>(std::rand() % 1000));
  }
}
