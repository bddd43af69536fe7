// Test support for the report writers (included by src/report/*_test.cc
// only): a realistic Report built by hand — every finding status, a
// suppression, new/open history, a diff with a resolved finding, a
// framework, gaps, API calls, threat alerts — whose AWS-provided strings are
// hostile (quotes, commas, newlines, formula prefixes, <script>, ANSI
// escapes, bidi overrides, invalid UTF-8, wide characters); a large report;
// and the JSON Schema validator the machine-format tests shell out to.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "report/formats.h"
#include "report/model.h"
#include "testing/test_paths.h"

namespace cloudaudit::report::testing {

// A reason an attacker could plant in a resource name or tag.
inline const char* kHostile =
    "=HYPERLINK(\"http://evil\"),\x1b[31mRED\x1b[0m\r\n<script>alert('x')</script> | *bold* _u_ `tick` [l](u) @team #1 "
    "\xE2\x80\xAE" "reversed \xE6\x95\xB0\xE6\x8D\xAE\xF0\x9F\x9A\x80 \xC3\xA9";

inline RuleInfo MakeRule(const std::string& id, const std::string& severity, const std::string& table,
                         std::map<std::string, std::vector<std::string>> compliance = {}) {
  RuleInfo r;
  r.id = id;
  std::string service = id.substr(4, id.find('.', 4) - 4);
  r.title = "Title of " + id;
  r.description = "Why " + id + " matters.";
  r.service = service;
  r.resource_table = table;
  r.severity = severity;
  r.pillars = {"security"};
  r.tags = {"tag-" + service};
  r.references = {"https://docs.aws.amazon.com/" + service + "/"};
  r.compliance = std::move(compliance);
  r.remediation.console = "1. Open the console.\n2. Fix it.";
  r.remediation.cli = "aws " + service + " fix --id {id}\n```\nnested fence\n```";
  r.remediation.terraform = "resource \"x\" \"y\" {}";
  r.remediation.prevent = "Use an SCP.";
  return r;
}

inline store::FindingRow Row(const std::string& rule, const std::string& resource, const std::string& status,
                             const std::string& severity, const std::string& region = "us-east-1") {
  store::FindingRow f;
  f.finding_id = "f" + std::to_string(std::hash<std::string>{}(rule + "|" + resource));
  f.rule_id = rule;
  f.service = rule.substr(4, rule.find('.', 4) - 4);
  f.severity = severity;
  f.account_id = "123456789012";
  f.region = region;
  f.resource = resource;
  f.resource_name = resource.substr(resource.find_last_of(":/") + 1);
  f.status = status;
  f.reason = resource + " is " + status;
  if (status == "alarm") f.remediation_cli = "aws fix --resource '" + resource + "'";
  return f;
}

// Adds a finding whose rule must already be in report.rules.
inline Finding& Add(Report& report, store::FindingRow row, const std::string& first_seen = "", const std::string& change = "") {
  Finding f;
  f.rule = &report.rules.at(row.rule_id);
  f.row = std::move(row);
  if (f.row.status == "alarm") {
    f.first_seen = first_seen.empty() ? report.scan.started_at : first_seen;
    f.change = change;
  }
  Summary& s = report.summary;
  if (f.suppressed()) {
    ++s.suppressed;
  } else {
    ++s.by_status[f.row.status];
    if (f.row.status == "alarm") {
      ++s.alarms_by_severity[f.row.severity];
      ++s.alarms_by_service[f.row.service];
      ++s.alarms_by_region[f.row.region];
    }
  }
  ++s.resources;
  report.findings.push_back(std::move(f));
  return report.findings.back();
}

inline void BaseScan(Report& r) {
  r.tool_version = "0.1.0";
  r.generated_at = "2026-03-01T10:05:00Z";
  r.scan.id = 7;
  r.scan.account_id = "123456789012";
  r.scan.partition = "aws";
  r.scan.regions = {"us-east-1", "eu-west-1"};
  r.scan.started_at = "2026-03-01T10:00:00Z";
  r.scan.ended_at = "2026-03-01T10:04:12Z";
  r.scan.status = "complete";
  r.scan.tool_version = "0.1.0";
}

// No findings, no history, no alerts.
inline Report EmptyReport() {
  Report r;
  BaseScan(r);
  r.scan.status = "partial";
  return r;
}

inline Report SampleReport() {
  Report r;
  BaseScan(r);
  r.rules.emplace("aws.iam.root_mfa_disabled", MakeRule("aws.iam.root_mfa_disabled", "critical", "aws_iam_account_summary",
                                                        {{"cis-aws-v3.0", {"1.5"}}, {"fsbp", {"IAM.9"}}}));
  r.rules.emplace("aws.s3.bucket_public_read",
                  MakeRule("aws.s3.bucket_public_read", "critical", "aws_s3_bucket", {{"cis-aws-v3.0", {"2.1.4"}}}));
  r.rules.emplace("aws.ec2.sg_open_ssh", MakeRule("aws.ec2.sg_open_ssh", "high", "aws_ec2_security_group",
                                                  {{"nist-800-53-rev5", {"AC-4", "SC-7(5)"}}}));
  r.rules.emplace("aws.kms.key_rotation_disabled", MakeRule("aws.kms.key_rotation_disabled", "medium", "aws_kms_key"));
  r.rules.emplace("aws.logs.retention_short", MakeRule("aws.logs.retention_short", "low", "aws_logs_log_group"));
  r.rules.emplace("aws.ec2.ebs_default", MakeRule("aws.ec2.ebs_default", "informational", "aws_ec2_ebs_encryption_default"));
  r.rules["aws.s3.bucket_public_read"].title = "Buckets do not allow \"public\" <read>, | pipes";
  r.summary.rules = r.rules.size();

  // Worst first, as LoadReport orders them.
  Add(r, Row("aws.iam.root_mfa_disabled", "arn:aws:iam::123456789012:root", "alarm", "critical", "global"), "", "new");
  {
    auto row = Row("aws.s3.bucket_public_read", "arn:aws:s3:::evil-bucket", "alarm", "critical", "eu-west-1");
    row.resource_name = kHostile;
    row.reason = kHostile;
    row.evidence = R"({"grants":[{"uri":"http://acs.amazonaws.com/groups/global/AllUsers"}]})";
    Add(r, row, "2026-01-15T08:30:00Z", "open");
  }
  {
    auto row = Row("aws.ec2.sg_open_ssh", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc", "alarm", "high");
    row.resource_name = "\xE6\x95\xB0\xE6\x8D\xAE\xE5\xBA\x93-\xE3\x82\xB5\xE3\x83\xBC\xE3\x83\x90\xE3\x83\xBC \xF0\x9F\x9A\x80";
    row.reason = std::string("port 22 open to 0.0.0.0/0; name has invalid UTF-8 \xFF\xFE and a tab\there");
    row.evidence = "not json {";
    Add(r, row, "2026-02-01T00:00:00Z", "open");
  }
  {
    auto row = Row("aws.logs.retention_short", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/x", "alarm", "low");
    row.resource = "-cmd|' /C calc'!A0";
    Add(r, row, "2026-03-01T10:00:00Z", "new");
  }
  {
    auto row = Row("aws.kms.key_rotation_disabled", "arn:aws:kms:us-east-1:123456789012:key/1234", "alarm", "medium");
    row.suppression = Json{{"reason", "accepted risk, see \"TICKET-1\"\nline two"}, {"owner", "secops"}, {"expires", "2027-01-01"}};
    Add(r, row, "2026-02-01T00:00:00Z", "open");
  }
  Add(r, Row("aws.kms.key_rotation_disabled", "arn:aws:kms:us-east-1:123456789012:key/5678", "ok", "medium"));
  {
    auto row = Row("aws.ec2.ebs_default", "aws_ec2_ebs_encryption_default/eu-west-1", "skip", "informational", "eu-west-1");
    row.reason = "collection gap: ec2 GetEbsEncryptionByDefault in eu-west-1 (AccessDenied)";
    Add(r, row);
  }
  {
    auto row = Row("aws.ec2.ebs_default", "aws_ec2_ebs_encryption_default/us-east-1", "error", "informational");
    row.reason = "query failed: malformed JSON";
    Add(r, row);
  }

  FrameworkResult fw;
  fw.id = "cis-aws-v3.0";
  fw.title = "CIS Amazon Web Services Foundations Benchmark v3.0.0";
  fw.version = "3.0.0";
  fw.url = "https://www.cisecurity.org/benchmark/amazon_web_services";
  fw.controls = {{"1.5", "Root has MFA", "IAM", "fail", {"aws.iam.root_mfa_disabled"}, 1, 0, 0},
                 {"2.1.4", "Buckets not public", "Storage", "fail", {"aws.s3.bucket_public_read"}, 1, 0, 0},
                 {"1.1", "Contact details", "IAM", "manual", {}, 0, 0, 0}};
  fw.fail = 2;
  fw.manual = 1;
  fw.percent = 0;
  r.frameworks.push_back(fw);

  ScanDiff diff;
  diff.previous_scan_id = 6;
  diff.previous_started_at = "2026-02-22T10:00:00Z";
  diff.new_alarms = 2;
  diff.open_alarms = 3;
  diff.resolved.push_back(Row("aws.ec2.sg_open_ssh", "arn:aws:ec2:us-east-1:123456789012:security-group/sg-old", "alarm", "high"));
  diff.resolved.push_back(Row("aws.retired.rule", "arn:aws:sns:us-east-1:123456789012:topic", "alarm", "low"));
  r.diff = diff;

  r.gaps = {{"aws_ec2_ebs_encryption_default", "ec2", "GetEbsEncryptionByDefault", "eu-west-1", "", "AccessDenied",
             "User is not authorized"},
            {"aws_s3_bucket", "s3", "GetBucketPolicy", "global", "evil-bucket", "AccessDenied", kHostile}};
  r.api_calls = {{"ec2", "DescribeInstances", "us-east-1", 4, 0, 120},
                 {"ec2", "GetEbsEncryptionByDefault", "eu-west-1", 1, 1, 30},
                 {"s3", "ListBuckets", "us-east-1", 1, 0, 80}};

  store::ThreatRun run;
  run.id = 3;
  run.started_at = "2026-03-01T09:00:00Z";
  run.ended_at = "2026-03-01T09:01:00Z";
  run.status = "complete";
  run.tool_version = "0.1.0";
  run.sources = Json::array({"/var/log/cloudtrail"});
  run.rules = 40;
  run.records = 1200;
  run.alerts = 2;
  r.threat_run = run;

  store::AlertRow a;
  a.alert_id = "a1";
  a.run_id = 3;
  a.rule_id = "7f2c3a8e-4d7e-4b55-9a5e-2a1c3f0d9e11";
  a.rule_title = "New access key created for another user";
  a.level = "high";
  a.tags = {"attack.persistence", "attack.t1098.001", "attack.privilege_escalation"};
  a.event_time = "2026-02-28T23:59:01Z";
  a.event_id = "e-1";
  a.event_name = "CreateAccessKey";
  a.event_source = "iam.amazonaws.com";
  a.account_id = "123456789012";
  a.region = "us-east-1";
  a.principal = "arn:aws:iam::123456789012:user/mallory";
  a.source_ip = "203.0.113.5";
  a.user_agent = "aws-cli/2.15";
  a.source = "/var/log/cloudtrail/x.json.gz:17";
  a.record = R"({"eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","accountId":"123456789012","userName":"mallory"}})";
  r.alerts.push_back(a);
  store::AlertRow b = a;
  b.alert_id = "a2";
  b.rule_id = "aws.threat.console_login_no_mfa";
  b.rule_title = std::string("Console login without MFA ") + kHostile;
  b.level = "medium";
  b.tags = {"attack.initial_access"};
  b.event_name = "ConsoleLogin";
  b.event_source = "signin.amazonaws.com";
  b.principal = "";
  b.source_ip = "ec2.amazonaws.com";
  b.record = "{truncated";
  b.suppression = Json{{"reason", "break-glass drill"}};
  r.alerts.push_back(b);
  return r;
}

// `n` alarms and passes over a few rules, for size and speed checks.
inline Report LargeReport(size_t n) {
  Report r;
  BaseScan(r);
  r.rules.emplace("aws.s3.bucket_public_read", MakeRule("aws.s3.bucket_public_read", "high", "aws_s3_bucket", {{"fsbp", {"S3.2"}}}));
  r.rules.emplace("aws.ec2.sg_open_ssh", MakeRule("aws.ec2.sg_open_ssh", "medium", "aws_ec2_security_group"));
  r.summary.rules = 2;
  r.findings.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    bool s3 = i % 2 == 0;
    std::string resource = s3 ? "arn:aws:s3:::bucket-" + std::to_string(i)
                              : "arn:aws:ec2:us-east-1:123456789012:security-group/sg-" + std::to_string(i);
    Add(r, Row(s3 ? "aws.s3.bucket_public_read" : "aws.ec2.sg_open_ssh", resource, i % 5 == 4 ? "ok" : "alarm", s3 ? "high" : "medium"));
  }
  return r;
}

template <typename Writer>
std::string Render(Writer writer, const Report& report, WriteOptions options = {}) {
  std::ostringstream out;
  auto status = writer(report, out, options);
  if (!status) ADD_FAILURE() << status.error().message;
  return out.str();
}

// `array` cut to its first and last `keep` elements: the schema validator
// (Python) is slow on tens of thousands of generated elements that all have
// the same shape, while the writers are checked on all of them in C++.
inline Json Sample(const Json& array, size_t keep = 200) {
  if (!array.is_array() || array.size() <= 2 * keep) return array;
  Json out = Json::array();
  for (size_t i = 0; i < keep; ++i) out.push_back(array[i]);
  for (size_t i = array.size() - keep; i < array.size(); ++i) out.push_back(array[i]);
  return out;
}

// Runs tests/schemas/validate.py; returns "" when `document` is valid, else
// the violations (or why validation could not run).
inline std::string SchemaViolations(const std::string& schema_file, const std::string& document) {
  namespace fs = std::filesystem;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::temp_directory_path() / ("cloudaudit-report-schema-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path doc = dir / (std::string(info->test_suite_name()) + "." + info->name() + ".json");
  std::ofstream(doc, std::ios::binary) << document;
  std::string src = cloudaudit::testing::SourceDir();
  std::string cmd = std::string(CLOUDAUDIT_SCHEMA_PYTHON) + " '" + src + "/tests/schemas/validate.py' '" + src +
                    "/tests/schemas/" + schema_file + "' '" + doc.string() + "' 2>&1";
  std::string output;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return "cannot run " + cmd;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  int rc = ::pclose(pipe);
  fs::remove(doc);
  if (rc == 0) return "";
  return output.empty() ? "validator exited with " + std::to_string(rc) : output;
}

}  // namespace cloudaudit::report::testing
