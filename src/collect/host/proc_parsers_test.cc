#include "collect/host/proc_parsers.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tyto::collect::host {
namespace {

TEST(ProcParsers, Numbers) {
  EXPECT_EQ(ParseUint("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUint("18446744073709551616"));
  EXPECT_FALSE(ParseUint("-1"));
  EXPECT_FALSE(ParseUint("12x"));
  EXPECT_FALSE(ParseUint(""));
  EXPECT_EQ(ParseDouble("0.25"), 0.25);
  EXPECT_FALSE(ParseDouble("nan"));
  EXPECT_FALSE(ParseDouble("1e999"));
}

TEST(ProcParsers, ProcStatKeepsPerCoreLinesAndTotals) {
  auto st = ParseProcStat(
      "cpu  10 20 30 40 50 60 70 80 90 100\n"
      "cpu0 1 2 3 4 5 6 7 8 9 10\n"
      "cpu1 1 2 3 4\n"    // a very old kernel: four fields
      "cpuX 1 2 3 4 5\n"  // not a core
      "cpu2 1 2\n"        // too short
      "intr 199305542 45 0\n"
      "ctxt 38014093\nbtime 1418183276\nprocesses 26442\nprocs_running 2\nprocs_blocked 1\n");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  ASSERT_EQ(st->cpus.size(), 2u);
  EXPECT_EQ(st->cpus[0].cpu, "0");
  EXPECT_EQ(st->cpus[0].ticks.size(), 10u);
  EXPECT_EQ(st->cpus[1].ticks.size(), 4u);
  EXPECT_EQ(st->intr, 199305542u);
  EXPECT_EQ(st->ctxt, 38014093u);
  EXPECT_EQ(st->btime, 1418183276u);
  EXPECT_EQ(st->processes, 26442u);
  EXPECT_EQ(st->procs_running, 2u);
  EXPECT_EQ(st->procs_blocked, 1u);
  EXPECT_FALSE(ParseProcStat("hello world\n").ok());
  EXPECT_FALSE(ParseProcStat("").ok());
}

TEST(ProcParsers, MeminfoNamesAsNodeExporter) {
  auto m = ParseMeminfo(
      "MemTotal:       16310140 kB\n"
      "Active(anon):    1234 kB\n"
      "HugePages_Total:       0\n"
      "Bogus line\n"
      "Weird:  12 MB\n");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].first, "MemTotal_bytes");
  EXPECT_EQ((*m)[0].second, 16310140.0 * 1024);
  EXPECT_EQ((*m)[1].first, "Active_anon_bytes");
  EXPECT_EQ((*m)[2].first, "HugePages_Total");
  EXPECT_EQ((*m)[2].second, 0);
  EXPECT_FALSE(ParseMeminfo("garbage").ok());
}

TEST(ProcParsers, Pressure) {
  auto p = ParsePressure(
      "some avg10=1.00 avg60=0.50 avg300=0.10 total=14036781\n"
      "full avg10=0.00 avg60=0.00 avg300=0.00 total=12\n");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->some_total_us, 14036781u);
  EXPECT_EQ(p->full_total_us, 12u);
  EXPECT_FALSE(ParsePressure("some avg10=1.00\n").ok());
  EXPECT_FALSE(ParsePressure("some total=x\n").ok());
}

TEST(ProcParsers, DiskstatsNeedsElevenCounters) {
  auto d = ParseDiskstats(
      "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
      "   8       1 sda1 1 2 3 4 5 6 7 8 9 10\n");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].device, "sda");
  EXPECT_EQ((*d)[0].fields.size(), 17u);
  EXPECT_FALSE(ParseDiskstats("8 0 sda 1 2\n").ok());
  EXPECT_TRUE(ParseDiskstats("").ok());  // no block devices at all is possible
}

TEST(ProcParsers, DefaultDiskExclusion) {
  for (const char* d :
       {"ram0", "zram12", "loop7", "fd0", "sda1", "hdb2", "vda15", "xvdf3", "nvme0n1p1", "nvme12n3p45"}) {
    EXPECT_TRUE(IsExcludedDisk(d)) << d;
  }
  for (const char* d : {"sda", "vdb", "xvda", "nvme0n1", "dm-0", "md127", "loop", "sr0", "nvme0n1p", "mmcblk0"}) {
    EXPECT_FALSE(IsExcludedDisk(d)) << d;
  }
}

TEST(ProcParsers, MountsDecodeOctalEscapes) {
  auto m = ParseMounts("/dev/sdb1 /mnt/my\\040disk xfs rw,relatime 0 0\nshort line\n");
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].mountpoint, "/mnt/my disk");
  EXPECT_EQ((*m)[0].fstype, "xfs");
  EXPECT_FALSE(ParseMounts("x y\n").ok());
}

TEST(ProcParsers, NetDev) {
  auto d = ParseNetDev(
      "Inter-|   Receive                            |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier "
      "compressed\n"
      "  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
      "  bad: 1 2 3\n");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 1u);
  EXPECT_EQ((*d)[0].device, "eth0");
  EXPECT_EQ((*d)[0].counters[15], 16u);
  EXPECT_FALSE(ParseNetDev("nonsense").ok());
}

TEST(ProcParsers, NetSnmpPairsHeaderAndValues) {
  auto s = ParseNetSnmp(
      "Tcp: RtoAlgorithm MaxConn CurrEstab\nTcp: 1 -1 12\n"
      "Udp: InDatagrams NoPorts\nUdp: 5\n");  // a value line of the wrong width is dropped
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[1].first, "Tcp_MaxConn");
  EXPECT_EQ((*s)[1].second, -1);
  EXPECT_EQ((*s)[2].first, "Tcp_CurrEstab");
  EXPECT_EQ((*s)[2].second, 12);
}

TEST(ProcParsers, NetSnmp6SplitsAfterTheProtocol) {
  auto s = ParseNetSnmp6("Ip6InReceives  \t5069\nIcmp6InType133 2\nUdpLite6InErrors 0\nbogus\n6Bad 1\nIp6 2\n");
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].first, "Ip6_InReceives");
  EXPECT_EQ((*s)[0].second, 5069);
  EXPECT_EQ((*s)[1].first, "Icmp6_InType133");
  EXPECT_EQ((*s)[2].first, "UdpLite6_InErrors");
  EXPECT_FALSE(ParseNetSnmp6("nothing here\n").ok());
}

TEST(ProcParsers, TcpStates) {
  std::array<uint64_t, 16> counts{};
  auto n = CountTcpStates(
      "  sl  local_address rem_address   st tx_queue rx_queue\n"
      "   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000\n"
      "   1: 0100007F:A6C2 0100007F:0CEA 01 00000000:00000000\n"
      "   2: 0100007F:A6C2 0100007F:0CEA ZZ 00000000:00000000\n"
      "   3: 0100007F:A6C2 0100007F:0CEA 0F 00000000:00000000\n",
      &counts);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(counts[0x0A], 1u);
  EXPECT_EQ(counts[0x01], 1u);
  EXPECT_EQ(counts[0x0F], 1u);  // counted, though no state has that code; never reported
  EXPECT_FALSE(CountTcpStates("what is this\n", &counts).ok());
}

TEST(ProcParsers, FileNrAndCgroupFiles) {
  auto f = ParseFileNr("1024\t0\t9223372036854775807\n");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->allocated, 1024u);
  EXPECT_EQ(f->maximum, 9223372036854775807u);
  EXPECT_FALSE(ParseFileNr("1 2\n").ok());

  auto kv = ParseFlatKeyed("usage_usec 100\nuser_usec 60\nbad\nx y\n");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[1].first, "user_usec");

  auto io = ParseIoStat("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\nnonsense\n259:0 rbytes=x\n");
  ASSERT_EQ(io.size(), 2u);
  EXPECT_EQ(io[0].major, 8u);
  EXPECT_EQ(io[0].wios, 4u);
  EXPECT_EQ(io[1].major, 259u);
  EXPECT_EQ(io[1].rbytes, 0u);
}

// Random bytes and mangled real lines through every parser: nothing crashes (ASan and UBSan
// builds check the rest). proc_parsers_fuzz.cc does the same for longer under libFuzzer.
TEST(ProcParsers, SurvivesGarbage) {
  const std::string seeds[] = {"cpu0 1 2 3 4 5 6 7 8 9 10\nctxt 5\n",
                               "MemTotal: 5 kB\nActive(anon: 3 kB\n",
                               "some avg10=0 total=5\n",
                               "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n",
                               "a /b\\04 c d\n",
                               "Inter-|\n eth0: 1 2\n",
                               "Tcp: A B\nTcp: 1 2\n",
                               "sl\n 0: a b 0A\n",
                               "1 2 3\n",
                               "8:0 rbytes=1\n"};
  std::mt19937 rng(42);
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s = seeds[iter % std::size(seeds)];
    int edits = static_cast<int>(rng() % 8);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = static_cast<char>(rng() % 256);
          break;
        case 1:
          s.erase(pos, 1);
          break;
        default:
          s.insert(pos, 1, "0123456789 :\n\\()=-"[rng() % 19]);
          break;
      }
    }
    std::array<uint64_t, 16> counts{};
    (void)ParseProcStat(s);
    (void)ParseLoadavg(s);
    (void)ParseMeminfo(s);
    (void)ParsePressure(s);
    (void)ParseDiskstats(s);
    (void)ParseMounts(s);
    (void)ParseNetDev(s);
    (void)ParseNetSnmp(s);
    (void)ParseNetSnmp6(s);
    (void)CountTcpStates(s, &counts);
    (void)ParseFileNr(s);
    (void)ParseFlatKeyed(s);
    (void)ParseIoStat(s);
    (void)IsExcludedDisk(s);
  }
}

}  // namespace
}  // namespace tyto::collect::host
