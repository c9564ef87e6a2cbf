// Parsers for the /proc files that tell which TCP ports a process listens on: its descriptors'
// link targets ("socket:[INODE]"), /proc/net/tcp and tcp6, /proc/<pid>/stat (the parent) and
// /proc/net/fib_trie (the addresses of a network namespace). Pure functions over the bytes, so
// tests and the fuzzer (discovery_fuzz.cc) call them without a /proc.
//
// Same contract as collect/host/proc_parsers.h: any input is accepted without crashing; a line
// that cannot be understood is skipped; kInvalidArgument only when the file's shape is wrong as
// a whole.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/status.h"

namespace tyto::collect::discovery {

// One socket in state LISTEN (0A).
struct ListenSocket {
  std::string address;  // as inet_ntop writes it: "0.0.0.0", "127.0.0.1", "::", "::ffff:10.0.0.5"
  bool ipv6 = false;
  uint16_t port = 0;
  uint64_t inode = 0;  // 0 for a socket no process holds any more
};

// /proc/net/tcp or /proc/net/tcp6 (either: the address's width tells). The kernel prints each
// 32-bit word of an address in the machine's byte order, so the text is decoded for the
// machine it is read on (as every tool that reads these files does).
Result<std::vector<ListenSocket>> ParseListenSockets(std::string_view text);

// The inode of a descriptor's link target "socket:[12345]"; nullopt for anything else (files,
// pipes, anon_inode:[eventfd]).
std::optional<uint64_t> ParseSocketInode(std::string_view link_target);

// The parent's PID from /proc/<pid>/stat: "PID (COMM) STATE PPID ...". COMM may hold spaces and
// parentheses, so the fields are read after its last ')'.
std::optional<int64_t> ParseParentPid(std::string_view stat);

// The IPv4 addresses of a network namespace's interfaces, from its /proc/net/fib_trie: leaves
// whose entry says "/32 host LOCAL", in order, each once; 127.0.0.0/8 left out.
std::vector<std::string> ParseLocalAddresses(std::string_view fib_trie);

// Whether `address` (no brackets) is a loopback or wildcard address of IPv4 or IPv6:
// "127.x.x.x", "::1", "0.0.0.0", "::", or those written as IPv4-mapped IPv6.
bool IsLoopback(std::string_view address);
bool IsWildcard(std::string_view address);

}  // namespace tyto::collect::discovery
