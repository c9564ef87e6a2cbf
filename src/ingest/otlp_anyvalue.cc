// AnyValue → string from the protobuf wire format and from OTLP's JSON mapping, and the JSON
// mapping's scalar readers (otlp_anyvalue.h).
#include "ingest/otlp_anyvalue.h"

#include <rapidjson/document.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "ingest/otlp_names.h"

namespace tyto::ingest::otlp {

std::string FieldPath::ToString(std::string_view field) const {
  std::string out;
  for (const auto& [name, index] : frames_) {
    if (!out.empty()) out.push_back('.');
    out += name;
    if (index >= 0) out += "[" + std::to_string(index) + "]";
  }
  if (!field.empty()) {
    if (!out.empty()) out.push_back('.');
    out += field;
  }
  return out;
}

bool ProtoDecoder::Fail(std::string_view field, const Status& st) {
  const std::string where = path_.ToString(field);
  status_ = InvalidArgument((where.empty() ? std::string(root_) : where) + ": " + st.message());
  return false;
}

bool ProtoDecoder::FailAt(std::string_view field, const ProtoReader& r, const std::string& what) {
  return Fail(field, InvalidArgument("invalid protobuf at byte " + std::to_string(r.field_offset()) + ": field " +
                                     std::to_string(r.field()) + ": " + what));
}

bool ProtoDecoder::String(ProtoReader& r, std::string_view field, std::string* out) {
  std::string_view v;
  if (!r.ReadBytes(&v)) return Fail(field, r.status());
  out->assign(v);
  return true;
}

bool ProtoDecoder::AnyValue(ProtoReader r, int depth, bool as_json, std::string* out) {
  if (depth > kMaxAnyValueDepth) {
    return Fail("", InvalidArgument("attribute value nested deeper than " + std::to_string(kMaxAnyValueDepth)));
  }
  const size_t start = out->size();
  bool set = false;
  while (r.Next()) {
    if (r.field() >= 1 && r.field() <= 7) {
      out->resize(start);  // a oneof: the last one wins
      set = true;
    }
    switch (r.field()) {
      case 1: {
        std::string_view s;
        if (!Bytes(r, "string_value", &s)) return false;
        if (as_json)
          AppendJsonString(out, s);
        else
          out->append(s);
        break;
      }
      case 2: {
        uint64_t v = 0;
        if (!Varint(r, "bool_value", &v)) return false;
        *out += v ? "true" : "false";
        break;
      }
      case 3: {
        uint64_t v = 0;
        if (!Varint(r, "int_value", &v)) return false;
        *out += std::to_string(static_cast<int64_t>(v));
        break;
      }
      case 4: {
        double v = 0;
        if (!Double(r, "double_value", &v)) return false;
        const std::string s = FormatAttributeDouble(v);
        if (as_json && !std::isfinite(v))
          AppendJsonString(out, s);
        else
          *out += s;
        break;
      }
      case 5:
        out->push_back('[');
        if (!Message(r, "array_value", -1, [&](ProtoReader& arr) {
              bool first = true;
              int64_t i = 0;
              while (arr.Next()) {
                if (arr.field() != 1) continue;
                if (!first) out->push_back(',');
                first = false;
                if (!Message(arr, "values", i++, [&](ProtoReader& v) { return AnyValue(v, depth + 1, true, out); })) {
                  return false;
                }
              }
              return true;
            })) {
          return false;
        }
        out->push_back(']');
        break;
      case 6:
        out->push_back('{');
        if (!Message(r, "kvlist_value", -1, [&](ProtoReader& list) {
              bool first = true;
              int64_t i = 0;
              while (list.Next()) {
                if (list.field() != 1) continue;
                if (!first) out->push_back(',');
                first = false;
                if (!Message(list, "values", i++, [&](ProtoReader& kv) { return KeyValueJson(kv, depth + 1, out); })) {
                  return false;
                }
              }
              return true;
            })) {
          return false;
        }
        out->push_back('}');
        break;
      case 7: {
        std::string_view b;
        if (!Bytes(r, "bytes_value", &b)) return false;
        if (as_json)
          AppendJsonString(out, Base64(b));
        else
          *out += Base64(b);
        break;
      }
      default:
        break;
    }
  }
  if (!r.ok()) return Fail("", r.status());
  if (!set && as_json) *out += "null";
  return true;
}

bool ProtoDecoder::KeyValueJson(ProtoReader r, int depth, std::string* out) {
  std::string_view key;
  std::string value;
  bool have_value = false;
  while (r.Next()) {
    if (r.field() == 1) {
      if (!Bytes(r, "key", &key)) return false;
    } else if (r.field() == 2) {
      value.clear();
      have_value = true;
      if (!Message(r, "value", -1, [&](ProtoReader& v) { return AnyValue(v, depth, true, &value); })) return false;
    }
  }
  AppendJsonString(out, key);
  out->push_back(':');
  *out += have_value ? value : "null";
  return true;
}

namespace json {

using rapidjson::Value;

const Value* Member(const Value& obj, const char* camel, const char* snake) {
  auto it = obj.FindMember(camel);
  if (it == obj.MemberEnd() && snake != nullptr) it = obj.FindMember(snake);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view View(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

std::string Index(const std::string& path, std::string_view name, size_t i) {
  return path + (path.empty() ? "" : ".") + std::string(name) + "[" + std::to_string(i) + "]";
}
std::string Field(const std::string& path, std::string_view name) {
  return path + (path.empty() ? "" : ".") + std::string(name);
}

Status Bad(const std::string& where, std::string_view what) {
  return InvalidArgument(where.empty() ? std::string(what) : where + ": " + std::string(what));
}

Status Object(const Value& v, const std::string& where) {
  return v.IsObject() ? Status::Ok() : Bad(where, "expected an object");
}

Status Array(const Value& obj, const char* camel, const char* snake, const std::string& where, const Value** out) {
  *out = Member(obj, camel, snake);
  if (*out != nullptr && !(*out)->IsArray()) return Bad(Field(where, camel), "expected an array");
  return Status::Ok();
}

Status String(const Value& obj, const char* camel, const char* snake, const std::string& where, std::string* out) {
  const Value* v = Member(obj, camel, snake);
  if (v == nullptr) return Status::Ok();
  if (!v->IsString()) return Bad(Field(where, camel), "expected a string");
  out->assign(v->GetString(), v->GetStringLength());
  return Status::Ok();
}

Status Int64(const Value& obj, const char* camel, const char* snake, const std::string& where, bool is_signed,
             uint64_t* out) {
  const Value* v = Member(obj, camel, snake);
  if (v == nullptr) return Status::Ok();
  if (v->IsUint64()) {
    *out = v->GetUint64();
    if (!is_signed || *out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return Status::Ok();
  } else if (v->IsInt64() && is_signed) {
    *out = static_cast<uint64_t>(v->GetInt64());
    return Status::Ok();
  } else if (v->IsString()) {
    std::string_view s = View(*v);
    if (is_signed && !s.empty() && s[0] == '-') {
      int64_t x = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), x);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size()) {
        *out = static_cast<uint64_t>(x);
        return Status::Ok();
      }
    } else {
      uint64_t x = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), x);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty() &&
          (!is_signed || x <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))) {
        *out = x;
        return Status::Ok();
      }
    }
  }
  return Bad(Field(where, camel), is_signed ? "expected a signed 64-bit integer (a number or a string of digits)"
                                            : "expected an unsigned 64-bit integer (a number or a string of digits)");
}

Status Uint64(const Value& obj, const char* camel, const char* snake, const std::string& where, uint64_t* out) {
  return Int64(obj, camel, snake, where, false, out);
}

Status Int32(const Value& obj, const char* camel, const char* snake, const std::string& where, int32_t* out) {
  const Value* v = Member(obj, camel, snake);
  if (v == nullptr) return Status::Ok();
  if (v->IsInt()) {
    *out = v->GetInt();
    return Status::Ok();
  }
  if (v->IsString()) {
    std::string_view s = View(*v);
    int32_t x = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), x);
    if (r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty()) {
      *out = x;
      return Status::Ok();
    }
  }
  return Bad(Field(where, camel), "expected a 32-bit integer");
}

Status Uint32(const Value& obj, const char* camel, const char* snake, const std::string& where, uint32_t* out) {
  uint64_t v = 0;
  TYTO_RETURN_IF_ERROR(Uint64(obj, camel, snake, where, &v));
  if (v > std::numeric_limits<uint32_t>::max()) return Bad(Field(where, camel), "expected a 32-bit unsigned integer");
  *out = static_cast<uint32_t>(v);
  return Status::Ok();
}

Status DoubleValue(const Value& v, const std::string& where, double* out) {
  if (v.IsNumber()) {
    *out = v.GetDouble();
    return Status::Ok();
  }
  if (v.IsString()) {
    std::string_view s = View(v);
    if (s == "NaN")
      *out = std::numeric_limits<double>::quiet_NaN();
    else if (s == "Infinity")
      *out = std::numeric_limits<double>::infinity();
    else if (s == "-Infinity")
      *out = -std::numeric_limits<double>::infinity();
    else {
      auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
      if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) {
        return Bad(where, "expected a number, \"NaN\", \"Infinity\" or \"-Infinity\"");
      }
    }
    return Status::Ok();
  }
  return Bad(where, "expected a number");
}

Status Double(const Value& obj, const char* camel, const char* snake, const std::string& where, double* out,
              bool* present) {
  const Value* v = Member(obj, camel, snake);
  if (v == nullptr) return Status::Ok();
  if (present != nullptr) *present = true;
  return DoubleValue(*v, Field(where, camel), out);
}

namespace {

// AnyValue as a string (as_json false) or as a JSON value inside an array or map (true).
Status AnyValue(const Value& v, const std::string& where, int depth, bool as_json, std::string* out) {
  if (depth > kMaxAnyValueDepth) {
    return Bad(where, "attribute value nested deeper than " + std::to_string(kMaxAnyValueDepth));
  }
  TYTO_RETURN_IF_ERROR(Object(v, where));
  if (const Value* s = Member(v, "stringValue", "string_value")) {
    if (!s->IsString()) return Bad(Field(where, "stringValue"), "expected a string");
    if (as_json)
      AppendJsonString(out, View(*s));
    else
      out->append(View(*s));
  } else if (const Value* b = Member(v, "boolValue", "bool_value")) {
    if (!b->IsBool()) return Bad(Field(where, "boolValue"), "expected true or false");
    *out += b->GetBool() ? "true" : "false";
  } else if (Member(v, "intValue", "int_value") != nullptr) {
    uint64_t i = 0;
    TYTO_RETURN_IF_ERROR(Int64(v, "intValue", "int_value", where, true, &i));
    *out += std::to_string(static_cast<int64_t>(i));
  } else if (const Value* d = Member(v, "doubleValue", "double_value")) {
    double x = 0;
    TYTO_RETURN_IF_ERROR(DoubleValue(*d, Field(where, "doubleValue"), &x));
    if (as_json && !std::isfinite(x))
      AppendJsonString(out, FormatAttributeDouble(x));
    else
      *out += FormatAttributeDouble(x);
  } else if (const Value* bytes = Member(v, "bytesValue", "bytes_value")) {
    // Already base64 in proto3 JSON: the protobuf path writes bytes as base64 too.
    if (!bytes->IsString()) return Bad(Field(where, "bytesValue"), "expected a base64 string");
    if (as_json)
      AppendJsonString(out, View(*bytes));
    else
      out->append(View(*bytes));
  } else if (const Value* arr = Member(v, "arrayValue", "array_value")) {
    const std::string at = Field(where, "arrayValue");
    TYTO_RETURN_IF_ERROR(Object(*arr, at));
    const Value* values = nullptr;
    TYTO_RETURN_IF_ERROR(Array(*arr, "values", nullptr, at, &values));
    out->push_back('[');
    for (rapidjson::SizeType i = 0; values != nullptr && i < values->Size(); ++i) {
      if (i > 0) out->push_back(',');
      TYTO_RETURN_IF_ERROR(AnyValue((*values)[i], Index(at, "values", i), depth + 1, true, out));
    }
    out->push_back(']');
  } else if (const Value* kvl = Member(v, "kvlistValue", "kvlist_value")) {
    const std::string at = Field(where, "kvlistValue");
    TYTO_RETURN_IF_ERROR(Object(*kvl, at));
    const Value* values = nullptr;
    TYTO_RETURN_IF_ERROR(Array(*kvl, "values", nullptr, at, &values));
    out->push_back('{');
    for (rapidjson::SizeType i = 0; values != nullptr && i < values->Size(); ++i) {
      if (i > 0) out->push_back(',');
      const std::string kv_at = Index(at, "values", i);
      const Value& kv = (*values)[i];
      TYTO_RETURN_IF_ERROR(Object(kv, kv_at));
      std::string key;
      TYTO_RETURN_IF_ERROR(String(kv, "key", nullptr, kv_at, &key));
      AppendJsonString(out, key);
      out->push_back(':');
      if (const Value* val = Member(kv, "value")) {
        TYTO_RETURN_IF_ERROR(AnyValue(*val, Field(kv_at, "value"), depth + 1, true, out));
      } else {
        *out += "null";
      }
    }
    out->push_back('}');
  } else if (as_json) {
    *out += "null";
  }
  return Status::Ok();
}

}  // namespace

Status AppendAnyValue(const Value& v, const std::string& where, std::string* out) {
  return AnyValue(v, where, 0, false, out);
}

}  // namespace json
}  // namespace tyto::ingest::otlp
