// The syntax tree of a parsed template (template.h); shared by the parser (template.cc) and the
// executor (template_execute.cc) only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tyto::rules::template_internal {

struct Pipeline;

// One operand of a command: `.`, `.A.b`, `$x.A`, a function name, a literal or `( pipeline )`,
// any of them followed by field names.
struct Arg {
  enum class Kind { kDot, kVariable, kFunction, kString, kInt, kFloat, kBool, kNil, kPipeline };
  Kind kind = Kind::kNil;
  std::string name;  // variable ("$x", "$"), function, or the string literal's value
  std::vector<std::string> fields;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  std::shared_ptr<const Pipeline> pipeline;
  size_t pos = 0;  // byte offset in the template text
};

struct Command {
  std::vector<Arg> args;
  size_t pos = 0;
};

struct Pipeline {
  std::vector<std::string> decl;  // declared or assigned variables, "$x"
  bool assign = false;            // `=` rather than `:=`
  std::vector<Command> commands;
  size_t pos = 0;
};

struct Node {
  enum class Kind { kList, kText, kAction, kIf, kWith, kRange, kBreak, kContinue };
  Kind kind = Kind::kList;
  size_t pos = 0;
  std::string text;                          // kText
  std::shared_ptr<const Pipeline> pipeline;  // kAction, kIf, kWith, kRange
  std::vector<Node> list;                    // kList: the children; kIf, kWith, kRange: the body
  std::vector<Node> else_list;               // kIf, kWith, kRange
};

// "3:14": the 1-based line and byte column of `pos` in `text`.
std::string LineColumn(std::string_view text, size_t pos);

// Whether `name` is a function templates may call (template_execute.cc).
bool IsFunction(std::string_view name);

}  // namespace tyto::rules::template_internal
