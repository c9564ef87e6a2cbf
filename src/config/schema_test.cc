#include "config/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/yaml.h"

namespace tyto::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

// A configuration shaped like the server's: nested sections and a list of mappings.
struct TlsConfig {
  std::string cert_file;
  std::string key_file;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9800";
  milliseconds read_timeout = std::chrono::seconds(30);
  uint64_t max_body_bytes = 16 * 1024;
  int max_connections = 100;
  bool gzip = true;
  std::vector<std::string> cors_origins;
  TlsConfig tls;
};

struct TokenConfig {
  std::string name;
  std::vector<std::string> scopes;
};

struct AuthConfig {
  std::vector<TokenConfig> tokens;
};

struct TestConfig {
  HttpConfig http;
  AuthConfig auth;
  std::string level = "info";
  int32_t workers = 4;
};

const Section<TestConfig>& Schema() {
  static const Section<TestConfig>* schema = [] {
    Section<TlsConfig> tls("http.tls", "TLS settings.");
    tls.String("cert_file", &TlsConfig::cert_file, "Certificate.")
        .String("key_file", &TlsConfig::key_file, "Private key.")
        .Validate([](const TlsConfig& t, const Node& n, Diagnostics& d) {
          if (t.cert_file.empty() != t.key_file.empty()) d.Add(n.position(), "tls needs both cert_file and key_file");
        });

    Section<HttpConfig> http("http", "The HTTP server.");
    http.String("listen", &HttpConfig::listen, "HOST:PORT.")
        .Duration("read_timeout", &HttpConfig::read_timeout, "Read timeout.", milliseconds(1))
        .ByteSize("max_body_bytes", &HttpConfig::max_body_bytes, "Largest body.", 1024)
        .Int("max_connections", &HttpConfig::max_connections, "Connections.", 1, 65535)
        .Bool("gzip", &HttpConfig::gzip, "Compress.")
        .StringList("cors_origins", &HttpConfig::cors_origins, "Origins.")
        .Nested("tls", &HttpConfig::tls, tls);

    Section<TokenConfig> token("auth.tokens[]", "An API token.");
    token.String("name", &TokenConfig::name, "Holder.")
        .StringList("scopes", &TokenConfig::scopes, "Scopes.")
        .Validate([](const TokenConfig& t, const Node& n, Diagnostics& d) {
          if (t.name.empty()) d.Add(n.position(), "token needs a name");
        });

    Section<AuthConfig> auth("auth", "Who may do what.");
    auth.List("tokens", &AuthConfig::tokens, token);

    auto* root = new Section<TestConfig>("tyto", "t.yml");
    root->Nested("http", &TestConfig::http, http)
        .Nested("auth", &TestConfig::auth, auth)
        .Enum("level", &TestConfig::level, {"debug", "info", "warn", "error"}, "Log level.")
        .Int("workers", &TestConfig::workers, "Workers.");
    return root;
  }();
  return *schema;
}

struct Decoded {
  TestConfig config;
  std::vector<std::string> errors;
};

// Parses `text` as file "t.yml" and decodes it over the defaults.
Decoded Decode(std::string_view text) {
  Decoded out;
  auto root = ParseYaml(text, "t.yml");
  EXPECT_TRUE(root.ok()) << root.status().ToString();
  if (!root.ok()) return out;
  Diagnostics d;
  Schema().Decode(*root, &out.config, &d);
  out.errors = d.messages();
  return out;
}

TEST(SchemaDecodeTest, EmptyFileKeepsDefaults) {
  for (std::string_view text : {"", "# only a comment\n", "http:\n", "http:\n  listen:\n"}) {
    Decoded r = Decode(text);
    EXPECT_THAT(r.errors, IsEmpty()) << text;
    EXPECT_EQ(r.config.http.listen, "127.0.0.1:9800") << text;
    EXPECT_EQ(r.config.http.read_timeout, std::chrono::seconds(30));
    EXPECT_EQ(r.config.http.max_body_bytes, 16u * 1024);
    EXPECT_EQ(r.config.http.max_connections, 100);
    EXPECT_TRUE(r.config.http.gzip);
    EXPECT_EQ(r.config.level, "info");
    EXPECT_EQ(r.config.workers, 4);
    EXPECT_THAT(r.config.auth.tokens, IsEmpty());
  }
}

TEST(SchemaDecodeTest, DecodesEveryKindAndKeepsAbsentDefaults) {
  Decoded r = Decode(R"(
http:
  read_timeout: 1m30s
  max_body_bytes: 4MiB
  gzip: false
  cors_origins: [https://a.example, "https://b.example"]
  tls:
    cert_file: /etc/tyto/cert.pem
    key_file: /etc/tyto/key.pem
auth:
  tokens:
    - name: grafana
      scopes: [read]
    - name: agent
      scopes:
        - write
level: debug
workers: -3
)");
  ASSERT_THAT(r.errors, IsEmpty());
  const TestConfig& c = r.config;
  EXPECT_EQ(c.http.listen, "127.0.0.1:9800") << "absent key keeps its default";
  EXPECT_EQ(c.http.read_timeout, milliseconds(90'000));
  EXPECT_EQ(c.http.max_body_bytes, 4u << 20);
  EXPECT_EQ(c.http.max_connections, 100);
  EXPECT_FALSE(c.http.gzip);
  EXPECT_THAT(c.http.cors_origins, ElementsAre("https://a.example", "https://b.example"));
  EXPECT_EQ(c.http.tls.cert_file, "/etc/tyto/cert.pem");
  EXPECT_EQ(c.http.tls.key_file, "/etc/tyto/key.pem");
  ASSERT_EQ(c.auth.tokens.size(), 2u);
  EXPECT_EQ(c.auth.tokens[0].name, "grafana");
  EXPECT_THAT(c.auth.tokens[0].scopes, ElementsAre("read"));
  EXPECT_EQ(c.auth.tokens[1].name, "agent");
  EXPECT_THAT(c.auth.tokens[1].scopes, ElementsAre("write"));
  EXPECT_EQ(c.level, "debug");
  EXPECT_EQ(c.workers, -3);
}

TEST(SchemaDecodeTest, UnknownKeyWithDidYouMean) {
  Decoded r = Decode("http:\n  listne: 0.0.0.0:9800\n");
  EXPECT_THAT(r.errors, ElementsAre("t.yml:2:3: unknown key 'listne' in section 'http', did you mean 'listen'?"));
  EXPECT_EQ(r.config.http.listen, "127.0.0.1:9800");
}

TEST(SchemaDecodeTest, UnknownKeyWithoutCloseMatch) {
  Decoded r = Decode("http:\n  listen: a:1\n  frobnicate: 3\n");
  EXPECT_THAT(r.errors, ElementsAre("t.yml:3:3: unknown key 'frobnicate' in section 'http'"));
  EXPECT_EQ(r.config.http.listen, "a:1") << "good keys beside a bad one still decode";
}

TEST(SchemaDecodeTest, UnknownTopLevelSection) {
  Decoded r = Decode("htp:\n  listen: x\n");
  EXPECT_THAT(r.errors, ElementsAre("t.yml:1:1: unknown key 'htp' in section 'tyto', did you mean 'http'?"));
}

TEST(SchemaDecodeTest, WrongTypes) {
  EXPECT_THAT(Decode("http:\n  read_timeout: [1, 2]\n").errors,
              ElementsAre("t.yml:2:17: expected a duration, got a list"));
  EXPECT_THAT(Decode("http:\n  listen: {host: a}\n").errors,
              ElementsAre("t.yml:2:11: expected a string, got a mapping"));
  EXPECT_THAT(Decode("http:\n  max_body_bytes:\n    - 1\n").errors,
              ElementsAre("t.yml:3:5: expected a size, got a list"));
  EXPECT_THAT(Decode("http:\n  cors_origins: https://a\n").errors,
              ElementsAre("t.yml:2:17: expected a list of strings, got a scalar"));
  EXPECT_THAT(Decode("http:\n  cors_origins: [a, [b]]\n").errors,
              ElementsAre("t.yml:2:21: expected a string, got a list"));
  EXPECT_THAT(Decode("http:\n  gzip: [true]\n").errors,
              ElementsAre("t.yml:2:9: expected true or false, got a list"));
  EXPECT_THAT(Decode("workers: {a: 1}\n").errors, ElementsAre("t.yml:1:10: expected an integer, got a mapping"));
}

TEST(SchemaDecodeTest, WrongTypeKeepsDefault) {
  Decoded r = Decode("http:\n  read_timeout: [1, 2]\n  cors_origins: [a, [b]]\n");
  EXPECT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.config.http.read_timeout, std::chrono::seconds(30));
  EXPECT_THAT(r.config.http.cors_origins, IsEmpty()) << "a partly bad list is not half applied";
}

TEST(SchemaDecodeTest, BadDurationText) {
  Decoded r = Decode("http:\n  read_timeout: 30 seconds\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0], HasSubstr("t.yml:2:17: invalid duration '30 seconds': unknown unit ' seconds'"));
  EXPECT_THAT(Decode("http:\n  read_timeout: 5m1h\n").errors,
              ElementsAre(HasSubstr("t.yml:2:17: invalid duration '5m1h'")));
}

TEST(SchemaDecodeTest, DurationAndSizeBelowMinimum) {
  EXPECT_THAT(Decode("http:\n  read_timeout: 0s\n").errors,
              ElementsAre("t.yml:2:17: duration 0s is below the minimum 1ms"));
  EXPECT_THAT(Decode("http:\n  max_body_bytes: 512B\n").errors,
              ElementsAre("t.yml:2:19: size 512B is below the minimum 1KiB"));
  EXPECT_THAT(Decode("http:\n  max_body_bytes: 12XB\n").errors,
              ElementsAre(HasSubstr("t.yml:2:19: invalid size '12XB': unknown unit 'XB'")));
}

TEST(SchemaDecodeTest, IntegerOutOfRange) {
  EXPECT_THAT(Decode("http:\n  max_connections: 70000\n").errors,
              ElementsAre("t.yml:2:20: value 70000 out of range [1, 65535]"));
  EXPECT_THAT(Decode("http:\n  max_connections: 0\n").errors,
              ElementsAre("t.yml:2:20: value 0 out of range [1, 65535]"));
  // The default range is the member's type.
  EXPECT_THAT(Decode("workers: 2147483648\n").errors,
              ElementsAre("t.yml:1:10: value 2147483648 out of range [-2147483648, 2147483647]"));
  // Beyond int64 altogether.
  EXPECT_THAT(Decode("workers: 99999999999999999999\n").errors,
              ElementsAre("t.yml:1:10: expected an integer, got '99999999999999999999'"));
  Decoded r = Decode("workers: 2147483647\n");
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_EQ(r.config.workers, 2147483647);
}

TEST(SchemaDecodeTest, NotAnInteger) {
  EXPECT_THAT(Decode("workers: 1.5\n").errors, ElementsAre("t.yml:1:10: expected an integer, got '1.5'"));
  EXPECT_THAT(Decode("workers: ten\n").errors, ElementsAre("t.yml:1:10: expected an integer, got 'ten'"));
  EXPECT_THAT(Decode("workers: 0x10\n").errors, ElementsAre("t.yml:1:10: expected an integer, got '0x10'"));
}

TEST(SchemaDecodeTest, QuotedNumberIsNotAnInteger) {
  Decoded r = Decode("workers: \"8\"\n");
  EXPECT_THAT(r.errors, ElementsAre("t.yml:1:10: expected an integer, got '8'"));
  EXPECT_EQ(r.config.workers, 4);
  EXPECT_THAT(Decode("workers: '8'\n").errors, ElementsAre("t.yml:1:10: expected an integer, got '8'"));
}

TEST(SchemaDecodeTest, Numbers) {
  struct Price {
    double per_hour = 1.5;
  };
  Section<Price> price("price", "A price.");
  price.Number("per_hour", &Price::per_hour, "Per hour.", 0, 1000);
  auto decode = [&](const std::string& text, Price* p) {
    Diagnostics d;
    auto doc = ParseYaml(text, "t.yml");
    EXPECT_TRUE(doc.ok()) << doc.status().message();
    price.Decode(*doc, p, &d);
    return d.messages();
  };
  Price p;
  EXPECT_THAT(decode("per_hour: 2.49\n", &p), IsEmpty());
  EXPECT_EQ(p.per_hour, 2.49);
  EXPECT_THAT(decode("per_hour: 3\n", &p), IsEmpty());
  EXPECT_EQ(p.per_hour, 3);
  EXPECT_THAT(decode("per_hour: 1e-3\n", &p), IsEmpty());
  EXPECT_EQ(p.per_hour, 0.001);
  EXPECT_THAT(decode("per_hour: -1\n", &p), ElementsAre("t.yml:1:11: value -1 out of range [0, 1000]"));
  EXPECT_THAT(decode("per_hour: cheap\n", &p), ElementsAre("t.yml:1:11: expected a number, got 'cheap'"));
  EXPECT_THAT(decode("per_hour: .inf\n", &p), ElementsAre("t.yml:1:11: expected a number, got '.inf'"));
  EXPECT_THAT(decode("per_hour: \"2\"\n", &p), ElementsAre("t.yml:1:11: expected a number, got '2'"));
  EXPECT_EQ(p.per_hour, 0.001);
  std::vector<OptionDoc> docs;
  price.Document("", &docs);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].type, "number");
  EXPECT_EQ(docs[0].default_value, "1.5");
}

TEST(SchemaDecodeTest, BadBool) {
  EXPECT_THAT(Decode("http:\n  gzip: yes\n").errors, ElementsAre("t.yml:2:9: expected true or false, got 'yes'"));
  EXPECT_THAT(Decode("http:\n  gzip: 1\n").errors, ElementsAre("t.yml:2:9: expected true or false, got '1'"));
  EXPECT_THAT(Decode("http:\n  gzip: \"false\"\n").errors,
              ElementsAre("t.yml:2:9: expected true or false, got 'false'"))
      << "a quoted bool is a string";
  Decoded r = Decode("http:\n  gzip: False\n");
  EXPECT_THAT(r.errors, IsEmpty());
  EXPECT_FALSE(r.config.http.gzip);
}

TEST(SchemaDecodeTest, DuplicateKeys) {
  Decoded r = Decode("workers: 2\nlevel: warn\nworkers: 3\n");
  EXPECT_THAT(r.errors, ElementsAre("t.yml:3:1: duplicate key 'workers' in section 'tyto'"));
  EXPECT_EQ(r.config.workers, 2) << "the first occurrence wins";
  EXPECT_THAT(Decode("http:\n  gzip: true\n  gzip: false\n").errors,
              ElementsAre("t.yml:3:3: duplicate key 'gzip' in section 'http'"));
}

TEST(SchemaDecodeTest, EnumWithDidYouMean) {
  Decoded r = Decode("level: debgu\n");
  EXPECT_THAT(r.errors, ElementsAre("t.yml:1:8: invalid value 'debgu' (expected one of debug, info, warn, error), "
                                    "did you mean 'debug'?"));
  EXPECT_EQ(r.config.level, "info");
  EXPECT_THAT(Decode("level: loud\n").errors,
              ElementsAre("t.yml:1:8: invalid value 'loud' (expected one of debug, info, warn, error)"));
  EXPECT_THAT(Decode("level: [info]\n").errors, ElementsAre("t.yml:1:8: expected a string, got a list"));
}

TEST(SchemaDecodeTest, NestedSectionErrors) {
  EXPECT_THAT(Decode("http:\n  tls:\n    cert_fil: a.pem\n").errors,
              ElementsAre("t.yml:3:5: unknown key 'cert_fil' in section 'http.tls', did you mean 'cert_file'?"));
  EXPECT_THAT(Decode("http: 8080\n").errors, ElementsAre("t.yml:1:7: section 'http': expected a mapping, got a scalar"));
  EXPECT_THAT(Decode("http:\n  tls: [a]\n").errors,
              ElementsAre("t.yml:2:8: section 'http.tls': expected a mapping, got a list"));
}

TEST(SchemaDecodeTest, ListItemErrors) {
  Decoded r = Decode(R"(auth:
  tokens:
    - name: a
      scope: [read]
    - name: b
      scopes: read
    - just-a-string
)");
  EXPECT_THAT(r.errors,
              ElementsAre("t.yml:4:7: unknown key 'scope' in section 'auth.tokens[]', did you mean 'scopes'?",
                          "t.yml:6:15: expected a list of strings, got a scalar",
                          "t.yml:7:7: section 'auth.tokens[]': expected a mapping, got a scalar"));
  EXPECT_THAT(Decode("auth:\n  tokens: {name: a}\n").errors,
              ElementsAre("t.yml:2:11: expected a list, got a mapping"));
}

TEST(SchemaDecodeTest, MultipleErrorsAllReportedInFileOrder) {
  Decoded r = Decode(R"(http:
  listne: x
  read_timeout: 5x
  tls:
    cert_file: [a]
  gzip: maybe
auth:
  tokens:
    - nam: a
level: loud
workers: "1"
workers: 2
)");
  ASSERT_EQ(r.errors.size(), 8u) << ::testing::PrintToString(r.errors);
  EXPECT_THAT(r.errors[0], HasSubstr("t.yml:2:3: unknown key 'listne'"));
  EXPECT_THAT(r.errors[1], HasSubstr("t.yml:3:17: invalid duration '5x'"));
  EXPECT_EQ(r.errors[2], "t.yml:5:16: expected a string, got a list");
  EXPECT_EQ(r.errors[3], "t.yml:6:9: expected true or false, got 'maybe'");
  EXPECT_THAT(r.errors[4], HasSubstr("t.yml:9:7: unknown key 'nam'"));
  EXPECT_THAT(r.errors[5], HasSubstr("t.yml:10:8: invalid value 'loud'"));
  EXPECT_EQ(r.errors[6], "t.yml:11:10: expected an integer, got '1'");
  EXPECT_EQ(r.errors[7], "t.yml:12:1: duplicate key 'workers' in section 'tyto'");
}

TEST(SchemaDecodeTest, ValidateRunsAfterFieldsDecode) {
  EXPECT_THAT(Decode("http:\n  tls:\n    cert_file: c.pem\n").errors,
              ElementsAre("t.yml:3:5: tls needs both cert_file and key_file"));
  EXPECT_THAT(Decode("http:\n  tls:\n    cert_file: c.pem\n    key_file: k.pem\n").errors, IsEmpty());
  EXPECT_THAT(Decode("auth:\n  tokens:\n    - scopes: [read]\n").errors,
              ElementsAre("t.yml:3:7: token needs a name"));
}

TEST(SchemaDecodeTest, ValidateSkippedWhenFieldsFailed) {
  // The bad key is reported, the cross-field rule (which would also fire) is not.
  EXPECT_THAT(Decode("http:\n  tls:\n    cert_file: c.pem\n    kee_file: k.pem\n").errors,
              ElementsAre("t.yml:4:5: unknown key 'kee_file' in section 'http.tls', did you mean 'key_file'?"));
}

TEST(DiagnosticsTest, ToStatusJoinsMessages) {
  Diagnostics d;
  EXPECT_TRUE(d.empty());
  EXPECT_TRUE(d.ToStatus().ok());
  d.Add(Position{"a.yml", 1, 2}, "first");
  d.Add(Position{"a.yml", 0, 0}, "whole file");
  EXPECT_FALSE(d.empty());
  Status s = d.ToStatus();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "a.yml:1:2: first\na.yml: whole file");
}

TEST(ParseYamlTest, PositionsAreOneBased) {
  auto root = ParseYaml("a: 1\nb:\n  - x\n  - 'y'\n", "p.yml");
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  ASSERT_TRUE(root->IsMap());
  auto entries = root->entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first.scalar(), "a");
  EXPECT_EQ(entries[0].first.position().ToString(), "p.yml:1:1");
  EXPECT_EQ(entries[0].second.position().ToString(), "p.yml:1:4");
  EXPECT_FALSE(entries[0].second.quoted());
  auto items = entries[1].second.items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[1].scalar(), "y");
  EXPECT_TRUE(items[1].quoted());
  EXPECT_EQ(items[1].position().ToString(), "p.yml:4:5");
  EXPECT_EQ(items[1].KindName(), "a quoted string");
  EXPECT_EQ(entries[1].second.KindName(), "a list");
  EXPECT_EQ(root->KindName(), "a mapping");
}

TEST(ParseYamlTest, EmptyTextIsNull) {
  auto root = ParseYaml("", "e.yml");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->IsNull());
  EXPECT_EQ(root->KindName(), "nothing");
}

TEST(ParseYamlTest, SyntaxErrorsNameFileLineAndColumn) {
  const char* bad[] = {
      "http:\n  listen: [a, b\n",          // unclosed flow sequence
      "a: 1\n b: 2\n",                      // bad indentation
      "a: b: c\n",                          // a mapping as a plain value
      "a: [1]]\n",                          // stray bracket
      "a:\n  - x\n  y: z\n",                // a mapping key inside a sequence
  };
  for (const char* text : bad) {
    auto r = ParseYaml(text, "bad.yml");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), MatchesRegex("bad\\.yml:[1-9][0-9]*:[1-9][0-9]*: invalid YAML: .+"))
        << text;
  }
  auto r = ParseYaml("a: 1\nb: [1, 2\n", "bad.yml");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("bad.yml:3:1: invalid YAML"));
}

TEST(DocumentTest, RowsHaveDottedKeysAndFormattedDefaults) {
  std::vector<OptionDoc> rows;
  Schema().Document("", &rows);
  auto find = [&](const std::string& key) -> const OptionDoc* {
    for (const OptionDoc& r : rows) {
      if (r.key == key) return &r;
    }
    ADD_FAILURE() << "no row for " << key;
    return nullptr;
  };
  struct Want {
    std::string key, type, default_value, help;
  };
  const Want want[] = {
      {"http.listen", "string", "127.0.0.1:9800", "HOST:PORT."},
      {"http.read_timeout", "duration", "30s", "Read timeout."},
      {"http.max_body_bytes", "size", "16KiB", "Largest body."},
      {"http.max_connections", "integer", "100", "Connections."},
      {"http.gzip", "bool", "true", "Compress."},
      {"http.cors_origins", "list of strings", "[]", "Origins."},
      {"http.tls.cert_file", "string", "\"\"", "Certificate."},
      {"http.tls.key_file", "string", "\"\"", "Private key."},
      {"auth.tokens", "list of mappings", "[]", "An API token."},
      {"auth.tokens[].name", "string", "\"\"", "Holder."},
      {"auth.tokens[].scopes", "list of strings", "[]", "Scopes."},
      {"level", "one of debug, info, warn, error", "info", "Log level."},
      {"workers", "integer", "4", "Workers."},
  };
  for (const Want& w : want) {
    const OptionDoc* row = find(w.key);
    if (row == nullptr) continue;
    EXPECT_EQ(row->type, w.type) << w.key;
    EXPECT_EQ(row->default_value, w.default_value) << w.key;
    EXPECT_EQ(row->help, w.help) << w.key;
  }
  // Sections are rows only through their options.
  for (const OptionDoc& r : rows) {
    EXPECT_NE(r.key, "http");
    EXPECT_NE(r.key, "http.tls");
    EXPECT_NE(r.key, "auth");
  }
  EXPECT_EQ(rows.size(), std::size(want));
}

TEST(DocumentTest, PrefixIsPrepended) {
  Section<TlsConfig> tls("tls", "TLS.");
  tls.String("cert_file", &TlsConfig::cert_file, "Certificate.");
  std::vector<OptionDoc> rows;
  tls.Document("server.tls", &rows);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "server.tls.cert_file");
  EXPECT_THAT(tls.Keys(), ElementsAre("cert_file"));
}

TEST(DidYouMeanTest, ReturnsClosestCandidate) {
  std::vector<std::string> keys = {"listen", "read_timeout", "write_timeout", "gzip"};
  EXPECT_EQ(DidYouMean("listne", keys), "listen");  // swapped neighbours cost one
  EXPECT_EQ(DidYouMean("lisen", keys), "listen");
  EXPECT_EQ(DidYouMean("read_timout", keys), "read_timeout");
  EXPECT_EQ(DidYouMean("wirte_timeout", keys), "write_timeout");
  EXPECT_EQ(DidYouMean("gzpi", keys), "gzip");
  EXPECT_EQ(DidYouMean("listen", keys), "listen");
}

TEST(DidYouMeanTest, ReturnsEmptyWhenNothingIsClose) {
  std::vector<std::string> keys = {"listen", "read_timeout", "gzip"};
  EXPECT_EQ(DidYouMean("frobnicate", keys), "");
  EXPECT_EQ(DidYouMean("xyzzy", keys), "");
  EXPECT_EQ(DidYouMean("listen", {}), "");
}

TEST(DidYouMeanTest, PrefersTheNearerOfTwo) {
  EXPECT_EQ(DidYouMean("infp", {"info", "warn"}), "info");
  EXPECT_EQ(DidYouMean("wam", {"info", "warn"}), "warn");
}

TEST(SchemaEncodeTest, WritesEveryOptionInTableOrderAndReadsBack) {
  Decoded r = Decode(R"(
http:
  listen: "0.0.0.0:9900"
  read_timeout: 1m30s
  cors_origins: [https://grafana.example, "true"]
  tls: {cert_file: /c.pem, key_file: /k.pem}
auth:
  tokens:
    - {name: grafana, scopes: [read]}
    - {name: "123", scopes: []}
level: debug
)");
  ASSERT_THAT(r.errors, IsEmpty());
  Writer w;
  Schema().Encode(r.config, w);
  EXPECT_EQ(w.Text(),
            "http:\n"
            "  listen: 0.0.0.0:9900\n"
            "  read_timeout: 1m30s\n"
            "  max_body_bytes: 16KiB\n"
            "  max_connections: 100\n"
            "  gzip: true\n"
            "  cors_origins:\n"
            "    - https://grafana.example\n"
            "    - \"true\"\n"
            "  tls:\n"
            "    cert_file: /c.pem\n"
            "    key_file: /k.pem\n"
            "auth:\n"
            "  tokens:\n"
            "    - name: grafana\n"
            "      scopes:\n"
            "        - read\n"
            "    - name: \"123\"\n"
            "      scopes: []\n"
            "level: debug\n"
            "workers: 4\n");
  Decoded again = Decode(w.Text());
  ASSERT_THAT(again.errors, IsEmpty()) << w.Text();
  Writer w2;
  Schema().Encode(again.config, w2);
  EXPECT_EQ(w2.Text(), w.Text());
}

struct Credentials {
  std::string user;
  std::string password;
  std::string token;
  std::map<std::string, std::string> labels;
};

TEST(SchemaEncodeTest, SecretsAreRedactedWhenSet) {
  Section<Credentials> s("credentials", "Credentials.");
  s.String("user", &Credentials::user, "User.")
      .Secret("password", &Credentials::password, "Password.")
      .Secret("token", &Credentials::token, "Token.")
      .StringMap("labels", &Credentials::labels, "Labels.");
  Writer w;
  s.Encode({"admin", "hunter2", "", {{"env", "prod"}, {"empty", ""}}}, w);
  EXPECT_EQ(w.Text(), "user: admin\npassword: <secret>\ntoken: \"\"\nlabels:\n  empty: \"\"\n  env: prod\n");
  std::vector<OptionDoc> docs;
  s.Document("", &docs);
  EXPECT_EQ(docs[1].type, "string");  // documented as any string
}

TEST(YamlWriterTest, QuotesWhatWouldReadBackAsSomethingElse) {
  Writer w;
  w.BeginList();
  for (const char* s : {"plain", "", "true", "False", "null", "~", "12", "1.5", "0x10", "1h", "a: b", "- x", "#c", "{}",
                        "it's", "two\nlines"}) {
    w.String(s);
  }
  w.EndList();
  auto root = ParseYaml(w.Text(), "w.yml");
  ASSERT_TRUE(root.ok()) << w.Text();
  std::vector<std::string> back;
  for (const Node& n : root->items()) {
    EXPECT_TRUE(n.IsScalar()) << w.Text();
    back.push_back(n.scalar());
  }
  EXPECT_THAT(back, ElementsAre("plain", "", "true", "False", "null", "~", "12", "1.5", "0x10", "1h", "a: b", "- x",
                                "#c", "{}", "it's", "two\nlines"));
  EXPECT_THAT(w.Text(), HasSubstr("- plain\n"));
  EXPECT_THAT(w.Text(), HasSubstr("- 1h\n"));
  EXPECT_THAT(w.Text(), HasSubstr("- \"true\"\n"));
  EXPECT_THAT(w.Text(), HasSubstr("- \"12\"\n"));
}

}  // namespace
}  // namespace tyto::config
