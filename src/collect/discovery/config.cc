#include "collect/discovery/config.h"

#include "collect/discovery/launch.h"
#include "config/schema.h"
#include "http/url.h"
#include "scrape/text_lexing.h"

namespace tyto::collect::discovery {

using config::Diagnostics;
using config::Node;
using config::Section;

namespace {

bool IsLabelName(std::string_view s) {
  if (s.empty() || !scrape::IsLabelNameStart(s[0])) return false;
  for (char c : s) {
    if (!scrape::IsLabelNameChar(c)) return false;
  }
  return true;
}

// The node of each item of `static`, for positions in messages.
std::vector<Node> StaticItems(const Node& section) {
  for (const auto& [k, v] : section.entries()) {
    if (k.scalar() == "static") return v.items();
  }
  return {};
}

}  // namespace

const Section<InferenceServersConfig>& InferenceServersSchema() {
  static const auto* s = [] {
    std::vector<std::string> kinds;
    for (ServerKind k : kAllServerKinds) kinds.emplace_back(KindName(k));
    Section<StaticServerConfig> item("static", "Inference servers to scrape that the process scan cannot see.");
    item.Enum("kind", &StaticServerConfig::kind, kinds, "Which server it is; the scrape job is named after it.")
        .String("address", &StaticServerConfig::address, "host:port serving its metrics.")
        .String("model", &StaticServerConfig::model, "The `model` label of its series (none when empty).")
        .String("metrics_path", &StaticServerConfig::metrics_path,
                "The HTTP path of its metrics (empty: /metrics). An ollama entry is scraped only when this "
                "is set, as Ollama serves no Prometheus metrics itself.")
        .StringMap("labels", &StaticServerConfig::labels, "More labels for its series.")
        .Validate([](const StaticServerConfig& c, const Node& n, Diagnostics& d) {
          if (c.kind.empty()) d.Add(n.position(), "inference_servers.static: kind is required");
          std::string host;
          uint16_t port = 0;
          if (c.address.empty()) {
            d.Add(n.position(), "inference_servers.static: address is required");
          } else if (c.address.find('/') != std::string::npos || c.address.find(':') == std::string::npos ||
                     !http::SplitAddress(c.address, false, &host, &port).ok() || host.empty()) {
            d.Add(n.position(), "inference_servers.static: address '" + c.address + "' is not host:port");
          }
          if (!c.metrics_path.empty() && c.metrics_path[0] != '/') {
            d.Add(n.position(), "inference_servers.static: metrics_path '" + c.metrics_path + "' must start with '/'");
          }
          for (const auto& [name, value] : c.labels) {
            if (!IsLabelName(name) || name.rfind("__", 0) == 0) {
              d.Add(n.position(), "inference_servers.static: '" + name +
                                      "' is not a label name (letters, digits and '_', not starting with a "
                                      "digit or \"__\")");
            } else if (name == "model") {
              d.Add(n.position(), "inference_servers.static: give the model as `model:`, not as a label");
            }
          }
        });

    auto* sec = new Section<InferenceServersConfig>(
        "inference_servers", "vLLM, TGI, Triton, SGLang and Ollama servers found and scraped without configuration.");
    sec->Bool("discover", &InferenceServersConfig::discover,
              "Look for inference servers among this machine's processes and scrape their metrics.")
        .Duration("refresh_interval", &InferenceServersConfig::refresh_interval,
                  "How often to look for servers that started or stopped.", std::chrono::seconds(1))
        .Duration("scrape_interval", &InferenceServersConfig::scrape_interval,
                  "How often to scrape the servers found and those listed under `static`.", std::chrono::seconds(1))
        .List("static", &InferenceServersConfig::static_servers, item)
        .Validate([](const InferenceServersConfig& c, const Node& n, Diagnostics& d) {
          std::vector<Node> items = StaticItems(n);
          for (size_t i = 0; i < c.static_servers.size() && i < items.size(); ++i) {
            for (size_t j = 0; j < i; ++j) {
              if (c.static_servers[i].address == c.static_servers[j].address) {
                d.Add(items[i].position(),
                      "inference_servers.static: address '" + c.static_servers[i].address + "' is listed twice");
                break;
              }
            }
          }
        });
    return sec;
  }();
  return *s;
}

}  // namespace tyto::collect::discovery
