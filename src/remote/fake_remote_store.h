// FakeRemoteStore: an in-process remote store on 127.0.0.1 (a free port) for the tests of this
// folder. It takes remote write at /api/v1/write (decoded with the production decoder; a policy
// decides the status of each request) and answers every other path with a handler the test
// sets, recording each request it saw.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "http/server.h"
#include "instrumentation/metrics.h"
#include "testing/remote_write_receiver.h"
#include "tyto/labels.h"

namespace tyto::remote::test {

// Polls `done` every 5 ms for at most `limit`; returns its last value.
inline bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class FakeRemoteStore {
 public:
  using Handler = std::function<http::Response(const http::Request&)>;
  struct Seen {
    std::string method;
    std::string path;
    std::vector<std::pair<std::string, std::string>> params;
    std::string authorization;
    std::string tenant;  // X-Scope-OrgID
  };

  FakeRemoteStore() {
    server_ = std::make_unique<http::Server>([this](http::Request& r) { return Handle(r); }, &registry_, 2);
    Status s = server_->Listen({"127.0.0.1", 0});
    if (!s.ok()) std::abort();  // no loopback: nothing can be tested
    port_ = server_->port();
    server_->Start();
  }
  ~FakeRemoteStore() { server_->Shutdown(std::chrono::seconds(1)); }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string write_url() const { return base_url() + "/api/v1/write"; }

  void set_write_status(int status) {
    MutexLock lock(&mu_);
    write_status_ = status;
  }
  void set_handler(Handler h) {
    MutexLock lock(&mu_);
    handler_ = std::move(h);
  }
  // Samples accepted by remote write, per series (Labels::ToString), in arrival order.
  std::map<std::string, std::vector<Sample>> series() {
    MutexLock lock(&mu_);
    return series_;
  }
  uint64_t accepted_samples() {
    MutexLock lock(&mu_);
    return accepted_;
  }
  std::vector<Seen> seen() {
    MutexLock lock(&mu_);
    return seen_;
  }
  std::string problems() {
    MutexLock lock(&mu_);
    return problems_;
  }

 private:
  http::Response Handle(http::Request& r) {
    Handler handler;
    int write_status = 0;
    {
      MutexLock lock(&mu_);
      seen_.push_back({r.method, r.path, r.params, std::string(r.Header("Authorization").value_or("")),
                       std::string(r.Header("X-Scope-OrgID").value_or(""))});
      handler = handler_;
      write_status = write_status_;
    }
    if (r.path != "/api/v1/write") {
      if (!handler) return http::Response::Text(404, "no handler");
      return handler(r);
    }
    if (write_status / 100 != 2) return http::Response::Text(write_status, "refused by the test");
    MutexLock lock(&mu_);
    if (Status s = tyto::testing::RecordRemoteWrite(r.body, &series_, &accepted_, &problems_); !s.ok()) {
      problems_ += s.ToString() + "; ";
      return http::Response::Text(400, s.ToString());
    }
    return http::Response::Text(204, "");
  }

  instrumentation::Registry registry_;
  std::unique_ptr<http::Server> server_;
  uint16_t port_ = 0;
  Mutex mu_;
  int write_status_ GUARDED_BY(mu_) = 204;
  Handler handler_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<Sample>> series_ GUARDED_BY(mu_);
  uint64_t accepted_ GUARDED_BY(mu_) = 0;
  std::vector<Seen> seen_ GUARDED_BY(mu_);
  std::string problems_ GUARDED_BY(mu_);
};

}  // namespace tyto::remote::test
