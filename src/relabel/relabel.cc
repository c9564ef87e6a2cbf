#include "relabel/relabel.h"

#include <openssl/evp.h>
#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "config/schema.h"
#include "relabel/case_fold.h"

namespace tyto::relabel {

enum class Action {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

namespace {

struct ActionName {
  const char* name;
  Action action;
};
constexpr ActionName kActions[] = {
    {"replace", Action::kReplace},     {"keep", Action::kKeep},           {"drop", Action::kDrop},
    {"keepequal", Action::kKeepEqual}, {"dropequal", Action::kDropEqual}, {"hashmod", Action::kHashMod},
    {"labelmap", Action::kLabelMap},   {"labeldrop", Action::kLabelDrop}, {"labelkeep", Action::kLabelKeep},
    {"lowercase", Action::kLowercase}, {"uppercase", Action::kUppercase},
};

std::vector<std::string> ActionNames() {
  std::vector<std::string> names;
  for (const ActionName& a : kActions) names.emplace_back(a.name);
  return names;
}

Action ParseAction(const std::string& name) {
  for (const ActionName& a : kActions) {
    if (name == a.name) return a.action;
  }
  return Action::kReplace;  // unreachable after Check
}

std::unique_ptr<RE2> CompileRegex(const std::string& regex) {
  RE2::Options opts;
  opts.set_log_errors(false);
  return std::make_unique<RE2>("^(?s:" + regex + ")$", opts);  // Prometheus anchors and sets (?s)
}

// What Prometheus's relabel config validation checks; "" when the rule is fine.
std::string Problem(const Config& c) {
  const Config defaults;
  const auto known = ActionNames();
  if (std::find(known.begin(), known.end(), c.action) == known.end()) return "unknown action '" + c.action + "'";
  const Action a = ParseAction(c.action);
  if (auto re = CompileRegex(c.regex); !re->ok()) return "invalid regex '" + c.regex + "': " + re->error();
  const bool writes = a == Action::kReplace || a == Action::kHashMod || a == Action::kLowercase ||
                      a == Action::kUppercase || a == Action::kKeepEqual || a == Action::kDropEqual;
  if (writes && c.target_label.empty()) return "action '" + c.action + "' requires 'target_label'";
  if (a == Action::kHashMod && c.modulus == 0) return "action 'hashmod' requires a non-zero 'modulus'";
  if (a == Action::kKeepEqual || a == Action::kDropEqual) {
    if (c.regex != defaults.regex || c.modulus != defaults.modulus || c.separator != defaults.separator ||
        c.replacement != defaults.replacement) {
      return "action '" + c.action + "' takes only 'source_labels' and 'target_label'";
    }
  }
  if (a == Action::kLabelDrop || a == Action::kLabelKeep) {
    if (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != defaults.modulus ||
        c.separator != defaults.separator || c.replacement != defaults.replacement) {
      return "action '" + c.action + "' takes only 'regex' (it matches label names)";
    }
  }
  return "";
}

bool IsNameChar(unsigned char c) {
  // Go's regexp.Expand takes letters, digits and '_' (Unicode letters included: every byte of
  // a multi-byte UTF-8 sequence is taken as part of the name here).
  return std::isalnum(c) || c == '_' || c >= 0x80;
}

// The last 8 bytes of MD5(s), big-endian: what Prometheus's hashmod takes.
uint64_t Md5Tail(std::string_view s) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(s.data(), s.size(), digest, &len, EVP_md5(), nullptr);
  uint64_t v = 0;
  for (unsigned int i = 8; i < 16 && i < len; ++i) v = (v << 8) | digest[i];
  return v;
}

}  // namespace

std::string Expand(std::string_view tmpl, const std::vector<std::string_view>& groups,
                   const std::vector<std::string>& names) {
  std::string out;
  while (!tmpl.empty()) {
    const size_t dollar = tmpl.find('$');
    if (dollar == std::string_view::npos) break;
    out.append(tmpl.substr(0, dollar));
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {  // "$$" is a literal '$'
      out.push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    // A name: ${name} or the longest run of name characters.
    const bool brace = !tmpl.empty() && tmpl[0] == '{';
    std::string_view rest = brace ? tmpl.substr(1) : tmpl;
    size_t n = 0;
    while (n < rest.size() && IsNameChar(static_cast<unsigned char>(rest[n]))) ++n;
    if (n == 0 || (brace && (n >= rest.size() || rest[n] != '}'))) {
      out.push_back('$');  // malformed: the '$' is text
      continue;
    }
    const std::string_view name = rest.substr(0, n);
    tmpl = rest.substr(n + (brace ? 1 : 0));
    // A number (no leading zeros, below 1e8) names a group by index; anything else by name.
    int64_t num = -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        !(name.size() > 1 && name[0] == '0') && name.size() <= 8) {
      num = std::stoll(std::string(name));
    }
    if (num >= 0) {
      if (static_cast<size_t>(num) < groups.size()) out.append(groups[num]);
    } else {
      for (size_t i = 0; i < names.size() && i < groups.size(); ++i) {
        if (names[i] == name) {
          out.append(groups[i]);
          break;
        }
      }
    }
  }
  out.append(tmpl);
  return out;
}

class Rule {
 public:
  explicit Rule(const Config& c) : config_(c), action_(ParseAction(c.action)), re_(CompileRegex(c.regex)) {
    names_.assign(static_cast<size_t>(re_->NumberOfCapturingGroups()) + 1, "");
    for (const auto& [name, index] : re_->NamedCapturingGroups()) names_[static_cast<size_t>(index)] = name;
  }

  // False: drop the set.
  bool Apply(LabelsBuilder* lb) const {
    std::string val;
    for (size_t i = 0; i < config_.source_labels.size(); ++i) {
      if (i > 0) val += config_.separator;
      val.append(lb->Get(config_.source_labels[i]));
    }
    switch (action_) {
      case Action::kKeep: return Matches(val);
      case Action::kDrop: return !Matches(val);
      case Action::kKeepEqual: return val == lb->Get(config_.target_label);
      case Action::kDropEqual: return val != lb->Get(config_.target_label);
      case Action::kReplace: {
        std::vector<std::string_view> groups;
        if (!Match(val, &groups)) return true;
        const std::string target = Expand(config_.target_label, groups, names_);
        if (target.empty()) return true;  // not a valid label name: Prometheus skips the rule
        lb->Set(target, Expand(config_.replacement, groups, names_));  // empty deletes
        return true;
      }
      case Action::kHashMod:
        lb->Set(config_.target_label, std::to_string(Md5Tail(val) % config_.modulus));
        return true;
      case Action::kLowercase:
      case Action::kUppercase:
        lb->Set(config_.target_label, action_ == Action::kUppercase ? ToUpper(val) : ToLower(val));
        return true;
      case Action::kLabelMap: {
        const std::vector<Label> pairs = lb->pairs();  // rules see the labels as they were
        std::vector<std::string_view> groups;
        for (const Label& l : pairs) {
          if (Match(l.name, &groups)) lb->Set(Expand(config_.replacement, groups, names_), l.value);
        }
        return true;
      }
      case Action::kLabelDrop:
      case Action::kLabelKeep: {
        const std::vector<Label> pairs = lb->pairs();
        for (const Label& l : pairs) {
          if (Matches(l.name) == (action_ == Action::kLabelDrop)) lb->Del(l.name);
        }
        return true;
      }
    }
    return true;
  }

 private:
  bool Matches(std::string_view s) const { return RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *re_); }

  bool Match(std::string_view s, std::vector<std::string_view>* groups) const {
    std::vector<re2::StringPiece> pieces(names_.size());
    if (!re_->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::ANCHOR_BOTH, pieces.data(),
                    static_cast<int>(pieces.size()))) {
      return false;
    }
    groups->clear();
    for (const re2::StringPiece& p : pieces) groups->emplace_back(p.data(), p.size());
    return true;
  }

  Config config_;
  Action action_;
  std::unique_ptr<RE2> re_;
  std::vector<std::string> names_;  // by group index; "" for unnamed groups and group 0
};

Relabeler::Relabeler() = default;
Relabeler::~Relabeler() = default;
Relabeler::Relabeler(Relabeler&&) noexcept = default;
Relabeler& Relabeler::operator=(Relabeler&&) noexcept = default;

Result<Relabeler> Relabeler::Compile(const std::vector<Config>& rules) {
  Relabeler r;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (std::string p = Problem(rules[i]); !p.empty()) {
      return InvalidArgument("relabel rule " + std::to_string(i + 1) + ": " + p);
    }
    r.rules_.push_back(std::make_shared<const Rule>(rules[i]));
  }
  return r;
}

bool Relabeler::Process(LabelsBuilder* labels) const {
  for (const auto& rule : rules_) {
    if (!rule->Apply(labels)) return false;
  }
  return true;
}

const config::Section<Config>& ConfigSchema() {
  static const config::Section<Config>* schema = [] {
    auto* s = new config::Section<Config>("relabel rule", "A relabelling rule, as in Prometheus.");
    s->StringList("source_labels", &Config::source_labels, "Labels whose values, joined by separator, are matched.")
        .String("separator", &Config::separator, "Joins the source labels' values.")
        .String("target_label", &Config::target_label, "The label written (replace, hashmod, lowercase, ...).")
        .String("regex", &Config::regex, "RE2 regular expression, fully anchored.")
        .Int("modulus", &Config::modulus, "hashmod: the modulus.", 0, INT64_MAX)
        .String("replacement", &Config::replacement, "What replace and labelmap write; $1, ${name} expand.")
        .Enum("action", &Config::action, ActionNames(), "What the rule does.")
        .Validate([](const Config& c, const config::Node& n, config::Diagnostics& d) {
          if (std::string p = Problem(c); !p.empty()) d.Add(n.position(), "relabel rule: " + p);
        });
    return s;
  }();
  return *schema;
}

}  // namespace tyto::relabel
