// Helpers shared by the Sigma engine's tests: a rule around a detection
// block, one-rule sets, matching a JSON record.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "threats/sigma.h"

namespace cloudaudit::threats::testing {

// A complete CloudTrail rule around `detection` (its lines indented by 2).
inline std::string RuleText(const std::string& detection, const std::string& id = "test-rule") {
  return "title: Test rule\nid: " + id +
         "\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n" + detection;
}

inline SigmaRuleSet SetOf(const std::string& detection, const SigmaLoadOptions& options = {}) {
  auto rule = SigmaRuleSet::Parse(RuleText(detection), "test.yml", options);
  EXPECT_TRUE(rule) << rule.error().ToString();
  std::vector<SigmaRule> rules;
  if (rule) rules.push_back(std::move(*rule));
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  EXPECT_TRUE(set) << set.error().ToString();
  return set ? std::move(*set) : SigmaRuleSet();
}

inline bool Matches(const SigmaRuleSet& set, const std::string& json) {
  auto ids = set.MatchJson(json);
  EXPECT_TRUE(ids) << ids.error().ToString();
  return ids && !ids->empty();
}

// The error text of a rule that must not load ("" if it loads).
inline std::string ParseError(const std::string& text, const SigmaLoadOptions& options = {}) {
  auto rule = SigmaRuleSet::Parse(text, "bad.yml", options);
  return rule ? std::string() : rule.error().ToString();
}

inline std::string Base64(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (in.size() - i == 1) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (in.size() - i == 2) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

}  // namespace cloudaudit::threats::testing
