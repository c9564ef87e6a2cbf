// Decoding of a Prometheus query API response (the JSON envelope of /api/v1/query,
// /api/v1/labels and /api/v1/label/<name>/values), as RemoteStorage reads them:
//
//   {"status":"success","data":{"resultType":"matrix","result":[
//      {"metric":{"__name__":"up","job":"node"},"values":[[1700000000.123,"1"],[...]]}, ...]}}
//   {"status":"success","data":["__name__","job"]}
//   {"status":"error","errorType":"bad_data","error":"..."}
//
// Input is untrusted: any bytes give a Status, never a crash; nesting is parsed iteratively
// (no recursion); sizes are bounded by the body, which the caller bounds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tyto/labels.h"
#include "tyto/status.h"
#include "tyto/storage.h"

namespace tyto::remote {

struct RemoteSeries {
  Labels labels;
  std::vector<Sample> samples;  // ascending by time, one per timestamp
};

// The series of a matrix result, sorted by labels, each series' samples within [mint, maxt]
// (series left without any are omitted). Timestamps (seconds, with up to millisecond precision)
// are rounded to milliseconds; values are decimal strings or "NaN", "+Inf", "-Inf" ("Inf" too).
// A series given twice (a store that does not merge replicas) is merged, and of two samples
// with one timestamp the first is kept. Labels with empty values are dropped (as in Labels).
// Errors: kInvalidArgument naming what is malformed and where (result[3].values[7]: ...);
// for {"status":"error"} the store's own errorType and error (see ErrorMessage).
Status DecodeMatrix(std::string body, int64_t mint, int64_t maxt, std::vector<RemoteSeries>* out);

// The strings of a {"data":[...]} response, sorted and distinct (label names or values).
Status DecodeStringList(std::string body, std::vector<std::string>* out);

// "bad_data: parse error at ..." from an error envelope; empty when `body` is not one (a proxy's
// HTML page, ...). For the message of a non-2xx answer.
std::string ErrorMessage(std::string_view body);

}  // namespace tyto::remote
