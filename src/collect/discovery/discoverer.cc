#include "collect/discovery/discoverer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>

#include "collect/discovery/proc_sockets.h"
#include "common/log.h"
#include "http/url.h"

namespace tyto::collect::discovery {
namespace {

// An argv longer than this is cut (ARG_MAX allows 2 MiB; servers' are a few hundred bytes).
constexpr size_t kMaxCmdlineBytes = 256 * 1024;
// /proc/net/tcp of a busy machine: about 150 bytes per socket.
constexpr size_t kMaxProcFileBytes = 64 * 1024 * 1024;
constexpr size_t kReadChunk = 64 * 1024;

const log::Logger& Log() {
  static const log::Logger* logger = new log::Logger("collect.discovery");
  return *logger;
}

// Files under /proc report a size of 0, so they are read in chunks until a short read.
// `max_bytes`: at most this much is returned (the rest is not read).
Result<std::string> ReadProcFile(Env* env, const std::string& path, size_t max_bytes) {
  TYTO_ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, env->NewRandomAccessFile(path));
  std::string data, chunk;
  while (data.size() < max_bytes) {
    TYTO_RETURN_IF_ERROR(file->Read(data.size(), std::min(kReadChunk, max_bytes - data.size()), &chunk));
    data += chunk;
    if (chunk.empty() || chunk.size() < kReadChunk) break;
  }
  return data;
}

bool IsPid(std::string_view name) {
  if (name.empty() || name.size() > 10) return false;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string JoinHostPort(std::string_view host, uint16_t port) {
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

// The host to scrape when only argv is known: its --host, or loopback for none or a wildcard.
std::string ArgvHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || IsWildcard(host) || host == "localhost") return "127.0.0.1";
  return std::string(host);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// host:port with every name of this machine written "local", so that "localhost:8000",
// "127.0.0.1:8000" and "gpu-node-7:8000" compare equal.
std::string AddressKey(const std::string& address, const std::set<std::string>& local_hosts) {
  std::string host;
  uint16_t port = 0;
  if (!http::SplitAddress(address, false, &host, &port).ok()) return address;
  host = Lower(host);
  if (host == "localhost" || IsLoopback(host) || IsWildcard(host) || local_hosts.count(host) > 0) host = "local";
  return host + ":" + std::to_string(port);
}

std::string JobName(ServerKind kind, const std::set<std::string>& taken) {
  const std::string base(KindName(kind));
  if (taken.count(base) == 0) return base;
  std::string name = base + "-discovered";
  for (int i = 2; taken.count(name) > 0; ++i) name = base + "-discovered-" + std::to_string(i);
  return name;
}

int KindOrder(ServerKind kind) { return static_cast<int>(kind); }

struct Candidate {
  int64_t pid = 0;
  Launch launch;
  std::optional<int64_t> ppid;
};

}  // namespace

Result<std::string> ReadLink(const std::string& path) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) {
      const int err = errno;
      return Status(err == ENOENT ? StatusCode::kNotFound : StatusCode::kIOError,
                    "readlink " + path + ": " + std::strerror(err));
    }
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= 64 * 1024) return IOError("readlink " + path + ": target longer than 64 KiB");
    buf.resize(buf.size() * 2);
  }
}

std::string_view PortSourceName(PortSource source) {
  switch (source) {
    case PortSource::kListening:
      return "listening";
    case PortSource::kArgv:
      return "argv";
    case PortSource::kDefault:
      return "default";
    case PortSource::kConfigured:
      return "configured";
  }
  return "unknown";
}

// One pass over /proc. Caches what several servers share (a network namespace's sockets).
class Discoverer::Scan {
 public:
  explicit Scan(const DiscoveryOptions& opt) : opt_(opt), env_(opt.env) {}

  Result<std::vector<Server>> Run() {
    std::vector<Server> servers;
    if (opt_.config.discover) {
      TYTO_ASSIGN_OR_RETURN(std::vector<Candidate> candidates, FindCandidates());
      if (Result<std::string> ns = opt_.read_link(Proc("self/ns/net")); ns.ok()) self_namespace_ = *ns;
      for (const Candidate& c : candidates) servers.push_back(Resolve(c));
    }
    AddStatic(&servers);
    std::sort(servers.begin(), servers.end(), [](const Server& a, const Server& b) {
      if (a.kind != b.kind) return KindOrder(a.kind) < KindOrder(b.kind);
      if (a.address != b.address) return a.address < b.address;
      return a.pid < b.pid;
    });
    // Two processes answering on one address are one server (the lower PID is kept).
    std::set<std::string> scraped;
    std::vector<Server> out;
    for (Server& s : servers) {
      if (s.not_scraped.empty() && !scraped.insert(s.address).second) continue;
      out.push_back(std::move(s));
    }
    return out;
  }

 private:
  std::string Proc(const std::string& rel) const { return opt_.proc_path + "/" + rel; }
  std::string Proc(int64_t pid, const std::string& rel) const {
    return opt_.proc_path + "/" + std::to_string(pid) + "/" + rel;
  }

  Result<std::vector<Candidate>> FindCandidates() {
    Result<std::vector<std::string>> names = env_->ListDir(opt_.proc_path);
    if (!names.ok()) {
      return Unavailable("inference server discovery: cannot list " + opt_.proc_path + ": " +
                         names.status().message() + " (inference_servers.discover: false leaves only the static list)");
    }
    std::vector<Candidate> found;
    for (const std::string& name : *names) {
      if (!IsPid(name)) continue;
      // A process that exits between the listing and the read is simply not there.
      Result<std::string> cmdline = ReadProcFile(env_, Proc(name + "/cmdline"), kMaxCmdlineBytes);
      if (!cmdline.ok() || cmdline->empty()) continue;
      std::optional<Launch> launch = ParseLaunch(SplitCmdline(*cmdline));
      if (!launch) continue;
      Candidate c;
      c.pid = static_cast<int64_t>(std::stoll(name));
      c.launch = std::move(*launch);
      if (Result<std::string> stat = ReadProcFile(env_, Proc(name + "/stat"), kReadChunk); stat.ok()) {
        c.ppid = ParseParentPid(*stat);
      }
      found.push_back(std::move(c));
    }
    std::sort(found.begin(), found.end(), [](const Candidate& a, const Candidate& b) { return a.pid < b.pid; });
    // A child of a server of the same kind is that server's worker, except TGI's router, which
    // is the server its launcher started.
    std::set<int64_t> dropped;
    for (const Candidate& c : found) {
      if (!c.ppid) continue;
      auto parent = std::find_if(found.begin(), found.end(), [&](const Candidate& p) { return p.pid == *c.ppid; });
      if (parent == found.end() || parent->launch.kind != c.launch.kind || parent->pid == c.pid) continue;
      if (c.launch.kind == ServerKind::kTgi && parent->launch.tgi_launcher && !c.launch.tgi_launcher) {
        dropped.insert(parent->pid);
      } else {
        dropped.insert(c.pid);
      }
    }
    std::vector<Candidate> out;
    for (Candidate& c : found) {
      if (dropped.count(c.pid) == 0) out.push_back(std::move(c));
    }
    return out;
  }

  // The LISTEN sockets of the network namespace `pid` is in, read once per namespace.
  const std::vector<ListenSocket>& NamespaceSockets(int64_t pid, const std::optional<std::string>& ns) {
    const std::string key = ns ? *ns : "pid " + std::to_string(pid);
    auto it = sockets_.find(key);
    if (it != sockets_.end()) return it->second;
    std::vector<ListenSocket>& all = sockets_[key];
    for (const char* file : {"net/tcp", "net/tcp6"}) {
      Result<std::string> text = ReadProcFile(env_, Proc(pid, file), kMaxProcFileBytes);
      if (!text.ok()) continue;  // tcp6 is absent when IPv6 is off
      Result<std::vector<ListenSocket>> parsed = ParseListenSockets(*text);
      if (!parsed.ok()) {
        Log().Debug("listening sockets unreadable", {{"path", Proc(pid, file)}, {"reason", parsed.status()}});
        continue;
      }
      all.insert(all.end(), parsed->begin(), parsed->end());
    }
    return all;
  }

  Server Resolve(const Candidate& c) {
    const Launch& l = c.launch;
    Server s;
    s.kind = l.kind;
    s.model = l.model;
    s.pid = c.pid;
    s.not_scraped = l.not_scraped;
    s.address = JoinHostPort(ArgvHost(l.host), l.port);
    s.port_source = l.port_from_argv ? PortSource::kArgv : PortSource::kDefault;

    Result<std::vector<std::string>> fds = env_->ListDir(Proc(c.pid, "fd"));
    if (!fds.ok()) return s;  // another user's process: argv is all there is
    std::set<uint64_t> inodes;
    for (const std::string& fd : *fds) {
      Result<std::string> target = opt_.read_link(Proc(c.pid, "fd/" + fd));
      if (!target.ok()) continue;
      if (std::optional<uint64_t> inode = ParseSocketInode(*target)) inodes.insert(*inode);
    }
    std::optional<std::string> ns;
    if (Result<std::string> link = opt_.read_link(Proc(c.pid, "ns/net")); link.ok()) ns = *link;
    const bool other_namespace = ns && self_namespace_ && *ns != *self_namespace_;

    std::vector<ListenSocket> mine;
    for (const ListenSocket& sock : NamespaceSockets(c.pid, ns)) {
      if (sock.inode != 0 && inodes.count(sock.inode) > 0) mine.push_back(sock);
    }
    std::set<uint16_t> ports;
    for (const ListenSocket& sock : mine) ports.insert(sock.port);
    uint16_t port = 0;
    if (ports.count(l.port) > 0) {
      port = l.port;
    } else if (l.kind != ServerKind::kTriton && ports.size() == 1) {
      port = *ports.begin();  // the API port, which serves the metrics too
    } else {
      if (s.not_scraped.empty()) s.not_scraped = ports.empty() ? "not_listening" : "port_unknown";
      return s;
    }
    s.port_source = PortSource::kListening;

    // Of the sockets on that port: a wildcard bind first, then a specific address, then
    // loopback; IPv4 before IPv6.
    auto rank = [](const ListenSocket& sock) {
      int r = IsWildcard(sock.address) ? 0 : IsLoopback(sock.address) ? 4 : 2;
      return r + (sock.ipv6 && sock.address.rfind("::ffff:", 0) != 0 ? 1 : 0);
    };
    const ListenSocket* best = nullptr;
    for (const ListenSocket& sock : mine) {
      if (sock.port == port && (best == nullptr || rank(sock) < rank(*best))) best = &sock;
    }
    std::string host = best->address;
    if (host.rfind("::ffff:", 0) == 0) host = host.substr(7);
    if (!other_namespace) {
      if (IsWildcard(host)) host = best->ipv6 && best->address == "::" ? "::1" : "127.0.0.1";
    } else if (IsLoopback(host)) {
      if (s.not_scraped.empty()) s.not_scraped = "unreachable_namespace";
    } else if (IsWildcard(host)) {
      // The host reaches a container's network through the namespace's own address.
      Result<std::string> fib = ReadProcFile(env_, Proc(c.pid, "net/fib_trie"), kMaxProcFileBytes);
      std::vector<std::string> addresses = fib.ok() ? ParseLocalAddresses(*fib) : std::vector<std::string>{};
      if (addresses.empty()) {
        if (s.not_scraped.empty()) s.not_scraped = "unreachable_namespace";
      } else {
        host = addresses.front();
      }
    }
    s.address = JoinHostPort(host, port);
    return s;
  }

  void AddStatic(std::vector<Server>* servers) {
    std::set<std::string> configured;
    std::vector<Server> added;
    for (const StaticServerConfig& e : opt_.config.static_servers) {
      std::optional<ServerKind> kind = KindFromName(e.kind);
      std::string host;
      uint16_t port = 0;
      if (!kind || !http::SplitAddress(e.address, false, &host, &port).ok()) {
        // The config's schema refuses these; a hand-built config may not have been checked.
        Log().Warn("static inference server skipped", {{"kind", e.kind}, {"address", e.address}});
        continue;
      }
      Server s;
      s.kind = *kind;
      s.address = JoinHostPort(host, port);
      s.model = e.model;
      if (!e.metrics_path.empty()) s.metrics_path = e.metrics_path;
      s.labels = e.labels;
      s.from_static = true;
      s.port_source = PortSource::kConfigured;
      if (s.kind == ServerKind::kOllama && e.metrics_path.empty()) s.not_scraped = "no_metrics_endpoint";
      configured.insert(AddressKey(s.address, {}));
      added.push_back(std::move(s));
    }
    // A static entry replaces a process found at the same address (it says more: labels).
    std::erase_if(*servers, [&](const Server& s) { return configured.count(AddressKey(s.address, {})) > 0; });
    servers->insert(servers->end(), added.begin(), added.end());
  }

  const DiscoveryOptions& opt_;
  Env* env_;
  std::optional<std::string> self_namespace_;
  std::map<std::string, std::vector<ListenSocket>> sockets_;
};

Discoverer::Discoverer(DiscoveryOptions options) : opt_(std::move(options)) {
  if (opt_.env == nullptr) opt_.env = Env::Default();
  if (!opt_.read_link) opt_.read_link = ReadLink;
  opt_.proc_path = WithoutTrailingSlashes(opt_.proc_path);
}

Result<std::vector<Server>> Discoverer::FindServers() const {
  Scan scan(opt_);
  return scan.Run();
}

Result<std::vector<scrape::ScrapeConfig>> Discoverer::Discover(const std::vector<scrape::ScrapeConfig>& user_jobs,
                                                               std::vector<Server>* servers_out) const {
  TYTO_ASSIGN_OR_RETURN(std::vector<Server> servers, FindServers());
  std::vector<std::string> local_hosts;
  if (Result<std::string> name = ReadProcFile(opt_.env, opt_.proc_path + "/sys/kernel/hostname", kReadChunk);
      name.ok()) {
    std::string_view n = *name;
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ')) n.remove_suffix(1);
    if (!n.empty()) local_hosts.emplace_back(n);
  }
  if (Result<std::string> fib = ReadProcFile(opt_.env, opt_.proc_path + "/self/net/fib_trie", kMaxProcFileBytes);
      fib.ok()) {
    for (std::string& a : ParseLocalAddresses(*fib)) local_hosts.push_back(std::move(a));
  }
  AssignJobs(user_jobs, local_hosts, &servers);
  std::vector<scrape::ScrapeConfig> jobs = BuildScrapeConfigs(servers, opt_.config.scrape_interval);
  if (servers_out != nullptr) *servers_out = std::move(servers);
  return jobs;
}

void AssignJobs(const std::vector<scrape::ScrapeConfig>& user_jobs, const std::vector<std::string>& local_hosts,
                std::vector<Server>* servers) {
  std::set<std::string> local;
  for (const std::string& h : local_hosts) local.insert(Lower(h));
  std::set<std::string> taken;
  std::set<std::string> scraped;
  for (const scrape::ScrapeConfig& job : user_jobs) {
    taken.insert(job.job_name);
    for (const scrape::StaticConfig& group : job.static_configs) {
      for (const std::string& target : group.targets) scraped.insert(AddressKey(target, local));
    }
  }
  for (Server& s : *servers) {
    s.job.clear();
    if (!s.not_scraped.empty()) continue;
    if (scraped.count(AddressKey(s.address, local)) > 0) {
      s.not_scraped = "scraped_by_user_job";
      continue;
    }
    s.job = JobName(s.kind, taken);
  }
}

std::vector<scrape::ScrapeConfig> BuildScrapeConfigs(const std::vector<Server>& servers,
                                                     std::chrono::milliseconds scrape_interval) {
  std::vector<const Server*> ordered;
  for (const Server& s : servers) {
    if (!s.job.empty() && s.not_scraped.empty()) ordered.push_back(&s);
  }
  std::stable_sort(ordered.begin(), ordered.end(), [](const Server* a, const Server* b) {
    if (a->kind != b->kind) return KindOrder(a->kind) < KindOrder(b->kind);
    if (a->job != b->job) return a->job < b->job;
    return a->address < b->address;
  });
  std::vector<scrape::ScrapeConfig> jobs;
  for (const Server* s : ordered) {
    if (jobs.empty() || jobs.back().job_name != s->job) {
      scrape::ScrapeConfig job;
      job.job_name = s->job;
      job.scrape_interval = scrape_interval;
      jobs.push_back(std::move(job));
    }
    scrape::StaticConfig group;
    group.targets = {s->address};
    group.labels = s->labels;
    if (!s->model.empty()) group.labels["model"] = s->model;
    if (s->metrics_path != jobs.back().metrics_path) group.labels["__metrics_path__"] = s->metrics_path;
    group.labels["__meta_inference_kind"] = std::string(KindName(s->kind));
    group.labels["__meta_inference_source"] = s->from_static ? "static" : "process";
    group.labels["__meta_inference_port_source"] = std::string(PortSourceName(s->port_source));
    if (s->pid != 0) group.labels["__meta_inference_pid"] = std::to_string(s->pid);
    jobs.back().static_configs.push_back(std::move(group));
  }
  return jobs;
}

void WriteServerInfo(const std::vector<Server>& servers, Sink* sink) {
  constexpr std::string_view kName = "tyto_inference_server_info";
  bool described = false;
  std::set<Labels> seen;
  for (const Server& s : servers) {
    Result<Labels> labels = Labels::FromPairs({{std::string(kMetricNameLabel), std::string(kName)},
                                               {"kind", std::string(KindName(s.kind))},
                                               {"model", s.model},
                                               {"address", s.address},
                                               {"source", s.from_static ? "static" : "process"},
                                               {"scrape_job", s.job},
                                               {"not_scraped", s.not_scraped}});
    if (!labels.ok() || !seen.insert(*labels).second) continue;
    if (!described) {
      sink->Describe(kName, MetricType::kInfo,
                     "Inference servers found (on this machine or in inference_servers.static), whether scraped "
                     "or not; `not_scraped` says why not.");
      described = true;
    }
    sink->Add(*labels, 1);
  }
}

}  // namespace tyto::collect::discovery
