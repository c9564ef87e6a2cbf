#include "rules/rule_file.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tyto::rules {
namespace {

using std::chrono::milliseconds;

// The examples of Prometheus's recording_rules.md and alerting_rules.md, in our own words.
constexpr std::string_view kExample = R"(groups:
  - name: example
    interval: 1m30s
    limit: 10
    query_offset: 1m
    labels:
      team: infra
    rules:
      - record: code:prometheus_http_requests_total:sum
        expr: sum by (code) (prometheus_http_requests_total)
      - record: job:http_inprogress_requests:sum
        expr: sum by (job) (http_inprogress_requests)
        labels:
          source: recording
  - name: alerts
    rules:
      - alert: HighRequestLatency
        expr: job:request_latency_seconds:mean5m{job="myjob"} > 0.5
        for: 10m
        keep_firing_for: 5m
        labels:
          severity: page
        annotations:
          summary: High request latency on {{ $labels.instance }}
          description: "{{ $labels.job }} latency is {{ $value | humanizeDuration }}"
      - alert: InstanceDown
        expr: up == 0
        for: 1w
)";

TEST(RuleFileTest, ParsesPrometheusExample) {
  Result<RuleFile> file = ParseRuleFile(kExample, "rules.yml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->filename, "rules.yml");
  ASSERT_EQ(file->groups.size(), 2u);
  const RuleGroup& g = file->groups[0];
  EXPECT_EQ(g.name, "example");
  EXPECT_EQ(g.interval, milliseconds(90'000));
  EXPECT_EQ(g.limit, 10);
  EXPECT_EQ(g.query_offset, milliseconds(60'000));
  EXPECT_EQ(g.labels, (LabelList{{"team", "infra"}}));
  EXPECT_EQ(g.position.line, 2);
  ASSERT_EQ(g.rules.size(), 2u);
  EXPECT_EQ(g.rules[0].kind, Rule::Kind::kRecording);
  EXPECT_EQ(g.rules[0].name, "code:prometheus_http_requests_total:sum");
  EXPECT_EQ(g.rules[0].expr, "sum by (code) (prometheus_http_requests_total)");
  EXPECT_NE(g.rules[0].parsed_expr, nullptr);
  EXPECT_EQ(g.rules[1].labels, (LabelList{{"source", "recording"}}));

  const RuleGroup& a = file->groups[1];
  EXPECT_FALSE(a.interval.has_value());
  EXPECT_FALSE(a.query_offset.has_value());
  ASSERT_EQ(a.rules.size(), 2u);
  const Rule& r = a.rules[0];
  EXPECT_EQ(r.kind, Rule::Kind::kAlerting);
  EXPECT_EQ(r.name, "HighRequestLatency");
  EXPECT_EQ(r.for_duration, milliseconds(600'000));
  EXPECT_EQ(r.keep_firing_for, milliseconds(300'000));
  EXPECT_EQ(r.labels, (LabelList{{"severity", "page"}}));
  ASSERT_EQ(r.annotations.size(), 2u);
  ASSERT_EQ(r.annotation_templates.size(), 2u);
  TemplateData data;
  data.labels = {{"instance", "web-1"}, {"job", "api"}};
  data.value = 0.75;
  Result<std::string> summary = r.annotation_templates[0].Execute(data);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(*summary, "High request latency on web-1");
  Result<std::string> description = r.annotation_templates[1].Execute(data);
  ASSERT_TRUE(description.ok());
  EXPECT_EQ(*description, "api latency is 750ms");
  EXPECT_EQ(a.rules[1].for_duration, milliseconds(7LL * 24 * 3600 * 1000));
  EXPECT_EQ(r.position.line, 17);
}

TEST(RuleFileTest, EmptyFiles) {
  Result<RuleFile> empty = ParseRuleFile("", "e.yml");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->groups.empty());
  Result<RuleFile> no_groups = ParseRuleFile("groups: []\n", "e.yml");
  ASSERT_TRUE(no_groups.ok());
  Result<RuleFile> no_rules = ParseRuleFile("groups:\n  - name: g\n", "e.yml");
  ASSERT_TRUE(no_rules.ok()) << no_rules.status().ToString();
  EXPECT_TRUE(no_rules->groups[0].rules.empty());
}

std::string Errors(std::string_view yaml) {
  Result<RuleFile> file = ParseRuleFile(yaml, "r.yml");
  if (file.ok()) return "OK";
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);
  return file.status().message();
}

TEST(RuleFileTest, EveryErrorWithItsPosition) {
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - expr: up\n"),
            "r.yml:4:9: one of 'record' or 'alert' must be set");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        alert: b\n        expr: up\n"),
            "r.yml:4:9: only one of 'record' and 'alert' must be set");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n"), "r.yml:4:9: field 'expr' must be set in rule");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: 'sum(up'\n")
                .rfind("r.yml:5:15: could not parse expression: ", 0),
            0u);
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: ''\n        expr: up\n"),
            "r.yml:4:17: invalid recording rule name: ");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: ''\n        expr: up\n"),
            "r.yml:4:16: invalid alerting rule name: ");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 5m\n"),
            "r.yml:6:14: invalid field 'for' in recording rule");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        keep_firing_for: 5m\n"),
            "r.yml:6:26: invalid field 'keep_firing_for' in recording rule");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        annotations: {a: b}\n"),
            "r.yml:6:22: invalid field 'annotations' in recording rule");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        for: 5 minutes\n")
                .rfind("r.yml:6:14: 'for': invalid duration '5 minutes'", 0),
            0u);
  EXPECT_EQ(Errors("groups:\n  - name: g\n    labels: {team: '{{ .Bad'}\n    rules:\n      - alert: a\n        expr: up\n")
                .rfind("r.yml:3:20: invalid template in group label 'team': ", 0),
            0u);
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        labels: {__name__: x}\n"),
            "r.yml:6:18: invalid label name: __name__");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        labels: {'': x}\n"),
            "r.yml:6:18: invalid label name: ");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        annotations:\n"
                   "          summary: '{{ nosuch }}'\n"),
            "r.yml:7:20: invalid template in annotation 'summary': template: 1:4: function \"nosuch\" not defined");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        labels:\n"
                   "          sev: '{{ if }}'\n"),
            "r.yml:7:16: invalid template in label 'sev': template: 1:7: missing value for if");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        colour: red\n"),
            "r.yml:6:9: unknown field 'colour' in rule");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    interval: often\n").rfind("r.yml:3:15: 'interval': invalid duration", 0), 0u);
  EXPECT_EQ(Errors("groups:\n  - name: g\n    limit: -1\n"), "r.yml:3:12: 'limit' must be a non-negative integer, got '-1'");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    limit: 99999999999999999999999\n"),
            "r.yml:3:12: 'limit' must be a non-negative integer, got '99999999999999999999999'");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    limit: 1 in99\n"), "r.yml:3:12: 'limit' must be a non-negative integer, got '1 in99'");
  EXPECT_EQ(Errors("groups:\n  - rules: []\n"), "r.yml:2:5: group name must not be empty");
  EXPECT_EQ(Errors("groups:\n  - name: g\n  - name: g\n"), "r.yml:3:5: group name 'g' is repeated in the same file");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    lables: {}\n"), "r.yml:3:5: unknown field 'lables' in rule group");
  EXPECT_EQ(Errors("grups: []\n"), "r.yml:1:1: unknown field 'grups' in rule file");
  EXPECT_EQ(Errors("- a\n"), "r.yml:1:1: a rule file must be a mapping with 'groups', got a list");
  EXPECT_EQ(Errors("groups: 3\n"), "r.yml:1:9: 'groups' must be a list, got a scalar");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - alert: a\n        expr: up\n        labels: {a: x, a: y}\n"),
            "r.yml:6:24: label 'a' is repeated");
  EXPECT_EQ(Errors("groups: [\n").rfind("r.yml:", 0), 0u);
}

TEST(RuleFileTest, CollectsAllErrors) {
  std::string errors = Errors(
      "groups:\n"
      "  - name: g\n"
      "    rules:\n"
      "      - record: a\n"
      "        expr: 'rate(x[5m]'\n"
      "      - alert: b\n"
      "        expr: up\n"
      "        for: soon\n"
      "  - name: g\n");
  EXPECT_NE(errors.find("r.yml:5:15: could not parse expression"), std::string::npos) << errors;
  EXPECT_NE(errors.find("r.yml:8:14: 'for': invalid duration"), std::string::npos) << errors;
  EXPECT_NE(errors.find("r.yml:9:5: group name 'g' is repeated in the same file"), std::string::npos) << errors;
  EXPECT_EQ(std::count(errors.begin(), errors.end(), '\n'), 2) << errors;
}

TEST(RuleFileTest, ZeroForAndEmptyAnnotationsAllowedOnRecordingRules) {
  // Prometheus checks `for != 0` and `len(annotations) > 0`, not the keys' presence.
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 0s\n"
                   "        keep_firing_for: 0\n        annotations: {}\n"),
            "OK");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        for: 1x\n")
                .rfind("r.yml:6:14: 'for': invalid duration '1x'", 0),
            0u);
}

TEST(RuleFileTest, Utf8Names) {
  // Prometheus 3 accepts any valid UTF-8 as metric and label names.
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: utf-8 enabled name\n        expr: up\n"
                   "        labels: {'a b c': bar}\n"),
            "OK");
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        labels: {a: \"x\xff\"}\n")
                .rfind("r.yml:", 0),
            0u)
      << "invalid UTF-8 is refused, by the YAML reader or by the label check";
}

TEST(RuleFileTest, TemplatesOnlyCheckedInAlerts) {
  // Recording rules' labels are not templates in Prometheus.
  EXPECT_EQ(Errors("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n        labels: {x: '{{'}\n"),
            "OK");
}

}  // namespace
}  // namespace tyto::rules
