// NestedDeeperThan: whether a parsed JSON document nests arrays and objects deeper than a limit,
// walked without recursion. Parsers of outside JSON check it before handing a document to
// recursive code (writers, validators), so a deep payload is refused instead of exhausting the
// stack. A template over the DOM's value type (RapidJSON's Value) so this header needs no JSON
// library.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace tyto {

// `Doc` is a value or a document; the walk is over its value type (RapidJSON's ValueType).
template <typename Doc>
bool NestedDeeperThan(const Doc& root, size_t max) {
  using Value = typename Doc::ValueType;
  std::vector<std::pair<const Value*, size_t>> stack{{static_cast<const Value*>(&root), 0}};
  while (!stack.empty()) {
    const auto [v, depth] = stack.back();
    stack.pop_back();
    if (depth > max) return true;
    if (v->IsArray()) {
      for (const Value& e : v->GetArray()) stack.emplace_back(&e, depth + 1);
    } else if (v->IsObject()) {
      for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) stack.emplace_back(&it->value, depth + 1);
    }
  }
  return false;
}

}  // namespace tyto
