// Test helper: a fake /proc in a temporary directory with the files discovery reads: per
// process cmdline, stat, fd/* links, ns/net and net/tcp{,6} (its network namespace's table),
// and self/ns/net, self/net/fib_trie and sys/kernel/hostname for Tyto's own process.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "collect/discovery/testdata/proc_text.h"
#include "testing/temp_dir.h"

namespace tyto::collect::discovery::testdata {

class FakeProc {
 public:
  // The network namespace Tyto itself is in.
  static constexpr const char* kHostNamespace = "net:[4026531840]";

  FakeProc() : root_(dir_.Path("proc")) {
    std::filesystem::create_directories(root_);
    Link("self/ns/net", kHostNamespace);
    Write("self/net/fib_trie", "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 10.0.0.5\n        /32 host LOCAL\n");
    Write("sys/kernel/hostname", "gpu-node-7\n");
    Write("meminfo", "MemTotal: 1 kB\n");
    Write("net/tcp", std::string(TcpHeader()));
  }

  const std::string& root() const { return root_; }

  // A process with `argv` (none: a kernel thread), its parent, its network namespace, and
  // descriptors 0-2 on /dev/null.
  void Process(int pid, const std::vector<std::string>& argv, int ppid = 1, const std::string& ns = kHostNamespace) {
    std::string cmdline;
    for (const std::string& a : argv) cmdline += a + '\0';
    const std::string p = std::to_string(pid);
    Write(p + "/cmdline", cmdline);
    std::string comm = argv.empty() ? "kthread" : argv[0].substr(0, 15);
    Write(p + "/stat", p + " (" + comm + ") S " + std::to_string(ppid) + " " + p + " " + p + " 0 -1 4194560\n");
    Link(p + "/ns/net", ns);
    for (int fd = 0; fd < 3; ++fd) Link(p + "/fd/" + std::to_string(fd), "/dev/null");
    namespace_of_[pid] = ns;
  }

  // Descriptor `fd` of `pid` is the socket with `inode`.
  void Socket(int pid, int fd, uint64_t inode) {
    Link(std::to_string(pid) + "/fd/" + std::to_string(fd), "socket:[" + std::to_string(inode) + "]");
  }

  // A socket in `ns`'s /proc/net/tcp (tcp6 for Listen6); state 0x0A is LISTEN.
  void Listen(const std::string& ns, const char* address, uint16_t port, uint64_t inode, unsigned state = 0x0A) {
    std::string& t = tcp_[ns];
    t += TcpLine(static_cast<int>(t.size() / 100), address, port, state, inode);
  }
  void Listen6(const std::string& ns, const char* address, uint16_t port, uint64_t inode, unsigned state = 0x0A) {
    std::string& t = tcp6_[ns];
    t += Tcp6Line(static_cast<int>(t.size() / 100), address, port, state, inode);
  }

  // Writes each process's net/tcp and net/tcp6 from its namespace's sockets.
  void Flush() {
    for (const auto& [pid, ns] : namespace_of_) {
      const std::string p = std::to_string(pid);
      Write(p + "/net/tcp", std::string(TcpHeader()) + tcp_[ns]);
      Write(p + "/net/tcp6", std::string(TcpHeader()) + tcp6_[ns]);
    }
  }

  void Write(const std::string& rel, const std::string& content) const { WriteRaw(rel, content); }
  void WriteRaw(const std::string& rel, const std::string& bytes) const {
    const std::string path = root_ + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }
  // A symbolic link at `rel` to `target` (which need not exist, as "socket:[1]" does not).
  void Link(const std::string& rel, const std::string& target) const {
    const std::string path = root_ + "/" + rel;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::filesystem::create_symlink(target, path);
  }

 private:
  tyto::testing::TempDir dir_;
  std::string root_;
  std::map<int, std::string> namespace_of_;
  std::map<std::string, std::string> tcp_;
  std::map<std::string, std::string> tcp6_;
};

}  // namespace tyto::collect::discovery::testdata
