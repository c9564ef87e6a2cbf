#include "collect/discovery/proc_sockets.h"

#include <gtest/gtest.h>

#include <cstring>

#include "collect/discovery/testdata/proc_text.h"

namespace tyto::collect::discovery {
namespace {

using testdata::Tcp6Line;
using testdata::TcpHeader;
using testdata::TcpLine;

TEST(ParseListenSocketsTest, ListenEntriesOfTcpAndTcp6) {
  std::string tcp = std::string(TcpHeader()) + TcpLine(0, "0.0.0.0", 8000, 0x0A, 28311) +
                    TcpLine(1, "127.0.0.1", 11434, 0x0A, 28400) +
                    TcpLine(2, "127.0.0.1", 41000, 0x01, 35123) +  // established: not listening
                    TcpLine(3, "10.0.0.5", 9400, 0x0A, 0);
  auto v4 = ParseListenSockets(tcp);
  ASSERT_TRUE(v4.ok()) << v4.status().ToString();
  ASSERT_EQ(v4->size(), 3u);
  EXPECT_EQ((*v4)[0].address, "0.0.0.0");
  EXPECT_EQ((*v4)[0].port, 8000);
  EXPECT_EQ((*v4)[0].inode, 28311u);
  EXPECT_FALSE((*v4)[0].ipv6);
  EXPECT_EQ((*v4)[1].address, "127.0.0.1");
  EXPECT_EQ((*v4)[1].port, 11434);
  EXPECT_EQ((*v4)[2].address, "10.0.0.5");
  EXPECT_EQ((*v4)[2].inode, 0u);

  std::string tcp6 = std::string(TcpHeader()) + Tcp6Line(0, "::", 30000, 0x0A, 555) +
                     Tcp6Line(1, "::1", 8002, 0x0A, 556) + Tcp6Line(2, "::ffff:10.0.0.5", 80, 0x0A, 557);
  auto v6 = ParseListenSockets(tcp6);
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  ASSERT_EQ(v6->size(), 3u);
  EXPECT_EQ((*v6)[0].address, "::");
  EXPECT_TRUE((*v6)[0].ipv6);
  EXPECT_EQ((*v6)[0].port, 30000);
  EXPECT_EQ((*v6)[1].address, "::1");
  EXPECT_EQ((*v6)[2].address, "::ffff:10.0.0.5");
}

TEST(ParseListenSocketsTest, WhatTheKernelPrintsOnLittleEndianMachines) {
  // Verbatim from an x86-64 machine: 127.0.0.1:631 listening.
  const char* kText =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20563 1 "
      "0000000000000000 100 0 0 10 0\n";
  uint32_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  if (first != 1) GTEST_SKIP() << "the text above is what a little-endian kernel prints";
  auto v = ParseListenSockets(kText);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].address, "127.0.0.1");
  EXPECT_EQ((*v)[0].port, 631);
  EXPECT_EQ((*v)[0].inode, 20563u);
}

TEST(ParseListenSocketsTest, MalformedLinesAreSkippedAndGarbageIsAnError) {
  std::string text = std::string(TcpHeader()) + "   0: 0100007F 00000000:0000 0A x x x x x 1 2\n" +  // no port
                     "   1: 0100007F:ZZZZ 00000000:0000 0A a b c d e 12 1\n" +                        // bad port
                     "   2: 01007F:1F40 00000000:0000 0A a b c d e 13 1\n" +                          // 6 digits
                     "   3: 0100007F:1F40 00000000:0000 0A a b c d e notanumber 1\n" +                // inode
                     "   4: 0100007F:1F40 00000000:0000 XYZ a b c d e 14 1\n" +                       // state
                     "   5: 0100007F:11F40 00000000:0000 0A a b c d e 15 1\n" +                       // port > 16 bits
                     "short line\n" + TcpLine(6, "127.0.0.1", 8000, 0x0A, 16);
  auto v = ParseListenSockets(text);
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 1u);
  EXPECT_EQ((*v)[0].inode, 16u);

  EXPECT_TRUE(ParseListenSockets("").ok());
  EXPECT_TRUE(ParseListenSockets(TcpHeader()).ok());
  EXPECT_EQ(ParseListenSockets("not a socket table\n\x01\x02").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseSocketInodeTest, OnlySocketLinks) {
  EXPECT_EQ(ParseSocketInode("socket:[28311]"), 28311u);
  EXPECT_FALSE(ParseSocketInode("pipe:[28311]").has_value());
  EXPECT_FALSE(ParseSocketInode("anon_inode:[eventfd]").has_value());
  EXPECT_FALSE(ParseSocketInode("/dev/nvidia0").has_value());
  EXPECT_FALSE(ParseSocketInode("socket:[]").has_value());
  EXPECT_FALSE(ParseSocketInode("socket:[12").has_value());
  EXPECT_FALSE(ParseSocketInode("socket:[-1]").has_value());
  EXPECT_FALSE(ParseSocketInode("").has_value());
}

TEST(ParseParentPidTest, AfterTheLastParenthesis) {
  EXPECT_EQ(ParseParentPid("4242 (vllm) S 4200 4242 4200 0 -1 4194560 ..."), 4200);
  // A command name with spaces and parentheses (the kernel does not escape it).
  EXPECT_EQ(ParseParentPid("77 (a) b (c)) R 1 77 77 0"), 1);
  EXPECT_FALSE(ParseParentPid("").has_value());
  EXPECT_FALSE(ParseParentPid("77 (x").has_value());
  EXPECT_FALSE(ParseParentPid("77 (x) S").has_value());
  EXPECT_FALSE(ParseParentPid("77 (x) S -1").has_value());
}

TEST(ParseLocalAddressesTest, HostLocalLeavesWithoutLoopback) {
  // Shaped as a container's /proc/net/fib_trie (Main and Local tables list the same leaves).
  const char* kFib =
      "Main:\n"
      "  +-- 0.0.0.0/0 3 0 5\n"
      "     |-- 0.0.0.0\n"
      "        /0 universe UNICAST\n"
      "     +-- 127.0.0.0/8 2 0 2\n"
      "        +-- 127.0.0.0/31 1 0 0\n"
      "           |-- 127.0.0.0\n"
      "              /8 host LOCAL\n"
      "           |-- 127.0.0.1\n"
      "              /32 host LOCAL\n"
      "        |-- 127.255.255.255\n"
      "           /32 link BROADCAST\n"
      "     +-- 172.17.0.0/16 2 0 2\n"
      "        +-- 172.17.0.0/30 2 0 2\n"
      "           |-- 172.17.0.0\n"
      "              /16 link UNICAST\n"
      "           |-- 172.17.0.2\n"
      "              /32 host LOCAL\n"
      "        |-- 172.17.255.255\n"
      "           /32 link BROADCAST\n"
      "Local:\n"
      "  +-- 0.0.0.0/0 3 0 5\n"
      "           |-- 172.17.0.2\n"
      "              /32 host LOCAL\n"
      "           |-- 10.8.0.4\n"
      "              /32 host LOCAL\n";
  EXPECT_EQ(ParseLocalAddresses(kFib), (std::vector<std::string>{"172.17.0.2", "10.8.0.4"}));
  EXPECT_TRUE(ParseLocalAddresses("").empty());
  EXPECT_TRUE(ParseLocalAddresses("|-- not-an-ip\n   /32 host LOCAL\n").empty());
  EXPECT_TRUE(ParseLocalAddresses("/32 host LOCAL\n").empty());  // no leaf above
}

TEST(AddressClassTest, LoopbackAndWildcard) {
  EXPECT_TRUE(IsLoopback("127.0.0.1"));
  EXPECT_TRUE(IsLoopback("127.0.1.1"));
  EXPECT_TRUE(IsLoopback("::1"));
  EXPECT_TRUE(IsLoopback("::ffff:127.0.0.1"));
  EXPECT_FALSE(IsLoopback("10.0.0.1"));
  EXPECT_FALSE(IsLoopback("0.0.0.0"));
  EXPECT_TRUE(IsWildcard("0.0.0.0"));
  EXPECT_TRUE(IsWildcard("::"));
  EXPECT_TRUE(IsWildcard("::ffff:0.0.0.0"));
  EXPECT_FALSE(IsWildcard("127.0.0.1"));
}

}  // namespace
}  // namespace tyto::collect::discovery
