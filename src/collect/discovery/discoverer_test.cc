#include "collect/discovery/discoverer.h"

#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "collect/discovery/testdata/fake_proc.h"
#include "relabel/relabel.h"
#include "scrape/target.h"
#include "testing/fault_injection_env.h"
#include "testing/temp_dir.h"

extern char** environ;

namespace tyto::collect::discovery {
namespace {

using testdata::FakeProc;

// An Env and a readlink that refuse one process's descriptors and namespace, as the kernel
// does for another user's process when Tyto is not root (the tests may run as root, where
// permissions cannot be used for this).
class DenyingEnv : public tyto::testing::FaultInjectionEnv {
 public:
  DenyingEnv() : FaultInjectionEnv(Env::Default()) {}
  void Deny(const std::string& dir) { denied_.insert(dir); }
  bool Denied(const std::string& path) const {
    for (const std::string& d : denied_) {
      if (path.rfind(d, 0) == 0) return true;
    }
    return false;
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    if (Denied(dir)) return IOError("opendir " + dir + ": Permission denied");
    return FaultInjectionEnv::ListDir(dir);
  }
  ReadLinkFn ReadLinkFunction() const {
    return [this](const std::string& path) -> Result<std::string> {
      if (Denied(path)) return IOError("readlink " + path + ": Permission denied");
      return ReadLink(path);
    };
  }

 private:
  std::set<std::string> denied_;
};

DiscoveryOptions Options(const FakeProc& proc) {
  DiscoveryOptions o;
  o.proc_path = proc.root();
  return o;
}

const Server* ByPid(const std::vector<Server>& servers, int64_t pid) {
  for (const Server& s : servers) {
    if (s.pid == pid) return &s;
  }
  return nullptr;
}

const Server* ByAddress(const std::vector<Server>& servers, const std::string& address) {
  for (const Server& s : servers) {
    if (s.address == address) return &s;
  }
  return nullptr;
}

std::vector<std::string> JobNames(const std::vector<scrape::ScrapeConfig>& jobs) {
  std::vector<std::string> names;
  for (const auto& j : jobs) names.push_back(j.job_name);
  return names;
}

std::vector<std::string> Targets(const scrape::ScrapeConfig& job) {
  std::vector<std::string> out;
  for (const auto& g : job.static_configs) out.insert(out.end(), g.targets.begin(), g.targets.end());
  return out;
}

TEST(DiscovererTest, EachKindIsFoundWithItsModelPortAndJob) {
  FakeProc proc;
  proc.Process(1, {"/sbin/init"}, 0);
  proc.Process(2, {}, 0);  // a kernel thread: empty cmdline
  proc.Process(100, {"/usr/bin/python3", "/usr/local/bin/vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--port",
                     "8000"});
  proc.Socket(100, 12, 1001);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8000, 1001);
  // A worker forked with the same argv, holding the inherited listening socket.
  proc.Process(101, {"/usr/bin/python3", "/usr/local/bin/vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct", "--port",
                     "8000"},
               100);
  proc.Socket(101, 12, 1001);
  // TGI in its container image: PORT=80 in the launcher's environment, passed to the router.
  proc.Process(200, {"text-generation-launcher", "--model-id", "HuggingFaceH4/zephyr-7b-beta"});
  proc.Process(201, {"text-generation-router", "--tokenizer-name", "HuggingFaceH4/zephyr-7b-beta", "--port", "80"},
               200);
  proc.Socket(201, 20, 2001);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 80, 2001);
  proc.Process(300, {"/opt/tritonserver/bin/tritonserver", "--model-repository=/models"});
  for (uint16_t port : {8000, 8001, 8002}) {
    proc.Socket(300, 30 + port % 10, 3000 + port % 10);
    proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", port, 3000 + port % 10);
  }
  proc.Process(400, {"python3", "-m", "sglang.launch_server", "--model-path", "/models/qwen2.5-7b", "--host", "::",
                     "--enable-metrics"});
  proc.Socket(400, 9, 4001);
  proc.Listen6(FakeProc::kHostNamespace, "::", 30000, 4001);
  proc.Process(500, {"/usr/local/bin/ollama", "serve"});
  proc.Socket(500, 3, 5001);
  proc.Listen(FakeProc::kHostNamespace, "127.0.0.1", 11434, 5001);
  proc.Flush();

  Discoverer d(Options(proc));
  std::vector<Server> servers;
  auto jobs = d.Discover({}, &servers);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();

  ASSERT_EQ(servers.size(), 5u);
  EXPECT_EQ(ByPid(servers, 101), nullptr) << "the forked worker is the same server";
  EXPECT_EQ(ByPid(servers, 200), nullptr) << "the launcher is represented by its router";
  const Server* vllm = ByPid(servers, 100);
  ASSERT_NE(vllm, nullptr);
  EXPECT_EQ(vllm->kind, ServerKind::kVllm);
  EXPECT_EQ(vllm->address, "127.0.0.1:8000");
  EXPECT_EQ(vllm->model, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(vllm->port_source, PortSource::kListening);
  EXPECT_EQ(vllm->job, "vllm");
  const Server* tgi = ByPid(servers, 201);
  ASSERT_NE(tgi, nullptr);
  EXPECT_EQ(tgi->address, "127.0.0.1:80");
  EXPECT_EQ(tgi->model, "HuggingFaceH4/zephyr-7b-beta");
  const Server* triton = ByPid(servers, 300);
  ASSERT_NE(triton, nullptr);
  EXPECT_EQ(triton->address, "127.0.0.1:8002") << "the metrics port, not the HTTP or gRPC one";
  EXPECT_EQ(triton->model, "");
  const Server* sglang = ByPid(servers, 400);
  ASSERT_NE(sglang, nullptr);
  EXPECT_EQ(sglang->address, "[::1]:30000");
  EXPECT_EQ(sglang->model, "qwen2.5-7b");
  const Server* ollama = ByPid(servers, 500);
  ASSERT_NE(ollama, nullptr);
  EXPECT_EQ(ollama->address, "127.0.0.1:11434");
  EXPECT_EQ(ollama->not_scraped, "no_metrics_endpoint");
  EXPECT_EQ(ollama->job, "");

  EXPECT_EQ(JobNames(*jobs), (std::vector<std::string>{"vllm", "tgi", "triton", "sglang"}));
  const scrape::ScrapeConfig& job = (*jobs)[0];
  EXPECT_EQ(job.scrape_interval, std::chrono::seconds(15));
  EXPECT_EQ(job.metrics_path, "/metrics");
  ASSERT_EQ(job.static_configs.size(), 1u);
  EXPECT_EQ(job.static_configs[0].targets, (std::vector<std::string>{"127.0.0.1:8000"}));
  EXPECT_EQ(job.static_configs[0].labels, (std::map<std::string, std::string>{
                                              {"model", "meta-llama/Llama-3.1-8B-Instruct"},
                                              {"__meta_inference_kind", "vllm"},
                                              {"__meta_inference_pid", "100"},
                                              {"__meta_inference_port_source", "listening"},
                                              {"__meta_inference_source", "process"},
                                          }));
  EXPECT_EQ(Targets((*jobs)[3]), (std::vector<std::string>{"[::1]:30000"}));

  // What the scrape manager makes of it: job, instance and model on the series; the
  // __meta_ labels only among the discovered ones.
  scrape::ScrapeConfig applied = job;
  ASSERT_TRUE(scrape::ApplyDefaults(scrape::GlobalConfig{}, &applied).ok());
  std::vector<scrape::TargetGroup> groups;
  for (const auto& g : applied.static_configs) groups.push_back({g.targets, g.labels, "discovery"});
  scrape::TargetsResult built = scrape::BuildTargets(applied, relabel::Relabeler(), groups);
  ASSERT_EQ(built.targets.size(), 1u);
  EXPECT_EQ(built.targets[0].labels, Labels::Of({"instance", "127.0.0.1:8000", "job", "vllm", "model",
                                                 "meta-llama/Llama-3.1-8B-Instruct"}));
  EXPECT_EQ(built.targets[0].discovered.Get("__meta_inference_kind"), "vllm");
  EXPECT_EQ(built.targets[0].Url(), "http://127.0.0.1:8000/metrics");
}

TEST(DiscovererTest, TheListeningSocketDecidesThePort) {
  FakeProc proc;
  // No --port: vLLM's default would be 8000, but it listens on 9000 (a config file said so).
  proc.Process(100, {"vllm", "serve", "m"});
  proc.Socket(100, 5, 1001);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 9000, 1001);
  // Its argv port among others: the argv port.
  proc.Process(110, {"vllm", "serve", "m2", "--port", "8100"});
  proc.Socket(110, 5, 1101);
  proc.Socket(110, 6, 1102);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 45123, 1101);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8100, 1102);
  // Bound to one address: that address.
  proc.Process(120, {"vllm", "serve", "m3", "--port", "8200", "--host", "10.0.0.5"});
  proc.Socket(120, 5, 1201);
  proc.Listen(FakeProc::kHostNamespace, "10.0.0.5", 8200, 1201);
  // Bound to IPv6 loopback only.
  proc.Process(130, {"vllm", "serve", "m4", "--port", "8300"});
  proc.Socket(130, 5, 1301);
  proc.Listen6(FakeProc::kHostNamespace, "::1", 8300, 1301);
  // IPv4-mapped and plain IPv4 wildcard on the same port: 127.0.0.1.
  proc.Process(140, {"vllm", "serve", "m5", "--port", "8400"});
  proc.Socket(140, 5, 1401);
  proc.Socket(140, 6, 1402);
  proc.Listen6(FakeProc::kHostNamespace, "::", 8400, 1401);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8400, 1402);
  proc.Flush();

  auto servers = Discoverer(Options(proc)).FindServers();
  ASSERT_TRUE(servers.ok()) << servers.status().ToString();
  EXPECT_EQ(ByPid(*servers, 100)->address, "127.0.0.1:9000");
  EXPECT_EQ(ByPid(*servers, 100)->port_source, PortSource::kListening);
  EXPECT_EQ(ByPid(*servers, 110)->address, "127.0.0.1:8100");
  EXPECT_EQ(ByPid(*servers, 120)->address, "10.0.0.5:8200");
  EXPECT_EQ(ByPid(*servers, 130)->address, "[::1]:8300");
  EXPECT_EQ(ByPid(*servers, 140)->address, "127.0.0.1:8400");
  for (const Server& s : *servers) EXPECT_EQ(s.not_scraped, "") << s.address;
}

TEST(DiscovererTest, ProcessesWithoutAFittingListeningSocketAreReportedNotScraped) {
  FakeProc proc;
  // Its socket is in the table, but established, not listening.
  proc.Process(100, {"vllm", "serve", "m"});
  proc.Socket(100, 5, 1001);
  proc.Listen(FakeProc::kHostNamespace, "127.0.0.1", 8000, 1001, 0x01);
  // Something else listens on its port; it holds no socket (still loading the model).
  proc.Process(110, {"vllm", "serve", "m", "--port", "8001"});
  proc.Process(111, {"/usr/bin/socat", "TCP-LISTEN:8001"});
  proc.Socket(111, 3, 1111);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8001, 1111);
  // Listens on two ports, neither the one argv names.
  proc.Process(120, {"vllm", "serve", "m", "--port", "8002"});
  proc.Socket(120, 5, 1201);
  proc.Socket(120, 6, 1202);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 7000, 1201);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 7001, 1202);
  // Triton with HTTP only: its metrics have their own port, so one other port is not taken.
  proc.Process(130, {"tritonserver", "--model-repository", "/m"});
  proc.Socket(130, 5, 1301);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8000, 1301);
  // Triton with metrics switched off.
  proc.Process(140, {"tritonserver", "--model-repository", "/m", "--allow-metrics=false", "--http-port", "9000"});
  proc.Socket(140, 5, 1401);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 9000, 1401);
  // SGLang without --enable-metrics.
  proc.Process(150, {"python3", "-m", "sglang.launch_server", "--model-path", "m"});
  proc.Socket(150, 5, 1501);
  proc.Listen(FakeProc::kHostNamespace, "127.0.0.1", 30000, 1501);
  // vLLM with TLS.
  proc.Process(160, {"vllm", "serve", "m", "--port", "8443", "--ssl-certfile", "c", "--ssl-keyfile", "k"});
  proc.Socket(160, 5, 1601);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8443, 1601);
  proc.Flush();

  std::vector<Server> servers;
  auto jobs = Discoverer(Options(proc)).Discover({}, &servers);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_TRUE(jobs->empty()) << JobNames(*jobs).front();
  EXPECT_EQ(ByPid(servers, 100)->not_scraped, "not_listening");
  EXPECT_EQ(ByPid(servers, 110)->not_scraped, "not_listening");
  EXPECT_EQ(ByPid(servers, 110)->address, "127.0.0.1:8001") << "the address it will have, for the report";
  EXPECT_EQ(ByPid(servers, 111), nullptr);
  EXPECT_EQ(ByPid(servers, 120)->not_scraped, "port_unknown");
  EXPECT_EQ(ByPid(servers, 130)->not_scraped, "port_unknown");
  EXPECT_EQ(ByPid(servers, 140)->not_scraped, "metrics_disabled");
  EXPECT_EQ(ByPid(servers, 150)->not_scraped, "metrics_disabled");
  EXPECT_EQ(ByPid(servers, 160)->not_scraped, "tls");
}

TEST(DiscovererTest, UnreadableDescriptorsFallBackToArgvAndDefaultPorts) {
  FakeProc proc;
  proc.Process(100, {"vllm", "serve", "m", "--port", "8123", "--host", "0.0.0.0"});
  proc.Socket(100, 5, 1001);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 9999, 1001);  // cannot be seen
  proc.Process(200, {"python3", "-m", "sglang.launch_server", "--model-path", "m", "--host", "10.0.0.9",
                     "--enable-metrics"});
  proc.Process(300, {"text-generation-launcher", "--model-id", "x/y"});  // no router seen
  proc.Flush();
  DenyingEnv env;
  env.Deny(proc.root() + "/100/fd");
  env.Deny(proc.root() + "/100/ns");
  env.Deny(proc.root() + "/200/fd");
  env.Deny(proc.root() + "/300/fd");
  DiscoveryOptions o = Options(proc);
  o.env = &env;
  o.read_link = env.ReadLinkFunction();

  std::vector<Server> servers;
  auto jobs = Discoverer(o).Discover({}, &servers);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(ByPid(servers, 100)->address, "127.0.0.1:8123");
  EXPECT_EQ(ByPid(servers, 100)->port_source, PortSource::kArgv);
  EXPECT_EQ(ByPid(servers, 200)->address, "10.0.0.9:30000");
  EXPECT_EQ(ByPid(servers, 200)->port_source, PortSource::kDefault);
  EXPECT_EQ(ByPid(servers, 300)->address, "127.0.0.1:3000");
  EXPECT_EQ(JobNames(*jobs), (std::vector<std::string>{"vllm", "tgi", "sglang"}));
  EXPECT_EQ(jobs->front().static_configs[0].labels.at("__meta_inference_port_source"), "argv");
}

TEST(DiscovererTest, AnotherNetworkNamespaceIsReachedThroughItsOwnAddress) {
  FakeProc proc;
  const std::string kContainer = "net:[4026532999]";
  proc.Process(600, {"vllm", "serve", "m", "--host", "0.0.0.0"}, 1, kContainer);
  proc.Socket(600, 5, 6001);
  proc.Listen(kContainer, "0.0.0.0", 8000, 6001);
  proc.Write("600/net/fib_trie",
             "Main:\n  +-- 0.0.0.0/0 3 0 5\n     |-- 127.0.0.1\n        /32 host LOCAL\n"
             "     |-- 172.17.0.2\n        /32 host LOCAL\n");
  // The host's table has a socket with the same port but another inode: not this process's.
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8000, 9999);
  // A container listening on its loopback only cannot be reached from the host.
  const std::string kOther = "net:[4026533000]";
  proc.Process(610, {"vllm", "serve", "m", "--port", "8001"}, 1, kOther);
  proc.Socket(610, 5, 6101);
  proc.Listen(kOther, "127.0.0.1", 8001, 6101);
  proc.Write("610/net/fib_trie", "Main:\n     |-- 172.17.0.3\n        /32 host LOCAL\n");
  // One without an address in its fib_trie (no network but loopback).
  const std::string kIsolated = "net:[4026533001]";
  proc.Process(620, {"vllm", "serve", "m", "--port", "8002"}, 1, kIsolated);
  proc.Socket(620, 5, 6201);
  proc.Listen(kIsolated, "0.0.0.0", 8002, 6201);
  proc.Flush();

  auto servers = Discoverer(Options(proc)).FindServers();
  ASSERT_TRUE(servers.ok()) << servers.status().ToString();
  EXPECT_EQ(ByPid(*servers, 600)->address, "172.17.0.2:8000");
  EXPECT_EQ(ByPid(*servers, 600)->not_scraped, "");
  EXPECT_EQ(ByPid(*servers, 610)->not_scraped, "unreachable_namespace");
  EXPECT_EQ(ByPid(*servers, 620)->not_scraped, "unreachable_namespace");
}

TEST(DiscovererTest, MalformedProcFilesNeverStopTheScan) {
  FakeProc proc;
  proc.WriteRaw("700/cmdline", std::string("\xff\xfe\0\0--port\0\x01", 11));
  proc.Process(701, {"vllm", "serve", "m"});
  proc.Write("701/stat", ")))) (((");
  proc.Link("701/fd/7", "socket:[notanumber]");
  proc.Link("701/fd/8", "pipe:[1001]");
  proc.Link("701/fd/9", "socket:[");
  // An argv far longer than any server's: cut, still recognised by its first arguments.
  proc.Process(702, {"vllm", "serve", "big", "--port", "8100", "--chat-template", std::string(400 * 1024, 'x')});
  proc.Socket(702, 5, 7021);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 8100, 7021);
  std::filesystem::create_directories(proc.root() + "/703");  // exited between listing and reading
  std::filesystem::create_directories(proc.root() + "/1x");
  proc.Flush();
  proc.WriteRaw("701/net/tcp", std::string("\0\x01garbage\n\n   0: zz\n", 20));
  proc.WriteRaw("701/net/tcp6", "sl\n");

  auto servers = Discoverer(Options(proc)).FindServers();
  ASSERT_TRUE(servers.ok()) << servers.status().ToString();
  ASSERT_EQ(servers->size(), 2u);
  EXPECT_EQ(ByPid(*servers, 701)->not_scraped, "not_listening");
  EXPECT_EQ(ByPid(*servers, 702)->address, "127.0.0.1:8100");
  EXPECT_EQ(ByPid(*servers, 702)->model, "big");
}

TEST(DiscovererTest, TheStaticListIsScrapedAndReplacesAProcessAtItsAddress) {
  FakeProc proc;
  proc.Process(200, {"text-generation-launcher", "--model-id", "x/found", "--port", "3000"});
  proc.Socket(200, 5, 2001);
  proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", 3000, 2001);
  proc.Flush();
  DiscoveryOptions o = Options(proc);
  o.config.scrape_interval = std::chrono::seconds(5);
  o.config.static_servers = {
      {"vllm", "10.0.0.7:8000", "llama-70b", "", {{"pool", "chat"}}},
      {"triton", "triton.internal:8002", "", "", {}},
      {"ollama", "10.0.0.8:11434", "", "", {}},
      {"ollama", "10.0.0.9:11434", "", "/api/metrics", {}},
      {"tgi", "localhost:3000", "zephyr", "", {}},
      {"nonsense", "x:1", "", "", {}},  // refused by the schema; skipped if given anyway
  };
  std::vector<Server> servers;
  auto jobs = Discoverer(o).Discover({}, &servers);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();

  EXPECT_EQ(ByPid(servers, 200), nullptr) << "the static entry at the same address replaces it";
  EXPECT_EQ(ByAddress(servers, "10.0.0.8:11434")->not_scraped, "no_metrics_endpoint");
  EXPECT_EQ(JobNames(*jobs), (std::vector<std::string>{"vllm", "tgi", "triton", "ollama"}));
  for (const auto& j : *jobs) EXPECT_EQ(j.scrape_interval, std::chrono::seconds(5));
  EXPECT_EQ((*jobs)[0].static_configs[0].targets, (std::vector<std::string>{"10.0.0.7:8000"}));
  EXPECT_EQ((*jobs)[0].static_configs[0].labels, (std::map<std::string, std::string>{
                                                     {"model", "llama-70b"},
                                                     {"pool", "chat"},
                                                     {"__meta_inference_kind", "vllm"},
                                                     {"__meta_inference_port_source", "configured"},
                                                     {"__meta_inference_source", "static"},
                                                 }));
  EXPECT_EQ(Targets((*jobs)[1]), (std::vector<std::string>{"localhost:3000"}));
  EXPECT_EQ((*jobs)[1].static_configs[0].labels.at("model"), "zephyr");
  EXPECT_EQ(Targets((*jobs)[2]), (std::vector<std::string>{"triton.internal:8002"}));
  EXPECT_EQ((*jobs)[2].static_configs[0].labels.count("model"), 0u);
  EXPECT_EQ(Targets((*jobs)[3]), (std::vector<std::string>{"10.0.0.9:11434"}));
  EXPECT_EQ((*jobs)[3].static_configs[0].labels.at("__metrics_path__"), "/api/metrics");
}

TEST(DiscovererTest, UserJobsKeepTheirNamesAndTheirTargets) {
  FakeProc proc;
  int inode = 1000;
  auto serve = [&](int pid, std::vector<std::string> argv, uint16_t port) {
    proc.Process(pid, std::move(argv));
    proc.Socket(pid, 5, ++inode);
    proc.Listen(FakeProc::kHostNamespace, "0.0.0.0", port, inode);
  };
  serve(100, {"vllm", "serve", "a", "--port", "8000"}, 8000);
  serve(101, {"vllm", "serve", "b", "--port", "8001"}, 8001);
  serve(200, {"text-generation-router", "--port", "3000"}, 3000);
  serve(300, {"tritonserver", "--model-repository", "/m"}, 8002);
  serve(400, {"python3", "-m", "sglang.launch_server", "--model-path", "q", "--enable-metrics"}, 30000);
  proc.Flush();

  std::vector<scrape::ScrapeConfig> user(4);
  user[0].job_name = "vllm";
  user[0].static_configs = {{{"localhost:8000"}, {}}};
  user[1].job_name = "tgi";
  user[2].job_name = "tgi-discovered";
  // The machine's host name (read from <proc>/sys/kernel/hostname) is this machine too, and
  // so is its own address (from <proc>/self/net/fib_trie).
  user[3].job_name = "node";
  user[3].static_configs = {{{"GPU-NODE-7:8002", "10.0.0.5:30000"}, {}}};

  std::vector<Server> servers;
  auto jobs = Discoverer(Options(proc)).Discover(user, &servers);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(ByPid(servers, 100)->not_scraped, "scraped_by_user_job");
  EXPECT_EQ(ByPid(servers, 101)->job, "vllm-discovered");
  EXPECT_EQ(ByPid(servers, 200)->job, "tgi-discovered-2");
  EXPECT_EQ(ByPid(servers, 300)->not_scraped, "scraped_by_user_job");
  EXPECT_EQ(ByPid(servers, 400)->not_scraped, "scraped_by_user_job");
  EXPECT_EQ(JobNames(*jobs), (std::vector<std::string>{"vllm-discovered", "tgi-discovered-2"}));
  EXPECT_EQ(Targets((*jobs)[0]), (std::vector<std::string>{"127.0.0.1:8001"}));
}

TEST(DiscovererTest, AProcPathThatCannotBeListedIsAnErrorUnlessDiscoveryIsOff) {
  FakeProc proc;
  DiscoveryOptions o = Options(proc);
  o.proc_path = proc.root() + "/missing";
  o.config.static_servers = {{"vllm", "10.0.0.7:8000", "", "", {}}};
  auto jobs = Discoverer(o).Discover();
  EXPECT_EQ(jobs.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(jobs.status().message().find("/missing"), std::string::npos) << jobs.status().message();

  o.config.discover = false;
  jobs = Discoverer(o).Discover();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  EXPECT_EQ(JobNames(*jobs), (std::vector<std::string>{"vllm"}));
}

TEST(DiscovererTest, DiscoveryOffIgnoresProcesses) {
  FakeProc proc;
  proc.Process(100, {"vllm", "serve", "m"});
  proc.Flush();
  DiscoveryOptions o = Options(proc);
  o.config.discover = false;
  auto servers = Discoverer(o).FindServers();
  ASSERT_TRUE(servers.ok());
  EXPECT_TRUE(servers->empty());
}

TEST(DiscovererTest, EveryFileOperationFailing) {
  FakeProc proc;
  proc.Process(100, {"vllm", "serve", "m"});
  proc.Flush();
  tyto::testing::FaultInjectionEnv env(Env::Default());
  env.FailAll(true);
  DiscoveryOptions o = Options(proc);
  o.env = &env;
  EXPECT_EQ(Discoverer(o).Discover().status().code(), StatusCode::kUnavailable);
}

TEST(WriteServerInfoTest, OneInfoSeriesPerServerScrapedOrNot) {
  std::vector<Server> servers(3);
  servers[0].kind = ServerKind::kVllm;
  servers[0].address = "127.0.0.1:8000";
  servers[0].model = "m";
  servers[0].job = "vllm";
  servers[1].kind = ServerKind::kOllama;
  servers[1].address = "127.0.0.1:11434";
  servers[1].not_scraped = "no_metrics_endpoint";
  servers[2] = servers[1];  // two processes that look the same: one series
  servers[2].pid = 7;
  VectorSink sink;
  WriteServerInfo(servers, &sink);
  ASSERT_EQ(sink.families.size(), 1u);
  EXPECT_EQ(sink.families[0].name, "tyto_inference_server_info");
  EXPECT_EQ(sink.families[0].type, MetricType::kInfo);
  ASSERT_EQ(sink.points.size(), 2u);
  EXPECT_EQ(sink.points[0].labels,
            Labels::Of({"__name__", "tyto_inference_server_info", "address", "127.0.0.1:8000", "kind", "vllm",
                        "model", "m", "scrape_job", "vllm", "source", "process"}));
  EXPECT_EQ(sink.points[1].labels,
            Labels::Of({"__name__", "tyto_inference_server_info", "address", "127.0.0.1:11434", "kind", "ollama",
                        "not_scraped", "no_metrics_endpoint", "source", "process"}));
  EXPECT_EQ(sink.points[1].value, 1);

  VectorSink empty;
  WriteServerInfo({}, &empty);
  EXPECT_TRUE(empty.families.empty());
}

// Against this machine's own /proc: a Python script named `vllm`, started as `vllm serve MODEL`
// (the kernel runs it as "python3 .../vllm serve MODEL", as a pip-installed vLLM runs), listening
// on a port the kernel picks. Checks the real cmdline, descriptor links, socket tables (the
// kernel's byte order) and namespace links. Skipped without /usr/bin/python3.
TEST(RealProcTest, APythonServerNamedVllmIsFoundOnItsListeningPort) {
  if (::access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  tyto::testing::TempDir dir;
  const std::string script = dir.Path("vllm");
  std::ofstream(script) << "#!/usr/bin/python3\n"
                           "import socket, sys\n"
                           "s = socket.socket()\n"
                           "s.bind(('127.0.0.1', 0))\n"
                           "s.listen()\n"
                           "print(s.getsockname()[1], flush=True)\n"
                           "sys.stdin.read()\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  posix_spawn_file_actions_addclose(&actions, to_child[1]);
  posix_spawn_file_actions_addclose(&actions, from_child[0]);
  std::vector<std::string> args = {script, "serve", "test-org/test-model"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(::posix_spawn(&pid, script.c_str(), &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  std::string port;
  char c = 0;
  while (::read(from_child[0], &c, 1) == 1 && c != '\n') port += c;

  std::vector<Server> servers;
  auto jobs = Discoverer(DiscoveryOptions{}).Discover({}, &servers);
  ::close(to_child[1]);  // the script reads stdin to its end, then exits
  ::close(from_child[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);

  ASSERT_FALSE(port.empty()) << "the script printed no port";
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  const Server* s = ByPid(servers, pid);
  ASSERT_NE(s, nullptr) << "pid " << pid << " not found among " << servers.size() << " servers";
  EXPECT_EQ(s->kind, ServerKind::kVllm);
  EXPECT_EQ(s->model, "test-org/test-model");
  EXPECT_EQ(s->address, "127.0.0.1:" + port);
  EXPECT_EQ(s->port_source, PortSource::kListening);
  EXPECT_EQ(s->job, "vllm");
}

}  // namespace
}  // namespace tyto::collect::discovery
