// Tests of DecodeBody: the encodings, the cap on decoded size, and decompression bombs
// (10 GiB in 10 MB and less) refused quickly without allocating what they expand to.
#include "http/content_encoding.h"

#include <gtest/gtest.h>
#include <sys/resource.h>


#include "http/gzip.h"
#include "testing/compression_bombs.h"

namespace tyto::http {
namespace {

constexpr size_t kMiB = 1 << 20;

// Peak resident memory of this process so far, in bytes.
size_t PeakRss() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss) * 1024;
}

Status Decode(std::optional<std::string_view> enc, std::string_view body, size_t max, std::string* got) {
  std::string storage;
  std::string_view out;
  Status s = DecodeBody(enc, body, max, &storage, &out);
  if (s.ok()) *got = std::string(out);
  return s;
}

TEST(DecodeBodyTest, IdentityGzipAndZstdRoundTrip) {
  const std::string text = "line one\nline two\n" + std::string(5000, 'x');
  std::string got;
  ASSERT_TRUE(Decode(std::nullopt, text, 100, &got).ok());  // identity is not capped here
  EXPECT_EQ(got, text);
  ASSERT_TRUE(Decode("identity", text, 100, &got).ok());
  EXPECT_EQ(got, text);
  ASSERT_TRUE(Decode("GZIP ", GzipCompress(text), 1 << 20, &got).ok());
  EXPECT_EQ(got, text);
  ASSERT_TRUE(Decode("zstd", ZstdCompress(text), 1 << 20, &got).ok());
  EXPECT_EQ(got, text);
  // Exactly at the limit is accepted; one byte under refuses.
  ASSERT_TRUE(Decode("zstd", ZstdCompress(text), text.size(), &got).ok());
  ASSERT_TRUE(Decode("gzip", GzipCompress(text), text.size(), &got).ok());
  EXPECT_EQ(Decode("zstd", ZstdCompress(text), text.size() - 1, &got).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(Decode("gzip", GzipCompress(text), text.size() - 1, &got).code(), StatusCode::kResourceExhausted);
}

TEST(DecodeBodyTest, ConcatenatedZstdFramesDecodeWhole) {
  std::string got;
  ASSERT_TRUE(Decode("zstd", ZstdCompress("abc") + ZstdCompress("def"), 100, &got).ok());
  EXPECT_EQ(got, "abcdef");
  const std::string bomb = testing::ZstdBomb(3, /*declare_size=*/false);
  ASSERT_TRUE(Decode("zstd", bomb, 3 * kMiB, &got).ok());
  EXPECT_EQ(got, std::string(3 * kMiB, '\0'));
}

TEST(DecodeBodyTest, ErrorsNameTheEncodingAndTheLimit) {
  std::string got;
  Status s = Decode("br", "x", 10, &got);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(DecodeErrorStatus(s), 415);
  EXPECT_NE(s.message().find("\"br\""), std::string::npos) << s.message();
  s = Decode("gzip", GzipCompress(std::string(5000, 'a')), 4096, &got);
  EXPECT_EQ(DecodeErrorStatus(s), 413);
  EXPECT_EQ(DecodeRefusal(s), "decompressed_too_large");
  EXPECT_EQ(s.message(), "gzip body decompresses to more than 4096 bytes, the limit on a decoded request body");
  s = Decode("zstd", ZstdCompress(std::string(5000, 'a')), 4096, &got);
  EXPECT_EQ(s.message(), "zstd body declares 5000 bytes, more than 4096 bytes, the limit on a decoded request body");
  s = Decode("zstd", "not zstd at all", 4096, &got);
  EXPECT_EQ(DecodeErrorStatus(s), 400);
  EXPECT_EQ(DecodeRefusal(s), "");
  EXPECT_NE(s.message().find("invalid zstd body"), std::string::npos) << s.message();
  const std::string z = ZstdCompress(std::string(100000, 'q') + "tail");
  s = Decode("zstd", std::string_view(z).substr(0, z.size() - 3), 1 << 20, &got);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  s = Decode("gzip", "\x1f\x8b garbage", 4096, &got);
  EXPECT_EQ(DecodeErrorStatus(s), 400);
  EXPECT_NE(s.message().find("invalid gzip body"), std::string::npos) << s.message();
}

TEST(DecodeBodyTest, BombsOfTenGibibytesAreRefusedQuicklyInBoundedMemory) {
  constexpr size_t kLimit = 64 * kMiB;
  const std::string gzip = testing::GzipBomb(10240);
  const std::string zstd_stream = testing::ZstdBomb(10240, /*declare_size=*/false);
  const std::string zstd_declared = testing::ZstdBomb(10240, /*declare_size=*/true);
  EXPECT_LT(gzip.size(), 11 * kMiB);  // 10 GiB in about 10 MB
  EXPECT_LT(zstd_stream.size(), 1 * kMiB);
  const size_t before = PeakRss();
  for (const auto& [enc, body] : {std::pair<const char*, const std::string*>{"gzip", &gzip},
                                  {"zstd", &zstd_stream},
                                  {"zstd", &zstd_declared}}) {
    std::string got;
    Status s = Decode(enc, *body, kLimit, &got);
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << enc << ": " << s.ToString();
    EXPECT_NE(s.message().find(std::string(enc) + " body"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(std::to_string(kLimit)), std::string::npos) << s.message();
  }
  // Decoding 10 GiB would take all the memory; stopping at 64 MiB takes a few times that at most
  // (the output's growth, and under AddressSanitizer its quarantine of the buffers outgrown).
  // Not timed: machines are shared; the work is bounded by the memory.
  EXPECT_LT(PeakRss() - before, 8 * kLimit) << "peak memory grew by " << (PeakRss() - before) / kMiB << " MiB";
}

TEST(CompressionBombsTest, AreValidStreamsOfZeros) {
  // Small ones decode whole and exactly, so the big ones are real bombs, not garbage.
  auto g = GzipDecompress(testing::GzipBomb(5), 100 * kMiB);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(*g, std::string(5 * kMiB, '\0'));
  for (bool declared : {false, true}) {
    auto z = ZstdDecompress(testing::ZstdBomb(70, declared), 100 * kMiB);
    ASSERT_TRUE(z.ok()) << z.status().ToString();
    EXPECT_EQ(z->size(), 70 * kMiB);
    EXPECT_EQ(z->find_first_not_of('\0'), std::string::npos);
  }
}

}  // namespace
}  // namespace tyto::http
