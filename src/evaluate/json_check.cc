#include "evaluate/json_check.h"

#include <rapidjson/document.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/regex.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/pointer.h>
#include <rapidjson/reader.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <deque>
#include <map>
#include <vector>

namespace tyto::evaluate {

struct JsonSchema::Impl {
  rapidjson::Document document;
  std::unique_ptr<rapidjson::SchemaDocument> schema;
};

JsonSchema::~JsonSchema() = default;

namespace {

using rapidjson::SizeType;
using rapidjson::Value;

constexpr size_t kMaxSchemaBytes = size_t{1} << 20;
constexpr size_t kMaxSchemaDepth = 64;
// The most NFA states a pattern may expand to, estimated as its length times the product of its
// repetition counts (the engine copies a repeated atom once per count).
constexpr double kMaxPatternStates = 10000;
constexpr unsigned kReadFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

using InputStream = rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream>;

// "byte 17 (line 2, column 5)"; columns count characters.
std::string Position(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1;
  size_t column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      ++column;
    }
  }
  return "byte " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " + std::to_string(column) +
         ")";
}

// Text from outside (a JSON pointer naming the document's members) made safe to print: ASCII
// control characters and bytes >= 0x80 that are not valid UTF-8 become '?', and long text is cut.
std::string Printable(std::string_view s) {
  constexpr size_t kMax = 200;
  std::string out;
  for (size_t i = 0; i < s.size() && out.size() < kMax;) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      out += '?';
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool ok = n > 0 && i + n <= s.size();
      for (size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
      if (ok) {
        out.append(s.substr(i, n));
        i += n;
      } else {
        out += '?';
        ++i;
      }
    }
  }
  if (out.size() >= kMax) out += "...";
  return out;
}

// Forwards reader events to a schema validator (or to nothing), refusing to nest deeper than
// max_depth.
template <typename Next>
class DepthLimited {
 public:
  DepthLimited(Next* next, size_t max_depth) : next_(next), max_depth_(max_depth) {}

  bool Null() { return next_ == nullptr || next_->Null(); }
  bool Bool(bool b) { return next_ == nullptr || next_->Bool(b); }
  bool Int(int i) { return next_ == nullptr || next_->Int(i); }
  bool Uint(unsigned u) { return next_ == nullptr || next_->Uint(u); }
  bool Int64(int64_t i) { return next_ == nullptr || next_->Int64(i); }
  bool Uint64(uint64_t u) { return next_ == nullptr || next_->Uint64(u); }
  bool Double(double d) { return next_ == nullptr || next_->Double(d); }
  bool RawNumber(const char* s, SizeType n, bool copy) { return next_ == nullptr || next_->RawNumber(s, n, copy); }
  bool String(const char* s, SizeType n, bool copy) { return next_ == nullptr || next_->String(s, n, copy); }
  bool Key(const char* s, SizeType n, bool copy) { return next_ == nullptr || next_->Key(s, n, copy); }
  bool StartObject() { return Open() && (next_ == nullptr || next_->StartObject()); }
  bool EndObject(SizeType n) {
    --depth_;
    return next_ == nullptr || next_->EndObject(n);
  }
  bool StartArray() { return Open() && (next_ == nullptr || next_->StartArray()); }
  bool EndArray(SizeType n) {
    --depth_;
    return next_ == nullptr || next_->EndArray(n);
  }

  bool too_deep() const { return too_deep_; }

 private:
  bool Open() {
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  Next* next_;
  size_t max_depth_;
  size_t depth_ = 0;
  bool too_deep_ = false;
};

// One pass of the reader over text with `handler`; fills *check on a syntax error or a NUL byte
// that would end the text early. Returns whether the reader accepted the whole text.
template <typename Handler>
bool Read(std::string_view text, Handler& handler, JsonCheck* check) {
  rapidjson::MemoryStream bytes(text.data(), text.size());
  InputStream in(bytes);
  rapidjson::Reader reader;
  const rapidjson::ParseResult r = reader.Parse<kReadFlags>(in, handler);
  if (r.IsError()) {
    check->outcome = JsonCheck::Outcome::kSyntax;
    check->detail = Position(text, r.Offset()) + ": " + rapidjson::GetParseError_En(r.Code());
    return false;
  }
  if (in.Tell() < text.size()) {  // the reader stops at a NUL byte as if the text ended there
    check->outcome = JsonCheck::Outcome::kSyntax;
    check->detail = Position(text, in.Tell()) + ": a NUL byte after the document";
    return false;
  }
  return true;
}

std::string TypeOf(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return v.IsInt64() || v.IsUint64() ? "integer" : "number";
  }
  return "value";
}

std::string Number(const Value* v) {
  if (v == nullptr || !v->IsNumber()) return "?";
  char buf[64];
  if (v->IsInt64()) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v->GetInt64()));
  } else if (v->IsUint64()) {
    std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v->GetUint64()));
  } else {
    std::snprintf(buf, sizeof buf, "%g", v->GetDouble());
  }
  return buf;
}

const Value* Member(const Value* v, const char* name) {
  if (v == nullptr || !v->IsObject()) return nullptr;
  const auto it = v->FindMember(name);
  return it == v->MemberEnd() ? nullptr : &it->value;
}

// What the schema wanted, in words, for the failing keyword. `node` is the failing schema,
// `value` the failing part of the document when it could be read (else nullptr).
std::string Explain(std::string_view keyword, const Value* node, const Value* value) {
  auto bound = [&](const char* name) { return Number(Member(node, name)); };
  auto flag = [&](const char* name) {
    const Value* f = Member(node, name);
    return f != nullptr && f->IsBool() && f->GetBool();
  };
  if (keyword == "type") {
    std::string want;
    if (const Value* t = Member(node, "type")) {
      if (t->IsString()) want = t->GetString();
      if (t->IsArray()) {
        for (SizeType i = 0; i < t->Size(); ++i) {
          if (!(*t)[i].IsString()) continue;
          if (!want.empty()) want += " or ";
          want += (*t)[i].GetString();
        }
      }
    }
    return "want " + (want.empty() ? std::string("another type") : want) +
           (value != nullptr ? ", got " + TypeOf(*value) : std::string());
  }
  if (keyword == "required") {
    std::string missing;
    const Value* req = Member(node, "required");
    if (req != nullptr && req->IsArray() && value != nullptr && value->IsObject()) {
      size_t listed = 0;
      for (SizeType i = 0; i < req->Size(); ++i) {
        if (!(*req)[i].IsString() || value->HasMember((*req)[i])) continue;
        if (++listed > 5) {
          missing += ", ...";
          break;
        }
        if (!missing.empty()) missing += ", ";
        missing += "\"" + Printable((*req)[i].GetString()) + "\"";
      }
    }
    return missing.empty() ? "a required member is missing" : "missing required " + missing;
  }
  if (keyword == "enum") {
    const Value* e = Member(node, "enum");
    return "not one of the " + std::to_string(e != nullptr && e->IsArray() ? e->Size() : 0) + " allowed values";
  }
  if (keyword == "minimum") return std::string("want ") + (flag("exclusiveMinimum") ? "> " : ">= ") + bound("minimum");
  if (keyword == "maximum") return std::string("want ") + (flag("exclusiveMaximum") ? "< " : "<= ") + bound("maximum");
  if (keyword == "multipleOf") return "want a multiple of " + bound("multipleOf");
  if (keyword == "minLength") return "want at least " + bound("minLength") + " characters";
  if (keyword == "maxLength") return "want at most " + bound("maxLength") + " characters";
  if (keyword == "pattern") {
    const Value* p = Member(node, "pattern");
    return "does not match the pattern" +
           (p != nullptr && p->IsString() ? " " + Printable(p->GetString()) : std::string());
  }
  if (keyword == "minItems") return "want at least " + bound("minItems") + " items";
  if (keyword == "maxItems") return "want at most " + bound("maxItems") + " items";
  if (keyword == "uniqueItems") return "items repeat, the schema wants them unique";
  if (keyword == "additionalItems" || keyword == "items") return "more items than the schema allows (additionalItems)";
  if (keyword == "minProperties") return "want at least " + bound("minProperties") + " members";
  if (keyword == "maxProperties") return "want at most " + bound("maxProperties") + " members";
  if (keyword == "additionalProperties") return "a member the schema does not allow (additionalProperties)";
  if (keyword == "dependencies") return "a member's dependency is not met";
  if (keyword == "patternProperties") return "fails the schema of a patternProperties pattern its name matches";
  if (keyword == "allOf") return "does not match every schema of allOf";
  if (keyword == "anyOf") return "matches none of the schemas of anyOf";
  if (keyword == "oneOf") return "matches none, or more than one, of the schemas of oneOf";
  if (keyword == "not") return "matches the schema under not";
  return "fails the schema";
}

template <typename Pointer>
std::string Stringify(const Pointer& p) {
  rapidjson::StringBuffer sb;
  p.Stringify(sb);
  return std::string(sb.GetString(), sb.GetSize());
}

// ---- Compiling a schema. ----

// Rewrites \d \w \s (and their negations outside [...]) into classes the engine knows.
Result<std::string> TranslatePattern(std::string_view p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[++i];
      const char* cls = nullptr;
      bool negated = false;
      switch (e) {
        case 'd':
        case 'D':
          cls = "0-9";
          break;
        case 'w':
        case 'W':
          cls = "A-Za-z0-9_";
          break;
        case 's':
        case 'S':
          cls = " \\t\\n\\r\\f\\v";
          break;
        default:
          break;
      }
      negated = e == 'D' || e == 'W' || e == 'S';
      if (cls == nullptr) {
        out += '\\';
        out += e;
      } else if (in_class) {
        if (negated) return InvalidArgument(std::string("\\") + e + " inside [...] is not supported");
        out += cls;
      } else {
        out += negated ? "[^" : "[";
        out += cls;
        out += ']';
      }
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  // A bound on the engine's states: every repetition count multiplies.
  double states = static_cast<double>(out.size()) + 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] != '{' || (i > 0 && out[i - 1] == '\\')) continue;
    double largest = 0;
    double n = 0;
    for (size_t j = i + 1; j < out.size() && out[j] != '}'; ++j) {
      if (out[j] >= '0' && out[j] <= '9') {
        n = n * 10 + (out[j] - '0');
        largest = std::max(largest, n);
      } else {
        n = 0;
      }
      if (largest > kMaxPatternStates) break;
    }
    states *= std::max(1.0, largest);
    if (states > kMaxPatternStates) return InvalidArgument("repetition counts too large for the validator");
  }
  rapidjson::internal::GenericRegex<rapidjson::UTF8<>> re(out.c_str());
  if (!re.IsValid() || out.find('\0') != std::string::npos) {
    return InvalidArgument("not a pattern the validator can run (supported: literals, ., [...], [^...], groups, "
                           "|, ?, *, +, {n,m}, ^, $, \\d \\w \\s)");
  }
  return out;
}

// Checks and rewrites every schema of a document: the walk visits schema positions only (not
// "enum" or "default" values), reached from the root, from containers ("definitions",
// "$defs") and from "$ref".
class SchemaChecker {
 public:
  explicit SchemaChecker(rapidjson::Document* doc) : doc_(doc), alloc_(doc->GetAllocator()) {}

  Status Run() {
    if (!doc_->IsObject()) return InvalidArgument("a schema is a JSON object");
    queue_.push_back({doc_, ""});
    while (!queue_.empty()) {
      auto [v, where] = queue_.front();
      queue_.pop_front();
      TYTO_RETURN_IF_ERROR(Schema(*v, where, 0));
    }
    return Cycles();
  }

 private:
  static Status Error(const std::string& where, std::string_view what) {
    return InvalidArgument("at " + (where.empty() ? std::string("the root") : where) + ": " + std::string(what));
  }

  static std::string Escape(std::string_view token) {
    std::string out;
    for (char c : token) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    return out;
  }

  Status Schema(Value& v, const std::string& where, size_t depth) {
    if (!v.IsObject()) return Error(where, "a schema is a JSON object");
    if (!visited_.emplace(&v, where).second) return Status::Ok();
    order_.push_back(&v);
    if (depth > kMaxSchemaDepth) return Error(where, "nested too deeply");

    static constexpr std::string_view kLater[] = {
        "if",          "then",        "else",        "contains",        "propertyNames", "prefixItems",
        "dependentRequired", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems", "minContains",
        "maxContains", "$anchor",     "$dynamicRef", "$dynamicAnchor",  "$recursiveRef", "$recursiveAnchor"};
    // "const" is "enum" with one value: renamed and wrapped where it stands, so that no other
    // value of the document moves (the walk holds pointers to them).
    if (v.HasMember("const")) {
      if (v.HasMember("enum")) return Error(where, "both const and enum");
      for (SizeType i = 0; i < v.MemberCount(); ++i) {
        auto& m = v.MemberBegin()[i];
        if (std::string_view(m.name.GetString(), m.name.GetStringLength()) != "const") continue;
        Value one(rapidjson::kArrayType);
        one.PushBack(m.value, alloc_);  // moves the value into the array
        m.value = one;
        m.name.SetString("enum", alloc_);
      }
    }
    for (SizeType i = 0; i < v.MemberCount(); ++i) {
      auto& m = v.MemberBegin()[i];
      const std::string_view key(m.name.GetString(), m.name.GetStringLength());
      const std::string at = where + "/" + Escape(key);
      Value& x = m.value;
      for (std::string_view later : kLater) {
        if (key == later) {
          return Error(at, "\"" + std::string(key) + "\" is from a later JSON Schema draft; the validator implements "
                                                      "draft 4");
        }
      }
      if (key == "$ref") {
        TYTO_RETURN_IF_ERROR(Ref(v, x, at));
      } else if (key == "type") {
        TYTO_RETURN_IF_ERROR(Type(x, at));
      } else if (key == "properties" || key == "definitions" || key == "$defs" || key == "patternProperties") {
        if (!x.IsObject()) return Error(at, "want an object of schemas");
        for (SizeType k = 0; k < x.MemberCount(); ++k) {
          auto& p = x.MemberBegin()[k];
          const std::string_view name(p.name.GetString(), p.name.GetStringLength());
          const std::string at_p = at + "/" + Escape(name);
          if (key == "patternProperties") {
            auto translated = TranslatePattern(name);
            if (!translated.ok()) return Error(at_p, translated.status().message());
            if (*translated != name) p.name.SetString(translated->data(), static_cast<SizeType>(translated->size()), alloc_);
          }
          TYTO_RETURN_IF_ERROR(Schema(p.value, at_p, depth + 1));
        }
      } else if (key == "additionalProperties" || key == "additionalItems") {
        if (x.IsObject()) {
          TYTO_RETURN_IF_ERROR(Schema(x, at, depth + 1));
        } else if (!x.IsBool()) {
          return Error(at, "want true, false or a schema");
        }
      } else if (key == "items") {
        if (x.IsObject()) {
          TYTO_RETURN_IF_ERROR(Schema(x, at, depth + 1));
        } else if (x.IsArray()) {
          for (SizeType k = 0; k < x.Size(); ++k) {
            TYTO_RETURN_IF_ERROR(Schema(x[k], at + "/" + std::to_string(k), depth + 1));
          }
        } else {
          return Error(at, "want a schema or an array of schemas");
        }
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf") {
        if (!x.IsArray() || x.Empty()) return Error(at, "want a non-empty array of schemas");
        for (SizeType k = 0; k < x.Size(); ++k) {
          TYTO_RETURN_IF_ERROR(Schema(x[k], at + "/" + std::to_string(k), depth + 1));
          edges_.push_back({&v, &x[k]});
        }
      } else if (key == "not") {
        TYTO_RETURN_IF_ERROR(Schema(x, at, depth + 1));
        edges_.push_back({&v, &x});
      } else if (key == "dependencies") {
        if (!x.IsObject()) return Error(at, "want an object");
        for (SizeType k = 0; k < x.MemberCount(); ++k) {
          auto& d = x.MemberBegin()[k];
          const std::string at_d = at + "/" + Escape(std::string_view(d.name.GetString(), d.name.GetStringLength()));
          if (d.value.IsObject()) {
            TYTO_RETURN_IF_ERROR(Schema(d.value, at_d, depth + 1));
            edges_.push_back({&v, &d.value});
          } else if (d.value.IsArray()) {
            for (SizeType j = 0; j < d.value.Size(); ++j) {
              if (!d.value[j].IsString()) return Error(at_d, "want a schema or an array of member names");
            }
          } else {
            return Error(at_d, "want a schema or an array of member names");
          }
        }
      } else if (key == "required") {
        if (!x.IsArray()) return Error(at, "want an array of member names");
        for (SizeType k = 0; k < x.Size(); ++k) {
          if (!x[k].IsString()) return Error(at, "want an array of member names");
        }
      } else if (key == "enum") {
        if (!x.IsArray() || x.Empty()) return Error(at, "want a non-empty array");
      } else if (key == "minimum" || key == "maximum") {
        if (!x.IsNumber()) return Error(at, "want a number");
      } else if (key == "multipleOf") {
        if (!x.IsNumber() || !(x.GetDouble() > 0)) return Error(at, "want a number above 0");
      } else if (key == "exclusiveMinimum" || key == "exclusiveMaximum") {
        if (!x.IsBool()) return Error(at, "want true or false (draft 4; a number here is draft 6 and later)");
      } else if (key == "minLength" || key == "maxLength" || key == "minItems" || key == "maxItems" ||
                 key == "minProperties" || key == "maxProperties") {
        if (!x.IsUint64() || x.GetUint64() > 0xFFFFFFFFu) return Error(at, "want a non-negative integer");
      } else if (key == "uniqueItems") {
        if (!x.IsBool()) return Error(at, "want true or false");
      } else if (key == "pattern") {
        if (!x.IsString()) return Error(at, "want a string");
        auto translated = TranslatePattern(std::string_view(x.GetString(), x.GetStringLength()));
        if (!translated.ok()) return Error(at, translated.status().message());
        x.SetString(translated->data(), static_cast<SizeType>(translated->size()), alloc_);
      } else if (key == "format") {
        if (!x.IsString()) return Error(at, "want a string");
      }
    }
    // RapidJSON 1.1.0 mishandles patternProperties beside additionalProperties: with `false` a
    // member that matches a pattern leaves the validator without a schema for its value (its
    // stack breaks); with a schema, a value passes when either the pattern's schema or the
    // additional one accepts it. `false` is rewritten to the schema that accepts nothing,
    // which takes the path that works; a schema is refused.
    if (v.HasMember("patternProperties") && v.HasMember("additionalProperties")) {
      Value& additional = v["additionalProperties"];
      if (additional.IsObject()) {
        return Error(where + "/additionalProperties",
                     "a schema beside patternProperties is not supported by the validator (use true or false)");
      }
      if (additional.IsBool() && !additional.GetBool()) {
        additional.SetObject();
        additional.AddMember("not", Value(rapidjson::kObjectType), alloc_);
      }
    }
    return Status::Ok();
  }

  Status Ref(Value& owner, Value& ref, const std::string& at) {
    if (!ref.IsString()) return Error(at, "want a string");
    std::string r(ref.GetString(), ref.GetStringLength());
    if (r.empty() || r[0] != '#') {
      return Error(at, "only references inside the schema (\"#\", \"#/definitions/...\") are supported");
    }
    // RapidJSON reads the fragment strictly as a URI: a character outside [A-Za-z0-9-._~/] (the
    // $ of "#/$defs/x") must be percent-encoded, or the reference is silently ignored. Encode
    // them here, for the validator and for the check below alike.
    std::string encoded = "#";
    for (size_t i = 1; i < r.size(); ++i) {
      const auto c = static_cast<unsigned char>(r[i]);
      const bool plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
                         c == '.' || c == '_' || c == '~' || c == '/';
      const bool escape = c == '%' && i + 2 < r.size() && std::isxdigit(static_cast<unsigned char>(r[i + 1])) &&
                          std::isxdigit(static_cast<unsigned char>(r[i + 2]));
      if (plain || escape) {
        encoded += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        encoded += buf;
      }
    }
    if (encoded != r) {
      ref.SetString(encoded.data(), static_cast<SizeType>(encoded.size()), alloc_);
      r = encoded;
    }
    rapidjson::Pointer pointer(r.data(), r.size());
    if (!pointer.IsValid()) return Error(at, "not a JSON pointer after #");
    Value* target = pointer.Get(*doc_);
    if (target == nullptr) return Error(at, "refers to nothing in the schema");
    if (!target->IsObject()) return Error(at, "refers to something that is not a schema");
    edges_.push_back({&owner, target});
    queue_.push_back({target, Stringify(pointer)});
    return Status::Ok();
  }

  static Status Type(const Value& t, const std::string& at) {
    static constexpr std::string_view kTypes[] = {"null", "boolean", "object", "array", "number", "integer", "string"};
    auto known = [](const Value& s) {
      if (!s.IsString()) return false;
      const std::string_view name(s.GetString(), s.GetStringLength());
      return std::find(std::begin(kTypes), std::end(kTypes), name) != std::end(kTypes);
    };
    if (t.IsString() && known(t)) return Status::Ok();
    if (t.IsArray() && !t.Empty()) {
      bool ok = true;
      for (SizeType i = 0; i < t.Size(); ++i) ok = ok && known(t[i]);
      if (ok) return Status::Ok();
    }
    return Error(at, "want null, boolean, object, array, number, integer or string, or an array of them");
  }

  // A schema reachable from itself through allOf/anyOf/oneOf/not/dependencies/$ref applies to
  // the same part of the document forever: the validator would never stop.
  Status Cycles() {
    std::map<const Value*, std::vector<const Value*>> out;
    for (const auto& [from, to] : edges_) out[from].push_back(to);
    std::map<const Value*, int> color;  // 0 new, 1 on the path, 2 done
    // Starting from the schemas in the order the walk met them (not by address), so that the
    // schema named is the same on every run.
    for (const Value* start : order_) {
      if (color[start] != 0 || out.count(start) == 0) continue;
      std::vector<std::pair<const Value*, size_t>> stack = {{start, 0}};
      color[start] = 1;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        const auto it = out.find(node);
        if (it == out.end() || next >= it->second.size()) {
          color[node] = 2;
          stack.pop_back();
          continue;
        }
        const Value* child = it->second[next++];
        if (color[child] == 1) {
          const auto w = visited_.find(const_cast<Value*>(child));
          const std::string where = w == visited_.end() ? std::string() : w->second;
          return Error(where, "refers back to itself through allOf, anyOf, oneOf, not, dependencies or $ref "
                              "without reading further into the document");
        }
        if (color[child] == 0) {
          color[child] = 1;
          stack.push_back({child, 0});
        }
      }
    }
    return Status::Ok();
  }

  rapidjson::Document* doc_;
  rapidjson::Document::AllocatorType& alloc_;
  std::deque<std::pair<Value*, std::string>> queue_;
  std::map<Value*, std::string> visited_;  // schema -> where it is
  std::vector<const Value*> order_;         // schemas in the order the walk met them
  std::vector<std::pair<const Value*, const Value*>> edges_;
};

}  // namespace

Result<std::shared_ptr<const JsonSchema>> JsonSchema::Compile(std::string_view text) {
  if (text.size() > kMaxSchemaBytes) return InvalidArgument("larger than 1 MiB");
  JsonCheck check;
  DepthLimited<rapidjson::SchemaValidator> depth(nullptr, kMaxSchemaDepth);
  if (!Read(text, depth, &check)) {
    if (depth.too_deep()) return InvalidArgument("nested deeper than 64 levels");
    return InvalidArgument("not JSON: " + check.detail);
  }
  std::shared_ptr<JsonSchema> schema(new JsonSchema());
  schema->impl_ = std::make_unique<Impl>();
  rapidjson::Document& doc = schema->impl_->document;
  doc.Parse<kReadFlags>(text.data(), text.size());
  if (doc.HasParseError()) return InvalidArgument("not JSON");  // the pass above accepted it: not expected
  SchemaChecker checker(&doc);
  TYTO_RETURN_IF_ERROR(checker.Run());
  schema->impl_->schema = std::make_unique<rapidjson::SchemaDocument>(doc);
  return std::shared_ptr<const JsonSchema>(std::move(schema));
}

JsonCheck CheckJson(std::string_view text, const JsonSchema* schema, size_t max_depth) {
  JsonCheck check;
  if (schema == nullptr) {
    DepthLimited<rapidjson::SchemaValidator> handler(nullptr, max_depth);
    if (!Read(text, handler, &check) && handler.too_deep()) {
      check.outcome = JsonCheck::Outcome::kTooDeep;
      check.detail = "nested deeper than " + std::to_string(max_depth) + " levels";
    }
    return check;
  }
  rapidjson::SchemaValidator validator(*schema->impl().schema);
  DepthLimited<rapidjson::SchemaValidator> handler(&validator, max_depth);
  Read(text, handler, &check);  // a syntax error fills check; a schema error is read below
  if (handler.too_deep()) {
    check.outcome = JsonCheck::Outcome::kTooDeep;
    check.detail = "nested deeper than " + std::to_string(max_depth) + " levels";
    return check;
  }
  if (validator.IsValid()) return check;  // valid, or a syntax error Read described

  std::string schema_at = Stringify(validator.GetInvalidSchemaPointer());
  const std::string doc_at = Stringify(validator.GetInvalidDocumentPointer());
  std::string keyword = validator.GetInvalidSchemaKeyword() == nullptr ? "" : validator.GetInvalidSchemaKeyword();
  // The "accepts nothing" schema that stands for additionalProperties: false beside
  // patternProperties (SchemaChecker): report it as what the schema's author wrote.
  constexpr std::string_view kAdditional = "/additionalProperties";
  if (keyword == "not" && schema_at.size() >= kAdditional.size() &&
      std::string_view(schema_at).substr(schema_at.size() - kAdditional.size()) == kAdditional) {
    keyword = "additionalProperties";
    schema_at.resize(schema_at.size() - kAdditional.size());
  }
  // The failing part of the document, read again as a tree when the whole text is well-formed
  // and within the depth limit (so that building and freeing the tree stays shallow).
  rapidjson::Document doc;
  const Value* value = nullptr;
  JsonCheck whole;
  DepthLimited<rapidjson::SchemaValidator> depth_only(nullptr, max_depth);
  if (Read(text, depth_only, &whole)) {
    doc.Parse<kReadFlags>(text.data(), text.size());
    if (!doc.HasParseError()) value = rapidjson::Pointer(doc_at.data(), doc_at.size()).Get(doc);
  }
  const Value* node = rapidjson::Pointer(schema_at.data(), schema_at.size()).Get(schema->impl().document);
  check.outcome = JsonCheck::Outcome::kSchema;
  check.detail = "at " + (doc_at.empty() ? std::string("the root") : Printable(doc_at)) + ": fails \"" + keyword +
                 "\" (schema " + (schema_at.empty() ? std::string("root") : Printable(schema_at)) + "): " +
                 Explain(keyword, node, value);
  return check;
}

}  // namespace tyto::evaluate
