#include "scan/config.h"

#include <gtest/gtest.h>

namespace cloudaudit::scan {
namespace {

TEST(ScanConfigTest, ReadsEverySection) {
  const char* text = R"yaml(
aws:
  profile: audit
  region: eu-west-1
collect:
  regions: [eu-west-1, us-east-1]
  services: iam
  concurrency: 32
db: state/inventory.db
threads: 4
rules:
  dirs: [my-rules, /abs/rules]
  builtin: false
  select: ["aws.s3.*"]
  severity: high
  legacy: false
  params:
    max_age_days: 60
    aws.iam.user_access_key_not_rotated.max_age_days: 30
    allowed_ports: [22, 443]
frameworks: [cis-aws-v3.0, fsbp]
suppressions:
  - rule: aws.s3.bucket_logging_disabled
    resource: "arn:aws:s3:::logs-*"
    reason: the log buckets themselves
    owner: platform-team
    expires: 2027-01-31
suppressions_file: accepted.yaml
output:
  formats: [table, html, sarif]
  dir: reports
  fail_on: high
  include_passed: true
)yaml";
  auto c = ParseScanConfig(text, "/etc/team/cloudaudit.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->profile, "audit");
  EXPECT_EQ(c->region, "eu-west-1");
  EXPECT_EQ(c->regions, (std::vector<std::string>{"eu-west-1", "us-east-1"}));
  EXPECT_EQ(c->services, std::vector<std::string>{"iam"});  // a single string is a one-item list
  EXPECT_EQ(c->concurrency, 32);
  EXPECT_EQ(c->db, "/etc/team/state/inventory.db");  // relative to the file
  EXPECT_EQ(c->threads, 4);
  EXPECT_EQ(c->rule_dirs, (std::vector<std::string>{"/etc/team/my-rules", "/abs/rules"}));
  EXPECT_EQ(c->builtin, false);
  EXPECT_EQ(c->rule_ids, std::vector<std::string>{"aws.s3.*"});
  EXPECT_EQ(c->min_severity, "high");
  EXPECT_EQ(c->include_legacy, false);
  EXPECT_EQ(c->params.at("max_age_days"), Json(60));
  EXPECT_EQ(c->params.at("aws.iam.user_access_key_not_rotated.max_age_days"), Json(30));
  EXPECT_EQ(c->params.at("allowed_ports"), Json::array({22, 443}));
  EXPECT_EQ(c->frameworks, (std::vector<std::string>{"cis-aws-v3.0", "fsbp"}));
  ASSERT_EQ(c->suppressions.size(), 1u);
  EXPECT_EQ(c->suppressions[0].owner, "platform-team");
  EXPECT_EQ(c->suppressions[0].line, 23);
  EXPECT_EQ(c->suppressions_file, "/etc/team/accepted.yaml");
  EXPECT_EQ(c->formats, (std::vector<std::string>{"table", "html", "sarif"}));
  EXPECT_EQ(c->out_dir, "/etc/team/reports");
  EXPECT_EQ(c->fail_on, "high");
  EXPECT_EQ(c->include_passed, true);
}

TEST(ScanConfigTest, EmptyFileConfiguresNothing) {
  auto c = ParseScanConfig("", "empty.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->db.has_value());
  EXPECT_TRUE(c->formats.empty());
}

TEST(ScanConfigTest, EveryProblemWithItsLine) {
  const char* text = R"yaml(
collect:
  regoins: [us-east-1]
  concurrency: lots
rules:
  severity: severe
  builtin: maybe
output:
  formats: [html, pdf]
  fail_on: high
suppressions:
  - rule: aws.s3.x
    resource: "*"
verbose: true
)yaml";
  auto c = ParseScanConfig(text, "team.yaml");
  ASSERT_FALSE(c);
  const std::string& m = c.error().message;
  EXPECT_NE(m.find("team.yaml:3: unknown key `regoins` in `collect`"), std::string::npos) << m;
  EXPECT_NE(m.find("team.yaml:4: `concurrency` must be a whole number from 1 to 256"), std::string::npos) << m;
  EXPECT_NE(m.find("team.yaml:6: `severity` must be one of"), std::string::npos) << m;
  EXPECT_NE(m.find("team.yaml:7: `builtin` must be true or false"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown format `pdf`"), std::string::npos) << m;
  EXPECT_NE(m.find("a suppression needs `reason`"), std::string::npos) << m;
  EXPECT_NE(m.find("team.yaml:14: unknown key `verbose`"), std::string::npos) << m;
  // Sorted by line.
  EXPECT_LT(m.find("team.yaml:3:"), m.find("team.yaml:14:"));
}

TEST(ScanConfigTest, MalformedYamlSaysWhere) {
  auto c = ParseScanConfig("output:\n  formats: [html\n", "broken.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("broken.yaml:"), std::string::npos);
  auto scalar = ParseScanConfig("just a string", "s.yaml");
  ASSERT_FALSE(scalar);
  EXPECT_NE(scalar.error().message.find("s.yaml:1:"), std::string::npos) << scalar.error().message;
}

TEST(ScanConfigTest, AliasBombInParamsStopsWithItsLine) {
  std::string text = "x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 8; ++i) {
    text += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) text += (j ? ", *a" : "*a") + std::to_string(i - 1);
    text += "]\n";
  }
  text += "rules:\n  params:\n    max_age_days: *a8\n";
  auto c = cloudaudit::scan::ParseScanConfig(text, "bomb.yaml");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message.find("bomb.yaml:"), std::string::npos) << c.error().message;
  EXPECT_NE(c.error().message.find("expands to more than"), std::string::npos) << c.error().message;
}

TEST(ScanConfigTest, MissingFileIsNotFound) {
  auto c = LoadScanConfig("/nonexistent/cloudaudit.yaml");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cloudaudit::scan
