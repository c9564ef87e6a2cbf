// The collectors Tyto has built in, each a plugin: a Descriptor (name, help, default interval,
// option table) and a factory. The descriptors alone drive the `collectors:` section of
// tyto.yml (decoding with positioned errors, defaults, did-you-mean for unknown keys) and the
// option tables of docs/collectors.md (a test keeps that file in step), so adding a collector
// means adding a plugin here and nothing else.
//
//   collectors:
//     host: {interval: 5s, cgroups: false}
//     gpu: {enabled: false}
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collect/collector.h"
#include "config/schema.h"

namespace tyto::collect {

// How often a collector may run: every second at most, every minute at least.
inline constexpr std::chrono::milliseconds kMinInterval = std::chrono::seconds(1);
inline constexpr std::chrono::milliseconds kMaxInterval = std::chrono::seconds(60);

// One collector's settings from `collectors.<name>`.
struct CollectorConfig {
  std::string name;
  bool enabled = true;
  std::chrono::milliseconds interval{0};  // 0: the descriptor's default
  // The options the file sets, by name, each as canonical text ("true", "30s", "/host/proc");
  // options not set take the descriptor's default.
  std::map<std::string, std::string> options;
  friend bool operator==(const CollectorConfig&, const CollectorConfig&) = default;
};

// The `collectors:` section: one entry per plugin, in Plugins() order.
struct CollectorsConfig {
  CollectorsConfig();
  std::vector<CollectorConfig> collectors;
  CollectorConfig* Find(std::string_view name);
  const CollectorConfig* Find(std::string_view name) const;
  friend bool operator==(const CollectorsConfig&, const CollectorsConfig&) = default;
};

// A collector's options, typed, with the descriptor's default for each option not set. Only
// options the descriptor declares may be asked for (asking for another is a bug: it aborts).
class OptionValues {
 public:
  OptionValues(const Descriptor& descriptor, const std::map<std::string, std::string>& set)
      : descriptor_(descriptor), set_(set) {}
  std::string String(std::string_view name) const;
  bool Bool(std::string_view name) const;
  int64_t Int(std::string_view name) const;
  std::chrono::milliseconds Duration(std::string_view name) const;

 private:
  const std::string& Text(std::string_view name) const;
  const Descriptor& descriptor_;
  const std::map<std::string, std::string>& set_;
};

struct Plugin {
  Descriptor descriptor;
  std::function<std::unique_ptr<Collector>(const OptionValues&)> create;
};

// Every built-in collector: host, gpu.
const std::vector<Plugin>& Plugins();
const Plugin* FindPlugin(std::string_view name);

// The `collectors:` section's option table, built from the descriptors.
const config::Section<CollectorsConfig>& CollectorsSchema();

// The interval a collector runs at: its configured one, or its descriptor's default.
std::chrono::milliseconds EffectiveInterval(const CollectorConfig& c);

// Markdown tables of every collector's options (key, type, default, description), as
// docs/collectors.md shows them between its "generated" markers.
std::string CollectorsReference();

}  // namespace tyto::collect
