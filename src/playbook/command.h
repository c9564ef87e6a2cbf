// Runs a playbook's command: an argument vector executed directly (posix_spawn, never a shell),
// with a minimal environment, stdin from /dev/null, stdout and stderr captured together up to a
// bound, a timeout, and cancellation. The command runs in its own process group so that a
// timeout or a cancellation ends everything it started: SIGTERM first, SIGKILL after a grace
// period.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tyto/clock.h"
#include "tyto/status.h"

namespace tyto::playbook {

struct CommandOptions {
  // argv[0]: a path, or a name searched in kCommandPath.
  std::vector<std::string> argv;
  // Added to PATH=kCommandPath, HOME=/, LANG=C.UTF-8 (and may replace them).
  std::map<std::string, std::string> env;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // measured on the given Clock
  size_t max_output_bytes = 64 * 1024;                           // the rest is read and dropped
  std::chrono::milliseconds kill_grace{std::chrono::seconds(5)};  // real time, SIGTERM to SIGKILL
};

inline constexpr const char* kCommandPath = "/usr/local/bin:/usr/bin:/bin";

struct CommandResult {
  int exit_code = -1;  // when it exited; -1 when a signal ended it
  int signal = 0;      // the signal that ended it, or 0
  std::string output;  // stdout and stderr interleaved, at most max_output_bytes
  uint64_t output_bytes = 0;  // how much it wrote in all
  bool timed_out = false;
  bool cancelled = false;
};

// Runs the command to its end. `cancelled` is polled about every 50 ms. An error Status only
// when the command could not be started (program not found, spawn failed); a command that fails
// is a CommandResult with its exit code.
Result<CommandResult> RunCommand(const CommandOptions& options, Clock* clock, const std::function<bool()>& cancelled);

}  // namespace tyto::playbook
