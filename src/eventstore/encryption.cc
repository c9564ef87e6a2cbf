#include "eventstore/encryption.h"

#include "crypto/envelope.h"
#include "eventstore/codec.h"

namespace tyto::eventstore {
namespace {

bool MustSeal(const crypto::FieldEncryption& enc, const events::Attribute& a) {
  return enc.IsSensitive(a.key) || crypto::IsEnvelope(a.value);
}

bool AnyToSeal(const crypto::FieldEncryption& enc, const std::vector<events::Attribute>& attrs) {
  for (const events::Attribute& a : attrs) {
    if (MustSeal(enc, a)) return true;
  }
  return false;
}

Status SealInPlace(const crypto::FieldEncryption& enc, std::vector<events::Attribute>* attrs) {
  for (events::Attribute& a : *attrs) {
    if (!MustSeal(enc, a)) continue;
    TYTO_ASSIGN_OR_RETURN(a.value, enc.Seal(a.value, a.key));
  }
  return Status::Ok();
}

void AppendKeyedTerm(std::string* terms, const crypto::Key& key, std::string_view attr_key, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (!terms->empty()) terms->push_back(' ');
  terms->push_back('a');
  const uint64_t h = crypto::FieldEncryption::IndexHash(key, attr_key, value);
  for (int shift = 60; shift >= 0; shift -= 4) terms->push_back(kHex[(h >> shift) & 15]);
}

}  // namespace

Status SealSpan(const crypto::FieldEncryption* enc, const events::Span& span, std::optional<events::Span>* sealed) {
  sealed->reset();
  if (enc == nullptr) return Status::Ok();
  bool any = AnyToSeal(*enc, span.attributes);
  for (const events::SpanEvent& e : span.events) any = any || AnyToSeal(*enc, e.attributes);
  if (!any) return Status::Ok();
  sealed->emplace(span);
  TYTO_RETURN_IF_ERROR(SealInPlace(*enc, &(*sealed)->attributes));
  for (events::SpanEvent& e : (*sealed)->events) TYTO_RETURN_IF_ERROR(SealInPlace(*enc, &e.attributes));
  return Status::Ok();
}

Status SealLog(const crypto::FieldEncryption* enc, const events::LogRecord& log,
               std::optional<events::LogRecord>* sealed) {
  sealed->reset();
  if (enc == nullptr || !AnyToSeal(*enc, log.attributes)) return Status::Ok();
  sealed->emplace(log);
  return SealInPlace(*enc, &(*sealed)->attributes);
}

Status SealInferenceEvent(const crypto::FieldEncryption* enc, const events::InferenceEvent& event,
                          std::optional<events::InferenceEvent>* sealed) {
  sealed->reset();
  if (enc == nullptr) return Status::Ok();
  sealed->emplace(event);
  // An empty prompt stays empty: it says only that none was kept.
  if (!event.prompt.empty()) {
    TYTO_ASSIGN_OR_RETURN((*sealed)->prompt, enc->Seal(event.prompt, kPromptContext));
  }
  if (!event.response.empty()) {
    TYTO_ASSIGN_OR_RETURN((*sealed)->response, enc->Seal(event.response, kResponseContext));
  }
  return Status::Ok();
}

Status OpenAttributes(const crypto::FieldEncryption* enc, std::vector<events::Attribute>* attrs) {
  for (events::Attribute& a : *attrs) {
    if (!crypto::IsEnvelope(a.value)) continue;
    TYTO_ASSIGN_OR_RETURN(a.value, crypto::OpenStored(enc, a.value, a.key));
  }
  return Status::Ok();
}

Status OpenSpanEvents(const crypto::FieldEncryption* enc, std::vector<events::SpanEvent>* events) {
  for (events::SpanEvent& e : *events) TYTO_RETURN_IF_ERROR(OpenAttributes(enc, &e.attributes));
  return Status::Ok();
}

void AppendAttributeTerms(const crypto::FieldEncryption* enc, const std::vector<events::Attribute>& attrs,
                          std::string* terms) {
  for (const events::Attribute& a : attrs) {
    if (enc != nullptr && enc->IsSensitive(a.key)) {
      AppendKeyedTerm(terms, enc->keyring().current(), a.key, a.value);
    } else {
      AppendAttributeTerm(terms, a.key, a.value);
    }
  }
}

size_t AppendFilterAttributeTerms(const crypto::FieldEncryption* enc, std::string_view key, std::string_view value,
                                  std::string* terms) {
  AppendAttributeTerm(terms, key, value);  // rows written before encryption was enabled
  if (enc == nullptr || !enc->IsSensitive(key)) return 1;
  size_t n = 1;
  for (const crypto::Key& k : enc->keyring().keys()) {
    std::string term;
    AppendKeyedTerm(&term, k, key, value);
    terms->append(" OR ");
    terms->append(term);
    ++n;
  }
  return n;
}

Status RefuseSensitiveFilters(const crypto::FieldEncryption* enc, const std::vector<AttributeFilter>& filters) {
  if (enc == nullptr) return Status::Ok();
  for (const AttributeFilter& f : filters) {
    if (enc->IsSensitive(f.key)) {
      return InvalidArgument("attribute " + f.key +
                             " is encrypted at rest (security.sensitive_fields): this store cannot filter on it");
    }
  }
  return Status::Ok();
}

}  // namespace tyto::eventstore
