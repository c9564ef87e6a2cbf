// FakeHttpReceiver: an HTTP server on 127.0.0.1 (port 0) for the integration and forwarding
// tests. It records every request and answers with the responses queued (then with the
// default). Test-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "http/server.h"
#include "instrumentation/metrics.h"

namespace tyto::alertmanager {

class FakeHttpReceiver {
 public:
  struct Answer {
    Answer(int s = 200, std::string b = "", std::string type = "text/plain; charset=utf-8", std::string ra = "")
        : status(s), body(std::move(b)), content_type(std::move(type)), retry_after(std::move(ra)) {}
    int status;
    std::string body;
    std::string content_type;
    std::string retry_after;
  };

  FakeHttpReceiver() {
    server_ = std::make_unique<http::Server>([this](http::Request& r) { return Handle(r); }, &registry_, 2);
    if (!server_->Listen({"127.0.0.1", 0}).ok()) std::abort();
    server_->Start();
  }
  ~FakeHttpReceiver() { server_->Shutdown(std::chrono::seconds(1)); }

  uint16_t port() const { return server_->port(); }
  std::string Url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port()) + path; }

  void Queue(Answer a) {
    MutexLock l(&mu_);
    answers_.push_back(std::move(a));
  }
  void SetDefault(Answer a) {
    MutexLock l(&mu_);
    default_ = std::move(a);
  }
  // Runs in the handler before it answers (to hold a request open).
  void SetHook(std::function<void(const http::Request&)> hook) {
    MutexLock l(&mu_);
    hook_ = std::move(hook);
  }

  std::vector<http::Request> Requests() {
    MutexLock l(&mu_);
    return requests_;
  }
  size_t Count() {
    MutexLock l(&mu_);
    return requests_.size();
  }
  // Waits (bounded) until at least n requests arrived.
  bool WaitFor(size_t n, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    MutexLock l(&mu_);
    while (requests_.size() < n) {
      if (cv_.wait_until(mu_.native(), until) == std::cv_status::timeout && requests_.size() < n) return false;
    }
    return true;
  }

 private:
  http::Response Handle(http::Request& r) {
    std::function<void(const http::Request&)> hook;
    {
      MutexLock l(&mu_);
      hook = hook_;
    }
    if (hook) hook(r);
    Answer a;
    {
      MutexLock l(&mu_);
      requests_.push_back(r);
      if (!answers_.empty()) {
        a = answers_.front();
        answers_.pop_front();
      } else {
        a = default_;
      }
    }
    cv_.notify_all();
    http::Response res;
    res.status = a.status;
    res.body = a.body;
    res.content_type = a.content_type;
    if (!a.retry_after.empty()) res.headers.emplace_back("Retry-After", a.retry_after);
    return res;
  }

  instrumentation::Registry registry_;
  std::unique_ptr<http::Server> server_;
  Mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Answer> answers_ GUARDED_BY(mu_);
  Answer default_ GUARDED_BY(mu_);
  std::function<void(const http::Request&)> hook_ GUARDED_BY(mu_);
  std::vector<http::Request> requests_ GUARDED_BY(mu_);
};

// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline uint16_t ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::abort();
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace tyto::alertmanager
