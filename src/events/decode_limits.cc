#include "events/decode_limits.h"

#include <utility>

#include "events/genai.h"
#include "scrape/text_lexing.h"

namespace tyto::events {

bool TruncateUtf8(std::string* s, size_t max) {
  if (s->size() <= max) return false;
  size_t cut = max;
  // Back up over at most three continuation bytes (10xxxxxx) to the start of the character that
  // the cut would split; a longer run is not UTF-8, and cutting inside it splits nothing.
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xc0) == 0x80; ++i) --cut;
  if ((static_cast<unsigned char>((*s)[cut]) & 0xc0) == 0x80) cut = max;
  s->resize(cut);
  return true;
}

bool RepairUtf8(std::string* s) {
  size_t bad = scrape::FindInvalidUtf8(*s);
  if (bad == s->size()) return false;
  std::string out(*s, 0, bad);
  std::string_view rest = std::string_view(*s).substr(bad);
  while (!rest.empty()) {
    out += "\xef\xbf\xbd";  // U+FFFD for the byte at rest[0]
    rest.remove_prefix(1);
    bad = scrape::FindInvalidUtf8(rest);
    out.append(rest.substr(0, bad));
    rest.remove_prefix(bad);
  }
  *s = std::move(out);
  return true;
}

void LimitText(std::string* s, const DecodeLimits& limits, DecodeStats* stats) {
  if (RepairUtf8(s)) ++stats->utf8_repaired;
  if (TruncateUtf8(s, limits.max_attribute_value_bytes)) ++stats->values_truncated;
}

void LimitContent(std::string* s, const DecodeLimits& limits, DecodeStats* stats) {
  if (RepairUtf8(s)) ++stats->utf8_repaired;
  if (TruncateUtf8(s, limits.max_content_bytes)) ++stats->content_truncated;
}

void AddAttribute(std::vector<Attribute>* attrs, Attribute a, const DecodeLimits& limits, DecodeStats* stats) {
  if (attrs->size() >= limits.max_attributes) {
    ++stats->attributes_dropped;
    return;
  }
  if (RepairUtf8(&a.key)) ++stats->utf8_repaired;  // kept whole: a cut key would be another key
  if (IsContentAttribute(a.key))
    LimitContent(&a.value, limits, stats);
  else
    LimitText(&a.value, limits, stats);
  attrs->push_back(std::move(a));
}

}  // namespace tyto::events
