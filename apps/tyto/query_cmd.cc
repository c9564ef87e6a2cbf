#include "query_cmd.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <future>
#include <string_view>
#include <utility>
#include <vector>

#include "common/build_info.h"
#include "common/units.h"
#include "http/client.h"
#include "http/gzip.h"
#include "http/url.h"
#include "tyto/labels.h"

namespace tyto::tools {
namespace {

using Json = rapidjson::Value;

// Larger answers are refused (the server's own cap, 11,000 points per series, bounds a range
// result well below this unless it has very many series).
constexpr uint64_t kMaxResponseBytes = uint64_t{1} << 30;

void Fail(const std::string& message) { std::fprintf(stderr, "tyto query: %s\n", message.c_str()); }

// At most 200 bytes of a body that is not the API's JSON, on one line, for an error message.
std::string Excerpt(std::string_view body) {
  std::string out(body.substr(0, 200));
  std::replace(out.begin(), out.end(), '\n', ' ');
  if (body.size() > 200) out += "...";
  return out;
}

std::string_view StringOr(const Json& v, std::string_view fallback) {
  return v.IsString() ? std::string_view(v.GetString(), v.GetStringLength()) : fallback;
}

const Json* Member(const Json& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

// The Prometheus API's "warnings" and "infos" arrays, one line each on stderr.
void PrintAnnotations(const Json& body) {
  for (const auto& [key, label] : {std::pair{"warnings", "warning"}, std::pair{"infos", "info"}}) {
    const Json* list = Member(body, key);
    if (list == nullptr || !list->IsArray()) continue;
    for (const Json& a : list->GetArray()) {
      std::fprintf(stderr, "tyto query: %s: %s\n", label, std::string(StringOr(a, "?")).c_str());
    }
  }
}

// {"__name__":"up","job":"x"} as Prometheus prints a series: up{job="x"}.
std::string SeriesName(const Json* metric) {
  std::vector<Label> pairs;
  if (metric != nullptr && metric->IsObject()) {
    for (const auto& m : metric->GetObject()) {
      pairs.push_back({std::string(m.name.GetString(), m.name.GetStringLength()), std::string(StringOr(m.value, ""))});
    }
  }
  auto labels = Labels::FromPairs(std::move(pairs));
  return labels.ok() ? labels->ToString() : "{?}";
}

// A [timestamp, "value"] pair as "value" and "timestamp" (numbers are kept as the server
// wrote them); a native histogram's [timestamp, {count, sum, ...}] as its count and sum.
std::pair<std::string, std::string> Point(const Json* p) {
  if (p == nullptr || !p->IsArray() || p->Size() != 2) return {"?", "?"};
  const Json& t = (*p)[0];
  const Json& v = (*p)[1];
  std::string value;
  if (v.IsObject()) {
    const Json* count = Member(v, "count");
    const Json* sum = Member(v, "sum");
    value = "histogram{count=" + std::string(count ? StringOr(*count, "?") : "?") +
            ", sum=" + std::string(sum ? StringOr(*sum, "?") : "?") + "}";
  } else {
    value = StringOr(v, "?");
  }
  return {value, std::string(StringOr(t, "?"))};
}

// The data of a successful query as a table: a vector's series and values in two aligned
// columns; a matrix's series, each followed by its "value @timestamp" lines; a scalar's or a
// string's value alone. Returns false when the data is not a query result.
bool PrintResult(const Json& data) {
  const Json* result_type = Member(data, "resultType");
  const Json* result = Member(data, "result");
  if (result_type == nullptr || result == nullptr) return false;
  const std::string_view type = StringOr(*result_type, "");
  if (type == "scalar" || type == "string") {
    std::printf("%s\n", Point(result).first.c_str());
    return true;
  }
  if (!result->IsArray() || (type != "vector" && type != "matrix")) return false;
  if (result->Empty()) {
    Fail("empty result");  // on stderr, so that stdout stays empty for scripts
    return true;
  }
  if (type == "vector") {
    std::vector<std::pair<std::string, std::string>> rows;
    size_t width = 0;
    for (const Json& s : result->GetArray()) {
      const Json* value = Member(s, "value");
      if (value == nullptr) value = Member(s, "histogram");
      rows.emplace_back(SeriesName(Member(s, "metric")), Point(value).first);
      width = std::max(width, rows.back().first.size());
    }
    for (const auto& [series, value] : rows) {
      std::printf("%-*s  %s\n", static_cast<int>(width), series.c_str(), value.c_str());
    }
    return true;
  }
  for (const Json& s : result->GetArray()) {
    std::printf("%s\n", SeriesName(Member(s, "metric")).c_str());
    for (const char* key : {"values", "histograms"}) {
      const Json* points = Member(s, key);
      if (points == nullptr || !points->IsArray()) continue;
      for (const Json& p : points->GetArray()) {
        auto [value, t] = Point(&p);
        std::printf("  %s @%s\n", value.c_str(), t.c_str());
      }
    }
  }
  return true;
}

}  // namespace

int Query(const QueryFlags& f) {
  const bool range = !f.start.empty() || !f.end.empty() || !f.step.empty();
  if (range && (f.start.empty() || f.end.empty() || f.step.empty())) {
    Fail("a range query needs --start, --end and --step together");
    return 2;
  }
  if (range && !f.time.empty()) {
    Fail("--time is for instant queries; a range query takes --start, --end and --step");
    return 2;
  }
  auto url = http::ParseUrl(f.server);
  if (!url.ok()) {
    Fail("--server: " + url.status().message());
    return 2;
  }
  if (!url->query.empty()) {
    Fail("--server: give the server's base URL without a query string");
    return 2;
  }
  auto timeout = ParseDuration(f.timeout);
  if (!timeout.ok() || timeout->count() <= 0) {
    Fail("--timeout: " + (timeout.ok() ? "must be positive" : timeout.status().message()));
    return 2;
  }

  std::string base = f.server.substr(0, f.server.find('#'));
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string api_path = range ? "/api/v1/query_range" : "/api/v1/query";
  const std::string endpoint = base + api_path;  // for messages

  std::vector<std::pair<std::string, std::string>> params = {{"query", f.expr}};
  if (range) {
    params.insert(params.end(), {{"start", f.start}, {"end", f.end}, {"step", f.step}});
  } else if (!f.time.empty()) {
    params.emplace_back("time", f.time);
  }
  http::ClientRequest req;
  req.method = "POST";  // a long expression fits in a body, not always in a URL
  req.https = url->https;
  req.host = url->host;
  req.port = url->port;
  std::string prefix = url->path;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  req.target = prefix + api_path;
  req.body = http::EncodeQueryString(params);
  req.timeout = *timeout;
  req.max_body_bytes = kMaxResponseBytes;
  req.tls.ca_file = f.ca_file;
  req.tls.insecure_skip_verify = f.insecure_skip_verify;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"},
                 {"Accept-Encoding", "gzip"},  // a long range result shrinks about tenfold
                 {"User-Agent", "tyto/" + std::string(GetBuildInfo().version)}};
  if (!f.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + f.token);

  http::Client client(1);
  std::promise<Result<http::ClientResponse>> done;
  client.Send(std::move(req), [&done](Result<http::ClientResponse> r) { done.set_value(std::move(r)); });
  Result<http::ClientResponse> response = done.get_future().get();
  if (!response.ok()) {
    Fail("cannot query " + endpoint + ": " + response.status().message());
    return 1;
  }
  if (response->content_encoding == "gzip") {
    auto plain = http::GzipDecompress(response->body, kMaxResponseBytes);
    if (!plain.ok()) {
      Fail(endpoint + ": the gzip response: " + plain.status().message());
      return 1;
    }
    response->body = std::move(plain).value();
  }

  rapidjson::Document body;
  // Numbers as strings: timestamps print exactly as the server wrote them.
  body.Parse<rapidjson::kParseNumbersAsStringsFlag>(response->body.data(), response->body.size());
  const Json* status = body.HasParseError() ? nullptr : Member(body, "status");
  if (status == nullptr || !status->IsString()) {
    Fail(endpoint + ": HTTP " + std::to_string(response->status) + ", not the Prometheus API's JSON: " +
         Excerpt(response->body));
    return 1;
  }
  PrintAnnotations(body);
  if (StringOr(*status, "") != "success") {
    const Json* type = Member(body, "errorType");
    const Json* error = Member(body, "error");
    const std::string error_type(type ? StringOr(*type, "error") : "error");
    std::string message = error_type + ": " + std::string(error ? StringOr(*error, "") : "");
    if (response->status == 401 && f.token.empty()) message += " (give a token with --token or TYTO_TOKEN)";
    Fail(message);
    return error_type == "bad_data" ? 2 : 1;
  }
  if (f.json) {
    std::fwrite(response->body.data(), 1, response->body.size(), stdout);
    if (response->body.empty() || response->body.back() != '\n') std::fputc('\n', stdout);
    return 0;
  }
  const Json* data = Member(body, "data");
  if (data == nullptr || !PrintResult(*data)) {
    Fail(endpoint + ": the response holds no query result: " + Excerpt(response->body));
    return 1;
  }
  return 0;
}

}  // namespace tyto::tools
