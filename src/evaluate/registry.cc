#include "evaluate/registry.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "config/schema.h"
#include "evaluate/builtins.h"
#include "evaluate/options.h"

namespace tyto::evaluate {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

Status CheckDescriptor(const Descriptor& d) {
  if (d.name.empty()) return InvalidArgument("evaluator descriptor without a name");
  auto error = [&](const OptionSpec& o, std::string_view what) {
    return InvalidArgument("evaluator " + d.name + ": option " + o.name + ": " + std::string(what));
  };
  std::set<std::string, std::less<>> seen;
  for (const OptionSpec& o : d.options) {
    if (o.name.empty()) return InvalidArgument("evaluator " + d.name + ": an option without a name");
    if (!seen.insert(o.name).second) return error(o, "declared twice");
    if (o.help.empty()) return error(o, "no help text");
    if (o.required && !o.default_value.empty()) return error(o, "required, yet has a default");
    if (!o.default_value.empty()) {
      Status s = CheckOptionValue(o.type, o.default_value);
      if (!s.ok()) return error(o, "default: " + s.message());
    }
  }
  return Status::Ok();
}

}  // namespace

Status Registry::Register(Descriptor descriptor, Factory factory) {
  TYTO_RETURN_IF_ERROR(CheckDescriptor(descriptor));
  if (!factory) return InvalidArgument("evaluator " + descriptor.name + ": no factory");
  if (entries_.count(descriptor.name) != 0) {
    return Status(StatusCode::kAlreadyExists, "evaluator " + descriptor.name + ": already registered");
  }
  std::string name = descriptor.name;
  entries_.emplace(std::move(name), Entry{std::move(descriptor), std::move(factory)});
  return Status::Ok();
}

std::vector<Descriptor> Registry::List() const {
  std::vector<Descriptor> out;
  out.reserve(entries_.size());
  for (const auto& [name, entry] : entries_) out.push_back(entry.descriptor);
  return out;
}

const Descriptor* Registry::Find(std::string_view name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second.descriptor;
}

Result<std::unique_ptr<Evaluator>> Registry::Create(std::string_view name, const Options& options) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::vector<std::string> known;
    for (const auto& [n, e] : entries_) known.push_back(n);
    std::string msg = "evaluator " + std::string(name) + ": unknown evaluator";
    const std::string guess = name.size() <= 64 ? config::DidYouMean(name, known) : std::string();
    if (!guess.empty()) msg += " (did you mean " + guess + "?)";
    msg += "; known: " + Join(known);
    return InvalidArgument(std::move(msg));
  }
  const Descriptor& d = it->second.descriptor;
  std::vector<std::string> known;
  for (const OptionSpec& o : d.options) known.push_back(o.name);

  Options complete;
  for (const auto& [key, value] : options) {
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& o : d.options) {
      if (o.name == key) spec = &o;
    }
    if (spec == nullptr) {
      std::string msg = "unknown option";
      const std::string guess = key.size() <= 64 ? config::DidYouMean(key, known) : std::string();
      if (!guess.empty()) msg += " (did you mean " + guess + "?)";
      msg += known.empty() ? std::string("; it takes no options") : "; known options: " + Join(known);
      return OptionError(d.name, key, msg);
    }
    Status s = CheckOptionValue(spec->type, value);
    if (!s.ok()) return OptionError(d.name, key, s.message());
    complete[key] = value;
  }
  for (const OptionSpec& o : d.options) {
    if (complete.count(o.name) != 0) continue;
    if (o.required) return OptionError(d.name, o.name, "required");
    if (!o.default_value.empty()) complete[o.name] = o.default_value;
  }
  return it->second.factory(complete);
}

void RegisterBuiltins(Registry* registry) {
  for (const Builtin& b : Builtins()) {
    Status s = registry->Register(b.descriptor(), b.factory);
    if (!s.ok()) {
      std::fprintf(stderr, "registering the built-in evaluators: %s\n", s.ToString().c_str());
      std::abort();  // a built-in descriptor is broken: a bug, found by the first test that runs
    }
  }
}

std::string EvaluatorsReference(const std::vector<Descriptor>& descriptors) {
  std::string out;
  auto cell = [](std::string_view s) {
    std::string c;
    for (char ch : s) {
      if (ch == '|') {
        c += "\\|";
      } else if (ch == '\n') {
        c += "<br>";
      } else {
        c += ch;
      }
    }
    return c;
  };
  for (const Descriptor& d : descriptors) {
    out += "### " + d.name + "\n\n" + d.description + "\n\n";
    if (d.options.empty()) {
      out += "No options.\n\n";
      continue;
    }
    out += "| option | type | default | description |\n|---|---|---|---|\n";
    for (const OptionSpec& o : d.options) {
      std::string def;
      if (o.required) {
        def = "(required)";
      } else if (o.default_value.empty()) {
        def = "(unset)";
      } else if (o.type == OptionSpec::Type::kStringList) {
        size_t start = 0;
        while (start < o.default_value.size()) {  // one code span per item
          size_t end = o.default_value.find('\n', start);
          if (end == std::string::npos) end = o.default_value.size();
          if (end > start) def += (def.empty() ? "`" : ", `") + cell(o.default_value.substr(start, end - start)) + "`";
          start = end + 1;
        }
      } else {
        def = "`" + cell(o.default_value) + "`";
      }
      out += "| `" + o.name + "` | " + std::string(OptionTypeName(o.type)) + " | " + def + " | " + cell(o.help) +
             " |\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace tyto::evaluate
