#include "remote/response.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace tyto::remote {
namespace {

constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag;
constexpr size_t kExcerpt = 512;

std::string_view View(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string Excerpt(std::string_view s) {
  std::string out(s.substr(0, kExcerpt));
  if (s.size() > kExcerpt) out += "...";
  return out;
}

// Parses `body` in place into *doc; InvalidArgument naming the offset on malformed JSON.
Status Parse(std::string& body, rapidjson::Document* doc) {
  doc->ParseInsitu<kParseFlags>(body.data());
  if (doc->HasParseError()) {
    return InvalidArgument("the response is not JSON: " + std::string(rapidjson::GetParseError_En(doc->GetParseError())) +
                           " at byte " + std::to_string(doc->GetErrorOffset()));
  }
  if (!doc->IsObject()) return InvalidArgument("the response is not a JSON object");
  return Status::Ok();
}

// The envelope's "data" member, or the error the store reported.
Result<const rapidjson::Value*> Data(const rapidjson::Document& doc) {
  auto status = doc.FindMember("status");
  if (status == doc.MemberEnd() || !status->value.IsString()) {
    return InvalidArgument("the response has no \"status\" string (not a Prometheus query API answer)");
  }
  if (View(status->value) != "success") {
    std::string type, error;
    if (auto t = doc.FindMember("errorType"); t != doc.MemberEnd() && t->value.IsString()) type = View(t->value);
    if (auto e = doc.FindMember("error"); e != doc.MemberEnd() && e->value.IsString()) error = View(e->value);
    return InvalidArgument("the store answered status \"" + Excerpt(View(status->value)) + "\"" +
                           (type.empty() ? "" : ", " + Excerpt(type)) + (error.empty() ? "" : ": " + Excerpt(error)));
  }
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd()) return InvalidArgument("the response has no \"data\"");
  return &data->value;
}

bool ParseValue(std::string_view s, double* v) {
  if (s.size() > 1 && s[0] == '+') s.remove_prefix(1);  // "+Inf"; from_chars takes no sign '+'
  if (s.empty() || s[0] == '+') return false;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, *v);
  return ec == std::errc() && p == end;
}

// Seconds (a JSON number with up to millisecond precision) to milliseconds.
bool ParseTimestamp(const rapidjson::Value& j, int64_t* ms) {
  if (!j.IsNumber()) return false;
  if (j.IsInt64()) {  // whole seconds, exact
    const int64_t s = j.GetInt64();
    if (s > std::numeric_limits<int64_t>::max() / 1000 || s < std::numeric_limits<int64_t>::min() / 1000) return false;
    *ms = s * 1000;
    return true;
  }
  const double t = j.GetDouble() * 1000.0;
  if (!std::isfinite(t) || std::fabs(t) >= 9.2e18) return false;
  *ms = std::llround(t);
  return true;
}

bool LabelsLess(const RemoteSeries& a, const RemoteSeries& b) { return a.labels < b.labels; }

}  // namespace

std::string ErrorMessage(std::string_view body) {
  std::string copy(body);
  rapidjson::Document parsed;
  if (!Parse(copy, &parsed).ok()) return "";
  const rapidjson::Document& doc = parsed;
  std::string type, error;
  if (auto t = doc.FindMember("errorType"); t != doc.MemberEnd() && t->value.IsString()) type = Excerpt(View(t->value));
  if (auto e = doc.FindMember("error"); e != doc.MemberEnd() && e->value.IsString()) error = Excerpt(View(e->value));
  if (type.empty() || error.empty()) return type + error;
  return type + ": " + error;
}

Status DecodeMatrix(std::string body, int64_t mint, int64_t maxt, std::vector<RemoteSeries>* out) {
  out->clear();
  rapidjson::Document doc;
  TYTO_RETURN_IF_ERROR(Parse(body, &doc));
  TYTO_ASSIGN_OR_RETURN(const rapidjson::Value* data, Data(doc));
  if (!data->IsObject()) return InvalidArgument("\"data\" is not an object");
  auto type = data->FindMember("resultType");
  if (type == data->MemberEnd() || !type->value.IsString()) return InvalidArgument("\"data\" has no resultType");
  if (View(type->value) != "matrix") {
    return InvalidArgument("resultType is \"" + Excerpt(View(type->value)) + "\", want \"matrix\"");
  }
  auto result = data->FindMember("result");
  if (result == data->MemberEnd() || !result->value.IsArray()) return InvalidArgument("\"data\" has no result list");

  const auto& list = result->value.GetArray();
  out->reserve(list.Size());
  std::vector<Label> pairs;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const std::string where = "result[" + std::to_string(i) + "]";
    const rapidjson::Value& item = list[i];
    if (!item.IsObject()) return InvalidArgument(where + " is not an object");
    auto metric = item.FindMember("metric");
    if (metric == item.MemberEnd() || !metric->value.IsObject()) return InvalidArgument(where + " has no metric object");
    pairs.clear();
    for (auto m = metric->value.MemberBegin(); m != metric->value.MemberEnd(); ++m) {
      if (!m->value.IsString()) {
        return InvalidArgument(where + ".metric." + Excerpt(View(m->name)) + " is not a string");
      }
      pairs.push_back({std::string(View(m->name)), std::string(View(m->value))});
    }
    Result<Labels> labels = Labels::FromPairs(std::move(pairs));
    pairs = {};
    if (!labels.ok()) return InvalidArgument(where + ".metric: " + labels.status().message());

    RemoteSeries series{std::move(labels).value(), {}};
    auto values = item.FindMember("values");
    if (values != item.MemberEnd()) {
      if (!values->value.IsArray()) return InvalidArgument(where + ".values is not a list");
      const auto& vs = values->value.GetArray();
      series.samples.reserve(vs.Size());
      for (rapidjson::SizeType k = 0; k < vs.Size(); ++k) {
        const rapidjson::Value& p = vs[k];
        Sample s;
        if (!p.IsArray() || p.Size() != 2 || !ParseTimestamp(p[0], &s.t) || !p[1].IsString() ||
            !ParseValue(View(p[1]), &s.v)) {
          return InvalidArgument(where + ".values[" + std::to_string(k) +
                                 "] is not a [seconds, \"value\"] pair of a finite time and a number");
        }
        if (s.t >= mint && s.t <= maxt) series.samples.push_back(s);
      }
    }
    // Native histograms ("histograms") are not read: Tyto's storage holds float samples only.
    if (!series.samples.empty()) out->push_back(std::move(series));
  }

  for (RemoteSeries& s : *out) {
    if (!std::is_sorted(s.samples.begin(), s.samples.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; })) {
      std::stable_sort(s.samples.begin(), s.samples.end(), [](const Sample& a, const Sample& b) { return a.t < b.t; });
    }
  }
  if (!std::is_sorted(out->begin(), out->end(), LabelsLess)) std::stable_sort(out->begin(), out->end(), LabelsLess);
  // Merge series given more than once, then keep one sample per timestamp (the first).
  size_t w = 0;
  for (size_t r = 0; r < out->size(); ++r) {
    if (w > 0 && (*out)[w - 1].labels == (*out)[r].labels) {
      auto& into = (*out)[w - 1].samples;
      const auto& from = (*out)[r].samples;
      const size_t mid = into.size();
      into.insert(into.end(), from.begin(), from.end());
      std::inplace_merge(into.begin(), into.begin() + static_cast<std::ptrdiff_t>(mid), into.end(),
                         [](const Sample& a, const Sample& b) { return a.t < b.t; });
      continue;
    }
    if (w != r) (*out)[w] = std::move((*out)[r]);
    ++w;
  }
  out->resize(w);
  for (RemoteSeries& s : *out) {
    s.samples.erase(std::unique(s.samples.begin(), s.samples.end(),
                                [](const Sample& a, const Sample& b) { return a.t == b.t; }),
                    s.samples.end());
  }
  return Status::Ok();
}

Status DecodeStringList(std::string body, std::vector<std::string>* out) {
  out->clear();
  rapidjson::Document doc;
  TYTO_RETURN_IF_ERROR(Parse(body, &doc));
  TYTO_ASSIGN_OR_RETURN(const rapidjson::Value* data, Data(doc));
  if (data->IsNull()) return Status::Ok();  // some stores answer "data":null for none
  if (!data->IsArray()) return InvalidArgument("\"data\" is not a list");
  const auto& list = data->GetArray();
  out->reserve(list.Size());
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    if (!list[i].IsString()) return InvalidArgument("data[" + std::to_string(i) + "] is not a string");
    out->emplace_back(View(list[i]));
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return Status::Ok();
}

}  // namespace tyto::remote
