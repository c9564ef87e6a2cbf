#include "playbook/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace tyto::playbook {
namespace {

std::optional<std::string> FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  std::string_view path = kCommandPath;
  while (!path.empty()) {
    size_t colon = path.find(':');
    std::string dir(path.substr(0, colon));
    path = colon == std::string_view::npos ? std::string_view() : path.substr(colon + 1);
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

// posix_spawn's attributes and file actions, released on every path out.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

}  // namespace

Result<CommandResult> RunCommand(const CommandOptions& options, Clock* clock, const std::function<bool()>& cancelled) {
  if (options.argv.empty() || options.argv[0].empty()) return InvalidArgument("no program to run");
  std::optional<std::string> program = FindProgram(options.argv[0]);
  if (!program) {
    return NotFound("program '" + options.argv[0] + "' not found or not executable (searched " +
                    std::string(kCommandPath) + ")");
  }
  std::map<std::string, std::string> env = {{"PATH", kCommandPath}, {"HOME", "/"}, {"LANG", "C.UTF-8"}};
  for (const auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (std::string& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return IOError(std::string("pipe: ") + std::strerror(errno));
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&setup.actions, fds[1], 2);
  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGHUP);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program->c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return IOError("cannot start '" + *program + "': " + std::strerror(rc));
  }

  CommandResult result;
  const auto deadline = clock->MonotonicNow() + options.timeout;
  std::optional<std::chrono::steady_clock::time_point> term_sent;
  bool pipe_open = true;
  bool exited = false;
  int status = 0;
  char buf[4096];
  while (!exited) {
    if (pipe_open) {
      pollfd p{fds[0], POLLIN, 0};
      int n = ::poll(&p, 1, 50);
      if (n > 0) {
        ssize_t got = ::read(fds[0], buf, sizeof(buf));
        if (got > 0) {
          result.output_bytes += static_cast<uint64_t>(got);
          size_t room = options.max_output_bytes - std::min(options.max_output_bytes, result.output.size());
          result.output.append(buf, std::min(room, static_cast<size_t>(got)));
        } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
          pipe_open = false;
        }
      }
    } else {
      ::usleep(20 * 1000);
    }
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
      break;
    }
    if (w < 0 && errno != EINTR) break;  // not our child any more: nothing left to wait for
    if (!term_sent) {
      if (clock->MonotonicNow() >= deadline) result.timed_out = true;
      if (!result.timed_out && cancelled && cancelled()) result.cancelled = true;
      if (result.timed_out || result.cancelled) {
        ::kill(-pid, SIGTERM);
        term_sent = std::chrono::steady_clock::now();
      }
    } else if (std::chrono::steady_clock::now() - *term_sent >= options.kill_grace) {
      ::kill(-pid, SIGKILL);
    }
  }
  // What is left in the pipe, without waiting for other holders of its write end.
  if (pipe_open) {
    ::fcntl(fds[0], F_SETFL, O_NONBLOCK);
    for (int i = 0; i < 256; ++i) {
      ssize_t got = ::read(fds[0], buf, sizeof(buf));
      if (got <= 0) break;
      result.output_bytes += static_cast<uint64_t>(got);
      size_t room = options.max_output_bytes - std::min(options.max_output_bytes, result.output.size());
      result.output.append(buf, std::min(room, static_cast<size_t>(got)));
    }
  }
  ::close(fds[0]);
  if (exited) {
    if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  }
  // Whatever the command left running in its group goes with it when it was stopped.
  if (term_sent) ::kill(-pid, SIGKILL);
  return result;
}

}  // namespace tyto::playbook
