// OTLP's AnyValue written as a string, one piece of code for every OTLP decoder: metrics
// (otlp_proto.cc, otlp_json.cc) and traces and logs (src/events/). Also the readers of OTLP's JSON
// mapping that the JSON AnyValue needs and the other JSON decoders share: members by their
// lowerCamelCase or proto name, 64-bit integers as numbers or strings of digits, doubles as numbers
// or "NaN"/"Infinity"/"-Infinity", and error messages that name the path.
//
// The string form is Prometheus's OTLP receiver's (pcommon's Value.AsString): strings as they are,
// booleans "true"/"false", integers in decimal, doubles as JavaScript prints them, bytes in base64,
// arrays and maps as compact JSON (non-finite doubles inside them as "NaN", "Infinity" strings),
// an empty AnyValue as "" (or null inside an array or map). Values nested deeper than
// kMaxAnyValueDepth are an error.
//
// RapidJSON appears here only through its forward declarations (<rapidjson/fwd.h>): include this
// header from .cc files of libraries that link RapidJSON, never from a public header.
#pragma once

#include <rapidjson/fwd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/otlp_metrics.h"
#include "ingest/protobuf_wire.h"
#include "tyto/status.h"

namespace tyto::ingest::otlp {

// Where a protobuf decoder is, for error messages: "resource_spans[0].scope_spans[2].spans[1]".
// Frames hold string_views: the names must outlive the frame (string literals do).
class FieldPath {
 public:
  // Pushes a frame for its lifetime; `index` < 0 prints no "[i]".
  class Scoped {
   public:
    Scoped(FieldPath* p, std::string_view name, int64_t index = -1) : p_(p) { p_->frames_.emplace_back(name, index); }
    ~Scoped() { p_->frames_.pop_back(); }
    Scoped(const Scoped&) = delete;
    Scoped& operator=(const Scoped&) = delete;

   private:
    FieldPath* p_;
  };
  // The frames joined with '.', then `field` (which may itself be dotted) when not empty.
  std::string ToString(std::string_view field) const;

 private:
  std::vector<std::pair<std::string_view, int64_t>> frames_;
};

// The shared half of a hand-written OTLP protobuf decoder: where it is (path_), the first error
// (status_), reading one field's value with an error that names it, and AnyValue. Every step
// returns false once it failed; status() then says what and where, e.g.
// "resource_spans[0].scope_spans[1].spans[2].name: invalid protobuf at byte 57: ...", or
// "<root>: ..." when the error is in the outermost message.
class ProtoDecoder {
 public:
  const Status& status() const { return status_; }

 protected:
  // `root` names the outermost message ("ExportMetricsServiceRequest"); it must outlive this.
  explicit ProtoDecoder(std::string_view root) : root_(root) {}
  ~ProtoDecoder() = default;
  ProtoDecoder(const ProtoDecoder&) = delete;
  ProtoDecoder& operator=(const ProtoDecoder&) = delete;

  // Records `st` at path_ + `field`; returns false.
  bool Fail(std::string_view field, const Status& st);
  // "invalid protobuf at byte <the field's offset>: field <n>: <what>" at path_ + `field`.
  bool FailAt(std::string_view field, const ProtoReader& r, const std::string& what);
  // Runs `fn(sub)` on the current field's embedded message, with `field`[index] on the path.
  template <typename Fn>
  bool Message(ProtoReader& r, std::string_view field, int64_t index, Fn fn) {
    FieldPath::Scoped s(&path_, field, index);
    ProtoReader sub("");
    if (!r.ReadMessage(&sub)) return Fail("", r.status());
    if (!fn(sub)) return false;
    return sub.ok() || Fail("", sub.status());
  }
  bool Bytes(ProtoReader& r, std::string_view field, std::string_view* out) {
    return r.ReadBytes(out) || Fail(field, r.status());
  }
  bool String(ProtoReader& r, std::string_view field, std::string* out);
  bool Varint(ProtoReader& r, std::string_view field, uint64_t* v) {
    return r.ReadVarint(v) || Fail(field, r.status());
  }
  bool Fixed64(ProtoReader& r, std::string_view field, uint64_t* v) {
    return r.ReadFixed64(v) || Fail(field, r.status());
  }
  bool Double(ProtoReader& r, std::string_view field, double* v) { return r.ReadDouble(v) || Fail(field, r.status()); }
  // Appends the AnyValue message `value` to *out in the string form above; path_ says where the
  // value is ("...attributes[0].value").
  bool AnyValue(ProtoReader value, std::string* out) { return AnyValue(value, 0, false, out); }

  FieldPath path_;
  Status status_;

 private:
  // As a string (as_json false) or as a JSON value inside an array or map (true).
  bool AnyValue(ProtoReader r, int depth, bool as_json, std::string* out);
  // A KeyValue inside a kvlist: "key":value.
  bool KeyValueJson(ProtoReader r, int depth, std::string* out);

  std::string_view root_;
};

namespace json {

// The member named `camel` (OTLP's JSON) or `snake` (the proto name, which proto3 JSON parsers
// also accept); nullptr when absent or null.
const rapidjson::Value* Member(const rapidjson::Value& obj, const char* camel, const char* snake = nullptr);
// A string value's bytes. Precondition: v.IsString().
std::string_view View(const rapidjson::Value& v);

// Paths: Index("a", "b", 2) is "a.b[2]", Field("a", "b") is "a.b" (no dot after an empty path).
std::string Index(const std::string& path, std::string_view name, size_t i);
std::string Field(const std::string& path, std::string_view name);
// InvalidArgument "<where>: <what>" (just <what> when `where` is empty).
Status Bad(const std::string& where, std::string_view what);

// Each reads the member of `obj` named `camel` (or `snake`) into *out and leaves *out alone when
// the member is absent or null; a member of the wrong type is an error naming Field(where, camel).
Status Object(const rapidjson::Value& v, const std::string& where);  // `v` itself must be an object
// An array member; *out is nullptr when absent.
Status Array(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where,
             const rapidjson::Value** out);
Status String(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where,
              std::string* out);
// A 64-bit integer: a JSON number, or a string of decimal digits (proto3 JSON writes 64-bit
// integers as strings). `is_signed` admits a leading '-' (the value is then stored two's complement).
Status Int64(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where,
             bool is_signed, uint64_t* out);
Status Uint64(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where,
              uint64_t* out);
Status Int32(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where, int32_t* out);
Status Uint32(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where,
              uint32_t* out);
// A double: a number, or "NaN", "Infinity", "-Infinity" or a number in a string. DoubleValue
// reads `v` itself (errors name `where`); Double a member, setting *present when there is one.
Status DoubleValue(const rapidjson::Value& v, const std::string& where, double* out);
Status Double(const rapidjson::Value& obj, const char* camel, const char* snake, const std::string& where, double* out,
              bool* present = nullptr);

// Appends the AnyValue object `v` (at `where`) to *out in the string form above.
Status AppendAnyValue(const rapidjson::Value& v, const std::string& where, std::string* out);

}  // namespace json
}  // namespace tyto::ingest::otlp
