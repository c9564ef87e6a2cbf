// The llm_judge option table and its validation.
#include "judge/options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "evaluate/options.h"
#include "testing/temp_dir.h"

namespace tyto::judge {
namespace {

using namespace std::chrono_literals;

evaluate::Options Minimal() {
  return {{"url", "http://127.0.0.1:8000/v1/chat/completions"}, {"model", "qwen2.5-7b-instruct"}};
}

TEST(OptionsTest, TableHasEveryOptionOnceWithHelp) {
  std::set<std::string> names;
  for (const auto& spec : OptionTable()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    EXPECT_FALSE(spec.help.empty()) << spec.name;
    if (spec.required) {
      EXPECT_TRUE(spec.default_value.empty()) << spec.name;
    }
  }
  for (const char* want :
       {"url", "model", "api_key_file", "ca_file", "insecure_skip_verify", "rubric", "prompt", "timeout", "retries",
        "concurrency", "queue_timeout", "max_tokens", "max_input_chars", "input_price_per_1k", "output_price_per_1k"}) {
    EXPECT_TRUE(names.contains(want)) << want;
  }
}

TEST(OptionsTest, DefaultsFromTheTable) {
  auto o = ParseOptions(Minimal(), Env::Default());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->endpoint.host, "127.0.0.1");
  EXPECT_EQ(o->endpoint.port, 8000);
  EXPECT_EQ(o->endpoint.path, "/v1/chat/completions");
  EXPECT_FALSE(o->endpoint.https);
  EXPECT_EQ(o->model, "qwen2.5-7b-instruct");
  EXPECT_EQ(o->api_key, "");
  EXPECT_EQ(o->rubric, Rubric::kHelpfulness);
  EXPECT_EQ(o->timeout, 30s);
  EXPECT_EQ(o->retries, 2);
  EXPECT_EQ(o->retry_backoff, 500ms);
  EXPECT_EQ(o->max_retry_wait, 30s);
  EXPECT_EQ(o->concurrency, 4);
  EXPECT_EQ(o->queue_timeout, 60s);
  EXPECT_EQ(o->max_tokens, 256);
  EXPECT_EQ(o->max_input_chars, 8000u);
  EXPECT_EQ(o->input_price_per_1k, 0);
  EXPECT_EQ(o->output_price_per_1k, 0);
  EXPECT_FALSE(o->tls.insecure_skip_verify);
}

TEST(OptionsTest, EveryOptionSet) {
  testing::TempDir dir;
  std::ofstream(dir.Path("key")) << "  sk-local-123\n";
  evaluate::Options opts = Minimal();
  opts["url"] = "https://judge.internal:8443/v1/chat/completions?api-version=1";
  opts["api_key_file"] = dir.Path("key");
  opts["ca_file"] = "/etc/ssl/judge-ca.pem";
  opts["insecure_skip_verify"] = "true";
  opts["rubric"] = "custom";
  opts["prompt"] = "  Rate politeness from 1 (rude) to 5 (courteous).\n";
  opts["timeout"] = "10s";
  opts["retries"] = "0";
  opts["retry_backoff"] = "1ms";
  opts["max_retry_wait"] = "2s";
  opts["concurrency"] = "16";
  opts["queue_timeout"] = "0s";
  opts["max_tokens"] = "64";
  opts["max_input_chars"] = "2000";
  opts["input_price_per_1k"] = "0.0005";
  opts["output_price_per_1k"] = "1.5e-3";
  auto o = ParseOptions(opts, Env::Default());
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->endpoint.https);
  EXPECT_EQ(o->endpoint.query, "api-version=1");
  EXPECT_EQ(o->api_key, "sk-local-123");
  EXPECT_EQ(o->tls.ca_file, "/etc/ssl/judge-ca.pem");
  EXPECT_TRUE(o->tls.insecure_skip_verify);
  EXPECT_EQ(o->rubric, Rubric::kCustom);
  EXPECT_EQ(o->custom_rubric, "Rate politeness from 1 (rude) to 5 (courteous).");
  EXPECT_EQ(o->timeout, 10s);
  EXPECT_EQ(o->retries, 0);
  EXPECT_EQ(o->retry_backoff, 1ms);
  EXPECT_EQ(o->max_retry_wait, 2s);
  EXPECT_EQ(o->concurrency, 16);
  EXPECT_EQ(o->queue_timeout, 0ms);
  EXPECT_EQ(o->max_tokens, 64);
  EXPECT_EQ(o->max_input_chars, 2000u);
  EXPECT_DOUBLE_EQ(o->input_price_per_1k, 0.0005);
  EXPECT_DOUBLE_EQ(o->output_price_per_1k, 0.0015);
}

void ExpectInvalid(evaluate::Options opts, std::string_view want) {
  auto o = ParseOptions(opts, Env::Default());
  ASSERT_FALSE(o.ok()) << want;
  EXPECT_EQ(o.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(o.status().message().find(want), std::string::npos) << o.status().message();
}

evaluate::Options With(std::string name, std::string value) {
  evaluate::Options o = Minimal();
  o[std::move(name)] = std::move(value);
  return o;
}

TEST(OptionsTest, ValidationErrorsNameTheOption) {
  ExpectInvalid({{"model", "m"}}, "option url: required");
  ExpectInvalid({{"url", "http://127.0.0.1:8000/v1/chat/completions"}}, "option model: required");
  ExpectInvalid(With("model", ""), "option model: required");
  ExpectInvalid(With("url", "ftp://judge/v1"), "option url:");
  ExpectInvalid(With("url", "http://user:pw@judge/v1"), "option url:");
  ExpectInvalid(With("rubric", "friendliness"), "option rubric: want helpfulness, correctness");
  ExpectInvalid(With("rubric", "custom"), "option prompt: rubric: custom needs the rubric text");
  ExpectInvalid(With("prompt", "Rate it."), "option prompt: is read only with rubric: custom");
  ExpectInvalid(With("timeout", "30"), "option timeout:");
  ExpectInvalid(With("timeout", "0s"), "option timeout: must be more than 0");
  ExpectInvalid(With("retries", "-1"), "option retries: want a whole number from 0 to 10");
  ExpectInvalid(With("retries", "11"), "option retries: want a whole number from 0 to 10");
  ExpectInvalid(With("retries", "1.5"), "option retries: want a whole number");
  ExpectInvalid(With("retries", "two"), "option retries: want a number, got \"two\"");
  ExpectInvalid(With("concurrency", "0"), "option concurrency: want a whole number from 1 to 1024");
  ExpectInvalid(With("max_tokens", "0"), "option max_tokens:");
  ExpectInvalid(With("max_input_chars", "10"), "option max_input_chars: want a whole number from 100");
  ExpectInvalid(With("input_price_per_1k", "-0.1"), "option input_price_per_1k: must not be negative");
  ExpectInvalid(With("output_price_per_1k", "nan"), "option output_price_per_1k: want a number");
  ExpectInvalid(With("insecure_skip_verify", "yes"), "option insecure_skip_verify: want true or false");
  evaluate::Options waits = Minimal();
  waits["retry_backoff"] = "10s";
  waits["max_retry_wait"] = "1s";
  ExpectInvalid(waits, "option max_retry_wait: must be at least retry_backoff");
}

TEST(OptionsTest, ApiKeyFileMustHoldOneKey) {
  testing::TempDir dir;
  ExpectInvalid(With("api_key_file", dir.Path("missing")), "option api_key_file:");
  std::ofstream(dir.Path("empty")) << " \n";
  ExpectInvalid(With("api_key_file", dir.Path("empty")), "is empty");
  std::ofstream(dir.Path("two")) << "key-one\nkey-two\n";
  ExpectInvalid(With("api_key_file", dir.Path("two")), "holds control characters");
}

// docs/judge.md's option table (its "## Options" section): one row per option, "| `name` | type | default | meaning |",
// in the table's order, with the type's name and the default as the table has them.
TEST(OptionsTest, DocsListEveryOptionWithItsTypeAndDefault) {
  std::ifstream in(std::string(TYTO_SOURCE_DIR) + "/docs/judge.md");
  ASSERT_TRUE(in.good());
  std::vector<std::string> rows;  // of the "## Options" section
  bool in_section = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Options";
    if (in_section && line.rfind("| `", 0) == 0) rows.push_back(line);
  }
  std::vector<std::string> documented;
  std::map<std::string, std::string> row_of;
  for (const std::string& row : rows) {
    const size_t end = row.find("` |", 3);
    if (end == std::string::npos) continue;
    const std::string name = row.substr(3, end - 3);
    bool is_option = false;
    for (const auto& spec : OptionTable()) is_option |= spec.name == name;
    if (!is_option) continue;
    documented.push_back(name);
    row_of[name] = row;
  }
  std::vector<std::string> declared;
  for (const auto& spec : OptionTable()) {
    declared.push_back(spec.name);
    std::string want = "| `" + spec.name + "` | " + std::string(evaluate::OptionTypeName(spec.type)) + " | ";
    if (spec.required) {
      want += "**required** |";
    } else if (spec.default_value.empty()) {
      want += "|";
    } else {
      want += "`" + spec.default_value + "` |";
    }
    EXPECT_EQ(row_of[spec.name].rfind(want, 0), 0u)
        << "docs/judge.md row for " << spec.name << " should start with " << want << "\n  it is: " << row_of[spec.name];
  }
  EXPECT_EQ(documented, declared);
}

}  // namespace
}  // namespace tyto::judge
