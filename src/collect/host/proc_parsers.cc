#include "collect/host/proc_parsers.h"

#include <charconv>
#include <cmath>

namespace tyto::collect::host {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Calls fn(line) for each line, without the newline.
template <typename Fn>
void ForEachLine(std::string_view text, Fn fn) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    fn(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }

// Matches one or more digits at `s[*i]`, advancing *i.
bool Digits(std::string_view s, size_t* i) {
  size_t start = *i;
  while (*i < s.size() && IsDigit(s[*i])) ++*i;
  return *i > start;
}

}  // namespace

std::optional<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  if (s.empty()) return std::nullopt;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Result<ProcStat> ParseProcStat(std::string_view text) {
  ProcStat st;
  bool any = false;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.size() < 2) return;
    std::string_view key = f[0];
    if (key.size() > 3 && key.substr(0, 3) == "cpu") {
      std::string_view id = key.substr(3);
      if (!ParseUint(id)) return;
      CpuTicks cpu;
      cpu.cpu = std::string(id);
      for (size_t i = 1; i < f.size() && i <= 10; ++i) {
        std::optional<uint64_t> v = ParseUint(f[i]);
        if (!v) break;
        cpu.ticks.push_back(*v);
      }
      if (cpu.ticks.size() < 4) return;  // user nice system idle at the least
      st.cpus.push_back(std::move(cpu));
      any = true;
      return;
    }
    if (key == "cpu") {
      any = true;
      return;
    }
    std::optional<uint64_t> v = ParseUint(f[1]);
    if (!v) return;
    if (key == "intr")
      st.intr = v;
    else if (key == "ctxt")
      st.ctxt = v;
    else if (key == "btime")
      st.btime = v;
    else if (key == "processes")
      st.processes = v;
    else if (key == "procs_running")
      st.procs_running = v;
    else if (key == "procs_blocked")
      st.procs_blocked = v;
    else
      return;
    any = true;
  });
  if (!any) return InvalidArgument("no cpu, ctxt, btime or procs lines");
  return st;
}

Result<std::array<double, 3>> ParseLoadavg(std::string_view text) {
  std::vector<std::string_view> f = SplitFields(text.substr(0, text.find('\n')));
  if (f.size() < 3) return InvalidArgument("expected 3 load averages");
  std::array<double, 3> out{};
  for (size_t i = 0; i < 3; ++i) {
    std::optional<double> v = ParseDouble(f[i]);
    if (!v) return InvalidArgument("load average is not a number: " + std::string(f[i]));
    out[i] = *v;
  }
  return out;
}

Result<std::vector<std::pair<std::string, double>>> ParseMeminfo(std::string_view text) {
  std::vector<std::pair<std::string, double>> out;
  ForEachLine(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return;
    std::vector<std::string_view> f = SplitFields(line.substr(colon + 1));
    if (f.empty() || f.size() > 2) return;
    std::optional<uint64_t> v = ParseUint(f[0]);
    if (!v) return;
    std::string name;
    // "Active(anon)" -> "Active_anon", as node_exporter rewrites \((.*)\) to _$1.
    for (char c : line.substr(0, colon)) {
      if (c == '(') {
        name += '_';
      } else if (c != ')') {
        name += c;
      }
    }
    double value = static_cast<double>(*v);
    if (f.size() == 2) {
      if (f[1] != "kB") return;
      value *= 1024;
      name += "_bytes";
    }
    out.emplace_back(std::move(name), value);
  });
  if (out.empty()) return InvalidArgument("no \"Name: value kB\" lines");
  return out;
}

Result<Pressure> ParsePressure(std::string_view text) {
  Pressure p;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.empty() || (f[0] != "some" && f[0] != "full")) return;
    for (size_t i = 1; i < f.size(); ++i) {
      if (f[i].substr(0, 6) != "total=") continue;
      std::optional<uint64_t> v = ParseUint(f[i].substr(6));
      if (!v) return;
      (f[0] == "some" ? p.some_total_us : p.full_total_us) = v;
    }
  });
  if (!p.some_total_us && !p.full_total_us) return InvalidArgument("no \"some ... total=N\" line");
  return p;
}

Result<std::vector<DiskStats>> ParseDiskstats(std::string_view text) {
  std::vector<DiskStats> out;
  bool saw_line = false;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.empty()) return;
    saw_line = true;
    if (f.size() < 14) return;
    std::optional<uint64_t> major = ParseUint(f[0]);
    std::optional<uint64_t> minor = ParseUint(f[1]);
    if (!major || !minor || *major > UINT32_MAX || *minor > UINT32_MAX) return;
    DiskStats d;
    d.major = static_cast<uint32_t>(*major);
    d.minor = static_cast<uint32_t>(*minor);
    d.device = std::string(f[2]);
    for (size_t i = 3; i < f.size() && i < 3 + 17; ++i) {
      std::optional<uint64_t> v = ParseUint(f[i]);
      if (!v) break;
      d.fields.push_back(*v);
    }
    if (d.fields.size() < 11) return;
    out.push_back(std::move(d));
  });
  if (saw_line && out.empty()) return InvalidArgument("no device line with 14 or more fields");
  return out;
}

namespace {
std::string UnescapeOctal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

Result<std::vector<Mount>> ParseMounts(std::string_view text) {
  std::vector<Mount> out;
  bool saw_line = false;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.empty()) return;
    saw_line = true;
    if (f.size() < 4) return;
    out.push_back({UnescapeOctal(f[0]), UnescapeOctal(f[1]), UnescapeOctal(f[2]), std::string(f[3])});
  });
  if (saw_line && out.empty()) return InvalidArgument("no \"device mountpoint fstype options\" line");
  return out;
}

Result<std::vector<NetDevStats>> ParseNetDev(std::string_view text) {
  std::vector<NetDevStats> out;
  bool saw_header = false;
  ForEachLine(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (line.find('|') != std::string_view::npos) {
      saw_header = true;
      return;
    }
    if (colon == std::string_view::npos) return;
    std::vector<std::string_view> name = SplitFields(line.substr(0, colon));
    std::vector<std::string_view> f = SplitFields(line.substr(colon + 1));
    if (name.size() != 1 || f.size() < 16) return;
    NetDevStats d;
    d.device = std::string(name[0]);
    for (size_t i = 0; i < 16; ++i) {
      std::optional<uint64_t> v = ParseUint(f[i]);
      if (!v) return;
      d.counters[i] = *v;
    }
    out.push_back(std::move(d));
  });
  if (!saw_header && out.empty()) return InvalidArgument("no \"Inter-|\" header and no interface line");
  return out;
}

Result<std::vector<std::pair<std::string, double>>> ParseNetSnmp(std::string_view text) {
  std::vector<std::pair<std::string, double>> out;
  std::string_view prefix;
  std::vector<std::string_view> header;
  ForEachLine(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return;
    std::string_view p = line.substr(0, colon);
    std::vector<std::string_view> f = SplitFields(line.substr(colon + 1));
    if (header.empty() || p != prefix) {
      prefix = p;
      header = std::move(f);
      return;
    }
    if (f.size() == header.size()) {
      for (size_t i = 0; i < f.size(); ++i) {
        std::optional<double> v;
        if (!f[i].empty() && f[i][0] == '-') {
          if (auto u = ParseUint(f[i].substr(1))) v = -static_cast<double>(*u);
        } else if (auto u = ParseUint(f[i])) {
          v = static_cast<double>(*u);
        }
        if (v) out.emplace_back(std::string(prefix) + "_" + std::string(header[i]), *v);
      }
    }
    header.clear();
  });
  if (out.empty()) return InvalidArgument("no header/value line pairs");
  return out;
}

Result<std::vector<std::pair<std::string, double>>> ParseNetSnmp6(std::string_view text) {
  std::vector<std::pair<std::string, double>> out;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.size() != 2) return;
    size_t six = f[0].find('6');
    if (six == std::string_view::npos || six == 0 || six + 1 >= f[0].size()) return;
    std::optional<uint64_t> v = ParseUint(f[1]);
    if (!v) return;
    out.emplace_back(std::string(f[0].substr(0, six + 1)) + "_" + std::string(f[0].substr(six + 1)),
                     static_cast<double>(*v));
  });
  if (out.empty()) return InvalidArgument("no \"Ip6InReceives 123\" lines");
  return out;
}

Result<size_t> CountTcpStates(std::string_view text, std::array<uint64_t, 16>* counts) {
  size_t n = 0;
  bool saw_header = false;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.size() < 4) return;
    if (f[0] == "sl") {
      saw_header = true;
      return;
    }
    // "0: 0100007F:0277 00000000:0000 0A ..." : the state is the 4th field, in hex.
    std::string_view st = f[3];
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(st.data(), st.data() + st.size(), v, 16);
    if (ec != std::errc() || ptr != st.data() + st.size() || v == 0 || v >= counts->size()) return;
    ++(*counts)[v];
    ++n;
  });
  if (!saw_header && n == 0 && !text.empty()) return InvalidArgument("no \"sl local_address ...\" header");
  return n;
}

Result<FileNr> ParseFileNr(std::string_view text) {
  std::vector<std::string_view> f = SplitFields(text.substr(0, text.find('\n')));
  if (f.size() != 3) return InvalidArgument("expected \"allocated unused maximum\"");
  std::optional<uint64_t> allocated = ParseUint(f[0]);
  std::optional<uint64_t> maximum = ParseUint(f[2]);
  if (!allocated || !maximum) return InvalidArgument("file-nr fields are not numbers");
  return FileNr{*allocated, *maximum};
}

std::vector<std::pair<std::string, uint64_t>> ParseFlatKeyed(std::string_view text) {
  std::vector<std::pair<std::string, uint64_t>> out;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.size() != 2) return;
    if (std::optional<uint64_t> v = ParseUint(f[1])) out.emplace_back(std::string(f[0]), *v);
  });
  return out;
}

std::vector<IoStatLine> ParseIoStat(std::string_view text) {
  std::vector<IoStatLine> out;
  ForEachLine(text, [&](std::string_view line) {
    std::vector<std::string_view> f = SplitFields(line);
    if (f.empty()) return;
    size_t colon = f[0].find(':');
    if (colon == std::string_view::npos) return;
    std::optional<uint64_t> major = ParseUint(f[0].substr(0, colon));
    std::optional<uint64_t> minor = ParseUint(f[0].substr(colon + 1));
    if (!major || !minor || *major > UINT32_MAX || *minor > UINT32_MAX) return;
    IoStatLine io;
    io.major = static_cast<uint32_t>(*major);
    io.minor = static_cast<uint32_t>(*minor);
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = f[i].substr(0, eq);
      std::optional<uint64_t> v = ParseUint(f[i].substr(eq + 1));
      if (!v) continue;
      if (key == "rbytes")
        io.rbytes = *v;
      else if (key == "wbytes")
        io.wbytes = *v;
      else if (key == "rios")
        io.rios = *v;
      else if (key == "wios")
        io.wios = *v;
    }
    out.push_back(io);
  });
  return out;
}

bool IsExcludedDisk(std::string_view d) {
  // The alternatives each consume a prefix; a trailing run of digits must end the name.
  auto digits_to_end = [&](size_t i) { return Digits(d, &i) && i == d.size(); };
  auto starts = [&](std::string_view p) { return d.substr(0, p.size()) == p; };
  if (starts("zram") && digits_to_end(4)) return true;
  if (starts("ram") && digits_to_end(3)) return true;
  if (starts("loop") && digits_to_end(4)) return true;
  if (starts("fd") && digits_to_end(2)) return true;
  // (h|s|v|xv)d[a-z] then digits: partitions of sda, vdb, xvda...
  size_t i = 0;
  if (starts("xvd")) {
    i = 3;
  } else if (d.size() >= 2 && (d[0] == 'h' || d[0] == 's' || d[0] == 'v') && d[1] == 'd') {
    i = 2;
  }
  if (i > 0 && i < d.size() && IsLower(d[i]) && digits_to_end(i + 1)) return true;
  // nvme\d+n\d+p\d+: partitions of NVMe namespaces.
  if (starts("nvme")) {
    size_t j = 4;
    if (!Digits(d, &j) || j >= d.size() || d[j] != 'n') return false;
    ++j;
    if (!Digits(d, &j) || j >= d.size() || d[j] != 'p') return false;
    return digits_to_end(j + 1);
  }
  return false;
}

}  // namespace tyto::collect::host
