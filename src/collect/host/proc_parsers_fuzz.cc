// libFuzzer target: any bytes as every /proc and cgroup file the host collector parses. The
// parsers must never crash, hang or read out of bounds (the sanitizers watch that), and what
// they return must keep their documented shape.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collect/host/proc_parsers.h"

namespace host = tyto::collect::host;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto st = host::ParseProcStat(text); st.ok()) {
    for (const host::CpuTicks& cpu : st->cpus) {
      if (cpu.ticks.size() < 4 || cpu.ticks.size() > 10 || cpu.cpu.empty()) __builtin_trap();
    }
  }
  (void)host::ParseLoadavg(text);
  if (auto m = host::ParseMeminfo(text); m.ok() && m->empty()) __builtin_trap();
  (void)host::ParsePressure(text);
  if (auto d = host::ParseDiskstats(text); d.ok()) {
    for (const host::DiskStats& disk : *d) {
      if (disk.fields.size() < 11 || disk.fields.size() > 17) __builtin_trap();
    }
  }
  (void)host::ParseMounts(text);
  (void)host::ParseNetDev(text);
  (void)host::ParseNetSnmp(text);
  (void)host::ParseNetSnmp6(text);
  std::array<uint64_t, 16> counts{};
  (void)host::CountTcpStates(text, &counts);
  (void)host::ParseFileNr(text);
  (void)host::ParseFlatKeyed(text);
  (void)host::ParseIoStat(text);
  (void)host::IsExcludedDisk(text);
  return 0;
}
