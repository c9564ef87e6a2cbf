#include "rules/template.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace tyto::rules {
namespace {

TemplateData Data(double value = 0) {
  TemplateData d;
  d.labels = {{"instance", "host-1:9100"}, {"job", "node"}, {"severity", "page"}};
  d.external_labels = {{"cluster", "eu-1"}};
  d.external_url = "http://tyto:9090";
  d.value = value;
  return d;
}

// Parses and executes; the error's message when either fails.
std::string Expand(std::string_view text, const TemplateData& data = Data()) {
  Result<Template> t = Template::Parse(text);
  if (!t.ok()) return "PARSE: " + t.status().message();
  Result<std::string> out = t->Execute(data);
  if (!out.ok()) return "EXEC: " + out.status().message();
  return *out;
}

std::string RunValue(std::string_view text, double value) { return Expand(text, Data(value)); }

TEST(TemplateTest, TextAndLabels) {
  EXPECT_EQ(Expand(""), "");
  EXPECT_EQ(Expand("plain text"), "plain text");
  EXPECT_EQ(Expand("{{ $labels.instance }} of job {{ $labels.job }}"), "host-1:9100 of job node");
  EXPECT_EQ(Expand("{{ .Labels.job }}"), "node");
  EXPECT_EQ(Expand("{{ $externalLabels.cluster }} {{ .ExternalLabels.cluster }}"), "eu-1 eu-1");
  EXPECT_EQ(Expand("{{ $externalURL }}/alerts"), "http://tyto:9090/alerts");
  // A missing label is the empty string (Prometheus runs templates with missingkey=zero).
  EXPECT_EQ(Expand("[{{ $labels.nope }}]"), "[]");
  EXPECT_EQ(Expand("{{ index $labels \"job\" }}"), "node");
  EXPECT_EQ(Expand("{{/* a comment */}}x"), "x");
}

TEST(TemplateTest, ValuePrintsAsGoPrintsFloat64) {
  EXPECT_EQ(RunValue("{{ $value }}", 11), "11");
  EXPECT_EQ(RunValue("{{ .Value }}", 1.5), "1.5");
  EXPECT_EQ(RunValue("{{ $value }}", 0.1), "0.1");
  EXPECT_EQ(RunValue("{{ $value }}", 100000), "100000");
  // Go's %v switches to an exponent from 1e6 (strconv's shortest 'g').
  EXPECT_EQ(RunValue("{{ $value }}", 1e6), "1e+06");
  EXPECT_EQ(RunValue("{{ $value }}", 0.00001), "1e-05");
  EXPECT_EQ(RunValue("{{ $value }}", std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(RunValue("{{ $value }}", -std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(TemplateTest, WhitespaceTrimming) {
  EXPECT_EQ(Expand("a  {{- \"b\" -}}  c"), "abc");
  EXPECT_EQ(Expand("a\n  {{- /* gone */ -}}\n  c"), "ac");
  EXPECT_EQ(Expand("{{ -3 }}"), "-3");
}

// Outputs of Prometheus's template tests (template/template_test.go) and its docs
// (docs/configuration/template_reference.md), checked by hand.
TEST(TemplateTest, Humanize) {
  EXPECT_EQ(RunValue("{{ humanize $value }}", 0), "0");
  EXPECT_EQ(RunValue("{{ humanize $value }}", 1), "1");
  EXPECT_EQ(RunValue("{{ $value | humanize }}", 1234567), "1.235M");
  EXPECT_EQ(RunValue("{{ humanize $value }}", 0.12), "120m");
  EXPECT_EQ(RunValue("{{ humanize $value }}", -1234), "-1.234k");
  EXPECT_EQ(RunValue("{{ humanize $value }}", 1e30), "1e+06Y");
  EXPECT_EQ(RunValue("{{ humanize $value }}", std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Expand("{{ humanize \"1234567\" }}"), "1.235M");
  EXPECT_EQ(Expand("{{ humanize 1000 }}"), "1k");
  EXPECT_EQ(Expand("{{ humanize \"abc\" }}").rfind("EXEC: ", 0), 0u);
}

TEST(TemplateTest, Humanize1024) {
  EXPECT_EQ(RunValue("{{ humanize1024 $value }}", 0), "0");
  EXPECT_EQ(RunValue("{{ humanize1024 $value }}", 1), "1");
  EXPECT_EQ(RunValue("{{ humanize1024 $value }}", 1048576), "1Mi");
  EXPECT_EQ(RunValue("{{ humanize1024 $value }}", 0.12), "0.12");
  EXPECT_EQ(RunValue("{{ humanize1024 $value }}", 1536), "1.5ki");
}

TEST(TemplateTest, HumanizeDuration) {
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 0), "0s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 1), "1s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 60), "1m 0s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 3600), "1h 0m 0s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 86400), "1d 0h 0m 0s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 86400 + 3600), "1d 1h 0m 0s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", -(86400 * 2 + 3600 * 3 + 60 * 4 + 5)), "-2d 3h 4m 5s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 899.99), "14m 59s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 0.1), "100ms");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 0.0001), "100us");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 0.12345), "123.5ms");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 60.1), "1m 0s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 1.2345), "1.234s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", 12.345), "12.35s");
  EXPECT_EQ(RunValue("{{ humanizeDuration $value }}", std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(TemplateTest, HumanizePercentageAndTimestamp) {
  EXPECT_EQ(RunValue("{{ humanizePercentage $value }}", 0), "0%");
  EXPECT_EQ(RunValue("{{ humanizePercentage $value }}", 0.1234567), "12.35%");
  EXPECT_EQ(RunValue("{{ humanizePercentage $value }}", 1), "100%");
  EXPECT_EQ(RunValue("{{ humanizeTimestamp $value }}", 1435065584.128), "2015-06-23 13:19:44.128 +0000 UTC");
  EXPECT_EQ(RunValue("{{ humanizeTimestamp $value }}", 0), "1970-01-01 00:00:00 +0000 UTC");
  EXPECT_EQ(RunValue("{{ humanizeTimestamp $value }}", 1.5), "1970-01-01 00:00:01.5 +0000 UTC");
  EXPECT_EQ(RunValue("{{ humanizeTimestamp $value }}", -1), "1969-12-31 23:59:59 +0000 UTC");
  EXPECT_EQ(Expand("{{ humanizeTimestamp \"1435065584.128\" }}"), "2015-06-23 13:19:44.128 +0000 UTC");
  EXPECT_EQ(RunValue("{{ humanizeTimestamp $value }}", 1e300).rfind("EXEC: ", 0), 0u);
}

TEST(TemplateTest, StringFunctions) {
  EXPECT_EQ(Expand("{{ \"aa bb CC\" | title }}"), "Aa Bb CC");
  EXPECT_EQ(Expand("{{ \"aa bb CC\" | toUpper }}"), "AA BB CC");
  EXPECT_EQ(Expand("{{ \"aa bb CC\" | toLower }}"), "aa bb cc");
  EXPECT_EQ(Expand("{{ match \"a+\" \"graphite\" }}"), "true");
  EXPECT_EQ(Expand("{{ match \"^x\" \"graphite\" }}"), "false");
  EXPECT_EQ(Expand("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}"), "xa");
  EXPECT_EQ(Expand("{{ reReplaceAll \":.*\" \"\" $labels.instance }}"), "host-1");
  EXPECT_EQ(Expand("{{ reReplaceAll \"(?P<h>[a-z]+)-(\\\\d)\" \"${2}_$h\" \"host-1\" }}"), "1_host");
  EXPECT_EQ(Expand("{{ reReplaceAll \"a*\" \"-\" \"baac\" }}"), "-b-c-");
  EXPECT_EQ(Expand("{{ reReplaceAll \"x\" \"$$\" \"axb\" }}"), "a$b");
  EXPECT_EQ(Expand("{{ stripPort \"foo.com:8080\" }}"), "foo.com");
  EXPECT_EQ(Expand("{{ stripPort \"[::1]:8080\" }}"), "::1");
  EXPECT_EQ(Expand("{{ stripPort \"foo.com\" }}"), "foo.com");
  EXPECT_EQ(Expand("{{ stripPort \"::1\" }}"), "::1");
  EXPECT_EQ(Expand("{{ \"<b>\" | safeHtml }}"), "<b>");
  EXPECT_EQ(Expand("{{ len $labels }} {{ len \"abc\" }}"), "3 3");
  EXPECT_EQ(Expand("{{ parseDuration \"1m30s\" }}"), "90");
  EXPECT_EQ(Expand("{{ urlquery \"a b&c\" }}"), "a+b%26c");
  EXPECT_EQ(Expand("{{ print 1 2 \"x\" 3 }}"), "1 2x3");
}

TEST(TemplateTest, Printf) {
  EXPECT_EQ(RunValue("{{ printf \"%.2f\" $value }}", 3.14159), "3.14");
  EXPECT_EQ(RunValue("{{ printf \"%f\" $value }}", 1.5), "1.500000");
  EXPECT_EQ(Expand("{{ printf \"%s=%q\" \"a\" \"b\\\"c\" }}"), "a=\"b\\\"c\"");
  EXPECT_EQ(Expand("{{ printf \"%d items\" 42 }}"), "42 items");
  EXPECT_EQ(RunValue("{{ printf \"%v\" $value }}", 2.5), "2.5");
  EXPECT_EQ(Expand("{{ printf \"%5d|%-4s|%05d\" 42 \"ab\" -7 }}"), "   42|ab  |-0007");
  EXPECT_EQ(Expand("{{ printf \"%d%%\" 5 }}"), "5%");
  // Go's fmt reports a wrong verb or argument count in the text rather than failing.
  EXPECT_EQ(RunValue("{{ printf \"%d\" $value }}", 1.5), "%!d(float64=1.5)");
  EXPECT_EQ(Expand("{{ printf \"%s %s\" \"a\" }}"), "a %!s(MISSING)");
  EXPECT_EQ(Expand("{{ printf \"%s\" \"a\" \"b\" }}"), "a%!(EXTRA string=b)");
}

TEST(TemplateTest, Conditions) {
  EXPECT_EQ(RunValue("{{ if gt $value 80.0 }}high{{ else if gt $value 50.0 }}mid{{ else }}low{{ end }}", 90), "high");
  EXPECT_EQ(RunValue("{{ if gt $value 80.0 }}high{{ else if gt $value 50.0 }}mid{{ else }}low{{ end }}", 60), "mid");
  EXPECT_EQ(RunValue("{{ if gt $value 80.0 }}high{{ else if gt $value 50.0 }}mid{{ else }}low{{ end }}", 10), "low");
  EXPECT_EQ(Expand("{{ if eq $labels.severity \"page\" \"critical\" }}wake{{ end }}"), "wake");
  EXPECT_EQ(Expand("{{ if ne $labels.job \"node\" }}x{{ else }}y{{ end }}"), "y");
  EXPECT_EQ(Expand("{{ if and $labels.job (not $labels.nope) }}ok{{ end }}"), "ok");
  EXPECT_EQ(Expand("{{ or $labels.nope \"default\" }}"), "default");
  EXPECT_EQ(Expand("{{ and 1 0 }}"), "0");
  EXPECT_EQ(Expand("{{ if lt 1 2 }}a{{ end }}{{ if le 2 2 }}b{{ end }}{{ if ge \"b\" \"a\" }}c{{ end }}"), "abc");
  EXPECT_EQ(Expand("{{ eq nil nil }} {{ eq 1 nil }} {{ ne \"a\" nil }}"), "true false true");
  EXPECT_EQ(Expand("{{ with $labels.job }}job={{ . }}{{ end }}"), "job=node");
  EXPECT_EQ(Expand("{{ with $labels.nope }}x{{ else }}none{{ end }}"), "none");
  // As in Go, an int and a float do not compare.
  EXPECT_NE(RunValue("{{ if gt $value 1 }}x{{ end }}", 2).find("incompatible types for comparison"),
            std::string::npos);
}

TEST(TemplateTest, VariablesAndRange) {
  EXPECT_EQ(Expand("{{ $x := \"a\" }}{{ $x }}{{ $x = \"b\" }}{{ $x }}"), "ab");
  EXPECT_EQ(Expand("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"),
            "instance=host-1:9100;job=node;severity=page;");
  EXPECT_EQ(Expand("{{ range $labels }}{{ . }},{{ end }}"), "host-1:9100,node,page,");
  EXPECT_EQ(Expand("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}{{ $k }};{{ end }}"),
            "instance;");
  EXPECT_EQ(Expand("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ continue }}{{ end }}{{ $k }};{{ end }}"),
            "instance;severity;");
  EXPECT_EQ(Expand("{{ range $labels.nope }}x{{ end }}"), "EXEC: template: 1:4: range can't iterate over ");
  EXPECT_EQ(Expand("{{ range .Labels }}{{ end }}done"), "done");
  EXPECT_EQ(Expand("{{ range 3 }}{{ . }}{{ end }}"), "012");
  EXPECT_EQ(Expand("{{ ( $labels ).job }}"), "node");
  EXPECT_EQ(Expand("{{ range $labels }}{{ $.Labels.job }}{{ break }}{{ end }}"), "node");
  EXPECT_EQ(Expand("{{ with $j := $labels.job }}{{ $j }}!{{ end }}"), "node!");
  // A variable declared in a block ends with it.
  EXPECT_EQ(Expand("{{ if 1 }}{{ $y := 2 }}{{ end }}{{ $y }}"), "PARSE: template: 1:36: undefined variable \"$y\"");
  EXPECT_EQ(Expand("{{ `raw {{ }} \\n` }}"), "raw {{ }} \\n");
}

TEST(TemplateTest, Query) {
  EXPECT_NE(Expand("{{ query \"up\" }}").find("query is not supported yet"), std::string::npos);
  TemplateData d = Data();
  d.query = [](std::string_view q) -> Result<std::vector<TemplateSample>> {
    if (q != "up") return InvalidArgument("bad query");
    return std::vector<TemplateSample>{{{{"instance", "a"}}, 1}, {{{"instance", "b"}}, 0}};
  };
  EXPECT_EQ(Expand("{{ range query \"up\" }}{{ .Labels.instance }}={{ .Value }} {{ end }}", d), "a=1 b=0 ");
  EXPECT_EQ(Expand("{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }}", d), "1");
  EXPECT_EQ(Expand("{{ query \"up\" | first | label \"instance\" }}", d), "a");
  EXPECT_NE(Expand("{{ query \"x\" }}", d).find("bad query"), std::string::npos);
}

TEST(TemplateTest, ParseErrorsNamePositions) {
  EXPECT_EQ(Expand("{{ $labels.job "), "PARSE: template: 1:1: unclosed action");
  EXPECT_EQ(Expand("ok {{ nosuch 1 }}"), "PARSE: template: 1:7: function \"nosuch\" not defined");
  EXPECT_EQ(Expand("{{ $nope }}"), "PARSE: template: 1:4: undefined variable \"$nope\"");
  EXPECT_EQ(Expand("{{ if 1 }}x"), "PARSE: template: 1:4: unexpected EOF: {{if}} has no {{end}}");
  EXPECT_EQ(Expand("x\n{{ end }}"), "PARSE: template: 2:4: unexpected {{end}}");
  EXPECT_EQ(Expand("{{ else }}"), "PARSE: template: 1:4: unexpected {{else}}");
  EXPECT_EQ(Expand("{{ }}"), "PARSE: template: 1:4: missing value for command");
  EXPECT_EQ(Expand("{{ \"a\" | \"b\" }}"), "PARSE: template: 1:10: non executable command in pipeline stage 2");
  EXPECT_EQ(Expand("{{ break }}"), "PARSE: template: 1:4: {{break}} outside {{range}}");
  EXPECT_EQ(Expand("{{ template \"x\" }}"), "PARSE: template: 1:4: {{template}} is not supported");
  EXPECT_EQ(Expand("{{ \"abc }}"), "PARSE: template: 1:4: unterminated quoted string");
  EXPECT_EQ(Expand("{{ (1 }}"), "PARSE: template: 1:7: unclosed left paren");
  EXPECT_EQ(Expand("{{ 1) }}"), "PARSE: template: 1:5: unexpected right paren");
  EXPECT_EQ(Expand("{{ 1x2 }}"), "PARSE: template: 1:4: bad number syntax: \"1x2\"");
  EXPECT_EQ(Expand("{{ # }}"), "PARSE: template: 1:4: unexpected character '#' in action");
  EXPECT_EQ(Expand("{{/* open }}"), "PARSE: template: 1:1: unclosed comment");
}

TEST(TemplateTest, ExecErrorsNamePositions) {
  EXPECT_EQ(Expand("ab\n  {{ humanize \"x\" }}"),
            "EXEC: template: 2:6: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax");
  EXPECT_EQ(Expand("{{ index 1 2 }}"), "EXEC: template: 1:4: error calling index: can't index item of type int with int");
  EXPECT_EQ(Expand("{{ $value.x }}"), "EXEC: template: 1:4: can't evaluate field x in type float64");
  EXPECT_EQ(Expand("{{ $labels.job 1 }}"), "EXEC: template: 1:4: can't give argument to non-function");
  EXPECT_EQ(Expand("{{ match \"(\" \"x\" }}").rfind("EXEC: template: 1:4: error calling match: error parsing regexp", 0), 0u);
  EXPECT_EQ(Expand("{{ humanize }}"), "EXEC: template: 1:4: wrong number of args for humanize: want 1 got 0");
  EXPECT_EQ(Expand("{{ toUpper 1 }}"),
            "EXEC: template: 1:4: error calling toUpper: wrong type for value; expected string; got int");
}

TEST(TemplateTest, Bounded) {
  // Output over the cap is an error, never an unbounded string.
  std::string big = "{{ range 100000 }}{{ range 100000 }}xxxxxxxxxx{{ end }}{{ end }}";
  std::string out = Expand(big);
  EXPECT_EQ(out.rfind("EXEC: ", 0), 0u) << out.substr(0, 100);
  // Deep nesting is refused at parse time.
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "{{ if 1 }}";
  for (int i = 0; i < 200; ++i) deep += "{{ end }}";
  EXPECT_NE(Expand(deep).find("nests too deeply"), std::string::npos);
  std::string parens = std::string(300, '(') + "1" + std::string(300, ')');
  EXPECT_NE(Expand("{{ " + parens + " }}").find("nests too deeply"), std::string::npos);
  EXPECT_NE(Expand("{{ range 1000000000 }}{{ end }}").find("too long"), std::string::npos);
  // A value doubled in a loop stops at the cap instead of exhausting memory.
  std::string doubling = Expand("{{ $x := \"ab\" }}{{ range 40 }}{{ $x = printf \"%s%s\" $x $x }}{{ end }}{{ len $x }}");
  EXPECT_NE(doubling.find("result of printf is larger than"), std::string::npos) << doubling.substr(0, 200);
}

}  // namespace
}  // namespace tyto::rules
