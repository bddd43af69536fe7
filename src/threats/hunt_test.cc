#include "threats/hunt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "base/time.h"
#include "threats/fake_aws_support.h"
#include "threats/test_support.h"

namespace cloudaudit::threats {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using cloudaudit::testing::FakeAws;
using cloudaudit::testing::FakeResponse;
using testing::Event;
using testing::Gzip;
using testing::LogFile;
using testing::Record;

int64_t At(const std::string& iso) { return ParseTimestamp(iso)->epoch_seconds; }

// Rules that match one eventName each: enough to drive the hunt.
class EventNameMatcher : public RecordMatcher {
 public:
  EventNameMatcher() {
    Add("test.stop_logging", "StopLogging", "high");
    Add("test.access_key", "CreateAccessKey", "medium");
    Add("test.any_key", "CreateAccessKey", "low");
    Add("test.console_login", "ConsoleLogin", "critical");
  }
  const std::vector<RuleInfo>& rules() const override { return rules_; }
  void Match(simdjson::dom::element record, std::vector<size_t>* out) const override {
    out->clear();
    std::string_view name;
    if (record["eventName"].get(name) != simdjson::SUCCESS) return;
    for (size_t i = 0; i < names_.size(); ++i)
      if (names_[i] == name) out->push_back(i);
  }

 private:
  void Add(std::string id, std::string event, std::string level) {
    rules_.push_back(RuleInfo{id, "Title of " + id, level, {"attack.t1562", "attack.defense_evasion"}});
    names_.push_back(std::move(event));
  }
  std::vector<RuleInfo> rules_;
  std::vector<std::string> names_;
};

std::vector<SourceSpec> Sources(std::initializer_list<std::string> texts) {
  std::vector<SourceSpec> out;
  for (const auto& t : texts) out.push_back(*ParseSourceSpec(t));
  return out;
}

const std::string kOrg = "AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/";

class HuntFolderTest : public ::testing::Test {
 protected:
  HuntFolderTest() : dir_("hunt") {}
  std::string Path(const std::string& rel) const { return (dir_.path() / rel).string(); }
  std::string Root() const { return dir_.path().string(); }
  void Write(const std::string& rel, const std::string& bytes) { testing::WriteFile(dir_.path() / rel, bytes); }

  testing::TempDir dir_;
  EventNameMatcher matcher_;
};

TEST_F(HuntFolderTest, AlertsFromAnOrganizationTrailFolder) {
  const std::string day5 = kOrg + "2024/01/05/111122223333_CloudTrail_us-east-1_";
  const std::string day6 = kOrg + "2024/01/06/111122223333_CloudTrail_us-east-1_";
  // Later file first in the folder order: alerts still come out by time.
  Write(day5 + "20240105T2300Z_b.json.gz",
        Gzip(LogFile({Record({.time = "2024-01-05T22:58:00Z", .name = "CreateAccessKey", .source = "iam.amazonaws.com", .id = "ev-3"}),
                      Record({.time = "2024-01-05T22:59:00Z", .name = "DescribeInstances", .id = "ev-4"})})));
  Write(day5 + "20240105T1005Z_a.json.gz",
        Gzip(LogFile({Record({.time = "2024-01-05T10:01:00Z", .name = "StopLogging", .source = "cloudtrail.amazonaws.com", .id = "ev-1"}),
                      "42",
                      R"({"eventName": "StopLogging", "eventID": "no-time"})",
                      "{\"eventTime\": \"2024-01-05T10:02:00Z\", \"eventName\": \"\xff\"}",
                      Record({.time = "2024-01-05T10:03:00Z", .name = "CreateAccessKey", .id = "ev-2",
                              .identity = R"({"type":"Root","arn":"arn:aws:iam::111122223333:root"})"})})));
  // Outside the window by eventTime, inside by name.
  Write(day6 + "20240106T0005Z_c.json.gz",
        Gzip(LogFile({Record({.time = "2024-01-05T23:59:30Z", .name = "ConsoleLogin", .id = "ev-5"}),
                      Record({.time = "2024-01-06T00:01:00Z", .name = "ConsoleLogin", .id = "ev-6"})})));
  // Pruned by its day folder: never opened, so its corruption goes unseen.
  Write(kOrg + "2024/01/09/111122223333_CloudTrail_us-east-1_20240109T0000Z_d.json.gz", "not gzip at all");
  Write(kOrg + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T1200Z_e.json.gz", Gzip(R"({"Records": [{"eventName": )"));
  Write("AWSLogs/o-exampleorgid/111122223333/CloudTrail-Digest/us-east-1/2024/01/05/x_CloudTrail-Digest_y.json.gz", Gzip("{}"));
  Write("README.md", "# logs");

  HuntOptions options;
  options.window = TimeWindow{At("2024-01-05T00:00:00Z"), At("2024-01-05T23:59:59Z")};
  options.concurrency = 3;
  auto result = Hunt(Sources({Root()}), matcher_, options);
  ASSERT_TRUE(result) << result.error().ToString();
  const HuntResult& r = *result;

  std::vector<std::string> got;
  for (const auto& a : r.alerts) got.push_back(a.event_time + " " + a.rule_id + " " + a.event_id);
  EXPECT_THAT(got, ElementsAre("2024-01-05T10:01:00Z test.stop_logging ev-1", "2024-01-05T10:03:00Z test.access_key ev-2",
                               "2024-01-05T10:03:00Z test.any_key ev-2", "2024-01-05T22:58:00Z test.access_key ev-3",
                               "2024-01-05T22:58:00Z test.any_key ev-3", "2024-01-05T23:59:30Z test.console_login ev-5"));
  const store::AlertRow& first = r.alerts[0];
  EXPECT_EQ(first.alert_id, AlertId("test.stop_logging", "ev-1", ""));
  EXPECT_EQ(first.alert_id.size(), 32u);
  EXPECT_EQ(first.rule_title, "Title of test.stop_logging");
  EXPECT_EQ(first.level, "high");
  EXPECT_THAT(first.tags, ElementsAre("attack.t1562", "attack.defense_evasion"));
  EXPECT_EQ(first.event_name, "StopLogging");
  EXPECT_EQ(first.event_source, "cloudtrail.amazonaws.com");
  EXPECT_EQ(first.account_id, "111122223333");
  EXPECT_EQ(first.region, "us-east-1");
  EXPECT_EQ(first.principal, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(first.source_ip, "203.0.113.7");
  EXPECT_EQ(first.user_agent, "aws-cli/2.15.0");
  EXPECT_EQ(first.source, Path(day5 + "20240105T1005Z_a.json.gz") + ":16");
  EXPECT_TRUE(first.suppression.is_null());
  // The evidence is the record as written, without whitespace.
  auto record = ParseJson(first.record);
  ASSERT_TRUE(record) << first.record;
  EXPECT_EQ((*record)["eventID"], "ev-1");
  EXPECT_EQ(first.record.find(": "), std::string::npos);
  EXPECT_EQ(r.alerts[1].principal, "arn:aws:iam::111122223333:root");

  const HuntStats& s = r.stats;
  EXPECT_EQ(s.files, 4u);
  EXPECT_EQ(s.records, 9u);
  EXPECT_EQ(s.malformed_records, 3u);  // 42, no eventTime, invalid UTF-8
  EXPECT_EQ(s.malformed_files, 1u);    // the truncated one
  EXPECT_EQ(s.outside_window, 1u);
  EXPECT_EQ(s.evaluated, 5u);
  EXPECT_EQ(s.alerts, 6u);
  EXPECT_EQ(s.suppressed, 0u);
  EXPECT_EQ(s.skipped.digests, 1u);
  EXPECT_EQ(s.skipped.non_log, 1u);
  EXPECT_EQ(s.skipped.pruned, 1u);
  EXPECT_EQ(r.status, "complete");
  EXPECT_GT(s.bytes, s.compressed_bytes / 2);

  std::vector<std::string> notices;
  for (const auto& n : r.notices) notices.push_back(n.where.substr(Root().size() + 1) + ": " + n.what);
  const std::string a = day5 + "20240105T1005Z_a.json.gz";
  EXPECT_THAT(notices, ElementsAre(a + ":" + std::to_string(16 + Record({.time = "2024-01-05T10:01:00Z", .name = "StopLogging",
                                                                               .source = "cloudtrail.amazonaws.com", .id = "ev-1"})
                                                                            .size() +
                                                                     4) +
                                       ": Records[1] is a number, not an object; skipped",
                                   HasSubstr(": malformed record: no eventTime string"),
                                   HasSubstr(": malformed record: The input is not valid UTF-8"),
                                   kOrg + "2024/01/05/111122223333_CloudTrail_us-east-1_20240105T1200Z_e.json.gz:27: truncated JSON: "
                                          "the data ends inside a value"));
  EXPECT_EQ(r.notices_total, 4u);
}

TEST_F(HuntFolderTest, SameResultAtAnyConcurrencyAndNoDuplicates) {
  for (int f = 0; f < 12; ++f) {
    std::vector<std::string> records;
    for (int i = 0; i < 50; ++i)
      records.push_back(Record({.time = fmt::format("2024-01-05T{:02}:{:02}:00Z", f, i), .name = i % 7 == 0 ? "StopLogging" : "CreateAccessKey",
                                .id = fmt::format("f{}-{}", f, i)}));
    Write(fmt::format("{}2024/01/05/111122223333_CloudTrail_us-east-1_20240105T{:02}00Z_x.json.gz", kOrg, f + 1), Gzip(LogFile(records)));
  }
  auto run = [&](int concurrency, std::vector<SourceSpec> sources) {
    HuntOptions options;
    options.concurrency = concurrency;
    auto r = Hunt(sources, matcher_, options);
    EXPECT_TRUE(r);
    std::vector<std::string> ids;
    for (const auto& a : r->alerts) ids.push_back(a.alert_id + " " + a.source);
    return ids;
  };
  auto one = run(1, Sources({Root()}));
  EXPECT_EQ(one.size(), 12u * (8 + 42 * 2));
  EXPECT_EQ(run(4, Sources({Root()})), one);
  // The same folder twice (as an organization trail and an account trail
  // both deliver one event): one alert per rule and event.
  EXPECT_EQ(run(3, Sources({Root(), Root() + "/AWSLogs"})), one);
}

TEST_F(HuntFolderTest, ServiceActivityIsDroppedUnlessAskedFor) {
  std::vector<std::string> records = {
      Record({.name = "CreateAccessKey", .id = "by-service", .identity = R"({"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Deployer/s","invokedBy":"cloudformation.amazonaws.com"})"}),
      Record({.name = "CreateAccessKey", .id = "aws-service", .identity = R"({"type":"AWSService","invokedBy":""})"}),
      Record({.name = "CreateAccessKey", .id = "slr", .identity = R"({"type":"IAMUser","arn":"arn:aws:iam::111122223333:role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations"})"}),
      Record({.name = "CreateAccessKey", .id = "slr-session", .identity = R"({"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/AWSServiceRoleForConfig/s","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws-us-gov:iam::111122223333:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}}})"}),
      Record({.name = "CreateAccessKey", .id = "person", .identity = R"({"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","invokedBy":"","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/Admin"}}})"}),
  };
  Write("trail.json", LogFile(records));
  HuntOptions options;
  auto quiet = Hunt(Sources({Root()}), matcher_, options);
  ASSERT_TRUE(quiet);
  std::vector<std::string> ids;
  for (const auto& a : quiet->alerts) ids.push_back(a.event_id);
  EXPECT_THAT(ids, ElementsAre("person", "person"));
  EXPECT_EQ(quiet->stats.service_activity, 4u);

  options.include_service_activity = true;
  auto all = Hunt(Sources({Root()}), matcher_, options);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->alerts.size(), 10u);
  EXPECT_EQ(all->stats.service_activity, 0u);
  for (const auto& a : all->alerts) {
    if (a.event_id == "aws-service") {
      EXPECT_EQ(a.principal, "AWSService");
    }
  }
}

TEST_F(HuntFolderTest, SuppressionsByPrincipalOrResourceAndExpiry) {
  std::vector<std::string> records = {
      Record({.name = "CreateAccessKey", .id = "ci", .identity = R"({"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/ci-deployer/run-1"})"}),
      Record({.name = "StopLogging", .id = "sandbox", .extra = R"(, "resources": [{"ARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/sandbox", "type": "AWS::CloudTrail::Trail"}])"}),
      Record({.name = "StopLogging", .id = "prod", .extra = R"(, "resources": [{"ARN": "arn:aws:cloudtrail:us-east-1:111122223333:trail/prod"}])"}),
  };
  Write("trail.json", LogFile(records));
  auto suppressions = rules::ParseSuppressionsYaml(R"(suppressions:
  - rule: test.access_key
    resource: "arn:aws:sts::*:assumed-role/ci-deployer/*"
    reason: the deployer rotates its keys
    owner: platform
  - rule: "test.stop_*"
    resource: "arn:aws:cloudtrail:*:*:trail/sandbox"
    reason: sandbox trail
    owner: security
    expires: 2099-01-01
  - rule: "*"
    resource: "*"
    reason: everything, once
    owner: nobody
    expires: 2020-01-01
)",
                                                   "s.yaml");
  ASSERT_TRUE(suppressions) << suppressions.error().message;
  HuntOptions options;
  options.suppressions = *suppressions;
  options.now_epoch = At("2024-06-01T00:00:00Z");
  auto r = Hunt(Sources({Root()}), matcher_, options);
  ASSERT_TRUE(r);
  std::map<std::string, std::string> by;
  for (const auto& a : r->alerts) by[a.rule_id + "/" + a.event_id] = a.suppression.is_null() ? "" : a.suppression["owner"].get<std::string>();
  EXPECT_EQ(by, (std::map<std::string, std::string>{{"test.access_key/ci", "platform"},
                                                    {"test.any_key/ci", ""},
                                                    {"test.stop_logging/sandbox", "security"},
                                                    {"test.stop_logging/prod", ""}}));
  EXPECT_EQ(r->stats.alerts, 2u);
  EXPECT_EQ(r->stats.suppressed, 2u);
  ASSERT_EQ(r->expired.size(), 1u);
  EXPECT_EQ(r->expired[0].owner, "nobody");
  EXPECT_EQ(r->expired[0].line, 11);
}

TEST_F(HuntFolderTest, RecordsWithoutEventIdGetStableIds) {
  Write("a.json", LogFile({Record({.name = "StopLogging"})}));
  HuntOptions options;
  auto first = Hunt(Sources({Root()}), matcher_, options);
  auto second = Hunt(Sources({Root()}), matcher_, options);
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->alerts.size(), 1u);
  EXPECT_EQ(first->alerts[0].alert_id, second->alerts[0].alert_id);
  EXPECT_EQ(first->alerts[0].alert_id, AlertId("test.stop_logging", "", first->alerts[0].record));
  EXPECT_NE(AlertId("r", "", "{\"a\":1}"), AlertId("r", "", "{\"a\":2}"));
  EXPECT_NE(AlertId("r1", "e", ""), AlertId("r2", "e", ""));
}

TEST(Hunt, SourcesThatCannotBeReadAtAll) {
  EventNameMatcher matcher;
  auto missing = Hunt(Sources({"/nonexistent/cloudtrail"}), matcher, HuntOptions{});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto no_client = Hunt(Sources({"s3://bucket/AWSLogs/"}), matcher, HuntOptions{});
  ASSERT_FALSE(no_client);
  EXPECT_EQ(no_client.error().code, ErrorCode::kInvalidArgument);
}

class HuntAwsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    testing::AddS3Routes(fake_);
    client_ = testing::FakeClient(fake_);
  }
  FakeAws fake_;
  std::unique_ptr<aws::AwsClient> client_;
  EventNameMatcher matcher_;
};

TEST_F(HuntAwsTest, S3PrefixDownloadsConcurrentlyAndReportsDeniedObjects) {
  using testing::ListRequest;
  using testing::ListXml;
  const std::string b = "org-trail";
  const std::string day = "AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2024/01/05/";
  const std::string name = day + "111122223333_CloudTrail_us-east-1_";
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, "AWSLogs/o-exampleorgid/", true),
                     {ListXml({}, {"AWSLogs/o-exampleorgid/111122223333/"})});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, "AWSLogs/o-exampleorgid/111122223333/CloudTrail/", true),
                     {ListXml({}, {"AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/"})});
  fake_.AddResponses("s3", "ListObjectsV2", ListRequest(b, day, false, name + "20240105T0945Z"),
                     {ListXml({{name + "20240105T1005Z_a.json.gz", 100}, {name + "20240105T1010Z_denied.json.gz", 100},
                               {name + "20240105T1015Z_b.json.gz", 100}})});
  const std::string a_body = Gzip(LogFile({Record({.time = "2024-01-05T10:01:00Z", .name = "StopLogging", .id = "s3-1"})}));
  const std::string b_body = Gzip(LogFile({Record({.time = "2024-01-05T10:12:00Z", .name = "ConsoleLogin", .id = "s3-2"})}));
  ASSERT_NE(a_body.find('\0'), std::string::npos);  // binary bodies must come through whole
  fake_.AddResponses("s3", "GetObject", cloudaudit::testing::HasParamValues({"111122223333_CloudTrail_us-east-1_20240105T1005Z_a.json.gz"}),
                     {FakeResponse{200, {{"Content-Type", "application/json"}}, a_body}});
  fake_.AddResponses("s3", "GetObject", cloudaudit::testing::HasParamValues({"111122223333_CloudTrail_us-east-1_20240105T1015Z_b.json.gz"}),
                     {FakeResponse{200, {{"Content-Type", "application/octet-stream"}}, b_body}});
  fake_.AddResponses("s3", "GetObject", {FakeResponse{403, {{"Content-Type", "application/xml"}}, testing::S3Error("AccessDenied", "Access Denied")}});

  HuntOptions options;
  options.client = client_.get();
  options.window = TimeWindow{At("2024-01-05T10:00:00Z"), At("2024-01-05T11:00:00Z")};
  options.now_epoch = At("2024-01-20T00:00:00Z");
  options.concurrency = 3;
  auto r = Hunt(Sources({"s3://" + b + "/AWSLogs/o-exampleorgid"}), matcher_, options);
  ASSERT_TRUE(r) << r.error().ToString();
  std::vector<std::string> got;
  for (const auto& a : r->alerts) got.push_back(a.rule_id + " " + a.source);
  EXPECT_THAT(got, ElementsAre("test.stop_logging s3://org-trail/" + name + "20240105T1005Z_a.json.gz:16",
                               "test.console_login s3://org-trail/" + name + "20240105T1015Z_b.json.gz:16"));
  EXPECT_EQ(r->stats.files, 2u);
  EXPECT_EQ(r->stats.failed_objects, 1u);
  EXPECT_EQ(r->status, "partial");
  ASSERT_EQ(r->notices.size(), 1u);
  EXPECT_EQ(r->notices[0].where, "s3://org-trail/" + name + "20240105T1010Z_denied.json.gz");
  EXPECT_THAT(r->notices[0].what, HasSubstr("download failed: Access Denied"));
  EXPECT_THAT(r->notices[0].what, HasSubstr("AccessDenied"));
  EXPECT_EQ(fake_.RequestCount("s3", "GetObject"), 3);
}

TEST_F(HuntAwsTest, LookupEventsRecordsRaiseAlerts) {
  Json page = {{"Events", Json::array()}};
  page["Events"].push_back({{"EventId", "l-1"}, {"CloudTrailEvent", Record({.time = "2024-01-05T10:01:00Z", .name = "StopLogging", .id = "l-1"})}});
  page["Events"].push_back({{"EventId", "l-2"}, {"CloudTrailEvent", "not json"}});
  fake_.AddResponses("cloudtrail", "LookupEvents", {FakeResponse{200, {{"Content-Type", "application/x-amz-json-1.1"}}, page.dump()}});
  testing::FakeClock clock;
  HuntOptions options;
  options.client = client_.get();
  options.clock = &clock;
  options.lookup_regions = {"us-east-1", "eu-west-1"};
  auto r = Hunt(Sources({"lookup-events"}), matcher_, options);
  ASSERT_TRUE(r) << r.error().ToString();
  std::vector<std::string> got;
  for (const auto& a : r->alerts) got.push_back(a.source);
  // Both regions returned the same event: one alert, from the first source in order.
  EXPECT_THAT(got, ElementsAre("lookup-events:eu-west-1"));
  EXPECT_EQ(r->alerts[0].alert_id, AlertId("test.stop_logging", "l-1", ""));
  EXPECT_EQ(r->stats.records, 4u);
  EXPECT_EQ(r->stats.malformed_records, 2u);
  EXPECT_EQ(r->stats.lookup_pages, 2u);
  EXPECT_EQ(fake_.RequestCount("cloudtrail", "LookupEvents"), 2);
}

}  // namespace
}  // namespace cloudaudit::threats
