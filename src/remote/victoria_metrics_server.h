// VictoriaMetrics: Debian's victoria-metrics (package victoria-metrics, /usr/bin/victoria-metrics)
// started by a test on 127.0.0.1 with a free port and its data in a directory the test gives;
// stopped (SIGTERM, then SIGKILL) when destroyed. Run with -search.latencyOffset=0s so that what
// was just written can be read back at once. Tests only (remote_vm_test, e2e_scale_out_test).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tyto/status.h"

namespace tyto::remote::testing {

inline constexpr const char* kVictoriaMetricsBinary = "/usr/bin/victoria-metrics";

class VictoriaMetrics {
 public:
  VictoriaMetrics(std::string data_dir, std::string log_path);
  ~VictoriaMetrics();  // Stop()
  VictoriaMetrics(const VictoriaMetrics&) = delete;
  VictoriaMetrics& operator=(const VictoriaMetrics&) = delete;

  // Starts it and waits (at most 60 s) until /health answers 200. May be called again after
  // Stop (same port, same data). kFailedPrecondition naming the package when the binary is
  // missing; kUnavailable with its log when it does not come up.
  Status Start();
  // SIGTERM, then SIGKILL after 30 s. Idempotent.
  void Stop();

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Log() const;

  // Makes what was ingested searchable now.
  void Flush() const;

  // Samples per series of `selector` as /api/v1/export gives them: series (Labels text) -> count.
  // Also checks that no timestamp repeats within a series (appended to `problems`).
  std::map<std::string, size_t> Export(const std::string& selector, std::string* problems) const;

  // Every series of `selector` from /api/v1/export: series (Labels text) -> its timestamps in
  // milliseconds, in the order exported (VictoriaMetrics sorts them). kUnavailable when the
  // export fails, kInvalidArgument for an answer that is not export JSON lines.
  Result<std::map<std::string, std::vector<int64_t>>> ExportTimestamps(const std::string& selector) const;

 private:
  std::string data_dir_;
  std::string log_path_;
  uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace tyto::remote::testing
