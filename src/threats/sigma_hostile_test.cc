// Hostile input: deep nesting, huge regexes and patterns, invalid UTF-8,
// enormous records and values, YAML alias bombs, concurrent matching. The
// engine must fail cleanly or answer, never crash or hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <thread>

#include "threats/sigma.h"
#include "threats/sigma_compile.h"
#include "threats/sigma_testing.h"

namespace cloudaudit::threats {
namespace {

using ::testing::HasSubstr;
using testing::Matches;
using testing::ParseError;
using testing::RuleText;
using testing::SetOf;

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(SigmaHostile, TenThousandNestedParenthesesFailCleanly) {
  const std::string cond = Repeat("(", 10000) + "s" + Repeat(")", 10000);
  EXPECT_THAT(ParseError(RuleText("  s:\n    a: 1\n  condition: '" + cond + "'\n")),
              HasSubstr("bad.yml:10: condition `((((("));
  EXPECT_THAT(ParseError(RuleText("  s:\n    a: 1\n  condition: '" + cond + "'\n")),
              HasSubstr("nests deeper than 64 levels"));
  const std::string nots = Repeat("not ", 10000) + "s";
  EXPECT_THAT(ParseError(RuleText("  s:\n    a: 1\n  condition: '" + nots + "'\n")),
              HasSubstr("nests deeper than 64 levels"));
  // Up to the limit is fine.
  const std::string ok = Repeat("(", 60) + "s" + Repeat(")", 60);
  auto set = SetOf("  s:\n    a: 1\n  condition: '" + ok + "'\n");
  EXPECT_TRUE(Matches(set, R"({"a":1})"));
}

TEST(SigmaHostile, LongFlatConditionsNeedNoRecursion) {
  const std::string cond = Repeat("s1 and not s2 or ", 20000) + "s1";
  auto set = SetOf("  s1:\n    a: 1\n  s2:\n    b: 1\n  condition: '" + cond + "'\n");
  EXPECT_TRUE(Matches(set, R"({"a":1})"));
  EXPECT_FALSE(Matches(set, R"({"b":1})"));
}

TEST(SigmaHostile, DeeplyNestedYamlFailsCleanly) {
  const std::string deep =
      "title: t\nid: i\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s: " + Repeat("[", 100000) +
      Repeat("]", 100000) + "\n  condition: s\n";
  EXPECT_THAT(ParseError(deep), HasSubstr("bad.yml:"));
  const std::string maps =
      "title: t\nid: i\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s: " + Repeat("{a: ", 100000) +
      "1" + Repeat("}", 100000) + "\n  condition: s\n";
  EXPECT_THAT(ParseError(maps), HasSubstr("bad.yml:"));
}

TEST(SigmaHostile, YamlAliasBombHitsTheValueBudget) {
  // 20 values * 40 fields * 200 maps = 160,000 values from a few KB.
  std::string text = "title: t\nid: i\nlogsource: {product: aws, service: cloudtrail}\nx-values: &v [";
  for (int i = 0; i < 20; ++i) text += (i ? ", " : "") + std::string("v") + std::to_string(i);
  text += "]\nx-map: &m {";
  for (int i = 0; i < 40; ++i) text += (i ? ", " : "") + std::string("f") + std::to_string(i) + ": *v";
  text += "}\ndetection:\n  s: [";
  for (int i = 0; i < 200; ++i) text += (i ? ", " : "") + std::string("*m");
  text += "]\n  condition: s\n";
  EXPECT_THAT(ParseError(text), HasSubstr("the detection has more than 100000 values"));
}

TEST(SigmaHostile, HugeRegexesAreRejectedOrRunInLinearTime) {
  // Beyond RE2's memory budget: a clean load error.
  EXPECT_THAT(ParseError(RuleText("  s:\n    v|re: '(?:[a-z]{1000}){1000}'\n  condition: s\n")),
              HasSubstr("regular expression does not compile"));
  EXPECT_THAT(
      ParseError(RuleText("  s:\n    v|re: '" + Repeat("(", 40000) + "a" + Repeat(")", 40000) + "'\n  condition: s\n")),
      HasSubstr("bad.yml:9: `v|re`: regular expression is longer than 65536 bytes"));
  auto nested = SetOf("  s:\n    v|re: '" + Repeat("(", 5000) + "a" + Repeat(")", 5000) + "'\n  condition: s\n");
  EXPECT_TRUE(Matches(nested, R"({"v":"xax"})"));
  // A large alternation compiles and runs.
  std::string words;
  for (int i = 0; i < 5000; ++i) words += (i ? "|" : "") + std::string("word") + std::to_string(i) + "x";
  auto big = SetOf("  s:\n    v|re: '(?:" + words + ")$'\n  condition: s\n");
  EXPECT_TRUE(Matches(big, "{\"v\":\"" + Repeat("a", 100000) + "word4999x\"}"));
  EXPECT_FALSE(Matches(big, "{\"v\":\"" + Repeat("a", 100000) + "word5000x\"}"));
  // The classic catastrophic backtracking pattern, on 4 MB.
  auto evil = SetOf("  s:\n    v|re: '^(a+)+$'\n  condition: s\n");
  EXPECT_FALSE(Matches(evil, "{\"v\":\"" + Repeat("a", 4 << 20) + "b\"}"));
  EXPECT_TRUE(Matches(evil, "{\"v\":\"" + Repeat("a", 4 << 20) + "\"}"));
}

TEST(SigmaHostile, WildcardPatternsOnLongValues) {
  const std::string value = Repeat("a", 1 << 20);
  auto stars = SetOf("  s:\n    v: '" + Repeat("*a", 50) + "*b'\n  condition: s\n");
  EXPECT_FALSE(Matches(stars, "{\"v\":\"" + value + "\"}"));
  EXPECT_TRUE(Matches(stars, "{\"v\":\"" + value + "b\"}"));
  auto questions = SetOf("  s:\n    v: '*" + Repeat("?a", 50) + "?b'\n  condition: s\n");
  EXPECT_FALSE(Matches(questions, "{\"v\":\"" + value + "\"}"));
  EXPECT_TRUE(Matches(questions, "{\"v\":\"" + value + "b\"}"));
  auto dashes = SetOf("  s:\n    v|windash|contains: '" + Repeat("-a", 200) + "x'\n  condition: s\n");
  EXPECT_FALSE(Matches(dashes, "{\"v\":\"" + Repeat("-a", 100000) + "\"}"));
  EXPECT_TRUE(Matches(dashes, "{\"v\":\"" + Repeat("/a", 100000) + "x\"}"));
  auto contains = SetOf("  s:\n    v|contains: '" + Repeat("a", 1000) + "b'\n  condition: s\n");
  EXPECT_FALSE(Matches(contains, "{\"v\":\"" + value + "\"}"));
  auto keyword = SetOf("  k:\n    - '" + Repeat("a", 1000) + "b'\n  condition: k\n");
  EXPECT_FALSE(Matches(keyword, "{\"v\":\"" + value + "\",\"w\":[\"" + value + "\"]}"));
}

TEST(SigmaHostile, ManyValuesAndLongLiterals) {
  std::string list;
  for (int i = 0; i < 50000; ++i) list += "      - name" + std::to_string(i) + "\n";
  auto set = SetOf("  s:\n    eventName:\n" + list + "  condition: s\n");
  EXPECT_TRUE(Matches(set, R"({"eventName":"name49999"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"name50000"})"));
  const std::string lit = Repeat("x", 1 << 20);
  auto long_literal = SetOf("  s:\n    v|endswith: '" + lit + "'\n  condition: s\n");
  EXPECT_TRUE(Matches(long_literal, "{\"v\":\"y" + lit + "\"}"));
  EXPECT_FALSE(Matches(long_literal, "{\"v\":\"" + lit.substr(1) + "\"}"));
}

TEST(SigmaHostile, InvalidUtf8InRules) {
  // Either a located error or a rule; never a crash.
  const std::string bad = "\xff\xfe\xc3(";
  for (const std::string& detection : {"  s:\n    v: '" + bad + "'\n  condition: s\n",
                                       "  s:\n    v|contains|windash: '-" + bad + "'\n  condition: s\n",
                                       "  s:\n    v|base64offset|contains: '" + bad + "'\n  condition: s\n",
                                       "  s:\n    v|utf16le|base64: '" + bad + "'\n  condition: s\n",
                                       "  s:\n    '" + bad + "': x\n  condition: s\n"}) {
    auto rule = SigmaRuleSet::Parse(RuleText(detection), "bad.yml");
    if (!rule) {
      EXPECT_THAT(rule.error().ToString(), HasSubstr("bad.yml:"));
    }
  }
  EXPECT_THAT(ParseError(RuleText("  s:\n    v|re: 'a" + bad + "'\n  condition: s\n")), HasSubstr("bad.yml:"));
  auto title = SigmaRuleSet::Parse("title: '" + bad +
                                       "'\nid: x\nlogsource: {product: aws, service: cloudtrail}\n"
                                       "detection: {s: {a: 1}, condition: s}\n",
                                   "bad.yml");
  if (!title) {
    EXPECT_THAT(title.error().ToString(), HasSubstr("bad.yml:"));
  }
}

TEST(SigmaHostile, InvalidUtf8InRecords) {
  auto set = SetOf("  s:\n    v|contains: 'a'\n  condition: s\n");
  // simdjson validates UTF-8: such a record is a parse error, not a match.
  auto ids = set.MatchJson("{\"v\":\"a\xff\"}");
  EXPECT_FALSE(ids);
  // The matchers themselves take any bytes.
  using internal::Pattern;
  for (const char* value : {"j?rg", "*?", "\xff*", "*\xc3", "?\xe2\x80", "a*b?c"}) {
    for (bool windash : {false, true}) {
      for (bool cased : {false, true}) {
        const Pattern p = Pattern::Compile(internal::ParseSigmaString(value, windash), cased);
        for (const char* text : {"", "\xff", "\xc3", "j\xffrg", "\xe2\x80",
                                 "a\xe2\x80\x93"
                                 "b\xf4\x90\x80\x80"
                                 "c",
                                 "\xf0\x9f"}) {
          (void)p.Matches(text);
        }
      }
    }
  }
  // `?` is one character of valid UTF-8 (records always are).
  EXPECT_TRUE(Pattern::Compile(internal::ParseSigmaString("j?rg", false), false).Matches("j\xc3\xb6rg"));
  EXPECT_FALSE(Pattern::Compile(internal::ParseSigmaString("??", false), false).Matches("\xc3\xb6"));
  // A wildcard pattern that is not valid UTF-8 cannot compile: a load error.
  EXPECT_FALSE(Pattern::Compile(internal::ParseSigmaString("?\xff", false), false).ok());
  EXPECT_THAT(ParseError(RuleText("  s:\n    v: \"a?\xff\"\n  condition: s\n")), HasSubstr("bad.yml:"));
}

TEST(SigmaHostile, EnormousRecords) {
  std::string json = "{\"eventName\":\"PutBucketPolicy\",\"requestParameters\":{";
  for (int i = 0; i < 100000; ++i) json += "\"k" + std::to_string(i) + "\":\"value number " + std::to_string(i) + "\",";
  json += "\"policy\":\"" + Repeat("{\\\"Effect\\\":\\\"Allow\\\"}", 200000) + "\",\"principal\":\"*\"}}";
  ASSERT_GT(json.size(), 5u << 20);
  auto field = SetOf("  s:\n    eventName: PutBucketPolicy\n    requestParameters.principal: '*'\n  condition: s\n");
  EXPECT_TRUE(Matches(field, json));
  auto keyword = SetOf("  k:\n    - 'value number 99999'\n  condition: k\n");
  EXPECT_TRUE(Matches(keyword, json));
  auto miss = SetOf("  k:\n    - 'value number 100000'\n  condition: k\n");
  EXPECT_FALSE(Matches(miss, json));
  // Nesting as deep as the JSON parser allows.
  const std::string deep = "{\"a\":" + Repeat("[", 1000) + "\"needle\"" + Repeat("]", 1000) + "}";
  auto deep_kw = SetOf("  k:\n    - needle\n  condition: k\n");
  auto deep_field = SetOf("  s:\n    a: needle\n  condition: s\n");
  auto ids = deep_kw.MatchJson(deep);
  if (ids) {  // simdjson's default depth limit may refuse it; both are fine
    EXPECT_EQ(ids->size(), 1u);
    EXPECT_TRUE(Matches(deep_field, deep));
  }
}

TEST(SigmaHostile, ConcurrentMatchingGivesTheSerialAnswers) {
  std::vector<SigmaRule> rules;
  for (int i = 0; i < 50; ++i) {
    auto r = SigmaRuleSet::Parse(RuleText("  s:\n    eventName|re: 'Event" + std::to_string(i % 7) +
                                              "'\n    n|gt: " + std::to_string(i) + "\n  condition: s\n",
                                          "rule-" + std::to_string(100 + i)),
                                 "r.yml");
    ASSERT_TRUE(r) << r.error().ToString();
    rules.push_back(std::move(*r));
  }
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  ASSERT_TRUE(set);
  std::vector<std::string> records;
  for (int i = 0; i < 200; ++i) {
    records.push_back("{\"eventName\":\"Event" + std::to_string(i % 9) + "\",\"n\":" + std::to_string(i % 60) + "}");
  }
  std::vector<std::vector<std::string>> serial;
  for (const auto& r : records) serial.push_back(*set->MatchJson(r));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t i = 0; i < records.size(); ++i) {
          auto got = set->MatchJson(records[i]);
          if (!got || *got != serial[i]) ++mismatches[static_cast<size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
  size_t total = 0;
  for (const auto& s : serial) total += s.size();
  EXPECT_GT(total, 0u);
}

}  // namespace
}  // namespace cloudaudit::threats
