#include <set>

#include <gtest/gtest.h>

#include "report/format_util.h"
#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

Json Findings(const std::string& text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : Json::array();
}

size_t Utf16Units(const std::string& s) {
  size_t units = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    units += c >= 0xF0 ? 2 : 1;
  }
  return units;
}

// Limits the API counts in UTF-16 units (the schema checks code points).
void CheckLimits(const Json& f) {
  EXPECT_LE(Utf16Units(f["Title"]), 256u);
  EXPECT_LE(Utf16Units(f["Description"]), 1024u);
  if (f.contains("Remediation")) {  // alerts have none
    EXPECT_LE(Utf16Units(f["Remediation"]["Recommendation"]["Text"]), 512u);
  }
  for (const auto& [k, v] : f["ProductFields"].items()) EXPECT_LE(Utf16Units(v), 2048u) << k;
  EXPECT_LE(f.dump().size(), 240u * 1024u);  // BatchImportFindings: 240 KB per finding
  EXPECT_LE(f["CreatedAt"].get<std::string>(), f["UpdatedAt"].get<std::string>());
}

TEST(AsffReport, SampleIsImportable) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteAsff, report);
  EXPECT_EQ(testing::SchemaViolations("asff-findings.schema.json", text), "");
  Json findings = Findings(text);
  ASSERT_EQ(findings.size(), 5u + 2u + 2u);  // alarms, then the two resolved, then the two alerts
  for (const auto& f : findings) CheckLimits(f);

  const Json& root = findings[0];
  EXPECT_EQ(root["ProductArn"], "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default");
  EXPECT_EQ(root["GeneratorId"], "aws.iam.root_mfa_disabled");
  EXPECT_EQ(root["Severity"]["Label"], "CRITICAL");
  EXPECT_EQ(root["Severity"]["Original"], "critical");
  EXPECT_EQ(root["FindingProviderFields"]["Severity"], root["Severity"]);
  EXPECT_EQ(root["Resources"][0]["Type"], "AwsAccount");
  EXPECT_EQ(root["Resources"][0]["Region"], "us-east-1");  // global -> the home region
  EXPECT_EQ(root["Compliance"]["Status"], "FAILED");
  EXPECT_EQ(root["Compliance"]["RelatedRequirements"], Json::array({"cis-aws-v3.0/1.5", "fsbp/IAM.9"}));
  EXPECT_EQ(root["Workflow"]["Status"], "NEW");
  EXPECT_EQ(root["RecordState"], "ACTIVE");
  EXPECT_EQ(root["Types"][1], "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark");
  EXPECT_EQ(root["Types"][2], "Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices");
  EXPECT_EQ(root["ProductFields"]["cloudaudit/Change"], "new");
  EXPECT_EQ(root["FirstObservedAt"], "2026-03-01T10:00:00Z");

  // A framework unknown to Security Hub is named by its title, '/' replaced.
  EXPECT_EQ(findings[2]["Types"][1],
            "Software and Configuration Checks/Industry and Regulatory Standards/NIST 800-53 Controls (USA)");

  const Json& bucket = findings[1];
  EXPECT_EQ(bucket["CreatedAt"], "2026-01-15T08:30:00Z");
  EXPECT_EQ(bucket["UpdatedAt"], "2026-03-01T10:00:00Z");
  EXPECT_EQ(bucket["Resources"][0]["Type"], "AwsS3Bucket");
  EXPECT_EQ(bucket["Resources"][0]["Region"], "eu-west-1");

  const Json& logs = findings[3];
  EXPECT_EQ(logs["Resources"][0]["Type"], "Other");
  EXPECT_TRUE(logs["Resources"][0].contains("Details"));

  EXPECT_EQ(findings[4]["Workflow"]["Status"], "SUPPRESSED");
  EXPECT_NE(findings[4]["ProductFields"]["cloudaudit/SuppressionReason"].get<std::string>().find("accepted risk"), std::string::npos);

  const Json& resolved = findings[5];
  EXPECT_EQ(resolved["RecordState"], "ARCHIVED");
  EXPECT_EQ(resolved["Compliance"]["Status"], "PASSED");
  EXPECT_EQ(resolved["Workflow"]["Status"], "RESOLVED");
  EXPECT_FALSE(resolved.contains("FirstObservedAt"));

  // Threat alerts: typed by ATT&CK tactic, the principal as the resource.
  const Json& alert = findings[7];
  EXPECT_EQ(alert["Id"], "cloudaudit/alert/" + report.alerts[0].alert_id);
  EXPECT_EQ(alert["GeneratorId"], report.alerts[0].rule_id);
  EXPECT_EQ(alert["ProductFields"]["cloudaudit/EventName"], report.alerts[0].event_name);
  EXPECT_FALSE(alert.contains("Compliance"));
  EXPECT_TRUE(alert["Types"][0].get<std::string>().rfind("TTPs/", 0) == 0 ||
              alert["Types"][0].get<std::string>().rfind("Effects/", 0) == 0 ||
              alert["Types"][0] == "Unusual Behaviors/User")
      << alert["Types"];
  EXPECT_EQ(alert["Workflow"]["Status"], "NEW");
  EXPECT_EQ(findings[8]["Workflow"]["Status"], "SUPPRESSED");
}

TEST(AsffReport, FrameworkTitlesKeepTheTypeShape) {
  Report report = testing::SampleReport();
  report.rules.at("aws.kms.key_rotation_disabled").compliance = {{"acme-sec", {"K.1"}}};
  FrameworkResult fw;
  fw.id = "acme-sec";
  fw.title = "ACME/Internal Security Standard";
  report.frameworks.push_back(fw);
  std::string text = testing::Render(WriteAsff, report);
  EXPECT_EQ(testing::SchemaViolations("asff-findings.schema.json", text), "");
  EXPECT_EQ(Findings(text)[4]["Types"][1],
            "Software and Configuration Checks/Industry and Regulatory Standards/ACME-Internal Security Standard");
}

TEST(AsffReport, LongTextIsTruncatedCleanly) {
  Report report = testing::SampleReport();
  RuleInfo& rule = report.rules.at("aws.ec2.sg_open_ssh");
  std::string emoji = "\xF0\x9F\x9A\x80";
  for (int i = 0; i < 400; ++i) rule.title += emoji;  // 800 UTF-16 units
  rule.description = std::string(3000, 'd');
  rule.remediation.console = std::string(3000, 'c');
  report.findings[2].row.remediation_cli = std::string(5000, 'x');
  std::string text = testing::Render(WriteAsff, report);
  EXPECT_EQ(testing::SchemaViolations("asff-findings.schema.json", text), "");
  Json f = Findings(text)[2];
  CheckLimits(f);
  std::string title = f["Title"];
  EXPECT_EQ(title.substr(title.size() - 3), "\xE2\x80\xA6");
  EXPECT_EQ(ValidUtf8(title), title);
  EXPECT_EQ(Utf16Units(f["Description"]), 1024u);
}

TEST(AsffReport, IncludePassedEmptyAndLarge) {
  Report report = testing::SampleReport();
  WriteOptions all;
  all.include_passed = true;
  std::string text = testing::Render(WriteAsff, report, all);
  EXPECT_EQ(testing::SchemaViolations("asff-findings.schema.json", text), "");
  std::map<std::string, int> status;
  for (const auto& f : Findings(text))
    if (f["RecordState"] == "ACTIVE" && f.contains("Compliance")) ++status[f["Compliance"]["Status"].get<std::string>()];
  EXPECT_EQ(status["FAILED"], 5);
  EXPECT_EQ(status["PASSED"], 1);
  EXPECT_EQ(status["WARNING"], 1);
  EXPECT_EQ(status["NOT_AVAILABLE"], 1);

  std::string empty = testing::Render(WriteAsff, testing::EmptyReport());
  EXPECT_EQ(Findings(empty), Json::array());

  Json large = Findings(testing::Render(WriteAsff, testing::LargeReport(20000)));
  EXPECT_EQ(large.size(), 16000u);
  std::set<std::string> ids;
  for (const auto& f : large) ids.insert(f["Id"].get<std::string>());
  EXPECT_EQ(ids.size(), large.size());  // Security Hub upserts by Id: ids must be unique
  EXPECT_EQ(testing::SchemaViolations("asff-findings.schema.json", testing::Sample(large).dump()), "");
}

}  // namespace
}  // namespace cloudaudit::report
