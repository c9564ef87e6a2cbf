// NatsServer: a nats-server process with JetStream for tests, on 127.0.0.1 with a free port and
// its store in a directory the test gives (so a restart finds its streams again). Tests only.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::nats::testing {

class NatsServer {
 public:
  // Starts `nats-server -js -a 127.0.0.1 -p <free port> -sd <store_dir> -m 0` and waits (at most
  // 30 s) until it accepts connections. kFailedPrecondition naming the package nats-server when
  // the program is missing; kUnavailable with its log when it does not come up.
  // `extra_args` go after those (e.g. {"--auth", "TOKEN"}).
  static Result<std::unique_ptr<NatsServer>> Start(const std::string& store_dir,
                                                   std::vector<std::string> extra_args = {});
  ~NatsServer();  // Stop()
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  // SIGTERM, then SIGKILL after 10 s. Idempotent.
  void Stop();
  // SIGKILL: a crash (JetStream recovers its files at the next start).
  void Kill();
  // Starts again on the same port with the same store (after Stop or Kill).
  Status Restart();

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  NatsServer(std::string binary, std::string store_dir, std::vector<std::string> extra_args, int port);
  Status Launch();

  const std::string binary_;
  const std::string store_dir_;
  const std::vector<std::string> extra_args_;
  const int port_;
  pid_t pid_ = -1;
  int launches_ = 0;
};

}  // namespace tyto::nats::testing
