// Sensitive data at rest in the event store (docs/security.md, "Encryption at rest"; layout in
// docs/format/eventstore.md, "Encrypted values"): with a crypto::FieldEncryption (a key file is
// configured), inference events' prompt and response and the values of sensitive span, span
// event and log attributes are stored as AES-256-GCM envelopes, and the index terms of sensitive
// attributes are keyed hashes, so no byte of a partition file holds their text. Queries decrypt
// on read. A null FieldEncryption (no key file) writes everything as given.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/field_encryption.h"
#include "eventstore/telemetry_store.h"
#include "events/model.h"
#include "tyto/status.h"

namespace tyto::eventstore {

// The associated data of the two columns (an attribute's is its key).
inline constexpr std::string_view kPromptContext = "inference_events.prompt";
inline constexpr std::string_view kResponseContext = "inference_events.response";

// Copies of the record with their sensitive values sealed, in *sealed; nothing (nullopt) when the
// record has none or `encryption` is null. A value that looks like an envelope is sealed too,
// whatever its key, so that reading never mistakes text for an envelope.
Status SealSpan(const crypto::FieldEncryption* encryption, const events::Span& span,
                std::optional<events::Span>* sealed);
Status SealLog(const crypto::FieldEncryption* encryption, const events::LogRecord& log,
               std::optional<events::LogRecord>* sealed);
Status SealInferenceEvent(const crypto::FieldEncryption* encryption, const events::InferenceEvent& event,
                          std::optional<events::InferenceEvent>* sealed);

// Decrypts, in place, every value that is an envelope (crypto::OpenStored; the key is the context).
Status OpenAttributes(const crypto::FieldEncryption* encryption, std::vector<events::Attribute>* attrs);
Status OpenSpanEvents(const crypto::FieldEncryption* encryption, std::vector<events::SpanEvent>* events);

// A record's attribute index terms (codec.h's AppendAttributeTerm), with the term of a sensitive
// attribute made of FieldEncryption::IndexHash under the current key instead of FNV-1a.
void AppendAttributeTerms(const crypto::FieldEncryption* encryption, const std::vector<events::Attribute>& attrs,
                          std::string* terms);

// The terms an attribute filter key=value may be stored under, joined by " OR ": the plain term,
// and for a sensitive key the keyed term under every key of the keyring. Returns how many.
size_t AppendFilterAttributeTerms(const crypto::FieldEncryption* encryption, std::string_view key,
                                  std::string_view value, std::string* terms);

// For a store that compares attribute values itself (ClickHouse's SQL sees only envelopes):
// kInvalidArgument naming the key when a filter is on a sensitive attribute.
Status RefuseSensitiveFilters(const crypto::FieldEncryption* encryption, const std::vector<AttributeFilter>& filters);

}  // namespace tyto::eventstore
