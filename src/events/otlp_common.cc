#include "events/otlp_common.h"

#include "scrape/text_lexing.h"

namespace tyto::events {

std::string DescribeSpan(const std::string& where, std::string_view name) {
  return where + " \"" + scrape::Printable(name, 64) + "\"";
}

std::string RequiredId(std::string_view field, const std::string& what, const std::string& hex) {
  if (!what.empty()) return std::string(field) + " " + what;
  if (IsZeroHexId(hex)) return std::string(field) + " is all zeros";
  return "";
}

std::string OptionalId(std::string_view field, const std::string& what, std::string* hex) {
  if (!what.empty()) return std::string(field) + " " + what;
  if (IsZeroHexId(*hex)) hex->clear();
  return "";
}

std::string ServiceName(const std::vector<Attribute>& resource) {
  const std::string* name = FindAttribute(resource, "service.name");
  return name != nullptr && !name->empty() ? *name : std::string(kUnknownService);
}

size_t TextBytes(const std::vector<Attribute>& attrs) {
  size_t n = 0;
  for (const Attribute& a : attrs) n += a.key.size() + a.value.size();
  return n;
}

size_t TextBytes(const Span& s) {
  size_t n = s.trace_id.size() + s.span_id.size() + s.parent_span_id.size() + s.name.size() + s.status_message.size() +
             s.scope_name.size() + TextBytes(s.attributes);
  for (const SpanEvent& e : s.events) n += e.name.size() + TextBytes(e.attributes);
  return n;
}

size_t TextBytes(const LogRecord& r) {
  return r.severity_text.size() + r.body.size() + r.trace_id.size() + r.span_id.size() + TextBytes(r.attributes);
}

}  // namespace tyto::events
