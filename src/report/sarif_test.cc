#include <set>

#include <gtest/gtest.h>

#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

Json Log(const std::string& text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : Json::object();
}

// What GitHub code scanning needs beyond the schema: rule indexes that
// point at the right rule, a physical location per result, at most 20 tags
// per rule, security-severity as a number in a string.
void CheckForGitHub(const Json& log) {
  const Json& run = log["runs"][0];
  const Json& rules = run["tool"]["driver"]["rules"];
  std::set<std::string> ids;
  for (const auto& r : rules) {
    EXPECT_TRUE(ids.insert(r["id"].get<std::string>()).second) << "duplicate rule " << r["id"];
    EXPECT_LE(r["properties"]["tags"].size(), 20u);
    std::string sev = r["properties"]["security-severity"];
    double value = std::stod(sev);
    EXPECT_GE(value, 0.0);
    EXPECT_LE(value, 10.0);
  }
  for (const auto& res : run["results"]) {
    int index = res["ruleIndex"];
    ASSERT_GE(index, 0);
    ASSERT_LT(static_cast<size_t>(index), rules.size());
    EXPECT_EQ(rules[index]["id"], res["ruleId"]);
    ASSERT_EQ(res["locations"].size(), 1u);
    EXPECT_FALSE(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].get<std::string>().empty());
    EXPECT_FALSE(res["message"]["text"].get<std::string>().empty());
    if (res["kind"] != "fail") {
      EXPECT_EQ(res["level"], "none");
    }
  }
}

TEST(SarifReport, SampleValidatesAgainstTheOfficialSchema) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteSarif, report);
  EXPECT_EQ(testing::SchemaViolations("sarif-schema-2.1.0.json", text), "");
  Json log = Log(text);
  CheckForGitHub(log);
  EXPECT_EQ(log["version"], "2.1.0");
  const Json& run = log["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "cloudaudit");
  EXPECT_EQ(run["automationDetails"]["id"], "cloudaudit/123456789012/7");
  // 5 rules with alarms (the suppressed one too) + 2 Sigma rules.
  ASSERT_EQ(run["tool"]["driver"]["rules"].size(), 7u);
  ASSERT_EQ(run["results"].size(), 5u + 2u);

  const Json& rule = run["tool"]["driver"]["rules"][0];
  EXPECT_EQ(rule["id"], "aws.ec2.sg_open_ssh");
  EXPECT_EQ(rule["name"], "SgOpenSsh");
  EXPECT_EQ(rule["properties"]["security-severity"], "8.0");
  EXPECT_EQ(rule["defaultConfiguration"]["level"], "error");
  // The CLI template holds a ``` fence: the help uses a longer one.
  EXPECT_NE(rule["help"]["markdown"].get<std::string>().find("````sh"), std::string::npos);
  EXPECT_EQ(rule["helpUri"], "https://docs.aws.amazon.com/ec2/");

  const Json& root = run["results"][0];
  EXPECT_EQ(root["ruleId"], "aws.iam.root_mfa_disabled");
  EXPECT_EQ(root["level"], "error");
  EXPECT_EQ(root["kind"], "fail");
  EXPECT_EQ(root["baselineState"], "new");
  EXPECT_EQ(root["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "arn:aws:iam::123456789012:root");
  EXPECT_EQ(root["locations"][0]["logicalLocations"][0]["kind"], "resource");
  EXPECT_FALSE(root["partialFingerprints"]["cloudauditFindingId/v1"].get<std::string>().empty());

  const Json& logs = run["results"][3];
  EXPECT_EQ(logs["level"], "note");
  // A resource id that is not an ARN becomes a percent-encoded relative path.
  EXPECT_EQ(logs["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "aws/123456789012/us-east-1/-cmd%7C%27%20/C%20calc%27%21A0");

  const Json& suppressed = run["results"][4];
  EXPECT_EQ(suppressed["suppressions"][0]["kind"], "external");
  EXPECT_NE(suppressed["suppressions"][0]["justification"].get<std::string>().find("accepted risk"), std::string::npos);

  const Json& alert = run["results"][5];
  EXPECT_EQ(alert["ruleId"], "7f2c3a8e-4d7e-4b55-9a5e-2a1c3f0d9e11");
  EXPECT_EQ(alert["level"], "error");
  EXPECT_EQ(alert["partialFingerprints"]["cloudauditAlertId/v1"], "a1");

  // The skip and error results are not results: the error and the gaps are
  // tool notifications.
  const Json& notes = run["invocations"][0]["toolExecutionNotifications"];
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[2]["level"], "error");
  EXPECT_EQ(notes[2]["associatedRule"]["id"], "aws.ec2.ebs_default");
  EXPECT_TRUE(run["invocations"][0]["executionSuccessful"].get<bool>());
}

TEST(SarifReport, IncludePassedEmptyAndLarge) {
  Report report = testing::SampleReport();
  WriteOptions all;
  all.include_passed = true;
  std::string text = testing::Render(WriteSarif, report, all);
  EXPECT_EQ(testing::SchemaViolations("sarif-schema-2.1.0.json", text), "");
  Json log = Log(text);
  CheckForGitHub(log);
  std::map<std::string, int> kinds;
  for (const auto& r : log["runs"][0]["results"]) ++kinds[r["kind"].get<std::string>()];
  EXPECT_EQ(kinds["fail"], 5 + 2);
  EXPECT_EQ(kinds["pass"], 1);
  EXPECT_EQ(kinds["review"], 1);

  std::string empty = testing::Render(WriteSarif, testing::EmptyReport());
  EXPECT_EQ(testing::SchemaViolations("sarif-schema-2.1.0.json", empty), "");
  EXPECT_TRUE(Log(empty)["runs"][0]["results"].empty());

  Json big = Log(testing::Render(WriteSarif, testing::LargeReport(20000)));
  CheckForGitHub(big);
  EXPECT_EQ(big["runs"][0]["results"].size(), 16000u);
  big["runs"][0]["results"] = testing::Sample(big["runs"][0]["results"]);
  EXPECT_EQ(testing::SchemaViolations("sarif-schema-2.1.0.json", big.dump()), "");
}

TEST(SarifReport, SchemaCatchesABrokenLog) {
  Json log = Log(testing::Render(WriteSarif, testing::SampleReport()));
  log["runs"][0]["results"][0]["level"] = "critical";  // not a SARIF level
  EXPECT_NE(testing::SchemaViolations("sarif-schema-2.1.0.json", log.dump()), "");
}

}  // namespace
}  // namespace cloudaudit::report
