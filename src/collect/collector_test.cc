// End to end: collect a small recorded account from the fake AWS endpoint
// over HTTP, then check resources, gaps, "not configured" facts and views.
#include "collect/collector.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "aws/http/curl_transport.h"
#include "testing/fake_aws.h"
#include "testing/test_paths.h"

namespace cloudaudit::collect {
namespace {

namespace fs = std::filesystem;
using testing::FakeAws;
using testing::FakeResponse;

class StaticCredentials : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> GetCredentials() override { return FakeAws::TestCredentials(); }
};

FakeResponse Recorded(const std::string& rel) {
  std::string raw = testing::ReadFileOrDie(testing::SourceDir() + "/tests/conformance/" + rel);
  auto parsed = testing::ParseRawHttpResponse(raw);
  EXPECT_TRUE(parsed) << rel;
  return parsed ? *parsed : FakeResponse{};
}

FakeResponse Xml(int status, std::string body) { return FakeResponse{status, {{"Content-Type", "text/xml"}}, std::move(body)}; }

const char* kRegions = R"(<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r1</requestId>
  <regionInfo>
    <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
    <item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
    <item><regionName>af-south-1</regionName><regionEndpoint>ec2.af-south-1.amazonaws.com</regionEndpoint><optInStatus>not-opted-in</optInStatus></item>
  </regionInfo>
</DescribeRegionsResponse>)";

std::string IamError(const std::string& code, const std::string& message) {
  return "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>" + code +
         "</Code><Message>" + message + "</Message></Error><RequestId>e1</RequestId></ErrorResponse>";
}

class CollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    fake_.AddResponses("sts", "GetCallerIdentity", {Recorded("query/sts-get-caller-identity/responses/1.http")});
    fake_.AddResponses("ec2", "DescribeRegions", {Xml(200, kRegions)});
    fake_.AddResponses("iam", "GetAccountAuthorizationDetails",
                       {Recorded("query/iam-get-account-authorization-details/responses/1.http")});
    fake_.AddResponses("iam", "ListAccessKeys", {Xml(403, IamError("AccessDenied", "not allowed by an SCP"))});
    fake_.AddResponses("iam", "ListMFADevices", {Recorded("query/iam-list-mfa-devices/responses/1.http")});
    fake_.AddResponses("iam", "GetAccountPasswordPolicy", {Xml(404, IamError("NoSuchEntity", "The Password Policy with domain name 123456789012 cannot be found."))});
    fake_.AddResponses("iam", "GetAccountSummary", {Recorded("query/iam-get-account-summary/responses/1.http")});
    fake_.AddResponses("iam", "GenerateCredentialReport",
                       {Xml(200, "<GenerateCredentialReportResponse><GenerateCredentialReportResult><State>COMPLETE</State></GenerateCredentialReportResult></GenerateCredentialReportResponse>")});
    fake_.AddResponses("iam", "GetCredentialReport", {Recorded("query/iam-get-credential-report/responses/1.http")});
    fake_.AddResponses("iam", "ListVirtualMFADevices",
                       {Xml(200, "<ListVirtualMFADevicesResponse><ListVirtualMFADevicesResult><VirtualMFADevices/><IsTruncated>false</IsTruncated></ListVirtualMFADevicesResult></ListVirtualMFADevicesResponse>")});
    fake_.AddResponses("ec2", "DescribeInstances", {Recorded("ec2/describe-instances/responses/1.http")});
    fake_.AddResponses("ec2", "DescribeSecurityGroups", {Recorded("ec2/describe-security-groups/responses/1.http")});
    fake_.AddResponses("ec2", "DescribeVolumes",
                       {Xml(403, "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>v1</RequestID></Response>")});
    fake_.AddResponses("ec2", "GetEbsEncryptionByDefault", {Recorded("ec2/get-ebs-encryption-by-default/responses/1.http")});
    fake_.AddRoute("s3", "ListBuckets", "GET", "/");
    fake_.AddRoute("s3", "GetBucketLocation", "GET", "/[^/]+", {"location"});
    fake_.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
    fake_.AddRoute("s3", "GetBucketEncryption", "GET", "/[^/]+", {"encryption"});
    fake_.AddResponses("s3", "ListBuckets", {Recorded("rest-xml/s3-list-buckets/responses/1.http")});
    fake_.AddResponses("s3", "GetBucketLocation",
                       {Xml(200, "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>")});
    fake_.AddResponses("s3", "GetBucketPolicy", {Recorded("rest-xml/s3-get-bucket-policy/responses/1.http")});
    fake_.AddResponses("s3", "GetBucketEncryption", {Recorded("rest-xml/s3-error-encryption-not-found/responses/1.http")});

    aws::ClientConfig config;
    config.region = "us-east-1";
    config.endpoints.endpoint_url = fake_.endpoint();
    config.http.read_timeout_ms = 5000;
    client_ = std::make_unique<aws::AwsClient>(config, std::make_shared<aws::CurlTransport>(),
                                               std::make_shared<StaticCredentials>());
    db_ = (fs::temp_directory_path() / ("cloudaudit-collect-" + std::to_string(::getpid()) + ".db")).string();
    fs::remove(db_);
  }
  void TearDown() override {
    fs::remove(db_);
    fs::remove(db_ + "-wal");
    fs::remove(db_ + "-shm");
  }

  int64_t Count(store::Store& store, const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(store.Query(sql, [&](const auto&, const std::vector<Json>& v) { n = v[0].get<int64_t>(); }));
    return n;
  }

  // Collects with `options` into db_ through the fake and creates the scan's
  // views; `store` stays open for queries.
  Result<CollectSummary> CollectInto(const CollectOptions& options, std::unique_ptr<store::Store>& store) {
    CA_TRY(auto specs, LoadSpecs());
    CA_TRY(store, store::Store::Open(db_));
    CA_TRY(auto summary, Collect(*client_, *store, specs, options));
    CA_TRY_STATUS(store->CreateScanViews(summary.scan_id, ViewsForSpecs(specs)));
    return summary;
  }

  FakeAws fake_;
  std::unique_ptr<aws::AwsClient> client_;
  std::string db_;
};

TEST_F(CollectorTest, CollectsEveryTypeRecordsGapsAndFacts) {
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs) << specs.error().message;
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  CollectOptions options;
  options.concurrency = 4;
  options.tool_version = "test";
  options.services = {"iam", "s3", "ec2"};
  auto summary = Collect(*client_, **store, *specs, options);
  ASSERT_TRUE(summary) << summary.error().ToString();

  EXPECT_EQ(summary->account_id, "123456789012");
  EXPECT_EQ(summary->regions, (std::vector<std::string>{"eu-west-1", "us-east-1"}));  // af-south-1 not enabled
  EXPECT_EQ(summary->status, "partial");
  auto& counts = summary->resources_per_type;
  EXPECT_EQ(counts["aws_iam_user"], 1);
  EXPECT_EQ(counts["aws_iam_role"], 2);
  EXPECT_EQ(counts["aws_iam_group"], 1);
  EXPECT_EQ(counts["aws_iam_policy"], 1);
  EXPECT_EQ(counts["aws_iam_credential_report"], 2);
  EXPECT_EQ(counts["aws_iam_account_summary"], 1);
  EXPECT_EQ(counts.count("aws_iam_password_policy"), 0u);  // NoSuchEntity: no policy, not a gap
  EXPECT_EQ(counts["aws_ec2_instance"], 4);                // 2 instances x 2 regions
  EXPECT_EQ(counts["aws_ec2_ebs_encryption_default"], 2);
  EXPECT_EQ(counts["aws_s3_bucket"], 3);
  EXPECT_EQ(counts.count("aws_ec2_volume"), 0u);
  // One GetAccountAuthorizationDetails serves four tables.
  EXPECT_EQ(fake_.RequestCount("iam", "GetAccountAuthorizationDetails"), 1);

  // Gaps: the denied per-user call (naming the user's ARN and the member it
  // would have filled) and the denied listing in each region.
  EXPECT_EQ(summary->gaps_by_code["AccessDenied"], 1);
  EXPECT_EQ(summary->gaps_by_code["UnauthorizedOperation"], 2);
  ASSERT_TRUE((*store)->CreateScanViews(summary->scan_id, ViewsForSpecs(*specs)));
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE operation='ListAccessKeys' AND "
                           "resource='arn:aws:iam::123456789012:user/Alice' AND members='[\"AccessKeys\"]'"), 1);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE operation='DescribeVolumes' AND resource='' AND members IS NULL"), 2);

  // Not configured is a fact (null), a gap leaves the member absent.
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM aws_s3_bucket WHERE json_type(data, '$.Encryption') = 'null'"), 3);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM aws_s3_bucket WHERE json_type(data, '$.Acl') IS NULL"), 3);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM aws_s3_bucket WHERE policy LIKE '%Statement%' AND bucket_region = 'eu-west-1'"), 3);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM aws_iam_user WHERE json_array_length(mfa_devices) >= 1 AND access_keys IS NULL"), 1);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM aws_ec2_instance WHERE region = 'eu-west-1' AND arn LIKE 'arn:aws:ec2:eu-west-1:123456789012:instance/i-%'"), 2);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM aws_iam_credential_report WHERE user = '<root_account>' AND mfa_active = 1"), 1);
  EXPECT_GT(Count(**store, "SELECT sum(calls) FROM api_calls"), 20);
}

std::string SlaXml(const std::string& op, const std::string& result) {
  return "<" + op + "Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><" + op + "Result>" + result + "</" + op +
         "Result><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></" + op + "Response>";
}
FakeResponse JobStarted(const std::string& job) {
  return Xml(200, SlaXml("GenerateServiceLastAccessedDetails", "<JobId>" + job + "</JobId>"));
}
FakeResponse JobState(const std::string& status, const std::string& rest = "") {
  return Xml(200, SlaXml("GetServiceLastAccessedDetails", "<JobStatus>" + status + "</JobStatus><JobType>SERVICE_LEVEL</JobType>"
                         "<JobCreationDate>2023-01-31T12:00:00Z</JobCreationDate>" + rest));
}
std::string Service(const std::string& ns, const std::string& last) {
  return "<member><ServiceName>" + ns + "</ServiceName><ServiceNamespace>" + ns + "</ServiceNamespace>" +
         (last.empty() ? "<TotalAuthenticatedEntities>0</TotalAuthenticatedEntities>"
                       : "<LastAuthenticated>" + last + "</LastAuthenticated><TotalAuthenticatedEntities>1</TotalAuthenticatedEntities>") +
         "</member>";
}

// The service_last_accessed builtin: one report job per user and role,
// polled while IN_PROGRESS and read page by page; a denied start and a
// FAILED job are gaps naming the principal and the member, never an empty list.
TEST_F(CollectorTest, ServiceLastAccessedJobsArePolledPagedOrRecordedAsGaps) {
  const std::string alice = "arn:aws:iam::123456789012:user/Alice";
  const std::string ec2_role = "arn:aws:iam::123456789012:role/EC2-ReadOnly";
  const std::string unused_role = "arn:aws:iam::123456789012:role/service-role/never-used";
  fake_.AddResponses("iam", "GenerateServiceLastAccessedDetails", testing::HasParamValues({alice}), {JobStarted("0f8fad5b-d9cb-469f-a165-70867728a11c")});
  fake_.AddResponses("iam", "GenerateServiceLastAccessedDetails", testing::HasParamValues({ec2_role}),
                     {Xml(403, IamError("AccessDenied", "not allowed to generate reports"))});
  fake_.AddResponses("iam", "GenerateServiceLastAccessedDetails", testing::HasParamValues({unused_role}), {JobStarted("0f8fad5b-d9cb-469f-a165-70867728d0e5")});
  // More specific first: scripts with a predicate are tried in order.
  fake_.AddResponses("iam", "GetServiceLastAccessedDetails", testing::HasParamValues({"0f8fad5b-d9cb-469f-a165-70867728a11c", "page-2"}),
                     {JobState("COMPLETED", "<JobCompletionDate>2023-01-31T12:00:09Z</JobCompletionDate><IsTruncated>false</IsTruncated>"
                                            "<ServicesLastAccessed>" + Service("ec2", "") + "</ServicesLastAccessed>")});
  fake_.AddResponses("iam", "GetServiceLastAccessedDetails", testing::HasParamValues({"0f8fad5b-d9cb-469f-a165-70867728a11c"}),
                     {JobState("IN_PROGRESS", "<ServicesLastAccessed/>"),
                      JobState("COMPLETED", "<JobCompletionDate>2023-01-31T12:00:09Z</JobCompletionDate><IsTruncated>true</IsTruncated>"
                                            "<Marker>page-2</Marker><ServicesLastAccessed>" + Service("s3", "2023-01-30T10:00:00Z") +
                                            "</ServicesLastAccessed>")});
  fake_.AddResponses("iam", "GetServiceLastAccessedDetails", testing::HasParamValues({"0f8fad5b-d9cb-469f-a165-70867728d0e5"}),
                     {JobState("FAILED", "<JobCompletionDate>2023-01-31T12:00:02Z</JobCompletionDate><ServicesLastAccessed/>"
                                         "<Error><Message>report could not be built</Message><Code>ReportFailed</Code></Error>")});
  std::unique_ptr<store::Store> store;
  CollectOptions options;
  options.services = {"iam"};
  options.report_poll_ms = 5;
  auto summary = CollectInto(options, store);
  ASSERT_TRUE(summary) << summary.error().ToString();

  // Alice: both pages, in order; the unused service has no LastAuthenticated.
  EXPECT_EQ(Count(*store, "SELECT json_array_length(services_last_accessed) FROM aws_iam_user WHERE user_name = 'Alice'"), 2);
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM aws_iam_user WHERE json_extract(services_last_accessed, '$[0].ServiceNamespace') = 's3' "
                           "AND json_extract(services_last_accessed, '$[0].LastAuthenticated') = '2023-01-30T10:00:00+00:00' "
                           "AND json_type(services_last_accessed, '$[1].LastAuthenticated') IS NULL"), 1);
  EXPECT_EQ(fake_.RequestCount("iam", "GetServiceLastAccessedDetails"), 3 + 1);  // Alice: poll, page 1, page 2; the FAILED job
  EXPECT_EQ(Count(*store, "SELECT calls FROM api_calls WHERE operation = 'GetServiceLastAccessedDetails'"), 4);
  // The roles: gaps tied to their member; the member stays absent.
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM aws_iam_role WHERE json_type(data, '$.ServicesLastAccessed') IS NULL"), 2);
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM gaps WHERE type = 'aws_iam_role' AND operation = 'GenerateServiceLastAccessedDetails' "
                           "AND resource = '" + ec2_role + "' AND error_code = 'AccessDenied' AND members = '[\"ServicesLastAccessed\"]'"), 1);
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM gaps WHERE type = 'aws_iam_role' AND operation = 'GetServiceLastAccessedDetails' "
                           "AND resource = '" + unused_role + "' AND error_code = 'ReportFailed' "
                           "AND message LIKE 'report job 0f8fad5b-d9cb-469f-a165-70867728d0e5 failed: report could not be built' "
                           "AND members = '[\"ServicesLastAccessed\"]'"), 1);
}

// A job that never completes is given up after report_job_timeout_ms: a gap.
TEST_F(CollectorTest, ServiceLastAccessedJobThatNeverCompletesIsAGap) {
  fake_.AddResponses("iam", "GenerateServiceLastAccessedDetails", {JobStarted("0f8fad5b-d9cb-469f-a165-70867728510b")});
  fake_.AddResponses("iam", "GetServiceLastAccessedDetails", {JobState("IN_PROGRESS", "<ServicesLastAccessed/>")});
  std::unique_ptr<store::Store> store;
  CollectOptions options;
  options.services = {"iam"};
  options.report_poll_ms = 10;
  options.report_job_timeout_ms = 150;
  auto summary = CollectInto(options, store);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->gaps_by_code["timeout"], 3);  // Alice and both roles
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM gaps WHERE operation = 'GetServiceLastAccessedDetails' AND error_code = 'timeout' "
                           "AND message LIKE 'report job 0f8fad5b-d9cb-469f-a165-70867728510b was still IN_PROGRESS after 0.15 s' AND members = '[\"ServicesLastAccessed\"]'"),
            3);
  // Polls back off: 10, 20, 40, 80 ms fit in 150 ms; not dozens of calls.
  EXPECT_LE(fake_.RequestCount("iam", "GetServiceLastAccessedDetails"), 3 * 5);
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM resources WHERE json_type(data, '$.ServicesLastAccessed') IS NOT NULL"), 0);
}

FakeResponse Json200(const std::string& body) { return FakeResponse{200, {{"Content-Type", "application/x-amz-json-1.1"}}, body}; }


// ListEventBuses pages with NextToken but botocore has no paginator for it
// (nor for s3control ListAccessPoints...): the collector follows the token
// itself, so the second page is not lost.
TEST_F(CollectorTest, ListingWithATokenButNoPaginatorIsFollowed) {
  fake_.AddResponses("events", "ListEventBuses", testing::HasParamValues({"page-2"}),
                     {Json200(R"({"EventBuses":[{"Name":"orders","Arn":"arn:aws:events:eu-west-1:123456789012:event-bus/orders"}]})")});
  fake_.AddResponses("events", "ListEventBuses",
                     {Json200(R"({"EventBuses":[{"Name":"default","Arn":"arn:aws:events:eu-west-1:123456789012:event-bus/default"}],"NextToken":"page-2"})")});
  fake_.AddResponses("events", "ListRules", {Json200(R"({"Rules":[]})")});
  std::unique_ptr<store::Store> store;
  CollectOptions options;
  options.regions = {"eu-west-1"};
  options.services = {"events"};
  auto summary = CollectInto(options, store);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->resources_per_type["aws_events_event_bus"], 2);
  EXPECT_EQ(fake_.RequestCount("events", "ListEventBuses"), 2);
  EXPECT_EQ(Count(*store, "SELECT calls FROM api_calls WHERE operation = 'ListEventBuses'"), 2);
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM gaps"), 0);
}

// A service that hands back the same token forever is a gap, not a hang.
TEST_F(CollectorTest, ARepeatedPageTokenIsAGap) {
  fake_.AddResponses("events", "ListEventBuses",
                     {Json200(R"({"EventBuses":[{"Name":"default","Arn":"arn:aws:events:eu-west-1:123456789012:event-bus/default"}],"NextToken":"again"})")});
  fake_.AddResponses("events", "ListRules", {Json200(R"({"Rules":[]})")});
  std::unique_ptr<store::Store> store;
  CollectOptions options;
  options.regions = {"eu-west-1"};
  options.services = {"events"};
  auto summary = CollectInto(options, store);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(fake_.RequestCount("events", "ListEventBuses"), 2);
  EXPECT_EQ(Count(*store, "SELECT count(*) FROM gaps WHERE type = 'aws_events_event_bus' AND operation = 'ListEventBuses' "
                           "AND message LIKE '%same NextToken twice%'"), 1);
}

TEST_F(CollectorTest, ExplicitRegionsAndServiceSelection) {
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs);
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  CollectOptions options;
  options.regions = {"eu-west-1"};
  options.services = {"ec2"};
  auto summary = Collect(*client_, **store, *specs, options);
  ASSERT_TRUE(summary);
  EXPECT_EQ(fake_.RequestCount("ec2", "DescribeRegions"), 0);
  EXPECT_EQ(fake_.RequestCount("iam", "GetAccountAuthorizationDetails"), 0);
  EXPECT_EQ(summary->resources_per_type["aws_ec2_instance"], 2);
}

}  // namespace
}  // namespace cloudaudit::collect

namespace cloudaudit::collect {
namespace {

// The recorded demo account (demo/aws, also served by scripts/demo.sh)
// must yield at least one row of every table the specs declare, and every
// call the specs make must have a recorded answer.
TEST(DemoAccount, CollectsEveryResourceType) {
  testing::FakeAws fake;
  ASSERT_TRUE(fake.Start());
  auto loaded = testing::LoadResponseDirectory(fake, testing::SourceDir() + "/demo/aws");
  ASSERT_TRUE(loaded) << loaded.error().ToString();
  aws::ClientConfig config;
  config.region = "us-east-1";
  config.endpoints.endpoint_url = fake.endpoint();
  aws::AwsClient client(config, std::make_shared<aws::CurlTransport>(), std::make_shared<StaticCredentials>());
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs) << specs.error().message;
  std::string db = (std::filesystem::temp_directory_path() / ("cloudaudit-demo-" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(db);
  {
    auto store = store::Store::Open(db);
    ASSERT_TRUE(store);
    CollectOptions options;
    options.regions = {"us-east-1"};
    auto summary = Collect(client, **store, *specs, options);
    ASSERT_TRUE(summary) << summary.error().ToString();
    for (const auto& r : specs->resources)
      EXPECT_GT(summary->resources_per_type[r.table], 0) << r.table << " has no row in the demo account";
    std::string unanswered;
    EXPECT_TRUE((*store)->Query("SELECT service || ' ' || operation FROM gaps WHERE error_code = 'FakeAwsNoResponse'",
                                [&](const auto&, const std::vector<Json>& v) { unanswered += v[0].get<std::string>() + "; "; }));
    EXPECT_EQ(unanswered, "") << "calls without a recorded demo answer";
  }
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
}

// The demo's per-item answers are keyed by request parameter (bucket, user,
// ARN...), so parallel enrichment gives the same inventory whatever the
// order calls complete in: every document, gap and call count alike.
TEST(DemoAccount, SameInventoryWhateverTheConcurrency) {
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs) << specs.error().message;
  auto collect = [&](int concurrency) {
    std::vector<std::string> out;
    testing::FakeAws fake;
    EXPECT_TRUE(fake.Start());
    auto loaded = testing::LoadResponseDirectory(fake, testing::SourceDir() + "/demo/aws");
    EXPECT_TRUE(loaded) << loaded.error().ToString();
    aws::ClientConfig config;
    config.region = "us-east-1";
    config.endpoints.endpoint_url = fake.endpoint();
    aws::AwsClient client(config, std::make_shared<aws::CurlTransport>(), std::make_shared<StaticCredentials>());
    std::string db = (std::filesystem::temp_directory_path() /
                      ("cloudaudit-demo-c" + std::to_string(concurrency) + "-" + std::to_string(::getpid()) + ".db"))
                         .string();
    std::filesystem::remove(db);
    {
      auto store = store::Store::Open(db);
      EXPECT_TRUE(store);
      if (!store) return out;
      CollectOptions options;
      options.regions = {"eu-west-1", "us-east-1"};
      options.concurrency = concurrency;
      auto summary = Collect(client, **store, *specs, options);
      EXPECT_TRUE(summary) << summary.error().ToString();
      auto add = [&](const auto&, const std::vector<Json>& v) {
        std::string line;
        for (const auto& x : v) line += (x.is_string() ? x.get<std::string>() : x.dump()) + " | ";
        out.push_back(line);
      };
      EXPECT_TRUE((*store)->Query("SELECT type, region, id, arn, name, tags, data FROM resources ORDER BY type, region, id", add));
      EXPECT_TRUE((*store)->Query("SELECT type, service, operation, region, resource, error_code FROM gaps "
                                  "ORDER BY type, service, operation, region, resource, error_code", add));
      EXPECT_TRUE((*store)->Query("SELECT service, operation, region, calls, errors FROM api_calls "
                                  "ORDER BY service, operation, region", add));
    }
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
    return out;
  };
  std::vector<std::string> one = collect(1);
  std::vector<std::string> many = collect(32);
  ASSERT_GT(one.size(), 100u);
  ASSERT_EQ(one.size(), many.size());
  for (size_t i = 0; i < one.size(); ++i) EXPECT_EQ(one[i], many[i]);
}

}  // namespace
}  // namespace cloudaudit::collect
