// The format evaluator: JSON syntax, JSON Schema (draft 4) conformance and the schema checks,
// code fences, depth limits, and plain text.
#include <gtest/gtest.h>

#include <fstream>

#include "evaluate/evaluate_testing.h"
#include "testing/temp_dir.h"

namespace tyto::evaluate {
namespace {

using evaluate_testing::CreateError;
using evaluate_testing::Make;
using evaluate_testing::Rate;

Score Json(const std::string& response, const Options& options = {}) {
  auto e = Make("format", options);
  return e ? Rate(*e, "", response) : Score{};
}

// ---- JSON syntax ----

TEST(FormatJson, Valid) {
  for (const std::string doc : {R"({"a": [1, 2, {"b": null}], "c": "\u00e9"})", "  [true, false]\n", "\"text\"", "-0",
                                "1.5e10", "\xEF\xBB\xBF{}", "{\"emoji\": \"🙂\"}"}) {
    const Score s = Json(doc);
    EXPECT_EQ(s.value, 1) << doc << ": " << s.explanation;
    EXPECT_EQ(s.label, "valid");
  }
}

TEST(FormatJson, SyntaxErrorsNamePositions) {
  struct Case {
    std::string doc;
    std::string explanation;
  };
  const Case cases[] = {
      {"{\"a\": 1", "not JSON: byte 7 (line 1, column 8): Missing a comma or '}' after an object member."},
      {"{\n  \"a\": 1,\n}", "not JSON: byte 12 (line 3, column 1): Missing a name for object member."},
      {"{} x", "not JSON: byte 3 (line 1, column 4): The document root must not be followed by other values."},
      {"", "not JSON: byte 0 (line 1, column 1): The document is empty."},
      {"Sure! {\"a\": 1}", "not JSON: byte 0 (line 1, column 1): Invalid value."},
      {std::string("{}\0{}", 5), "not JSON: byte 2 (line 1, column 3): a NUL byte after the document"},
      {"[\"\xff\"]", "not JSON: byte 2 (line 1, column 3): Invalid encoding in string."},
      {"[1e999]", "not JSON: byte 1 (line 1, column 2): Number too big to be stored in double."},
      {"[NaN]", "not JSON: byte 1 (line 1, column 2): Invalid value."},
      {"{'a': 1}", "not JSON: byte 1 (line 1, column 2): Missing a name for object member."},
  };
  for (const Case& c : cases) {
    const Score s = Json(c.doc);
    EXPECT_EQ(s.value, 0) << c.doc;
    EXPECT_EQ(s.label, "invalid_json") << c.doc;
    EXPECT_EQ(s.explanation, c.explanation) << c.doc;
  }
}

TEST(FormatJson, DepthIsLimited) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  Score s = Json(deep);
  EXPECT_EQ(s.label, "too_deep");
  EXPECT_EQ(s.explanation, "JSON nested deeper than 64 levels");
  EXPECT_EQ(Json(deep, {{"max_depth", "100"}}).label, "valid");
  // Far deeper than any stack: still a clear answer.
  const std::string abyss = std::string(1 << 20, '[');
  EXPECT_EQ(Json(abyss).label, "too_deep");
  EXPECT_EQ(Json(abyss, {{"max_depth", "10000"}}).label, "too_deep");
}

TEST(FormatJson, CodeFences) {
  Score s = Json("```json\n{\"a\": 1}\n```");
  EXPECT_EQ(s.value, 1);
  EXPECT_EQ(s.explanation, "valid JSON (inside the code fence)");
  EXPECT_EQ(Json("\n  ```\n[1, 2]\n```  \n").value, 1);
  EXPECT_EQ(Json("~~~json\n[]\n~~~").value, 1);
  s = Json("```json\n{\"a\": }\n```");
  EXPECT_EQ(s.label, "invalid_json");
  EXPECT_EQ(s.explanation, "not JSON (inside the code fence): byte 6 (line 1, column 7): Invalid value.");
  // Not the whole response, or not closed: judged as it is.
  EXPECT_EQ(Json("Here you go:\n```json\n{}\n```").label, "invalid_json");
  EXPECT_EQ(Json("```json\n{}\n").label, "invalid_json");
  EXPECT_EQ(Json("```json\n{}\n```", {{"allow_fence", "false"}}).label, "invalid_json");
}

// ---- plain text ----

TEST(FormatText, Cases) {
  auto e = Make("format", {{"format", "text"}});
  EXPECT_EQ(Rate(*e, "", "Hello,\tworld\r\n — ünïcödé 中文").value, 1);
  Score s = Rate(*e, "", "bad\x01");
  EXPECT_EQ(s.label, "invalid_text");
  EXPECT_EQ(s.explanation, "control character U+0001 at byte 3");
  EXPECT_EQ(Rate(*e, "", "ok\xff").explanation, "invalid UTF-8 at byte 2");
  EXPECT_EQ(Rate(*e, "", "c1\xc2\x85").explanation, "control character U+0085 at byte 2");
  EXPECT_EQ(Rate(*e, "", "").value, 1);
}

// ---- JSON Schema conformance ----

const char* kPerson = R"({
  "type": "object",
  "properties": {
    "name":  {"type": "string", "minLength": 1, "maxLength": 10},
    "age":   {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"},
    "zip":   {"type": "string", "pattern": "^\\d{5}$"},
    "tags":  {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": true},
    "role":  {"enum": ["admin", "user"]},
    "kind":  {"const": "person"},
    "score": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "multipleOf": 0.5},
    "nick":  {"type": ["string", "null"]}
  },
  "required": ["name", "age"],
  "additionalProperties": false
})";

struct SchemaCase {
  std::string doc;
  std::string explanation;  // empty: valid
};

void ExpectSchema(const std::string& schema, const std::vector<SchemaCase>& cases) {
  auto e = Make("format", {{"format", "json_schema"}, {"schema", schema}});
  ASSERT_NE(e, nullptr);
  for (const SchemaCase& c : cases) {
    const Score s = Rate(*e, "", c.doc);
    if (c.explanation.empty()) {
      EXPECT_EQ(s.value, 1) << c.doc << ": " << s.explanation;
      EXPECT_EQ(s.explanation, "JSON that the schema accepts") << c.doc;
    } else {
      EXPECT_EQ(s.value, 0) << c.doc;
      EXPECT_EQ(s.label, "schema_violation") << c.doc;
      EXPECT_EQ(s.explanation, "the schema rejects the JSON " + c.explanation) << c.doc;
    }
  }
}

TEST(FormatSchema, Keywords) {
  ExpectSchema(kPerson, {
      {R"({"name": "Ann", "age": 30})", ""},
      {R"({"name": "Ann", "age": 30, "email": "ann@example.com", "zip": "12345", "tags": ["a", "b"],
           "role": "admin", "kind": "person", "score": 2.5, "nick": null})", ""},
      {R"({"name": "Ann"})", "at the root: fails \"required\" (schema root): missing required \"age\""},
      {R"({})", "at the root: fails \"required\" (schema root): missing required \"name\", \"age\""},
      {R"({"name": "Ann", "age": "30"})",
       "at /age: fails \"type\" (schema /properties/age): want integer, got string"},
      {R"({"name": "Ann", "age": 1.5})", "at /age: fails \"type\" (schema /properties/age): want integer, got number"},
      {R"({"name": "Ann", "age": 200})", "at /age: fails \"maximum\" (schema /properties/age): want <= 150"},
      {R"({"name": "Ann", "age": -1})", "at /age: fails \"minimum\" (schema /properties/age): want >= 0"},
      {R"({"name": "", "age": 1})", "at /name: fails \"minLength\" (schema /properties/name): want at least 1 characters"},
      {R"({"name": "Bartholomew!", "age": 1})",
       "at /name: fails \"maxLength\" (schema /properties/name): want at most 10 characters"},
      {R"({"name": "Ann", "age": 1, "email": "no-at-sign"})",
       "at /email: fails \"pattern\" (schema /properties/email): does not match the pattern ^[^@]+@[^@]+$"},
      {R"({"name": "Ann", "age": 1, "zip": "1234"})",
       "at /zip: fails \"pattern\" (schema /properties/zip): does not match the pattern ^[0-9]{5}$"},
      {R"({"name": "Ann", "age": 1, "extra": true})",
       "at /extra: fails \"additionalProperties\" (schema root): a member the schema does not allow "
       "(additionalProperties)"},
      {R"({"name": "Ann", "age": 1, "tags": []})",
       "at /tags: fails \"minItems\" (schema /properties/tags): want at least 1 items"},
      {R"({"name": "Ann", "age": 1, "tags": ["a", "a"]})",
       "at /tags/1: fails \"uniqueItems\" (schema /properties/tags): items repeat, the schema wants them unique"},
      {R"({"name": "Ann", "age": 1, "tags": ["a", 2]})",
       "at /tags/1: fails \"type\" (schema /properties/tags/items): want string, got integer"},
      {R"({"name": "Ann", "age": 1, "role": "root"})",
       "at /role: fails \"enum\" (schema /properties/role): not one of the 2 allowed values"},
      {R"({"name": "Ann", "age": 1, "kind": "robot"})",
       "at /kind: fails \"enum\" (schema /properties/kind): not one of the 1 allowed values"},
      {R"({"name": "Ann", "age": 1, "score": 0})", "at /score: fails \"minimum\" (schema /properties/score): want > 0"},
      {R"({"name": "Ann", "age": 1, "score": 0.75})",
       "at /score: fails \"multipleOf\" (schema /properties/score): want a multiple of 0.5"},
      {R"({"name": "Ann", "age": 1, "nick": 7})",
       "at /nick: fails \"type\" (schema /properties/nick): want string or null, got integer"},
      {R"([1, 2])", "at the root: fails \"type\" (schema root): want object, got array"},
  });
}

TEST(FormatSchema, Combinators) {
  ExpectSchema(R"({"anyOf": [{"type": "string"}, {"type": "number"}]})",
               {{"\"x\"", ""}, {"3", ""}, {"true", "at the root: fails \"anyOf\" (schema root): matches none of the "
                                                  "schemas of anyOf"}});
  ExpectSchema(R"({"oneOf": [{"type": "number"}, {"type": "integer"}]})",
               {{"1.5", ""},
                {"1", "at the root: fails \"oneOf\" (schema root): matches none, or more than one, of the schemas of "
                      "oneOf"}});
  ExpectSchema(R"({"allOf": [{"minimum": 1}, {"maximum": 3}]})",
               {{"2", ""}, {"4", "at the root: fails \"allOf\" (schema root): does not match every schema of allOf"}});
  ExpectSchema(R"({"not": {"type": "null"}})",
               {{"0", ""}, {"null", "at the root: fails \"not\" (schema root): matches the schema under not"}});
  ExpectSchema(R"({"dependencies": {"card": ["billing"]}})",
               {{R"({"card": 1, "billing": 2})", ""},
                {R"({"card": 1})", "at the root: fails \"dependencies\" (schema root): a member's dependency is not met"}});
  ExpectSchema(R"({"items": [{"type": "string"}, {"type": "number"}], "additionalItems": false})",
               {{R"(["a", 1])", ""},
                {R"(["a", 1, 2])", "at /2: fails \"items\" (schema root): more items than the schema allows (additionalItems)"},
                {R"([1])", "at /0: fails \"type\" (schema /items/0): want string, got integer"}});
  ExpectSchema(R"({"patternProperties": {"^x_\\d+$": {"type": "integer"}}, "additionalProperties": false})",
               {{R"({"x_1": 1, "x_22": 2})", ""},
                {R"({"x_1": "s"})", "at /x_1: fails \"patternProperties\" (schema root): fails the schema of a "
                                    "patternProperties pattern its name matches"},
                {R"({"x_a": 1})", "at /x_a: fails \"additionalProperties\" (schema root): a member the schema does not "
                                  "allow (additionalProperties)"}});
  ExpectSchema(R"({"properties": {"id": {"type": "string"}}, "patternProperties": {"^x": {"minimum": 1}}})",
               {{R"({"id": "a", "x1": 1, "x2": 2, "other": null})", ""},
                {R"({"x1": 0})", "at /x1: fails \"patternProperties\" (schema root): fails the schema of a "
                                 "patternProperties pattern its name matches"}});
  ExpectSchema(R"({"patternProperties": {"^x": {}}, "additionalProperties": false})",
               {{R"({"x": 1, "xy": 2})", ""},
                {R"({"x": 1, "y": 2})", "at /y: fails \"additionalProperties\" (schema root): a member the schema does "
                                        "not allow (additionalProperties)"}});
  ExpectSchema(R"({"maxProperties": 1})",
               {{"{}", ""}, {R"({"a": 1, "b": 2})", "at the root: fails \"maxProperties\" (schema root): want at most 1 "
                                                   "members"}});
}

TEST(FormatSchema, References) {
  // A tree: recursion through properties and items, which read deeper into the document.
  ExpectSchema(R"({"type": "object", "required": ["value"],
                   "properties": {"value": {"type": "number"},
                                  "children": {"type": "array", "items": {"$ref": "#"}}}})",
               {{R"({"value": 1, "children": [{"value": 2, "children": [{"value": 3}]}]})", ""},
                {R"({"value": 1, "children": [{"value": 2, "children": [{"value": 3}, {"value": "x"}]}]})",
                 "at /children/0/children/1/value: fails \"type\" (schema /properties/value): want number, got "
                 "string"}});
  ExpectSchema(R"({"definitions": {"pos": {"type": "integer", "minimum": 1}}, "type": "array",
                   "items": {"$ref": "#/definitions/pos"}})",
               {{"[1, 2]", ""}, {"[1, 2, 0]", "at /2: fails \"minimum\" (schema /definitions/pos): want >= 1"}});
  ExpectSchema(R"({"$defs": {"pos": {"type": "integer", "minimum": 1}}, "items": {"$ref": "#/$defs/pos"}})",
               {{"[3]", ""}, {"[0]", "at /0: fails \"minimum\" (schema /$defs/pos): want >= 1"}});
  // A reference into a container the walk does not know: its patterns are rewritten too.
  ExpectSchema(R"({"components": {"zip": {"pattern": "^\\d+$"}}, "properties": {"z": {"$ref": "#/components/zip"}}})",
               {{R"({"z": "123"})", ""},
                {R"({"z": "12a"})",
                 "at /z: fails \"pattern\" (schema /components/zip): does not match the pattern ^[0-9]+$"}});
}

// Numbers beyond the 64-bit integers reach RapidJSON's hashing of enum and uniqueItems values.
TEST(FormatSchema, HugeNumbers) {
  ExpectSchema(R"({"items": {"enum": [1, 2]}})",
               {{"[1, 2]", ""}, {"[1e300]", "at /0: fails \"enum\" (schema /items): not one of the 2 allowed values"}});
  ExpectSchema(R"({"uniqueItems": true})",
               {{"[1e300, -1e300, 1e19]", ""},
                {"[-1e300, -1e300]", "at /1: fails \"uniqueItems\" (schema root): items repeat, the schema wants them "
                                     "unique"}});
}

TEST(FormatSchema, DocumentPointersArePrintable) {
  ExpectSchema(R"({"additionalProperties": false})",
               {{std::string("{\"a/b~\\u0001\": 1}"),
                 "at /a~1b~0?: fails \"additionalProperties\" (schema root): a member the schema does not allow "
                 "(additionalProperties)"}});
}

// The first problem met, reading front to back, is the one reported.
TEST(FormatSchema, FirstProblemWins) {
  auto e = Make("format", {{"format", "json_schema"}, {"schema", kPerson}});
  EXPECT_EQ(Rate(*e, "", "{\"name\": ").label, "invalid_json");
  EXPECT_EQ(Rate(*e, "", std::string(200, '[')).label, "schema_violation");  // the root is not an object
  auto arrays = Make("format", {{"format", "json_schema"}, {"schema", R"({"type": "array"})"}});
  EXPECT_EQ(Rate(*arrays, "", std::string(200, '[')).label, "too_deep");
  EXPECT_EQ(Rate(*e, "", "```json\n{\"name\": \"A\", \"age\": 3}\n```").explanation,
            "JSON that the schema accepts (inside the code fence)");
}

TEST(FormatSchema, BadSchemasAreRefused) {
  struct Case {
    std::string schema;
    std::string error;
  };
  const std::string p = "evaluator format: option schema: ";
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "{\"not\": ";
  deep += "{}" + std::string(70, '}');
  const Case cases[] = {
      {"not json", p + "not JSON: byte 1 (line 1, column 2): Invalid value."},
      {"[]", p + "a schema is a JSON object"},
      {R"({"$ref": "http://example.com/s.json"})",
       p + "at /$ref: only references inside the schema (\"#\", \"#/definitions/...\") are supported"},
      {R"({"$ref": "#/definitions/missing"})", p + "at /$ref: refers to nothing in the schema"},
      {R"({"$ref": "#/type", "type": "string"})", p + "at /$ref: refers to something that is not a schema"},
      {R"({"$ref": "#"})", p + "at the root: refers back to itself through allOf, anyOf, oneOf, not, dependencies "
                               "or $ref without reading further into the document"},
      {R"({"anyOf": [{"type": "null"}, {"$ref": "#"}]})",
       p + "at the root: refers back to itself through allOf, anyOf, oneOf, not, dependencies or $ref without "
           "reading further into the document"},
      {R"({"definitions": {"a": {"allOf": [{"$ref": "#/definitions/b"}]}, "b": {"not": {"$ref": "#/definitions/a"}}},
          "$ref": "#/definitions/a"})",
       p + "at /definitions/a: refers back to itself through allOf, anyOf, oneOf, not, dependencies or $ref without "
           "reading further into the document"},
      {R"({"if": {"type": "string"}, "then": {}})",
       p + "at /if: \"if\" is from a later JSON Schema draft; the validator implements draft 4"},
      {R"js({"properties": {"a": {"pattern": "(?=x)"}}})js",
       p + "at /properties/a/pattern: not a pattern the validator can run (supported: literals, ., [...], [^...], "
           "groups, |, ?, *, +, {n,m}, ^, $, \\d \\w \\s)"},
      {R"({"pattern": "[^\\D]"})", p + "at /pattern: \\D inside [...] is not supported"},
      {R"({"pattern": "(a{100}){1000}"})", p + "at /pattern: repetition counts too large for the validator"},
      {R"({"type": "strin"})",
       p + "at /type: want null, boolean, object, array, number, integer or string, or an array of them"},
      {R"({"minimum": "5"})", p + "at /minimum: want a number"},
      {R"({"exclusiveMinimum": 5})", p + "at /exclusiveMinimum: want true or false (draft 4; a number here is draft 6 "
                                         "and later)"},
      {R"({"required": "a"})", p + "at /required: want an array of member names"},
      {R"({"minLength": -1})", p + "at /minLength: want a non-negative integer"},
      {R"({"multipleOf": 0})", p + "at /multipleOf: want a number above 0"},
      {R"({"anyOf": []})", p + "at /anyOf: want a non-empty array of schemas"},
      {R"({"properties": {"a": 5}})", p + "at /properties/a: a schema is a JSON object"},
      {R"({"const": 1, "enum": [1]})", p + "at the root: both const and enum"},
      {R"({"patternProperties": {"^x": {}}, "additionalProperties": {"type": "string"}})",
       p + "at /additionalProperties: a schema beside patternProperties is not supported by the validator (use true "
           "or false)"},
      {deep, p + "nested deeper than 64 levels"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(CreateError("format", {{"format", "json_schema"}, {"schema", c.schema}}), c.error) << c.schema;
  }
}

TEST(FormatSchema, SchemaFile) {
  tyto::testing::TempDir dir;
  const std::string path = dir.Path("schema.json");
  std::ofstream(path) << R"({"type": "array", "maxItems": 2})";
  auto e = Make("format", {{"format", "json_schema"}, {"schema_file", path}});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(Rate(*e, "", "[1]").value, 1);
  EXPECT_EQ(Rate(*e, "", "[1, 2, 3]").label, "schema_violation");
  const std::string missing = CreateError("format", {{"format", "json_schema"}, {"schema_file", dir.Path("nope")}});
  EXPECT_EQ(missing.rfind("evaluator format: option schema_file: ", 0), 0u) << missing;
  EXPECT_NE(missing.find("nope"), std::string::npos) << missing;
  EXPECT_EQ(CreateError("format", {{"format", "json_schema"}, {"schema", "{}"}, {"schema_file", path}}),
            "evaluator format: option schema_file: format json_schema needs exactly one of schema and schema_file");
}

}  // namespace
}  // namespace tyto::evaluate
