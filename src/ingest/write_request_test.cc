#include "ingest/write_request.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "ingest/snappy_codec.h"
#include "testing/remote_write_builder.h"

namespace tyto::ingest {
namespace {

using testing::EncodeTimeSeries;
using testing::EncodeWriteRequest;
using testing::PutBytesField;
using testing::PutVarintField;
using testing::RemoteWriteSeries;

const RemoteWriteSeries kUp = {{{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}},
                               {{1000, 1}, {16000, 0}}};

std::string LabelsOf(const WriteRequest& r, size_t i) {
  std::string out;
  for (uint32_t k = r.series[i].labels_begin; k < r.series[i].labels_end; ++k) {
    out += std::string(r.labels[k].name) + "=" + std::string(r.labels[k].value) + ";";
  }
  return out;
}

TEST(WriteRequestTest, DecodesSeriesLabelsAndSamples) {
  RemoteWriteSeries gpu = {{{"DCGM_FI_DEV_GPU_TEMP", ""}, {"__name__", "DCGM_FI_DEV_GPU_TEMP"}, {"gpu", "0"}},
                           {{-5, 41.5}, {INT64_MAX, -0.0}, {7, std::nan("")}}, 2, 1};
  gpu.labels.erase(gpu.labels.begin());
  const std::string body = EncodeWriteRequest({kUp, gpu}, 3);  // the views point into it
  WriteRequest r;
  ASSERT_TRUE(DecodeWriteRequest(body, &r).ok());
  ASSERT_EQ(r.series.size(), 2u);
  EXPECT_EQ(LabelsOf(r, 0), "__name__=up;instance=a:9100;job=node;");
  EXPECT_EQ(LabelsOf(r, 1), "__name__=DCGM_FI_DEV_GPU_TEMP;gpu=0;");
  ASSERT_EQ(r.samples.size(), 5u);
  EXPECT_EQ(r.series[0].samples_end - r.series[0].samples_begin, 2u);
  EXPECT_EQ(r.samples[1].t, 16000);
  EXPECT_EQ(r.samples[2].t, -5);
  EXPECT_EQ(r.samples[2].v, 41.5);
  EXPECT_EQ(r.samples[3].t, INT64_MAX);
  EXPECT_TRUE(std::signbit(r.samples[3].v));
  EXPECT_TRUE(std::isnan(r.samples[4].v));
  EXPECT_EQ(r.exemplars, 2u);
  EXPECT_EQ(r.histograms, 1u);
  EXPECT_EQ(r.metadata, 3u);
  EXPECT_EQ(r.series[0].offset, 0u);
  EXPECT_TRUE(CheckSeriesLabels(r, 0).ok());
  EXPECT_TRUE(CheckSeriesLabels(r, 1).ok());
}

TEST(WriteRequestTest, SkipsUnknownFieldsEverywhere) {
  std::string label;
  PutBytesField(&label, 1, "__name__");
  PutVarintField(&label, 9, 1);
  PutBytesField(&label, 2, "up");
  std::string sample;
  PutVarintField(&sample, 2, 5);
  PutBytesField(&sample, 15, "future");
  std::string ts;
  PutBytesField(&ts, 1, label);
  PutVarintField(&ts, 20, 3);
  PutBytesField(&ts, 2, sample);
  std::string req;
  PutVarintField(&req, 2, 1);  // a reserved field
  PutBytesField(&req, 1, ts);
  PutBytesField(&req, 99, "x");
  WriteRequest r;
  ASSERT_TRUE(DecodeWriteRequest(req, &r).ok());
  ASSERT_EQ(r.series.size(), 1u);
  EXPECT_EQ(LabelsOf(r, 0), "__name__=up;");
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].t, 5);
  EXPECT_EQ(r.samples[0].v, 0);  // proto3 default
}

// Samples as every sender writes them are read by a shortcut; any other layout of the same
// fields (reordered, repeated: the last wins, a field left out: zero) reads the same.
TEST(WriteRequestTest, SamplesReadTheSameWhateverTheLayoutOfTheirFields) {
  struct Case {
    std::string bytes;
    int64_t t;
    double v;
  };
  const auto sample = [](auto... fields) {
    std::string m;
    (fields(&m), ...);
    return m;
  };
  const auto value = [](double v) { return [v](std::string* m) { testing::PutDoubleField(m, 1, v); }; };
  const auto time = [](int64_t t) {
    return [t](std::string* m) { PutVarintField(m, 2, static_cast<uint64_t>(t)); };
  };
  const std::vector<Case> cases = {
      {sample(value(2.5), time(1700000000000)), 1700000000000, 2.5},  // the usual layout
      {sample(value(-1), time(-5)), -5, -1},                          // a 10-byte varint
      {sample(time(7), value(2.5)), 7, 2.5},
      {sample(value(1), time(7), value(3)), 7, 3},
      {sample(value(3), time(8), time(9)), 9, 3},
      {sample(time(7)), 7, 0},
      {sample(value(4)), 0, 4},
      {sample(), 0, 0},
      {sample(value(4), time(7), [](std::string* m) { PutVarintField(m, 5, 1); }), 7, 4},
  };
  for (const Case& c : cases) {
    std::string ts = EncodeTimeSeries({{{"__name__", "up"}}, {}});
    PutBytesField(&ts, 2, c.bytes);
    std::string req;
    PutBytesField(&req, 1, ts);
    WriteRequest r;
    ASSERT_TRUE(DecodeWriteRequest(req, &r).ok()) << ::testing::PrintToString(c.bytes);
    ASSERT_EQ(r.samples.size(), 1u);
    EXPECT_EQ(r.samples[0].t, c.t) << ::testing::PrintToString(c.bytes);
    EXPECT_EQ(r.samples[0].v, c.v) << ::testing::PrintToString(c.bytes);
  }
}

TEST(WriteRequestTest, EmptyRequestDecodesToNothing) {
  WriteRequest r;
  ASSERT_TRUE(DecodeWriteRequest("", &r).ok());
  EXPECT_TRUE(r.series.empty());
}

TEST(WriteRequestTest, MalformedBodiesNameTheSeriesTheFieldAndTheByte) {
  const std::string good = EncodeWriteRequest({kUp, kUp});
  WriteRequest r;
  // Every truncation of a valid body is either a shorter valid body or an error: never a crash.
  int errors = 0;
  for (size_t n = 0; n < good.size(); ++n) {
    Status st = DecodeWriteRequest(std::string_view(good).substr(0, n), &r);
    if (!st.ok()) {
      ++errors;
      EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
      EXPECT_NE(st.message().find("invalid protobuf at byte"), std::string::npos) << st.message();
    }
  }
  EXPECT_GT(errors, static_cast<int>(good.size()) / 2);

  // A sample's value with the wrong wire type, in the second series.
  std::string bad_sample;
  PutVarintField(&bad_sample, 1, 3);
  std::string ts = EncodeTimeSeries(kUp);
  PutBytesField(&ts, 2, bad_sample);
  std::string req = EncodeWriteRequest({kUp});
  PutBytesField(&req, 1, ts);
  Status st = DecodeWriteRequest(req, &r);
  EXPECT_EQ(st.message().rfind("timeseries[1]: samples[2]: invalid protobuf at byte ", 0), 0u) << st.message();
  EXPECT_NE(st.message().find("field 1 has wire type varint, expected fixed64"), std::string::npos) << st.message();

  // Garbage at the top level.
  st = DecodeWriteRequest("\xff\xff\xff", &r);
  EXPECT_EQ(st.message(), "WriteRequest: invalid protobuf at byte 0: truncated or over-long field key");
  // A label that is not a message.
  std::string ts2;
  PutBytesField(&ts2, 1, "\x0a\x09" "x");
  req.clear();
  PutBytesField(&req, 1, ts2);
  st = DecodeWriteRequest(req, &r);
  EXPECT_EQ(st.message(), "timeseries[0]: labels[0]: invalid protobuf at byte 5: field 1: length 9 exceeds the 1 "
                          "bytes left in the message");
}

// Decodes lazily, then the labels of every series left undecoded: the first error, or OK.
Status DecodeLazily(std::string_view body, WriteRequest* r) {
  TYTO_RETURN_IF_ERROR(DecodeWriteRequest(body, r, LabelDecoding::kLazy));
  for (size_t i = 0; i < r->series.size(); ++i) TYTO_RETURN_IF_ERROR(DecodeSeriesLabels(r, i));
  return Status::Ok();
}

TEST(WriteRequestTest, LazyLabelsAreDecodedOnDemandWithTheSameLabelsAndErrors) {
  RemoteWriteSeries scattered = kUp;  // a label after the samples: decoded at once
  std::string scattered_ts = EncodeTimeSeries(scattered);
  std::string zone;
  PutBytesField(&zone, 1, "zone");
  PutBytesField(&zone, 2, "eu");
  PutBytesField(&scattered_ts, 1, zone);
  std::string body = EncodeWriteRequest({kUp});
  PutBytesField(&body, 1, scattered_ts);
  WriteRequest lazy;
  ASSERT_TRUE(DecodeWriteRequest(body, &lazy, LabelDecoding::kLazy).ok());
  ASSERT_EQ(lazy.series.size(), 2u);
  EXPECT_FALSE(lazy.series[0].labels_decoded);
  EXPECT_EQ(LabelsOf(lazy, 0), "");
  EXPECT_FALSE(lazy.series[0].label_bytes.empty());
  EXPECT_TRUE(lazy.series[1].labels_decoded);
  EXPECT_TRUE(lazy.series[1].label_bytes.empty());
  EXPECT_EQ(LabelsOf(lazy, 1), "__name__=up;instance=a:9100;job=node;zone=eu;");
  EXPECT_EQ(lazy.samples.size(), 4u);
  ASSERT_TRUE(DecodeSeriesLabels(&lazy, 0).ok());
  EXPECT_EQ(LabelsOf(lazy, 0), "__name__=up;instance=a:9100;job=node;");
  EXPECT_TRUE(CheckSeriesLabels(lazy, 0).ok());
  ASSERT_TRUE(DecodeSeriesLabels(&lazy, 0).ok());  // again: nothing more
  EXPECT_EQ(LabelsOf(lazy, 0), "__name__=up;instance=a:9100;job=node;");

  // Every one-byte change and every truncation of a body: eager decoding succeeds exactly when
  // lazy decoding and then DecodeSeriesLabels do, with the same labels and samples; a label
  // error found late still names its series, label and byte.
  int label_errors = 0;
  const auto same = [&](std::string_view b) {
    WriteRequest eager;
    const Status e = DecodeWriteRequest(b, &eager);
    const Status l = DecodeLazily(b, &lazy);
    ASSERT_EQ(e.ok(), l.ok()) << e.ToString() << " / " << l.ToString();
    if (!e.ok()) {
      EXPECT_NE(l.message().find("invalid protobuf at byte "), std::string::npos) << l.message();
      if (l.message().find("labels[") != std::string::npos && e.message() == l.message()) ++label_errors;
      return;
    }
    ASSERT_EQ(eager.series.size(), lazy.series.size());
    for (size_t i = 0; i < eager.series.size(); ++i) {
      EXPECT_EQ(LabelsOf(eager, i), LabelsOf(lazy, i)) << i;
      EXPECT_EQ(eager.series[i].label_bytes, lazy.series[i].label_bytes) << i;
    }
    ASSERT_EQ(eager.samples.size(), lazy.samples.size());
    for (size_t k = 0; k < eager.samples.size(); ++k) EXPECT_EQ(eager.samples[k].t, lazy.samples[k].t) << k;
  };
  for (size_t at = 0; at < body.size(); ++at) {
    same(std::string_view(body).substr(0, at));
    for (int delta : {1, 0x40, 0x80}) {
      std::string changed = body;
      changed[at] = static_cast<char>(changed[at] + delta);
      same(changed);
    }
  }
  EXPECT_GT(label_errors, 10);
}

Status CheckOnly(const RemoteWriteSeries& s) {
  static std::string buf;  // the decoded views point into it
  buf = EncodeWriteRequest({kUp, s});
  WriteRequest r;
  Status st = DecodeWriteRequest(buf, &r);
  if (!st.ok()) return st;
  return CheckSeriesLabels(r, 1);
}

TEST(WriteRequestTest, LabelChecksNameTheSeriesAndTheLabel) {
  using L = std::vector<std::pair<std::string, std::string>>;
  auto with = [](L labels) { return RemoteWriteSeries{std::move(labels), {{1, 1}}}; };
  EXPECT_EQ(CheckOnly(with({})).message(), "timeseries[1] has no labels");
  EXPECT_EQ(CheckOnly(with({{"__name__", "up"}, {"job", "a"}, {"instance", "b"}})).message(),
            "timeseries[1].labels[2]: labels are not sorted by name: \"instance\" comes after \"job\"");
  EXPECT_EQ(CheckOnly(with({{"__name__", "up"}, {"job", "a"}, {"job", "b"}})).message(),
            "timeseries[1].labels[2]: label name \"job\" given twice");
  EXPECT_EQ(CheckOnly(with({{"", "x"}, {"__name__", "up"}})).message(), "timeseries[1].labels[0]: empty label name");
  EXPECT_EQ(CheckOnly(with({{"__name__", "up"}, {"b\xff", "x"}})).message(),
            "timeseries[1].labels[1]: label name \"b\\xff\" is not valid UTF-8 at byte 1");
  EXPECT_EQ(CheckOnly(with({{"__name__", "up"}, {"job", "ok\xc3("}})).message(),
            "timeseries[1].labels[1]: value of label \"job\" is not valid UTF-8 at byte 2: \"ok\\xc3(\"");
  EXPECT_EQ(CheckOnly(with({{"job", "a"}})).message(), "timeseries[1]: no metric name (a non-empty __name__ label)");
  EXPECT_EQ(CheckOnly(with({{"__name__", ""}, {"job", "a"}})).message(),
            "timeseries[1]: no metric name (a non-empty __name__ label)");
  // UTF-8 names (Prometheus 3) and empty values (= label absent) are fine.
  EXPECT_TRUE(CheckOnly(with({{"__name__", "gpu.temp °C"}, {"région", "é"}, {"zone", ""}})).ok());
}

TEST(WriteRequestEncoderTest, RoundTripsThroughTheDecoder) {
  std::vector<SeriesSamples> in = {
      {Labels::Of({"__name__", "up", "instance", "a:9100", "job", "node"}), {{1000, 1}, {16000, 0}}},
      {Labels::Of({"__name__", "gpu.temp °C", "gpu", "0"}),
       {{-5, 41.5}, {INT64_MAX, -0.0}, {INT64_MIN, std::nan("")}, {0, StaleMarker()}}},
      {Labels::Of({"__name__", "no_samples"}), {}},
      {Labels::Of({"__name__", std::string(300, 'x'), "long", std::string(70000, 'v')}), {{7, 1e300}}},
  };
  std::string body;
  ingest::EncodeWriteRequest(in, &body);
  WriteRequest r;
  ASSERT_TRUE(DecodeWriteRequest(body, &r).ok());
  ASSERT_EQ(r.series.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    std::string want;
    for (const Label& l : in[i].labels) want += l.name + "=" + l.value + ";";
    EXPECT_EQ(LabelsOf(r, i), want) << i;
    EXPECT_TRUE(CheckSeriesLabels(r, i).ok()) << i;
    ASSERT_EQ(r.series[i].samples_end - r.series[i].samples_begin, in[i].samples.size()) << i;
    for (size_t k = 0; k < in[i].samples.size(); ++k) {
      const Sample got = r.samples[r.series[i].samples_begin + k];
      EXPECT_EQ(got.t, in[i].samples[k].t) << i << "/" << k;
      uint64_t got_bits = 0, want_bits = 0;
      std::memcpy(&got_bits, &got.v, 8);
      std::memcpy(&want_bits, &in[i].samples[k].v, 8);
      EXPECT_EQ(got_bits, want_bits) << i << "/" << k;  // -0, NaN and the stale marker, bit for bit
    }
  }
  EXPECT_TRUE(IsStaleMarker(r.samples[r.series[1].samples_begin + 3].v));

  // Byte for byte what the independent test encoder writes for the same sorted series.
  std::string one;
  ingest::EncodeWriteRequest(std::span<const SeriesSamples>(in.data(), 1), &one);
  EXPECT_EQ(one, EncodeWriteRequest({kUp}));

  ingest::EncodeWriteRequest({}, &body);
  EXPECT_TRUE(body.empty());
}

TEST(WriteRequestEncoderTest, SortsLabelViewsByName) {
  const std::vector<LabelView> unsorted = {{"job", "node"}, {"__name__", "up"}, {"instance", "a:9100"}};
  const std::vector<Sample> samples = {{1000, 1}, {16000, 0}};
  std::string body;
  AppendTimeSeries(unsorted, samples, &body);
  EXPECT_EQ(body, EncodeWriteRequest({kUp}));  // kUp lists the same labels sorted
  std::string twice;
  AppendTimeSeries(Labels::Of({"__name__", "up", "instance", "a:9100", "job", "node"}), samples, &twice);
  AppendTimeSeries(std::span<const LabelView>(unsorted), samples, &twice);
  WriteRequest r;
  ASSERT_TRUE(DecodeWriteRequest(twice, &r).ok());
  ASSERT_EQ(r.series.size(), 2u);
  EXPECT_EQ(LabelsOf(r, 0), LabelsOf(r, 1));
  EXPECT_EQ(r.series[0].label_bytes, r.series[1].label_bytes);
}

TEST(SnappyTest, RoundTripsAndRefusesCorruptOrOversizedBlocks) {
  const std::string raw = EncodeWriteRequest({kUp, kUp, kUp});
  const std::string packed = SnappyCompress(raw);
  std::string out;
  ASSERT_TRUE(SnappyUncompress(packed, raw.size(), &out).ok());
  EXPECT_EQ(out, raw);

  Status st = SnappyUncompress(packed, raw.size() - 1, &out);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "snappy block declares " + std::to_string(raw.size()) +
                              " bytes uncompressed, more than the limit of " + std::to_string(raw.size() - 1));
  // A tiny body declaring 4 GiB is refused before anything is allocated.
  st = SnappyUncompress(std::string("\xff\xff\xff\xff\x0f", 5), 64 << 20, &out);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();

  EXPECT_EQ(SnappyUncompress("", 100, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(SnappyUncompress(raw, 1 << 20, &out).code(), StatusCode::kInvalidArgument);  // not compressed
  for (size_t n = 1; n < packed.size(); ++n) {  // truncated: never a crash, always an error
    EXPECT_FALSE(SnappyUncompress(std::string_view(packed).substr(0, n), 1 << 20, &out).ok()) << n;
  }
  std::string flipped = packed;
  flipped[packed.size() / 2] ^= 0x5a;
  st = SnappyUncompress(flipped, 1 << 20, &out);
  if (st.ok()) {
    EXPECT_NE(out, raw);  // a flipped literal byte decodes, to other bytes
  }
}

}  // namespace
}  // namespace tyto::ingest
