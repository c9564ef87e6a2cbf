#include "api/json_lines.h"

#include <utility>

#include "http/content_encoding.h"

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
  Status decoded = http::DecodeBody(req.Header("Content-Encoding"), req.body, max_decoded_bytes, inflated, body);
  if (!decoded.ok()) {
    http::Response r = http::Response::Error(http::DecodeErrorStatus(decoded), "bad_data", decoded.message());
    r.refused = http::DecodeRefusal(decoded);
    return r;
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
