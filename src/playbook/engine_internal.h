// Private to engine.cc and engine_steps.cc: one run's working state, and the redaction and
// rendering helpers both use.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "playbook/engine.h"
#include "playbook/expand.h"

namespace tyto::playbook {

struct Engine::RunSlot {
  std::shared_ptr<const Playbook> playbook;  // as it was when the run started
  ExpandContext ctx;                         // immutable once queued
  std::string tenant;                        // the run's (Run::tenant), immutable once queued
  std::atomic<bool> cancel{false};
  bool finishing = false;  // guarded by the engine's mu_: Finish has claimed the run
  Run run;  // guarded by the engine's mu_
};

struct Engine::HttpCall {
  std::string method;
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::string ca_file;
  bool insecure_skip_verify = false;
};

// Whether a header, query parameter or environment variable name is likely to carry a secret.
bool IsSecretName(std::string_view name);
// "POST http://host/path?token=<redacted>" with headers ("Authorization: <redacted>") and the
// body's first bytes, one per line.
std::string RenderRequest(const std::string& method, const std::string& url,
                          const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body);
// The URL with secret-looking query values replaced by <redacted>.
std::string RedactUrl(const std::string& url);
// ["/bin/echo","a b"] with secret-looking environment values redacted: env {"A":"<redacted>"}.
std::string RenderArgv(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
// `s` cut to `max` bytes with a note of how much was cut.
std::string Bounded(std::string_view s, size_t max);

}  // namespace tyto::playbook
