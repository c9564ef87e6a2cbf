#include "alertmanager/go_json.h"

#include <cstdint>

namespace tyto::alertmanager {

namespace {

// The length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one.
size_t Utf8Length(std::string_view s) {
  const auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  size_t n = 0;
  uint32_t cp = 0;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return 0;
  }
  return n;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  while (!s.empty()) {
    const auto c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) {
      switch (c) {
        case '"':
          *out += "\\\"";
          break;
        case '\\':
          *out += "\\\\";
          break;
        case '\n':
          *out += "\\n";
          break;
        case '\r':
          *out += "\\r";
          break;
        case '\t':
          *out += "\\t";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            *out += "\\u00";
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 15]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      s.remove_prefix(1);
      continue;
    }
    const size_t n = Utf8Length(s);
    if (n == 0) {
      *out += "\\ufffd";
      s.remove_prefix(1);
      continue;
    }
    const std::string_view rune = s.substr(0, n);
    if (rune == "\u2028") {
      *out += "\\u2028";
    } else if (rune == "\u2029") {
      *out += "\\u2029";
    } else {
      out->append(rune);
    }
    s.remove_prefix(n);
  }
  out->push_back('"');
}

void AppendJsonKey(std::string* out, std::string_view key) {
  AppendJsonString(out, key);
  out->push_back(':');
}

void AppendJsonMember(std::string* out, std::string_view key, std::string_view value, bool omit_empty) {
  if (omit_empty && value.empty()) return;
  if (!out->empty() && out->back() != '{') out->push_back(',');
  AppendJsonKey(out, key);
  AppendJsonString(out, value);
}

void AppendJsonObject(std::string* out, const LabelSet& labels) {
  out->push_back('{');
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonKey(out, name);
    AppendJsonString(out, value);
  }
  out->push_back('}');
}

}  // namespace tyto::alertmanager
