// JSON syntax and JSON Schema (draft 4) checks for the format evaluator, on RapidJSON's reader
// and schema validator (rapidjson/schema.h), kept behind this header. Internal to tyto_evaluate.
//
// Both checks read the document as a stream of events (no recursion, no tree), so any bytes are
// safe: nesting deeper than `max_depth` stops the read, invalid UTF-8 is a syntax error, and the
// cost is linear in the text for a given schema.
//
// What a schema may hold: draft 4's keywords, with local references only ("$ref": "#/...";
// "$defs" and "definitions" both work as containers), and "const" (read as a one-value "enum").
// Compile refuses, rather than silently ignoring, what the validator cannot do: remote
// references, references that resolve nowhere or loop through allOf/anyOf/oneOf/not/$ref
// without consuming the document, keywords of later drafts (if/then/else, contains,
// propertyNames, prefixItems, ...), and patterns its regular-expression engine cannot run.
// Patterns are ECMAScript as JSON Schema says, minus back-references and look-around; \d \w \s
// (and \D \W \S outside [...]) are rewritten to classes. "format" is not checked.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "tyto/status.h"

namespace tyto::evaluate {

// A compiled schema; immutable, shared by every thread's checks.
class JsonSchema {
 public:
  ~JsonSchema();
  // Parses and checks `text` as a draft-4 schema. InvalidArgument, its message naming where:
  // "not JSON: byte 12 (line 1, column 13): ...", "at /properties/id/pattern: ...".
  static Result<std::shared_ptr<const JsonSchema>> Compile(std::string_view text);

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  JsonSchema() = default;
  std::unique_ptr<Impl> impl_;
};

struct JsonCheck {
  enum class Outcome {
    kValid,
    kSyntax,   // not JSON
    kTooDeep,  // nested deeper than max_depth
    kSchema,   // JSON that the schema rejects
  };
  Outcome outcome = Outcome::kValid;
  // For a person, without the document's values: "byte 17 (line 2, column 5): Missing a comma
  // or '}' after an object member." or "at /items/2/price: fails \"type\": want number, got string".
  std::string detail;
};

// Checks `text` as one JSON document (whitespace around it allowed), against `schema` when it is
// not null. Depth counts open objects and arrays.
JsonCheck CheckJson(std::string_view text, const JsonSchema* schema, size_t max_depth);

}  // namespace tyto::evaluate
