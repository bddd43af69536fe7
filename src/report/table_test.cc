#include <stdlib.h>

#include <regex>

#include <gtest/gtest.h>

#include "report/format_util.h"
#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

class TableReport : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* old = ::getenv("COLUMNS");
    had_columns_ = old != nullptr;
    if (old) old_columns_ = old;
  }
  void TearDown() override {
    if (had_columns_)
      ::setenv("COLUMNS", old_columns_.c_str(), 1);
    else
      ::unsetenv("COLUMNS");
  }
  std::string Render(const Report& report, size_t columns, bool color, size_t limit = 20) {
    ::setenv("COLUMNS", std::to_string(columns).c_str(), 1);
    WriteOptions options;
    options.color = color;
    options.table_limit = limit;
    return testing::Render(WriteTable, report, options);
  }

 private:
  bool had_columns_ = false;
  std::string old_columns_;
};

const std::regex kSgr("\x1b\\[[0-9;]*m");

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

TEST_F(TableReport, FitsTheWidthWithoutControlCharacters) {
  Report report = testing::SampleReport();
  for (size_t columns : {40, 80, 100, 160}) {
    std::string text = Render(report, columns, false);
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
    EXPECT_EQ(text.find('\r'), std::string::npos);
    EXPECT_EQ(text.find("\xE2\x80\xAE"), std::string::npos);
    EXPECT_EQ(ValidUtf8(text), text);
    for (const auto& line : Lines(text)) {
      EXPECT_LE(DisplayWidth(line), columns) << "at width " << columns << ": " << line;
      for (char c : line) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << line;
    }
  }
}

TEST_F(TableReport, ColoursAreOnlyOurOwnSgrSequences) {
  Report report = testing::SampleReport();
  std::string text = Render(report, 300, true);
  EXPECT_NE(text.find("\x1b[1;31m"), std::string::npos);
  // Remove our SGR sequences: nothing else may start with ESC.
  std::string plain = std::regex_replace(text, kSgr, "");
  EXPECT_EQ(plain.find('\x1b'), std::string::npos);
  // The ANSI sequence planted in the reason is shown inert.
  EXPECT_NE(plain.find("?[31mRED?[0m"), std::string::npos);
  for (const auto& line : Lines(plain)) EXPECT_LE(DisplayWidth(line), 300u) << line;
  EXPECT_EQ(plain, Render(report, 300, false));
}

TEST_F(TableReport, SummarisesTheScan) {
  Report report = testing::SampleReport();
  std::string text = Render(report, 160, false);
  for (const char* want : {"scan 7 · account 123456789012 · us-east-1, eu-west-1", "took 4m12s · complete",
                           "FINDINGS  4 alarms · 1 suppressed · 1 ok · 1 skipped · 1 errors · 6 rules",
                           "by service: ec2 1 · iam 1 · logs 1 · s3 1", "WORST FINDINGS  4 of 4 unsuppressed alarms",
                           "first seen 2026-01-15", "NEW", "CIS Amazon Web Services Foundations Benchmark", "pass 0 · fail 2 · manual 1",
                           "CHANGES  since scan 6 (2026-02-22T10:00:00Z)", "2 new · 3 still open · 2 resolved",
                           "COLLECTION GAPS  2", "ec2 GetEbsEncryptionByDefault: AccessDenied ×1",
                           "API CALLS  6 calls · 1 errors · 3 operations", "THREAT ALERTS  2 alerts · threat run 3 · 1200 records",
                           "high 1 · suppressed 1", "New access key created for another user — CreateAccessKey by arn:aws:iam::123456789012:user/mallory from 203.0.113.5"})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  // Worst first: the critical root finding is the first listed.
  size_t root = text.find("Title of aws.iam.root_mfa_disabled");
  size_t sg = text.find("Title of aws.ec2.sg_open_ssh");
  EXPECT_LT(root, sg);
  // The suppressed alarm is not among the worst findings.
  EXPECT_EQ(text.find("Title of aws.kms.key_rotation_disabled"), std::string::npos);
}

TEST_F(TableReport, EmptyAndLarge) {
  std::string empty = Render(testing::EmptyReport(), 100, false);
  EXPECT_NE(empty.find("WORST FINDINGS  none: no unsuppressed alarms"), std::string::npos);
  EXPECT_EQ(empty.find("CHANGES"), std::string::npos);
  EXPECT_EQ(empty.find("THREAT ALERTS"), std::string::npos);
  EXPECT_NE(empty.find("partial"), std::string::npos);

  std::string large = Render(testing::LargeReport(20000), 100, false, 5);
  EXPECT_NE(large.find("WORST FINDINGS  5 of 16000 unsuppressed alarms"), std::string::npos);
  EXPECT_NE(large.find("… 15995 more"), std::string::npos);
  EXPECT_LT(Lines(large).size(), 40u);
}

}  // namespace
}  // namespace cloudaudit::report
