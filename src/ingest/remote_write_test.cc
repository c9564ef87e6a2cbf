#include "ingest/remote_write.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "ingest/series_cache.h"
#include "ingest/snappy_codec.h"
#include "testing/fault_injection_env.h"
#include "testing/remote_write_builder.h"
#include "testing/temp_dir.h"
#include "tsdb/head.h"

namespace tyto::ingest {
namespace {

using testing::EncodeWriteRequest;
using testing::RemoteWriteSeries;
using Outcome = WriteResult::Outcome;

RemoteWriteSeries Series(std::string name, std::string instance, std::vector<std::pair<int64_t, double>> samples) {
  return {{{"__name__", std::move(name)}, {"instance", std::move(instance)}, {"job", "node"}}, std::move(samples)};
}

class RemoteWriteTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(Env::Default()); }

  void Open(Env* env) {
    receiver_.reset();
    head_.reset();
    tsdb::HeadOptions o;
    o.out_of_order_window = std::chrono::milliseconds(0);
    o.max_label_value_bytes = 64;
    auto h = tsdb::Head::Open(env, dir_.Path("wal"), o, nullptr);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    head_ = std::move(h).value();
    registry_ = std::make_unique<instrumentation::Registry>();
    receiver_ = std::make_unique<RemoteWriteReceiver>(head_.get(), RemoteWriteOptions{.max_decompressed_bytes = 4096},
                                                      registry_.get());
  }

  WriteResult Write(const std::vector<RemoteWriteSeries>& series, int metadata = 0) {
    return receiver_->Write(SnappyCompress(EncodeWriteRequest(series, metadata)));
  }

  // Stored samples of the series with this metric name and instance, as (t, v).
  std::vector<std::pair<int64_t, double>> Stored(const std::string& name, const std::string& instance) {
    auto q = head_->NewQuerier(INT64_MIN, INT64_MAX);
    EXPECT_TRUE(q.ok());
    auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__name__", name),
                             *Matcher::Make(MatchType::kEqual, "instance", instance)});
    std::vector<std::pair<int64_t, double>> out;
    while (set->Next()) {
      auto it = set->Iterator();
      while (it->Next()) out.emplace_back(it->At().t, it->At().v);
    }
    return out;
  }

  std::string Metrics() const { return registry_->Expose(); }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Head> head_;
  std::unique_ptr<instrumentation::Registry> registry_;
  std::unique_ptr<RemoteWriteReceiver> receiver_;
};

TEST_F(RemoteWriteTest, StoresEverySampleAndCountsWhatItSkips) {
  auto a = Series("up", "a", {{1000, 1}, {2000, 1}});
  a.exemplars = 2;
  auto b = Series("up", "b", {{1000, 0}});
  b.histograms = 1;
  WriteResult r = Write({a, b}, 3);
  EXPECT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  EXPECT_EQ(r.series, 2u);
  EXPECT_EQ(r.samples_received, 3u);
  EXPECT_EQ(r.samples_stored, 3u);
  EXPECT_EQ(r.exemplars_ignored, 2u);
  EXPECT_EQ(r.histograms_ignored, 1u);
  EXPECT_EQ(r.metadata_ignored, 3u);
  EXPECT_EQ(Stored("up", "a"), (std::vector<std::pair<int64_t, double>>{{1000, 1}, {2000, 1}}));
  EXPECT_EQ(Stored("up", "b"), (std::vector<std::pair<int64_t, double>>{{1000, 0}}));
  const std::string m = Metrics();
  EXPECT_NE(m.find("tyto_remote_write_samples_received_total 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_samples_stored_total 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_ignored_total{kind=\"metadata\"} 3\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_ignored_total{kind=\"exemplar\"} 2\n"), std::string::npos) << m;
  // The newest samples again (a sender's retry): equal samples are accepted and ignored.
  r = Write({Series("up", "a", {{2000, 1}}), Series("up", "b", {{1000, 0}})});
  EXPECT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  EXPECT_EQ(r.samples_stored, 2u);
  EXPECT_EQ(Stored("up", "a").size(), 2u);
}

TEST_F(RemoteWriteTest, OutOfOrderAndDuplicateSamplesAreSkippedAndTheRestStored) {
  ASSERT_EQ(Write({Series("up", "a", {{5000, 1}})}).outcome, Outcome::kStored);
  WriteResult r = Write({Series("up", "a", {{4000, 1}, {5000, 7}, {6000, 1}}), Series("up", "b", {{1000, 1}})});
  EXPECT_EQ(r.outcome, Outcome::kPartlyRejected);
  EXPECT_EQ(r.samples_received, 4u);
  EXPECT_EQ(r.samples_rejected, 2u);
  EXPECT_EQ(r.samples_stored, 2u);
  EXPECT_EQ(r.error.code(), StatusCode::kOutOfOrderSample);
  EXPECT_EQ(r.error.message().rfind("2 of 4 samples rejected; the first: timeseries[0].samples[0]: sample at 4000 for "
                                    "up{instance=\"a\", job=\"node\"} is older",
                                    0),
            0u)
      << r.error.message();
  EXPECT_EQ(Stored("up", "a"), (std::vector<std::pair<int64_t, double>>{{5000, 1}, {6000, 1}}));
  EXPECT_EQ(Stored("up", "b").size(), 1u);
  const std::string m = Metrics();
  EXPECT_NE(m.find("tyto_remote_write_samples_rejected_total{reason=\"out_of_order\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_samples_rejected_total{reason=\"duplicate\"} 1\n"), std::string::npos) << m;
}

TEST_F(RemoteWriteTest, SeriesWithBadLabelsAreSkippedAndNamed) {
  RemoteWriteSeries unsorted = {{{"__name__", "up"}, {"job", "node"}, {"instance", "c"}}, {{1000, 1}, {2000, 1}}};
  auto too_long = Series("up", std::string(100, 'x'), {{1000, 1}});  // over max_label_value_bytes
  WriteResult r = Write({Series("up", "a", {{1000, 1}}), unsorted, too_long});
  EXPECT_EQ(r.outcome, Outcome::kPartlyRejected);
  EXPECT_EQ(r.samples_rejected, 3u);
  EXPECT_EQ(r.samples_stored, 1u);
  EXPECT_EQ(r.error.message(),
            "3 of 4 samples rejected; the first: timeseries[1].labels[2]: labels are not sorted by name: "
            "\"instance\" comes after \"job\"");
  EXPECT_EQ(Stored("up", "a").size(), 1u);
  const std::string m = Metrics();
  EXPECT_NE(m.find("tyto_remote_write_samples_rejected_total{reason=\"invalid_labels\"} 2\n"), std::string::npos) << m;
  EXPECT_NE(m.find("tyto_remote_write_samples_rejected_total{reason=\"limit\"} 1\n"), std::string::npos) << m;
}

TEST_F(RemoteWriteTest, UndecodableBodiesStoreNothing) {
  std::string body = EncodeWriteRequest({Series("up", "a", {{1000, 1}}), Series("up", "b", {{1000, 1}})});
  body.pop_back();  // the second series is cut short: the first must not be stored either
  WriteResult r = receiver_->Write(SnappyCompress(body));
  EXPECT_EQ(r.outcome, Outcome::kBadRequest);
  EXPECT_EQ(r.error.message().rfind("timeseries[1]: ", 0), 0u) << r.error.message();
  EXPECT_TRUE(Stored("up", "a").empty());

  r = receiver_->Write("not snappy at all");
  EXPECT_EQ(r.outcome, Outcome::kBadRequest);
  EXPECT_NE(r.error.message().find("snappy"), std::string::npos) << r.error.message();

  // Over the 4096-byte decompressed limit.
  std::vector<RemoteWriteSeries> many;
  for (int i = 0; i < 200; ++i) many.push_back(Series("up", "host-" + std::to_string(i), {{1000, 1}}));
  r = Write(many);
  EXPECT_EQ(r.outcome, Outcome::kBadRequest);
  EXPECT_EQ(r.error.code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Stored("up", "host-0").empty());
  EXPECT_NE(Metrics().find("tyto_remote_write_invalid_requests_total 3\n"), std::string::npos);
}

// A label whose fields are written value first: other bytes, the same label.
std::string ValueFirstLabel(std::string_view name, std::string_view value) {
  std::string l;
  testing::PutBytesField(&l, 2, value);
  testing::PutBytesField(&l, 1, name);
  return l;
}

TEST_F(RemoteWriteTest, OneLabelSetInTwoEncodingsIsOneSeries) {
  const auto plain = [](int64_t t) { return EncodeWriteRequest({Series("up", "a", {{t, 1}})}); };
  const auto value_first = [](int64_t t) {
    std::string ts;
    testing::PutBytesField(&ts, 1, ValueFirstLabel("__name__", "up"));
    testing::PutBytesField(&ts, 1, ValueFirstLabel("instance", "a"));
    testing::PutBytesField(&ts, 1, ValueFirstLabel("job", "node"));
    ts += testing::EncodeTimeSeries({{}, {{t, 1}}});
    std::string req;
    testing::PutBytesField(&req, 1, ts);
    return req;
  };
  for (int64_t t = 1000; t <= 6000; t += 1000) {
    const std::string body = t % 2000 == 0 ? value_first(t) : plain(t);
    ASSERT_EQ(receiver_->Write(SnappyCompress(body)).outcome, Outcome::kStored) << t;
  }
  EXPECT_EQ(Stored("up", "a").size(), 6u);
  EXPECT_EQ(head_->num_series(), 1u);
  const std::string m = Metrics();
  EXPECT_NE(m.find("tyto_remote_write_series_cache_entries 2\n"), std::string::npos) << m;  // one per encoding
  EXPECT_NE(m.find("tyto_remote_write_series_cache_hits_total 4\n"), std::string::npos) << m;
}

// Labels are decoded only for series the cache does not know, yet a label that does not decode
// still refuses the whole request, whichever series it is in, before anything is stored.
TEST_F(RemoteWriteTest, AnUndecodableLabelRefusesTheRequestWhenOtherSeriesAreCached) {
  ASSERT_EQ(Write({Series("up", "a", {{1000, 1}})}).outcome, Outcome::kStored);
  std::string broken_label;
  testing::PutBytesField(&broken_label, 1, "job");
  broken_label += "\x12\x05no";  // the value field claims 5 bytes, 2 follow
  for (bool with_samples : {true, false}) {
    std::string ts;
    testing::PutBytesField(&ts, 1, broken_label);
    if (with_samples) ts += testing::EncodeTimeSeries({{}, {{2000, 1}}});
    std::string req = EncodeWriteRequest({Series("up", "a", {{2000, 1}})});
    testing::PutBytesField(&req, 1, ts);
    WriteResult r = receiver_->Write(SnappyCompress(req));
    EXPECT_EQ(r.outcome, Outcome::kBadRequest);
    EXPECT_EQ(r.error.message().rfind("timeseries[1]: labels[0]: invalid protobuf at byte ", 0), 0u)
        << r.error.message();
    EXPECT_EQ(Stored("up", "a").size(), 1u);  // the cached series' sample is not stored either
  }
}

TEST_F(RemoteWriteTest, ASeriesTheHeadDroppedIsCreatedAgainThroughTheCache) {
  ASSERT_EQ(Write({Series("up", "a", {{1000, 1}})}).outcome, Outcome::kStored);
  ASSERT_EQ(Write({Series("up", "a", {{2000, 1}})}).outcome, Outcome::kStored);
  ASSERT_TRUE(head_->Truncate(10000).ok());  // as after a block cut: the series has no samples left
  ASSERT_EQ(head_->num_series(), 0u);
  for (int64_t t = 11000; t <= 13000; t += 1000) {
    ASSERT_EQ(Write({Series("up", "a", {{t, 1}})}).outcome, Outcome::kStored) << t;
  }
  EXPECT_EQ(Stored("up", "a"), (std::vector<std::pair<int64_t, double>>{{11000, 1}, {12000, 1}, {13000, 1}}));
  EXPECT_EQ(head_->num_series(), 1u);
}

TEST(RemoteWriteCacheTest, MoreSeriesThanTheCacheHoldsAreAllStored) {
  testing::TempDir dir;
  auto head = tsdb::Head::Open(Env::Default(), dir.Path("wal"), {}, nullptr);
  ASSERT_TRUE(head.ok());
  instrumentation::Registry registry;
  RemoteWriteReceiver receiver(head->get(), {.series_cache_entries = 64}, &registry);
  for (int64_t t = 1000; t <= 5000; t += 1000) {
    std::vector<RemoteWriteSeries> series;
    for (int i = 0; i < 500; ++i) series.push_back(Series("up", "host-" + std::to_string(i), {{t, 1}}));
    WriteResult r = receiver.Write(SnappyCompress(EncodeWriteRequest(series)));
    ASSERT_EQ(r.outcome, Outcome::kStored) << r.error.ToString();
  }
  EXPECT_EQ((*head)->num_series(), 500u);
  auto q = (*head)->NewQuerier(INT64_MIN, INT64_MAX);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__name__", "up")});
  size_t samples = 0;
  while (set->Next()) {
    for (auto it = set->Iterator(); it->Next();) ++samples;
  }
  EXPECT_EQ(samples, 2500u);
  const std::string m = registry.Expose();
  EXPECT_NE(m.find("tyto_remote_write_series_cache_entries 64\n"), std::string::npos) << m;
}

// Writers on several threads into one receiver and head, with a cache too small for them, so
// that lookups, insertions and evictions interleave (ThreadSanitizer runs this in the tsan build).
TEST(RemoteWriteCacheTest, ConcurrentWritersStoreEverySample) {
  testing::TempDir dir;
  auto head = tsdb::Head::Open(Env::Default(), dir.Path("wal"), {}, nullptr);
  ASSERT_TRUE(head.ok());
  instrumentation::Registry registry;
  RemoteWriteReceiver receiver(head->get(), {.series_cache_entries = 128}, &registry);
  constexpr int kWriters = 4, kSeries = 100, kRounds = 20;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int64_t round = 1; round <= kRounds; ++round) {
        std::vector<RemoteWriteSeries> series;
        for (int i = 0; i < kSeries; ++i) {
          series.push_back(Series("up", "w" + std::to_string(w) + "-" + std::to_string(i), {{round * 1000, 1}}));
        }
        WriteResult r = receiver.Write(SnappyCompress(EncodeWriteRequest(series)));
        if (r.outcome != Outcome::kStored) ADD_FAILURE() << r.error.ToString();
      }
    });
  }
  for (std::thread& t : writers) t.join();
  EXPECT_EQ((*head)->num_series(), static_cast<uint64_t>(kWriters * kSeries));
  auto q = (*head)->NewQuerier(INT64_MIN, INT64_MAX);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select({*Matcher::Make(MatchType::kEqual, "__name__", "up")});
  size_t samples = 0;
  while (set->Next()) {
    for (auto it = set->Iterator(); it->Next();) ++samples;
  }
  EXPECT_EQ(samples, static_cast<size_t>(kWriters * kSeries * kRounds));
}

TEST_F(RemoteWriteTest, StorageFailureStoresNothingOfTheRequest) {
  testing::FaultInjectionEnv env(Env::Default());
  Open(&env);
  ASSERT_EQ(Write({Series("up", "a", {{0, 1}})}).outcome, Outcome::kStored);
  env.SetWriteBudget(10);
  WriteResult r;
  int64_t t = 1;
  for (; t < 100000; ++t) {
    r = Write({Series("up", "a", {{t * 1000, 1}}), Series("up", "b", {{t * 1000, 1}})});
    if (r.outcome != Outcome::kStored) break;
  }
  ASSERT_EQ(r.outcome, Outcome::kStorageFailed) << r.error.ToString();
  EXPECT_EQ(r.error.code(), StatusCode::kNoSpace) << r.error.ToString();
  EXPECT_EQ(r.samples_stored, 0u);
  EXPECT_EQ(r.samples_rejected, 2u);
  // Every acknowledged sample is there, and nothing of the failed request.
  EXPECT_EQ(Stored("up", "a").size(), static_cast<size_t>(t));
  EXPECT_EQ(Stored("up", "b").size(), static_cast<size_t>(t - 1));
  receiver_.reset();
  head_.reset();  // before `env` goes
}

}  // namespace
}  // namespace tyto::ingest

namespace tyto::ingest {
namespace {

// A storage that records the refs it is given, and can forget a series (as a head does once a
// series has had no samples for a while) so that its old ref no longer resolves.
class RecordingStorage final : public Storage {
 public:
  class App final : public Appender {
   public:
    explicit App(RecordingStorage* s) : s_(s) {}
    Result<SeriesRef> Append(SeriesRef ref, const Labels& labels, int64_t, double) override {
      s_->refs_given.push_back(ref);
      if (ref != 0 && s_->by_ref.count(ref)) return ref;
      for (auto& [r, l] : s_->by_ref) {
        if (l == labels) return r;
      }
      s_->by_ref[++s_->next_ref] = labels;
      return s_->next_ref;
    }
    Status Commit() override { return Status::Ok(); }
    void Rollback() override {}

   private:
    RecordingStorage* s_;
  };
  std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(this); }
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t, int64_t) override {
    return Status(StatusCode::kUnimplemented, "not here");
  }

  std::map<SeriesRef, Labels> by_ref;
  SeriesRef next_ref = 0;
  std::vector<SeriesRef> refs_given;
};

TEST(RemoteWriteCacheTest, KnownSeriesGoByRefAndADroppedRefIsReplaced) {
  RecordingStorage storage;
  instrumentation::Registry registry;
  RemoteWriteReceiver receiver(&storage, {}, &registry);
  auto body = [](int64_t t) {
    return SnappyCompress(EncodeWriteRequest({Series("up", "a", {{t, 1}}), Series("up", "b", {{t, 1}})}));
  };
  ASSERT_EQ(receiver.Write(body(1)).outcome, Outcome::kStored);
  ASSERT_EQ(receiver.Write(body(2)).outcome, Outcome::kStored);
  EXPECT_EQ(storage.refs_given, (std::vector<SeriesRef>{0, 0, 1, 2}));  // by ref the second time
  EXPECT_NE(registry.Expose().find("tyto_remote_write_series_cache_hits_total 2\n"), std::string::npos);
  EXPECT_NE(registry.Expose().find("tyto_remote_write_series_cache_entries 2\n"), std::string::npos);

  storage.by_ref.erase(1);  // "a" is dropped; its next append creates it again as ref 3
  storage.refs_given.clear();
  ASSERT_EQ(receiver.Write(body(3)).outcome, Outcome::kStored);
  ASSERT_EQ(receiver.Write(body(4)).outcome, Outcome::kStored);
  EXPECT_EQ(storage.refs_given, (std::vector<SeriesRef>{1, 2, 3, 2}));
  EXPECT_EQ(storage.by_ref.at(3), Labels::Of({"__name__", "up", "instance", "a", "job", "node"}));

  // The same labels encoded differently (a label after a sample: not contiguous) are checked
  // and looked up by labels every time, never cached under partial bytes.
  std::string ts = testing::EncodeTimeSeries({{{"__name__", "up"}}, {{5, 1}}});
  testing::PutBytesField(&ts, 1, [] {
    std::string l;
    testing::PutBytesField(&l, 1, "zone");
    testing::PutBytesField(&l, 2, "eu");
    return l;
  }());
  std::string req;
  testing::PutBytesField(&req, 1, ts);
  storage.refs_given.clear();
  ASSERT_EQ(receiver.Write(SnappyCompress(req)).outcome, Outcome::kStored);
  ASSERT_EQ(receiver.Write(SnappyCompress(req)).outcome, Outcome::kStored);
  EXPECT_EQ(storage.refs_given, (std::vector<SeriesRef>{0, 0}));
  EXPECT_EQ(storage.by_ref.at(4), Labels::Of({"__name__", "up", "zone", "eu"}));
}

}  // namespace
}  // namespace tyto::ingest

// SeriesCache (series_cache.h) on its own.
namespace tyto::ingest {
namespace {

Labels LabelsFor(std::string_view key) { return Labels::Of({"__name__", "m", "key", key}); }

// Every key that the cache finds maps to its own labels and ref; returns how many it finds.
size_t CheckConsistent(const SeriesCache& cache, const std::vector<std::string>& keys) {
  size_t found = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    SeriesCache::Handle h = cache.Find(keys[i]);
    if (!h) continue;
    ++found;
    EXPECT_EQ(h->key(), keys[i]);
    EXPECT_EQ(h->labels(), LabelsFor(keys[i]));
    EXPECT_EQ(h->ref(), i + 1);
  }
  return found;
}

std::vector<std::string> Keys(size_t n) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < n; ++i) keys.push_back("series-" + std::to_string(i) + std::string(i % 40, 'x'));
  return keys;
}

TEST(SeriesCacheTest, FindsByExactBytes) {
  SeriesCache cache(1024);
  EXPECT_FALSE(cache.Find("a"));
  cache.Insert("a", LabelsFor("a"), 7);
  SeriesCache::Handle e = cache.Find("a");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ref(), 7u);
  EXPECT_EQ(e->labels(), LabelsFor("a"));
  EXPECT_FALSE(cache.Find("ab"));
  EXPECT_FALSE(cache.Find(""));
  EXPECT_FALSE(cache.Find(std::string_view("a\0", 2)));
  e->set_ref(9);
  EXPECT_EQ(cache.Find("a")->ref(), 9u);
  cache.Insert("a", LabelsFor("other"), 8);  // already there: kept as it was
  EXPECT_EQ(cache.Find("a")->ref(), 9u);
  EXPECT_EQ(cache.size(), 1u);

  SeriesCache off(0);
  off.Insert("a", LabelsFor("a"), 7);
  EXPECT_FALSE(off.Find("a"));
  EXPECT_EQ(off.size(), 0u);
}

TEST(SeriesCacheTest, KeysWithTheSameHashAreToldApartByTheirBytes) {
  SeriesCache cache(16 * 500, [](std::string_view) { return uint64_t{42}; });  // one shard, one probe run
  const std::vector<std::string> keys = Keys(300);
  for (size_t i = 0; i < keys.size(); ++i) cache.Insert(keys[i], LabelsFor(keys[i]), i + 1);
  EXPECT_EQ(cache.size(), keys.size());
  EXPECT_EQ(CheckConsistent(cache, keys), keys.size());
  EXPECT_FALSE(cache.Find("series-300"));
  EXPECT_FALSE(cache.Find("series-2x"));  // a prefix of "series-2xx", which is there

  std::vector<std::string_view> wanted = {keys[5], "absent", keys[299], keys[0], keys[5]};
  std::vector<SeriesCache::Handle> found;
  cache.FindAll(wanted, &found);
  ASSERT_EQ(found.size(), wanted.size());
  EXPECT_EQ(found[0]->ref(), 6u);
  EXPECT_FALSE(found[1]);
  EXPECT_EQ(found[2]->ref(), 300u);
  EXPECT_EQ(found[3]->ref(), 1u);
  EXPECT_EQ(found[4].get(), found[0].get());
}

// Eviction removes entries from the middle of probe runs (here long, and wrapping around the
// table's end); every entry left must still be reachable, and the bound must hold.
TEST(SeriesCacheTest, EvictionKeepsTheBoundAndEveryEntryLeftReachable) {
  const SeriesCache::HashFunction clustered = [](std::string_view key) {
    return ~uint64_t{0} - key.size() % 7;  // home: one of the table's last 7 slots, so runs wrap
  };
  for (SeriesCache::HashFunction hash : {clustered, SeriesCache::HashFunction{nullptr}}) {
    SeriesCache cache(16 * 40, hash);
    const std::vector<std::string> keys = Keys(2000);
    for (size_t i = 0; i < keys.size(); ++i) {
      cache.Insert(keys[i], LabelsFor(keys[i]), i + 1);
      ASSERT_TRUE(cache.Find(keys[i])) << i;  // the newest is always there
      if (i % 97 == 0) {
        ASSERT_EQ(CheckConsistent(cache, keys), cache.size()) << i;
      }
    }
    EXPECT_LE(cache.size(), 16u * 40);
    EXPECT_EQ(CheckConsistent(cache, keys), cache.size());
  }
}

TEST(SeriesCacheTest, TheClockSparesWhatWasFoundSinceItLastPassed) {
  SeriesCache cache(16 * 2, [](std::string_view key) { return static_cast<uint64_t>(key[0]); });
  cache.Insert("a", LabelsFor("a"), 1);
  cache.Insert("b", LabelsFor("b"), 2);
  EXPECT_TRUE(cache.Find("a"));
  cache.Insert("c", LabelsFor("c"), 3);  // full (2 a shard): "b", not found since, goes
  EXPECT_TRUE(cache.Find("a"));
  EXPECT_FALSE(cache.Find("b"));
  EXPECT_TRUE(cache.Find("c"));
  EXPECT_EQ(cache.size(), 2u);
}

TEST(SeriesCacheTest, AHeldEntryOutlivesItsEviction) {
  SeriesCache cache(16, [](std::string_view) { return uint64_t{1}; });  // one entry a shard
  cache.Insert("a", LabelsFor("a"), 1);
  SeriesCache::Handle held = cache.Find("a");
  cache.Insert("b", LabelsFor("b"), 2);
  EXPECT_FALSE(cache.Find("a"));
  ASSERT_TRUE(held);
  EXPECT_EQ(held->key(), "a");  // still readable (AddressSanitizer checks it)
  EXPECT_EQ(held->labels(), LabelsFor("a"));
  SeriesCache::Handle moved = std::move(held);
  EXPECT_FALSE(held);
  EXPECT_EQ(moved->ref(), 1u);
}

// Writers that find, insert and evict at once (run under ThreadSanitizer by scripts/test.sh's
// tsan build): every entry found is whole and belongs to its key.
TEST(SeriesCacheTest, ConcurrentFindsInsertsAndEvictions) {
  SeriesCache cache(16 * 8);
  const std::vector<std::string> keys = Keys(600);
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w) {
    threads.emplace_back([&, w] {
      std::vector<SeriesCache::Handle> found;
      for (int round = 0; round < 20; ++round) {
        for (size_t i = static_cast<size_t>(w); i < keys.size(); i += 3) {
          if (SeriesCache::Handle h = cache.Find(keys[i])) {
            if (h->key() != keys[i] || h->labels() != LabelsFor(keys[i])) ADD_FAILURE() << keys[i];
          } else {
            cache.Insert(keys[i], LabelsFor(keys[i]), i + 1);
          }
        }
        std::vector<std::string_view> batch(keys.begin() + round * 20, keys.begin() + round * 20 + 40);
        cache.FindAll(batch, &found);
        for (size_t k = 0; k < batch.size(); ++k) {
          if (found[k] && found[k]->key() != batch[k]) ADD_FAILURE() << batch[k];
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(cache.size(), 16u * 8);
  EXPECT_EQ(CheckConsistent(cache, keys), cache.size());
}

}  // namespace
}  // namespace tyto::ingest
