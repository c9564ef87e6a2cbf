#include "collect/discovery/proc_sockets.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "collect/host/proc_parsers.h"

namespace tyto::collect::discovery {
namespace {

template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// All of `s` as a hexadecimal number no wider than `digits`.
template <typename T>
std::optional<T> ParseHex(std::string_view s, size_t digits) {
  if (s.empty() || s.size() > digits) return std::nullopt;
  T v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// "0100007F" (IPv4) or 32 hex digits (IPv6), each 32-bit word as the kernel printed it.
std::optional<std::string> DecodeAddress(std::string_view hex) {
  if (hex.size() != 8 && hex.size() != 32) return std::nullopt;
  unsigned char bytes[16];
  for (size_t w = 0; w < hex.size() / 8; ++w) {
    std::optional<uint32_t> word = ParseHex<uint32_t>(hex.substr(w * 8, 8), 8);
    if (!word) return std::nullopt;
    // The kernel printed the word as a native integer; its bytes in memory are the address's.
    std::memcpy(bytes + w * 4, &*word, 4);
  }
  char text[INET6_ADDRSTRLEN];
  const int family = hex.size() == 8 ? AF_INET : AF_INET6;
  if (::inet_ntop(family, bytes, text, sizeof(text)) == nullptr) return std::nullopt;
  return std::string(text);
}

}  // namespace

Result<std::vector<ListenSocket>> ParseListenSockets(std::string_view text) {
  std::vector<ListenSocket> out;
  size_t understood = 0;
  bool saw_header = false;
  ForEachLine(text, [&](std::string_view line) {
    // "0: 0100007F:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 1000 0 28311 1 ..."
    std::vector<std::string_view> f = host::SplitFields(line);
    if (f.size() < 10) return;
    if (f[0] == "sl") {
      saw_header = true;
      return;
    }
    std::optional<unsigned> state = ParseHex<unsigned>(f[3], 2);
    if (!state) return;
    ++understood;
    if (*state != 0x0A) return;
    size_t colon = f[1].find(':');
    if (colon == std::string_view::npos) return;
    std::optional<std::string> address = DecodeAddress(f[1].substr(0, colon));
    std::optional<uint32_t> port = ParseHex<uint32_t>(f[1].substr(colon + 1), 4);
    std::optional<uint64_t> inode = host::ParseUint(f[9]);
    if (!address || !port || !inode) return;
    out.push_back({std::move(*address), colon == 32, static_cast<uint16_t>(*port), *inode});
  });
  if (!saw_header && understood == 0 && !text.empty()) return InvalidArgument("no \"sl local_address ...\" header");
  return out;
}

std::optional<uint64_t> ParseSocketInode(std::string_view link_target) {
  constexpr std::string_view kPrefix = "socket:[";
  if (link_target.substr(0, kPrefix.size()) != kPrefix || link_target.back() != ']') return std::nullopt;
  return host::ParseUint(link_target.substr(kPrefix.size(), link_target.size() - kPrefix.size() - 1));
}

std::optional<int64_t> ParseParentPid(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> f = host::SplitFields(stat.substr(close + 1, stat.find('\n', close) - close - 1));
  if (f.size() < 2) return std::nullopt;
  std::optional<uint64_t> ppid = host::ParseUint(f[1]);
  if (!ppid || *ppid > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(*ppid);
}

std::vector<std::string> ParseLocalAddresses(std::string_view fib_trie) {
  std::vector<std::string> out;
  std::string leaf;  // the address of the "|-- A.B.C.D" line above
  ForEachLine(fib_trie, [&](std::string_view line) {
    std::string_view t = TrimSpaces(line);
    if (t.substr(0, 4) == "|-- ") {
      leaf = std::string(t.substr(4));
      unsigned char bytes[4];
      if (::inet_pton(AF_INET, leaf.c_str(), bytes) != 1) leaf.clear();
      return;
    }
    if (t.substr(0, 1) != "/") {
      leaf.clear();  // a node ("+-- 10.0.0.0/8 ...") or a table name ("Main:")
      return;
    }
    std::vector<std::string_view> f = host::SplitFields(t);
    if (leaf.empty() || f.size() < 3 || f[0] != "/32" || f[1] != "host" || f[2] != "LOCAL") return;
    if (IsLoopback(leaf) || std::find(out.begin(), out.end(), leaf) != out.end()) return;
    out.push_back(leaf);
  });
  return out;
}

bool IsLoopback(std::string_view address) {
  if (address.substr(0, 7) == "::ffff:") address.remove_prefix(7);
  return address.substr(0, 4) == "127." || address == "::1";
}

bool IsWildcard(std::string_view address) {
  return address == "0.0.0.0" || address == "::" || address == "::ffff:0.0.0.0";
}

}  // namespace tyto::collect::discovery
