#include "redact/pattern.h"

#include <re2/re2.h>

namespace tyto::redact {

std::shared_ptr<const re2::RE2> CompilePattern(std::string_view regex, std::string* error) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(re2::StringPiece(regex.data(), regex.size()), options);
  if (!re->ok()) {
    *error = re->error();
    return nullptr;
  }
  if (RE2::FullMatch("", *re)) {
    *error = "matches the empty string";
    return nullptr;
  }
  return re;
}

}  // namespace tyto::redact
