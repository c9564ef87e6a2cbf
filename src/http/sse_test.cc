// Server-sent events framing and the heartbeat stream.
#include "http/sse.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace tyto::http {
namespace {

using namespace std::chrono_literals;

TEST(SseTest, FramesEventIdAndMultiLineData) {
  EXPECT_EQ(SseEvent("tick", "{\"time\":1}"), "event: tick\ndata: {\"time\":1}\n\n");
  EXPECT_EQ(SseEvent("log", "a\nb\r\nc\rd", "42"), "event: log\nid: 42\ndata: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(SseEvent("", ""), "data: \n\n");
  // Line breaks cannot be carried by event names and ids.
  EXPECT_EQ(SseEvent("a\nb", "x", "1\r2\0"), "event: a b\nid: 1 2\ndata: x\n\n");
  EXPECT_EQ(SseComment("heartbeat"), ": heartbeat\n\n");
}

TEST(SseTest, WantsEventStream) {
  Request r;
  EXPECT_FALSE(WantsEventStream(r));
  r.headers = {{"accept", "application/json"}};
  EXPECT_FALSE(WantsEventStream(r));
  r.headers = {{"Accept", " Text/Event-Stream "}};
  EXPECT_TRUE(WantsEventStream(r));
}

TEST(SseTest, StreamSendsRetryThenEventsThenHeartbeats) {
  testing::FakeClock clock;
  std::vector<BodyStream::Chunk> script = {{"", false}, {SseEvent("e", "1"), false}, {"", false}, {"", false},
                                           {"", true}};
  size_t i = 0;
  SseStream s([&] { return i < script.size() ? script[i++] : BodyStream::Chunk{"", true}; }, &clock, 15s, 2s);
  EXPECT_EQ(s.Poll().data, "retry: 2000\n\n");
  EXPECT_EQ(s.Poll().data, "event: e\ndata: 1\n\n");
  clock.Advance(14s);
  EXPECT_EQ(s.Poll().data, "");
  clock.Advance(2s);
  EXPECT_EQ(s.Poll().data, ": heartbeat\n\n");
  BodyStream::Chunk last = s.Poll();
  EXPECT_TRUE(last.done);
}

}  // namespace
}  // namespace tyto::http
