// The rule lint of the build: every built-in rule and framework loads
// (schema, SQL, parameters, references) and every fixture passes.
#include <gtest/gtest.h>

#include "rules/engine.h"

namespace cloudaudit::rules {
namespace {

TEST(BuiltinRules, LoadAndPassTheirFixtures) {
  auto specs = collect::LoadSpecs();
  ASSERT_TRUE(specs) << specs.error().ToString();
  auto set = LoadRules(LoadOptions{}, *specs);
  ASSERT_TRUE(set) << set.error().message;
  std::vector<const Rule*> all;
  for (const auto& r : set->rules) all.push_back(&r);
  auto report = RunRuleTests(all, *specs);
  std::string failures;
  for (const auto& f : report.failures)
    failures += f.file + ":" + std::to_string(f.line) + ": " + f.rule_id + ": " + f.test_name + ": " + f.message + "\n";
  EXPECT_TRUE(report.failures.empty()) << failures;
  RecordProperty("rules", static_cast<int>(report.rules));
  RecordProperty("fixtures", static_cast<int>(report.tests));
}

}  // namespace
}  // namespace cloudaudit::rules
