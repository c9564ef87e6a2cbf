#include "tsdb/block/block.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/fault_injection_env.h"
#include "testing/sample_shapes.h"
#include "testing/temp_dir.h"
#include "tsdb/block/format.h"
#include "tsdb/block/index_reader.h"

namespace tyto::tsdb::block {
namespace {

using ::testing::HasSubstr;
using Samples = std::vector<std::pair<int64_t, double>>;

constexpr int64_t kStart = 1699999200000;  // a multiple of 2 h, in ms
constexpr int64_t kInterval = 15000;
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// ---------------------------------------------------------------------------------------------
// Synthetic series: label sets, and samples shaped like real scrapes (testing::ValueShapes,
// shared with bench/chunk_bench.cc: counters, integer percentages, one-decimal gauges, constants,
// full-precision ratios, page-sized byte counts), scraped every 15 s with 0-25 ms of jitter.

using ValueFn = std::function<double(std::mt19937_64&, size_t)>;

ValueFn Shape(size_t kind) { return testing::ValueShapes()[kind % 6].next; }

struct TestSeries {
  Labels labels;
  std::vector<Samples> chunk_samples;
  std::vector<std::unique_ptr<chunk::Chunk>> chunks;
};

struct TestBlock {
  std::vector<TestSeries> series;  // sorted by labels
  std::vector<SeriesData> data;    // views into `series`
  Meta meta;

  std::vector<Labels> AllLabels() const {
    std::vector<Labels> out;
    for (const TestSeries& s : series) out.push_back(s.labels);
    return out;
  }
};

// Series i of a test set: a few metrics over many instances; `env` only on some series and
// `mode` only on cpu metrics, so that matchers meet absent labels.
Labels TestLabels(size_t i) {
  static constexpr const char* kMetrics[] = {"node_cpu_seconds_total",
                                   "node_memory_Active_bytes",
                                   "http_requests_total",
                                   "DCGM_FI_DEV_GPU_UTIL",
                                   "node_hwmon_temp_celsius",
                                   "up",
                                   "slo_ratio"};
  static constexpr const char* kModes[] = {"idle", "user", "system", "iowait"};
  const size_t metric = i % 7;
  std::vector<Label> pairs = {{"__name__", kMetrics[metric]},
                              {"instance", "host-" + std::to_string(i / 7) + ":9100"},
                              {"job", i % 3 == 0 ? "api" : "node"}};
  if (i % 2 == 0) pairs.push_back({"env", i % 4 == 0 ? "prod" : "dev"});
  if (metric == 0) pairs.push_back({"mode", kModes[(i / 7) % 4]});
  return *Labels::FromPairs(std::move(pairs));
}

// A block of `num_series` series, each with `num_chunks` chunks of `per_chunk` samples. With
// `per_target` > 0, series i is scraped from target i / per_target, and series of one target
// have the same timestamps (as when a scrape's samples share its timestamp); otherwise every
// series has its own jitter.
TestBlock MakeBlock(size_t num_series, size_t num_chunks, size_t per_chunk,
                    const std::function<Labels(size_t)>& labels = TestLabels, size_t per_target = 0) {
  TestBlock b;
  b.series.resize(num_series);
  for (size_t i = 0; i < num_series; ++i) {
    TestSeries& s = b.series[i];
    s.labels = labels(i);
    std::mt19937_64 rng(i);
    std::mt19937_64 target_rng(per_target > 0 ? 1'000'000 + i / per_target : 0);
    std::mt19937_64& ts_rng = per_target > 0 ? target_rng : rng;
    ValueFn next = Shape(i);
    std::uniform_int_distribution<int64_t> jitter(0, 25);
    for (size_t c = 0; c < num_chunks; ++c) {
      Samples samples;
      for (size_t j = 0; j < per_chunk; ++j) {
        const size_t n = c * per_chunk + j;
        const int64_t t = kStart + kInterval * static_cast<int64_t>(n) + jitter(ts_rng);
        samples.emplace_back(t, next(rng, n));
      }
      s.chunks.push_back(chunk::EncodeBest(samples));
      s.chunk_samples.push_back(std::move(samples));
    }
  }
  std::sort(b.series.begin(), b.series.end(), [](const auto& x, const auto& y) { return x.labels < y.labels; });
  for (const TestSeries& s : b.series) {
    SeriesData d{s.labels, {}};
    for (size_t c = 0; c < s.chunks.size(); ++c) {
      d.chunks.push_back({s.chunk_samples[c].front().first, s.chunk_samples[c].back().first, s.chunks[c]->encoding(),
                          s.chunks[c]->bytes(), s.chunks[c]->num_samples()});
    }
    b.data.push_back(std::move(d));
  }
  b.meta.min_time = kStart;
  b.meta.max_time = kStart + kInterval * static_cast<int64_t>(num_chunks * per_chunk) - 1;
  return b;
}

Matcher M(MatchType type, const std::string& name, const std::string& value) {
  auto m = Matcher::Make(type, name, value);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

// Prometheus's definition: every matcher accepts the series' value, "" when it lacks the label.
std::vector<uint32_t> BruteForceSelect(const std::vector<Labels>& all, const std::vector<Matcher>& matchers) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < all.size(); ++i) {
    if (std::all_of(matchers.begin(), matchers.end(),
                    [&](const Matcher& m) { return m.Matches(all[i].Get(m.name())); })) {
      out.push_back(i);
    }
  }
  return out;
}

Samples ReadSamples(const chunk::Chunk& c, Status* status) {
  Samples out;
  auto it = c.NewIterator();
  while (it->Next()) out.emplace_back(it->t(), it->v());
  *status = it->status();
  return out;
}

// Opens the block and reads everything in it: labels, chunks, samples, label values. OK only
// if all of it is fine.
Status OpenAndReadAll(Env* env, const std::string& dir) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<Reader> r, Reader::Open(env, dir));
  TYTO_ASSIGN_OR_RETURN(std::vector<uint32_t> ids, r->Select({}));
  for (uint32_t id : ids) {
    TYTO_RETURN_IF_ERROR(r->SeriesLabels(id).status());
    TYTO_ASSIGN_OR_RETURN(std::vector<ChunkMeta> chunks, r->SeriesChunks(id, kMin, kMax));
    for (const ChunkMeta& c : chunks) {
      TYTO_ASSIGN_OR_RETURN(std::unique_ptr<chunk::Chunk> chunk, r->ReadChunk(c));
      Status s;
      ReadSamples(*chunk, &s);
      TYTO_RETURN_IF_ERROR(s);
    }
  }
  TYTO_ASSIGN_OR_RETURN(std::vector<std::string> names, r->LabelNames());
  for (const std::string& n : names) TYTO_RETURN_IF_ERROR(r->LabelValues(n).status());
  return Status::Ok();
}

std::string Read(Env* env, const std::string& path) {
  auto data = env->ReadFile(path);
  EXPECT_TRUE(data.ok()) << data.status().ToString();
  return data.ok() ? *data : std::string();
}

// Replaces the file by a new one (rather than truncating it, which makes ext4 flush on close).
void Overwrite(Env* env, const std::string& path, std::string_view data) {
  (void)env->RemoveFile(path);
  auto f = env->NewWritableFile(path);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Append(data).ok());
  ASSERT_TRUE((*f)->Close().ok());
}

class BlockTest : public ::testing::Test {
 protected:
  Env* env_ = Env::Default();
  testing::TempDir tmp_;

  std::string WriteBlock(const TestBlock& b) {
    auto meta = Write(env_, tmp_.path(), b.meta, b.data);
    EXPECT_TRUE(meta.ok()) << meta.status().ToString();
    return meta.ok() ? tmp_.Path(meta->id) : std::string();
  }

  std::unique_ptr<Reader> Open(const std::string& dir) {
    auto r = Reader::Open(env_, dir);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }
};

// ---------------------------------------------------------------------------------------------
// Round trip

TEST_F(BlockTest, RoundTripOfThousandsOfSeriesIsExact) {
  const TestBlock b = MakeBlock(3000, 4, 120);
  auto written = Write(env_, tmp_.path(), b.meta, b.data);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->num_series, 3000u);
  EXPECT_EQ(written->num_chunks, 12000u);
  EXPECT_EQ(written->num_samples, 3000u * 4 * 120);
  EXPECT_EQ(written->level, 1);
  EXPECT_THAT(written->id, ::testing::MatchesRegex("[0-9a-f]{16}-[0-9a-f]{8}"));
  EXPECT_EQ(written->id.substr(0, 16), "0000018bcfd93300");  // kStart in hex

  auto r = Open(tmp_.Path(written->id));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->meta().id, written->id);
  EXPECT_EQ(r->meta().min_time, b.meta.min_time);
  EXPECT_EQ(r->meta().max_time, b.meta.max_time);
  EXPECT_EQ(r->meta().num_series, 3000u);
  EXPECT_EQ(r->meta().num_chunks, 12000u);
  EXPECT_EQ(r->meta().num_samples, 3000u * 480);
  uint64_t files = 0;
  for (const char* f : {format::kMetaFile, format::kIndexFile, format::kChunksFile}) {
    files += *env_->FileSize(tmp_.Path(written->id) + "/" + f);
  }
  EXPECT_EQ(r->size_bytes(), files);

  for (uint32_t id = 0; id < b.series.size(); ++id) {
    const TestSeries& want = b.series[id];
    auto labels = r->SeriesLabels(id);
    ASSERT_TRUE(labels.ok()) << labels.status().ToString();
    ASSERT_EQ(*labels, want.labels) << id;
    auto chunks = r->SeriesChunks(id, kMin, kMax);
    ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
    ASSERT_EQ(chunks->size(), want.chunks.size());
    for (size_t c = 0; c < chunks->size(); ++c) {
      const ChunkMeta& cm = (*chunks)[c];
      EXPECT_EQ(cm.mint, want.chunk_samples[c].front().first);
      EXPECT_EQ(cm.maxt, want.chunk_samples[c].back().first);
      auto chunk = r->ReadChunk(cm);
      ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
      EXPECT_EQ((*chunk)->encoding(), want.chunks[c]->encoding());
      ASSERT_EQ((*chunk)->bytes(), want.chunks[c]->bytes());
      Status s;
      const Samples got = ReadSamples(**chunk, &s);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(got.size(), want.chunk_samples[c].size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].first, want.chunk_samples[c][i].first);
        ASSERT_EQ(std::bit_cast<uint64_t>(got[i].second), std::bit_cast<uint64_t>(want.chunk_samples[c][i].second));
      }
    }
  }
  EXPECT_EQ(r->SeriesLabels(3000).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r->SeriesChunks(3000, kMin, kMax).status().code(), StatusCode::kNotFound);
}

TEST_F(BlockTest, SeriesOfOneTargetShareATimestampColumn) {
  // 700 series, 7 per target; 3 chunks of 120 samples each. Every chunk's timestamps are its
  // target's, so each is stored once as a column and the chunks as values only.
  const TestBlock b = MakeBlock(700, 3, 120, TestLabels, /*per_target=*/7);
  const TestBlock unshared = MakeBlock(700, 3, 120, TestLabels);
  const std::string dir = WriteBlock(b);
  auto r = Open(dir);
  ASSERT_NE(r, nullptr);
  for (uint32_t id = 0; id < b.series.size(); ++id) {
    const TestSeries& want = b.series[id];
    auto chunks = r->SeriesChunks(id, kMin, kMax);
    ASSERT_TRUE(chunks.ok()) << chunks.status().ToString();
    ASSERT_EQ(chunks->size(), want.chunks.size());
    for (size_t c = 0; c < chunks->size(); ++c) {
      auto chunk = r->ReadChunk((*chunks)[c]);
      ASSERT_TRUE(chunk.ok()) << chunk.status().ToString();
      EXPECT_TRUE(chunk::IsValuesOnly((*chunk)->encoding())) << chunk::EncodingName((*chunk)->encoding());
      Status s;
      const Samples got = ReadSamples(**chunk, &s);
      ASSERT_TRUE(s.ok()) << s.ToString();
      ASSERT_EQ(got.size(), want.chunk_samples[c].size());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].first, want.chunk_samples[c][i].first);
        ASSERT_EQ(std::bit_cast<uint64_t>(got[i].second), std::bit_cast<uint64_t>(want.chunk_samples[c][i].second));
      }
    }
  }
  // The same values with a jitter per series cost more: every chunk keeps its own timestamps.
  const uint64_t shared_bytes = *env_->FileSize(dir + "/chunks");
  const uint64_t unshared_bytes = *env_->FileSize(WriteBlock(unshared) + "/chunks");
  EXPECT_LT(shared_bytes, unshared_bytes);
}

TEST_F(BlockTest, ATimestampSequenceOfOneChunkIsNotShared) {
  const TestBlock b = MakeBlock(5, 2, 60);  // own jitter per series: nothing to share
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  for (uint32_t id = 0; id < b.series.size(); ++id) {
    const auto metas = r->SeriesChunks(id, kMin, kMax);
    ASSERT_TRUE(metas.ok());
    for (const ChunkMeta& cm : *metas) {
      auto chunk = r->ReadChunk(cm);
      ASSERT_TRUE(chunk.ok());
      EXPECT_FALSE(chunk::IsValuesOnly((*chunk)->encoding()));
    }
  }
}

TEST_F(BlockTest, ChunksThatDoNotDecodeAreStoredAsGiven) {
  // The writer shares timestamps only of chunks it can decode; others keep their bytes.
  TestBlock b = MakeBlock(4, 1, 30, TestLabels, /*per_target=*/4);
  std::string broken(b.data[0].chunks[0].bytes);
  broken[0] = static_cast<char>(broken[0] + 1);  // one sample more than the stream holds
  b.data[0].chunks[0].bytes = broken;
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  auto chunks = r->SeriesChunks(0, kMin, kMax);
  auto chunk = r->ReadChunk(chunks->at(0));
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ((*chunk)->bytes(), broken);
  auto other = r->ReadChunk(r->SeriesChunks(1, kMin, kMax)->at(0));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(chunk::IsValuesOnly((*other)->encoding()));
}

TEST_F(BlockTest, ChunksOutliveTheReader) {
  const TestBlock b = MakeBlock(3, 2, 50);
  const std::string dir = WriteBlock(b);
  auto r = Open(dir);
  ASSERT_NE(r, nullptr);
  auto chunks = r->SeriesChunks(1, kMin, kMax);
  ASSERT_TRUE(chunks.ok());
  auto chunk = r->ReadChunk(chunks->back());
  ASSERT_TRUE(chunk.ok());
  r.reset();
  Status s;
  EXPECT_EQ(ReadSamples(**chunk, &s), b.series[1].chunk_samples.back());
}

TEST_F(BlockTest, EmptySeriesAndEmptyChunksAreSkipped) {
  TestBlock b = MakeBlock(4, 2, 10);
  b.data[1].chunks.clear();             // no chunks
  b.data[2].chunks[0].num_samples = 0;  // an empty chunk is dropped, the series stays
  b.data[3].chunks[0].num_samples = 0;
  b.data[3].chunks[1].num_samples = 0;  // only empty chunks
  auto written = Write(env_, tmp_.path(), b.meta, b.data);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->num_series, 2u);
  EXPECT_EQ(written->num_chunks, 3u);
  EXPECT_EQ(written->num_samples, 30u);
  auto r = Open(tmp_.Path(written->id));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(*r->SeriesLabels(0), b.series[0].labels);
  EXPECT_EQ(*r->SeriesLabels(1), b.series[2].labels);
  ASSERT_EQ(r->SeriesChunks(1, kMin, kMax)->size(), 1u);
  EXPECT_EQ((*r->SeriesChunks(1, kMin, kMax))[0].mint, b.series[2].chunk_samples[1].front().first);
  // Labels of the skipped series are not in the block.
  std::set<std::string> names = {std::string(b.series[0].labels.MetricName()),
                                 std::string(b.series[2].labels.MetricName())};
  EXPECT_EQ(*r->LabelValues("__name__"), std::vector<std::string>(names.begin(), names.end()));
}

TEST_F(BlockTest, AnEmptyBlockRoundTrips) {
  Meta meta;
  meta.min_time = 0;
  meta.max_time = 7199999;
  auto written = Write(env_, tmp_.path(), meta, {});
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  auto r = Open(tmp_.Path(written->id));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->meta().num_series, 0u);
  EXPECT_TRUE(r->Select({})->empty());
  EXPECT_TRUE(r->Select({M(MatchType::kEqual, "job", "x")})->empty());
  EXPECT_TRUE(r->LabelNames()->empty());
  EXPECT_TRUE(r->LabelValues("job")->empty());
}

TEST_F(BlockTest, MetaFieldsRoundTrip) {
  TestBlock b = MakeBlock(2, 1, 5);
  b.meta.id = "my_block-01";
  b.meta.level = 3;
  b.meta.resolution_ms = 300000;
  b.meta.sources = {"0000018bcfd6c000-00000001", "0000018bcfd6c000-00000002"};
  const std::string dir = WriteBlock(b);
  EXPECT_EQ(dir, tmp_.Path("my_block-01"));
  auto r = Open(dir + "/");  // a trailing slash is fine
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->meta().id, "my_block-01");
  EXPECT_EQ(r->meta().level, 3);
  EXPECT_EQ(r->meta().resolution_ms, 300000);
  EXPECT_EQ(r->meta().sources, b.meta.sources);
}

TEST(BlockIdTest, IdsAreFreshAndSortByMinTime) {
  const std::string a = NewId(1700000000000);
  EXPECT_NE(a, NewId(1700000000000));
  EXPECT_THAT(a, ::testing::MatchesRegex("0000018bcfe56800-[0-9a-f]{8}"));
  EXPECT_LT(NewId(1700000000000), NewId(1700007200000));
  EXPECT_LT(NewId(0), NewId(1));
}

// ---------------------------------------------------------------------------------------------
// Selection, label names and values, time ranges

TEST_F(BlockTest, SelectFollowsPrometheusSemantics) {
  const TestBlock b = MakeBlock(300, 1, 3);
  const std::vector<Labels> all = b.AllLabels();
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  using MT = MatchType;
  const std::vector<std::vector<Matcher>> cases = {
      {},
      {M(MT::kEqual, "__name__", "up")},
      {M(MT::kEqual, "__name__", "absent_metric")},
      {M(MT::kEqual, "no_such_label", "x")},
      {M(MT::kNotEqual, "__name__", "up")},
      {M(MT::kEqual, "job", "api"), M(MT::kEqual, "__name__", "node_cpu_seconds_total")},
      // Empty-matching matchers also select series without the label.
      {M(MT::kEqual, "env", "")},
      {M(MT::kNotEqual, "env", "prod")},
      {M(MT::kRegexMatch, "env", "prod|")},
      {M(MT::kRegexMatch, "env", ".*")},
      {M(MT::kRegexNoMatch, "env", ".+")},
      {M(MT::kRegexNoMatch, "env", "dev")},
      {M(MT::kEqual, "no_such_label", "")},
      {M(MT::kNotEqual, "no_such_label", "x")},
      {M(MT::kRegexMatch, "no_such_label", ".+")},
      {M(MT::kEqual, "job", "node"), M(MT::kNotEqual, "env", "dev"), M(MT::kRegexNoMatch, "mode", "idle|user")},
      // Regex fast paths: literal sets, literal prefixes, general expressions.
      {M(MT::kRegexMatch, "__name__", "up|slo_ratio|nothing")},
      {M(MT::kRegexMatch, "__name__", "node_.*")},
      {M(MT::kRegexMatch, "__name__", "node_.*_total")},
      {M(MT::kRegexMatch, "instance", "host-1.*")},
      {M(MT::kRegexMatch, "instance", ".*:9100"), M(MT::kRegexNoMatch, "instance", "host-[0-3].*")},
      {M(MT::kRegexMatch, "instance", "host-(1|22):9100")},
      {M(MT::kRegexMatch, "instance", "zzz.*")},
      {M(MT::kRegexMatch, "instance", "")},
      {M(MT::kRegexNoMatch, "__name__", "up|node_.*")},
      {M(MT::kNotEqual, "job", "node"), M(MT::kNotEqual, "job", "api")},
  };
  for (const auto& matchers : cases) {
    std::string desc;
    for (const Matcher& m : matchers) desc += m.ToString() + " ";
    auto got = r->Select(matchers);
    ASSERT_TRUE(got.ok()) << desc << got.status().ToString();
    EXPECT_EQ(*got, BruteForceSelect(all, matchers)) << desc;
  }
}

TEST_F(BlockTest, SelectAgreesWithBruteForceOnRandomMatchers) {
  // Many values per name and many symbols, so lookups cross the index's marks.
  const TestBlock b = MakeBlock(2000, 1, 2);
  const std::vector<Labels> all = b.AllLabels();
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  std::mt19937_64 rng(7);
  const std::vector<std::string> names = {"__name__", "instance", "job", "env", "mode", "absent"};
  for (int i = 0; i < 300; ++i) {
    std::vector<Matcher> matchers;
    const int n = 1 + static_cast<int>(rng() % 3);
    for (int j = 0; j < n; ++j) {
      const std::string& name = names[rng() % names.size()];
      const Labels& some = all[rng() % all.size()];
      std::string value(some.Get(name));
      const auto type = static_cast<MatchType>(rng() % 4);
      if ((type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) && !value.empty() && rng() % 2 == 0) {
        value = value.substr(0, rng() % value.size()) + ".*";
      }
      matchers.push_back(M(type, name, value));
    }
    auto got = r->Select(matchers);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(*got, BruteForceSelect(all, matchers)) << matchers[0].ToString();
  }
}

TEST_F(BlockTest, LabelNamesAndValues) {
  const TestBlock b = MakeBlock(500, 1, 2);
  std::map<std::string, std::set<std::string>> want;
  for (const TestSeries& s : b.series) {
    for (const Label& l : s.labels) want[l.name].insert(l.value);
  }
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  std::vector<std::string> want_names;
  for (const auto& [name, values] : want) want_names.push_back(name);
  EXPECT_EQ(*r->LabelNames(), want_names);
  for (const auto& [name, values] : want) {
    auto got = r->LabelValues(name);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, std::vector<std::string>(values.begin(), values.end())) << name;
  }
  EXPECT_TRUE(r->LabelValues("absent")->empty());
  EXPECT_TRUE(r->LabelValues("")->empty());
}

TEST_F(BlockTest, SeriesChunksKeepsOnlyChunksOverlappingTheRange) {
  const TestBlock b = MakeBlock(5, 4, 30);
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  const Samples& c0 = b.series[2].chunk_samples[0];
  const Samples& c1 = b.series[2].chunk_samples[1];
  const Samples& c3 = b.series[2].chunk_samples[3];
  auto count = [&](int64_t mint, int64_t maxt) {
    auto chunks = r->SeriesChunks(2, mint, maxt);
    EXPECT_TRUE(chunks.ok());
    return chunks.ok() ? chunks->size() : 99;
  };
  EXPECT_EQ(count(kMin, kMax), 4u);
  EXPECT_EQ(count(kMin, c0.front().first - 1), 0u);
  EXPECT_EQ(count(kMin, c0.front().first), 1u);  // inclusive at both ends
  EXPECT_EQ(count(c0.back().first, c0.back().first), 1u);
  EXPECT_EQ(count(c0.back().first + 1, c1.front().first - 1), 0u);  // the gap between chunks
  EXPECT_EQ(count(c0.back().first, c1.front().first), 2u);
  EXPECT_EQ(count(c1.front().first + 1, c3.front().first), 3u);
  EXPECT_EQ(count(c3.back().first, kMax), 1u);
  EXPECT_EQ(count(c3.back().first + 1, kMax), 0u);
  auto middle = r->SeriesChunks(2, c1.back().first, c1.back().first);
  ASSERT_EQ(middle->size(), 1u);
  EXPECT_EQ((*middle)[0].mint, c1.front().first);
  EXPECT_EQ((*middle)[0].maxt, c1.back().first);
}

TEST_F(BlockTest, ReadersAreSafeToShareBetweenThreads) {
  const TestBlock b = MakeBlock(200, 2, 20);
  auto r = Open(WriteBlock(b));
  ASSERT_NE(r, nullptr);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        auto ids = r->Select({M(MatchType::kRegexMatch, "instance", "host-" + std::to_string(t) + ".*")});
        if (!ids.ok()) {
          ++failures;
          continue;
        }
        for (uint32_t id : *ids) {
          auto chunks = r->SeriesChunks(id, kMin, kMax);
          failures += !chunks.ok();
          if (!chunks.ok()) continue;
          for (const ChunkMeta& c : *chunks) failures += !r->ReadChunk(c).ok();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---------------------------------------------------------------------------------------------
// Invalid input

TEST_F(BlockTest, WriteRejectsInputThatBreaksItsContract) {
  auto code = [&](const TestBlock& b) { return Write(env_, tmp_.path(), b.meta, b.data).status().code(); };
  {
    TestBlock b = MakeBlock(3, 1, 5);
    std::swap(b.data[0], b.data[1]);
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);  // not sorted
  }
  {
    TestBlock b = MakeBlock(3, 1, 5);
    b.data[1].labels = b.data[0].labels;
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);  // duplicate
  }
  {
    TestBlock b = MakeBlock(3, 2, 5);
    b.data[1].chunks[1].mint = b.data[1].chunks[0].maxt;
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);  // overlapping chunks
  }
  {
    TestBlock b = MakeBlock(3, 2, 5);
    b.meta.max_time = b.data[2].chunks[1].maxt - 1;
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);  // outside the block
  }
  {
    TestBlock b = MakeBlock(3, 1, 5);
    b.data[0].chunks[0].encoding = static_cast<chunk::Encoding>(2);
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);
  }
  {
    TestBlock b = MakeBlock(3, 1, 5);
    const auto values = chunk::EncodeBestValues(b.series[0].chunk_samples[0]);
    b.data[0].chunks[0].encoding = values->encoding();
    b.data[0].chunks[0].bytes = values->bytes();
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);  // values only: the writer makes columns itself
  }
  {
    TestBlock b = MakeBlock(3, 1, 5);
    b.data[0].labels = Labels();
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument);
  }
  for (const char* id : {"../escape", "a/b", "x.tmp", "with space"}) {
    TestBlock b = MakeBlock(1, 1, 5);
    b.meta.id = id;
    EXPECT_EQ(code(b), StatusCode::kInvalidArgument) << id;
  }
  EXPECT_TRUE(ListBlocks(env_, tmp_.path())->empty());
  EXPECT_TRUE(env_->ListDir(tmp_.path())->empty());
}

// ---------------------------------------------------------------------------------------------
// Atomicity, listing, removal

TEST_F(BlockTest, ListBlocksSortsByMinTimeAndIgnoresWhatIsNotABlock) {
  TestBlock late = MakeBlock(2, 1, 5);
  late.meta.min_time -= 10;
  late.meta.id = "aaa";
  TestBlock early = MakeBlock(2, 1, 5);
  early.meta.min_time -= 20;
  early.meta.id = "zzz";
  const std::string late_dir = WriteBlock(late);
  const std::string early_dir = WriteBlock(early);
  // A write interrupted before its rename, with a complete-looking meta; a directory without
  // meta; a directory with a damaged meta; a plain file.
  ASSERT_TRUE(env_->CreateDirs(tmp_.Path("bbb.tmp")).ok());
  Overwrite(env_, tmp_.Path("bbb.tmp/meta"), Read(env_, late_dir + "/meta"));
  ASSERT_TRUE(env_->CreateDirs(tmp_.Path("empty")).ok());
  ASSERT_TRUE(env_->CreateDirs(tmp_.Path("damaged")).ok());
  Overwrite(env_, tmp_.Path("damaged/meta"), "garbage");
  Overwrite(env_, tmp_.Path("file"), "x");

  auto blocks = ListBlocks(env_, tmp_.path());
  ASSERT_TRUE(blocks.ok()) << blocks.status().ToString();
  EXPECT_EQ(*blocks, (std::vector<std::string>{early_dir, late_dir}));
  EXPECT_TRUE(ListBlocks(env_, tmp_.Path("missing"))->empty());

  ASSERT_TRUE(CleanupTemporary(env_, tmp_.path()).ok());
  EXPECT_FALSE(env_->FileExists(tmp_.Path("bbb.tmp")));
  EXPECT_TRUE(env_->FileExists(tmp_.Path("damaged")));
  EXPECT_EQ(*ListBlocks(env_, tmp_.path()), (std::vector<std::string>{early_dir, late_dir}));
  EXPECT_TRUE(CleanupTemporary(env_, tmp_.Path("missing")).ok());
}

TEST_F(BlockTest, WritingAnExistingIdFails) {
  TestBlock b = MakeBlock(2, 1, 5);
  b.meta.id = "same";
  WriteBlock(b);
  EXPECT_EQ(Write(env_, tmp_.path(), b.meta, b.data).status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(OpenAndReadAll(env_, tmp_.Path("same")).ok());
}

TEST_F(BlockTest, RemoveDeletesTheBlock) {
  const std::string dir = WriteBlock(MakeBlock(10, 2, 10));
  auto r = Open(dir);  // a reader still mapping the files keeps working until it closes
  ASSERT_TRUE(Remove(env_, dir).ok());
  EXPECT_FALSE(env_->FileExists(dir));
  EXPECT_TRUE(ListBlocks(env_, tmp_.path())->empty());
  EXPECT_TRUE(env_->ListDir(tmp_.path())->empty());
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->ReadChunk((*r->SeriesChunks(0, kMin, kMax))[0]).ok());
  EXPECT_TRUE(Remove(env_, dir).ok());  // already gone
}

TEST_F(BlockTest, AFullDiskLeavesNoBlock) {
  const TestBlock b = MakeBlock(200, 3, 60);
  testing::FaultInjectionEnv faulty(env_);
  // Fail at every stage: chunks, index, meta, and in between.
  auto probe = Write(env_, tmp_.Path("probe"), b.meta, b.data);
  ASSERT_TRUE(probe.ok());
  const std::string probe_dir = tmp_.Path("probe/" + probe->id);
  const int64_t total =
      static_cast<int64_t>(*env_->FileSize(probe_dir + "/chunks") + *env_->FileSize(probe_dir + "/index") +
                           *env_->FileSize(probe_dir + "/meta"));
  for (int64_t budget : {int64_t{0}, int64_t{5}, int64_t{1000}, total / 2, total - 300, total - 20, total - 1}) {
    faulty.SetWriteBudget(budget);
    auto written = Write(&faulty, tmp_.Path("blocks"), b.meta, b.data);
    EXPECT_EQ(written.status().code(), StatusCode::kNoSpace) << budget << " " << written.status().ToString();
    EXPECT_TRUE(ListBlocks(env_, tmp_.Path("blocks"))->empty()) << budget;
    EXPECT_TRUE(env_->ListDir(tmp_.Path("blocks"))->empty()) << budget;  // no .tmp left either
  }
  faulty.SetWriteBudget(total);  // exactly enough
  EXPECT_TRUE(Write(&faulty, tmp_.Path("blocks"), b.meta, b.data).ok());

  faulty.SetWriteBudget(-1);
  faulty.FailSyncs(true);
  EXPECT_FALSE(Write(&faulty, tmp_.Path("synced"), b.meta, b.data).ok());
  EXPECT_TRUE(env_->ListDir(tmp_.Path("synced"))->empty());
}

// ---------------------------------------------------------------------------------------------
// Corruption: damage is kCorruption naming the file, never a crash.

class BlockCorruptionTest : public BlockTest {
 protected:
  void SetUp() override {
    block_ = MakeBlock(60, 3, 40, TestLabels, /*per_target=*/7);  // with timestamp columns
    dir_ = WriteBlock(block_);
    ASSERT_TRUE(OpenAndReadAll(env_, dir_).ok());
  }

  // Replaces `file` with `data`, checks that reading the block fails with kCorruption naming
  // one of `paths`, and restores the file.
  void ExpectCorruption(const std::string& file, std::string_view data, const std::vector<std::string>& paths,
                        const std::string& what) {
    const std::string path = dir_ + "/" + file;
    const std::string original = Read(env_, path);
    Overwrite(env_, path, data);
    const Status s = OpenAndReadAll(env_, dir_);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << what << ": " << s.ToString();
    EXPECT_TRUE(std::any_of(paths.begin(), paths.end(),
                            [&](const std::string& p) { return s.message().find(p) != std::string::npos; }))
        << what << ": " << s.ToString();
    Overwrite(env_, path, original);
  }

  // Offsets to cut a file of `size` bytes at: every one near the ends, a spread in between.
  static std::vector<size_t> CutPoints(size_t size) {
    std::set<size_t> cuts;
    for (size_t i = 0; i < std::min<size_t>(size, 64); ++i) cuts.insert(i);
    for (size_t i = size > 64 ? size - 64 : 0; i < size; ++i) cuts.insert(i);
    for (size_t i = 0; i < size; i += std::max<size_t>(1, size / 200)) cuts.insert(i);
    return {cuts.begin(), cuts.end()};
  }

  TestBlock block_;
  std::string dir_;
};

TEST_F(BlockCorruptionTest, TruncatedFilesAreReportedAsCorruption) {
  for (const char* file : {format::kMetaFile, format::kIndexFile, format::kChunksFile}) {
    const std::string path = dir_ + "/" + file;
    const std::string original = Read(env_, path);
    for (size_t cut : CutPoints(original.size())) {
      ExpectCorruption(file, std::string_view(original).substr(0, cut), {path},
                       path + " cut at " + std::to_string(cut));
    }
  }
}

TEST_F(BlockCorruptionTest, TruncatedFilesWithAMatchingMetaAreReportedAsCorruption) {
  // As above, but meta claims the new size, so the reader's structural checks see the damage.
  const std::string meta_path = dir_ + "/meta";
  const std::string meta = Read(env_, meta_path);
  for (const char* file : {format::kIndexFile, format::kChunksFile}) {
    const std::string path = dir_ + "/" + file;
    const std::string original = Read(env_, path);
    for (size_t cut : CutPoints(original.size())) {
      auto m = format::DecodeMeta(meta, meta_path);
      ASSERT_TRUE(m.ok());
      (std::string(file) == format::kIndexFile ? m->index_bytes : m->chunks_bytes) = cut;
      Overwrite(env_, meta_path, format::EncodeMeta(*m));
      // A chunks file cut short is noticed by the index walk (a chunk offset past its end).
      ExpectCorruption(file, std::string_view(original).substr(0, cut), {path, dir_ + "/index"},
                       path + " cut at " + std::to_string(cut));
    }
  }
  Overwrite(env_, meta_path, meta);
  EXPECT_TRUE(OpenAndReadAll(env_, dir_).ok());
}

TEST_F(BlockCorruptionTest, BitFlipsAreReportedAsCorruption) {
  std::mt19937_64 rng(42);
  for (const char* file : {format::kMetaFile, format::kIndexFile, format::kChunksFile}) {
    const std::string path = dir_ + "/" + file;
    const std::string original = Read(env_, path);
    std::vector<size_t> positions;
    for (size_t i = 0; i < std::min<size_t>(original.size(), 40); ++i) positions.push_back(i);  // headers
    for (int i = 0; i < 300; ++i) positions.push_back(rng() % original.size());
    for (size_t pos : positions) {
      std::string damaged = original;
      damaged[pos] = static_cast<char>(damaged[pos] ^ (1 << (rng() % 8)));
      ExpectCorruption(file, damaged, {path}, path + " bit flip at " + std::to_string(pos));
    }
  }
}

TEST_F(BlockCorruptionTest, MissingFilesAreErrors) {
  for (const char* file : {format::kMetaFile, format::kIndexFile, format::kChunksFile}) {
    const std::string path = dir_ + "/" + file;
    const std::string original = Read(env_, path);
    ASSERT_TRUE(env_->RemoveFile(path).ok());
    EXPECT_FALSE(Reader::Open(env_, dir_).ok()) << file;
    Overwrite(env_, path, original);
  }
  EXPECT_TRUE(OpenAndReadAll(env_, dir_).ok());
}

TEST_F(BlockCorruptionTest, AMetaNamingAnotherDirectoryIsCorruption) {
  ASSERT_TRUE(env_->RenameFile(dir_, tmp_.Path("renamed")).ok());
  auto r = Reader::Open(env_, tmp_.Path("renamed"));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_THAT(r.status().message(), HasSubstr("renamed/meta"));
  EXPECT_TRUE(ListBlocks(env_, tmp_.path())->empty());
}

TEST_F(BlockCorruptionTest, ChunkRefsThatAreNotChunksAreCorruption) {
  auto r = Open(dir_);
  ASSERT_NE(r, nullptr);
  const uint64_t size = r->size_bytes();
  for (uint64_t ref : {uint64_t{0}, uint64_t{7}, uint64_t{9}, uint64_t{100}, size, size * 2, ~uint64_t{0}}) {
    auto c = r->ReadChunk({0, 0, ref});
    EXPECT_EQ(c.status().code(), StatusCode::kCorruption) << ref;
    EXPECT_THAT(c.status().message(), HasSubstr(dir_ + "/chunks"));
  }
}

// Reads everything an index offers; any failure must be kCorruption.
void ExerciseIndex(const IndexReader& index) {
  auto expect_corruption = [](const Status& s) {
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    }
  };
  for (const std::vector<Matcher>& matchers : {std::vector<Matcher>{},
                                               {M(MatchType::kEqual, "job", "api")},
                                               {M(MatchType::kRegexMatch, "instance", "host-1.*")},
                                               {M(MatchType::kNotEqual, "env", "dev")},
                                               {M(MatchType::kRegexNoMatch, "__name__", "up|x")}}) {
    expect_corruption(index.Select(matchers).status());
  }
  for (const std::string& name : index.LabelNames()) expect_corruption(index.LabelValues(name).status());
  for (uint32_t id = 0; id < index.num_series(); ++id) {
    expect_corruption(index.SeriesLabels(id).status());
    expect_corruption(index.SeriesChunks(id, kMin, kMax).status());
  }
}

TEST_F(BlockTest, DamageBehindValidChecksumsIsCaughtByTheStructureChecks) {
  // What the fuzzer does at length (block_fuzz.cc): damaged sections re-framed with correct CRCs
  // reach the reader's structural checks, which must reject them or serve them safely.
  const TestBlock b = MakeBlock(40, 2, 10);
  const std::string dir = WriteBlock(b);
  const std::string index = Read(env_, dir + "/index");
  auto sections = format::SplitIndex(index, "index");
  ASSERT_TRUE(sections.ok()) << sections.status().ToString();
  const IndexReader::Limits limits{b.meta.min_time, b.meta.max_time, *env_->FileSize(dir + "/chunks")};
  {
    auto intact = IndexReader::Open(index, "index", limits);
    ASSERT_TRUE(intact.ok()) << intact.status().ToString();
    ExerciseIndex(**intact);
  }
  std::mt19937_64 rng(3);
  int rejected = 0;
  constexpr int kRounds = 3000;
  for (int i = 0; i < kRounds; ++i) {
    std::string parts[3] = {std::string(sections->symbols), std::string(sections->series),
                            std::string(sections->labels)};
    std::string& p = parts[rng() % 3];
    if (p.empty()) continue;
    switch (rng() % 3) {
      case 0:
        for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k)
          p[rng() % p.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:
        p.resize(rng() % p.size());
        break;
      default:
        p[rng() % p.size()] = static_cast<char>(rng());
        break;
    }
    const std::string framed = format::FrameIndex(parts[0], parts[1], parts[2]);
    auto r = IndexReader::Open(framed, "index", limits);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
      ++rejected;
      continue;
    }
    ExerciseIndex(**r);
  }
  EXPECT_GT(rejected, kRounds / 2);
}

// ---------------------------------------------------------------------------------------------
// Size: bytes per sample of a realistic block (printed; run with --gtest_filter=*BytesPerSample*).

TEST_F(BlockTest, BytesPerSampleOfTwoHoursOfScrapes) {
  // 2,000 series (40 metrics x 50 hosts, node_exporter-like labels), 2 h of 15 s scrapes: 480
  // samples each, in chunks of 120.
  auto labels = [](size_t i) {
    const size_t metric = i % 40;
    const size_t host = i / 40;
    std::vector<Label> pairs = {{"__name__", "node_metric_" + std::to_string(metric) + "_total"},
                                {"instance", "node-" + std::to_string(host) + ".dc1.example.internal:9100"},
                                {"job", "node"}};
    if (metric < 8) pairs.push_back({"cpu", std::to_string(metric)});
    if (metric >= 30) pairs.push_back({"device", "nvme" + std::to_string(metric - 30) + "n1"});
    return *Labels::FromPairs(std::move(pairs));
  };
  const TestBlock b = MakeBlock(2000, 4, 120, labels);
  uint64_t payload = 0;
  for (const TestSeries& s : b.series) {
    for (const auto& c : s.chunks) payload += c->bytes().size();
  }
  const std::string dir = WriteBlock(b);
  const double samples = 2000.0 * 480;
  const auto chunks = static_cast<double>(*env_->FileSize(dir + "/chunks"));
  const auto index = static_cast<double>(*env_->FileSize(dir + "/index"));
  const auto meta = static_cast<double>(*env_->FileSize(dir + "/meta"));
  std::printf(
      "block of 2000 series x 480 samples: chunk payload %.4f B/sample; chunks file %.4f; index %.4f; "
      "meta %.0f bytes; total %.4f B/sample (overhead over the payload %.2f%%)\n",
      static_cast<double>(payload) / samples, chunks / samples, index / samples, meta,
      (chunks + index + meta) / samples,
      100.0 * (chunks + index + meta - static_cast<double>(payload)) / static_cast<double>(payload));
  // Framing and index together cost a few percent of the chunks' own bytes.
  EXPECT_LT(chunks + index + meta, 1.08 * static_cast<double>(payload));
}

}  // namespace
}  // namespace tyto::tsdb::block
