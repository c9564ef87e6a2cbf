// What the JSON-lines endpoints share (POST /api/v1/events, /api/v1/logs, /api/v1/feedback, a
// drift reference upload): reading the body, gunzipped when sent so, and the answer
// {"accepted":N,"rejected":M,"errors":[{"line":L,"message":"..."}],"warnings":[...]} with its
// status (docs/events-api.md).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/json.h"
#include "events/jsonl_decode.h"
#include "http/message.h"

namespace tyto::api {

// Sets *body to the request's lines, decoded into *inflated (at most max_decoded_bytes) when
// Content-Encoding says gzip or zstd (http::DecodeBody). Returns the answer (400, 413, 415) when the body cannot be read.
std::optional<http::Response> ReadJsonLinesBody(const http::Request& req, size_t max_decoded_bytes,
                                                std::string* inflated, std::string_view* body);

// The answer to a JSON-lines request: its counts, errors and warnings, `notes` when any, and
// whatever `extra` adds to the object.
http::Response JsonLinesReport(const events::LineReport& r, int status, const std::vector<std::string>& notes,
                               const std::function<void(JsonWriter&)>& extra = nullptr);

// 400 when every line was refused, else 200.
int JsonLinesStatus(const events::LineReport& r);

}  // namespace tyto::api
