// Fault injection end to end: a small account (IAM, EC2 in two regions, S3)
// served by FakeAws, collected while the fake denies a whole service,
// throttles, refuses a region, corrupts a page, or while the store cannot be
// written. Retries sleep on a fake clock, so nothing waits for real.
#include "collect/collector.h"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>

#include <gtest/gtest.h>

#include "aws/client/retry.h"
#include "aws/http/curl_transport.h"
#include "testing/fake_aws.h"
#include "testing/test_paths.h"

namespace cloudaudit::collect {
namespace {

namespace fs = std::filesystem;
using testing::Fault;
using testing::FaultKind;
using testing::FakeAws;
using testing::FakeResponse;
using testing::ParamAbsent;
using testing::ParamEquals;
using testing::ReceivedRequest;
using testing::RequestPredicate;

class StaticCredentials : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> GetCredentials() override { return FakeAws::TestCredentials(); }
};

// Backoff and rate limiting without real sleeps.
class FakeClock final : public aws::RetryClock {
 public:
  double NowSeconds() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepSeconds(double seconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (seconds > 0) now_ += seconds;
  }

 private:
  std::mutex mu_;
  double now_ = 1000;
};

FakeResponse Recorded(const std::string& rel) {
  std::string raw = testing::ReadFileOrDie(testing::SourceDir() + "/tests/conformance/" + rel);
  auto parsed = testing::ParseRawHttpResponse(raw);
  EXPECT_TRUE(parsed) << rel;
  return parsed ? *parsed : FakeResponse{};
}

FakeResponse Xml(int status, std::string body) {
  return FakeResponse{status, {{"Content-Type", "text/xml"}}, std::move(body)};
}

std::string IamError(const std::string& code) {
  return "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type><Code>" + code +
         "</Code><Message>denied by test</Message></Error><RequestId>e1</RequestId></ErrorResponse>";
}
std::string Ec2Error(const std::string& code) {
  return "<Response><Errors><Error><Code>" + code +
         "</Code><Message>refused by test</Message></Error></Errors><RequestID>v1</RequestID></Response>";
}

const char* kRegions = R"(<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r1</requestId>
  <regionInfo>
    <item><regionName>us-east-1</regionName><regionEndpoint>ec2.us-east-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
    <item><regionName>eu-west-1</regionName><regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
    <item><regionName>af-south-1</regionName><regionEndpoint>ec2.af-south-1.amazonaws.com</regionEndpoint><optInStatus>not-opted-in</optInStatus></item>
  </regionInfo>
</DescribeRegionsResponse>)";

std::string MfaPage(const std::vector<std::string>& names, const std::string& marker) {
  std::string body =
      "<ListVirtualMFADevicesResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListVirtualMFADevicesResult>"
      "<VirtualMFADevices>";
  for (const auto& n : names) body += "<member><SerialNumber>arn:aws:iam::123456789012:mfa/" + n + "</SerialNumber></member>";
  body += "</VirtualMFADevices><IsTruncated>" + std::string(marker.empty() ? "false" : "true") + "</IsTruncated>";
  if (!marker.empty()) body += "<Marker>" + marker + "</Marker>";
  return body + "</ListVirtualMFADevicesResult><ResponseMetadata><RequestId>m</RequestId></ResponseMetadata>"
                "</ListVirtualMFADevicesResponse>";
}

std::string VolumePage(const std::vector<std::string>& ids, const std::string& next) {
  std::string body = "<DescribeVolumesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>v</requestId><volumeSet>";
  for (const auto& id : ids) body += "<item><volumeId>" + id + "</volumeId><size>8</size><encrypted>true</encrypted></item>";
  body += "</volumeSet>";
  if (!next.empty()) body += "<nextToken>" + next + "</nextToken>";
  return body + "</DescribeVolumesResponse>";
}

const char* kBuckets = R"(<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Owner><ID>owner</ID><DisplayName>owner</DisplayName></Owner>
<Buckets>
<Bucket><Name>bucket-a</Name><CreationDate>2023-01-01T00:00:00.000Z</CreationDate></Bucket>
<Bucket><Name>bucket-b</Name><CreationDate>2023-01-02T00:00:00.000Z</CreationDate></Bucket>
<Bucket><Name>bucket-c</Name><CreationDate>2023-01-03T00:00:00.000Z</CreationDate></Bucket>
</Buckets></ListAllMyBucketsResult>)";

// Five tables: two global IAM ones (one paginated), two regional EC2 ones
// (one paginated) and S3 buckets with one enrichment each.
const char* kIamSpec = R"(service: iam
resources:
  - table: aws_iam_virtual_mfa_device
    description: d
    scope: global
    list: {operation: ListVirtualMFADevices, items: VirtualMFADevices}
    identity: {id: "{SerialNumber}", arn: "{SerialNumber}"}
    columns:
      - {name: serial_number, path: SerialNumber, description: d}
  - table: aws_iam_account_summary
    description: d
    scope: global
    list: {operation: GetAccountSummary, items: SummaryMap, singleton: true}
    identity: {id: "{account_id}", name: account-summary}
    columns:
      - {name: users, type: integer, path: Users, description: d}
)";
const char* kEc2Spec = R"(service: ec2
resources:
  - table: aws_ec2_volume
    description: d
    list: {operation: DescribeVolumes, items: Volumes}
    identity: {id: "{VolumeId}"}
    columns:
      - {name: size_gib, type: integer, path: Size, description: d}
  - table: aws_ec2_ebs_encryption_default
    description: d
    list: {operation: GetEbsEncryptionByDefault, singleton: true}
    identity: {id: "{account_id}:{region}"}
    columns:
      - {name: ebs_encryption_by_default, type: boolean, path: EbsEncryptionByDefault, description: d}
)";
const char* kS3Spec = R"(service: s3
resources:
  - table: aws_s3_bucket
    description: d
    scope: global
    list: {operation: ListBuckets, items: Buckets}
    identity: {id: "{Name}", arn: "arn:{partition}:s3:::{Name}", name: "{Name}"}
    enrich:
      - {operation: GetBucketPolicy, params: {Bucket: "{Name}"}, result: Policy, into: Policy}
    columns:
      - {name: policy, path: Policy, description: d}
)";

SpecSet SmallSpecs() {
  SpecSet set;
  for (const auto& [text, file] : {std::pair{kIamSpec, "iam.yaml"}, {kEc2Spec, "ec2.yaml"}, {kS3Spec, "s3.yaml"}}) {
    auto parsed = ParseSpecYaml(text, file);
    EXPECT_TRUE(parsed) << file << ": " << parsed.error().ToString();
    if (!parsed) continue;
    for (auto& r : *parsed) set.resources.push_back(std::move(r));
  }
  auto errors = ValidateSpecs(set.resources);
  for (const auto& e : errors) ADD_FAILURE() << e.ToString();
  return set;
}

RequestPredicate InRegion(std::string region) {
  return [region](const ReceivedRequest& r) { return r.region == region; };
}

class CollectorFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fake_.Start());
    fake_.AddRoute("s3", "ListBuckets", "GET", "/");
    fake_.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
    db_ = (fs::temp_directory_path() / ("cloudaudit-fault-" + std::to_string(::getpid()) + ".db")).string();
    RemoveDb();
  }
  void TearDown() override { RemoveDb(); }
  void RemoveDb() {
    fs::remove(db_);
    fs::remove(db_ + "-wal");
    fs::remove(db_ + "-shm");
  }

  // The normal answers. Tests register their failing scripts first: scripts
  // with a predicate are tried in registration order.
  void ScriptAccount() {
    fake_.AddResponses("sts", "GetCallerIdentity", {Recorded("query/sts-get-caller-identity/responses/1.http")});
    fake_.AddResponses("ec2", "DescribeRegions", {Xml(200, kRegions)});
    fake_.AddResponses("iam", "ListVirtualMFADevices", ParamEquals("Marker", "m2"), {Xml(200, MfaPage({"c"}, ""))});
    fake_.AddResponses("iam", "ListVirtualMFADevices", ParamAbsent("Marker"), {Xml(200, MfaPage({"a", "b"}, "m2"))});
    fake_.AddResponses("iam", "GetAccountSummary", {Recorded("query/iam-get-account-summary/responses/1.http")});
    fake_.AddResponses("ec2", "DescribeVolumes", ParamEquals("NextToken", "t2"), {Xml(200, VolumePage({"vol-3"}, ""))});
    fake_.AddResponses("ec2", "DescribeVolumes", ParamAbsent("NextToken"), {Xml(200, VolumePage({"vol-1", "vol-2"}, "t2"))});
    fake_.AddResponses("ec2", "GetEbsEncryptionByDefault", {Recorded("ec2/get-ebs-encryption-by-default/responses/1.http")});
    fake_.AddResponses("s3", "ListBuckets", {Xml(200, kBuckets)});
    fake_.AddResponses("s3", "GetBucketPolicy", {Recorded("rest-xml/s3-get-bucket-policy/responses/1.http")});
  }

  std::unique_ptr<aws::AwsClient> MakeClient(int max_attempts = 3) {
    aws::ClientConfig config;
    config.region = "us-east-1";
    config.endpoints.endpoint_url = fake_.endpoint();
    config.http.read_timeout_ms = 5000;
    config.max_attempts = max_attempts;
    config.clock = &clock_;
    return std::make_unique<aws::AwsClient>(config, std::make_shared<aws::CurlTransport>(),
                                            std::make_shared<StaticCredentials>());
  }

  Result<CollectSummary> Run(aws::AwsClient& client, store::Store& store, int concurrency = 4) {
    CollectOptions options;
    options.concurrency = concurrency;
    options.tool_version = "test";
    return Collect(client, store, specs_, options);
  }

  int64_t Count(store::Store& store, const std::string& sql) {
    int64_t n = -1;
    EXPECT_TRUE(store.Query(sql, [&](const auto&, const std::vector<Json>& v) { n = v[0].get<int64_t>(); })) << sql;
    return n;
  }
  int RequestsTo(const std::string& region) {
    int n = 0;
    for (const auto& r : fake_.Requests())
      if (r.region == region) ++n;
    return n;
  }

  // Everything collected: 3 MFA devices, 1 summary, 3 volumes and 1 EBS
  // default per region (us-east-1, eu-west-1), 3 buckets with a policy.
  void ExpectComplete(const CollectSummary& s, bool iam = true, bool ec2 = true, bool s3 = true) {
    auto counts = s.resources_per_type;
    if (iam) {
      EXPECT_EQ(counts["aws_iam_virtual_mfa_device"], 3);
      EXPECT_EQ(counts["aws_iam_account_summary"], 1);
    }
    if (ec2) {
      EXPECT_EQ(counts["aws_ec2_volume"], 6);
      EXPECT_EQ(counts["aws_ec2_ebs_encryption_default"], 2);
    }
    if (s3) {
      EXPECT_EQ(counts["aws_s3_bucket"], 3);
    }
  }

  FakeAws fake_;
  FakeClock clock_;
  SpecSet specs_ = SmallSpecs();
  std::string db_;
};

// 15 HTTP requests when nothing fails: sts 1, DescribeRegions 1, MFA 2
// pages, summary 1, volumes 2 pages x 2 regions, EBS default 2, ListBuckets
// 1, GetBucketPolicy 3.
constexpr int kCleanRequests = 15;

TEST_F(CollectorFaultTest, BaselineIsComplete) {
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  auto s = Run(*client, **store);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "complete");
  EXPECT_EQ(s->gaps, 0);
  ExpectComplete(*s);
  EXPECT_EQ(fake_.RequestCount(), kCleanRequests);
  EXPECT_EQ(s->api_calls, static_cast<uint64_t>(kCleanRequests));
  EXPECT_EQ(s->logical_calls, static_cast<uint64_t>(kCleanRequests));
  EXPECT_EQ(Count(**store, "SELECT sum(calls) FROM api_calls"), kCleanRequests);  // one per request, pages included
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources"), 3 + 1 + 6 + 2 + 3);
}

// (a) An SCP denies all of IAM: one gap per IAM table, the rest complete.
TEST_F(CollectorFaultTest, AccessDeniedOnAWholeServiceGivesGapsForItsTablesOnly) {
  fake_.AddResponses("iam", "ListVirtualMFADevices", [](const ReceivedRequest&) { return true; },
                     {Xml(403, IamError("AccessDenied"))});
  fake_.AddResponses("iam", "GetAccountSummary", [](const ReceivedRequest&) { return true; },
                     {Xml(403, IamError("AccessDenied"))});
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  auto s = Run(*client, **store);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "partial");
  EXPECT_EQ(s->gaps, 2);
  EXPECT_EQ(s->gaps_by_code, (std::map<std::string, int64_t>{{"AccessDenied", 2}}));
  EXPECT_EQ(s->resources_per_type.count("aws_iam_virtual_mfa_device"), 0u);
  EXPECT_EQ(s->resources_per_type.count("aws_iam_account_summary"), 0u);
  ExpectComplete(*s, /*iam=*/false);
  // Not retried: one request per denied listing.
  EXPECT_EQ(fake_.RequestCount("iam", "ListVirtualMFADevices"), 1);
  EXPECT_EQ(fake_.RequestCount("iam", "GetAccountSummary"), 1);
  EXPECT_EQ(fake_.RequestCount(), kCleanRequests - 1);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE service='iam' AND error_code='AccessDenied' AND resource='' "
                           "AND type IN ('aws_iam_virtual_mfa_device','aws_iam_account_summary')"), 2);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE type LIKE 'aws_iam_%'"), 0);
}

// (b) A throttling storm the retries absorb: the first 30 requests of the
// scan are throttled twice in every three (the third passes), so each of the
// first 10 calls needs its 3 attempts; nothing is lost.
TEST_F(CollectorFaultTest, ThrottlingStormIsAbsorbedByRetries) {
  for (int i = 0; i < 10; ++i) {
    fake_.InjectGlobalFault({.kind = FaultKind::kThrottle, .times = 2});
    fake_.InjectGlobalFault({.kind = FaultKind::kDelay, .times = 1, .delay_ms = 0});  // answers normally
  }
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  auto s = Run(*client, **store, /*concurrency=*/1);  // one request at a time: which call meets the storm is fixed
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "complete");
  EXPECT_EQ(s->gaps, 0);
  ExpectComplete(*s);
  auto stats = client->stats();
  EXPECT_EQ(stats.calls, static_cast<uint64_t>(kCleanRequests));
  EXPECT_EQ(stats.retries, 20u);
  EXPECT_EQ(stats.throttled, 20u);
  EXPECT_EQ(stats.attempts, static_cast<uint64_t>(kCleanRequests + 20));
  EXPECT_EQ(s->api_calls, static_cast<uint64_t>(kCleanRequests + 20));
  EXPECT_EQ(fake_.RequestCount(), kCleanRequests + 20);
  int throttled = 0;
  for (const auto& r : fake_.Requests()) throttled += r.fault == "throttle";
  EXPECT_EQ(throttled, 20);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources"), 15);
}

// (b) Throttling that never stops on one operation: a Throttling gap after
// max_attempts, everything else complete.
TEST_F(CollectorFaultTest, EndlessThrottlingOnOneOperationIsAGap) {
  fake_.InjectFault("iam", "GetAccountSummary", {.kind = FaultKind::kThrottle, .times = Fault::kAlways});
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  auto s = Run(*client, **store);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "partial");
  EXPECT_EQ(s->gaps_by_code, (std::map<std::string, int64_t>{{"Throttling", 1}}));
  EXPECT_EQ(s->resources_per_type.count("aws_iam_account_summary"), 0u);
  EXPECT_EQ(s->resources_per_type["aws_iam_virtual_mfa_device"], 3);
  ExpectComplete(*s, /*iam=*/false);
  EXPECT_EQ(fake_.RequestCount("iam", "GetAccountSummary"), 3);  // max_attempts
  auto stats = client->stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.throttled, 3u);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE operation='GetAccountSummary' AND error_code='Throttling' "
                           "AND type='aws_iam_account_summary'"), 1);
}

// (c) A region not opted in is skipped without a call; a region that refuses
// every call (OptInRequired, AuthFailure) gives gaps for that region only.
TEST_F(CollectorFaultTest, OptInRegionsSkippedOrRecordedAsGaps) {
  fake_.AddResponses("ec2", "DescribeVolumes", InRegion("eu-west-1"), {Xml(401, Ec2Error("OptInRequired"))});
  fake_.AddResponses("ec2", "GetEbsEncryptionByDefault", InRegion("eu-west-1"), {Xml(401, Ec2Error("AuthFailure"))});
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  auto s = Run(*client, **store);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->regions, (std::vector<std::string>{"eu-west-1", "us-east-1"}));
  EXPECT_EQ(RequestsTo("af-south-1"), 0);
  EXPECT_EQ(RequestsTo("eu-west-1"), 2);  // one refused call per regional table
  EXPECT_EQ(s->status, "partial");
  EXPECT_EQ(s->gaps_by_code, (std::map<std::string, int64_t>{{"AuthFailure", 1}, {"OptInRequired", 1}}));
  EXPECT_EQ(s->resources_per_type["aws_ec2_volume"], 3);
  EXPECT_EQ(s->resources_per_type["aws_ec2_ebs_encryption_default"], 1);
  ExpectComplete(*s, /*iam=*/true, /*ec2=*/false, /*s3=*/true);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE region='eu-west-1'"), 2);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE region<>'eu-west-1'"), 0);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE region='eu-west-1'"), 0);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE region='us-east-1'"), 4);
  EXPECT_EQ(fake_.RequestCount(), kCleanRequests - 1);  // eu-west-1 volumes stop at the first page
}

// (d) The second page of a listing is corrupt: a gap for that listing, the
// first page's items kept, the other tables complete. EC2 gets XML cut in
// the middle, IAM the fake's kMalformedBody on its second request.
TEST_F(CollectorFaultTest, CorruptSecondPageKeepsTheFirstPage) {
  fake_.AddResponses("ec2", "DescribeVolumes", ParamEquals("NextToken", "t2"),
                     {Xml(200, "<DescribeVolumesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><volumeSet><item><volumeId>vol-")});
  fake_.InjectFault("iam", "ListVirtualMFADevices", {.kind = FaultKind::kDelay, .times = 1, .delay_ms = 0});
  fake_.InjectFault("iam", "ListVirtualMFADevices", {.kind = FaultKind::kMalformedBody, .times = 1});
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  auto s = Run(*client, **store);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "partial");
  EXPECT_EQ(s->gaps, 3);
  EXPECT_EQ(s->gaps_by_code, (std::map<std::string, int64_t>{{"parse", 3}}));
  EXPECT_EQ(s->resources_per_type["aws_ec2_volume"], 4);              // 2 per region, first page
  EXPECT_EQ(s->resources_per_type["aws_iam_virtual_mfa_device"], 2);  // first page
  EXPECT_EQ(s->resources_per_type["aws_iam_account_summary"], 1);
  EXPECT_EQ(s->resources_per_type["aws_ec2_ebs_encryption_default"], 2);
  EXPECT_EQ(s->resources_per_type["aws_s3_bucket"], 3);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE type='aws_ec2_volume' AND id IN ('vol-1','vol-2')"), 4);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE type='aws_iam_virtual_mfa_device'"), 2);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE operation='DescribeVolumes' AND resource=''"), 2);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM gaps WHERE operation='ListVirtualMFADevices' AND region='us-east-1'"), 1);
  EXPECT_EQ(fake_.RequestCount(), kCleanRequests);  // a parse error is final: not retried
}

// (e) The store refuses writes from the start: Collect fails cleanly.
TEST_F(CollectorFaultTest, UnwritableStoreFailsBeforeCollecting) {
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  // Running as root, file permissions would not stop SQLite: make the
  // store's own connection read-only instead.
  ASSERT_EQ(sqlite3_exec((*store)->handle(), "PRAGMA query_only=ON", nullptr, nullptr, nullptr), SQLITE_OK);
  auto s = Run(*client, **store);
  ASSERT_FALSE(s);
  EXPECT_EQ(fake_.RequestCount(), 0);
}

// (e) The store stops accepting writes in the middle of the collection.
TEST_F(CollectorFaultTest, StoreFailingMidwayIsAnErrorNotACrash) {
  ScriptAccount();
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  std::atomic<bool> locked{false};
  CollectOptions options;
  options.concurrency = 1;
  options.on_progress = [&](size_t, size_t, const std::string&) {
    if (!locked.exchange(true)) {
      EXPECT_EQ(sqlite3_exec((*store)->handle(), "PRAGMA query_only=ON", nullptr, nullptr, nullptr), SQLITE_OK);
    }
  };
  auto s = Collect(*client, **store, specs_, options);
  ASSERT_FALSE(s);
  EXPECT_TRUE(locked);
  EXPECT_NE(s.error().message, "");
  // The scan stays "running" while this process lives; once it is gone,
  // the store reports it incomplete (store_test.cc).
  ASSERT_EQ(sqlite3_exec((*store)->handle(), "PRAGMA query_only=OFF", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM scans WHERE status='running'"), 1);
}

// --- Parallel enrichment -----------------------------------------------------

// Counts the requests in flight through the client.
class CountingTransport final : public aws::HttpTransport {
 public:
  Result<aws::HttpResponse> Send(const aws::HttpRequest& request, const aws::HttpOptions& options) override {
    int now = ++in_flight_;
    int seen = max_.load();
    while (now > seen && !max_.compare_exchange_weak(seen, now)) {
    }
    auto response = inner_.Send(request, options);
    --in_flight_;
    return response;
  }
  int max_in_flight() const { return max_.load(); }

 private:
  aws::CurlTransport inner_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> max_{0};
};

SpecSet ParseSpecs(const char* text) {
  SpecSet set;
  auto parsed = ParseSpecYaml(text, "test.yaml");
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  if (parsed) set.resources = std::move(*parsed);
  for (const auto& e : ValidateSpecs(set.resources)) ADD_FAILURE() << e.ToString();
  return set;
}

std::string ManyBuckets(int n) {
  std::string body = "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>o</ID></Owner><Buckets>";
  for (int i = 0; i < n; ++i)
    body += "<Bucket><Name>bucket-" + std::to_string(i) + "</Name><CreationDate>2023-01-01T00:00:00.000Z</CreationDate></Bucket>";
  return body + "</Buckets></ListAllMyBucketsResult>";
}

const char kTwoCallBucketSpec[] = R"(service: s3
resources:
  - table: aws_s3_bucket
    description: d
    scope: global
    list: {operation: ListBuckets, items: Buckets}
    identity: {id: "{Name}", name: "{Name}"}
    enrich:
      - {operation: GetBucketPolicy, params: {Bucket: "{Name}"}, result: Policy, into: Policy}
      - {operation: GetBucketVersioning, params: {Bucket: "{Name}"}, into: Versioning}
    columns:
      - {name: policy, path: Policy, description: d}
)";

// The calls of a page's items run in parallel, never more than
// `concurrency` at once, and each item gets its own answers whatever the
// order they complete in; the documents keep the spec's member order.
TEST_F(CollectorFaultTest, EnrichmentRunsInParallelWithinTheConcurrency) {
  constexpr int kBuckets = 24;
  fake_.AddRoute("s3", "GetBucketVersioning", "GET", "/[^/]+", {"versioning"});
  fake_.AddResponses("sts", "GetCallerIdentity", {Recorded("query/sts-get-caller-identity/responses/1.http")});
  fake_.AddResponses("s3", "ListBuckets", {Xml(200, ManyBuckets(kBuckets))});
  for (int i = 0; i < kBuckets; ++i) {
    const std::string name = "bucket-" + std::to_string(i);
    fake_.AddResponses("s3", "GetBucketPolicy", testing::HasParamValues({name}),
                       {FakeResponse{200, {{"Content-Type", "application/json"}}, R"({"Id":")" + name + R"("})"}});
  }
  fake_.AddResponses("s3", "GetBucketVersioning",
                     {Xml(200, "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>Enabled</Status></VersioningConfiguration>")});
  fake_.InjectGlobalFault({.kind = FaultKind::kDelay, .times = Fault::kAlways, .delay_ms = 100});
  auto transport = std::make_shared<CountingTransport>();
  aws::ClientConfig config;
  config.region = "us-east-1";
  config.endpoints.endpoint_url = fake_.endpoint();
  config.http.read_timeout_ms = 5000;
  config.clock = &clock_;
  aws::AwsClient client(config, transport, std::make_shared<StaticCredentials>());
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  CollectOptions options;
  options.concurrency = 6;
  options.regions = {"us-east-1"};
  auto started = std::chrono::steady_clock::now();
  auto s = Collect(client, **store, ParseSpecs(kTwoCallBucketSpec), options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "complete");
  EXPECT_EQ(s->resources_per_type["aws_s3_bucket"], kBuckets);
  EXPECT_LE(transport->max_in_flight(), 6);
  EXPECT_GE(transport->max_in_flight(), 3);  // 48 calls of 100 ms: they overlapped
  EXPECT_LT(seconds, 48 * 0.100) << "enrichment calls ran one after the other";
  for (int i = 0; i < kBuckets; ++i) {
    const std::string name = "bucket-" + std::to_string(i);
    EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE id = '" + name + "' AND json_extract(data, '$.Policy') = '{\"Id\":\"" + name + "\"}'"), 1) << name;
  }
  // Members in spec order: Name, CreationDate, then Policy, Versioning.
  std::string doc;
  ASSERT_TRUE((*store)->Query("SELECT data FROM resources WHERE id = 'bucket-0'",
                              [&](const auto&, const std::vector<Json>& v) { doc = v[0].get<std::string>(); }));
  EXPECT_LT(doc.find("\"Policy\""), doc.find("\"Versioning\"")) << doc;
  EXPECT_EQ(Count(**store, "SELECT calls FROM api_calls WHERE operation = 'GetBucketPolicy'"), kBuckets);
}

// Concurrency 1: one request at a time, items and their calls in order.
TEST_F(CollectorFaultTest, ConcurrencyOneCallsInItemOrder) {
  fake_.AddRoute("s3", "GetBucketVersioning", "GET", "/[^/]+", {"versioning"});
  fake_.AddResponses("sts", "GetCallerIdentity", {Recorded("query/sts-get-caller-identity/responses/1.http")});
  fake_.AddResponses("s3", "ListBuckets", {Xml(200, ManyBuckets(3))});
  fake_.AddResponses("s3", "GetBucketPolicy", {Recorded("rest-xml/s3-get-bucket-policy/responses/1.http")});
  fake_.AddResponses("s3", "GetBucketVersioning", {Xml(200, "<VersioningConfiguration/>")});
  auto transport = std::make_shared<CountingTransport>();
  aws::ClientConfig config;
  config.region = "us-east-1";
  config.endpoints.endpoint_url = fake_.endpoint();
  config.clock = &clock_;
  aws::AwsClient client(config, transport, std::make_shared<StaticCredentials>());
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  CollectOptions options;
  options.concurrency = 1;
  options.regions = {"us-east-1"};
  auto s = Collect(client, **store, ParseSpecs(kTwoCallBucketSpec), options);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(transport->max_in_flight(), 1);
  std::vector<std::string> calls;
  for (const auto& r : fake_.Requests("s3", "")) calls.push_back(r.operation);
  std::vector<std::string> order;
  for (const auto& r : fake_.Requests())
    if (r.service == "s3") order.push_back(r.operation + " " + r.http.path);
  EXPECT_EQ(order, (std::vector<std::string>{"ListBuckets /", "GetBucketPolicy /bucket-0", "GetBucketVersioning /bucket-0",
                                             "GetBucketPolicy /bucket-1", "GetBucketVersioning /bucket-1",
                                             "GetBucketPolicy /bucket-2", "GetBucketVersioning /bucket-2"}));
}

std::string UsersXml(const std::vector<std::string>& names) {
  std::string body = "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUsersResult><Users>";
  for (const auto& n : names)
    body += "<member><UserName>" + n + "</UserName><UserId>AIDA" + n + "</UserId><Path>/</Path><Arn>arn:aws:iam::123456789012:user/" + n +
            "</Arn><CreateDate>2023-01-01T00:00:00Z</CreateDate></member>";
  return body + "</Users><IsTruncated>false</IsTruncated></ListUsersResult></ListUsersResponse>";
}

std::string KeysXml(const std::string& user, const std::vector<std::string>& keys, const std::string& marker) {
  std::string body = "<ListAccessKeysResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListAccessKeysResult><AccessKeyMetadata>";
  for (const auto& k : keys)
    body += "<member><UserName>" + user + "</UserName><AccessKeyId>" + k + "</AccessKeyId><Status>Active</Status></member>";
  body += "</AccessKeyMetadata><IsTruncated>" + std::string(marker.empty() ? "false" : "true") + "</IsTruncated>";
  if (!marker.empty()) body += "<Marker>" + marker + "</Marker>";
  return body + "</ListAccessKeysResult></ListAccessKeysResponse>";
}

const char kUsersWithKeysSpec[] = R"(service: iam
resources:
  - table: aws_iam_user
    description: d
    scope: global
    list: {operation: ListUsers, items: Users}
    identity: {id: "{UserId}", name: "{UserName}"}
    enrich:
      - {operation: ListAccessKeys, params: {UserName: "{UserName}"}, result: AccessKeyMetadata, into: AccessKeys}
    columns:
      - {name: access_keys, type: json, path: AccessKeys, description: d}
)";

// A paginated enrichment (all pages merged) counts one API call per page,
// as listings do.
TEST_F(CollectorFaultTest, PaginatedEnrichmentCountsEveryPage) {
  fake_.AddResponses("sts", "GetCallerIdentity", {Recorded("query/sts-get-caller-identity/responses/1.http")});
  fake_.AddResponses("iam", "ListUsers", {Xml(200, UsersXml({"alice", "bob"}))});
  using testing::HasParamValues;
  fake_.AddResponses("iam", "ListAccessKeys", HasParamValues({"alice", "k2"}), {Xml(200, KeysXml("alice", {"AKIA3"}, "k3"))});
  fake_.AddResponses("iam", "ListAccessKeys", HasParamValues({"alice", "k3"}), {Xml(200, KeysXml("alice", {"AKIA4"}, ""))});
  fake_.AddResponses("iam", "ListAccessKeys", HasParamValues({"alice"}), {Xml(200, KeysXml("alice", {"AKIA1", "AKIA2"}, "k2"))});
  fake_.AddResponses("iam", "ListAccessKeys", HasParamValues({"bob"}), {Xml(200, KeysXml("bob", {}, ""))});
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  CollectOptions options;
  options.regions = {"us-east-1"};
  auto s = Collect(*client, **store, ParseSpecs(kUsersWithKeysSpec), options);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->status, "complete");
  EXPECT_EQ(fake_.RequestCount("iam", "ListAccessKeys"), 4);
  EXPECT_EQ(Count(**store, "SELECT sum(calls) FROM api_calls WHERE operation = 'ListAccessKeys'"), 4);
  EXPECT_EQ(Count(**store, "SELECT sum(errors) FROM api_calls WHERE operation = 'ListAccessKeys'"), 0);
  EXPECT_EQ(Count(**store, "SELECT calls FROM api_calls WHERE operation = 'ListUsers'"), 1);
  EXPECT_EQ(Count(**store, "SELECT json_array_length(data, '$.AccessKeys') FROM resources WHERE name = 'alice'"), 4);
  EXPECT_EQ(Count(**store, "SELECT json_array_length(data, '$.AccessKeys') FROM resources WHERE name = 'bob'"), 0);
  // Every request counted (sts GetCallerIdentity included), none twice.
  EXPECT_EQ(Count(**store, "SELECT sum(calls) FROM api_calls"), fake_.RequestCount());
}

// An enrichment whose parameters read what an earlier one stored runs after
// it (the item's calls in order), still in parallel across items.
TEST_F(CollectorFaultTest, ChainedEnrichmentsRunInOrderPerItem) {
  const char spec[] = R"(service: iam
resources:
  - table: aws_iam_user
    description: d
    scope: global
    list: {operation: ListUsers, items: Users}
    identity: {id: "{UserId}", name: "{UserName}"}
    enrich:
      - {operation: ListAccessKeys, params: {UserName: "{UserName}"}, result: AccessKeyMetadata, into: AccessKeys}
      - {operation: ListAccessKeys, params: {UserName: "{AccessKeys.0.UserName}-shadow"}, result: AccessKeyMetadata, into: ShadowKeys}
    columns:
      - {name: access_keys, type: json, path: AccessKeys, description: d}
)";
  fake_.AddResponses("sts", "GetCallerIdentity", {Recorded("query/sts-get-caller-identity/responses/1.http")});
  fake_.AddResponses("iam", "ListUsers", {Xml(200, UsersXml({"alice", "bob"}))});
  using testing::HasParamValues;
  for (std::string u : {"alice", "bob"}) {
    fake_.AddResponses("iam", "ListAccessKeys", HasParamValues({u}), {Xml(200, KeysXml(u, {"AKIA" + u}, ""))});
    fake_.AddResponses("iam", "ListAccessKeys", HasParamValues({u + "-shadow"}), {Xml(200, KeysXml(u, {"SHADOW" + u}, ""))});
  }
  auto client = MakeClient();
  auto store = store::Store::Open(db_);
  ASSERT_TRUE(store);
  CollectOptions options;
  options.regions = {"us-east-1"};
  auto s = Collect(*client, **store, ParseSpecs(spec), options);
  ASSERT_TRUE(s) << s.error().ToString();
  EXPECT_EQ(s->gaps, 0);
  EXPECT_EQ(Count(**store, "SELECT count(*) FROM resources WHERE json_extract(data, '$.ShadowKeys[0].AccessKeyId') = 'SHADOW' || name"), 2);
}

}  // namespace
}  // namespace cloudaudit::collect
