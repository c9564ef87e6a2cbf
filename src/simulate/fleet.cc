#include "simulate/fleet.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <map>

#include "common/log.h"
#include "common/mutex.h"
#include "common/units.h"
#include "http/server.h"
#include "instrumentation/metrics.h"
#include "simulate/node_model.h"
#include "tyto/labels.h"

namespace tyto::simulate {
namespace {

const log::Logger kLog("simulate");

constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

Exporter ExporterOf(ServerKind kind) {
  switch (kind) {
    case ServerKind::kVllm:
      return Exporter::kVllm;
    case ServerKind::kTgi:
      return Exporter::kTgi;
    case ServerKind::kTriton:
      return Exporter::kTriton;
  }
  return Exporter::kVllm;
}

std::string_view ExporterProgram(Exporter e) {
  switch (e) {
    case Exporter::kDcgm:
      return "dcgm-exporter";
    case Exporter::kNode:
      return "node_exporter";
    case Exporter::kVllm:
      return "vllm";
    case Exporter::kTgi:
      return "text-generation-inference";
    case Exporter::kTriton:
      return "tritonserver";
  }
  return "";
}

// A node's model and the lock that serialises its scrapes.
struct NodeSlot {
  explicit NodeSlot(const FleetContext* ctx, int index) : model(ctx, index, KindOfNode(index)) {}
  Mutex mu;
  NodeModel model GUARDED_BY(mu);
};

}  // namespace

std::string_view JobName(Exporter exporter) {
  switch (exporter) {
    case Exporter::kDcgm:
      return "dcgm";
    case Exporter::kNode:
      return "node";
    case Exporter::kVllm:
      return "vllm";
    case Exporter::kTgi:
      return "tgi";
    case Exporter::kTriton:
      return "triton";
  }
  return "";
}

struct Fleet::Impl {
  FleetOptions options;
  Clock* clock = nullptr;
  FleetContext ctx;
  std::vector<std::unique_ptr<NodeSlot>> nodes;
  std::vector<Endpoint> endpoints;
  std::vector<std::string> info;  // per endpoint: its tyto_simulator_info block
  instrumentation::Registry registry;  // the HTTP server's own metrics; not served
  std::unique_ptr<http::Server> server;
  bool started = false;
  std::unique_ptr<TrafficSender> traffic;  // when sending inference traffic
};

Fleet::Fleet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Fleet::~Fleet() { Stop(); }

Result<std::unique_ptr<Fleet>> Fleet::Create(const FleetOptions& options, Clock* clock) {
  if (options.nodes < 1 || options.nodes > 10000) {
    return InvalidArgument("--nodes must be between 1 and 10000, got " + std::to_string(options.nodes));
  }
  if (options.gpus_per_node < 1 || options.gpus_per_node > 64) {
    return InvalidArgument("--gpus-per-node must be between 1 and 64, got " + std::to_string(options.gpus_per_node));
  }
  if (options.tick.count() < 1) return InvalidArgument("the tick must be at least 1ms");
  if (options.threads < 1) return InvalidArgument("threads must be at least 1");

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->clock = clock;
  FleetContext& ctx = impl->ctx;
  ctx.seed = options.seed;
  ctx.tick_ms = options.tick.count();
  ctx.start_ms = clock->NowMillis() / ctx.tick_ms * ctx.tick_ms;
  ctx.gpus_per_node = options.gpus_per_node;
  ctx.scenario = options.scenario;
  std::vector<int> replicas_per_node;
  for (int n = 0; n < options.nodes; ++n) {
    const ServerKind kind = KindOfNode(n);
    const int tp = NodeModel::TensorParallelFor(kind, options.gpus_per_node);
    const int replicas = NodeModel::ReplicasFor(kind, options.gpus_per_node);
    replicas_per_node.push_back(replicas);
    ctx.capacity.emplace_back(static_cast<size_t>(replicas), kRequestsPerGpu * tp);
    ctx.total_capacity += kRequestsPerGpu * tp * replicas;
  }
  if (Status s = CheckScenario(ctx.scenario, options.gpus_per_node, replicas_per_node); !s.ok()) return s;
  const Traffic& traffic = ctx.scenario.traffic;
  ctx.base_rps = traffic.requests_per_second > 0 ? traffic.requests_per_second : traffic.load * ctx.total_capacity;

  for (int n = 0; n < options.nodes; ++n) impl->nodes.push_back(std::make_unique<NodeSlot>(&ctx, n));

  auto add_endpoint = [&](Exporter e, int node, int replica) {
    Endpoint ep;
    ep.exporter = e;
    ep.node = node;
    ep.replica = replica;
    {
      NodeSlot& slot = *impl->nodes[static_cast<size_t>(node)];
      MutexLock lock(&slot.mu);
      ep.hostname = slot.model.hostname();
    }
    std::string info = "# HELP tyto_simulator_info This endpoint is simulated by `tyto simulate`: its values are not "
                       "measurements.\n# TYPE tyto_simulator_info gauge\ntyto_simulator_info{exporter=\"";
    info.append(ExporterProgram(e)).append("\",hostname=\"").append(ep.hostname);
    if (replica >= 0) info.append("\",replica=\"").append(std::to_string(replica));
    info.append("\",scenario=\"");
    AppendEscapedLabelValue(&info, ctx.scenario.name);
    info.append("\",seed=\"").append(std::to_string(options.seed)).append("\",simulated=\"true\"} 1\n");
    impl->info.push_back(std::move(info));
    impl->endpoints.push_back(std::move(ep));
  };
  for (int n = 0; n < options.nodes; ++n) {
    add_endpoint(Exporter::kDcgm, n, -1);
    add_endpoint(Exporter::kNode, n, -1);
    for (int r = 0; r < replicas_per_node[static_cast<size_t>(n)]; ++r) add_endpoint(ExporterOf(KindOfNode(n)), n, r);
  }
  if (options.base_port != 0 && options.base_port + impl->endpoints.size() - 1 > 65535) {
    return InvalidArgument("--listen-base port " + std::to_string(options.base_port) + " leaves no room for " +
                           std::to_string(impl->endpoints.size()) + " endpoints (ports up to 65535)");
  }
  return std::unique_ptr<Fleet>(new Fleet(std::move(impl)));
}

Page Fleet::Scrape(size_t index) {
  Page page;
  page.content_type = std::string(kContentType);
  const Endpoint& ep = impl_->endpoints.at(index);
  const int64_t now = impl_->clock->NowMillis();
  const FleetContext& ctx = impl_->ctx;
  if (ep.replica >= 0 && ctx.ReplicaDown(ep.node, ep.replica, now)) {
    page.status = 503;
    page.content_type = "text/plain; charset=utf-8";
    page.body = "simulated outage: replica " + std::to_string(ep.replica) + " on " + ep.hostname +
                " is down (scenario '" + ctx.scenario.name + "')\n";
    return page;
  }
  const int64_t tick = std::max<int64_t>(0, (now - ctx.start_ms) / ctx.tick_ms);
  NodeSlot& slot = *impl_->nodes[static_cast<size_t>(ep.node)];
  page.body.reserve(ep.exporter == Exporter::kDcgm ? 600 * 21 * static_cast<size_t>(ctx.gpus_per_node) : 32 * 1024);
  {
    MutexLock lock(&slot.mu);
    slot.model.AdvanceTo(tick);
    switch (ep.exporter) {
      case Exporter::kDcgm:
        slot.model.RenderDcgm(&page.body);
        break;
      case Exporter::kNode:
        slot.model.RenderNodeExporter(now, &page.body);
        break;
      default:
        slot.model.RenderReplica(ep.replica, &page.body);
        break;
    }
  }
  page.body += impl_->info[index];
  return page;
}

Status Fleet::Start() {
  if (impl_->started) return FailedPrecondition("the simulated fleet is already started");
  auto server = std::make_unique<http::Server>(
      [](http::Request&) { return http::Response::Text(404, "not found\n"); }, &impl_->registry, impl_->options.threads);
  std::vector<std::string> addresses;
  for (size_t i = 0; i < impl_->endpoints.size(); ++i) {
    const Endpoint& ep = impl_->endpoints[i];
    uint16_t want = impl_->options.base_port == 0 ? 0 : static_cast<uint16_t>(impl_->options.base_port + i);
    auto port = server->AddListener({impl_->options.listen_host, want}, [this, i](http::Request& req) {
      if (req.path != "/metrics") {
        http::Response r = http::Response::Text(404, "not found: this simulated " + impl_->endpoints[i].job() +
                                                         " endpoint serves /metrics only\n");
        r.handler = "simulate";
        return r;
      }
      Page page = Scrape(i);
      http::Response r;
      r.status = page.status;
      r.content_type = std::move(page.content_type);
      r.body = std::move(page.body);
      r.handler = "simulate";
      return r;
    });
    if (!port.ok()) {
      // The server, and every listener it opened, closes on destruction.
      return Status(port.status().code(), "cannot serve the simulated " + ep.job() + " endpoint of " + ep.hostname +
                                              ": " + port.status().message());
    }
    std::string host = impl_->options.listen_host;
    if (host.find(':') != std::string::npos) host = "[" + host + "]";
    addresses.push_back(host + ":" + std::to_string(*port));
  }
  for (size_t i = 0; i < addresses.size(); ++i) impl_->endpoints[i].address = std::move(addresses[i]);
  server->Start();
  impl_->server = std::move(server);
  impl_->started = true;
  kLog.Info("simulated fleet serving", {{"nodes", impl_->options.nodes},
                                        {"endpoints", impl_->endpoints.size()},
                                        {"scenario", impl_->ctx.scenario.name},
                                        {"seed", impl_->options.seed}});
  return Status::Ok();
}

void Fleet::Stop() {
  if (!impl_) return;
  if (impl_->traffic) impl_->traffic->Stop();
  if (!impl_->started) return;
  impl_->started = false;
  impl_->server->Shutdown(std::chrono::seconds(2));
}

Status Fleet::StartTraffic(const TrafficOptions& traffic, TrafficSenderOptions sender) {
  if (impl_->traffic) return FailedPrecondition("the simulated fleet already sends inference traffic");
  if (!(traffic.requests_per_second > 0) || traffic.requests_per_second > 100000) {
    return InvalidArgument("--inference-rate must be above 0 and at most 100000 requests/s, got " +
                           std::to_string(traffic.requests_per_second));
  }
  for (double share : {traffic.content_share, traffic.features_share, traffic.classifier_share, traffic.embedding_share,
                       traffic.feedback_share, traffic.rating_share}) {
    if (!(share >= 0 && share <= 1)) {
      return InvalidArgument(
          "the traffic's content, features, classifier, embedding, feedback and rating shares must be between 0 and 1");
    }
  }
  if (traffic.embedding_dims < 1 || traffic.embedding_dims > 4096) {
    return InvalidArgument("the traffic's embedding_dims must be between 1 and 4096, got " +
                           std::to_string(traffic.embedding_dims));
  }
  if (traffic.feedback_delay_min.count() < 0 || traffic.feedback_delay_max < traffic.feedback_delay_min) {
    return InvalidArgument("the feedback delay must be at least 0 and its maximum at least its minimum, got " +
                           FormatDuration(traffic.feedback_delay_min) + " to " +
                           FormatDuration(traffic.feedback_delay_max));
  }
  const std::string to = sender.base_url;
  TYTO_ASSIGN_OR_RETURN(impl_->traffic, TrafficSender::Create(NewTrafficGenerator(traffic), impl_->ctx.start_ms,
                                                               impl_->ctx.tick_ms, impl_->clock, std::move(sender)));
  impl_->traffic->Start();
  kLog.Info("sending simulated inference traffic", {{"to", to},
                                                    {"requests_per_second", traffic.requests_per_second},
                                                    {"scenario", impl_->ctx.scenario.name}});
  return Status::Ok();
}

TrafficStats Fleet::traffic_stats() const { return impl_->traffic ? impl_->traffic->stats() : TrafficStats{}; }

std::unique_ptr<TrafficGenerator> Fleet::NewTrafficGenerator(const TrafficOptions& options) const {
  return std::make_unique<TrafficGenerator>(&impl_->ctx, options);
}

const std::vector<Endpoint>& Fleet::endpoints() const { return impl_->endpoints; }

std::string Fleet::TargetsJson() const {
  std::map<int, std::vector<const Endpoint*>> by_job;  // in Exporter order
  for (const Endpoint& ep : impl_->endpoints) {
    if (!ep.address.empty()) by_job[static_cast<int>(ep.exporter)].push_back(&ep);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartArray();
  for (const auto& [exporter, eps] : by_job) {
    w.StartObject();
    w.Key("targets");
    w.StartArray();
    for (const Endpoint* ep : eps) w.String(ep->address.c_str(), static_cast<rapidjson::SizeType>(ep->address.size()));
    w.EndArray();
    w.Key("labels");
    w.StartObject();
    w.Key("job");
    const std::string job(JobName(static_cast<Exporter>(exporter)));
    w.String(job.c_str(), static_cast<rapidjson::SizeType>(job.size()));
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

Status Fleet::WriteTargetsFile(Env* env, const std::string& path) const {
  if (Status s = WriteFileAtomically(env, path, TargetsJson()); !s.ok()) {
    return Status(s.code(), "cannot write the targets file " + path + ": " + s.message());
  }
  return Status::Ok();
}

int64_t Fleet::start_unix_millis() const { return impl_->ctx.start_ms; }

double Fleet::FleetRequestRate(int64_t unix_millis) const { return impl_->ctx.RequestRate(unix_millis); }

}  // namespace tyto::simulate
