// `tyto query`: runs a PromQL expression on a running Tyto (or any server with the Prometheus
// HTTP API) through /api/v1/query or /api/v1/query_range, and prints the result as a table for
// people or, with --json, the response body as the server sent it, for scripts and jq.
#pragma once

#include <string>

namespace tyto::tools {

struct QueryFlags {
  std::string expr;
  // An instant query's evaluation time, RFC 3339 or Unix seconds; empty: the server's now.
  std::string time;
  // A range query when any is set; all three are then required. Times as --time; the step is
  // a duration ("15s") or seconds. The server checks them, as Prometheus does.
  std::string start, end, step;
  std::string server = "http://127.0.0.1:9800";  // `tyto serve`'s default http.listen
  std::string token;                              // sent as "Authorization: Bearer <token>"
  std::string ca_file;                            // https: PEM CA file; empty: the system's
  bool insecure_skip_verify = false;              // https: accept any certificate
  std::string timeout = "2m";                     // the whole exchange
  bool json = false;
};

// Returns the exit code: 0 on success (warnings and infos go to stderr), 2 for bad flags or a
// query the server refuses as bad_data, 1 for every other failure (unreachable server, refused
// credentials, execution errors), with the reason on stderr.
int Query(const QueryFlags& flags);

}  // namespace tyto::tools
