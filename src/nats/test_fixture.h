// A GoogleTest fixture with a nats-server of its own (test_server.h) and a config pointing at
// it. Tests only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "nats/config.h"
#include "nats/connection.h"
#include "nats/test_server.h"
#include "testing/temp_dir.h"
#include "tyto/env.h"

namespace tyto::nats::testing {

class NatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = NatsServer::Start(dir_.path());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    config_.urls = {server_->url()};
    config_.request_timeout = std::chrono::seconds(5);
    config_.connect_timeout = std::chrono::seconds(2);
    config_.ack_wait = std::chrono::seconds(30);
    config_.consumer_workers = 1;
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // A connection with short reconnect waits (a restarted server is found again quickly).
  std::unique_ptr<Connection> Connect(bool background = false) {
    ConnectOptions o;
    o.connect_in_background = background;
    o.reconnect_wait = std::chrono::milliseconds(100);
    auto c = Connection::Connect(config_, Env::Default(), nullptr, o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }

  // Polls `done` every 10 ms for at most `limit` (generous: machines are shared); true when it
  // held. Not a timing assertion: the bound only keeps a broken test from hanging.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::seconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  tyto::testing::TempDir dir_;
  std::unique_ptr<NatsServer> server_;
  NatsConfig config_;
};

}  // namespace tyto::nats::testing
