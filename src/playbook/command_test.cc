#include "playbook/command.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "testing/temp_dir.h"

namespace tyto::playbook {
namespace {

TEST(CommandTest, PassesArgumentsLiterally) {
  CommandOptions o;
  o.argv = {"/bin/echo", "a; touch /tmp/x", "$(id)", "`id`", "b|c && d"};
  auto r = RunCommand(o, Clock::Real(), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->output, "a; touch /tmp/x $(id) `id` b|c && d\n");
}

TEST(CommandTest, ExitCodeOutputBoundAndEnvironment) {
  CommandOptions o;
  o.argv = {"sh", "-c", "echo \"$FOO:$HOME\"; head -c 100000 /dev/zero; exit 3"};
  o.env = {{"FOO", "bar"}};
  o.max_output_bytes = 1000;
  auto r = RunCommand(o, Clock::Real(), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->output.size(), 1000u);
  EXPECT_EQ(r->output.substr(0, 6), "bar:/\n");
  EXPECT_EQ(r->output_bytes, 100006u);
}

TEST(CommandTest, MissingProgram) {
  CommandOptions o;
  o.argv = {"/nonexistent/program"};
  auto r = RunCommand(o, Clock::Real(), nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
}

TEST(CommandTest, CancelKillsTheProcessGroup) {
  testing::TempDir dir;
  CommandOptions o;
  // A child that ignores SIGTERM and a grandchild: both must go.
  o.argv = {"sh", "-c", "trap '' TERM; sleep 60 & echo started; wait"};
  o.kill_grace = std::chrono::milliseconds(200);
  std::atomic<bool> cancel{false};
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto r = RunCommand(o, Clock::Real(), [&] { return cancel.load(); });
  t.join();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
  EXPECT_EQ(r->signal, 9);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace tyto::playbook
