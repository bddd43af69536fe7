#include "threats/cloudtrail_record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/time.h"

namespace cloudaudit::threats {
namespace {

using ::testing::ElementsAre;

int64_t At(const std::string& iso) { return ParseTimestamp(iso)->epoch_seconds; }

TEST(EventTimeEpoch, CloudTrailFormAndOtherIso) {
  EXPECT_EQ(EventTimeEpoch("2024-01-05T10:00:00Z"), At("2024-01-05T10:00:00Z"));
  EXPECT_EQ(EventTimeEpoch("2024-02-29T23:59:59Z"), At("2024-02-29T23:59:59Z"));
  EXPECT_EQ(EventTimeEpoch("2024-01-05T10:00:00.250Z"), At("2024-01-05T10:00:00Z"));
  EXPECT_EQ(EventTimeEpoch("2024-01-05T12:00:00+02:00"), At("2024-01-05T10:00:00Z"));
  for (const char* bad : {"", "1704448800", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z", "2024-01-05 junk", "yesterday"})
    EXPECT_FALSE(EventTimeEpoch(bad)) << bad;
}

TEST(CheckRecord, SaysWhyARecordIsRejected) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view time;
  auto ok = CheckRecord(parser, R"({"eventTime": "2024-01-05T10:00:00Z", "eventName": "X"})", false, &doc, &time);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(*ok, At("2024-01-05T10:00:00Z"));
  EXPECT_EQ(time, "2024-01-05T10:00:00Z");
  EXPECT_TRUE(doc.is_object());
  struct Case {
    std::string text, why;
  };
  for (const Case& c : std::vector<Case>{
           {"[1]", "malformed record: not a JSON object"},
           {R"({"eventName": "X"})", "malformed record: no eventTime string"},
           {R"({"eventTime": 1704448800})", "malformed record: no eventTime string"},
           {R"({"eventTime": "soon"})", "malformed record: eventTime `soon` is not a time"},
           {"{\"eventTime\": \"\xff\"}", "malformed record: The input is not valid UTF-8"},
           {R"({"eventTime": )", "malformed record: "},
       }) {
    auto r = CheckRecord(parser, c.text, false, &doc, &time);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error().code, ErrorCode::kParse);
    EXPECT_THAT(r.error().message, ::testing::StartsWith(c.why)) << c.text;
  }
}

TEST(ExtractFields, CopiesWhatAnAlertShows) {
  simdjson::dom::parser parser;
  auto doc = parser.parse(std::string_view(R"({"eventID": "e1", "eventName": "StopLogging", "eventSource": "cloudtrail.amazonaws.com",
    "awsRegion": "eu-west-1", "sourceIPAddress": "198.51.100.1", "userAgent": "ua",
    "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::111122223333:assumed-role/r/s", "accountId": "111122223333"},
    "resources": [{"ARN": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/t"}, {"type": "no arn"}, {"ARN": 5}]})"));
  ASSERT_EQ(doc.error(), simdjson::SUCCESS);
  RecordFields f = ExtractFields(doc.value(), true);
  EXPECT_EQ(f.event_id, "e1");
  EXPECT_EQ(f.event_name, "StopLogging");
  EXPECT_EQ(f.event_source, "cloudtrail.amazonaws.com");
  EXPECT_EQ(f.account_id, "111122223333");  // no recipientAccountId: the caller's account
  EXPECT_EQ(f.region, "eu-west-1");
  EXPECT_EQ(f.principal, "arn:aws:sts::111122223333:assumed-role/r/s");
  EXPECT_EQ(f.source_ip, "198.51.100.1");
  EXPECT_EQ(f.user_agent, "ua");
  EXPECT_THAT(f.resource_arns, ElementsAre("arn:aws:cloudtrail:eu-west-1:111122223333:trail/t"));
  EXPECT_TRUE(ExtractFields(doc.value(), false).resource_arns.empty());
}

TEST(CompactRecord, RemovesWhitespaceKeepsNumbersAsWritten) {
  EXPECT_EQ(CompactRecord("{ \"a\" : [1.50, 1e400 ,\"x y\" ] ,\n\"b\": null }"), R"({"a":[1.50,1e400,"x y"],"b":null})");
}

}  // namespace
}  // namespace cloudaudit::threats
