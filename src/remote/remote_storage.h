// RemoteStorage: the Storage of remote mode. Queries (PromQL, rules, the UI's series and label
// lists) read a remote store through its Prometheus query API; appends go to a writer (the
// remote_write fan-out, fanout.h), so the server keeps no metrics of its own.
//
// How a Querier over [mint, maxt] reads:
//   Select       POST <query_url>/api/v1/query  query={matchers}[<maxt-mint+1>ms]  time=maxt
//                (selector.h): the raw samples, in [mint, maxt], sorted by series labels
//   LabelNames   POST <query_url>/api/v1/labels  match[]={matchers}  start=mint  end=maxt
//   LabelValues  GET  <query_url>/api/v1/label/<name>/values  match[]=...  start  end
// with the configured headers and credentials, `Accept-Encoding: gzip`, the configured timeout
// and a bound on the (decompressed) response size.
//
// What differs from the embedded store, by the nature of the query API:
//   - staleness markers are not returned by the API: a series that ended stays visible to
//     instant selectors for the lookback delta (5m) instead of ending at its marker;
//   - stores index label names and values coarsely (VictoriaMetrics by day), so LabelNames and
//     LabelValues may include some from series outside [mint, maxt];
//   - the store decides what it returns for a time it has not ingested yet (VictoriaMetrics
//     hides the last -search.latencyOffset, 30s by default: set it to 0s or a few seconds).
//
// Errors become Statuses naming the URL: kUnavailable (connection refused, 5xx),
// kDeadlineExceeded (timeout), kResourceExhausted (429, or a response over
// max_response_size), kInvalidArgument (4xx: the store refused the query; its message is kept)
// and, for a body that is not a query API answer, kInvalidArgument saying what is wrong. A
// SeriesSet reports them through status(), which the PromQL engine returns.
//
// Thread-safe. Queriers and appenders must not outlive the RemoteStorage.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "remote/config.h"
#include "tyto/env.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::instrumentation {
class Registry;
}
namespace tyto::http {
class Client;
}

namespace tyto::remote {

class RemoteStorage final : public Storage {
 public:
  // `writer` receives every append and must outlive this object (null: appends fail with
  // kFailedPrecondition). Credentials files are read through `env` at each request, so a rotated
  // secret needs no restart. `registry` may be null. Its metrics:
  //   tyto_remote_query_requests_total{endpoint, result}  counter  endpoint: query, labels,
  //       label_values, health; result: success or error
  //   tyto_remote_query_duration_seconds{endpoint}        histogram  request to decoded answer
  //   tyto_remote_query_response_bytes_total              counter  response bodies, decompressed
  // kInvalidArgument for a bad query_url or header.
  static Result<std::unique_ptr<RemoteStorage>> Create(Env* env, const RemoteQueryConfig& config, Storage* writer,
                                                       instrumentation::Registry* registry);
  ~RemoteStorage() override;

  std::unique_ptr<Appender> NewAppender() override;
  // Never fails: a Querier only holds its range; requests are made by its calls.
  Result<std::unique_ptr<Querier>> NewQuerier(int64_t mint, int64_t maxt) override;

  // For /-/ready: the instant query `1` (every Prometheus-compatible API answers it).
  // OK, or the failure naming the URL ("remote query store http://vm:8428: connection refused").
  Status Health();

  const std::string& query_url() const;

  // One request to <query_url>/api/v1/<path>: the body of a 2xx answer (decompressed), or the
  // error as described above. Used by the querier; `endpoint` labels the metrics.
  Result<std::string> Call(const char* endpoint, const char* method, const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& params);

 private:
  struct Impl;
  explicit RemoteStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tyto::remote
