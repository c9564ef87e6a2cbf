// Custom rules' RE2 patterns: compiled the one way the configuration check and the Redactor
// share, so that what the check accepts is what runs. Internal to tyto_redact.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace tyto::redact {

// Compiles `regex` (UTF-8, unanchored, leftmost-first as RE2 does by default). Returns nullptr
// and sets *error (RE2's message, or "matches the empty string") when the pattern does not
// compile or can match an empty text, which would insert a replacement at every position.
std::shared_ptr<const re2::RE2> CompilePattern(std::string_view regex, std::string* error);

}  // namespace tyto::redact
