#include "playbook/expand.h"

#include <cctype>

namespace tyto::playbook {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

void AppendEscaped(std::string* out, std::string_view v, Escape escape) {
  switch (escape) {
    case Escape::kNone:
      out->append(v);
      return;
    case Escape::kUrl:
      for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
          out->push_back(c);
        } else {
          out->push_back('%');
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        }
      }
      return;
    case Escape::kPromQL:
      for (char c : v) {
        if (c == '\\' || c == '"') {
          out->push_back('\\');
          out->push_back(c);
        } else if (c == '\n') {
          out->append("\\n");
        } else {
          out->push_back(c);
        }
      }
      return;
  }
}

std::string Lookup(std::string_view name, const ExpandContext& ctx) {
  auto from = [](const alertmanager::LabelSet& set, std::string_view key) {
    auto it = set.find(std::string(key));
    return it == set.end() ? std::string() : it->second;
  };
  if (name.starts_with("labels.")) return from(ctx.labels, name.substr(7));
  if (name.starts_with("annotations.")) return from(ctx.annotations, name.substr(12));
  auto it = ctx.vars.find(std::string(name));
  return it == ctx.vars.end() ? std::string() : it->second;
}

// Calls `ref` for each ${...} reference and `lit` for each literal run; false on an unclosed
// reference.
template <typename Ref, typename Lit>
bool Walk(std::string_view text, Ref ref, Lit lit) {
  size_t i = 0;
  while (i < text.size()) {
    size_t d = text.find('$', i);
    if (d == std::string_view::npos) {
      lit(text.substr(i));
      return true;
    }
    lit(text.substr(i, d - i));
    if (d + 1 < text.size() && text[d + 1] == '$') {
      lit("$");
      i = d + 2;
    } else if (d + 1 < text.size() && text[d + 1] == '{') {
      size_t end = text.find('}', d + 2);
      if (end == std::string_view::npos) return false;
      ref(text.substr(d + 2, end - d - 2));
      i = end + 1;
    } else {
      lit("$");
      i = d + 1;
    }
  }
  return true;
}

}  // namespace

std::string Expand(std::string_view text, const ExpandContext& ctx, Escape escape) {
  std::string out;
  out.reserve(text.size());
  (void)Walk(
      text, [&](std::string_view name) { AppendEscaped(&out, Lookup(name, ctx), escape); },
      [&](std::string_view s) { out.append(s); });
  return out;
}

std::string CheckReferences(std::string_view text, const std::vector<std::string>& vars) {
  std::string problem;
  bool closed = Walk(
      text,
      [&](std::string_view name) {
        if (!problem.empty()) return;
        auto valid_name = [](std::string_view n) {
          if (n.empty()) return false;
          for (char c : n) {
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' || c == ':')) {
              return false;
            }
          }
          return true;
        };
        if (name.starts_with("labels.") && valid_name(name.substr(7))) return;
        if (name.starts_with("annotations.") && valid_name(name.substr(12))) return;
        for (const std::string& v : vars) {
          if (name == v) return;
        }
        problem = "unknown reference ${" + std::string(name) + "}; use ${labels.NAME}, ${annotations.NAME}";
        for (const std::string& v : vars) problem += ", ${" + v + "}";
        problem += " (and $$ for a literal $)";
      },
      [](std::string_view) {});
  if (!closed && problem.empty()) problem = "unclosed ${ (write $$ for a literal $)";
  return problem;
}

}  // namespace tyto::playbook
