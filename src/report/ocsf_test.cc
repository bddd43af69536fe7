#include <gtest/gtest.h>

#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

Json Events(const std::string& text) {
  auto parsed = ParseJson(text);
  EXPECT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed && parsed->is_array());
  return parsed ? *parsed : Json::array();
}

// Rules the JSON Schema cannot express, checked on every event.
void CheckEvent(const Json& e) {
  SCOPED_TRACE(e.dump().substr(0, 200));
  EXPECT_EQ(e["type_uid"].get<int64_t>(), e["class_uid"].get<int64_t>() * 100 + e["activity_id"].get<int64_t>());
  EXPECT_EQ(e["type_name"].get<std::string>(), e["class_name"].get<std::string>() + ": " + e["activity_name"].get<std::string>());
  EXPECT_EQ(e["metadata"]["version"], "1.9.0");
  EXPECT_EQ(e["metadata"]["product"]["name"], "cloudaudit");
  EXPECT_EQ(e["metadata"]["uid"], e["finding_info"]["uid"]);
}

TEST(OcsfReport, SampleFollowsTheFieldRules) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteOcsf, report);
  EXPECT_EQ(testing::SchemaViolations("ocsf-findings.schema.json", text), "");
  Json events = Events(text);
  // 5 alarms + 2 resolved (Close) + 2 alerts.
  ASSERT_EQ(events.size(), 9u);
  for (const auto& e : events) CheckEvent(e);

  const Json& root = events[0];
  EXPECT_EQ(root["class_uid"], 2003);
  EXPECT_EQ(root["type_uid"], 200301);
  EXPECT_EQ(root["severity_id"], 5);
  EXPECT_EQ(root["status"], "New");
  EXPECT_EQ(root["compliance"]["status"], "Fail");
  EXPECT_EQ(root["compliance"]["standards"], Json::array({"cis-aws-v3.0", "fsbp"}));
  EXPECT_EQ(root["compliance"]["requirements"], Json::array({"cis-aws-v3.0 1.5", "fsbp IAM.9"}));
  EXPECT_EQ(root["compliance"]["control"], "aws.iam.root_mfa_disabled");
  EXPECT_EQ(root["resources"][0]["uid"], "arn:aws:iam::123456789012:root");
  EXPECT_EQ(root["resources"][0]["type"], "AwsAccount");
  EXPECT_FALSE(root["resources"][0].contains("region"));  // global
  EXPECT_EQ(root["cloud"]["account"]["uid"], "123456789012");
  EXPECT_EQ(root["finding_info"]["first_seen_time"], 1772359200000);
  EXPECT_EQ(root["remediation"]["references"][0], "https://docs.aws.amazon.com/iam/");
  EXPECT_NE(root["remediation"]["desc"].get<std::string>().find("aws fix --resource"), std::string::npos);

  const Json& suppressed = events[4];
  EXPECT_EQ(suppressed["status_id"], 3);
  EXPECT_EQ(suppressed["status"], "Suppressed");
  EXPECT_NE(suppressed["status_detail"].get<std::string>().find("accepted risk"), std::string::npos);

  const Json& resolved = events[5];
  EXPECT_EQ(resolved["activity_id"], 3);
  EXPECT_EQ(resolved["type_uid"], 200303);
  EXPECT_EQ(resolved["status"], "Resolved");
  EXPECT_EQ(resolved["compliance"]["status"], "Pass");
  // A resolved finding of a rule that is no longer in the scan still maps.
  EXPECT_EQ(events[6]["finding_info"]["analytic"]["uid"], "aws.retired.rule");
  EXPECT_EQ(events[6]["compliance"]["standards"], Json::array({"cloudaudit"}));

  const Json& alert = events[7];
  EXPECT_EQ(alert["class_uid"], 2004);
  EXPECT_EQ(alert["type_uid"], 200401);
  EXPECT_EQ(alert["severity_id"], 4);
  EXPECT_TRUE(alert["is_alert"].get<bool>());
  EXPECT_EQ(alert["time"], 1772323141000);
  const Json& attack = alert["finding_info"]["attacks"][0];
  EXPECT_EQ(attack["technique"]["uid"], "T1098");
  EXPECT_EQ(attack["sub_technique"]["uid"], "T1098.001");
  EXPECT_EQ(attack["tactic"]["uid"], "TA0003");
  const Json& evidence = alert["evidences"][0];
  EXPECT_EQ(evidence["actor"]["user"]["uid"], "arn:aws:iam::123456789012:user/mallory");
  EXPECT_EQ(evidence["actor"]["user"]["name"], "mallory");
  EXPECT_EQ(evidence["actor"]["user"]["type"], "User");
  EXPECT_EQ(evidence["src_endpoint"]["ip"], "203.0.113.5");
  EXPECT_EQ(evidence["api"]["operation"], "CreateAccessKey");
  EXPECT_EQ(evidence["data"]["eventName"], "CreateAccessKey");

  const Json& service_call = events[8];
  EXPECT_EQ(service_call["status"], "Suppressed");
  EXPECT_FALSE(service_call["is_alert"].get<bool>());
  // An AWS service as the caller is a service name, not an IP address.
  EXPECT_EQ(service_call["evidences"][0]["src_endpoint"]["svc_name"], "ec2.amazonaws.com");
  EXPECT_EQ(service_call["evidences"][0]["data"], "{truncated");
  EXPECT_EQ(service_call["finding_info"]["attacks"][0]["tactic"]["uid"], "TA0001");
}

TEST(OcsfReport, IncludePassedEmptyAndLarge) {
  Report report = testing::SampleReport();
  WriteOptions all;
  all.include_passed = true;
  std::string text = testing::Render(WriteOcsf, report, all);
  EXPECT_EQ(testing::SchemaViolations("ocsf-findings.schema.json", text), "");
  Json events = Events(text);
  ASSERT_EQ(events.size(), report.findings.size() + 2 + 2);
  std::map<std::string, int> compliance_status;
  for (const auto& e : events)
    if (e["class_uid"] == 2003 && e["activity_id"] == 1) ++compliance_status[e["compliance"]["status"].get<std::string>()];
  EXPECT_EQ(compliance_status["Fail"], 5);
  EXPECT_EQ(compliance_status["Pass"], 1);
  EXPECT_EQ(compliance_status["Warning"], 2);  // skip and error: no result

  std::string empty = testing::Render(WriteOcsf, testing::EmptyReport());
  EXPECT_EQ(testing::SchemaViolations("ocsf-findings.schema.json", empty), "");
  EXPECT_TRUE(Events(empty).empty());

  Json large = Events(testing::Render(WriteOcsf, testing::LargeReport(20000)));
  EXPECT_EQ(large.size(), 16000u);
  for (const auto& e : large) {
    ASSERT_EQ(e["type_uid"], 200301);
    ASSERT_EQ(e["compliance"]["status"], "Fail");
  }
  EXPECT_EQ(testing::SchemaViolations("ocsf-findings.schema.json", testing::Sample(large).dump()), "");
}

TEST(OcsfReport, SchemaRejectsBrokenEvents) {
  // The field rules are not vacuous: a wrong type_uid, a missing required
  // object and a foreign attribute are each reported.
  Report report = testing::SampleReport();
  Json events = Events(testing::Render(WriteOcsf, report));
  Json bad = Json::array();
  Json e1 = events[0];
  e1["type_uid"] = 200302;
  Json e2 = events[0];
  e2.erase("compliance");
  Json e3 = events[7];
  e3["compliance"] = events[0]["compliance"];
  Json e4 = events[0];
  e4["severity"] = "Low";  // caption does not match severity_id 5
  for (const auto& e : {e1, e2, e3, e4}) {
    std::string violations = testing::SchemaViolations("ocsf-findings.schema.json", Json::array({e}).dump());
    EXPECT_NE(violations, "") << e.dump().substr(0, 120);
  }
}

}  // namespace
}  // namespace cloudaudit::report
