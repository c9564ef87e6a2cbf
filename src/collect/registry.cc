#include "collect/registry.h"

#include <cstdlib>
#include <limits>

#include "collect/gpu/gpu_collector.h"
#include "collect/host/host_collector.h"
#include "common/log.h"
#include "common/units.h"

namespace tyto::collect {
namespace {

std::vector<Plugin> MakePlugins() {
  std::vector<Plugin> plugins;
  plugins.push_back({host::HostDescriptor(), [](const OptionValues& o) -> std::unique_ptr<Collector> {
                       host::HostOptions h;
                       h.proc_path = o.String("proc_path");
                       h.sys_path = o.String("sys_path");
                       h.rootfs_path = o.String("rootfs_path");
                       h.cgroups = o.Bool("cgroups");
                       h.max_cgroups = static_cast<size_t>(o.Int("max_cgroups"));
                       return std::make_unique<host::HostCollector>(std::move(h));
                     }});
  plugins.push_back({gpu::GpuCollector::Describe(), [](const OptionValues& o) -> std::unique_ptr<Collector> {
                       gpu::GpuOptions g;
                       g.library_path = o.String("library_path");
                       g.hostname = o.String("hostname");
                       g.xid_events = o.Bool("xid_events");
                       g.processes = o.Bool("processes");
                       g.round_timeout = o.Duration("round_timeout");
                       return std::make_unique<gpu::GpuCollector>(std::move(g));
                     }});
  return plugins;
}

// Decodes one option of a collector into its canonical text. The descriptor's type names
// the decoder; a type no decoder knows is a bug in the descriptor.
void DecodeOption(const OptionInfo& info, const config::Node& n, CollectorConfig& c, config::Diagnostics& d) {
  if (n.IsNull()) return;
  if (info.type == "bool") {
    bool v = false;
    if (config::DecodeBool(n, &v, &d)) c.options[info.name] = v ? "true" : "false";
  } else if (info.type == "integer") {
    int64_t v = 0;
    if (config::DecodeInt(n, 0, std::numeric_limits<int64_t>::max(), &v, &d)) c.options[info.name] = std::to_string(v);
  } else if (info.type == "duration") {
    std::chrono::milliseconds v{0};
    if (config::DecodeDuration(n, std::chrono::milliseconds(0), &v, &d)) c.options[info.name] = FormatDuration(v);
  } else {
    std::string v;
    if (config::DecodeString(n, &v, &d)) c.options[info.name] = v;
  }
}

config::Section<CollectorConfig> PluginSection(const Descriptor& desc) {
  config::Section<CollectorConfig> s("collectors." + desc.name, desc.help);
  const std::chrono::milliseconds default_interval = desc.default_interval;
  s.Bool("enabled", &CollectorConfig::enabled, "Run this collector.");
  s.Option(
      "interval", "duration",
      "How often it collects, from " + FormatDuration(kMinInterval) + " to " + FormatDuration(kMaxInterval) + ".",
      [](const config::Node& n, CollectorConfig& c, config::Diagnostics& d) {
        std::chrono::milliseconds v = c.interval;
        if (!config::DecodeDuration(n, kMinInterval, &v, &d)) return;
        if (v > kMaxInterval) {
          d.Add(n.position(), "collectors." + c.name + ".interval: " + FormatDuration(v) + " is longer than " +
                                  FormatDuration(kMaxInterval));
          return;
        }
        c.interval = v;
      },
      [default_interval](const CollectorConfig& c) {
        return FormatDuration(c.interval.count() == 0 ? default_interval : c.interval);
      });
  for (const OptionInfo& info : desc.options) {
    s.Option(
        info.name, info.type, info.help,
        [info](const config::Node& n, CollectorConfig& c, config::Diagnostics& d) { DecodeOption(info, n, c, d); },
        [info](const CollectorConfig& c) {
          auto it = c.options.find(info.name);
          std::string v = it == c.options.end() ? info.default_value : it->second;
          return v.empty() ? std::string("\"\"") : v;
        },
        nullptr,
        [info](const CollectorConfig& c, config::Writer& w) {
          auto it = c.options.find(info.name);
          const std::string& v = it == c.options.end() ? info.default_value : it->second;
          if (info.type == "string") {
            w.String(v);
          } else {
            w.Plain(v);
          }
        });
  }
  return s;
}

}  // namespace

CollectorsConfig::CollectorsConfig() {
  for (const Plugin& p : Plugins()) {
    CollectorConfig c;
    c.name = p.descriptor.name;
    collectors.push_back(std::move(c));
  }
}

CollectorConfig* CollectorsConfig::Find(std::string_view name) {
  for (CollectorConfig& c : collectors) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const CollectorConfig* CollectorsConfig::Find(std::string_view name) const {
  return const_cast<CollectorsConfig*>(this)->Find(name);
}

const std::string& OptionValues::Text(std::string_view name) const {
  for (const OptionInfo& o : descriptor_.options) {
    if (o.name != name) continue;
    auto it = set_.find(o.name);
    return it == set_.end() ? o.default_value : it->second;
  }
  log::Logger("collect").Error("collector asked for an option its descriptor does not declare",
                               {{"collector", descriptor_.name}, {"option", std::string(name)}});
  std::abort();
}

std::string OptionValues::String(std::string_view name) const { return Text(name); }

bool OptionValues::Bool(std::string_view name) const { return Text(name) == "true"; }

int64_t OptionValues::Int(std::string_view name) const { return std::strtoll(Text(name).c_str(), nullptr, 10); }

std::chrono::milliseconds OptionValues::Duration(std::string_view name) const {
  auto d = ParseDuration(Text(name));
  return d.ok() ? *d : std::chrono::milliseconds(0);
}

const std::vector<Plugin>& Plugins() {
  static const auto* plugins = new std::vector<Plugin>(MakePlugins());
  return *plugins;
}

const Plugin* FindPlugin(std::string_view name) {
  for (const Plugin& p : Plugins()) {
    if (p.descriptor.name == name) return &p;
  }
  return nullptr;
}

const config::Section<CollectorsConfig>& CollectorsSchema() {
  static const auto* schema = [] {
    auto* s = new config::Section<CollectorsConfig>(
        "collectors", "Built-in collectors of this machine's telemetry (docs/collectors.md).");
    const std::vector<Plugin>& plugins = Plugins();
    for (size_t i = 0; i < plugins.size(); ++i) {
      config::Section<CollectorConfig> sub = PluginSection(plugins[i].descriptor);
      s->Option(
          plugins[i].descriptor.name, "mapping", plugins[i].descriptor.help,
          [i, sub](const config::Node& n, CollectorsConfig& c, config::Diagnostics& d) {
            sub.Decode(n, &c.collectors[i], &d);
          },
          nullptr, [sub](const std::string& prefix, std::vector<config::OptionDoc>* out) { sub.Document(prefix, out); },
          [i, sub](const CollectorsConfig& c, config::Writer& w) { sub.Encode(c.collectors[i], w); });
    }
    return s;
  }();
  return *schema;
}

std::chrono::milliseconds EffectiveInterval(const CollectorConfig& c) {
  if (c.interval.count() != 0) return c.interval;
  const Plugin* p = FindPlugin(c.name);
  return p == nullptr ? std::chrono::seconds(15) : p->descriptor.default_interval;
}

std::string CollectorsReference() {
  std::string out;
  for (const Plugin& p : Plugins()) {
    std::vector<config::OptionDoc> docs;
    PluginSection(p.descriptor).Document("collectors." + p.descriptor.name, &docs);
    out += "### collectors." + p.descriptor.name + "\n\n" + p.descriptor.help + "\n\n";
    out += "| key | type | default | description |\n|---|---|---|---|\n";
    for (const config::OptionDoc& d : docs) {
      out += "| `" + d.key + "` | " + d.type + " | `" + d.default_value + "` | " + d.help + " |\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace tyto::collect
