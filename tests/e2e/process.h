// Child processes for end-to-end tests: run the built `tyto` binary, signal it, wait for it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace tyto::e2e {

struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string out;
  std::string err;
};

// Runs to completion, capturing stdout and stderr.
CommandResult RunCommand(const std::vector<std::string>& argv);

// A running child whose stderr goes to a file. Killed (SIGKILL) on destruction if still running.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~Child();
  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Exit code, or -1 on a timeout or an abnormal end (the reason is in `why`).
  int Wait(std::chrono::milliseconds timeout, std::string* why = nullptr);
  bool running() const { return pid_ > 0 && !exited_; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

std::string ReadFile(const std::string& path);

// Waits (up to 10 s) until a `tyto serve` child whose log goes to `log_path` has announced its
// port ("Tyto started") and answers GET /-/ready with 200. The port, or 0 if the child exited
// or did not get there in time.
uint16_t WaitUntilServing(Child* child, const std::string& log_path);

// The same for a `tyto agent` child: waits (up to 10 s) until it has announced its port ("Tyto
// agent started") and answers GET /-/ready with 200; the port, or 0.
uint16_t WaitUntilAgentServing(Child* child, const std::string& log_path);

}  // namespace tyto::e2e
