#include "ingest/remote_write.h"

#include <gtest/gtest.h>

#include <map>

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

TEST(SeriesCacheTest, FindsByExactBytesAndStaysWithinItsBound) {
  SeriesCache cache(32);  // 2 per shard
  EXPECT_EQ(cache.Find("a"), nullptr);
  cache.Insert("a", Labels::Of({"__name__", "a"}), 7);
  auto e = cache.Find("a");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->ref.load(), 7u);
  EXPECT_EQ(e->labels.MetricName(), "a");
  EXPECT_EQ(cache.Find("ab"), nullptr);
  for (int i = 0; i < 1000; ++i) cache.Insert("k" + std::to_string(i), Labels::Of({"__name__", "k"}), 1);
  EXPECT_LE(cache.size(), 32u);
  EXPECT_EQ(e->labels.MetricName(), "a");  // a held entry outlives its eviction
  SeriesCache off(0);
  off.Insert("a", Labels::Of({"__name__", "a"}), 7);
  EXPECT_EQ(off.Find("a"), nullptr);
}

}  // namespace
}  // namespace tyto::ingest
