#include "http/sse.h"

#include <utility>

namespace tyto::http {
namespace {

// `s` with CR and LF as spaces and NUL dropped: one line of the format.
std::string OneLine(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\r' || c == '\n') {
      out += ' ';
    } else if (c != '\0') {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string SseEvent(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!event.empty()) out.append("event: ").append(OneLine(event)).append("\n");
  if (!id.empty()) out.append("id: ").append(OneLine(id)).append("\n");
  size_t start = 0;
  while (true) {
    size_t end = data.find_first_of("\r\n", start);
    out.append("data: ").append(data.substr(start, end == std::string_view::npos ? end : end - start)).append("\n");
    if (end == std::string_view::npos) break;
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') ++start;
  }
  out.append("\n");
  return out;
}

std::string SseComment(std::string_view text) { return ": " + OneLine(text) + "\n\n"; }

bool WantsEventStream(const Request& req) {
  std::optional<std::string_view> accept = req.Header("Accept");
  return accept && NormalizeHeaderValue(*accept).find("text/event-stream") != std::string::npos;
}

SseStream::SseStream(Producer next, const Clock* clock, std::chrono::milliseconds heartbeat,
                     std::chrono::milliseconds retry)
    : next_(std::move(next)), clock_(clock), heartbeat_(heartbeat), retry_(retry) {}

BodyStream::Chunk SseStream::Poll() {
  const auto now = clock_->MonotonicNow();
  Chunk out;
  if (!started_) {
    started_ = true;
    out.data = "retry: " + std::to_string(retry_.count()) + "\n\n";
  }
  Chunk next = next_();
  out.data += next.data;
  out.done = next.done;
  if (out.data.empty() && !out.done && now - last_sent_ >= heartbeat_) out.data = SseComment("heartbeat");
  if (!out.data.empty()) last_sent_ = now;
  return out;
}

Response SseResponse(std::shared_ptr<BodyStream> stream) {
  return Response::Stream(std::string(kEventStreamType), std::move(stream));
}

}  // namespace tyto::http
