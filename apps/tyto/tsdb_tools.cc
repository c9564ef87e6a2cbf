#include "tsdb_tools.h"

#include <unistd.h>

#include <bit>
#include <cinttypes>
#include <unordered_map>
#include <cstdio>

#include "instrumentation/metrics.h"
#include "scrape/text_parser.h"
#include "tsdb/block/block.h"
#include "tsdb/db.h"
#include "tsdb/head.h"
#include "tsdb/label_stats.h"
#include "tyto/selector.h"

namespace tyto::tools {
namespace {

Result<std::unique_ptr<tsdb::DB>> OpenReadOnly(const std::string& data_dir) {
  if (!Env::Default()->FileExists(data_dir + "/wal") && !Env::Default()->FileExists(data_dir + "/blocks")) {
    return NotFound("no metrics data in " + data_dir + " (no wal/ or blocks/)");
  }
  tsdb::DBOptions o;
  o.head.read_only = true;
  o.head.max_series = 0;
  o.head.max_series_per_metric = 0;
  o.head.out_of_order_window = std::chrono::hours(24 * 365 * 100);  // show everything that was logged
  o.retention = std::chrono::milliseconds(0);
  return tsdb::DB::Open(Env::Default(), data_dir, o, nullptr);
}

// A progress line on stderr: rewritten in place on a terminal, one line per update otherwise.
void ShowProgress(bool tty, bool last, const std::string& text) {
  if (tty) {
    std::fprintf(stderr, last ? "\r%s\n" : "\r%s", text.c_str());
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
}

std::string Time(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int Analyze(const std::string& data_dir, size_t top) {
  auto head = OpenReadOnly(data_dir);
  if (!head.ok()) {
    std::fprintf(stderr, "tyto: %s\n", head.status().message().c_str());
    return 1;
  }
  auto metas = (*head)->BlockMetas();
  auto sizes = (*head)->BlockSizes();
  std::printf("Blocks: %zu\n", metas.size());
  for (size_t i = 0; i < metas.size(); ++i) {
    const auto& m = metas[i];
    std::string kind = m.resolution_ms == 0 ? "raw" : "rollup " + std::to_string(m.resolution_ms / 60000) + "m";
    std::printf("  %s  %s .. %s  %s level %d  series %" PRIu64 "  samples %" PRIu64 "  bytes %" PRIu64
                " (%.2f bytes/sample)\n",
                m.id.c_str(), Time(m.min_time).c_str(), Time(m.max_time).c_str(), kind.c_str(), m.level, m.num_series,
                m.num_samples, sizes[i],
                m.num_samples ? static_cast<double>(sizes[i]) / static_cast<double>(m.num_samples) : 0.0);
  }
  tsdb::HeadStats st = (*head)->head()->Stats(top);
  std::printf("\nHead (in-memory, from the WAL)\n");
  if (!(*head)->head()->replay_stats().repaired.empty()) {
    std::printf("  WAL damage: %s\n", (*head)->head()->replay_stats().repaired.c_str());
  }
  std::printf("  series:           %" PRIu64 "\n", st.series);
  std::printf("  samples:          %" PRIu64 "\n", st.samples);
  if (st.samples > 0) {
    std::printf("  time range:       %s .. %s\n", Time(st.min_time).c_str(), Time(st.max_time).c_str());
    std::printf("  chunk bytes:      %" PRIu64 " (%.2f bytes/sample)\n", st.chunk_bytes,
                static_cast<double>(st.chunk_bytes) / static_cast<double>(st.samples));
  }

  // The rankings cover the whole store as queries see it: every block's index (the postings of
  // __name__, each series' labels) merged with the head series by series, so a series stored in
  // several blocks and the head counts once.
  tsdb::LabelStats labels;
  auto q = (*head)->NewQuerier(INT64_MIN, INT64_MAX);
  if (!q.ok()) {
    std::fprintf(stderr, "tyto: %s\n", q.status().message().c_str());
    return 1;
  }
  auto set = (*q)->Select({*Matcher::Make(MatchType::kRegexMatch, "__name__", ".+")});
  while (set->Next()) labels.Add(set->labels());
  if (!set->status().ok()) {
    std::fprintf(stderr, "tyto: reading the series: %s\n", set->status().ToString().c_str());
    return 1;
  }
  uint64_t samples = st.samples;
  uint64_t rollup_windows = 0;
  for (const auto& m : metas) (m.resolution_ms == 0 ? samples : rollup_windows) += m.num_samples;
  std::printf("\nAll data (blocks and head; a series in several blocks counts once)\n");
  std::printf("  series:           %" PRIu64 "\n", labels.series());
  std::printf("  samples:          %" PRIu64 " (raw blocks and head)\n", samples);
  if (rollup_windows > 0) std::printf("  rollup windows:   %" PRIu64 "\n", rollup_windows);
  auto table = [](const char* title, const auto& rows) {
    std::printf("\n%s\n", title);
    for (const auto& [name, n] : rows) std::printf("  %10" PRIu64 "  %s\n", n, name.c_str());
  };
  table("Metrics by series:", labels.SeriesByMetric(top));
  table("Label pairs by series:", labels.SeriesByLabelPair(top));
  table("Label names by distinct values:", labels.ValuesByLabelName(top));
  return 0;
}

int Dump(const std::string& data_dir, const std::string& selector, int64_t min_time, int64_t max_time) {
  std::vector<Matcher> matchers;
  if (selector.empty()) {
    matchers.push_back(*Matcher::Make(MatchType::kRegexMatch, "__name__", ".+"));
  } else {
    auto m = ParseSeriesSelector(selector);
    if (!m.ok()) {
      std::fprintf(stderr, "tyto: %s\n", m.status().message().c_str());
      return 2;
    }
    matchers = std::move(m).value();
  }
  auto head = OpenReadOnly(data_dir);
  if (!head.ok()) {
    std::fprintf(stderr, "tyto: %s\n", head.status().message().c_str());
    return 1;
  }
  auto q = (*head)->NewQuerier(min_time, max_time);
  if (!q.ok()) {
    std::fprintf(stderr, "tyto: %s\n", q.status().message().c_str());
    return 2;
  }
  auto set = (*q)->Select(matchers);
  while (set->Next()) {
    std::string name = set->labels().ToString();
    auto it = set->Iterator();
    while (it->Next()) {
      Sample s = it->At();
      std::printf("%s %s %" PRId64 "\n", name.c_str(),
                  IsStaleMarker(s.v) ? "stale" : instrumentation::FormatValue(s.v).c_str(), s.t);
    }
    if (!it->status().ok()) {
      std::fprintf(stderr, "tyto: %s: %s\n", name.c_str(), it->status().ToString().c_str());
      return 1;
    }
  }
  return 0;
}

int Import(const std::string& file, const std::string& data_dir, bool prometheus_text) {
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "\ntyto: %s\n", msg.c_str());
    return 1;
  };
  Env* env = Env::Default();
  auto body = env->NewMmapFile(file);
  if (!body.ok()) return fail(body.status().message());
  if (Status s = env->CreateDirs(data_dir); !s.ok()) return fail(s.message());
  auto lock = env->LockFile(data_dir + "/lock");
  if (!lock.ok()) return fail(lock.status().message() + " (stop the server before importing)");

  const std::string_view text = (*body)->data();
  scrape::TextParser parser(text, prometheus_text ? scrape::Format::kPrometheusText : scrape::Format::kOpenMetrics);
  // Series by their text as written, looked up without allocating; text that differs only in
  // label order or spacing is merged by label set afterwards.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, size_t, TextHash, std::equal_to<>> index;
  std::vector<tsdb::SeriesSamples> series;
  uint64_t samples = 0;
  int last_percent = -1;
  const bool tty = isatty(STDERR_FILENO);
  while (true) {
    auto e = parser.Next();
    if (!e.ok()) return fail(file + ": " + e.status().message());
    if (*e == scrape::Entry::kEOF) break;
    if (*e != scrape::Entry::kSeries) continue;
    if (!parser.timestamp_ms()) {
      return fail(file + ": line " + std::to_string(parser.line()) +
                  ": sample without a timestamp; backfilled samples must say when they were taken");
    }
    auto it = index.find(parser.series());
    if (it == index.end()) {
      it = index.emplace(std::string(parser.series()), series.size()).first;
      series.emplace_back(parser.labels(), std::vector<std::pair<int64_t, double>>());
    }
    series[it->second].second.emplace_back(*parser.timestamp_ms(), parser.value());
    ++samples;
    // Progress by bytes read, about every percent.
    if (samples % 4096 == 0 && !text.empty()) {
      int percent = static_cast<int>(100.0 * static_cast<double>(parser.series().data() - text.data()) / static_cast<double>(text.size()));
      if (percent != last_percent) {
        last_percent = percent;
        ShowProgress(tty, false, "reading " + file + ": " + std::to_string(percent) + "% (" + std::to_string(samples) + " samples)");
      }
    }
  }
  ShowProgress(tty, true, "reading " + file + ": 100% (" + std::to_string(samples) + " samples)");
  // One entry per label set.
  std::stable_sort(series.begin(), series.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  size_t distinct = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    if (distinct > 0 && series[distinct - 1].first == series[i].first) {
      auto& into = series[distinct - 1].second;
      into.insert(into.end(), series[i].second.begin(), series[i].second.end());
    } else if (distinct++ != i) {
      series[distinct - 1] = std::move(series[i]);
    }
  }
  series.resize(distinct);
  // Same timestamp twice in a series: the same value is dropped, another value is an error.
  for (auto& [labels, s] : series) {
    std::stable_sort(s.begin(), s.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t out = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (out > 0 && s[out - 1].first == s[i].first) {
        if (std::bit_cast<uint64_t>(s[out - 1].second) != std::bit_cast<uint64_t>(s[i].second)) {
          return fail(labels.ToString() + " has two different values at " + std::to_string(s[i].first));
        }
        continue;
      }
      s[out++] = s[i];
    }
    s.resize(out);
  }
  tsdb::DBOptions options;
  options.retention = std::chrono::milliseconds(0);  // retention is the server's job, not import's
  auto db = tsdb::DB::Open(env, data_dir, options, nullptr);
  if (!db.ok()) return fail(db.status().message());
  const size_t num_series = series.size();
  auto blocks = (*db)->Import(std::move(series), [tty](size_t done, size_t total) {
    ShowProgress(tty, done == total,
                 "writing blocks: " + std::to_string(done) + "/" + std::to_string(total) + " (" +
                     std::to_string(total ? 100 * done / total : 100) + "%)");
  });
  if (!blocks.ok()) return fail(blocks.status().message());
  // Merge the 2 h blocks into longer ones now, as the server would in the background.
  const std::string compacting = "compacting " + std::to_string(*blocks) + " blocks: merged blocks written: ";
  ShowProgress(tty, false, compacting + "0");
  auto merged = (*db)->Compact([&](int n) { ShowProgress(tty, false, compacting + std::to_string(n)); });
  if (!merged.ok()) return fail("compacting the imported blocks: " + merged.status().message());
  ShowProgress(tty, true, compacting + std::to_string(*merged) + "; blocks now: " + std::to_string((*db)->num_blocks()));
  if (Status s = (*db)->Close(); !s.ok()) return fail(s.message());
  std::printf("imported %" PRIu64 " samples of %zu series into %d blocks, compacted into %zu, in %s\n", samples,
              num_series, *blocks, (*db)->num_blocks(), data_dir.c_str());
  return 0;
}

}  // namespace tyto::tools
