#include "eventstore/codec.h"

#include <bit>
#include <cstring>

#include "common/coding.h"

namespace tyto::eventstore {

namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendHex(std::string* out, std::string_view bytes) {
  for (char c : bytes) {
    auto b = static_cast<uint8_t>(c);
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 0xf]);
  }
}

void AppendHex64(std::string* out, uint64_t v) {
  char b[16];
  for (int i = 15; i >= 0; --i) {
    b[i] = kHex[v & 0xf];
    v >>= 4;
  }
  out->append(b, 16);
}

Status Damaged(std::string_view what) { return Corruption("event store: damaged " + std::string(what) + " blob"); }

// A cursor over a blob whose reads fail (return false) at its end instead of reading past it.
class Reader {
 public:
  explicit Reader(std::string_view blob) : p_(blob.data()), end_(blob.data() + blob.size()) {}
  bool Varint(uint64_t* v) { return Ok(coding::GetVarint64(p_, end_, v)); }
  bool Bytes(std::string_view* s) { return Ok(coding::GetLengthPrefixed(p_, end_, s)); }
  bool Fixed64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    *v = coding::DecodeFixed64(p_);
    p_ += 8;
    return true;
  }
  bool Byte(uint8_t* b) {
    if (p_ >= end_) return false;
    *b = static_cast<uint8_t>(*p_++);
    return true;
  }
  // A count of items each at least `min_item_bytes` long, checked against what is left so a
  // damaged count cannot make the caller reserve gigabytes.
  bool Count(uint64_t* n, size_t min_item_bytes) {
    return Varint(n) && *n <= static_cast<uint64_t>(end_ - p_) / min_item_bytes;
  }
  bool AtEnd() const { return p_ == end_; }

 private:
  bool Ok(const char* next) {
    if (next == nullptr) return false;
    p_ = next;
    return true;
  }
  const char* p_;
  const char* end_;
};

bool ReadAttributes(Reader& r, const KeyNameFn& key_name, std::vector<events::Attribute>* out) {
  uint64_t n = 0;
  if (!r.Count(&n, 2)) return false;
  out->clear();
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t id = 0;
    std::string_view value;
    if (!r.Varint(&id) || !r.Bytes(&value)) return false;
    const std::string* key = key_name(id);
    if (key == nullptr) return false;
    out->push_back({*key, std::string(value)});
  }
  return true;
}

void WriteAttributes(const std::vector<events::Attribute>& attrs, const KeyIdFn& key_id, std::string* out) {
  coding::PutVarint64(out, attrs.size());
  for (const events::Attribute& a : attrs) {
    coding::PutVarint64(out, key_id(a.key));
    coding::PutLengthPrefixed(out, a.value);
  }
}

}  // namespace

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool DecodeHexId(std::string_view hex, size_t bytes, std::string* out) {
  if (hex.size() != 2 * bytes) return false;
  out->resize(bytes);
  bool nonzero = false;
  for (size_t i = 0; i < bytes; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<char>(hi << 4 | lo);
    nonzero |= (hi | lo) != 0;
  }
  return nonzero;
}

std::string OptionalHexId(std::string_view hex, size_t bytes) {
  std::string out;
  if (hex.empty() || !DecodeHexId(hex, bytes, &out)) out.clear();
  return out;
}

std::string ShownId(std::string_view id) { return std::string(id.substr(0, 32)); }

std::string HexId(std::string_view bytes) {
  std::string s;
  s.reserve(2 * bytes.size());
  AppendHex(&s, bytes);
  return s;
}

std::string_view SpanModel(const events::Span& span) {
  if (const std::string* m = events::FindAttribute(span.attributes, "gen_ai.request.model"); m && !m->empty()) {
    return *m;
  }
  if (const std::string* m = events::FindAttribute(span.attributes, "gen_ai.response.model"); m && !m->empty()) {
    return *m;
  }
  return {};
}

uint64_t AttributeHash(std::string_view key, std::string_view value) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
  };
  mix(key);
  h *= 0x100000001b3ull;  // the 0x00 separator: h ^= 0 is a no-op
  mix(value);
  return h;
}

void AppendTraceTerm(std::string* terms, std::string_view trace_id_bytes) {
  if (!terms->empty()) terms->push_back(' ');
  terms->push_back('t');
  AppendHex(terms, trace_id_bytes);
}

void AppendAttributeTerm(std::string* terms, std::string_view key, std::string_view value) {
  if (!terms->empty()) terms->push_back(' ');
  terms->push_back('a');
  AppendHex64(terms, AttributeHash(key, value));
}

void AppendResourceTerm(std::string* terms, int64_t resource_id) {
  if (!terms->empty()) terms->push_back(' ');
  terms->push_back('r');
  terms->append(std::to_string(resource_id));
}

void EncodeAttributes(const std::vector<events::Attribute>& attrs, const KeyIdFn& key_id, std::string* out) {
  out->clear();
  WriteAttributes(attrs, key_id, out);
}

Status DecodeAttributes(std::string_view blob, const KeyNameFn& key_name, std::vector<events::Attribute>* out) {
  Reader r(blob);
  if (!ReadAttributes(r, key_name, out) || !r.AtEnd()) return Damaged("attributes");
  return Status::Ok();
}

void EncodeSpanEvents(const std::vector<events::SpanEvent>& events, const KeyIdFn& key_id, std::string* out) {
  out->clear();
  coding::PutVarint64(out, events.size());
  for (const events::SpanEvent& e : events) {
    coding::PutFixed64(out, static_cast<uint64_t>(e.time_unix_nano));
    coding::PutLengthPrefixed(out, e.name);
    WriteAttributes(e.attributes, key_id, out);
  }
}

Status DecodeSpanEvents(std::string_view blob, const KeyNameFn& key_name, std::vector<events::SpanEvent>* out) {
  out->clear();
  if (blob.empty()) return Status::Ok();
  Reader r(blob);
  uint64_t n = 0;
  if (!r.Count(&n, 10)) return Damaged("span events");
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    events::SpanEvent e;
    uint64_t t = 0;
    std::string_view name;
    if (!r.Fixed64(&t) || !r.Bytes(&name) || !ReadAttributes(r, key_name, &e.attributes)) {
      return Damaged("span events");
    }
    e.time_unix_nano = static_cast<int64_t>(t);
    e.name = std::string(name);
    out->push_back(std::move(e));
  }
  if (!r.AtEnd()) return Damaged("span events");
  return Status::Ok();
}

void EncodeStrings(const std::vector<std::string>& strings, std::string* out) {
  out->clear();
  coding::PutVarint64(out, strings.size());
  for (const std::string& s : strings) coding::PutLengthPrefixed(out, s);
}

Status DecodeStrings(std::string_view blob, std::vector<std::string>* out) {
  out->clear();
  if (blob.empty()) return Status::Ok();
  Reader r(blob);
  uint64_t n = 0;
  if (!r.Count(&n, 1)) return Damaged("string list");
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s;
    if (!r.Bytes(&s)) return Damaged("string list");
    out->emplace_back(s);
  }
  if (!r.AtEnd()) return Damaged("string list");
  return Status::Ok();
}

void EncodeFields(const std::vector<events::Field>& fields, std::string* out) {
  out->clear();
  coding::PutVarint64(out, fields.size());
  for (const events::Field& f : fields) {
    coding::PutLengthPrefixed(out, f.name);
    out->push_back(f.is_number ? 1 : 0);
    if (f.is_number) {
      coding::PutFixed64(out, std::bit_cast<uint64_t>(f.number));
    } else {
      coding::PutLengthPrefixed(out, f.text);
    }
  }
}

Status DecodeFields(std::string_view blob, std::vector<events::Field>* out) {
  out->clear();
  if (blob.empty()) return Status::Ok();
  Reader r(blob);
  uint64_t n = 0;
  if (!r.Count(&n, 3)) return Damaged("fields");
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    events::Field f;
    std::string_view name;
    uint8_t kind = 0;
    if (!r.Bytes(&name) || !r.Byte(&kind) || kind > 1) return Damaged("fields");
    f.name = std::string(name);
    f.is_number = kind == 1;
    if (f.is_number) {
      uint64_t bits = 0;
      if (!r.Fixed64(&bits)) return Damaged("fields");
      f.number = std::bit_cast<double>(bits);
    } else {
      std::string_view text;
      if (!r.Bytes(&text)) return Damaged("fields");
      f.text = std::string(text);
    }
    out->push_back(std::move(f));
  }
  if (!r.AtEnd()) return Damaged("fields");
  return Status::Ok();
}

void EncodeFieldTypes(const std::vector<events::PipelineStageEvent::FieldType>& fields, std::string* out) {
  out->clear();
  coding::PutVarint64(out, fields.size());
  for (const auto& f : fields) {
    coding::PutLengthPrefixed(out, f.name);
    coding::PutLengthPrefixed(out, f.type);
  }
}

Status DecodeFieldTypes(std::string_view blob, std::vector<events::PipelineStageEvent::FieldType>* out) {
  out->clear();
  if (blob.empty()) return Status::Ok();
  Reader r(blob);
  uint64_t n = 0;
  if (!r.Count(&n, 2)) return Damaged("field types");
  out->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    std::string_view type;
    if (!r.Bytes(&name) || !r.Bytes(&type)) return Damaged("field types");
    out->push_back({std::string(name), std::string(type)});
  }
  if (!r.AtEnd()) return Damaged("field types");
  return Status::Ok();
}

}  // namespace tyto::eventstore
