#include "events/ids.h"

#include "scrape/text_lexing.h"

namespace tyto::events {

bool IsZeroHexId(std::string_view hex) { return hex.find_first_not_of('0') == std::string_view::npos; }

std::string HexIdFromBytes(std::string_view bytes, size_t want_bytes, std::string* hex) {
  if (bytes.size() != want_bytes) {
    return "is " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(want_bytes);
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  hex->clear();
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    hex->push_back(kDigits[b >> 4]);
    hex->push_back(kDigits[b & 15]);
  }
  return "";
}

std::string HexIdFromText(std::string_view text, size_t want_bytes, std::string* hex) {
  bool ok = text.size() == 2 * want_bytes;
  hex->clear();
  for (size_t i = 0; ok && i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    hex->push_back(c);
  }
  if (!ok) return "\"" + scrape::Printable(text, 40) + "\" is not " + std::to_string(2 * want_bytes) + " hex digits";
  return "";
}

}  // namespace tyto::events
