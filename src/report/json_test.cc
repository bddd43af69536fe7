#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

using testing::EmptyReport;
using testing::LargeReport;
using testing::Render;
using testing::SampleReport;
using testing::SchemaViolations;

Json Parse(const std::string& text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : Json();
}

TEST(JsonReport, SampleIsValidAndComplete) {
  Report report = SampleReport();
  std::string text = Render(WriteJson, report);
  EXPECT_EQ(SchemaViolations("cloudaudit-report.schema.json", text), "");
  Json doc = Parse(text);
  EXPECT_EQ(doc["schema_version"], "1.0");
  EXPECT_EQ(doc["scan"]["id"], 7);
  EXPECT_EQ(doc["scan"]["regions"], Json::array({"us-east-1", "eu-west-1"}));
  // Alarms only by default (the suppressed one included), in report order.
  ASSERT_EQ(doc["findings"].size(), 5u);
  EXPECT_EQ(doc["summary"]["findings_listed"], 5);
  EXPECT_EQ(doc["findings"][0]["rule_id"], "aws.iam.root_mfa_disabled");
  EXPECT_EQ(doc["findings"][0]["change"], "new");
  EXPECT_EQ(doc["findings"][1]["first_seen"], "2026-01-15T08:30:00Z");
  // Evidence is embedded as JSON; text that is not JSON stays a string.
  EXPECT_TRUE(doc["findings"][1]["evidence"].is_object());
  EXPECT_EQ(doc["findings"][2]["evidence"], "not json {");
  EXPECT_EQ(doc["findings"][4]["suppression"]["owner"], "secops");
  // Hostile text survives byte for byte (JSON escaping is the protection);
  // invalid UTF-8 becomes U+FFFD.
  EXPECT_EQ(doc["findings"][1]["reason"].get<std::string>(), testing::kHostile);
  EXPECT_NE(doc["findings"][2]["reason"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(doc["summary"]["by_status"]["alarm"], 4);
  EXPECT_EQ(doc["summary"]["suppressed"], 1);
  EXPECT_EQ(doc["rules"]["aws.s3.bucket_public_read"]["compliance"]["cis-aws-v3.0"], Json::array({"2.1.4"}));
  EXPECT_EQ(doc["frameworks"][0]["controls"].size(), 3u);
  EXPECT_EQ(doc["diff"]["previous_scan_id"], 6);
  EXPECT_EQ(doc["diff"]["resolved"], 2);
  EXPECT_EQ(doc["diff"]["resolved_findings"][0]["status"], "alarm");
  EXPECT_EQ(doc["gaps"].size(), 2u);
  EXPECT_EQ(doc["api_calls"][1]["errors"], 1);
  EXPECT_EQ(doc["threat_run"]["records"], 1200);
  ASSERT_EQ(doc["alerts"].size(), 2u);
  EXPECT_EQ(doc["alerts"][0]["record"]["userIdentity"]["userName"], "mallory");
  EXPECT_EQ(doc["alerts"][1]["record"], "{truncated");
  EXPECT_EQ(doc["summary"]["alerts_by_level"], Json({{"high", 1}}));
}

TEST(JsonReport, IncludePassedListsEveryStatus) {
  Report report = SampleReport();
  WriteOptions options;
  options.include_passed = true;
  std::string text = Render(WriteJson, report, options);
  EXPECT_EQ(SchemaViolations("cloudaudit-report.schema.json", text), "");
  Json doc = Parse(text);
  ASSERT_EQ(doc["findings"].size(), report.findings.size());
  std::set<std::string> statuses;
  for (const auto& f : doc["findings"]) statuses.insert(f["status"].get<std::string>());
  EXPECT_EQ(statuses, (std::set<std::string>{"alarm", "ok", "skip", "error"}));
  EXPECT_TRUE(doc["include_passed"].get<bool>());
}

TEST(JsonReport, EmptyScanWithoutHistoryOrAlerts) {
  std::string text = Render(WriteJson, EmptyReport());
  EXPECT_EQ(SchemaViolations("cloudaudit-report.schema.json", text), "");
  Json doc = Parse(text);
  EXPECT_TRUE(doc["findings"].empty());
  EXPECT_TRUE(doc["diff"].is_null());
  EXPECT_TRUE(doc["threat_run"].is_null());
  EXPECT_TRUE(doc["alerts"].empty());
}

TEST(JsonReport, LargeScanStreamsOneFindingPerLine) {
  Report report = LargeReport(20000);
  std::string text = Render(WriteJson, report);
  Json doc = Parse(text);
  EXPECT_EQ(doc["findings"].size(), 16000u);  // every fifth is ok
  Json sample = doc;
  sample["findings"] = testing::Sample(doc["findings"]);
  EXPECT_EQ(SchemaViolations("cloudaudit-report.schema.json", sample.dump()), "");
  size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  EXPECT_GT(lines, 16000u);
}

}  // namespace
}  // namespace cloudaudit::report
