// What a fake remote-write receiver in a test does with a request body: decode it with the
// production decoder (snappy, then the protobuf) and record the samples it holds. Header-only;
// a test using it links tyto_ingest and tyto_labels.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/snappy_codec.h"
#include "ingest/write_request.h"
#include "tyto/labels.h"
#include "tyto/status.h"

namespace tyto::testing {

// Decodes `body` and appends each series' samples to (*series)[its labels' ToString()], adding
// their count to *accepted; a series whose labels the production check refuses is still
// recorded, with the check's error appended to *problems ("...; "). Returns the decoding error
// (nothing recorded then).
inline Status RecordRemoteWrite(std::string_view body, std::map<std::string, std::vector<Sample>>* series,
                                uint64_t* accepted, std::string* problems) {
  std::string raw;
  ingest::WriteRequest req;
  Status s = ingest::SnappyUncompress(body, 64 << 20, &raw);
  if (s.ok()) s = ingest::DecodeWriteRequest(raw, &req);
  if (!s.ok()) return s;
  for (size_t i = 0; i < req.series.size(); ++i) {
    if (Status c = ingest::CheckSeriesLabels(req, i); !c.ok()) *problems += c.ToString() + "; ";
    const auto& rs = req.series[i];
    std::vector<Label> pairs;
    for (uint32_t k = rs.labels_begin; k < rs.labels_end; ++k) {
      pairs.push_back({std::string(req.labels[k].name), std::string(req.labels[k].value)});
    }
    std::vector<Sample>& got = (*series)[Labels::FromPairs(pairs).value().ToString()];
    got.insert(got.end(), req.samples.begin() + rs.samples_begin, req.samples.begin() + rs.samples_end);
    *accepted += rs.samples_end - rs.samples_begin;
  }
  return Status::Ok();
}

}  // namespace tyto::testing
