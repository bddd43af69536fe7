#include <gtest/gtest.h>

#include "report/format_util.h"
#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

using Records = std::vector<std::vector<std::string>>;

// A strict RFC 4180 reader: CRLF record ends, quoted fields with doubled
// quotes, nothing after a closing quote but a separator. Fails the test on
// anything else.
Records ParseCsv(const std::string& text) {
  Records records;
  std::vector<std::string> record;
  std::string field;
  size_t i = 0;
  bool quoted = false, was_quoted = false;
  while (i < text.size()) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      field += c;
      ++i;
      continue;
    }
    if (c == '"') {
      EXPECT_TRUE(field.empty() && !was_quoted) << "quote inside an unquoted field at byte " << i;
      quoted = was_quoted = true;
      ++i;
    } else if (c == ',') {
      record.push_back(field);
      field.clear();
      was_quoted = false;
      ++i;
    } else if (c == '\r') {
      EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "bare CR at byte " << i;
      record.push_back(field);
      records.push_back(record);
      record.clear();
      field.clear();
      was_quoted = false;
      i += 2;
    } else {
      EXPECT_NE(c, '\n') << "bare LF outside quotes at byte " << i;
      EXPECT_FALSE(was_quoted) << "text after a closing quote at byte " << i;
      field += c;
      ++i;
    }
  }
  EXPECT_FALSE(quoted) << "unterminated quoted field";
  EXPECT_TRUE(record.empty() && field.empty()) << "last record does not end in CRLF";
  return records;
}

const std::vector<std::string> kHeader = {"kind",          "finding_id", "status",     "severity",   "rule_id",
                                          "title",         "service",    "account_id", "region",     "resource",
                                          "resource_name", "reason",     "first_seen", "change",     "suppressed",
                                          "compliance",    "remediation_cli"};

std::map<std::string, std::string> AsMap(const std::vector<std::string>& record) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < kHeader.size() && i < record.size(); ++i) out[kHeader[i]] = record[i];
  return out;
}

TEST(CsvReport, RoundTripsHostileFieldsAndGuardsFormulas) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteCsv, report);
  Records records = ParseCsv(text);
  ASSERT_EQ(records.size(), 1u + 5u + 2u);  // header, 5 alarms, 2 alerts
  EXPECT_EQ(records[0], kHeader);
  for (const auto& r : records) EXPECT_EQ(r.size(), kHeader.size());

  auto root = AsMap(records[1]);
  EXPECT_EQ(root["kind"], "finding");
  EXPECT_EQ(root["status"], "alarm");
  EXPECT_EQ(root["change"], "new");
  EXPECT_EQ(root["compliance"], "cis-aws-v3.0:1.5;fsbp:IAM.9");
  EXPECT_EQ(root["suppressed"], "false");

  // The hostile reason comes back byte for byte, except the guard
  // apostrophe before its leading '='.
  auto bucket = AsMap(records[2]);
  EXPECT_EQ(bucket["reason"], std::string("'") + testing::kHostile);
  EXPECT_EQ(bucket["resource_name"], std::string("'") + testing::kHostile);
  EXPECT_EQ(bucket["title"], "Buckets do not allow \"public\" <read>, | pipes");
  EXPECT_EQ(bucket["first_seen"], "2026-01-15T08:30:00Z");

  auto logs = AsMap(records[4]);
  EXPECT_EQ(logs["resource"], "'-cmd|' /C calc'!A0");
  // Invalid UTF-8 is replaced, never copied.
  EXPECT_EQ(ValidUtf8(text), text);

  auto suppressed = AsMap(records[5]);
  EXPECT_EQ(suppressed["suppressed"], "true");

  // No cell a spreadsheet would evaluate.
  for (const auto& r : records) {
    for (const auto& cell : r) {
      if (!cell.empty()) {
        EXPECT_EQ(std::string("=+-@\t\r").find(cell[0]), std::string::npos) << cell;
      }
    }
  }

  auto alert = AsMap(records[6]);
  EXPECT_EQ(alert["kind"], "alert");
  EXPECT_EQ(alert["finding_id"], "a1");
  EXPECT_EQ(alert["service"], "iam");
  EXPECT_EQ(alert["resource"], "arn:aws:iam::123456789012:user/mallory");
  EXPECT_EQ(alert["reason"], "CreateAccessKey by arn:aws:iam::123456789012:user/mallory from 203.0.113.5");
  EXPECT_EQ(alert["compliance"], "attack.persistence;attack.t1098.001;attack.privilege_escalation");
  EXPECT_EQ(AsMap(records[7])["suppressed"], "true");
}

TEST(CsvReport, IncludePassedAndEmpty) {
  Report report = testing::SampleReport();
  WriteOptions all;
  all.include_passed = true;
  Records records = ParseCsv(testing::Render(WriteCsv, report, all));
  EXPECT_EQ(records.size(), 1u + report.findings.size() + report.alerts.size());

  Records empty = ParseCsv(testing::Render(WriteCsv, testing::EmptyReport()));
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0], kHeader);
}

TEST(CsvReport, LargeScan) {
  Report report = testing::LargeReport(20000);
  Records records = ParseCsv(testing::Render(WriteCsv, report));
  EXPECT_EQ(records.size(), 1u + 16000u);
}

}  // namespace
}  // namespace cloudaudit::report
