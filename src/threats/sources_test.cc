#include "threats/sources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/time.h"
#include "threats/fake_aws_support.h"
#include "threats/test_support.h"

namespace cloudaudit::threats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using cloudaudit::testing::FakeAws;
using cloudaudit::testing::FakeResponse;

int64_t At(const std::string& iso) { return ParseTimestamp(iso)->epoch_seconds; }

TEST(ParseLogName, AccountAndOrganizationTrails) {
  LogName a = ParseLogName("logs/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz");
  EXPECT_TRUE(a.log_file);
  EXPECT_FALSE(a.digest);
  EXPECT_EQ(a.account, "111122223333");
  EXPECT_EQ(a.region, "us-east-2");
  EXPECT_EQ(a.delivered, At("2015-08-01T02:10:00Z"));
  EXPECT_EQ(a.day, At("2015-08-01T00:00:00Z"));

  LogName o = ParseLogName("AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2024/02/29/x.json");
  EXPECT_TRUE(o.log_file);
  EXPECT_FALSE(o.delivered);
  EXPECT_EQ(o.day, At("2024-02-29T00:00:00Z"));

  LogName d = ParseLogName("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/05/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20240105T100000Z.json.gz");
  EXPECT_TRUE(d.digest);

  EXPECT_FALSE(ParseLogName("notes/README.txt").log_file);
  EXPECT_TRUE(ParseLogName("export/EVENTS.JSON").log_file);
  // Impossible dates tell nothing.
  LogName bad = ParseLogName("AWSLogs/1/CloudTrail/r/2023/02/30/1_CloudTrail_r_20230230T0000Z_x.json.gz");
  EXPECT_FALSE(bad.delivered);
  EXPECT_FALSE(bad.day);
}

TEST(DirectorySpan, YearMonthAndDayFoldersUnderARegion) {
  EXPECT_EQ(DirectorySpan("a/AWSLogs/1/CloudTrail/us-east-1/2024"), std::make_pair(At("2024-01-01T00:00:00Z"), At("2025-01-01T00:00:00Z")));
  EXPECT_EQ(DirectorySpan("AWSLogs/1/CloudTrail/us-east-1/2024/12"), std::make_pair(At("2024-12-01T00:00:00Z"), At("2025-01-01T00:00:00Z")));
  EXPECT_EQ(DirectorySpan("AWSLogs/1/CloudTrail/us-east-1/2024/02/29/"), std::make_pair(At("2024-02-29T00:00:00Z"), At("2024-03-01T00:00:00Z")));
  EXPECT_FALSE(DirectorySpan("AWSLogs/1/CloudTrail/us-east-1"));
  EXPECT_FALSE(DirectorySpan("AWSLogs/1/CloudTrail/us-east-1/2024/13"));
  EXPECT_FALSE(DirectorySpan("photos/2024/01/05"));
}

TEST(LogMayHold, KeepsAMarginOnBothSides) {
  TimeWindow w{At("2024-01-05T10:00:00Z"), At("2024-01-05T12:00:00Z")};
  PruneMargins m;  // 15 minutes of clock skew, 1 hour of delivery delay
  auto file = [](const char* t) {
    LogName n;
    n.delivered = At(t);
    return n;
  };
  // A name has minute precision: a file of 09:43 was delivered before 09:44
  // and holds records up to 09:59 at most.
  EXPECT_FALSE(LogMayHold(file("2024-01-05T09:43:00Z"), w, m));
  EXPECT_TRUE(LogMayHold(file("2024-01-05T09:44:00Z"), w, m));
  EXPECT_TRUE(LogMayHold(file("2024-01-05T13:00:00Z"), w, m));   // delivered late
  EXPECT_FALSE(LogMayHold(file("2024-01-05T13:01:00Z"), w, m));
  LogName day;
  day.day = At("2024-01-04T00:00:00Z");
  EXPECT_FALSE(LogMayHold(day, w, m));
  day.day = At("2024-01-06T00:00:00Z");
  EXPECT_FALSE(LogMayHold(day, w, m));
  EXPECT_TRUE(LogMayHold(LogName{}, w, m));  // nothing known: read it
  EXPECT_TRUE(LogMayHold(file("1999-01-01T00:00:00Z"), TimeWindow{}, m));
}

TEST(ParseTimeBound, IsoDatesAndAges) {
  const int64_t now = At("2024-05-10T00:00:00Z");
  EXPECT_EQ(ParseTimeBound("2024-05-01T10:00:00Z", now, false), At("2024-05-01T10:00:00Z"));
  EXPECT_EQ(ParseTimeBound("2024-05-01T12:00:00+02:00", now, false), At("2024-05-01T10:00:00Z"));
  EXPECT_EQ(ParseTimeBound("2024-05-01", now, false), At("2024-05-01T00:00:00Z"));
  EXPECT_EQ(ParseTimeBound("2024-05-01", now, true), At("2024-05-01T23:59:59Z"));
  EXPECT_EQ(ParseTimeBound("90d", now, false), now - 90 * 86400);
  EXPECT_EQ(ParseTimeBound("12h", now, false), now - 12 * 3600);
  EXPECT_EQ(ParseTimeBound("30m", now, false), now - 1800);
  EXPECT_EQ(ParseTimeBound("2w", now, false), now - 14 * 86400);
  for (const char* bad : {"yesterday", "", "12x", "1715000000", "2024-13-01"}) {
    auto r = ParseTimeBound(bad, now, false);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message, HasSubstr("is not a time"));
  }
}

TEST(ParseSourceSpec, Kinds) {
  auto s3 = ParseSourceSpec("s3://my-trail/AWSLogs/o-abc/");
  ASSERT_TRUE(s3);
  EXPECT_EQ(s3->kind, SourceSpec::Kind::kS3);
  EXPECT_EQ(s3->bucket, "my-trail");
  EXPECT_EQ(s3->prefix, "AWSLogs/o-abc/");
  auto bucket_only = ParseSourceSpec("s3://my-trail");
  ASSERT_TRUE(bucket_only);
  EXPECT_EQ(bucket_only->prefix, "");
  EXPECT_EQ(ParseSourceSpec("lookup-events")->kind, SourceSpec::Kind::kLookupEvents);
  auto local = ParseSourceSpec("./logs");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->kind, SourceSpec::Kind::kLocal);
  EXPECT_EQ(local->path, "./logs");
  EXPECT_FALSE(ParseSourceSpec("s3://"));
  EXPECT_FALSE(ParseSourceSpec("s3:///prefix"));
  EXPECT_FALSE(ParseSourceSpec(""));
}

TEST(EnumerateLocal, WalksBothLayoutsSkipsDigestsAndPrunesByDate) {
  testing::TempDir dir("enumerate");
  const auto root = dir.path();
  const std::string acct = "AWSLogs/111122223333/CloudTrail/us-east-1/";
  const std::string org = "AWSLogs/o-exampleorgid/444455556666/CloudTrail/eu-west-1/";
  std::vector<std::string> files = {
      acct + "2024/01/04/111122223333_CloudTrail_us-east-1_20240104T2340Z_a.json.gz",  // pruned by name
      acct + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T0030Z_b.json.gz",
      acct + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T2355Z_c.json.gz",
      acct + "2024/01/06/111122223333_CloudTrail_us-east-1_20240106T0040Z_d.json.gz",  // within the margin
      acct + "2024/01/06/111122223333_CloudTrail_us-east-1_20240106T0300Z_e.json.gz",  // pruned by name
      acct + "2024/01/09/111122223333_CloudTrail_us-east-1_20240109T0000Z_f.json.gz",  // in a pruned day folder
      org + "2024/01/05/444455556666_CloudTrail_eu-west-1_20240105T1200Z_g.json",
      org + "2023/12/31/444455556666_CloudTrail_eu-west-1_20231231T1200Z_h.json",      // pruned month
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/01/05/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240105T010000Z.json.gz",
      "exports/loose.json",
      "exports/notes.txt",
  };
  for (const auto& f : files) testing::WriteFile(root / f, "{}");
  TimeWindow w{At("2024-01-05T00:00:00Z"), At("2024-01-05T23:59:59Z")};
  std::vector<std::string> seen;
  SkipCounts skipped;
  auto walked = EnumerateLocal(
      root.string(), w, PruneMargins{},
      [&](const std::string& p) { seen.push_back(p.substr(root.string().size() + 1)); },
      [&](const std::string& where, const std::string& why) { ADD_FAILURE() << where << ": " << why; }, &skipped);
  ASSERT_TRUE(walked);
  EXPECT_THAT(seen, ElementsAre(acct + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T0030Z_b.json.gz",
                                acct + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T2355Z_c.json.gz",
                                acct + "2024/01/06/111122223333_CloudTrail_us-east-1_20240106T0040Z_d.json.gz",
                                org + "2024/01/05/444455556666_CloudTrail_eu-west-1_20240105T1200Z_g.json", "exports/loose.json"));
  EXPECT_EQ(skipped.digests, 1u);  // the CloudTrail-Digest folder, not walked
  EXPECT_THAT(skipped.first_digest, HasSubstr("CloudTrail-Digest"));
  EXPECT_EQ(skipped.non_log, 1u);
  EXPECT_THAT(skipped.first_non_log, HasSubstr("notes.txt"));
  EXPECT_EQ(skipped.pruned, 4u);  // two files, the 2024/01/09 folder and the 2023/12 folder

  // A file named directly is read whatever its name; a missing root is an error.
  seen.clear();
  ASSERT_TRUE(EnumerateLocal((root / files[0]).string(), w, PruneMargins{}, [&](const std::string& p) { seen.push_back(p); },
                             nullptr, &skipped));
  EXPECT_EQ(seen.size(), 1u);
  auto missing = EnumerateLocal((root / "nope").string(), w, PruneMargins{}, [](const std::string&) {}, nullptr, &skipped);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(RequestSpacer, SpacesRequestsOnTheClock) {
  testing::FakeClock clock;
  RequestSpacer spacer(clock, 2.0);
  for (int i = 0; i < 5; ++i) spacer.Wait();
  EXPECT_THAT(clock.sleeps(), ElementsAre(0.5, 0.5, 0.5, 0.5));
  clock.Advance(10);  // idle for a while: no wait
  spacer.Wait();
  EXPECT_EQ(clock.sleeps().size(), 4u);
}

class S3ListerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    testing::AddS3Routes(fake_);
    client_ = testing::FakeClient(fake_);
  }
  FakeAws fake_;
  std::unique_ptr<aws::AwsClient> client_;
};

TEST_F(S3ListerTest, PlansOneListingPerAccountRegionAndDay) {
  using testing::ListRequest;
  using testing::ListXml;
  const std::string b = "trail-bucket";
  const std::string org = "AWSLogs/o-exampleorgid/";
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, "", true), {ListXml({}, {"AWSLogs/"})});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, "AWSLogs/", true),
                     {ListXml({}, {"AWSLogs/222233334444/", org, "AWSLogs/misc/"})});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, org, true), {ListXml({}, {org + "111122223333/"})});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, org + "111122223333/CloudTrail/", true),
                     {ListXml({}, {org + "111122223333/CloudTrail/eu-west-1/", org + "111122223333/CloudTrail/us-east-1/"})});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, "AWSLogs/222233334444/CloudTrail/", true),
                     {ListXml({}, {"AWSLogs/222233334444/CloudTrail/us-east-1/"})});

  TimeWindow w{At("2024-01-05T10:00:00Z"), At("2024-01-06T12:00:00Z")};
  S3Lister lister(*client_, w, PruneMargins{}, At("2024-02-01T00:00:00Z"));
  std::vector<std::string> notes;
  auto units = lister.Plan(b, "", [&](const std::string& n) { notes.push_back(n); });
  ASSERT_TRUE(units) << units.error().ToString();
  std::vector<std::string> planned;
  for (const auto& u : *units) {
    planned.push_back(u.prefix + " after " + u.start_after);
    EXPECT_EQ(u.stop_after, At("2024-01-06T13:00:00Z"));
  }
  const std::string a = "AWSLogs/222233334444/CloudTrail/us-east-1/";
  const std::string e = org + "111122223333/CloudTrail/eu-west-1/";
  const std::string u = org + "111122223333/CloudTrail/us-east-1/";
  EXPECT_THAT(planned, ElementsAre(a + "2024/01/05/ after " + a + "2024/01/05/222233334444_CloudTrail_us-east-1_20240105T0945Z",
                                   a + "2024/01/06/ after ",
                                   e + "2024/01/05/ after " + e + "2024/01/05/111122223333_CloudTrail_eu-west-1_20240105T0945Z",
                                   e + "2024/01/06/ after ",
                                   u + "2024/01/05/ after " + u + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T0945Z",
                                   u + "2024/01/06/ after "));
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("s3://trail-bucket/AWSLogs/misc/: not an account or organization folder"));
  // No listing of the whole bucket: only delimiter listings of the layout.
  for (const auto& r : fake_.Requests("s3", "ListObjectsV2")) EXPECT_EQ(r.Param("delimiter"), "/") << r.http.query;
}

TEST_F(S3ListerTest, ListsADayWithStartAfterAndStopsPastTheWindow) {
  using testing::ListRequest;
  using testing::ListXml;
  const std::string b = "trail-bucket";
  const std::string day = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/06/";
  const std::string name = day + "111122223333_CloudTrail_us-east-1_";
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, day, false, name + "20240106T0945Z"),
                     {ListXml({{name + "20240106T1000Z_a.json.gz", 120}, {day + "index.html", 5}}, {}, "page2")});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, day, false, name + "20240106T0945Z", "page2"),
                     {ListXml({{name + "20240106T1300Z_b.json.gz", 130}, {name + "20240106T1400Z_c.json.gz", 140}}, {}, "page3")});
  TimeWindow w{At("2024-01-06T10:00:00Z"), At("2024-01-06T12:00:00Z")};
  S3Lister lister(*client_, w, PruneMargins{}, At("2024-02-01T00:00:00Z"));
  auto units = lister.Plan(b, day, [](const std::string&) {});
  ASSERT_TRUE(units);
  ASSERT_EQ(units->size(), 1u);
  std::vector<std::string> keys;
  SkipCounts skipped;
  auto listed = lister.List(units->front(), [&](const S3Object& o) { keys.push_back(o.key + " " + std::to_string(o.size)); }, &skipped);
  ASSERT_TRUE(listed) << listed.error().ToString();
  EXPECT_THAT(keys, ElementsAre(name + "20240106T1000Z_a.json.gz 120", name + "20240106T1300Z_b.json.gz 130"));
  EXPECT_EQ(skipped.non_log, 1u);
  // The key delivered at 14:00 ended the listing: page 3 was never asked for.
  EXPECT_EQ(fake_.RequestCount("s3", "ListObjectsV2"), 2);
}

TEST_F(S3ListerTest, PrefixesWithoutTheLayoutAreListedWholeAndKeysReadAsGiven) {
  using testing::ListRequest;
  using testing::ListXml;
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest("b", "exports/", true), {ListXml({}, {"exports/2024/"})});
  TimeWindow w{At("2024-01-06T10:00:00Z"), std::nullopt};
  S3Lister lister(*client_, w, PruneMargins{}, At("2024-02-01T00:00:00Z"));
  std::vector<std::string> notes;
  auto units = lister.Plan("b", "exports", [&](const std::string& n) { notes.push_back(n); });
  ASSERT_TRUE(units) << units.error().ToString();
  ASSERT_EQ(units->size(), 1u);
  EXPECT_EQ(units->front().prefix, "exports/");
  EXPECT_FALSE(units->front().stop_after);
  EXPECT_THAT(notes, ElementsAre(HasSubstr("no AWSLogs/ folder below; every key is listed")));

  auto exact = lister.Plan("b", "exports/one.json.gz", nullptr);
  ASSERT_TRUE(exact);
  ASSERT_EQ(exact->size(), 1u);
  EXPECT_TRUE(exact->front().exact);
  std::vector<std::string> keys;
  SkipCounts skipped;
  ASSERT_TRUE(lister.List(exact->front(), [&](const S3Object& o) { keys.push_back(o.key); }, &skipped));
  EXPECT_THAT(keys, ElementsAre("exports/one.json.gz"));
}

TEST_F(S3ListerTest, RegionFolderWithoutAStartIsOneListing) {
  TimeWindow w{std::nullopt, At("2024-01-06T12:00:00Z")};
  S3Lister lister(*client_, w, PruneMargins{}, At("2024-02-01T00:00:00Z"));
  auto units = lister.Plan("b", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/", nullptr);
  ASSERT_TRUE(units);
  ASSERT_EQ(units->size(), 1u);
  EXPECT_EQ(units->front().prefix, "AWSLogs/111122223333/CloudTrail/us-east-1/2024/");
  EXPECT_EQ(units->front().stop_after, At("2024-01-06T13:00:00Z"));
  // A month prefix with a start: only that month's days.
  S3Lister from(*client_, TimeWindow{At("2024-01-30T00:00:00Z"), At("2024-02-02T00:00:00Z")}, PruneMargins{}, At("2024-03-01T00:00:00Z"));
  auto month = from.Plan("b", "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02", nullptr);
  ASSERT_TRUE(month);
  std::vector<std::string> prefixes;
  for (const auto& u : *month) prefixes.push_back(u.prefix.substr(u.prefix.size() - 11));
  EXPECT_THAT(prefixes, ElementsAre("2024/02/01/", "2024/02/02/"));
  // A day folder outside the window: nothing to list, and a note says so.
  std::vector<std::string> notes;
  auto outside = from.Plan("b", "AWSLogs/111122223333/CloudTrail/us-east-1/2023/12/24/", [&](const std::string& n) { notes.push_back(n); });
  ASSERT_TRUE(outside);
  EXPECT_TRUE(outside->empty());
  EXPECT_THAT(notes, ElementsAre("s3://b/AWSLogs/111122223333/CloudTrail/us-east-1/2023/12/24/: no CloudTrail log folder in the time window"));
  EXPECT_EQ(fake_.RequestCount(), 0);
}

TEST_F(S3ListerTest, DeniedListingIsAnError) {
  fake_.AddResponses("s3", "ListObjectsV2", {FakeResponse{403, {{"Content-Type", "application/xml"}}, testing::S3Error("AccessDenied", "Access Denied")}});
  S3Lister lister(*client_, TimeWindow{}, PruneMargins{}, At("2024-02-01T00:00:00Z"));
  auto units = lister.Plan("b", "", nullptr);
  ASSERT_FALSE(units);
  EXPECT_EQ(units.error().aws_code, "AccessDenied");
}

std::string LookupPage(const std::vector<std::string>& records, const std::string& next) {
  Json page = {{"Events", Json::array()}};
  int i = 0;
  for (const auto& r : records)
    page["Events"].push_back({{"EventId", std::to_string(++i)}, {"EventName", "x"}, {"CloudTrailEvent", r}});
  if (!next.empty()) page["NextToken"] = next;
  return page.dump();
}

TEST(LookupEvents, PagesAtTwoRequestsPerSecond) {
  FakeAws fake;
  ASSERT_TRUE(fake.Start());
  auto client = testing::FakeClient(fake, "eu-west-1");
  using cloudaudit::testing::ParamAbsent;
  using cloudaudit::testing::ParamEquals;
  auto json = [](std::string body) { return FakeResponse{200, {{"Content-Type", "application/x-amz-json-1.1"}}, std::move(body)}; };
  fake.AddResponses("cloudtrail", "LookupEvents", ParamAbsent("NextToken"), {json(LookupPage({R"({"eventName":"A"})", R"({"eventName":"B"})"}, "t1"))});
  fake.AddResponses("cloudtrail", "LookupEvents", ParamEquals("NextToken", "t1"), {json(LookupPage({R"({"eventName":"C"})"}, "t2"))});
  fake.AddResponses("cloudtrail", "LookupEvents", ParamEquals("NextToken", "t2"), {json(LookupPage({}, ""))});
  testing::FakeClock clock;
  RequestSpacer spacer(clock, 2.0);
  std::vector<std::string> seen;
  int pages = 0;
  TimeWindow w{At("2024-01-05T00:00:00Z"), At("2024-01-06T00:00:00Z")};
  auto done = LookupEvents(*client, "eu-west-1", w, spacer, [&](std::string_view r) { seen.emplace_back(r); }, &pages);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_THAT(seen, ElementsAre(R"({"eventName":"A"})", R"({"eventName":"B"})", R"({"eventName":"C"})"));
  EXPECT_EQ(pages, 3);
  EXPECT_THAT(clock.sleeps(), ElementsAre(0.5, 0.5));
  auto requests = fake.Requests("cloudtrail", "LookupEvents");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].region, "eu-west-1");
  auto body = ParseJson(requests[0].http.body);
  ASSERT_TRUE(body);
  EXPECT_EQ((*body)["MaxResults"], 50);
  EXPECT_EQ((*body)["StartTime"], At("2024-01-05T00:00:00Z"));
  EXPECT_EQ((*body)["EndTime"], At("2024-01-06T00:00:00Z"));
}

TEST(LookupEvents, AnErrorStopsThePaging) {
  FakeAws fake;
  ASSERT_TRUE(fake.Start());
  auto client = testing::FakeClient(fake);
  fake.AddResponses("cloudtrail", "LookupEvents",
                    {FakeResponse{400, {{"Content-Type", "application/x-amz-json-1.1"}},
                                  R"({"__type":"InvalidTimeRangeException","message":"bad range"})"}});
  testing::FakeClock clock;
  RequestSpacer spacer(clock, 2.0);
  int pages = 0;
  auto done = LookupEvents(*client, "us-east-1", TimeWindow{}, spacer, [](std::string_view) {}, &pages);
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().aws_code, "InvalidTimeRangeException");
  EXPECT_EQ(pages, 0);
}

}  // namespace
}  // namespace cloudaudit::threats
