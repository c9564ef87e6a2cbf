// Test helpers: /proc/net/tcp and tcp6 lines as this machine's kernel would print them (each
// 32-bit word of the address as a native integer), so tests hold on any byte order.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace tyto::collect::discovery::testdata {

inline std::string_view TcpHeader() {
  return "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";
}

// `bytes` (4 or 16, network order) as the kernel prints them: one %08X per 32-bit word.
inline std::string KernelHex(const unsigned char* bytes, size_t n) {
  std::string out;
  for (size_t w = 0; w < n / 4; ++w) {
    uint32_t word = 0;
    std::memcpy(&word, bytes + w * 4, 4);
    char buf[9];
    std::snprintf(buf, sizeof(buf), "%08X", word);
    out += buf;
  }
  return out;
}

inline std::string Line(int slot, const std::string& local_hex, uint16_t port, const std::string& remote_hex,
                        unsigned state, uint64_t inode) {
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "%4d: %s:%04X %s:0000 %02X 00000000:00000000 00:00000000 00000000  1000        0 %llu 1 "
                "0000000000000000 100 0 0 10 0\n",
                slot, local_hex.c_str(), port, remote_hex.c_str(), state, static_cast<unsigned long long>(inode));
  return buf;
}

// One /proc/net/tcp line for a socket bound to `address` (IPv4 text) and `port`.
inline std::string TcpLine(int slot, const char* address, uint16_t port, unsigned state, uint64_t inode) {
  unsigned char b[4];
  if (::inet_pton(AF_INET, address, b) != 1) std::memset(b, 0, sizeof(b));
  return Line(slot, KernelHex(b, 4), port, "00000000", state, inode);
}

// One /proc/net/tcp6 line; `address` is IPv6 text.
inline std::string Tcp6Line(int slot, const char* address, uint16_t port, unsigned state, uint64_t inode) {
  unsigned char b[16];
  if (::inet_pton(AF_INET6, address, b) != 1) std::memset(b, 0, sizeof(b));
  return Line(slot, KernelHex(b, 16), port, std::string(32, '0'), state, inode);
}

}  // namespace tyto::collect::discovery::testdata
