// Decoding a config text through a schema in tests, as the config loader does: every problem
// gathered, the first ones as the Status.
#pragma once

#include <string>
#include <string_view>

#include "config/schema.h"
#include "config/yaml.h"
#include "tyto/status.h"

namespace tyto::testing {

// `text` (YAML, read as file `file`) decoded into a T by `root`, a schema of the whole file.
template <typename T>
Result<T> DecodeYaml(const config::Section<T>& root, std::string_view text, const std::string& file = "tyto.yml") {
  TYTO_ASSIGN_OR_RETURN(config::Node n, config::ParseYaml(text, file));
  T out;
  config::Diagnostics d;
  root.Decode(n, &out, &d);
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return out;
}

// The section `key` of a file, decoded by `schema` (absent: its defaults).
template <typename S>
Result<S> DecodeSection(const std::string& key, const config::Section<S>& schema, std::string_view text) {
  struct File {
    S section;
  };
  config::Section<File> root("", "test");
  root.Nested(key, &File::section, schema);
  TYTO_ASSIGN_OR_RETURN(File f, DecodeYaml(root, text));
  return f.section;
}

}  // namespace tyto::testing
