// The seam through which handlers and the server put administrative and security-relevant
// actions on the audit trail: who (principal and tenant), from where (remote address), what
// (action, target, outcome). The server passes its audit::Trail (trail.h); tests pass
// testing::FakeAuditRecorder (src/testing/fake_audit_recorder.h). There is no do-nothing
// recorder: code that acts must say where its actions are recorded.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/message.h"

namespace tyto::audit {

// One action. `action` is "<area>.<verb>" from the table in docs/format/audit.md
// ("auth.failed", "config.reload", "silence.create", "incident.acknowledge", ...).
struct Event {
  std::string action = {};
  std::string outcome = "ok";  // "ok", "failed", "denied", "invalid", ...
  std::string target = {};     // what was acted on: an id, a name; empty when the action has none
  std::string principal = {};  // the token's name; empty when auth is off or it failed
  std::string tenant = {};     // the tenant acted for; empty when none is known
  std::string remote = {};     // the client's address, "ip:port"; empty for local actions (CLI, signals)
  std::vector<std::pair<std::string, std::string>> details = {};  // extra members, in order; no secrets
};

// An event for `action` on `target` from the request's principal, tenant and address.
inline Event FromRequest(const http::Request& req, std::string action, std::string target = {},
                         std::string outcome = "ok") {
  Event e;
  e.action = std::move(action);
  e.outcome = std::move(outcome);
  e.target = std::move(target);
  e.principal = req.principal.name;
  e.tenant = req.principal.tenant;
  e.remote = req.remote;
  return e;
}

// Thread-safe. Record never fails the action: an event that cannot be written is counted and
// logged by the implementation (tyto_audit_errors_total).
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void Record(const Event& event) = 0;
};

}  // namespace tyto::audit
