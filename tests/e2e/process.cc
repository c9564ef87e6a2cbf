#include "e2e/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "testing/http_client.h"

namespace tyto::e2e {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& argv) {
  std::vector<char*> a;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  return a;
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  char out_tmpl[] = "/tmp/tyto-e2e-out-XXXXXX";
  char err_tmpl[] = "/tmp/tyto-e2e-err-XXXXXX";
  int out_fd = mkstemp(out_tmpl);
  int err_fd = mkstemp(err_tmpl);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    auto a = Argv(argv);
    execv(a[0], a.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out_fd);
  close(err_fd);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out_tmpl);
  r.err = ReadFile(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  return r;
}

Child::Child(const std::vector<std::string>& argv, const std::string& stderr_path) {
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    // The test runner may block signals; the child must start with the default mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    auto a = Argv(argv);
    execv(a[0], a.data());
    _exit(127);
  }
}

Child::~Child() {
  if (running()) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void Child::Signal(int sig) const {
  if (pid_ > 0) kill(pid_, sig);
}

int Child::Wait(std::chrono::milliseconds timeout, std::string* why) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (why) *why = "killed by signal " + std::to_string(WTERMSIG(status));
      return -1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      if (why) *why = "still running after the timeout";
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

uint16_t WaitUntilStarted(Child* child, const std::string& log_path, const std::regex& announced) {
  for (int i = 0; i < 1000; ++i) {
    std::smatch m;
    const std::string text = ReadFile(log_path);
    if (std::regex_search(text, m, announced)) {
      const auto port = static_cast<uint16_t>(std::stoi(m[1]));
      auto r = testing::HttpGet(port, "/-/ready");
      if (r.ok() && r->status == 200) return port;
    }
    if (child->Wait(std::chrono::milliseconds(10)) != -1) break;  // exited
  }
  return 0;
}

}  // namespace

uint16_t WaitUntilServing(Child* child, const std::string& log_path) {
  static const std::regex kPort("\"msg\":\"Tyto started\".*\"port\":([0-9]+)");
  return WaitUntilStarted(child, log_path, kPort);
}

uint16_t WaitUntilAgentServing(Child* child, const std::string& log_path) {
  static const std::regex kPort("\"msg\":\"Tyto agent started\".*\"port\":([0-9]+)");
  return WaitUntilStarted(child, log_path, kPort);
}

}  // namespace tyto::e2e
