#include "report/model.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "rules/rule.h"

namespace cloudaudit::report {
namespace {

namespace fs = std::filesystem;

store::FindingRow Finding(const std::string& rule, const std::string& resource, const std::string& status,
                          const std::string& severity = "high") {
  store::FindingRow f;
  f.finding_id = rule + "|" + resource;
  f.rule_id = rule;
  f.service = rule.substr(4, rule.find('.', 4) - 4);
  f.severity = severity;
  f.account_id = "123456789012";
  f.region = "us-east-1";
  f.resource = resource;
  f.status = status;
  f.reason = resource + " is " + status;
  return f;
}

Json RuleDoc(const std::string& id, const std::string& severity, Json compliance = Json::object()) {
  return Json{{"id", id},
              {"title", "Title of " + id},
              {"description", "d"},
              {"service", id.substr(4, id.find('.', 4) - 4)},
              {"resource", "aws_s3_bucket"},
              {"severity", severity},
              {"pillars", Json::array({"security"})},
              {"compliance", std::move(compliance)},
              {"remediation", {{"console", "c"}, {"cli", "aws s3 x {name}"}, {"terraform", "t"}, {"cloudformation", ""}, {"prevent", "p"}}},
              {"references", Json::array({"https://example.com"})}};
}

class ReportModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cloudaudit-report-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto opened = store::Store::Open((dir_ / "s.db").string());
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
    rules::Framework fw;
    fw.id = "cis";
    fw.title = "CIS";
    fw.version = "3.0";
    fw.controls = {{"2.1", "Buckets encrypted", "Storage", false}, {"2.2", "Manual one", "Storage", true},
                   {"2.3", "Nobody maps here", "Storage", false}};
    rules_.frameworks.push_back(fw);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int64_t AddScan(const std::string& started, const std::vector<store::FindingRow>& findings) {
    store::ScanInfo info;
    info.account_id = "123456789012";
    info.regions = {"us-east-1"};
    info.started_at = started;
    info.tool_version = "test";
    auto id = store_->BeginScan(info);
    EXPECT_TRUE(id);
    EXPECT_TRUE(store_->FinishScan(*id, "complete", "123456789012", {"us-east-1"}));
    store::EvaluationRecord rec;
    rec.started_at = rec.ended_at = started;
    rec.tool_version = "test";
    rec.status = "complete";
    rec.rules = {{"aws.s3.encrypted", RuleDoc("aws.s3.encrypted", "high", Json{{"cis", Json::array({"2.1"})}})},
                 {"aws.s3.logging", RuleDoc("aws.s3.logging", "medium")},
                 {"aws.iam.root_mfa", RuleDoc("aws.iam.root_mfa", "critical")}};
    EXPECT_TRUE(store_->SaveEvaluation(*id, rec, findings));
    return *id;
  }

  fs::path dir_;
  std::unique_ptr<store::Store> store_;
  rules::RuleSet rules_;
};

TEST_F(ReportModelTest, WorstFirstSummaryAndSnapshots) {
  auto suppressed = Finding("aws.s3.logging", "b3", "alarm", "medium");
  suppressed.suppression = Json{{"reason", "accepted"}};
  int64_t scan = AddScan("2026-01-01T00:00:00Z", {Finding("aws.s3.encrypted", "b1", "ok"), Finding("aws.s3.encrypted", "b2", "alarm"),
                                                  Finding("aws.s3.logging", "b1", "alarm", "medium"), suppressed,
                                                  Finding("aws.iam.root_mfa", "root", "alarm", "critical"),
                                                  Finding("aws.s3.logging", "b4", "skip", "medium")});
  LoadOptions opt;
  opt.frameworks = {"cis"};
  auto report = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->scan.id, scan);
  ASSERT_EQ(report->findings.size(), 6u);
  // Unsuppressed alarms first, critical before high before medium.
  EXPECT_EQ(report->findings[0].row.rule_id, "aws.iam.root_mfa");
  EXPECT_EQ(report->findings[1].row.resource, "b2");
  EXPECT_EQ(report->findings[2].row.resource, "b1");
  EXPECT_EQ(report->findings[2].row.rule_id, "aws.s3.logging");
  EXPECT_NE(report->findings[3].row.status, "alarm");
  EXPECT_EQ(report->findings[0].rule->title, "Title of aws.iam.root_mfa");
  EXPECT_EQ(report->findings[1].rule->remediation.cli, "aws s3 x {name}");
  EXPECT_EQ(report->summary.by_status.at("alarm"), 3u);
  EXPECT_EQ(report->summary.by_status.at("ok"), 1u);
  EXPECT_EQ(report->summary.by_status.at("skip"), 1u);
  EXPECT_EQ(report->summary.suppressed, 1u);
  EXPECT_EQ(report->summary.alarms_by_severity.at("critical"), 1u);
  EXPECT_EQ(report->summary.alarms_by_service.at("s3"), 2u);
  EXPECT_EQ(report->summary.rules, 3u);
  EXPECT_EQ(report->summary.resources, 5u);  // b1 b2 b3 b4 root
  EXPECT_FALSE(report->diff.has_value());     // first scan of the account
  EXPECT_EQ(report->findings[0].first_seen, "2026-01-01T00:00:00Z");
  EXPECT_EQ(report->findings[0].change, "");
  ASSERT_EQ(report->frameworks.size(), 1u);
  const auto& fw = report->frameworks[0];
  EXPECT_EQ(fw.fail, 1u);
  EXPECT_EQ(fw.manual, 2u);  // declared manual, and a control no rule maps to
  EXPECT_EQ(fw.controls[0].status, "fail");
  EXPECT_EQ(fw.controls[0].alarms, 1u);
  EXPECT_DOUBLE_EQ(fw.percent, 0.0);
}

TEST_F(ReportModelTest, HistoryNewOpenResolvedAndFirstSeen) {
  AddScan("2026-01-01T00:00:00Z", {Finding("aws.s3.encrypted", "b1", "alarm"), Finding("aws.s3.encrypted", "b2", "alarm"),
                                   Finding("aws.s3.logging", "b1", "ok", "medium")});
  int64_t second = AddScan("2026-01-02T00:00:00Z", {Finding("aws.s3.encrypted", "b1", "alarm"), Finding("aws.s3.encrypted", "b2", "ok"),
                                                    Finding("aws.s3.logging", "b1", "alarm", "medium")});
  int64_t third = AddScan("2026-01-03T00:00:00Z", {Finding("aws.s3.encrypted", "b1", "alarm"), Finding("aws.s3.encrypted", "b2", "alarm"),
                                                   Finding("aws.s3.logging", "b1", "alarm", "medium")});
  LoadOptions opt;
  opt.scan_id = third;
  auto report = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(report->diff.has_value());
  EXPECT_EQ(report->diff->previous_scan_id, second);
  EXPECT_EQ(report->diff->new_alarms, 1u);   // b2 came back
  EXPECT_EQ(report->diff->open_alarms, 2u);
  EXPECT_TRUE(report->diff->resolved.empty());
  std::map<std::string, std::pair<std::string, std::string>> seen;
  for (const auto& f : report->findings) seen[f.row.finding_id] = {f.first_seen, f.change};
  EXPECT_EQ(seen["aws.s3.encrypted|b1"], std::make_pair(std::string("2026-01-01T00:00:00Z"), std::string("open")));
  // First seen is the earliest alarm, even across a scan where it was fixed.
  EXPECT_EQ(seen["aws.s3.encrypted|b2"], std::make_pair(std::string("2026-01-01T00:00:00Z"), std::string("new")));
  EXPECT_EQ(seen["aws.s3.logging|b1"], std::make_pair(std::string("2026-01-02T00:00:00Z"), std::string("open")));

  opt.scan_id = second;
  auto earlier = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(earlier);
  ASSERT_TRUE(earlier->diff.has_value());
  ASSERT_EQ(earlier->diff->resolved.size(), 1u);
  EXPECT_EQ(earlier->diff->resolved[0].resource, "b2");
  EXPECT_EQ(earlier->diff->new_alarms, 1u);

  // An explicit base for the comparison.
  opt.scan_id = third;
  opt.previous_scan_id = 1;
  auto explicit_base = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(explicit_base);
  EXPECT_EQ(explicit_base->diff->previous_scan_id, 1);
  EXPECT_EQ(explicit_base->diff->new_alarms, 1u);  // logging on b1
}

TEST_F(ReportModelTest, ClearErrors) {
  LoadOptions opt;
  auto empty = LoadReport(*store_, rules_, opt);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kNotFound);

  store::ScanInfo info;
  info.started_at = "2026-01-01T00:00:00Z";
  info.tool_version = "t";
  auto id = store_->BeginScan(info);
  ASSERT_TRUE(id);
  auto unevaluated = LoadReport(*store_, rules_, opt);
  ASSERT_FALSE(unevaluated);
  EXPECT_EQ(unevaluated.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(unevaluated.error().message.find("has not been evaluated"), std::string::npos);

  AddScan("2026-01-02T00:00:00Z", {Finding("aws.s3.encrypted", "b1", "alarm")});
  opt.frameworks = {"no-such-framework"};
  auto bad_fw = LoadReport(*store_, rules_, opt);
  ASSERT_FALSE(bad_fw);
  EXPECT_NE(bad_fw.error().message.find("no-such-framework"), std::string::npos);
  opt.frameworks.clear();
  opt.scan_id = 99;
  auto missing = LoadReport(*store_, rules_, opt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}


TEST_F(ReportModelTest, AlertsOfTheLatestThreatRunForTheAccount) {
  AddScan("2026-01-01T00:00:00Z", {Finding("aws.s3.encrypted", "b1", "alarm")});
  LoadOptions opt;
  auto none = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_FALSE(none->threat_run.has_value());  // no run in the store
  EXPECT_TRUE(none->alerts.empty());

  auto add_run = [&](const std::vector<std::string>& accounts) {
    store::ThreatRun run;
    run.started_at = "2026-01-02T00:00:00Z";
    run.tool_version = "test";
    auto id = store_->BeginThreatRun(run);
    EXPECT_TRUE(id);
    std::vector<store::AlertRow> alerts;
    for (size_t i = 0; i < accounts.size(); ++i) {
      store::AlertRow a;
      a.alert_id = "a" + std::to_string(*id) + "-" + std::to_string(i);
      a.rule_id = "rule-" + std::to_string(i);
      a.rule_title = "Title";
      a.level = "high";
      a.event_time = "2026-01-01T12:00:0" + std::to_string(i) + "Z";
      a.event_id = "e" + std::to_string(i);
      a.event_name = "StopLogging";
      a.account_id = accounts[i];
      a.record = "{}";
      alerts.push_back(a);
    }
    EXPECT_TRUE(store_->AddAlerts(*id, alerts));
    run.status = "complete";
    run.alerts = static_cast<int64_t>(alerts.size());
    EXPECT_TRUE(store_->FinishThreatRun(*id, run));
    return *id;
  };
  int64_t first = add_run({"123456789012"});
  int64_t latest = add_run({"123456789012", "210987654321", "123456789012"});
  auto r = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->threat_run.has_value());
  EXPECT_EQ(r->threat_run->id, latest);
  EXPECT_EQ(r->alerts.size(), 2u);  // the other member account's alert is left out
  opt.threat_run_id = first;
  auto chosen = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->alerts.size(), 1u);
  opt.threat_run_id = -1;
  auto without = LoadReport(*store_, rules_, opt);
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->threat_run.has_value());
  opt.threat_run_id = 42;
  auto missing = LoadReport(*store_, rules_, opt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cloudaudit::report
