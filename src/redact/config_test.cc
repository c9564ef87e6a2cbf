#include "redact/config.h"

#include <gtest/gtest.h>

#include "config/schema.h"
#include "config/yaml.h"
#include "redact/redactor.h"

namespace tyto::redact {
namespace {

struct File {
  RedactionConfig redaction;
};

const config::Section<File>& Root() {
  static const auto* root = [] {
    auto* r = new config::Section<File>("", "test");
    r->Nested("redaction", &File::redaction, RedactionSchema());
    return r;
  }();
  return *root;
}

Result<RedactionConfig> Decode(std::string_view text) {
  TYTO_ASSIGN_OR_RETURN(config::Node n, config::ParseYaml(text, "tyto.yml"));
  File f;
  config::Diagnostics d;
  Root().Decode(n, &f, &d);
  TYTO_RETURN_IF_ERROR(d.ToStatus());
  return f.redaction;
}

TEST(RedactionConfigTest, DefaultsWithoutTheSection) {
  auto c = Decode("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->builtin, (std::vector<std::string>{"email", "phone", "card", "ipv4", "ipv6", "api_key", "secret"}));
  EXPECT_TRUE(c->rules.empty());
}

TEST(RedactionConfigTest, EveryKey) {
  auto c = Decode(R"(
redaction:
  enabled: false
  builtin: [email, api_key]
  rules:
    - name: employee_id
      regex: 'EMP-\d{6}'
    - name: patient
      regex: '(?i)patient id:\s*\d+'
      replacement: '<patient>'
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->enabled);
  EXPECT_EQ(c->builtin, (std::vector<std::string>{"email", "api_key"}));
  ASSERT_EQ(c->rules.size(), 2u);
  EXPECT_EQ(c->rules[0], (CustomRuleConfig{"employee_id", "EMP-\\d{6}", ""}));
  EXPECT_EQ(c->rules[1], (CustomRuleConfig{"patient", "(?i)patient id:\\s*\\d+", "<patient>"}));
}

TEST(RedactionConfigTest, AnEmptyBuiltinListTurnsEveryBuiltinRuleOff) {
  auto c = Decode("redaction: {builtin: [], rules: [{name: x, regex: 'x+'}]}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto r = Redactor::Create(*c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rule_names(), (std::vector<std::string>{"x"}));
  EXPECT_EQ(r->Redact("a@b.com xx"), "a@b.com [REDACTED:x]");
}

TEST(RedactionConfigTest, MistakesArePositionedErrors) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"redaction:\n  builtin: [email, emial]", "tyto.yml:2:20: redaction.builtin: unknown rule 'emial', did you mean 'email'?"},
           {"redaction:\n  builtin: [email, email]", "tyto.yml:2:20: redaction.builtin: 'email' is listed twice"},
           {"redaction:\n  rules:\n    - name: bad\n      regex: 'a(b'",
            "tyto.yml:4:14: redaction.rules: rule 'bad': invalid regex 'a(b': missing ): a(b"},
           {"redaction:\n  rules:\n    - name: empty\n      regex: 'a*'",
            "tyto.yml:4:14: redaction.rules: rule 'empty': invalid regex 'a*': matches the empty string"},
           {"redaction:\n  rules:\n    - {name: x, regex: a}\n    - {name: x, regex: b}",
            "tyto.yml:4:7: redaction.rules: rule 'x' is defined twice"},
           {"redaction:\n  rules:\n    - {name: email, regex: a}", "rule 'email': the name of a built-in rule"},
           {"redaction:\n  rules:\n    - {name: Emp-Id, regex: a}", "rule 'Emp-Id': a name is lowercase letters"},
           {"redaction:\n  rules:\n    - {regex: a}", "tyto.yml:3:7: redaction.rules: a rule needs a name"},
           {"redaction:\n  rules:\n    - {name: x}", "redaction.rules: rule 'x' needs a regex"},
           {"redaction:\n  rules:\n    - {name: x, regexp: a}", "unknown key 'regexp' in section 'rules', did you mean 'regex'?"},
           {"redaction:\n  enabled: maybe", "tyto.yml:2:12:"},
           {"redaction:\n  builtins: [email]", "unknown key 'builtins' in section 'redaction', did you mean 'builtin'?"},
       }) {
    auto r = Decode(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << c.yaml << "\n" << r.status().message();
  }
}

TEST(RedactionConfigTest, CheckInCodeNamesTheRule) {
  RedactionConfig c;
  c.rules = {{"ok", "x", ""}, {"broken", "(", ""}};
  Status s = CheckRedactionConfig(c);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rule 'broken': invalid regex '('"), std::string::npos) << s.message();
  EXPECT_FALSE(Redactor::Create(c).ok());

  c.rules = {{"bytes", "x", "\xff"}};
  EXPECT_NE(CheckRedactionConfig(c).message().find("rule 'bytes': replacement is not valid UTF-8"), std::string::npos);
  c.rules = {{"long", "x", std::string(257, 'r')}};
  EXPECT_NE(CheckRedactionConfig(c).message().find("rule 'long': replacement is longer than 256 bytes"),
            std::string::npos);
  c.rules = {};
  c.builtin = {"mail"};
  EXPECT_NE(CheckRedactionConfig(c).message().find("unknown rule 'mail', did you mean 'email'?"), std::string::npos);
  c.builtin = {};
  EXPECT_TRUE(CheckRedactionConfig(c).ok());
}

TEST(RedactionConfigTest, EncodesEveryKeyAndReadsBack) {
  auto c = Decode(R"(
redaction:
  builtin: [phone, secret]
  rules:
    - {name: ticket, regex: 'TCK-[0-9]+', replacement: "[ticket]"}
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  config::Writer w;
  w.BeginMap();
  w.Key("redaction");
  RedactionSchema().Encode(*c, w);
  w.EndMap();
  EXPECT_EQ(w.Text(),
            "redaction:\n"
            "  enabled: true\n"
            "  builtin:\n"
            "    - phone\n"
            "    - secret\n"
            "  rules:\n"
            "    - name: ticket\n"
            "      regex: TCK-[0-9]+\n"
            "      replacement: \"[ticket]\"\n");
  auto again = Decode(w.Text());
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << w.Text();
  EXPECT_EQ(*again, *c);
}

TEST(RedactionConfigTest, DocumentedKeys) {
  std::vector<config::OptionDoc> docs;
  RedactionSchema().Document("redaction", &docs);
  std::vector<std::string> keys;
  for (const auto& d : docs) keys.push_back(d.key + " " + d.default_value);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "redaction.enabled true",
                      "redaction.builtin [email, phone, card, ipv4, ipv6, api_key, secret]",
                      "redaction.rules []",
                      "redaction.rules[].name \"\"",
                      "redaction.rules[].regex \"\"",
                      "redaction.rules[].replacement \"\"",
                  }));
}

}  // namespace
}  // namespace tyto::redact
