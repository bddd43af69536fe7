// End-to-end tests of the AWS client over real HTTP: AwsClient ->
// CurlTransport -> FakeAws on 127.0.0.1, which verifies every SigV4
// signature. Covers the five protocols with recorded AWS responses, fault
// handling and retries, pagination, S3 region redirects, the read-only guard,
// parameter validation and concurrent use of one client.
//
// Retries back off on a fake clock, so no test sleeps for real; timeouts are
// a few hundred milliseconds.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "aws/client/client.h"
#include "aws/http/curl_transport.h"
#include "base/json.h"
#include "e2e_support.h"
#include "testing/fake_aws.h"

namespace cloudaudit::testing {
namespace {

using aws::AwsClient;
using aws::ClientConfig;
using aws::CurlTransport;
using aws::CurlTransportOptions;
using aws::EnvironmentVariables;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Short enough that a hang fails fast, long enough for an ASan build on a
// busy two-core machine; the timeout test sets its own 250 ms.
constexpr int64_t kConnectTimeoutMs = 500;
constexpr int64_t kReadTimeoutMs = 2000;

class ClientE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(StartServing(fake_));
    config_.region = "us-east-1";
    config_.endpoints.endpoint_url = fake_.endpoint();
    config_.clock = &clock_;
    config_.http.connect_timeout_ms = kConnectTimeoutMs;
    config_.http.read_timeout_ms = kReadTimeoutMs;
  }

  // The client under test, made on first use from config_.
  AwsClient& client() {
    if (!client_) client_ = std::make_unique<AwsClient>(config_, transport_, std::make_shared<StaticTestCredentials>());
    return *client_;
  }

  // Declared first, destroyed last: the client's connections close before
  // the fake stops, and delayed answers are cut short by its Stop().
  FakeAws fake_;
  FakeRetryClock clock_;
  ClientConfig config_;
  std::shared_ptr<CurlTransport> transport_ =
      std::make_shared<CurlTransport>(CurlTransportOptions{.environment = EnvironmentVariables{}});
  std::unique_ptr<AwsClient> client_;
};

// The fake answered 200 to every request of the operation, so each signature
// verified (a bad one is answered 403, see WrongSecretIsRejectedInEveryProtocol).
void ExpectVerifiedAndAnswered(const FakeAws& fake, const std::string& service, const std::string& operation,
                               size_t expected_requests = 1) {
  auto requests = fake.Requests(service, operation);
  ASSERT_EQ(requests.size(), expected_requests) << service << " " << operation;
  for (const ReceivedRequest& r : requests) {
    EXPECT_EQ(r.status, 200) << service << " " << operation << " answered " << r.aws_code;
    EXPECT_EQ(r.aws_code, "");
    const std::string* authorization = r.http.FindHeader("authorization");
    ASSERT_NE(authorization, nullptr);
    EXPECT_THAT(*authorization, StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
  }
}

// ---------------------------------------------------------------- protocols

TEST_F(ClientE2eTest, QueryIamListUsers) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  const Json& users = (*result)["Users"];
  ASSERT_EQ(users.size(), 3u);
  EXPECT_EQ(users[0]["UserName"], "Andrew");
  EXPECT_EQ(users[0]["CreateDate"], "2012-09-05T19:38:48+00:00");
  EXPECT_EQ(users[1]["PermissionsBoundary"]["PermissionsBoundaryType"], "Policy");
  EXPECT_EQ(users[1]["Tags"][1]["Value"], "4711");
  EXPECT_FALSE(users[1].contains("Foo"));
  EXPECT_FALSE(users[1].contains("PasswordLastUsed"));
  EXPECT_EQ((*result)["IsTruncated"], false);
  ExpectVerifiedAndAnswered(fake_, "iam", "ListUsers");
  const ReceivedRequest r = fake_.Requests("iam", "ListUsers").at(0);
  EXPECT_EQ(r.protocol, AwsProtocol::kQuery);
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.Param("Version"), "2010-05-08");
}

TEST_F(ClientE2eTest, Ec2DescribeSecurityGroups) {
  fake_.AddResponses("ec2", "DescribeSecurityGroups", RecordedResponses("ec2/describe-security-groups"));
  auto result = client().Call("ec2", "DescribeSecurityGroups",
                              Json{{"GroupIds", Json::array({"sg-0a1b2c3d4e5f67890", "sg-903004f8"})}});
  ASSERT_TRUE(result) << result.error().ToString();
  const Json& groups = (*result)["SecurityGroups"];
  ASSERT_GE(groups.size(), 1u);
  EXPECT_EQ(groups[0]["GroupName"], "web");
  EXPECT_EQ(groups[0]["GroupId"], "sg-0a1b2c3d4e5f67890");
  EXPECT_EQ(groups[0]["IpPermissions"][0]["FromPort"], 443);
  EXPECT_EQ(groups[0]["IpPermissions"][0]["Ipv6Ranges"][0]["CidrIpv6"], "::/0");
  EXPECT_EQ(groups[0]["IpPermissions"][1]["IpRanges"][1]["Description"], "VPN & bastion");
  ExpectVerifiedAndAnswered(fake_, "ec2", "DescribeSecurityGroups");
  const ReceivedRequest r = fake_.Requests("ec2", "DescribeSecurityGroups").at(0);
  EXPECT_EQ(r.protocol, AwsProtocol::kEc2);
  EXPECT_EQ(r.Param("GroupId.1"), "sg-0a1b2c3d4e5f67890");
  EXPECT_EQ(r.Param("GroupId.2"), "sg-903004f8");
}

TEST_F(ClientE2eTest, JsonKmsListKeys) {
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  auto result = client().Call("kms", "ListKeys", Json{{"Limit", 100}});
  ASSERT_TRUE(result) << result.error().ToString();
  ASSERT_EQ((*result)["Keys"].size(), 3u);
  EXPECT_EQ((*result)["Keys"][2]["KeyId"], "mrk-1234abcd12ab34cd56ef1234567890ab");
  EXPECT_EQ((*result)["Truncated"], false);
  ExpectVerifiedAndAnswered(fake_, "kms", "ListKeys");
  const ReceivedRequest r = fake_.Requests("kms", "ListKeys").at(0);
  EXPECT_EQ(r.protocol, AwsProtocol::kJson);
  EXPECT_EQ(*r.http.FindHeader("x-amz-target"), "TrentService.ListKeys");
  EXPECT_EQ(r.Param("Limit"), "100");
}

TEST_F(ClientE2eTest, RestJsonLambdaListFunctions) {
  fake_.AddRoute("lambda", "ListFunctions", "GET", "/2015-03-31/functions/?");
  fake_.AddResponses("lambda", "ListFunctions", RecordedResponses("rest-json/lambda-list-functions"));
  auto result = client().Call("lambda", "ListFunctions", Json{{"MaxItems", 50}, {"FunctionVersion", "ALL"}});
  ASSERT_TRUE(result) << result.error().ToString();
  const Json& functions = (*result)["Functions"];
  ASSERT_EQ(functions.size(), 2u);
  EXPECT_EQ(functions[0]["FunctionName"], "orders-api");
  EXPECT_EQ(functions[0]["CodeSize"], 5797206);
  EXPECT_EQ(functions[0]["Environment"]["Variables"]["PATH_LIKE"], "C:\\tmp\\x");
  EXPECT_EQ(functions[1]["Architectures"][0], "x86_64");
  EXPECT_FALSE(result->contains("NextMarker"));  // null is dropped
  ExpectVerifiedAndAnswered(fake_, "lambda", "ListFunctions");
  const ReceivedRequest r = fake_.Requests("lambda", "ListFunctions").at(0);
  EXPECT_EQ(r.http.method, "GET");
  EXPECT_EQ(r.Param("MaxItems"), "50");
  EXPECT_EQ(r.Param("FunctionVersion"), "ALL");
}

TEST_F(ClientE2eTest, RestXmlS3ListBucketsAndGetBucketPolicy) {
  fake_.AddRoute("s3", "ListBuckets", "GET", "/");
  fake_.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
  fake_.AddResponses("s3", "ListBuckets", RecordedResponses("rest-xml/s3-list-buckets"));
  fake_.AddResponses("s3", "GetBucketPolicy", RecordedResponses("rest-xml/s3-get-bucket-policy"));

  auto buckets = client().Call("s3", "ListBuckets", Json::object());
  ASSERT_TRUE(buckets) << buckets.error().ToString();
  ASSERT_EQ((*buckets)["Buckets"].size(), 3u);
  EXPECT_EQ((*buckets)["Buckets"][2]["Name"], "example.data.eu");
  EXPECT_EQ((*buckets)["Buckets"][1]["CreationDate"], "2021-06-30T14:21:09.123000+00:00");
  EXPECT_EQ((*buckets)["Owner"]["DisplayName"], "aws-root");

  auto policy = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "example-static-site"}});
  ASSERT_TRUE(policy) << policy.error().ToString();
  ASSERT_TRUE((*policy)["Policy"].is_string());
  auto document = ParseJson((*policy)["Policy"].get<std::string>());
  ASSERT_TRUE(document);
  EXPECT_EQ((*document)["Statement"][0]["Sid"], "PublicRead");

  ExpectVerifiedAndAnswered(fake_, "s3", "ListBuckets");
  ExpectVerifiedAndAnswered(fake_, "s3", "GetBucketPolicy");
  const ReceivedRequest r = fake_.Requests("s3", "GetBucketPolicy").at(0);
  // Path-style against an IP endpoint, S3 signature (payload hash header).
  EXPECT_EQ(r.http.path, "/example-static-site");
  EXPECT_EQ(r.http.query, "policy");
  EXPECT_NE(r.http.FindHeader("x-amz-content-sha256"), nullptr);
}

// Header names keep their case end to end: S3 user metadata comes back
// under the key the object was given ("Owner", not "owner"), as in the CLI.
TEST_F(ClientE2eTest, RestXmlS3HeadObjectKeepsMetadataKeyCase) {
  fake_.AddRoute("s3", "HeadObject", "HEAD", "/[^/]+/.+");
  fake_.AddResponses("s3", "HeadObject", RecordedResponses("rest-xml/s3-head-object"));
  auto result =
      client().Call("s3", "HeadObject", Json{{"Bucket", "example-static-site"}, {"Key", "docs/é index+1.html"}});
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ((*result)["Metadata"], (Json{{"Owner", "team-web"}, {"uploaded-by", "ci"}}));
  EXPECT_EQ((*result)["ETag"], "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ((*result)["BucketKeyEnabled"], true);
  EXPECT_EQ((*result)["ObjectLockRetainUntilDate"], "2024-01-01T00:00:00+00:00");
  ExpectVerifiedAndAnswered(fake_, "s3", "HeadObject");
  EXPECT_EQ(fake_.Requests("s3", "HeadObject").at(0).http.path, "/example-static-site/docs/%C3%A9%20index%2B1.html");
}

TEST_F(ClientE2eTest, WrongSecretIsRejectedInEveryProtocol) {
  fake_.AddRoute("lambda", "ListFunctions", "GET", "/2015-03-31/functions/?");
  fake_.AddRoute("s3", "ListBuckets", "GET", "/");
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.AddResponses("ec2", "DescribeRegions", RecordedResponses("ec2/describe-regions"));
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.AddResponses("lambda", "ListFunctions", RecordedResponses("rest-json/lambda-list-functions"));
  fake_.AddResponses("s3", "ListBuckets", RecordedResponses("rest-xml/s3-list-buckets"));
  aws::Credentials wrong = FakeAws::TestCredentials();
  wrong.secret_access_key = "not-the-secret-key-of-the-fake";
  AwsClient client(config_, transport_, std::make_shared<StaticTestCredentials>(wrong));
  struct Call {
    const char* service;
    const char* operation;
  };
  for (const Call& call : {Call{"iam", "ListUsers"}, Call{"ec2", "DescribeRegions"}, Call{"kms", "ListKeys"},
                           Call{"lambda", "ListFunctions"}, Call{"s3", "ListBuckets"}}) {
    SCOPED_TRACE(std::string(call.service) + " " + call.operation);
    auto result = client.Call(call.service, call.operation, Json::object());
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kAwsService) << result.error().ToString();
    EXPECT_EQ(result.error().aws_code, "SignatureDoesNotMatch");
    EXPECT_EQ(result.error().http_status, 403);
    EXPECT_THAT(result.error().request_id, StartsWith("fake-"));
    // The fake's message quotes only the string to sign, never the secret.
    EXPECT_THAT(result.error().ToString(), Not(HasSubstr(wrong.secret_access_key)));
    EXPECT_EQ(fake_.RequestCount(call.service, call.operation), 1);
  }
  EXPECT_EQ(client.stats().retries, 0u);
}

// ---------------------------------------------------------------- faults and retries

TEST_F(ClientE2eTest, ThrottledTwiceThenSucceeds) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kThrottle, .times = 2});
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ((*result)["Users"].size(), 3u);
  auto requests = fake_.Requests("iam", "ListUsers");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].aws_code, "Throttling");
  EXPECT_EQ(requests[1].aws_code, "Throttling");
  EXPECT_EQ(requests[2].status, 200);
  const aws::CallStats stats = client().stats();
  EXPECT_EQ(stats.calls, 1u);
  EXPECT_EQ(stats.attempts, 3u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.throttled, 2u);
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_GT(clock_.slept(), 0.0);  // backed off, on the fake clock
}

TEST_F(ClientE2eTest, ThrottledOnEveryAttemptGivesUpAfterMaxAttempts) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kThrottle, .times = Fault::kAlways});
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(result);
  const Error& e = result.error();
  EXPECT_EQ(e.code, ErrorCode::kAwsService) << e.ToString();
  EXPECT_EQ(e.aws_code, "Throttling");
  EXPECT_EQ(e.message, "Rate exceeded");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_THAT(e.request_id, StartsWith("fake-"));
  EXPECT_EQ(e.service, "iam");
  EXPECT_EQ(e.operation, "ListUsers");
  EXPECT_EQ(fake_.RequestCount("iam", "ListUsers"), config_.max_attempts);
  const aws::CallStats stats = client().stats();
  EXPECT_EQ(stats.attempts, 3u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.throttled, 3u);
  EXPECT_EQ(stats.errors, 1u);
}

TEST_F(ClientE2eTest, InternalErrorThenSucceeds) {
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kInternalError});
  auto result = client().Call("kms", "ListKeys", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ((*result)["Keys"].size(), 3u);
  auto requests = fake_.Requests("kms", "ListKeys");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].status, 500);
  EXPECT_EQ(client().stats().retries, 1u);
  EXPECT_EQ(client().stats().throttled, 0u);
}

TEST_F(ClientE2eTest, ServiceUnavailableOnEveryAttemptIsAnError) {
  fake_.AddRoute("lambda", "ListFunctions", "GET", "/2015-03-31/functions/?");
  fake_.AddResponses("lambda", "ListFunctions", RecordedResponses("rest-json/lambda-list-functions"));
  fake_.InjectFault("lambda", "ListFunctions", {.kind = FaultKind::kServiceUnavailable, .times = Fault::kAlways});
  auto result = client().Call("lambda", "ListFunctions", Json::object());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kAwsService) << result.error().ToString();
  EXPECT_EQ(result.error().aws_code, "ServiceUnavailable");
  EXPECT_EQ(result.error().http_status, 503);
  EXPECT_EQ(fake_.RequestCount("lambda", "ListFunctions"), 3);
  EXPECT_EQ(client().stats().retries, 2u);
}

TEST_F(ClientE2eTest, ConnectionResetThenSucceeds) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kConnectionReset});
  // The first call of the test: a fresh connection, so libcurl does not
  // resend by itself and the client sees the reset.
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ((*result)["Users"].size(), 3u);
  auto requests = fake_.Requests("iam", "ListUsers");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].fault, "connection-reset");
  EXPECT_EQ(requests[1].status, 200);
  EXPECT_EQ(client().stats().retries, 1u);
}

TEST_F(ClientE2eTest, ConnectionResetOnEveryAttemptIsANetworkError) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kConnectionReset, .times = Fault::kAlways});
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNetwork) << result.error().ToString();
  EXPECT_THAT(result.error().message, HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(client().stats().attempts, 3u);
}

TEST_F(ClientE2eTest, DelayLongerThanTheReadTimeoutIsRetriedThenAClearTimeout) {
  config_.http.read_timeout_ms = 250;
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kDelay, .times = Fault::kAlways, .delay_ms = 5000});
  const auto started = std::chrono::steady_clock::now();
  auto result = client().Call("iam", "ListUsers", Json::object());
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(result);
  const Error& e = result.error();
  EXPECT_EQ(e.code, ErrorCode::kTimeout) << e.ToString();
  EXPECT_THAT(e.message, HasSubstr("POST " + fake_.endpoint() + "/"));
  EXPECT_THAT(e.message, HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(e.service, "iam");
  EXPECT_EQ(e.operation, "ListUsers");
  // Three attempts of 250 ms each, not the 5 s the fake would wait.
  EXPECT_LT(elapsed, std::chrono::milliseconds(2500));
  const aws::CallStats stats = client().stats();
  EXPECT_EQ(stats.attempts, 3u);
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.errors, 1u);
}

TEST_F(ClientE2eTest, DelayShorterThanTheReadTimeoutIsFine) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kDelay, .delay_ms = 50});
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(client().stats().retries, 0u);
}

TEST_F(ClientE2eTest, TruncatedBodyIsRetried) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kTruncatedBody});
  auto result = client().Call("iam", "ListUsers", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ((*result)["Users"].size(), 3u);
  auto requests = fake_.Requests("iam", "ListUsers");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].fault, "truncated-body");
  EXPECT_EQ(client().stats().retries, 1u);
}

TEST_F(ClientE2eTest, TruncatedBodyOnEveryAttemptIsANetworkError) {
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kTruncatedBody, .times = Fault::kAlways});
  auto result = client().Call("kms", "ListKeys", Json::object());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNetwork) << result.error().ToString();
  EXPECT_THAT(result.error().message, HasSubstr("gave up after 3 attempts"));
  EXPECT_EQ(fake_.RequestCount("kms", "ListKeys"), 3);
}

TEST_F(ClientE2eTest, MalformedSuccessBodyIsAParseErrorAndNotRetried) {
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kMalformedBody});
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kMalformedBody});
  struct Call {
    const char* service;
    const char* operation;
    const char* request_id;  // the recording's x-amzn-RequestId
  };
  for (const Call& call : {Call{"iam", "ListUsers", "7a62c49f-347e-4fc4-9331-6e8e00000002"},
                           Call{"kms", "ListKeys", "7a62c49f-347e-4fc4-9331-6e8e00000058"}}) {
    SCOPED_TRACE(call.service);
    const std::string service = call.service, operation = call.operation;
    auto result = client().Call(service, operation, Json::object());
    ASSERT_FALSE(result);
    const Error& e = result.error();
    EXPECT_EQ(e.code, ErrorCode::kParse) << e.ToString();
    EXPECT_THAT(e.message, StartsWith("malformed response"));
    EXPECT_EQ(e.http_status, 200);
    EXPECT_EQ(e.request_id, call.request_id);
    EXPECT_EQ(e.service, service);
    EXPECT_EQ(fake_.RequestCount(service, operation), 1);
  }
  EXPECT_EQ(client().stats().retries, 0u);
  EXPECT_EQ(client().stats().attempts, 2u);
}

// Regression: a malformed S3 success body keeps S3's x-amz-request-id in the error.
TEST_F(ClientE2eTest, MalformedS3BodyKeepsTheS3RequestId) {
  fake_.AddRoute("s3", "ListBuckets", "GET", "/");
  fake_.AddResponses("s3", "ListBuckets", RecordedResponses("rest-xml/s3-list-buckets"));
  fake_.InjectFault("s3", "ListBuckets", {.kind = FaultKind::kMalformedBody});
  auto result = client().Call("s3", "ListBuckets", Json::object());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kParse) << result.error().ToString();
  EXPECT_EQ(result.error().request_id, "00AAB6C7D8E9F0A1");
}

TEST_F(ClientE2eTest, HtmlErrorPageIsAnErrorNamedByItsStatus) {
  // A proxy or load balancer in front of AWS answering 502 with an HTML page.
  fake_.AddResponses("kms", "ListKeys", {{502, {}, "{}"}});
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kWrongContentType, .times = Fault::kAlways});
  auto result = client().Call("kms", "ListKeys", Json::object());
  ASSERT_FALSE(result);
  const Error& e = result.error();
  EXPECT_EQ(e.code, ErrorCode::kAwsService) << e.ToString();
  EXPECT_EQ(e.aws_code, "502");
  EXPECT_EQ(e.http_status, 502);
  EXPECT_EQ(e.message, "Bad Gateway");
  // 502 is transient: retried like the AWS CLI does.
  EXPECT_EQ(fake_.RequestCount("kms", "ListKeys"), 3);
  EXPECT_EQ(fake_.Requests("kms", "ListKeys").at(0).fault, "wrong-content-type");
}

TEST_F(ClientE2eTest, HtmlPageWithStatus200IsAParseErrorForJsonAndQuery) {
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kWrongContentType});
  fake_.InjectFault("iam", "ListUsers", {.kind = FaultKind::kWrongContentType});
  auto keys = client().Call("kms", "ListKeys", Json::object());
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code, ErrorCode::kParse) << keys.error().ToString();
  auto users = client().Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().code, ErrorCode::kParse) << users.error().ToString();
  EXPECT_THAT(users.error().message, StartsWith("malformed response"));
}

// Regression: a 200 HTML page (proxy, captive portal) is a parse error for ec2
// and rest-xml, never an empty result.
TEST_F(ClientE2eTest, HtmlPageWithStatus200IsAParseErrorForEc2AndRestXml) {
  fake_.AddRoute("s3", "ListBuckets", "GET", "/");
  fake_.AddResponses("s3", "ListBuckets", RecordedResponses("rest-xml/s3-list-buckets"));
  fake_.AddResponses("ec2", "DescribeSecurityGroups", RecordedResponses("ec2/describe-security-groups"));
  fake_.InjectFault("ec2", "DescribeSecurityGroups", {.kind = FaultKind::kWrongContentType});
  fake_.InjectFault("s3", "ListBuckets", {.kind = FaultKind::kWrongContentType});
  auto groups = client().Call("ec2", "DescribeSecurityGroups", Json::object());
  ASSERT_FALSE(groups) << "parsed as " << DumpPythonJson(*groups, -1);
  EXPECT_EQ(groups.error().code, ErrorCode::kParse) << groups.error().ToString();
  auto buckets = client().Call("s3", "ListBuckets", Json::object());
  ASSERT_FALSE(buckets) << "parsed as " << DumpPythonJson(*buckets, -1);
  EXPECT_EQ(buckets.error().code, ErrorCode::kParse) << buckets.error().ToString();
}

TEST_F(ClientE2eTest, AccessDeniedIsAServiceErrorWithItsDetailsAndNotRetried) {
  fake_.AddRoute("s3", "GetBucketAcl", "GET", "/[^/]+", {"acl"});
  fake_.AddResponses("s3", "GetBucketAcl", RecordedResponses("rest-xml/s3-error-access-denied"));
  auto result = client().Call("s3", "GetBucketAcl", Json{{"Bucket", "someone-elses-bucket"}});
  ASSERT_FALSE(result);
  const Error& e = result.error();
  EXPECT_EQ(e.code, ErrorCode::kAwsService) << e.ToString();
  EXPECT_EQ(e.aws_code, "AccessDenied");
  EXPECT_EQ(e.message, "Access Denied");
  EXPECT_EQ(e.request_id, "00C2B6C7D8E9F0A1");
  EXPECT_EQ(e.http_status, 403);
  EXPECT_EQ(e.service, "s3");
  EXPECT_EQ(e.operation, "GetBucketAcl");
  EXPECT_EQ(e.region, "us-east-1");
  EXPECT_EQ(fake_.RequestCount("s3", "GetBucketAcl"), 1);
  EXPECT_EQ(client().stats().retries, 0u);
  EXPECT_EQ(client().stats().errors, 1u);
}

TEST_F(ClientE2eTest, QueryAccessDeniedCarriesCodeMessageAndRequestId) {
  fake_.AddResponses("iam", "GetAccountAuthorizationDetails",
                     {{403,
                       {{"Content-Type", "text/xml"}, {"x-amzn-RequestId", "c0ffee00-0000-4000-8000-000000000403"}},
                       "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
                       "<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/auditor is not "
                       "authorized to perform: iam:GetAccountAuthorizationDetails</Message></Error>"
                       "<RequestId>c0ffee00-0000-4000-8000-000000000403</RequestId></ErrorResponse>"}});
  auto result = client().Call("iam", "GetAccountAuthorizationDetails", Json::object());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kAwsService);
  EXPECT_EQ(result.error().aws_code, "AccessDenied");
  EXPECT_THAT(result.error().message, HasSubstr("is not authorized to perform: iam:GetAccountAuthorizationDetails"));
  EXPECT_EQ(result.error().request_id, "c0ffee00-0000-4000-8000-000000000403");
  EXPECT_EQ(result.error().http_status, 403);
  EXPECT_EQ(fake_.RequestCount("iam", "GetAccountAuthorizationDetails"), 1);
}

TEST_F(ClientE2eTest, NoSuchBucketPolicyIsNotConfigured) {
  fake_.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
  fake_.AddResponses("s3", "GetBucketPolicy", RecordedResponses("rest-xml/s3-error-no-such-bucket-policy"));
  auto result = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "example-cloudtrail-logs"}});
  ASSERT_FALSE(result);
  const Error& e = result.error();
  EXPECT_EQ(e.code, ErrorCode::kNotConfigured) << e.ToString();
  EXPECT_EQ(e.aws_code, "NoSuchBucketPolicy");
  EXPECT_EQ(e.message, "The bucket policy does not exist");
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(fake_.RequestCount("s3", "GetBucketPolicy"), 1);
}

// ---------------------------------------------------------------- pagination

std::string ListUsersPage(const std::vector<std::string>& names, const std::optional<std::string>& marker) {
  std::string members;
  for (const std::string& name : names) {
    members += fmt::format(
        "<member><Path>/</Path><UserName>{0}</UserName><Arn>arn:aws:iam::123456789012:user/{0}</Arn>"
        "<UserId>AIDA{0}</UserId><CreateDate>2020-01-01T00:00:00Z</CreateDate></member>",
        name);
  }
  return fmt::format(
      "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUsersResult>"
      "<IsTruncated>{}</IsTruncated>{}<Users>{}</Users></ListUsersResult>"
      "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListUsersResponse>",
      marker ? "true" : "false", marker ? "<Marker>" + *marker + "</Marker>" : "", members);
}

class PaginationE2eTest : public ClientE2eTest {
 protected:
  void ScriptThreePages() {
    fake_.AddResponses("iam", "ListUsers", ParamAbsent("Marker"), {{200, {}, ListUsersPage({"ann", "bob"}, "m/2")}});
    fake_.AddResponses("iam", "ListUsers", ParamEquals("Marker", "m/2"),
                       {{200, {}, ListUsersPage({"cat", "dan"}, "m+3")}});
    fake_.AddResponses("iam", "ListUsers", ParamEquals("Marker", "m+3"), {{200, {}, ListUsersPage({"eve"}, {})}});
  }

  static std::vector<std::string> Names(const Json& users) {
    std::vector<std::string> names;
    for (const Json& user : users) names.push_back(user["UserName"].get<std::string>());
    return names;
  }
};

TEST_F(PaginationE2eTest, CallAllPagesMergesThreePages) {
  ScriptThreePages();
  auto result = client().CallAllPages("iam", "ListUsers", Json::object());
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_EQ(Names((*result)["Users"]), (std::vector<std::string>{"ann", "bob", "cat", "dan", "eve"}));
  EXPECT_FALSE(result->contains("Marker"));
  EXPECT_FALSE(result->contains("IsTruncated"));
  auto requests = fake_.Requests("iam", "ListUsers");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].Param("Marker"), std::nullopt);
  EXPECT_EQ(requests[1].Param("Marker"), "m/2");
  EXPECT_EQ(requests[2].Param("Marker"), "m+3");
  for (const ReceivedRequest& r : requests) EXPECT_EQ(r.status, 200);
  EXPECT_EQ(client().stats().calls, 3u);
}

TEST_F(PaginationE2eTest, PaginateStreamsPagesAndCanStopEarly) {
  ScriptThreePages();
  std::vector<std::vector<std::string>> pages;
  auto status = client().Paginate("iam", "ListUsers", Json::object(), "", [&](const Json& page) {
    pages.push_back(Names(page["Users"]));
    return true;
  });
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(pages, (std::vector<std::vector<std::string>>{{"ann", "bob"}, {"cat", "dan"}, {"eve"}}));
  EXPECT_EQ(fake_.RequestCount("iam", "ListUsers"), 3);

  fake_.ClearRequests();
  int seen = 0;
  status = client().Paginate("iam", "ListUsers", Json::object(), "", [&](const Json& page) {
    ++seen;
    EXPECT_EQ(page["Marker"], "m/2");
    return false;  // enough
  });
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(fake_.RequestCount("iam", "ListUsers"), 1);
}

TEST_F(PaginationE2eTest, TheSameTokenTwiceIsAnErrorNotALoop) {
  fake_.AddResponses("iam", "ListUsers", ParamAbsent("Marker"), {{200, {}, ListUsersPage({"ann"}, "again")}});
  fake_.AddResponses("iam", "ListUsers", ParamEquals("Marker", "again"), {{200, {}, ListUsersPage({"bob"}, "again")}});
  auto result = client().CallAllPages("iam", "ListUsers", Json::object());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("the same pagination token was received twice"));
  EXPECT_EQ(result.error().service, "iam");
  EXPECT_EQ(result.error().operation, "ListUsers");
  EXPECT_EQ(fake_.RequestCount("iam", "ListUsers"), 2);
}

TEST_F(PaginationE2eTest, MaxPagesIsASafetyCap) {
  config_.max_pages = 2;
  ScriptThreePages();
  auto result = client().CallAllPages("iam", "ListUsers", Json::object());
  ASSERT_FALSE(result);
  EXPECT_THAT(result.error().message, HasSubstr("stopped after 2 pages"));
  EXPECT_EQ(fake_.RequestCount("iam", "ListUsers"), 2);
}

TEST_F(PaginationE2eTest, OperationWithoutPaginatorGivesOnePage) {
  fake_.AddResponses("kms", "GetKeyRotationStatus", {{200, {}, R"({"KeyRotationEnabled":true})"}});
  int pages = 0;
  auto status = client().Paginate("kms", "GetKeyRotationStatus", Json{{"KeyId", "k"}}, "", [&](const Json& page) {
    ++pages;
    EXPECT_EQ(page["KeyRotationEnabled"], true);
    return true;
  });
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(pages, 1);
}

// ---------------------------------------------------------------- S3 region redirects

const char kPermanentRedirectBody[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PermanentRedirect</Code><Message>The bucket you are "
    "attempting to access must be addressed using the specified endpoint. Please send all future requests to this "
    "endpoint.</Message><Endpoint>eu-bucket.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>eu-bucket</Bucket>"
    "<RequestId>R301</RequestId><HostId>h</HostId></Error>";

const char kMalformedAuthorizationBody[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AuthorizationHeaderMalformed</Code><Message>The "
    "authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-central-1'</Message>"
    "<Region>eu-central-1</Region><RequestId>R400</RequestId><HostId>h</HostId></Error>";

std::string ScopeOf(const ReceivedRequest& r) {
  const std::string* authorization = r.http.FindHeader("authorization");
  return authorization == nullptr ? "" : *authorization;
}

class S3RedirectE2eTest : public ClientE2eTest {
 protected:
  void SetUp() override {
    ClientE2eTest::SetUp();
    fake_.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
  }
  // Requests signed for `wrong_region` get `redirect`; all others the policy.
  void ScriptRedirect(const std::string& wrong_region, FakeResponse redirect) {
    fake_.AddResponses("s3", "GetBucketPolicy",
                       [wrong_region](const ReceivedRequest& r) { return r.region == wrong_region; },
                       {std::move(redirect)});
    fake_.AddResponses("s3", "GetBucketPolicy", RecordedResponses("rest-xml/s3-get-bucket-policy"));
  }
};

TEST_F(S3RedirectE2eTest, PermanentRedirectIsFollowedOnceAndRemembered) {
  ScriptRedirect(
      "us-east-1",
      {301, {{"Content-Type", "application/xml"}, {"x-amz-bucket-region", "eu-west-1"}}, kPermanentRedirectBody});
  auto result = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "eu-bucket"}});
  ASSERT_TRUE(result) << result.error().ToString();
  EXPECT_THAT((*result)["Policy"].get<std::string>(), HasSubstr("PublicRead"));
  auto requests = fake_.Requests("s3", "GetBucketPolicy");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].status, 301);
  EXPECT_THAT(ScopeOf(requests[0]), HasSubstr("/us-east-1/s3/aws4_request"));
  EXPECT_EQ(requests[1].status, 200);  // the fake verified the eu-west-1 signature
  EXPECT_THAT(ScopeOf(requests[1]), HasSubstr("/eu-west-1/s3/aws4_request"));

  // The bucket's region is remembered: the next call goes there at once.
  fake_.ClearRequests();
  auto again = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "eu-bucket"}});
  ASSERT_TRUE(again) << again.error().ToString();
  requests = fake_.Requests("s3", "GetBucketPolicy");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_THAT(ScopeOf(requests[0]), HasSubstr("/eu-west-1/s3/aws4_request"));

  // Only for that bucket.
  fake_.ClearRequests();
  auto other = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "other-bucket"}});
  ASSERT_TRUE(other) << other.error().ToString();
  requests = fake_.Requests("s3", "GetBucketPolicy");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_THAT(ScopeOf(requests[0]), HasSubstr("/us-east-1/s3/aws4_request"));
}

TEST_F(S3RedirectE2eTest, AuthorizationHeaderMalformedNamesTheRegionInItsBody) {
  ScriptRedirect("us-east-1", {400, {{"Content-Type", "application/xml"}}, kMalformedAuthorizationBody});
  auto result = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "frankfurt-bucket"}});
  ASSERT_TRUE(result) << result.error().ToString();
  auto requests = fake_.Requests("s3", "GetBucketPolicy");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].status, 400);
  EXPECT_EQ(requests[1].status, 200);
  EXPECT_THAT(ScopeOf(requests[1]), HasSubstr("/eu-central-1/s3/aws4_request"));

  fake_.ClearRequests();
  ASSERT_TRUE(client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "frankfurt-bucket"}}));
  ASSERT_EQ(fake_.RequestCount("s3", "GetBucketPolicy"), 1);
  EXPECT_THAT(ScopeOf(fake_.Requests("s3", "GetBucketPolicy").at(0)), HasSubstr("/eu-central-1/s3/aws4_request"));
}

TEST_F(S3RedirectE2eTest, HeadBucketRedirectWithoutABodyUsesTheRegionHeader) {
  fake_.AddRoute("s3", "HeadBucket", "HEAD", "/[^/]+");
  fake_.AddResponses("s3", "HeadBucket", [](const ReceivedRequest& r) { return r.region == "us-east-1"; },
                     {{301, {{"x-amz-bucket-region", "eu-west-1"}}, ""}});
  fake_.AddResponses("s3", "HeadBucket", {{200, {{"x-amz-bucket-region", "eu-west-1"}}, ""}});
  auto result = client().Call("s3", "HeadBucket", Json{{"Bucket", "eu-bucket"}});
  ASSERT_TRUE(result) << result.error().ToString();
  auto requests = fake_.Requests("s3", "HeadBucket");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].status, 200);
  EXPECT_THAT(ScopeOf(requests[1]), HasSubstr("/eu-west-1/s3/aws4_request"));
}

TEST_F(S3RedirectE2eTest, ARedirectIsFollowedOnlyOnce) {
  // Every region redirects: the client must stop after one hop.
  fake_.AddResponses("s3", "GetBucketPolicy", [](const ReceivedRequest& r) { return r.region == "us-east-1"; },
                     {{301, {{"x-amz-bucket-region", "eu-west-1"}}, kPermanentRedirectBody}});
  fake_.AddResponses("s3", "GetBucketPolicy", {{301, {{"x-amz-bucket-region", "us-east-1"}}, kPermanentRedirectBody}});
  auto result = client().Call("s3", "GetBucketPolicy", Json{{"Bucket", "eu-bucket"}});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().aws_code, "PermanentRedirect") << result.error().ToString();
  EXPECT_EQ(result.error().http_status, 301);
  EXPECT_EQ(fake_.RequestCount("s3", "GetBucketPolicy"), 2);
}

// ---------------------------------------------------------------- read-only guard and validation

TEST_F(ClientE2eTest, MutatingOperationsAreRefusedBeforeAnyRequest) {
  auto delete_user = client().Call("iam", "DeleteUser", Json{{"UserName", "alice"}});
  ASSERT_FALSE(delete_user);
  EXPECT_EQ(delete_user.error().code, ErrorCode::kReadOnly) << delete_user.error().ToString();
  EXPECT_THAT(delete_user.error().message, HasSubstr("read-only"));
  EXPECT_EQ(delete_user.error().operation, "DeleteUser");

  auto terminate = client().Call("ec2", "TerminateInstances", Json{{"InstanceIds", Json::array({"i-0123456789"})}});
  ASSERT_FALSE(terminate);
  EXPECT_EQ(terminate.error().code, ErrorCode::kReadOnly) << terminate.error().ToString();

  // Also through the paginating entry points and the credential-provider one.
  EXPECT_EQ(client().CallAllPages("s3", "DeleteBucket", Json{{"Bucket", "b"}}).error().code, ErrorCode::kReadOnly);
  aws::Credentials credentials = FakeAws::TestCredentials();
  EXPECT_EQ(client().Call("iam", "CreateAccessKey", Json::object(), &credentials, "").error().code,
            ErrorCode::kReadOnly);
  EXPECT_EQ(fake_.RequestCount(), 0);
  EXPECT_EQ(client().stats().attempts, 0u);
}

TEST_F(ClientE2eTest, InvalidParametersAreRefusedWithBotocoreWording) {
  struct Case {
    const char* service;
    const char* operation;
    Json params;
    const char* message;  // botocore 1.29's ParamValidator report
  };
  const Case cases[] = {
      {"iam", "ListUsers", Json{{"Zzz", 1}, {"MaxItems", "ten"}},
       "Parameter validation failed:\nUnknown parameter in input: \"Zzz\", must be one of: PathPrefix, Marker, "
       "MaxItems\nInvalid type for parameter MaxItems, value: ten, type: <class 'str'>, valid types: <class 'int'>"},
      {"iam", "GetUser", Json{{"UserName", 5}},
       "Parameter validation failed:\nInvalid type for parameter UserName, value: 5, type: <class 'int'>, valid "
       "types: <class 'str'>"},
      {"iam", "ListUsers", Json{{"MaxItems", 0}},
       "Parameter validation failed:\nInvalid value for parameter MaxItems, value: 0, valid min value: 1"},
      {"s3", "GetBucketPolicy", Json::object(),
       "Parameter validation failed:\nMissing required parameter in input: \"Bucket\""},
      {"ec2", "DescribeInstances", Json{{"InstanceIds", "i-1"}, {"MaxResults", "x"}},
       "Parameter validation failed:\nInvalid type for parameter InstanceIds, value: i-1, type: <class 'str'>, "
       "valid types: <class 'list'>, <class 'tuple'>\nInvalid type for parameter MaxResults, value: x, type: "
       "<class 'str'>, valid types: <class 'int'>"},
      {"ec2", "DescribeSecurityGroups", Json{{"GroupIds", Json::array({"sg-1", 7})}},
       "Parameter validation failed:\nInvalid type for parameter GroupIds[1], value: 7, type: <class 'int'>, valid "
       "types: <class 'str'>"},
      {"ec2", "DescribeSecurityGroups", Json{{"MaxResults", 1}},
       "Parameter validation failed:\nInvalid value for parameter MaxResults, value: 1, valid min value: 5"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.service) + " " + c.operation + " " + c.params.dump());
    auto result = client().Call(c.service, c.operation, c.params);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().message, c.message);
  }
  EXPECT_EQ(fake_.RequestCount(), 0);
}

// Regression: validation lists unknown members first and prints values with
// Python's str(), exactly as botocore's ParamValidator.
TEST_F(ClientE2eTest, ValidationReportsUnknownMembersFirstAndPythonReprsLikeBotocore) {
  struct Case {
    Json params;
    const char* message;
  };
  const Case cases[] = {
      {Json{{"MaxItems", "ten"}, {"Zzz", 1}},
       "Parameter validation failed:\nUnknown parameter in input: \"Zzz\", must be one of: PathPrefix, Marker, "
       "MaxItems\nInvalid type for parameter MaxItems, value: ten, type: <class 'str'>, valid types: <class 'int'>"},
      {Json{{"MaxItems", Json{{"a", 1}}}},
       "Parameter validation failed:\nInvalid type for parameter MaxItems, value: {'a': 1}, type: <class 'dict'>, "
       "valid types: <class 'int'>"},
      {Json{{"PathPrefix", Json::array({"a", "b"})}},
       "Parameter validation failed:\nInvalid type for parameter PathPrefix, value: ['a', 'b'], type: <class "
       "'list'>, valid types: <class 'str'>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.params.dump());
    auto result = client().Call("iam", "ListUsers", c.params);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(result.error().message, c.message);
  }
  EXPECT_EQ(fake_.RequestCount(), 0);
}

TEST_F(ClientE2eTest, UnknownOperationIsNotFoundWithSuggestions) {
  auto result = client().Call("iam", "ListUser", Json::object());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(result.error().message, HasSubstr("ListUsers"));
  EXPECT_EQ(fake_.RequestCount(), 0);
}

// ---------------------------------------------------------------- concurrency

TEST_F(ClientE2eTest, EightThreadsShareOneClient) {
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  constexpr int kThreads = 8, kCallsPerThread = 50;
  std::atomic<int> ok{0};
  std::vector<std::string> failures(kThreads);
  AwsClient& shared = client();  // made before the threads share it
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        // Two services, so two retry/rate-limit entries are shared too.
        const bool kms = (t + i) % 2 == 0;
        auto result =
            kms ? shared.Call("kms", "ListKeys", Json::object()) : shared.Call("iam", "ListUsers", Json::object());
        if (result && (*result)[kms ? "Keys" : "Users"].size() == 3) {
          ++ok;
        } else if (failures[t].empty()) {
          failures[t] = result ? "unexpected result" : result.error().ToString();
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  EXPECT_EQ(ok.load(), kThreads * kCallsPerThread);
  const aws::CallStats stats = shared.stats();
  EXPECT_EQ(stats.calls, 400u);
  EXPECT_EQ(stats.attempts, 400u);
  EXPECT_EQ(stats.errors, 0u);
  EXPECT_EQ(fake_.RequestCount(), 400);
}

// Throttling switches the adaptive rate limiter on while eight threads share
// it; on the fake clock nothing really waits, and every call gets through.
TEST_F(ClientE2eTest, EightThreadsThroughThrottlingAndTheRateLimiter) {
  config_.max_attempts = 20;  // enough that no call can run out, however the faults fall
  fake_.AddResponses("kms", "ListKeys", RecordedResponses("json/kms-list-keys"));
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kThrottle, .times = 12});
  AwsClient& shared = client();
  constexpr int kThreads = 8, kCallsPerThread = 10;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i)
        if (shared.Call("kms", "ListKeys", Json::object())) ++ok;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kCallsPerThread);
  const aws::CallStats stats = shared.stats();
  EXPECT_EQ(stats.calls, 80u);
  EXPECT_EQ(stats.throttled, 12u);
  EXPECT_EQ(stats.retries, 12u);
  EXPECT_EQ(stats.attempts, 92u);
  EXPECT_EQ(fake_.RequestCount("kms", "ListKeys"), 92);
}

// ---------------------------------------------------------------- the fake itself

// Regression: Stop() right after Start() returns (Start waits for the server).
TEST(FakeAwsLifecycle, StopRightAfterStartDoesNotHang) {
  for (int i = 0; i < 50; ++i) {
    FakeAws fake;
    ASSERT_TRUE(fake.Start());
    fake.Stop();
  }
}

}  // namespace
}  // namespace cloudaudit::testing
