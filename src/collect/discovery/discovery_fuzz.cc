// libFuzzer target: any bytes as every /proc file inference-server discovery parses: a
// process's cmdline (split and recognised as a launch command), /proc/net/tcp{,6}, a
// descriptor's link target, /proc/<pid>/stat and /proc/net/fib_trie. The parsers must never
// crash, hang or read out of bounds (the sanitizers watch that), and what they return must
// keep its documented shape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collect/discovery/launch.h"
#include "collect/discovery/proc_sockets.h"

namespace discovery = tyto::collect::discovery;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> argv = discovery::SplitCmdline(text);
  if (!text.empty() && argv.empty()) __builtin_trap();
  if (std::optional<discovery::Launch> l = discovery::ParseLaunch(argv)) {
    if (l->port == 0) __builtin_trap();  // always argv's port or the project's default
    if (l->model.find('/') == 0) __builtin_trap();  // a path is cut to its last component
  }
  (void)discovery::ModelLabel(text);
  if (auto sockets = discovery::ParseListenSockets(text); sockets.ok()) {
    for (const discovery::ListenSocket& s : *sockets) {
      if (s.address.empty()) __builtin_trap();
    }
  }
  (void)discovery::ParseSocketInode(text);
  if (std::optional<int64_t> ppid = discovery::ParseParentPid(text); ppid && *ppid < 0) __builtin_trap();
  for (const std::string& a : discovery::ParseLocalAddresses(text)) {
    if (discovery::IsLoopback(a)) __builtin_trap();
  }
  return 0;
}
