// Every unsupported or invalid construct fails to load with file:line and
// the reason; rule sets load as a whole or list every problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "testing/test_paths.h"
#include "threats/sigma.h"
#include "threats/sigma_testing.h"

namespace cloudaudit::threats {
namespace {

using ::testing::HasSubstr;
using testing::ParseError;
using testing::RuleText;
using ::testing::StartsWith;

// Detection lines of RuleText start at line 8.
struct Case {
  const char* name;
  std::string detection;
  std::string expect;  // "bad.yml:LINE: message part"
};

class SigmaRejects : public ::testing::TestWithParam<Case> {};

TEST_P(SigmaRejects, WithFileLineAndReason) {
  const Case& c = GetParam();
  const std::string error = ParseError(RuleText(c.detection));
  EXPECT_THAT(error, HasSubstr(c.expect)) << c.name;
}

const Case kCases[] = {
    {"unknown modifier", "  selection:\n    eventName|startwith: x\n  condition: selection\n",
     "bad.yml:9: `eventName|startwith`: unknown modifier `startwith`"},
    {"time modifier", "  selection:\n    eventTime|hour: 3\n  condition: selection\n",
     "bad.yml:9: `eventTime|hour`: the time modifier `hour` is not supported"},
    {"empty modifier", "  selection:\n    eventName|: x\n  condition: selection\n",
     "bad.yml:9: `eventName|`: empty modifier"},
    {"timeframe", "  selection:\n    eventName: x\n  timeframe: 5m\n  condition: selection\n",
     "bad.yml:10: `timeframe` (aggregation over a time window) is not supported"},
    {"aggregation", "  selection:\n    eventName: x\n  condition: selection | count() by userIdentity.arn > 5\n",
     "bad.yml:10: condition `selection | count() by userIdentity.arn > 5`: aggregations"},
    {"near", "  selection:\n    eventName: x\n  condition: selection | near other\n",
     "aggregations (`| count() ...`, `| near ...`) are not supported"},
    {"missing condition", "  selection:\n    eventName: x\n", "bad.yml:7: `detection` needs a `condition`"},
    {"empty condition", "  selection:\n    eventName: x\n  condition: ''\n",
     "bad.yml:10: condition ``: the condition is empty"},
    {"condition map", "  selection:\n    eventName: x\n  condition:\n    a: b\n",
     "bad.yml:10: `condition` must be a string or a list"},
    {"unknown identifier", "  selection:\n    eventName: x\n  condition: selection and filter\n",
     "bad.yml:10: condition `selection and filter`: `filter` is not a search identifier of this detection (column 15)"},
    {"pattern matches nothing", "  selection:\n    eventName: x\n  condition: selection and not 1 of filter*\n",
     "`filter*` matches no search identifier"},
    {"pattern without of", "  sel1:\n    eventName: x\n  condition: sel*\n",
     "`sel*` is a pattern: write `1 of sel*` or `all of sel*`"},
    {"too many of", "  sel1:\n    eventName: x\n  condition: 2 of sel*\n", "`2 of sel*` but only 1 identifier match"},
    {"zero of", "  sel1:\n    eventName: x\n  condition: 0 of sel*\n", "`0 of` is always false"},
    {"bad quantifier", "  sel1:\n    eventName: x\n  condition: some of sel*\n",
     "`some of`: the quantifier is `1`, `all` or a number"},
    {"missing paren", "  selection:\n    eventName: x\n  condition: (selection\n", "missing `)`"},
    {"extra paren", "  selection:\n    eventName: x\n  condition: selection)\n", "unexpected `)` (column 10)"},
    {"dangling and", "  selection:\n    eventName: x\n  condition: selection and\n",
     "ends where a search identifier was expected"},
    {"double and", "  selection:\n    eventName: x\n  condition: selection and and selection\n", "unexpected `and`"},
    {"re with contains", "  selection:\n    v|re|contains: x\n  condition: selection\n",
     "bad.yml:9: `v|re|contains`: `re` cannot be combined with `contains`"},
    {"flag without re", "  selection:\n    v|contains|i: x\n  condition: selection\n",
     "`i` is a sub-modifier of `re` and must follow it"},
    {"backreference", "  selection:\n    v|re: '(a)\\1'\n  condition: selection\n",
     "bad.yml:9: `v|re`: regular expression does not compile: invalid escape sequence: \\1"},
    {"lookahead", "  selection:\n    v|re: 'a(?=b)'\n  condition: selection\n", "regular expression does not compile"},
    {"cidr invalid", "  selection:\n    ip|cidr: 10.0.0.0/33\n  condition: selection\n",
     "`10.0.0.0/33` has a prefix length that is not 0..32"},
    {"cidr not ip", "  selection:\n    ip|cidr: 10.0.0/8\n  condition: selection\n",
     "`10.0.0/8` is not an IPv4 or IPv6 address"},
    {"cidr with contains", "  selection:\n    ip|cidr|contains: 10.0.0.0/8\n  condition: selection\n",
     "`cidr` cannot be combined with `contains`"},
    {"base64 wildcard", "  selection:\n    v|base64: 'a*'\n  condition: selection\n",
     "`base64` cannot encode wildcards"},
    {"contains before base64", "  selection:\n    v|contains|base64offset: 'a'\n  condition: selection\n",
     "`base64offset` cannot encode wildcards"},
    {"utf16 alone", "  selection:\n    v|utf16le: 'a'\n  condition: selection\n",
     "must be followed by `base64` or `base64offset`"},
    {"exists not bool", "  selection:\n    v|exists: maybe\n  condition: selection\n",
     "`exists` takes one value, true or false"},
    {"exists list", "  selection:\n    v|exists: [true, false]\n  condition: selection\n",
     "`exists` takes one value, true or false"},
    {"exists with contains", "  selection:\n    v|exists|contains: true\n  condition: selection\n",
     "`exists` cannot be combined with `contains`"},
    {"gt not number", "  selection:\n    v|gt: ten\n  condition: selection\n",
     "bad.yml:9: `v|gt`: `ten` is not a number"},
    {"two types", "  selection:\n    v|re|cidr: x\n  condition: selection\n", "`re` and `cidr` cannot be combined"},
    {"two positions", "  selection:\n    v|contains|endswith: x\n  condition: selection\n",
     "`contains` and `endswith` cannot be combined"},
    {"all twice", "  selection:\n    v|all|all: [a, b]\n  condition: selection\n", "`all` is given twice"},
    {"keyword cidr", "  keywords:\n    '|cidr': 10.0.0.0/8\n  condition: keywords\n",
     "`|cidr`: `cidr` needs a field name"},
    {"keyword neq", "  keywords:\n    '|neq': x\n  condition: keywords\n", "`neq` needs a field name"},
    {"null with re", "  selection:\n    v|re: null\n  condition: selection\n",
     "a null value (field absent or null) cannot take these modifiers"},
    {"null with neq", "  selection:\n    v|neq: null\n  condition: selection\n", "`neq` with a null value"},
    {"keyword null", "  keywords:\n    - a\n    - null\n  condition: keywords\n",
     "bad.yml:10: selection `keywords`: a list holds maps (OR) or keyword strings, not null"},
    {"map value", "  selection:\n    eventName:\n      a: b\n  condition: selection\n",
     "bad.yml:10: `eventName`: a value must be a string, number, boolean, null or a list of them, not a map"},
    {"nested list", "  selection:\n    eventName:\n      - [a, b]\n  condition: selection\n",
     "bad.yml:10: `eventName`: a value must be a string, number, boolean or null, not a list"},
    {"empty list", "  selection:\n    eventName: []\n  condition: selection\n",
     "bad.yml:9: `eventName`: empty list of values"},
    {"empty selection", "  selection:\n  condition: selection\n", "bad.yml:8: selection `selection` is empty (null)"},
    {"empty map selection", "  selection: {}\n  condition: selection\n", "empty map in a selection"},
    {"empty path part", "  selection:\n    userIdentity..arn: x\n  condition: selection\n",
     "field name has an empty part"},
    {"undefined placeholder", "  selection:\n    v|expand: '%Admins%'\n  condition: selection\n",
     "bad.yml:9: placeholder `%Admins%` of `expand` has no values"},
    {"fieldref bad path", "  selection:\n    v|fieldref: 'a.'\n  condition: selection\n", "`a.` is not a field name"},
    {"fieldref with re", "  selection:\n    v|fieldref|re: x\n  condition: selection\n",
     "`fieldref` and `re` cannot be combined"},
    {"detection list", "  - a\n", "bad.yml:7: `detection` must be a map"},
};

INSTANTIATE_TEST_SUITE_P(All, SigmaRejects, ::testing::ValuesIn(kCases), [](const auto& info) {
  std::string name = info.param.name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

TEST(SigmaRejectsFile, WholeFileProblems) {
  EXPECT_THAT(ParseError(""), HasSubstr("bad.yml:1: the file holds no Sigma rule"));
  EXPECT_THAT(ParseError("- a\n- b\n"), HasSubstr("bad.yml:1: a Sigma rule is a YAML map"));
  EXPECT_THAT(
      ParseError(RuleText("  s:\n    a: 1\n  condition: s\n") + "---\n" + RuleText("  s:\n    a: 1\n  condition: s\n")),
      HasSubstr("bad.yml:12: the file holds 2 YAML documents; one rule per file"));
  EXPECT_THAT(ParseError("title: x\nid: y\ncorrelation:\n  type: event_count\n"),
              HasSubstr("bad.yml:3: Sigma correlation rules are not supported"));
  EXPECT_THAT(ParseError("action: global\ntitle: x\n"),
              HasSubstr("bad.yml:1: `action` (Sigma 1 rule collections) is not supported"));
  EXPECT_THAT(ParseError("title: x\nid: y\nlogsource: [aws]\n"),
              HasSubstr("bad.yml:3: a rule needs a `logsource` map"));
  EXPECT_THAT(ParseError("title: x\nid: y\nlogsource: {product: aws, service: cloudtrail}\n"),
              HasSubstr("bad.yml:1: a rule needs a `detection` map"));
  EXPECT_THAT(ParseError("title: x\nid: y\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s: {a: [1\n"),
              HasSubstr("bad.yml:6: YAML: "));
  EXPECT_THAT(
      ParseError(
          "title: [x]\nid: y\nlogsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: 1}, condition: s}\n"),
      HasSubstr("bad.yml:1: `title` must be a string"));
  EXPECT_THAT(ParseError("tags: {a: b}\ntitle: t\nid: y\nlogsource: {product: aws, service: cloudtrail}\ndetection: "
                         "{s: {a: 1}, condition: s}\n"),
              HasSubstr("bad.yml:1: `tags` must be a list of strings"));
}

TEST(SigmaRejectsFile, MetadataProblems) {
  const std::string detection =
      "logsource: {product: aws, service: cloudtrail}\ndetection: {s: {a: 1}, condition: s}\n";
  EXPECT_THAT(ParseError("id: y\n" + detection), HasSubstr("bad.yml:1: a rule needs a `title`"));
  EXPECT_THAT(ParseError("title: t\n" + detection),
              HasSubstr("bad.yml:1: a rule needs an `id` (alerts are keyed by it)"));
  EXPECT_THAT(ParseError("title: t\nid: y\nlevel: severe\n" + detection),
              HasSubstr("bad.yml:3: `level: severe` is not one of informational, low, medium, high, critical"));
  EXPECT_THAT(ParseError("title: t\nid: y\nstatus: beta\n" + detection),
              HasSubstr("bad.yml:3: `status: beta` is not one of"));
}

TEST(SigmaRejectsFile, EveryProblemOfAFileIsListedInLineOrder) {
  const std::string error =
      ParseError(RuleText("  selection:\n    a|bogus: x\n    b|re: '(x'\n  filter:\n    c|cidr: nope\n  condition: "
                          "selection and not filter and other\n"));
  const auto first = error.find("bad.yml:9: `a|bogus`");
  const auto second = error.find("bad.yml:10: `b|re`");
  const auto third = error.find("bad.yml:12: `c|cidr`");
  const auto fourth = error.find("bad.yml:13: condition");
  EXPECT_NE(first, std::string::npos) << error;
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_LT(third, fourth);
  EXPECT_NE(fourth, std::string::npos) << error;
}

// ---- Load ------------------------------------------------------------------------

std::string TestData(const std::string& rel) {
  return cloudaudit::testing::SourceDir() + "/src/threats/testdata/" + rel;
}

TEST(SigmaLoad, DirectoriesRecurseSkipTestsAndOtherLogSources) {
  SigmaLoadOptions options;
  options.builtin = false;
  options.paths = {TestData("pack")};
  auto set = SigmaRuleSet::Load(options);
  ASSERT_TRUE(set) << set.error().ToString();
  ASSERT_EQ(set->rules().size(), 2u);
  EXPECT_EQ(set->rules()[0].id, "0c1e5a7e-7a55-4c55-9a55-000000000001");
  EXPECT_EQ(set->rules()[1].id, "0c1e5a7e-7a55-4c55-9a55-000000000002");
  EXPECT_THAT(set->rules()[1].file, HasSubstr("nested/stop_logging.yaml"));
  EXPECT_FALSE(set->rules()[0].builtin);
  ASSERT_EQ(set->skipped().size(), 1u);
  EXPECT_THAT(set->skipped()[0].skip_reason, HasSubstr("product: windows"));
  auto ids = set->MatchJson(R"({"eventSource":"cloudtrail.amazonaws.com","eventName":"StopLogging"})");
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<std::string>{"0c1e5a7e-7a55-4c55-9a55-000000000002"}));
}

TEST(SigmaLoad, SingleFiles) {
  SigmaLoadOptions options;
  options.builtin = false;
  options.paths = {TestData("pack/root_login.yml")};
  auto set = SigmaRuleSet::Load(options);
  ASSERT_TRUE(set) << set.error().ToString();
  EXPECT_EQ(set->rules().size(), 1u);
}

TEST(SigmaLoad, AllOrNothingWithEveryProblemSorted) {
  SigmaLoadOptions options;
  options.builtin = false;
  options.paths = {TestData("pack"), TestData("broken"), TestData("no-such-dir")};
  auto set = SigmaRuleSet::Load(options);
  ASSERT_FALSE(set);
  const std::string msg = set.error().ToString();
  EXPECT_THAT(msg, StartsWith("5 problems in the Sigma rules:\n")) << msg;
  const std::string dir = TestData("broken");
  const auto a1 = msg.find(dir + "/a_two_problems.yml:8: `eventName|startwith`: unknown modifier");
  const auto a2 =
      msg.find(dir + "/a_two_problems.yml:9: condition `selection and filter`: `filter` is not a search identifier");
  const auto b = msg.find(dir + "/b_yaml_error.yml:8: YAML: ");
  const auto c =
      msg.find(dir + "/c_duplicate_id.yml:1: rule id `0c1e5a7e-7a55-4c55-9a55-000000000001` is already used by");
  const auto missing = msg.find(TestData("no-such-dir") + ": no such rule file or directory");
  for (auto pos : {a1, a2, b, c, missing}) EXPECT_NE(pos, std::string::npos) << msg;
  EXPECT_LT(a1, a2);
  EXPECT_LT(a2, b);
  EXPECT_LT(b, c);
}

TEST(SigmaLoad, BuiltinPackLoads) {
  auto set = SigmaRuleSet::Load({});
  ASSERT_TRUE(set) << set.error().ToString();
  for (const auto& r : set->rules()) {
    EXPECT_THAT(r.file, StartsWith("<builtin>/sigma/"));
    EXPECT_TRUE(r.builtin);
    EXPECT_THAT(r.file, ::testing::Not(HasSubstr("/tests/")));
  }
}

}  // namespace
}  // namespace cloudaudit::threats
