// Server-sent events (the HTML standard's text/event-stream): framing, and a BodyStream that
// adds heartbeats, for endpoints that push to browsers' EventSource.
//
//   auto s = std::make_shared<http::SseStream>([state] { return state->NextEvents(); }, clock);
//   return http::SseResponse(std::move(s));
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/message.h"
#include "tyto/clock.h"

namespace tyto::http {

inline constexpr std::string_view kEventStreamType = "text/event-stream; charset=utf-8";

// One event: "event: NAME", "id: ID" (both left out when empty), one "data: " line per line of
// `data` (split at \n, \r\n or \r), then a blank line. Line breaks in `event` and `id` (which
// the format cannot carry) become spaces, and NUL in `id` is dropped.
std::string SseEvent(std::string_view event, std::string_view data, std::string_view id = {});

// A comment line (": text"), which EventSource ignores: keeps proxies and the browser from
// closing an idle stream.
std::string SseComment(std::string_view text);

// Whether a request asks for an event stream (its Accept header names text/event-stream).
bool WantsEventStream(const Request& req);

// A BodyStream of events: each Poll calls `next` for the framed events to send now (and whether
// the stream ends), and sends a heartbeat comment when nothing went out for `heartbeat`. The
// first Poll also sends "retry:" (the browser's reconnection delay) so that the client gets
// bytes at once. Poll's thread rules apply to `next`: it must not block.
class SseStream final : public BodyStream {
 public:
  using Producer = std::function<Chunk()>;
  SseStream(Producer next, const Clock* clock, std::chrono::milliseconds heartbeat = std::chrono::seconds(15),
            std::chrono::milliseconds retry = std::chrono::seconds(3));
  Chunk Poll() override;

 private:
  Producer next_;
  const Clock* clock_;
  std::chrono::milliseconds heartbeat_;
  std::chrono::milliseconds retry_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_sent_{};
};

// A 200 streaming `stream` as text/event-stream.
Response SseResponse(std::shared_ptr<BodyStream> stream);

}  // namespace tyto::http
