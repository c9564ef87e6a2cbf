// How the event store writes the parts of a record that are not plain columns: ids as bytes,
// attribute lists (with keys numbered by a per-partition dictionary), span events, features,
// lists of strings, and the terms of its full-text indexes. Byte layouts:
// docs/format/eventstore.md ("Blob encodings", "Index terms"). Decoders check every length
// against the blob's end and return kCorruption, never reading past it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "events/model.h"
#include "tyto/status.h"

namespace tyto::eventstore {

// Hex ids (either case) to bytes: `hex` must be 2 * `bytes` hex digits and not all zero (OTLP
// and W3C call an all-zero id invalid). Returns false otherwise, leaving *out unspecified.
bool DecodeHexId(std::string_view hex, size_t bytes, std::string* out);
// Bytes to lowercase hex.
std::string HexId(std::string_view bytes);
// The value of one hex digit (either case), or -1 for any other character.
int HexValue(char c);
// An optional id of a log or an event decoded as DecodeHexId does: empty (and not refused) when
// `hex` is empty or malformed.
std::string OptionalHexId(std::string_view hex, size_t bytes);
// An id as messages show it: at most its first 32 characters.
std::string ShownId(std::string_view id);

// The model a span is about: gen_ai.request.model, else gen_ai.response.model, else empty.
std::string_view SpanModel(const events::Span& span);

// FNV-1a, 64 bits, over key, one 0x00 byte, value: the hash in an attribute's index term.
uint64_t AttributeHash(std::string_view key, std::string_view value);

// Index terms (one word each for FTS5's ascii tokenizer, separated by spaces):
//   t<32 hex digits>   a trace id
//   a<16 hex digits>   an attribute, AttributeHash(key, value)
//   r<decimal>         a resource (its id in the partition's resources table)
void AppendTraceTerm(std::string* terms, std::string_view trace_id_bytes);
void AppendAttributeTerm(std::string* terms, std::string_view key, std::string_view value);
void AppendResourceTerm(std::string* terms, int64_t resource_id);

// Maps a key to its number in the partition's dictionary (adding it when new).
using KeyIdFn = std::function<uint64_t(std::string_view key)>;
// Maps a number back to its key; null when the dictionary has no such number (damage).
using KeyNameFn = std::function<const std::string*(uint64_t id)>;

// Attribute lists: varint count, then per attribute varint key id, varint length, value bytes.
void EncodeAttributes(const std::vector<events::Attribute>& attrs, const KeyIdFn& key_id, std::string* out);
Status DecodeAttributes(std::string_view blob, const KeyNameFn& key_name, std::vector<events::Attribute>* out);

// Span events: varint count, then per event 8-byte little-endian time (Unix ns), varint length
// and name, and its attributes as above.
void EncodeSpanEvents(const std::vector<events::SpanEvent>& events, const KeyIdFn& key_id, std::string* out);
Status DecodeSpanEvents(std::string_view blob, const KeyNameFn& key_name, std::vector<events::SpanEvent>* out);

// Lists of strings (finish reasons): varint count, then varint length and bytes each.
void EncodeStrings(const std::vector<std::string>& strings, std::string* out);
Status DecodeStrings(std::string_view blob, std::vector<std::string>* out);

// Features and predictions: varint count, then per field varint length and name, one byte
// (1 number, 0 text), then 8-byte little-endian IEEE 754 double or varint length and text.
void EncodeFields(const std::vector<events::Field>& fields, std::string* out);
Status DecodeFields(std::string_view blob, std::vector<events::Field>* out);

// A pipeline stage's output fields: varint count, then per field varint length and name,
// varint length and type.
void EncodeFieldTypes(const std::vector<events::PipelineStageEvent::FieldType>& fields, std::string* out);
Status DecodeFieldTypes(std::string_view blob, std::vector<events::PipelineStageEvent::FieldType>* out);

// Unix nanoseconds to milliseconds, rounding down (also before 1970).
inline int64_t NanosToMillis(int64_t ns) { return ns >= 0 ? ns / 1'000'000 : -((-(ns + 1)) / 1'000'000) - 1; }

}  // namespace tyto::eventstore
