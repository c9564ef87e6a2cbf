#include "relabel/relabel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "config/schema.h"
#include "config/yaml.h"
#include "relabel/case_fold.h"

namespace tyto::relabel {
namespace {

using ::testing::HasSubstr;

// Applies `rules` to `in`; nullopt when they drop it.
std::optional<Labels> Apply(const std::vector<Config>& rules, const Labels& in) {
  auto r = Relabeler::Compile(rules);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  LabelsBuilder lb(in);
  if (!r->Process(&lb)) return std::nullopt;
  return lb.Build();
}

Config Rule(std::string action, std::vector<std::string> sources, std::string regex, std::string target = "",
            std::string replacement = "$1") {
  Config c;
  c.action = std::move(action);
  c.source_labels = std::move(sources);
  c.regex = std::move(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  return c;
}

TEST(ExpandTest, FollowsGoRegexpExpand) {
  const std::vector<std::string_view> g = {"whole", "one", "two"};
  const std::vector<std::string> names = {"", "", "host"};
  EXPECT_EQ(Expand("$1", g, names), "one");
  EXPECT_EQ(Expand("${1}x", g, names), "onex");
  EXPECT_EQ(Expand("$1x", g, names), "");  // the group named "1x", which does not exist
  EXPECT_EQ(Expand("$host:${host}", g, names), "two:two");
  EXPECT_EQ(Expand("$$1", g, names), "$1");
  EXPECT_EQ(Expand("a$", g, names), "a$");
  EXPECT_EQ(Expand("${1", g, names), "${1");  // no closing brace: the '$' is text
  EXPECT_EQ(Expand("$01", g, names), "");     // leading zero: a name, not a number
  EXPECT_EQ(Expand("$0-$2-$9", g, names), "whole-two-");
  EXPECT_EQ(Expand("no refs", g, names), "no refs");
}

TEST(RelabelTest, Replace) {
  const Labels in = Labels::Of({"a", "foo", "b", "bar"});
  EXPECT_EQ(*Apply({Rule("replace", {"a"}, "f(.*)", "d", "ch${1}-ch${1}")}, in),
            Labels::Of({"a", "foo", "b", "bar", "d", "choo-choo"}));
  // Sources joined by the separator; the default regex (.*) copies.
  Config joined = Rule("replace", {"a", "b"}, "(.*)", "c");
  joined.separator = "|";
  EXPECT_EQ(Apply({joined}, in)->Get("c"), "foo|bar");
  // No match: nothing changes.
  EXPECT_EQ(*Apply({Rule("replace", {"a"}, "x(.*)", "d")}, in), in);
  // An empty result deletes the target.
  EXPECT_EQ(*Apply({Rule("replace", {"missing"}, "(.*)", "a")}, in), Labels::Of({"b", "bar"}));
  // The target label may use groups; a named group.
  EXPECT_EQ(Apply({Rule("replace", {"a"}, "(?P<first>f)(.*)", "${first}_label", "$2")}, in)->Get("f_label"), "oo");
  // A target that expands to nothing is skipped.
  EXPECT_EQ(*Apply({Rule("replace", {"a"}, "(.*)", "$9", "x")}, in), in);
}

TEST(RelabelTest, RegexesAreAnchoredAndDotMatchesNewline) {
  const Labels in = Labels::Of({"a", "xfoo", "n", "line1\nline2"});
  EXPECT_EQ(*Apply({Rule("replace", {"a"}, "foo", "d", "hit")}, in), in);  // anchored: no match in "xfoo"
  EXPECT_EQ(Apply({Rule("replace", {"n"}, "line1.line2", "d", "hit")}, in)->Get("d"), "hit");
}

TEST(RelabelTest, KeepAndDrop) {
  const Labels in = Labels::Of({"__name__", "up", "job", "node"});
  EXPECT_TRUE(Apply({Rule("keep", {"job"}, "node|api")}, in));
  EXPECT_FALSE(Apply({Rule("keep", {"job"}, "api")}, in));
  EXPECT_FALSE(Apply({Rule("drop", {"__name__"}, "u.")}, in));
  EXPECT_TRUE(Apply({Rule("drop", {"__name__"}, "u")}, in));
  // Rules run in order; a drop ends processing.
  EXPECT_FALSE(Apply({Rule("drop", {"job"}, "node"), Rule("replace", {"job"}, "(.*)", "x")}, in));
}

TEST(RelabelTest, KeepEqualAndDropEqual) {
  const Labels same = Labels::Of({"a", "1", "b", "1"});
  const Labels differ = Labels::Of({"a", "1", "b", "2"});
  Config keep = Rule("keepequal", {"a"}, "(.*)", "b");
  Config drop = Rule("dropequal", {"a"}, "(.*)", "b");
  EXPECT_TRUE(Apply({keep}, same));
  EXPECT_FALSE(Apply({keep}, differ));
  EXPECT_FALSE(Apply({drop}, same));
  EXPECT_TRUE(Apply({drop}, differ));
}

TEST(RelabelTest, HashModTakesTheLastEightBytesOfMd5) {
  // Expected values from Python: int.from_bytes(md5(s)[8:], "big") % m.
  Config c = Rule("hashmod", {"a"}, "(.*)", "shard");
  c.modulus = 1000;
  EXPECT_EQ(Apply({c}, Labels::Of({"a", "foo"}))->Get("shard"), "696");
  EXPECT_EQ(Apply({c}, Labels::Of({"a", "bar"}))->Get("shard"), "922");
  c.modulus = 8;
  EXPECT_EQ(Apply({c}, Labels::Of({"a", "1.2.3.4:9100"}))->Get("shard"), "2");
}

TEST(RelabelTest, LabelMapDropKeep) {
  const Labels in = Labels::Of({"__meta_a", "1", "__meta_b", "2", "job", "x"});
  EXPECT_EQ(*Apply({Rule("labelmap", {}, "__meta_(.+)", "", "m_$1")}, in),
            Labels::Of({"__meta_a", "1", "__meta_b", "2", "job", "x", "m_a", "1", "m_b", "2"}));
  EXPECT_EQ(*Apply({Rule("labeldrop", {}, "__meta_.*", "", "$1")}, in), Labels::Of({"job", "x"}));
  EXPECT_EQ(*Apply({Rule("labelkeep", {}, "__meta_.*", "", "$1")}, in), Labels::Of({"__meta_a", "1", "__meta_b", "2"}));
}

TEST(RelabelTest, LowercaseAndUppercase) {
  const Labels in = Labels::Of({"a", "MiXeD-1", "b", "Zürich-Ωmega-Москва"});
  EXPECT_EQ(Apply({Rule("lowercase", {"a"}, "(.*)", "l")}, in)->Get("l"), "mixed-1");
  EXPECT_EQ(Apply({Rule("uppercase", {"a"}, "(.*)", "u")}, in)->Get("u"), "MIXED-1");
  // Not only ASCII: Prometheus calls Go's strings.ToLower and ToUpper.
  EXPECT_EQ(Apply({Rule("lowercase", {"b"}, "(.*)", "l")}, in)->Get("l"), "zürich-ωmega-москва");
  EXPECT_EQ(Apply({Rule("uppercase", {"b"}, "(.*)", "u")}, in)->Get("u"), "ZÜRICH-ΩMEGA-МОСКВА");
}

TEST(CaseFoldTest, LatinGreekAndCyrillicAsGoMapsThem) {
  // Latin-1 Supplement, with its odd ones: ß has no one-letter capital (Go keeps it), ÿ's
  // capital is in Latin Extended-A, µ's is Greek, × and ÷ are not letters.
  EXPECT_EQ(ToUpper("àéîõü çñ øþ ÿ ß µ ×÷"), "ÀÉÎÕÜ ÇÑ ØÞ Ÿ ß Μ ×÷");
  EXPECT_EQ(ToLower("ÀÉÎÕÜ ÇÑ ØÞ Ÿ ß ×÷"), "àéîõü çñ øþ ÿ ß ×÷");
  // Latin Extended-A: pairs starting on even and on odd code points, the dotted and dotless i,
  // the long s.
  EXPECT_EQ(ToLower("ŁÓDŹ ŽŮŘ ĞÜŞ ŐŰ Ĳ Ŋ"), "łódź žůř ğüş őű ĳ ŋ");
  EXPECT_EQ(ToUpper("łódź žůř ğüş őű ĳ ŋ"), "ŁÓDŹ ŽŮŘ ĞÜŞ ŐŰ Ĳ Ŋ");
  EXPECT_EQ(ToLower("İSTANBUL"), "istanbul");
  EXPECT_EQ(ToUpper("ıi ſ"), "II S");
  // Greek: accented letters, final sigma (which lowercase never produces), symbols.
  EXPECT_EQ(ToLower("ΆΈΉΊΌΎΏ ΟΔΥΣΣΕΥΣ Ϊ Ϋ"), "άέήίόύώ οδυσσευσ ϊ ϋ");
  EXPECT_EQ(ToUpper("άέήίόύώ οδυσσευς ϊϋ"), "ΆΈΉΊΌΎΏ ΟΔΥΣΣΕΥΣ ΪΫ");
  EXPECT_EQ(ToUpper("ϐϑϕϖϰϱϵ ϲ ϳ ͻ"), "ΒΘΦΠΚΡΕ Ϲ Ϳ Ͻ");
  EXPECT_EQ(ToLower("ϴ Ϲ Ϳ Ͻ Ϗ Ϙ"), "θ ϲ ϳ ͻ ϗ ϙ");
  EXPECT_EQ(ToUpper("ΐ ΰ"), "ΐ ΰ");  // no one-letter capitals
  // Cyrillic: the 0x20 and 0x50 offsets, historic pairs, the palochka, the Supplement.
  EXPECT_EQ(ToLower("МОСКВА ЁЖ ЂЉЊЋЏ ЅІЇ Ѣ Ґ Ӝ Ӏ Ԁ Ԯ"),
            "москва ёж ђљњћџ ѕії ѣ ґ ӝ ӏ ԁ ԯ");
  EXPECT_EQ(ToUpper("москва ёж ђљњћџ ѕії ѣ ґ ӝ ӏ ԁ ԯ"),
            "МОСКВА ЁЖ ЂЉЊЋЏ ЅІЇ Ѣ Ґ Ӝ Ӏ Ԁ Ԯ");
  // What is not a letter stays, 4-byte sequences too.
  EXPECT_EQ(ToUpper("東京 🚀 ₂ ½"), "東京 🚀 ₂ ½");
  EXPECT_EQ(ToLower(""), "");
}

TEST(CaseFoldTest, BytesThatAreNotUtf8BecomeTheReplacementCharacter) {
  // As Go's strings.Map: each byte that does not start a valid sequence is one U+FFFD.
  EXPECT_EQ(ToLower("A\xff"
                    "B"),
            "a\uFFFDb");
  EXPECT_EQ(ToLower("\xc3"), "\uFFFD");                                // truncated
  EXPECT_EQ(ToLower("\xc0\xaf"), "\uFFFD\uFFFD");                      // overlong '/'
  EXPECT_EQ(ToLower("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");            // a surrogate
  EXPECT_EQ(ToUpper("\xf4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // past U+10FFFF
  EXPECT_EQ(ToUpper("\xc3\xa9\xe9"), "\u00C9\uFFFD");
  EXPECT_EQ(ToUpper("\uFFFD"), "\uFFFD");  // the character itself is kept as it is
}

TEST(CaseFoldTest, EveryMappingOfTheCoveredBlocksIsConsistent) {
  // Every capital's small letter has that capital back, and the other way round, except the
  // letters Unicode maps many to one: these lists are all of them in U+0000-U+052F.
  const std::set<char32_t> lower_not_back = {0x0130, 0x03F4};  // İ -> i -> I, ϴ -> θ -> Θ
  const std::set<char32_t> upper_not_back = {0x00B5, 0x0131, 0x017F, 0x0345, 0x03C2, 0x03D0,
                                             0x03D1, 0x03D5, 0x03D6, 0x03F0, 0x03F1, 0x03F5};
  int lowered = 0, uppered = 0;
  for (char32_t c = 0; c < 0x0530; ++c) {
    const char32_t l = LowerRune(c), u = UpperRune(c);
    if (l != c) {
      ++lowered;
      EXPECT_EQ(LowerRune(l), l) << std::hex << static_cast<uint32_t>(c);
      EXPECT_EQ(UpperRune(l) == c, !lower_not_back.count(c)) << std::hex << static_cast<uint32_t>(c);
    }
    if (u != c) {
      ++uppered;
      EXPECT_EQ(UpperRune(u), u) << std::hex << static_cast<uint32_t>(c);
      EXPECT_EQ(LowerRune(u) == c, !upper_not_back.count(c)) << std::hex << static_cast<uint32_t>(c);
    }
    EXPECT_FALSE(l != c && u != c) << std::hex << static_cast<uint32_t>(c);  // no letter is both
  }
  // How many code points of U+0000-U+052F Unicode 14's simple mappings change, outside Latin
  // Extended-B and IPA (U+0180-U+02AF, not covered): counted with Python's unicodedata, one
  // code point at a time (str.lower and str.upper where they give one code point; İ's simple
  // lowercase is i).
  EXPECT_EQ(lowered, 324);
  EXPECT_EQ(uppered, 334);
}

TEST(RelabelTest, CompileRejectsWhatPrometheusRejects) {
  auto bad = [](Config c, std::string_view why) {
    auto r = Relabeler::Compile({Rule("keep", {"a"}, ".*"), std::move(c)});
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_THAT(r.status().message(), HasSubstr("relabel rule 2")) << why;
    EXPECT_THAT(r.status().message(), HasSubstr(why));
  };
  bad(Rule("replace", {"a"}, "(.*)", ""), "requires 'target_label'");
  bad(Rule("hashmod", {"a"}, "(.*)", "t"), "non-zero 'modulus'");
  bad(Rule("labeldrop", {"a"}, "x", ""), "takes only 'regex'");
  bad(Rule("keepequal", {"a"}, "x", "b"), "takes only 'source_labels' and 'target_label'");
  bad(Rule("keep", {"a"}, "(unclosed"), "invalid regex '(unclosed'");
  bad(Rule("explode", {"a"}, "x"), "unknown action 'explode'");
}

TEST(RelabelTest, SchemaDecodesYamlWithPositions) {
  struct Holder {
    std::vector<Config> rules;
  };
  config::Section<Holder> holder("", "test");
  holder.List("relabel_configs", &Holder::rules, ConfigSchema());
  auto node = config::ParseYaml(
      "relabel_configs:\n"
      "  - source_labels: [__address__]\n"
      "    target_label: instance\n"
      "  - action: hashmod\n"
      "    source_labels: [a]\n"
      "    target_label: shard\n"
      "  - action: kep\n",
      "p.yml");
  ASSERT_TRUE(node.ok());
  Holder h;
  config::Diagnostics d;
  holder.Decode(*node, &h, &d);
  ASSERT_EQ(d.messages().size(), 2u) << d.ToStatus().ToString();
  EXPECT_THAT(d.messages()[0], HasSubstr("p.yml:4:5"));
  EXPECT_THAT(d.messages()[0], HasSubstr("non-zero 'modulus'"));
  EXPECT_THAT(d.messages()[1], HasSubstr("p.yml:7:13"));
  ASSERT_EQ(h.rules.size(), 3u);
  EXPECT_EQ(h.rules[0].target_label, "instance");
  EXPECT_EQ(h.rules[0].regex, "(.*)");
}

}  // namespace
}  // namespace tyto::relabel
