// Conformance tests of the Sigma engine: every modifier and condition form,
// with matching and non-matching CloudTrail-shaped records.
#include "threats/sigma.h"

#include <simdjson.h>

#include <gtest/gtest.h>

namespace cloudaudit::threats {
namespace {

// A complete rule around a detection block (indented by 2 spaces).
std::string RuleText(const std::string& detection, const std::string& id = "test-rule") {
  return "title: Test rule\nid: " + id +
         "\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n" + detection;
}

SigmaRuleSet SetOf(const std::string& detection) {
  auto rule = SigmaRuleSet::Parse(RuleText(detection), "test.yml");
  EXPECT_TRUE(rule) << rule.error().ToString();
  std::vector<SigmaRule> rules;
  if (rule) rules.push_back(std::move(*rule));
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  EXPECT_TRUE(set) << set.error().ToString();
  return set ? std::move(*set) : SigmaRuleSet();
}

bool Matches(const SigmaRuleSet& set, const std::string& json) {
  auto ids = set.MatchJson(json);
  EXPECT_TRUE(ids) << ids.error().ToString();
  return ids && !ids->empty();
}

TEST(Sigma, EventNameSelection) {
  auto set = SetOf("  selection:\n    eventSource: iam.amazonaws.com\n    eventName: CreateAccessKey\n  condition: selection\n");
  EXPECT_TRUE(Matches(set, R"({"eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey"})"));
  EXPECT_TRUE(Matches(set, R"({"eventSource":"IAM.amazonaws.com","eventName":"createaccesskey"})"));
  EXPECT_FALSE(Matches(set, R"({"eventSource":"iam.amazonaws.com","eventName":"DeleteAccessKey"})"));
  EXPECT_FALSE(Matches(set, R"({"eventName":"CreateAccessKey"})"));
}

}  // namespace
}  // namespace cloudaudit::threats
