#include "redact/redactor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "scrape/text_lexing.h"

namespace tyto::redact {
namespace {

// The redactor of the default configuration: every built-in rule, no custom rule.
const Redactor& Default() {
  static const Redactor* r = [] {
    auto created = Redactor::Create(RedactionConfig{});
    if (!created.ok()) std::abort();
    return new Redactor(std::move(created).value());
  }();
  return *r;
}

Redactor Only(std::vector<std::string> builtin, std::vector<CustomRuleConfig> rules = {}) {
  RedactionConfig c;
  c.builtin = std::move(builtin);
  c.rules = std::move(rules);
  auto r = Redactor::Create(c);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Redactor();
}

struct Case {
  std::string in;
  std::string out;
};

// Every input and what the default configuration makes of it; each also has to be a fixed point
// once redacted.
void ExpectRedacts(const std::vector<Case>& cases, const Redactor& r = Default()) {
  for (const Case& c : cases) {
    const std::string once = r.Redact(c.in);
    EXPECT_EQ(once, c.out) << "input: " << c.in;
    EXPECT_EQ(r.Redact(once), once) << "not idempotent on: " << c.in;
  }
}

void ExpectUnchanged(const std::vector<std::string>& inputs, const Redactor& r = Default()) {
  for (const std::string& in : inputs) EXPECT_EQ(r.Redact(in), in);
}

// ---- email ----

TEST(RedactorEmailTest, Addresses) {
  ExpectRedacts({
      {"contact john.doe@example.com today", "contact [REDACTED:email] today"},
      {"Mail a+tag@sub.example.co.uk.", "Mail [REDACTED:email]."},
      {"<jane_doe@mail.example.org>", "<[REDACTED:email]>"},
      {R"({"email":"x.y-z%1@corp-mail.io"})", R"({"email":"[REDACTED:email]"})"},
      {"mailto:ops@example.com,dev@example.com", "mailto:[REDACTED:email],[REDACTED:email]"},
      {"--john@example.com", "--[REDACTED:email]"},
  });
}

TEST(RedactorEmailTest, NearMisses) {
  ExpectUnchanged({
      "user@localhost",            // one label
      "a@b.c",                     // one-letter top-level domain
      "foo@bar.123",               // numeric top-level domain
      "john@example.com_suffix",   // part of an identifier
      "pip install pkg@2.0",       // a version pin
      "@handle and a@ alone and @",
      "john.@example.com",         // a local part ending in a dot
      "git@-host.com",             // a label starting with '-'
  });
}

// ---- phone ----

TEST(RedactorPhoneTest, InternationalAndNationalForms) {
  ExpectRedacts({
      {"call +1 (555) 123-4567 now", "call [REDACTED:phone] now"},
      {"UK: +44 20 7946 0958.", "UK: [REDACTED:phone]."},
      {"+44 (0) 20 7946 0958", "[REDACTED:phone]"},
      {"tel:+49-30-1234567", "tel:[REDACTED:phone]"},
      {"+15551234567", "[REDACTED:phone]"},
      {"(555) 123-4567", "[REDACTED:phone]"},
      {"555-123-4567", "[REDACTED:phone]"},
      {"555.123.4567", "[REDACTED:phone]"},
      {"1-800-555-0199", "[REDACTED:phone]"},
      {"FR 01 23 45 67 89", "FR [REDACTED:phone]"},
      {"JP 090-1234-5678", "JP [REDACTED:phone]"},
      {R"("phone": "+91 98765 43210")", R"("phone": "[REDACTED:phone]")"},
      {"(call 555 123 4567)", "(call [REDACTED:phone])"},
      // Numbers joined by one space: a formatted number stands on its own.
      {"+15551234567 1-800-555-0199 01 23 45 67 89", "[REDACTED:phone] [REDACTED:phone] [REDACTED:phone]"},
      {"Order 12345 555-123-4567", "Order 12345 [REDACTED:phone]"},
      {"on 2024-01-15 555 123 4567", "on 2024-01-15 [REDACTED:phone]"},
  });
}

TEST(RedactorPhoneTest, NearMisses) {
  ExpectUnchanged({
      "5551234567",                        // a plain number
      "id 1234567890123",                  // a long plain number
      "1234 5678 9012 3456",               // a long number in groups
      "at 2024-01-15 10:30:45.123Z",       // a timestamp
      "on 2024-01-15 12 items",            // a date and a count
      "on 15-01-2024 12 items",
      "release v1.2.3.4.5 and 10.20.30",   // versions
      "pi 3.14159265 and 12345.67890",     // decimals
      "order ORD-555-123-4567",            // an order id
      "sum 1,234,567,890",
      "555-1234",                          // seven digits
      "build 1.234.567",
      "3.14 2.71 1.41 1.73 2.23",          // a list of decimals
      "at 10:30 555 123 4567",             // a time glued to digits: left alone rather than guessed
  });
  // With the ipv4 rule off, an address still is no phone number.
  ExpectUnchanged({"192.168.10.20", "10.100.200.155"}, Only({"phone"}));
}

// ---- card ----

TEST(RedactorCardTest, LuhnValidNumbers) {
  ExpectRedacts({
      {"card 4111 1111 1111 1111 exp", "card [REDACTED:card] exp"},
      {"4111-1111-1111-1111", "[REDACTED:card]"},
      {"4111111111111111", "[REDACTED:card]"},
      {"amex 378282246310005", "amex [REDACTED:card]"},
      {"amex 3782 822463 10005", "amex [REDACTED:card]"},
      {"mc 5555 5555 5555 4444 12/25", "mc [REDACTED:card] 12/25"},
      {"cvv 123 4111 1111 1111 1111", "cvv 123 [REDACTED:card]"},
      {"visa19 4222 2222 2222 2222 222", "visa19 4222 2222 2222 2222 222"},  // fails Luhn: stays
      {R"({"pan":"6011111111111117"})", R"({"pan":"[REDACTED:card]"})"},
  });
}

TEST(RedactorCardTest, NearMisses) {
  // The card rule alone: "4111 1111 1111" is a fine phone number.
  ExpectUnchanged({
      "4111 1111 1111 1112",          // Luhn fails
      "4111111111111112",
      "ts 1718900000000000000",       // a nanosecond timestamp (passes Luhn, starts with 1)
      "ORD-4111111111111111",         // an order id
      "x 0.4111111111111111",         // a decimal
      "41111111111111111111",         // 20 digits
      "4111 1111 1111",               // 12 digits
      "4111 1111-1111 1111",          // mixed separators
      "card4111111111111111",
  }, Only({"card"}));
  ExpectUnchanged({"4111 1111 1111 1112", "ts 1718900000000000000", "ORD-4111111111111111"});
}

// ---- IP addresses ----

TEST(RedactorIpTest, Ipv4) {
  ExpectRedacts({
      {"from 10.0.0.1 to 192.168.1.254:8080", "from [REDACTED:ipv4] to [REDACTED:ipv4]:8080"},
      {"http://172.16.0.3/x", "http://[REDACTED:ipv4]/x"},
      {"(8.8.8.8).", "([REDACTED:ipv4])."},
      {"net 10.0.0.0/8", "net [REDACTED:ipv4]/8"},
  });
  ExpectUnchanged({"1.2.3.4.5", "v1.2.3.4", "256.1.1.1", "01.02.03.04", "3.14", "10.0.0", "1.2.3.4.in-addr",
                   "build1.2.3.4"});
}

TEST(RedactorIpTest, Ipv6) {
  ExpectRedacts({
      {"gw 2001:db8::1 up", "gw [REDACTED:ipv6] up"},
      {"fe80::1ff:fe23:4567:890a", "[REDACTED:ipv6]"},
      {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[REDACTED:ipv6]"},
      {"[2001:db8::1]:8080", "[[REDACTED:ipv6]]:8080"},
      {"::ffff:192.0.2.128", "[REDACTED:ipv6]"},  // one finding, not an IPv4 inside an IPv6
      {"addr:2001:db8::7334.", "addr:[REDACTED:ipv6]."},
      {"2001:db8::", "[REDACTED:ipv6]"},
  });
  ExpectUnchanged({
      "at 10:30:45",             // a time
      "std::vector<int> v;",     // code
      "Add::add and cafe::beef", // words
      "mac 00:1a:2b:3c:4d:5e",   // six groups, no "::"
      "a:b and 1:2:3",
      "::1 and ::",              // one group or none
      "2001:db8:::1",            // ":::"
      "1:2:3:4:5:6:7:8:9",       // nine groups
      "x2001:db8::1",
  });
}

// ---- api_key ----

TEST(RedactorApiKeyTest, WellKnownShapes) {
  ExpectRedacts({
      {"OPENAI_API_KEY sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
       "OPENAI_API_KEY [REDACTED:api_key]"},
      {"key sk-ant-api03-AbCdEfGhIjKlMnOpQrSt_Uv-Wx end", "key [REDACTED:api_key] end"},
      {"aws AKIAIOSFODNN7EXAMPLE and ASIAY34FZKBOKMUTVV7A", "aws [REDACTED:api_key] and [REDACTED:api_key]"},
      {"gh ghp_0123456789abcdefghijklmnopqrstuvwxyz", "gh [REDACTED:api_key]"},
      {"gh gho_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", "gh [REDACTED:api_key]"},
      {"gh github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "gh [REDACTED:api_key]"},
      {"slack xoxb-123456789012-abcdefghij", "slack [REDACTED:api_key]"},
      {"google AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", "google [REDACTED:api_key]"},
      {"hf hf_abcdefghijklmnopqrstuvwxyz0123456", "hf [REDACTED:api_key]"},
      {"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U done",
       "jwt [REDACTED:api_key] done"},
      {"Authorization: Bearer abc123def456ghi789jkl", "Authorization: Bearer [REDACTED:api_key]"},
      {"curl -H 'authorization: bearer 0a1b2c3d4e5f6a7b8c9d'", "curl -H 'authorization: bearer [REDACTED:api_key]'"},
  });
}

TEST(RedactorApiKeyTest, PrivateKeyBlocks) {
  ExpectRedacts({
      {"key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nx+y/z==\n-----END RSA PRIVATE KEY-----\nafter",
       "key:\n[REDACTED:api_key]\nafter"},
      {R"({"k":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"})",
       R"({"k":"[REDACTED:api_key]\n"})"},
      {"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA (cut off",
       "[REDACTED:api_key]"},  // no END: to the end of the text
      {"-----BEGIN PGP PRIVATE KEY BLOCK-----\nxcLYBF\n-----END PGP PRIVATE KEY BLOCK-----",
       "[REDACTED:api_key]"},
  });
  ExpectUnchanged({"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
                   "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"});
}

TEST(RedactorApiKeyTest, NearMisses) {
  ExpectUnchanged({
      "import sk-learn",                       // too short
      "task-abcdefghijklmnopqrstuvwxyz0123",    // "sk-" inside a word
      "AKIA1234 and AKIAIOSFODNN7EXAMPLEXX",   // too short, too long
      "ghp_short hf_short xoxb-short",
      "eyJhbGciOiJIUzI1NiJ9 alone",            // one part
      "eyJhbGciOiJIUzI1NiJ9.notajsonpayload.sig",
      "a Bearer token and Bearer abcdefghijklmnopqrstuvwxyz",  // prose, no digit
      "base64+sk-abcdefghijklmnopqrstuvwxyz/x",  // inside base64
  });
}

// ---- secret ----

TEST(RedactorSecretTest, ValuesOfSecretKeys) {
  ExpectRedacts({
      {"password=hunter2", "password=[REDACTED:secret]"},
      {R"("api_key": "abc def")", R"("api_key": "[REDACTED:secret]")"},
      {"DB_PASSWORD: s3cr3t!", "DB_PASSWORD: [REDACTED:secret]"},
      {"client_secret='x y'", "client_secret='[REDACTED:secret]'"},
      {"token = abc;", "token = [REDACTED:secret];"},
      {"GET /cb?code=1&access_token=abc123&state=x", "GET /cb?code=1&access_token=[REDACTED:secret]&state=x"},
      {R"({\"password\": \"p@ss w0rd\"})", R"({\"password\": \"[REDACTED:secret]\"})"},
      {"Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [REDACTED:secret]"},
      {R"("authorization": "Basic dXNlcjpwYXNz")", R"("authorization": "Basic [REDACTED:secret]")"},
      {"x-api-key: 42abc", "x-api-key: [REDACTED:secret]"},
      {"accessToken := abc", "accessToken := [REDACTED:secret]"},
      {"'passwd' => 'pw'", "'passwd' => '[REDACTED:secret]'"},
      {"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key=[REDACTED:secret]"},
      {R"("secret": "with \"escaped\" quotes")", R"("secret": "[REDACTED:secret]")"},
      {"password: pässwörd ok", "password: [REDACTED:secret] ok"},
      {"password: \"unterminated\nnext line", "password: \"[REDACTED:secret]\nnext line"},
  });
}

TEST(RedactorSecretTest, NearMisses) {
  ExpectUnchanged({
      "password: null",
      R"("password": "", "token": "***", "secret": "<secret>")",
      "max_tokens: 512",
      "token_count=5 and secret_name: foo and tokens: 12",
      "Token::new()",
      "if password == x",
      "the password is hunter2",
      "password:\nhunter2",  // the value is on another line
  });
}

// ---- how findings combine ----

TEST(RedactorTest, OverlappingFindingsBecomeOne) {
  ExpectRedacts({
      // The same bytes seen by two rules: the more specific names it.
      {"api_key=sk-abcdefghijklmnopqrstuvwxyz", "api_key=[REDACTED:api_key]"},
      {"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
       "Authorization: Bearer [REDACTED:api_key]"},
      {"password=john@example.com", "password=[REDACTED:email]"},
      // The longer finding wins: the whole quoted value is the secret.
      {R"(password="john@example.com and more")", R"(password="[REDACTED:secret]")"},
      // The earlier finding wins.
      {"5551234567@example.com", "[REDACTED:email]"},
      {"john@10.0.0.1", "john@[REDACTED:ipv4]"},
  });
  const std::vector<Finding> f = Default().Find("mail a@b.io, ip 10.0.0.1");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], (Finding{5, 11, 0}));   // email is rule 0
  EXPECT_EQ(f[1], (Finding{16, 24, 3}));  // ipv4 is rule 3
}

TEST(RedactorTest, RedactedTextIsLeftAlone) {
  ExpectUnchanged({
      "already [REDACTED:email] redacted; password: [REDACTED:secret]",
      "[REDACTED:phone] [REDACTED:card][REDACTED:api_key]",
  });
  // A rule's decision does not read into an existing replacement...
  EXPECT_EQ(Default().Redact("[REDACTED:x]555-123-4567"), "[REDACTED:x]555-123-4567");
  // ...but a finding merely near one is still found.
  EXPECT_EQ(Default().Redact("[REDACTED:x] and 555-123-4567"), "[REDACTED:x] and [REDACTED:phone]");
}

TEST(RedactorTest, CustomRules) {
  Redactor r = Only({"email"}, {{"employee_id", R"(EMP-\d{6})", ""},
                                {"patient", R"((?i)patient id:\s*\d+)", "<patient>"},
                                {"at", "@", ""}});
  EXPECT_EQ(r.rule_names(), (std::vector<std::string>{"email", "employee_id", "patient", "at"}));
  ExpectRedacts(
      {
          {"ticket for EMP-123456 (Patient ID: 991)", "ticket for [REDACTED:employee_id] (<patient>)"},
          // Custom rules come after the built-in ones, on the text between their findings.
          {"a@b.com x@y", "[REDACTED:email] x[REDACTED:at]y"},
          {"EMP-12345", "EMP-12345"},
          // A replacement is never redacted again, by any rule.
          {"<patient> @", "<patient> [REDACTED:at]"},
      },
      r);
  // In the order configured: the first rule takes what both match.
  Redactor ordered = Only({}, {{"first", "abc", ""}, {"second", "abcdef", ""}});
  EXPECT_EQ(ordered.Redact("abcdef abcdef"), "[REDACTED:first]def [REDACTED:first]def");
  // A replacement a built-in rule would otherwise see into stays whole.
  Redactor digits = Only({"phone"}, {{"order", "ORDER", "555-123-4567"}});
  EXPECT_EQ(digits.Redact("ORDER"), "555-123-4567");
  EXPECT_EQ(digits.Redact(digits.Redact("ORDER")), "555-123-4567");
}

TEST(RedactorTest, CustomRulesNeverSplitUtf8) {
  // \C matches one byte; the finding takes the whole character.
  Redactor r = Only({}, {{"byte", R"(\C)", "#"}});
  EXPECT_EQ(r.Redact("é€"), "##");
  Redactor x = Only({}, {{"x", "x+", ""}});
  const std::string invalid = "\xff" "xx\xfe\xc3";
  EXPECT_EQ(x.Redact(invalid), "\xff[REDACTED:x]\xfe\xc3");
}

TEST(RedactorTest, Utf8AroundFindings) {
  ExpectRedacts({
      {"我的邮箱是john@example.com谢谢", "我的邮箱是[REDACTED:email]谢谢"},
      {"📞+1 555 123 4567📞", "📞[REDACTED:phone]📞"},
      {"café 10.0.0.1 naïve", "café [REDACTED:ipv4] naïve"},
      {"секрет password=пароль123 ok", "секрет password=[REDACTED:secret] ok"},
  });
  // Invalid UTF-8 passes through unchanged.
  const std::string invalid = "\xff\xfe john@example.com \xc3 \xe2\x82";
  EXPECT_EQ(Default().Redact(invalid), "\xff\xfe [REDACTED:email] \xc3 \xe2\x82");
  const std::string only_invalid = "\x80\x81\xc0\xaf\xed\xa0\x80\xf8";
  EXPECT_EQ(Default().Redact(only_invalid), only_invalid);
}

TEST(RedactorTest, StatsCountFindingsPerRule) {
  Stats stats;
  const Redactor& r = Default();
  std::string s = r.Redact("a@b.io c@d.io 10.0.0.1", &stats);
  ASSERT_EQ(stats.findings.size(), r.rule_names().size());
  EXPECT_EQ(stats.findings[0], 2u);  // email
  EXPECT_EQ(stats.findings[3], 1u);  // ipv4
  EXPECT_EQ(stats.Total(), 3u);
  EXPECT_FALSE(r.RedactInPlace(&s, &stats));  // redacted already: nothing found, nothing counted
  EXPECT_EQ(stats.Total(), 3u);
  std::string text = "password=x";
  EXPECT_TRUE(r.RedactInPlace(&text, &stats));
  EXPECT_EQ(text, "password=[REDACTED:secret]");
  EXPECT_EQ(stats.findings[6], 1u);
}

TEST(RedactorTest, DisabledAndEmptyRedactorsChangeNothing) {
  RedactionConfig off;
  off.enabled = false;
  auto r = Redactor::Create(off);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->rule_names().empty());
  EXPECT_EQ(r->Redact("a@b.io password=x"), "a@b.io password=x");
  EXPECT_EQ(Redactor().Redact("a@b.io"), "a@b.io");
  EXPECT_EQ(Default().Redact(""), "");
  ExpectUnchanged({"a@b.io 555-123-4567"}, Only({"card", "ipv4"}));
}

// Texts built to make a careless scanner quadratic or loop; each must come back (the test's
// timeout is the bound) and be a fixed point once redacted.
TEST(RedactorTest, AdversarialInputsFinish) {
  std::vector<std::string> inputs;
  auto repeat = [](std::string_view unit, size_t times) {
    std::string s;
    for (size_t i = 0; i < times; ++i) s += unit;
    return s;
  };
  inputs.push_back(repeat("a@", 100000));
  inputs.push_back(repeat("a", 100000) + "@" + repeat("b.", 50000) + "com");
  inputs.push_back(repeat("1 ", 100000));
  inputs.push_back(repeat("1-2 ", 50000));
  inputs.push_back(repeat("4111 ", 50000));
  inputs.push_back(repeat("1.", 100000));
  inputs.push_back(repeat("a:", 100000));
  inputs.push_back(repeat("password=\"", 20000));
  inputs.push_back(repeat("password: ", 20000));
  inputs.push_back(repeat("-----BEGIN RSA PRIVATE KEY-----", 10000));
  inputs.push_back(repeat("Bearer ", 30000) + repeat("a1", 50000));
  inputs.push_back(repeat("eyJ", 50000) + "." + repeat("eyJ", 50000));
  inputs.push_back(repeat("\\", 100000) + "\"");
  inputs.push_back(repeat("[REDACTED:", 30000));
  const Redactor with_custom = Only({"email", "phone", "card", "ipv4", "ipv6", "api_key", "secret"},
                              {{"word", "[a-z]+@", ""}, {"greedy", "x.*y", ""}});
  for (const std::string& in : inputs) {
    for (const Redactor* r : {&Default(), &with_custom}) {
      const std::string once = r->Redact(in);
      EXPECT_EQ(r->Redact(once), once) << in.substr(0, 40);
    }
  }
}

TEST(RedactorTest, ConcurrentCallsAgree) {
  const std::vector<std::string> texts = {
      "mail john@example.com or call +1 (555) 123-4567",
      "card 4111 1111 1111 1111, ip 10.0.0.1, fe80::1ff:fe23:4567:890a",
      "password=hunter2 token sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
  };
  Redactor r = Only({"email", "phone", "card", "ipv4", "ipv6", "api_key", "secret"}, {{"emp", R"(EMP-\d+)", ""}});
  std::vector<std::string> want;
  for (const std::string& t : texts) want.push_back(r.Redact(t));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (size_t i = 0; i < mismatches.size(); ++i) {
    threads.emplace_back([&, i] {
      Stats stats;
      for (int round = 0; round < 500; ++round) {
        for (size_t k = 0; k < texts.size(); ++k) mismatches[i] += r.Redact(texts[k], &stats) != want[k];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

// The fuzzer's seeds are realistic prompts, responses and logs: each is redacted where expected
// (every seed holds something to redact), stays valid UTF-8 and is a fixed point once redacted.
TEST(RedactorTest, FuzzSeedsAreRealisticAndIdempotent) {
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TYTO_REDACT_TESTDATA "/fuzz_seeds")) {
    std::ifstream f(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string in = ss.str();
    const std::string once = Default().Redact(in);
    EXPECT_NE(once, in) << entry.path();
    EXPECT_EQ(Default().Redact(once), once) << entry.path();
    if (scrape::FindInvalidUtf8(in) == in.size()) {
      EXPECT_EQ(scrape::FindInvalidUtf8(once), once.size()) << entry.path();
    }
    ++seeds;
  }
  EXPECT_GE(seeds, 4u);
}

}  // namespace
}  // namespace tyto::redact
