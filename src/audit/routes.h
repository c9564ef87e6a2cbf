// Which HTTP requests go on the audit trail, and how: a table from (method, route) to an action
// ("POST /api/v2/silences" is "silence.create"), applied to each request once it is answered.
// Requests answered 401 or 403, on any route, are recorded as "auth.failed" or "auth.denied"
// (Trail limits those per address). The table is docs/format/audit.md's, in code.
//
// Watching answers rather than editing each handler keeps the routes' code free of auditing and
// sure to be covered: a new route that changes state needs one line in the table (routes.cc);
// a rule may copy named members of the request body and of the answer's data (erasure: whom it
// was asked for, and how many records went). Code that acts outside HTTP, or knows more than
// its answer shows, records through an audit::Recorder it is given.
#pragma once

#include <string_view>

#include "audit/recorder.h"
#include "http/message.h"

namespace tyto::audit {

// The action a request on `route` (the router's name for it, its pattern) with `method` is
// recorded as; empty when it is not audited.
std::string_view RouteAction(std::string_view method, std::string_view route);

// Thread-safe (the recorder is).
class RouteAuditor {
 public:
  explicit RouteAuditor(Recorder* recorder) : recorder_(recorder) {}

  // Records `req` answered by `resp` when the table or its status says so.
  void Observe(const http::Request& req, const http::Response& resp) const;

 private:
  Recorder* recorder_;
};

}  // namespace tyto::audit
