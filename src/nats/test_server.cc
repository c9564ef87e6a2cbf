#include "nats/test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace tyto::nats::testing {
namespace {

std::string FindBinary() {
  std::vector<std::string> dirs = {"/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"};
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    std::string d;
    while (std::getline(ss, d, ':')) {
      if (!d.empty()) dirs.push_back(d);
    }
  }
  for (const std::string& d : dirs) {
    std::string p = d + "/nats-server";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// True once the server sends its INFO line on a new connection.
bool Answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    char buf[5] = {0};
    ok = ::recv(fd, buf, 4, MSG_WAITALL) == 4 && std::string(buf, 4) == "INFO";
  }
  ::close(fd);
  return ok;
}

std::string ReadLog(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > 4000 ? s.substr(s.size() - 4000) : s;
}

}  // namespace

NatsServer::NatsServer(std::string binary, std::string store_dir, std::vector<std::string> extra_args, int port)
    : binary_(std::move(binary)), store_dir_(std::move(store_dir)), extra_args_(std::move(extra_args)), port_(port) {}

Result<std::unique_ptr<NatsServer>> NatsServer::Start(const std::string& store_dir,
                                                     std::vector<std::string> extra_args) {
  std::string binary = FindBinary();
  if (binary.empty()) {
    return FailedPrecondition("nats-server not found (looked in /usr/sbin, /usr/bin and PATH): install the package "
                              "nats-server (apt-get install nats-server)");
  }
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {  // a free port can be taken before the server binds it
    int port = FreePort();
    if (port <= 0) return Unavailable("no free port on 127.0.0.1");
    std::unique_ptr<NatsServer> s(new NatsServer(binary, store_dir, extra_args, port));
    last = s->Launch();
    if (last.ok()) return s;
  }
  return last;
}

NatsServer::~NatsServer() { Stop(); }

Status NatsServer::Launch() {
  const std::string log = store_dir_ + "/nats-server-" + std::to_string(++launches_) + ".log";
  const std::string port = std::to_string(port_);
  std::vector<std::string> args = {binary_, "-js", "-a", "127.0.0.1", "-p", port, "-sd", store_dir_, "-m", "0"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_t pid = ::fork();
  if (pid < 0) return Unavailable("fork failed");
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  pid_ = pid;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Unavailable("nats-server exited at start (port " + port + "):\n" + ReadLog(log));
    }
    if (Answers(port_)) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  return Unavailable("nats-server did not accept connections within 30 s:\n" + ReadLog(log));
}

void NatsServer::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
}

void NatsServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Status NatsServer::Restart() {
  if (pid_ > 0) return FailedPrecondition("nats-server is running");
  // The port may linger in TIME_WAIT for a moment; nats-server sets SO_REUSEADDR, so one try
  // normally does, and a few more cover a slow release.
  Status s;
  for (int attempt = 0; attempt < 5; ++attempt) {
    s = Launch();
    if (s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return s;
}

}  // namespace tyto::nats::testing
