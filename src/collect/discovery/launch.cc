#include "collect/discovery/launch.h"

#include <initializer_list>

#include "collect/host/proc_parsers.h"

namespace tyto::collect::discovery {
namespace {

std::string_view Basename(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// python, python3, python3.12: an interpreter whose first argument names the program.
bool IsPython(std::string_view name) {
  if (name.substr(0, 6) != "python") return false;
  for (char c : name.substr(6)) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  return true;
}

std::optional<uint16_t> ParsePort(std::string_view s) {
  std::optional<uint64_t> v = host::ParseUint(s);
  if (!v || *v == 0 || *v > 65535) return std::nullopt;
  return static_cast<uint16_t>(*v);
}

// "false", "off", "0", "no" in any case: how getopt-style servers (Triton) write a false bool.
bool IsFalse(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower == "false" || lower == "off" || lower == "0" || lower == "no";
}

// The options of one command line from `begin` on. Long names are compared with '_' read as
// '-' (vLLM accepts --served_model_name as well); a one-letter name ("-p") also matches
// "-p8080" and "-p=8080". Reading stops at "--", after which everything is positional.
class Options {
 public:
  Options(const std::vector<std::string>& argv, size_t begin) : argv_(argv), begin_(begin) {}

  // The value of the last of `names` given, or nullopt. A following argument that starts with
  // '-' is the next option, not a value: no option read here takes a value beginning so.
  std::optional<std::string_view> Value(std::initializer_list<std::string_view> names) const {
    std::optional<std::string_view> out;
    for (size_t i = begin_; i < argv_.size(); ++i) {
      std::string_view a = argv_[i];
      if (a == "--") break;
      for (std::string_view name : names) {
        std::optional<std::string_view> inline_value;
        bool matched = false;
        if (name.size() == 2) {
          if (a.substr(0, 2) == name) {
            matched = true;
            if (a.size() > 2) inline_value = a[2] == '=' ? a.substr(3) : a.substr(2);
          }
        } else {
          size_t eq = a.find('=');
          if (SameLongName(a.substr(0, eq), name)) {
            matched = true;
            if (eq != std::string_view::npos) inline_value = a.substr(eq + 1);
          }
        }
        if (!matched) continue;
        if (inline_value) {
          out = inline_value;
        } else if (i + 1 < argv_.size() && !argv_[i + 1].empty() && argv_[i + 1][0] != '-') {
          out = std::string_view(argv_[i + 1]);
        }
        break;
      }
    }
    return out;
  }

  // Whether a flag among `names` is given (alone or as --name=value).
  bool Has(std::initializer_list<std::string_view> names) const {
    for (size_t i = begin_; i < argv_.size(); ++i) {
      std::string_view a = argv_[i];
      if (a == "--") break;
      for (std::string_view name : names) {
        if (SameLongName(a.substr(0, a.find('=')), name)) return true;
      }
    }
    return false;
  }

 private:
  static bool SameLongName(std::string_view arg, std::string_view name) {
    if (arg.size() != name.size() || arg.substr(0, 2) != "--") return false;
    for (size_t i = 2; i < arg.size(); ++i) {
      char c = arg[i] == '_' ? '-' : arg[i];
      if (c != name[i]) return false;
    }
    return true;
  }

  const std::vector<std::string>& argv_;
  size_t begin_;
};

void SetPort(const Options& o, std::initializer_list<std::string_view> names, uint16_t default_port, Launch* l) {
  l->port = default_port;
  if (std::optional<std::string_view> v = o.Value(names)) {
    if (std::optional<uint16_t> p = ParsePort(*v)) {
      l->port = *p;
      l->port_from_argv = true;
    }
  }
}

std::string FirstModel(std::initializer_list<std::optional<std::string_view>> candidates) {
  for (const std::optional<std::string_view>& c : candidates) {
    if (c && !c->empty()) return ModelLabel(*c);
  }
  return "";
}

// `positional`: the argument after "serve", when it is not an option (vllm serve MODEL).
Launch Vllm(const std::vector<std::string>& argv, size_t begin, bool serve) {
  Options o(argv, begin);
  std::optional<std::string_view> positional;
  if (serve && begin < argv.size() && !argv[begin].empty() && argv[begin][0] != '-') positional = argv[begin];
  Launch l;
  l.kind = ServerKind::kVllm;
  l.model = FirstModel({o.Value({"--served-model-name"}), positional, o.Value({"--model"})});
  l.host = std::string(o.Value({"--host"}).value_or(""));
  SetPort(o, {"--port"}, 8000, &l);
  if (o.Has({"--ssl-certfile"})) l.not_scraped = "tls";
  return l;
}

Launch Sglang(const std::vector<std::string>& argv, size_t begin) {
  Options o(argv, begin);
  Launch l;
  l.kind = ServerKind::kSglang;
  l.model = FirstModel({o.Value({"--served-model-name"}), o.Value({"--model-path", "--model"})});
  l.host = std::string(o.Value({"--host"}).value_or(""));
  SetPort(o, {"--port"}, 30000, &l);
  if (!o.Has({"--enable-metrics"})) {
    l.not_scraped = "metrics_disabled";
  } else if (o.Has({"--ssl-certfile"})) {
    l.not_scraped = "tls";
  }
  return l;
}

Launch Tgi(const std::vector<std::string>& argv, size_t begin, bool launcher) {
  Options o(argv, begin);
  Launch l;
  l.kind = ServerKind::kTgi;
  l.tgi_launcher = launcher;
  l.model = FirstModel({o.Value({"--served-model-name"}), o.Value({"--model-id"}), o.Value({"--tokenizer-name"})});
  l.host = std::string(o.Value({"--hostname"}).value_or(""));
  SetPort(o, {"--port", "-p"}, 3000, &l);
  return l;
}

Launch Triton(const std::vector<std::string>& argv, size_t begin) {
  Options o(argv, begin);
  Launch l;
  l.kind = ServerKind::kTriton;
  std::optional<std::string_view> host = o.Value({"--metrics-address"});
  if (!host) host = o.Value({"--http-address"});
  l.host = std::string(host.value_or(""));
  SetPort(o, {"--metrics-port"}, 8002, &l);
  if (std::optional<std::string_view> allow = o.Value({"--allow-metrics"}); allow && IsFalse(*allow)) {
    l.not_scraped = "metrics_disabled";
  }
  return l;
}

Launch Ollama() {
  Launch l;
  l.kind = ServerKind::kOllama;
  l.port = 11434;  // OLLAMA_HOST in its environment can change it; the listening socket tells
  l.not_scraped = "no_metrics_endpoint";
  return l;
}

}  // namespace

std::string_view KindName(ServerKind kind) {
  switch (kind) {
    case ServerKind::kVllm:
      return "vllm";
    case ServerKind::kTgi:
      return "tgi";
    case ServerKind::kTriton:
      return "triton";
    case ServerKind::kSglang:
      return "sglang";
    case ServerKind::kOllama:
      return "ollama";
  }
  return "unknown";
}

std::optional<ServerKind> KindFromName(std::string_view name) {
  for (ServerKind k : kAllServerKinds) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

std::vector<std::string> SplitCmdline(std::string_view raw) {
  std::vector<std::string> argv;
  while (!raw.empty()) {
    size_t nul = raw.find('\0');
    argv.emplace_back(raw.substr(0, nul));
    if (nul == std::string_view::npos) break;
    raw.remove_prefix(nul + 1);
  }
  return argv;
}

std::string ModelLabel(std::string_view model) {
  while (model.size() > 1 && model.back() == '/') model.remove_suffix(1);
  if (model.empty() || model == "/") return "";
  // A Hugging Face cache directory names the repository: models--ORG--NAME.
  for (size_t pos = 0; pos < model.size();) {
    size_t end = model.find('/', pos);
    std::string_view component = model.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (component.substr(0, 8) == "models--" && component.size() > 8) {
      std::string repo(component.substr(8));
      if (size_t sep = repo.find("--"); sep != std::string::npos && sep > 0 && sep + 2 < repo.size()) {
        repo.replace(sep, 2, "/");
      }
      return repo;
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  size_t slashes = 0;
  for (char c : model) slashes += c == '/' ? 1 : 0;
  const bool path = model[0] == '/' || model[0] == '.' || model[0] == '~' || slashes > 1;
  if (!path) return std::string(model);
  std::string_view last = Basename(model);
  if (last == "." || last == ".." || last == "~") return "";
  return std::string(last);
}

std::optional<Launch> ParseLaunch(const std::vector<std::string>& argv) {
  if (argv.empty()) return std::nullopt;
  const size_t n = argv.size();
  std::string_view program = Basename(argv[0]);
  std::string_view module;
  size_t i = 1;
  if (IsPython(program)) {
    // python [options] (-m MODULE | SCRIPT) args...: the module or script is the program.
    program = {};
    for (; i < n; ++i) {
      std::string_view a = argv[i];
      if (a == "-m") {
        if (i + 1 >= n) return std::nullopt;
        module = argv[i + 1];
        i += 2;
        break;
      }
      if (a.substr(0, 2) == "-m") {
        module = a.substr(2);
        ++i;
        break;
      }
      if (a.substr(0, 2) == "-c" || a == "-") return std::nullopt;  // code from the command line or stdin
      if (a == "-X" || a == "-W" || a == "--check-hash-based-pycs") {
        ++i;  // an option with a value
        continue;
      }
      if (!a.empty() && a[0] == '-') continue;
      program = Basename(a);
      ++i;
      break;
    }
    if (module.empty() && program.empty()) return std::nullopt;
  }
  const bool serve = i < n && argv[i] == "serve";
  if (module == "vllm.entrypoints.openai.api_server") return Vllm(argv, i, false);
  if ((program == "vllm" || module == "vllm.entrypoints.cli.main") && serve) return Vllm(argv, i + 1, true);
  if (module == "sglang.launch_server") return Sglang(argv, i);
  if (program == "sglang" && serve) return Sglang(argv, i + 1);
  if (program == "text-generation-launcher") return Tgi(argv, i, true);
  if (program == "text-generation-router") return Tgi(argv, i, false);
  if (program == "tritonserver") return Triton(argv, i);
  if (program == "ollama" && serve) return Ollama();
  return std::nullopt;
}

}  // namespace tyto::collect::discovery
