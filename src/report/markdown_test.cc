#include <gtest/gtest.h>

#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

// Cell separators of a table row: '|' not escaped by a backslash.
size_t Separators(const std::string& row) {
  size_t n = 0;
  for (size_t i = 0; i < row.size(); ++i) {
    if (row[i] == '\\') {
      ++i;
    } else if (row[i] == '|') {
      ++n;
    }
  }
  return n;
}

// Every table keeps the column count of its header, whatever the cells hold.
void CheckTables(const std::string& text) {
  size_t columns = 0;
  for (const auto& line : Lines(text)) {
    if (line.empty() || line[0] != '|') {
      columns = 0;
      continue;
    }
    if (columns == 0) {
      columns = Separators(line);
      continue;
    }
    EXPECT_EQ(Separators(line), columns) << line;
  }
}

TEST(MarkdownReport, HostileValuesCannotBreakTablesOrInjectMarkup) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteMarkdown, report);
  CheckTables(text);
  EXPECT_EQ(text.find("<script>"), std::string::npos);
  EXPECT_NE(text.find("&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_EQ(text.find("\xE2\x80\xAE"), std::string::npos);  // no bidi override
  EXPECT_NE(text.find("\\@team"), std::string::npos);
  EXPECT_NE(text.find("\\#1"), std::string::npos);
  EXPECT_NE(text.find("\\*bold\\*"), std::string::npos);
  EXPECT_NE(text.find("\\[l\\]\\(u\\)"), std::string::npos);
  EXPECT_NE(text.find("\\| pipes"), std::string::npos);
}

TEST(MarkdownReport, Sections) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteMarkdown, report);
  for (const char* heading : {"# cloudaudit report: account 123456789012", "## Summary", "## Worst findings",
                              "## Compliance posture", "## Changes since scan 6", "## Collection gaps", "## API calls",
                              "## Threat alerts"})
    EXPECT_NE(text.find(heading), std::string::npos) << heading;
  EXPECT_NE(text.find("**4** unsuppressed alarms, 1 suppressed"), std::string::npos);
  EXPECT_NE(text.find("| critical | 2 |"), std::string::npos);
  EXPECT_NE(text.find("2026-03-01 **new**"), std::string::npos);
  EXPECT_NE(text.find("- **2** resolved"), std::string::npos);
  EXPECT_NE(text.find("| ec2 | GetEbsEncryptionByDefault | eu-west-1 | AccessDenied | 1 |"), std::string::npos);
  EXPECT_NE(text.find("6 calls to 3 operations, 1 errors."), std::string::npos);
  EXPECT_NE(text.find("| high | New access key created for another user | CreateAccessKey |"), std::string::npos);
  EXPECT_NE(text.find("medium (suppressed)"), std::string::npos);
}

TEST(MarkdownReport, EmptyAndLimited) {
  std::string empty = testing::Render(WriteMarkdown, testing::EmptyReport());
  CheckTables(empty);
  EXPECT_NE(empty.find("No unsuppressed alarms."), std::string::npos);
  EXPECT_EQ(empty.find("## Changes"), std::string::npos);
  EXPECT_EQ(empty.find("## Threat alerts"), std::string::npos);

  WriteOptions options;
  options.table_limit = 10;
  std::string large = testing::Render(WriteMarkdown, testing::LargeReport(20000), options);
  CheckTables(large);
  EXPECT_NE(large.find("…and 15990 more"), std::string::npos);
  EXPECT_LT(large.size(), 8000u);
}

}  // namespace
}  // namespace cloudaudit::report
