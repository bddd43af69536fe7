#include <set>

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include "report/formats.h"
#include "report/report_test_support.h"

namespace cloudaudit::report {
namespace {

struct Counts {
  size_t tests = 0, failures = 0, errors = 0, skipped = 0;
};

// Parses the XML and checks that every count attribute agrees with the
// test cases below it.
Counts ParseAndCount(const std::string& text, pugi::xml_document& doc) {
  pugi::xml_parse_result parsed = doc.load_buffer(text.data(), text.size());
  EXPECT_TRUE(parsed) << parsed.description() << " at offset " << parsed.offset;
  pugi::xml_node root = doc.child("testsuites");
  EXPECT_TRUE(root);
  Counts total;
  for (pugi::xml_node suite : root.children("testsuite")) {
    Counts c;
    for (pugi::xml_node tc : suite.children("testcase")) {
      ++c.tests;
      EXPECT_FALSE(std::string(tc.attribute("classname").value()).empty());
      EXPECT_FALSE(std::string(tc.attribute("name").value()).empty());
      size_t outcomes = 0;
      if (tc.child("failure")) ++c.failures, ++outcomes;
      if (tc.child("error")) ++c.errors, ++outcomes;
      if (tc.child("skipped")) ++c.skipped, ++outcomes;
      EXPECT_LE(outcomes, 1u);
    }
    EXPECT_EQ(suite.attribute("tests").as_ullong(), c.tests) << suite.attribute("name").value();
    EXPECT_EQ(suite.attribute("failures").as_ullong(), c.failures);
    EXPECT_EQ(suite.attribute("errors").as_ullong(), c.errors);
    EXPECT_EQ(suite.attribute("skipped").as_ullong(), c.skipped);
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
    total.skipped += c.skipped;
  }
  EXPECT_EQ(root.attribute("tests").as_ullong(), total.tests);
  EXPECT_EQ(root.attribute("failures").as_ullong(), total.failures);
  EXPECT_EQ(root.attribute("errors").as_ullong(), total.errors);
  EXPECT_EQ(root.attribute("skipped").as_ullong(), total.skipped);
  return total;
}

TEST(JunitReport, SuitesPerServiceWithConsistentCounts) {
  Report report = testing::SampleReport();
  std::string text = testing::Render(WriteJunit, report);
  pugi::xml_document doc;
  Counts c = ParseAndCount(text, doc);
  EXPECT_EQ(c.tests, 7u);     // five findings, two alerts
  EXPECT_EQ(c.failures, 5u);
  EXPECT_EQ(c.skipped, 2u);  // the suppressed alarm and the suppressed alert
  EXPECT_EQ(c.errors, 0u);

  std::set<std::string> suites;
  for (pugi::xml_node s : doc.child("testsuites").children("testsuite")) suites.insert(s.attribute("name").value());
  EXPECT_EQ(suites, (std::set<std::string>{"ec2", "iam", "kms", "logs", "s3", "threats"}));
  pugi::xml_node threats = doc.child("testsuites").find_child_by_attribute("testsuite", "name", "threats");
  pugi::xml_node alert = threats.child("testcase");
  EXPECT_EQ(std::string(alert.attribute("classname").value()), report.alerts[0].rule_id);
  EXPECT_EQ(std::string(alert.child("failure").attribute("type").value()), report.alerts[0].level);
  EXPECT_NE(std::string(alert.child("failure").text().get()).find("Record:"), std::string::npos);

  pugi::xml_node s3 = doc.child("testsuites").find_child_by_attribute("testsuite", "name", "s3");
  pugi::xml_node tc = s3.child("testcase");
  EXPECT_STREQ(tc.attribute("classname").value(), "aws.s3.bucket_public_read");
  pugi::xml_node failure = tc.child("failure");
  ASSERT_TRUE(failure);
  // Hostile text comes back intact through the XML escaping (control
  // characters XML cannot carry are replaced).
  std::string message = failure.attribute("message").value();
  EXPECT_NE(message.find("<script>alert('x')</script>"), std::string::npos);
  EXPECT_NE(message.find("\"http://evil\""), std::string::npos);
  EXPECT_EQ(message.find('\x1b'), std::string::npos);
  EXPECT_STREQ(failure.attribute("type").value(), "critical");
  EXPECT_NE(std::string(failure.text().get()).find("aws fix --resource 'arn:aws:s3:::evil-bucket'"), std::string::npos);

  pugi::xml_node kms = doc.child("testsuites").find_child_by_attribute("testsuite", "name", "kms");
  EXPECT_NE(std::string(kms.child("testcase").child("skipped").attribute("message").value()).find("suppressed: accepted risk"),
            std::string::npos);
  EXPECT_STREQ(kms.attribute("timestamp").value(), "2026-03-01T10:00:00");
}

TEST(JunitReport, IncludePassedCountsEveryOutcome) {
  Report report = testing::SampleReport();
  WriteOptions all;
  all.include_passed = true;
  pugi::xml_document doc;
  Counts c = ParseAndCount(testing::Render(WriteJunit, report, all), doc);
  EXPECT_EQ(c.tests, report.findings.size() + report.alerts.size());
  EXPECT_EQ(c.failures, 5u);
  EXPECT_EQ(c.errors, 1u);
  EXPECT_EQ(c.skipped, 3u);  // suppressed alarm, skip, suppressed alert
}

TEST(JunitReport, EmptyAndLarge) {
  pugi::xml_document empty;
  Counts c = ParseAndCount(testing::Render(WriteJunit, testing::EmptyReport()), empty);
  EXPECT_EQ(c.tests, 0u);

  pugi::xml_document large;
  Counts l = ParseAndCount(testing::Render(WriteJunit, testing::LargeReport(20000)), large);
  EXPECT_EQ(l.tests, 16000u);
  EXPECT_EQ(l.failures, 16000u);
}

}  // namespace
}  // namespace cloudaudit::report
