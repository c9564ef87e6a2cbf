#include "api/json_lines.h"

#include <utility>

#include "http/gzip.h"

namespace tyto::api {
namespace {

void Lines(JsonWriter& w, std::string_view key, const std::vector<events::LineError>& lines) {
  Key(w, key);
  w.StartArray();
  for (const events::LineError& e : lines) {
    w.StartObject();
    Key(w, "line");
    w.Uint64(e.line);
    String(w, "message", e.message);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::optional<http::Response> ReadJsonLinesBody(const http::Request& req, size_t max_decoded_bytes,
                                                std::string* inflated, std::string_view* body) {
  *body = req.body;
  if (auto header = req.Header("Content-Encoding")) {
    const std::string enc = http::NormalizeHeaderValue(*header);
    if (enc == "gzip") {
      Result<std::string> out = http::GzipDecompress(req.body, max_decoded_bytes);
      if (!out.ok()) {
        return http::Response::Error(out.status().code() == StatusCode::kResourceExhausted ? 413 : 400, "bad_data",
                                     "invalid gzip body: " + out.status().message());
      }
      *inflated = std::move(*out);
      *body = *inflated;
    } else if (!enc.empty() && enc != "identity") {
      return http::Response::Error(
          415, "bad_data",
          "unsupported Content-Encoding \"" + std::string(*header) + "\": send the lines uncompressed or gzip");
    }
  }
  return std::nullopt;
}

http::Response JsonLinesReport(const events::LineReport& r, int status, const std::vector<std::string>& notes,
                               const std::function<void(JsonWriter&)>& extra) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  Key(w, "accepted");
  w.Uint64(r.accepted);
  Key(w, "rejected");
  w.Uint64(r.rejected);
  Lines(w, "errors", r.errors);
  Lines(w, "warnings", r.warnings);
  if (!notes.empty()) {
    Key(w, "notes");
    w.StartArray();
    for (const std::string& n : notes) w.String(n.data(), static_cast<rapidjson::SizeType>(n.size()));
    w.EndArray();
  }
  if (extra) extra(w);
  w.EndObject();
  return http::Response::Json(status, std::string(buf.GetString(), buf.GetSize()));
}

int JsonLinesStatus(const events::LineReport& r) { return r.lines > 0 && r.accepted == 0 ? 400 : 200; }

}  // namespace tyto::api
