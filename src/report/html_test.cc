#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "base/crypto.h"
#include "base/strings.h"
#include "report/formats.h"

namespace cloudaudit::report {
namespace {

RuleInfo Rule(const std::string& id, const std::string& severity) {
  RuleInfo r;
  r.id = id;
  r.title = "Title of " + id;
  r.description = "The long description of " + id + ", which a report must carry once, not once per finding.";
  r.service = id.substr(4, id.find('.', 4) - 4);
  r.severity = severity;
  r.compliance = {{"cis", {"2.1"}}};
  r.remediation.console = "1. Open the console.";
  r.remediation.cli = "aws s3api put-bucket-encryption --bucket {name}";
  r.remediation.terraform = "resource \"aws_s3_bucket\" \"x\" {}";
  r.references = {"https://docs.aws.amazon.com/"};
  return r;
}

class HtmlReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    report_.tool_version = "1.2.3";
    report_.generated_at = "2023-02-01T00:00:00Z";
    report_.scan.id = 7;
    report_.scan.account_id = "123456789012";
    report_.scan.regions = {"us-east-1"};
    report_.scan.started_at = "2023-01-31T12:00:00Z";
    report_.scan.status = "complete";
    report_.rules["aws.s3.encrypted"] = Rule("aws.s3.encrypted", "high");
    report_.rules["aws.iam.root_mfa"] = Rule("aws.iam.root_mfa", "critical");
  }

  Finding& Add(const std::string& rule, const std::string& resource, const std::string& status) {
    Finding f;
    f.rule = &report_.rules.at(rule);
    f.row.finding_id = rule + "|" + resource;
    f.row.rule_id = rule;
    f.row.service = f.rule->service;
    f.row.severity = f.rule->severity;
    f.row.account_id = "123456789012";
    f.row.region = "us-east-1";
    f.row.resource = "arn:aws:s3:::" + resource;
    f.row.resource_name = resource;
    f.row.status = status;
    f.row.reason = "bucket " + resource + " is " + status;
    if (status == "alarm") {
      f.row.evidence = R"({"encrypted": false})";
      f.row.remediation_cli = "aws s3api put-bucket-encryption --bucket " + resource;
      f.first_seen = "2023-01-31T12:00:00Z";
      f.change = "new";
    }
    report_.findings.push_back(std::move(f));
    return report_.findings.back();
  }

  std::string Write(const WriteOptions& options = {}) {
    std::ostringstream out;
    auto status = WriteHtml(report_, out, options);
    EXPECT_TRUE(status) << status.error().ToString();
    return out.str();
  }

  // The JSON document the page reads: the text of the report-data element,
  // exactly as an HTML parser delimits it (up to the first "</script").
  static Json Document(const std::string& html) {
    const std::string open = "<script type=\"application/json\" id=\"report-data\">";
    size_t start = html.find(open);
    EXPECT_NE(start, std::string::npos);
    start += open.size();
    size_t end = ToLower(html).find("</script", start);
    EXPECT_NE(end, std::string::npos);
    auto doc = ParseJson(html.substr(start, end - start));
    EXPECT_TRUE(doc) << doc.error().message;
    return doc ? *doc : Json();
  }

  // A reason or CLI text of a row, expanded as the page does: an index
  // into the text table whose placeholders U+E000..U+E004 stand for the
  // row's resource, resource id, name, region, account; or the text.
  static std::string Text(const Json& doc, const Json& row, int column) {
    const Json& v = row[column];
    if (v.is_string()) return v.get<std::string>();
    std::string shape = doc["texts"][v.get<int>()];
    std::string resource = row[5];
    size_t cut = resource.find_last_of("/:");
    std::string values[] = {resource, cut == std::string::npos ? "" : resource.substr(cut + 1), row[6],
                            doc["strings"][row[4].get<int>()], doc["strings"][row[3].get<int>()]};
    std::string out;
    for (size_t p = 0; p < shape.size();) {
      if (shape.compare(p, 2, "\xEE\x80") == 0 && p + 2 < shape.size()) {
        unsigned k = static_cast<unsigned char>(shape[p + 2]) - 0x80;
        if (k < 5) {
          out += values[k];
          p += 3;
          continue;
        }
      }
      out += shape[p++];
    }
    return out;
  }

  Report report_;
};

TEST_F(HtmlReportTest, FillsEveryMarkerAndAllowsOnlyItsOwnScript) {
  Add("aws.s3.encrypted", "logs", "alarm");
  std::string html = Write();
  EXPECT_EQ(html.find("@@"), std::string::npos);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<title>cloudaudit report — account 123456789012 — scan 7</title>"), std::string::npos);
  // The CSP names the hash of the one executable script, which is the last one.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(html, m, std::regex("script-src 'sha256-([A-Za-z0-9+/=]+)'")));
  size_t script = html.rfind("<script>");
  size_t script_end = html.find("</script>", script);
  ASSERT_NE(script, std::string::npos);
  std::string js = html.substr(script + 8, script_end - script - 8);
  EXPECT_EQ(m[1].str(), Base64Encode(Sha256(js)));
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
}

TEST_F(HtmlReportTest, PageLoadsNothingFromOutside) {
  Add("aws.s3.encrypted", "logs", "alarm");
  std::string html = Write();
  // Outside the data (whose reference URLs are links a person may click),
  // nothing may name a remote resource.
  const std::string open = "id=\"report-data\">";
  size_t data_start = html.find(open);
  size_t data_end = html.find("</script>", data_start);
  std::string page = html.substr(0, data_start) + html.substr(data_end);
  for (const char* bad : {"src=", "@import", "url(", "fetch(", "XMLHttpRequest", "WebSocket", "import(", "https://", "<iframe",
                          "<img", "sendBeacon", "EventSource"})
    EXPECT_EQ(page.find(bad), std::string::npos) << bad;
  // The one URL in the code is the SVG namespace, an identifier never fetched.
  std::string rest = page;
  size_t ns;
  while ((ns = rest.find("http://www.w3.org/2000/svg")) != std::string::npos) rest.erase(ns, 26);
  EXPECT_EQ(rest.find("http://"), std::string::npos);
  EXPECT_NE(html.find("<link rel=\"icon\" href=\"data:,\">"), std::string::npos);
}

TEST_F(HtmlReportTest, MarkupInAwsDataCannotLeaveTheDataElement) {
  const std::string hostile = "</script><script>alert(1)</script><!-- <script> </SCRIPT > & \xE2\x80\xA8";
  Finding& f = Add("aws.s3.encrypted", "logs", "alarm");
  f.row.reason = hostile;
  f.row.resource_name = "x</ScRiPt>y<!--";
  f.row.evidence = R"({"Tags": {"Name": "</script><!--"}})";
  report_.scan.account_id = "<b>1</b>";
  std::string html = Write();
  // No "</script" and no "<!--" between the data element's start and its end.
  Json doc = Document(html);
  ASSERT_EQ(doc["findings"].size(), 1u);
  const Json& row = doc["findings"][0];
  EXPECT_EQ(Text(doc, row, 7), hostile);
  EXPECT_EQ(row[6], "x</ScRiPt>y<!--");
  EXPECT_EQ(row[8]["Tags"]["Name"], "</script><!--");
  EXPECT_EQ(doc["scan"]["account_id"], "<b>1</b>");
  size_t start = html.find("id=\"report-data\">");
  size_t end = html.find("</script>", start);
  std::string data = html.substr(start, end - start);
  EXPECT_EQ(data.find("<!--"), std::string::npos);
  EXPECT_EQ(data.find('<', 1), std::string::npos);
  EXPECT_NE(data.find("\\u2028"), std::string::npos);
  // The title is HTML-escaped.
  EXPECT_NE(html.find("account &lt;b&gt;1&lt;/b&gt;"), std::string::npos);
}

// Random texts built from the pieces that matter to an HTML parser inside a
// script element: whatever they are, the data element ends where the writer
// ended it, and every (valid UTF-8) text comes back exactly.
TEST_F(HtmlReportTest, RandomMarkupAlwaysRoundTrips) {
  const std::vector<std::string> pieces = {"<", "/", "script", "SCRIPT", ">", "<!--", "-->", "!", "-", "&", "\"", "\\",
                                           "\n", " ", "\xE2\x80\xA8", "\xC3\xA9", "\xEE\x80\x81", "a", "</", "<script"};
  std::mt19937 rng(5);
  std::vector<std::string> texts;
  for (int i = 0; i < 300; ++i) {
    std::string t;
    for (int n = std::uniform_int_distribution<int>(0, 12)(rng); n > 0; --n)
      t += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    texts.push_back(t);
    Finding& f = Add("aws.s3.encrypted", "b" + std::to_string(i), "alarm");
    f.row.reason = t;
    f.row.resource_name = t;
  }
  std::string html = Write();
  size_t start = html.find("id=\"report-data\">");
  size_t end = ToLower(html).find("</script", start);
  std::string data = html.substr(start, end - start);
  EXPECT_EQ(data.find("<!--"), std::string::npos);
  EXPECT_EQ(data.find('<'), std::string::npos);
  Json doc = Document(html);
  ASSERT_EQ(doc["findings"].size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(doc["findings"][i][6], texts[i]);
    EXPECT_EQ(Text(doc, doc["findings"][i], 7), texts[i]);
  }
}

TEST_F(HtmlReportTest, RowsAreCompactAndRuleTextIsStoredOnce) {
  for (int i = 0; i < 200; ++i) Add("aws.s3.encrypted", "bucket-" + std::to_string(i), "alarm");
  for (int i = 0; i < 300; ++i) Add("aws.s3.encrypted", "ok-" + std::to_string(i), "ok");
  Add("aws.iam.root_mfa", "root", "skip");
  std::string html = Write();
  Json doc = Document(html);
  const std::string description = report_.rules.at("aws.s3.encrypted").description;
  size_t count = 0;
  for (size_t p = html.find(description); p != std::string::npos; p = html.find(description, p + 1)) ++count;
  EXPECT_EQ(count, 1u);
  // Passed results are counts per rule, not rows.
  EXPECT_EQ(doc["findings"].size(), 201u);
  EXPECT_EQ(doc["passed_rows_included"], false);
  const Json* s3 = nullptr;
  for (const auto& r : doc["rules"])
    if (r["id"] == "aws.s3.encrypted") s3 = &r;
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ((*s3)["counts"]["ok"], 300);
  EXPECT_EQ((*s3)["counts"]["alarm"], 200);
  // Short repeated values go through the string table.
  Json columns = doc["finding_columns"];
  ASSERT_EQ(columns[3], "account");
  const Json& row = doc["findings"][0];
  EXPECT_TRUE(row[3].is_number_integer());
  EXPECT_EQ(doc["strings"][row[3].get<int>()], "123456789012");
  EXPECT_EQ(doc["statuses"][row[2].get<int>()], "alarm");
  EXPECT_EQ(doc["severities"][row[1].get<int>()], "high");
  EXPECT_EQ(doc["changes"][row[11].get<int>()], "new");
  EXPECT_EQ(doc["strings"][row[10].get<int>()], "2023-01-31T12:00:00Z");
  EXPECT_EQ(Text(doc, row, 9), "aws s3api put-bucket-encryption --bucket bucket-0");
  EXPECT_EQ(Text(doc, doc["findings"][199], 7), "bucket bucket-199 is alarm");
  // Reasons and commands that differ only by the resource share one shape:
  // the alarms' reason, their command, the skip's reason.
  EXPECT_EQ(doc["texts"].size(), 3u);
  EXPECT_EQ(doc["findings"][0][9], doc["findings"][199][9]);
  // Asked for, passed results come as rows too.
  WriteOptions with_passed;
  with_passed.include_passed = true;
  EXPECT_EQ(Document(Write(with_passed))["findings"].size(), 501u);
}

TEST_F(HtmlReportTest, SuppressionsAreSharedAndSuppressedRowsKept) {
  Json sup = {{"rule", "aws.s3.*"}, {"resource", "*"}, {"reason", "accepted"}, {"owner", "secops"}, {"expires", "2999-12-31"}};
  Add("aws.s3.encrypted", "a", "alarm").row.suppression = sup;
  Add("aws.s3.encrypted", "b", "alarm").row.suppression = sup;
  Add("aws.s3.encrypted", "c", "alarm");
  Json doc = Document(Write());
  ASSERT_EQ(doc["suppressions"].size(), 1u);
  EXPECT_EQ(doc["suppressions"][0]["owner"], "secops");
  EXPECT_EQ(doc["findings"][0][12], 0);
  EXPECT_EQ(doc["findings"][1][12], 0);
  EXPECT_EQ(doc["findings"][2][12], -1);
}

TEST_F(HtmlReportTest, CarriesPostureChangesGapsCallsAndAlerts) {
  Add("aws.s3.encrypted", "a", "alarm");
  FrameworkResult fw;
  fw.id = "cis";
  fw.title = "CIS";
  fw.fail = 1;
  fw.controls.push_back({"2.1", "Buckets encrypted", "Storage", "fail", {"aws.s3.encrypted", "aws.gone.rule"}, 1, 0, 0});
  report_.frameworks.push_back(fw);
  ScanDiff diff;
  diff.previous_scan_id = 6;
  diff.new_alarms = 1;
  store::FindingRow resolved;
  resolved.rule_id = "aws.s3.logging";
  resolved.severity = "medium";
  resolved.resource = "arn:aws:s3:::old";
  diff.resolved.push_back(resolved);
  report_.diff = diff;
  report_.gaps.push_back({"aws_s3_bucket", "s3", "GetBucketPolicy", "us-east-1", "b", "AccessDenied", "not authorized"});
  report_.api_calls.push_back({"s3", "ListBuckets", "us-east-1", 3, 1, 120});
  store::AlertRow alert;
  alert.rule_id = "sigma.aws.console_login_no_mfa";
  alert.level = "high";
  alert.event_time = "2023-01-30T10:00:00Z";
  alert.record = R"({"eventName": "ConsoleLogin"})";
  alert.account_id = "123456789012";
  alert.region = "us-east-1";
  report_.alerts.push_back(alert);
  store::ThreatRun run;
  run.id = 3;
  run.records = 10;
  report_.threat_run = run;

  Json doc = Document(Write());
  ASSERT_EQ(doc["frameworks"].size(), 1u);
  const Json& control = doc["frameworks"][0]["controls"][0];
  EXPECT_EQ(control[0], "2.1");
  EXPECT_EQ(control[3], "fail");
  // Rule references are indexes into the rules table; unknown ids drop out.
  ASSERT_EQ(control[4].size(), 1u);
  EXPECT_EQ(doc["rules"][control[4][0].get<int>()]["id"], "aws.s3.encrypted");
  EXPECT_EQ(doc["diff"]["new"], 1);
  EXPECT_EQ(doc["diff"]["resolved"][0][0], "aws.s3.logging");
  EXPECT_EQ(doc["gaps"][0][5], "AccessDenied");
  EXPECT_EQ(doc["api_calls"][0][3], 3);
  ASSERT_EQ(doc["alerts"].size(), 1u);
  EXPECT_EQ(doc["alerts"][0][13]["eventName"], "ConsoleLogin");
  EXPECT_EQ(doc["severities"][doc["alerts"][0][1].get<int>()], "high");
  EXPECT_EQ(doc["threat_run"]["records"], 10);
}

TEST_F(HtmlReportTest, OddDataStaysReadable) {
  Finding& f = Add("aws.s3.encrypted", "a", "alarm");
  f.row.evidence = "not json {";
  f.row.reason = std::string("bad utf-8: \xC3\x28 end");
  f.row.status = "weird";
  Json doc = Document(Write());
  const Json& row = doc["findings"][0];
  EXPECT_EQ(row[8], "not json {");
  EXPECT_EQ(Text(doc, row, 7), "bad utf-8: \xEF\xBF\xBD( end");
  EXPECT_EQ(row[2], "weird");
}

TEST_F(HtmlReportTest, TextsHoldingPlaceholderCharactersStayVerbatim) {
  Finding& f = Add("aws.s3.encrypted", "logs", "alarm");
  f.row.reason = "logs \xEE\x80\x82 private use";
  Json doc = Document(Write());
  EXPECT_EQ(doc["findings"][0][7], "logs \xEE\x80\x82 private use");
  EXPECT_EQ(Text(doc, doc["findings"][0], 9), "aws s3api put-bucket-encryption --bucket logs");
}

TEST_F(HtmlReportTest, FindingWithoutARuleSnapshotStillHasARule) {
  Finding& f = Add("aws.s3.encrypted", "a", "alarm");
  f.rule = nullptr;
  f.row.rule_id = "aws.s3.removed_rule";
  Json doc = Document(Write());
  const Json& rule = doc["rules"][doc["findings"][0][0].get<int>()];
  EXPECT_EQ(rule["id"], "aws.s3.removed_rule");
  EXPECT_EQ(rule["title"], "aws.s3.removed_rule");
  EXPECT_EQ(rule["counts"]["alarm"], 1);
}

TEST_F(HtmlReportTest, EmptyReportIsAPage) {
  std::string html = Write();
  Json doc = Document(html);
  EXPECT_TRUE(doc["findings"].empty());
  EXPECT_TRUE(doc["diff"].is_null());
  EXPECT_NE(html.find("</html>"), std::string::npos);
}

TEST_F(HtmlReportTest, WriteFailureIsAnError) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  auto status = WriteHtml(report_, out, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace cloudaudit::report
