#include "testing/fake_aws.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aws/auth/sigv4.h"
#include "aws/http/curl_transport.h"
#include "base/json.h"
#include "base/time.h"

namespace cloudaudit::testing {
namespace {

using aws::Credentials;
using aws::CurlTransport;
using aws::CurlTransportOptions;
using aws::EnvironmentVariables;
using aws::HttpOptions;
using aws::HttpRequest;
using aws::HttpResponse;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class FakeAwsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fake_.Start()); }

  HttpRequest QueryRequest(const std::string& action, const std::string& extra = "") {
    HttpRequest request;
    request.method = "POST";
    request.scheme = "http";
    request.host = fake_.host();
    request.SetHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    request.body = "Action=" + action + "&Version=2010-05-08" + extra;
    return request;
  }

  HttpRequest JsonRequest(const std::string& target, const std::string& body) {
    HttpRequest request;
    request.method = "POST";
    request.scheme = "http";
    request.host = fake_.host();
    request.SetHeader("Content-Type", "application/x-amz-json-1.1");
    request.SetHeader("X-Amz-Target", target);
    request.body = body;
    return request;
  }

  HttpRequest RestRequest(const std::string& method, const std::string& path, const std::string& query = "") {
    HttpRequest request;
    request.method = method;
    request.scheme = "http";
    request.host = fake_.host();
    request.path = path;
    request.query = query;
    return request;
  }

  void Sign(HttpRequest& request, const std::string& service, const Credentials& credentials) {
    aws::SigningParams params;
    if (service == "s3") {
      params = aws::S3SigningParams("us-east-1", NowEpochSeconds());
    } else {
      params.region = "eu-west-1";
      params.service = service;
      params.time_epoch = NowEpochSeconds();
    }
    auto signed_ok = aws::SignRequest(request, credentials, params);
    ASSERT_TRUE(signed_ok) << signed_ok.error().ToString();
  }

  Result<HttpResponse> Send(HttpRequest request, const std::string& service,
                            const Credentials& credentials = FakeAws::TestCredentials()) {
    Sign(request, service, credentials);
    return transport_.Send(request, options_);
  }

  FakeAws fake_;  // first: destroyed after the transport's connections close
  CurlTransport transport_{CurlTransportOptions{.environment = EnvironmentVariables{}}};
  HttpOptions options_{.connect_timeout_ms = 1000, .read_timeout_ms = 2000};
};

const char kListUsersXml[] =
    "<ListUsersResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ListUsersResult><Users/>"
    "<IsTruncated>false</IsTruncated></ListUsersResult></ListUsersResponse>";

TEST_F(FakeAwsTest, AcceptsASignedQueryRequestAndRecordsIt) {
  fake_.AddResponses("iam", "ListUsers", {{200, {}, kListUsersXml}});
  auto response = Send(QueryRequest("ListUsers", "&MaxItems=10"), "iam");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, kListUsersXml);
  EXPECT_EQ(*response->FindHeader("content-type"), "text/xml");
  EXPECT_THAT(*response->FindHeader("x-amzn-requestid"), StartsWith("fake-"));

  auto requests = fake_.Requests("iam", "ListUsers");
  ASSERT_EQ(requests.size(), 1u);
  const ReceivedRequest& r = requests[0];
  EXPECT_EQ(r.region, "eu-west-1");
  EXPECT_EQ(r.protocol, AwsProtocol::kQuery);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http.method, "POST");
  EXPECT_EQ(r.http.path, "/");
  EXPECT_EQ(r.Param("MaxItems"), "10");
  EXPECT_NE(r.http.FindHeader("authorization"), nullptr);
  EXPECT_EQ(r.http.FindHeader("REMOTE_ADDR"), nullptr);
}

TEST_F(FakeAwsTest, RejectsATamperedRequest) {
  fake_.AddResponses("iam", "ListUsers", {{200, {}, kListUsersXml}});
  HttpRequest request = QueryRequest("ListUsers");
  Sign(request, "iam", FakeAws::TestCredentials());
  request.body += "&MaxItems=1000";  // changed after signing
  auto response = transport_.Send(request, options_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403);
  EXPECT_THAT(response->body, HasSubstr("<Code>SignatureDoesNotMatch</Code>"));
  EXPECT_THAT(response->body, HasSubstr("<ErrorResponse"));
  auto requests = fake_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].aws_code, "SignatureDoesNotMatch");
  EXPECT_EQ(requests[0].status, 403);
}

TEST_F(FakeAwsTest, RejectsOtherCredentials) {
  fake_.AddResponses("iam", "ListUsers", {{200, {}, kListUsersXml}});
  Credentials wrong_secret = FakeAws::TestCredentials();
  wrong_secret.secret_access_key = "not-the-secret";
  auto response = Send(QueryRequest("ListUsers"), "iam", wrong_secret);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403);
  EXPECT_THAT(response->body, HasSubstr("SignatureDoesNotMatch"));

  Credentials wrong_key = FakeAws::TestCredentials();
  wrong_key.access_key_id = "AKIAOTHER";
  response = Send(QueryRequest("ListUsers"), "iam", wrong_key);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403);
  EXPECT_THAT(response->body, HasSubstr("InvalidClientTokenId"));

  // An unsigned request for an operation that needs a signature.
  response = transport_.Send(QueryRequest("ListUsers"), options_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 403);
  EXPECT_THAT(response->body, HasSubstr("MissingAuthenticationToken"));
}

TEST_F(FakeAwsTest, JsonProtocolByTargetWithJsonErrors) {
  fake_.AddResponses("kms", "ListKeys", {{200, {}, R"({"Keys":[]})"}});
  auto response = Send(JsonRequest("TrentService.ListKeys", "{}"), "kms");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, R"({"Keys":[]})");
  EXPECT_EQ(*response->FindHeader("content-type"), "application/x-amz-json-1.1");

  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kThrottle});
  response = Send(JsonRequest("TrentService.ListKeys", "{}"), "kms");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_EQ(response->body, R"({"__type":"ThrottlingException","message":"Rate exceeded"})");
  EXPECT_EQ(fake_.Requests("kms", "ListKeys").back().protocol, AwsProtocol::kJson);
}

TEST_F(FakeAwsTest, Ec2QueryUsesEc2Errors) {
  fake_.InjectFault("ec2", "DescribeInstances", {.kind = FaultKind::kThrottle});
  auto response = Send(QueryRequest("DescribeInstances"), "ec2");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_THAT(response->body, HasSubstr("<Response><Errors><Error><Code>RequestLimitExceeded</Code>"));
}

TEST_F(FakeAwsTest, RestRoutesIdentifyS3Operations) {
  fake_.AddRoute("s3", "ListObjectsV2", "GET", "/[^/]+", {"list-type"});
  fake_.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
  fake_.AddRoute("s3", "HeadBucket", "HEAD", "/[^/]+");
  fake_.AddResponses("s3", "GetBucketPolicy",
                     {{200, {{"Content-Type", "application/json"}}, R"({"Version":"2012-10-17"})"}});
  fake_.AddResponses("s3", "ListObjectsV2", {{200, {}, "<ListBucketResult/>"}});
  fake_.AddResponses("s3", "HeadBucket", {{200, {{"x-amz-bucket-region", "eu-west-1"}}, ""}});

  auto policy = Send(RestRequest("GET", "/my-bucket", "policy="), "s3");
  ASSERT_TRUE(policy) << policy.error().ToString();
  EXPECT_EQ(policy->status, 200);
  EXPECT_EQ(policy->body, R"({"Version":"2012-10-17"})");
  EXPECT_NE(policy->FindHeader("x-amz-request-id"), nullptr);

  auto list = Send(RestRequest("GET", "/my-bucket", "list-type=2&prefix=a%20b"), "s3");
  ASSERT_TRUE(list) << list.error().ToString();
  EXPECT_EQ(list->body, "<ListBucketResult/>");
  EXPECT_EQ(fake_.Requests("s3", "ListObjectsV2").at(0).Param("prefix"), "a b");

  auto head = Send(RestRequest("HEAD", "/my-bucket"), "s3");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(*head->FindHeader("x-amz-bucket-region"), "eu-west-1");

  // S3 errors are <Error> documents; the S3 throttle is 503 SlowDown.
  fake_.InjectFault("s3", "GetBucketPolicy", {.kind = FaultKind::kThrottle});
  auto slow = Send(RestRequest("GET", "/my-bucket", "policy="), "s3");
  ASSERT_TRUE(slow) << slow.error().ToString();
  EXPECT_EQ(slow->status, 503);
  EXPECT_THAT(slow->body, HasSubstr("<Error><Code>SlowDown</Code>"));
}

TEST_F(FakeAwsTest, RestJsonErrorsCarryTheErrorTypeHeader) {
  fake_.AddRoute("lambda", "ListFunctions", "GET", "/2015-03-31/functions/?");
  fake_.InjectFault("lambda", "ListFunctions", {.kind = FaultKind::kThrottle});
  auto response = Send(RestRequest("GET", "/2015-03-31/functions/"), "lambda");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 429);
  EXPECT_EQ(*response->FindHeader("x-amzn-errortype"), "TooManyRequestsException");
  EXPECT_EQ(fake_.Requests("lambda", "ListFunctions").size(), 1u);
}

TEST_F(FakeAwsTest, ScriptedResponsesPlayInOrderAndTheLastRepeats) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, "one"}, {200, {}, "two"}, {200, {}, "three"}});
  std::vector<std::string> bodies;
  for (int i = 0; i < 4; ++i) {
    auto response = Send(QueryRequest("GetUser"), "iam");
    ASSERT_TRUE(response) << response.error().ToString();
    bodies.push_back(response->body);
  }
  EXPECT_EQ(bodies, (std::vector<std::string>{"one", "two", "three", "three"}));
  EXPECT_EQ(fake_.RequestCount("iam", "GetUser"), 4);
}

TEST_F(FakeAwsTest, PredicatesSelectPages) {
  fake_.AddResponses("iam", "ListRoles", ParamAbsent("Marker"), {{200, {}, "page 1"}});
  fake_.AddResponses("iam", "ListRoles", ParamEquals("Marker", "m/2"), {{200, {}, "page 2"}});
  fake_.AddResponses("logs", "DescribeLogGroups", ParamEquals("nextToken", "t2"), {{200, {}, R"({"page":2})"}});
  fake_.AddResponses("logs", "DescribeLogGroups", {{200, {}, R"({"page":1})"}});

  auto first = Send(QueryRequest("ListRoles"), "iam");
  auto second = Send(QueryRequest("ListRoles", "&Marker=m%2F2"), "iam");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body, "page 1");
  EXPECT_EQ(second->body, "page 2");

  auto json_first = Send(JsonRequest("Logs_20140328.DescribeLogGroups", "{}"), "logs");
  auto json_second = Send(JsonRequest("Logs_20140328.DescribeLogGroups", R"({"nextToken":"t2"})"), "logs");
  ASSERT_TRUE(json_first && json_second);
  EXPECT_EQ(json_first->body, R"({"page":1})");
  EXPECT_EQ(json_second->body, R"({"page":2})");
}

TEST_F(FakeAwsTest, UnscriptedCallsGetAClearError) {
  auto response = Send(QueryRequest("ListGroups"), "iam");
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(response->body, HasSubstr("FakeAwsNoResponse"));
  EXPECT_THAT(response->body, HasSubstr("ListGroups"));
}

TEST_F(FakeAwsTest, ThrottlesNTimesThenSucceedsWithoutConsumingResponses) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, "first"}, {200, {}, "second"}});
  fake_.InjectFault("iam", "GetUser", {.kind = FaultKind::kThrottle, .times = 2});
  std::vector<int> statuses;
  std::string body;
  for (int i = 0; i < 3; ++i) {
    auto response = Send(QueryRequest("GetUser"), "iam");
    ASSERT_TRUE(response) << response.error().ToString();
    statuses.push_back(response->status);
    body = response->body;
  }
  EXPECT_EQ(statuses, (std::vector<int>{400, 400, 200}));
  EXPECT_EQ(body, "first");
  auto requests = fake_.Requests("iam", "GetUser");
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].fault, "throttle");
  EXPECT_EQ(requests[0].aws_code, "Throttling");
  EXPECT_EQ(requests[2].fault, "");
}

TEST_F(FakeAwsTest, GlobalFaultsHitEveryOperationFirst) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, "ok"}});
  fake_.InjectGlobalFault({.kind = FaultKind::kServiceUnavailable, .times = 1});
  fake_.InjectGlobalFault({.kind = FaultKind::kInternalError, .times = 1, .aws_code = "ServiceFailure"});
  auto first = Send(QueryRequest("GetUser"), "iam");
  auto second = Send(QueryRequest("ListUsers"), "iam");
  auto third = Send(QueryRequest("GetUser"), "iam");
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->status, 503);
  EXPECT_THAT(first->body, HasSubstr("<Code>ServiceUnavailable</Code>"));
  EXPECT_THAT(first->body, HasSubstr("<Type>Receiver</Type>"));
  EXPECT_EQ(second->status, 500);
  EXPECT_THAT(second->body, HasSubstr("<Code>ServiceFailure</Code>"));
  EXPECT_EQ(third->status, 200);
}

TEST_F(FakeAwsTest, ConnectionResetIsATransportError) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, "ok"}});
  fake_.InjectFault("iam", "GetUser", {.kind = FaultKind::kConnectionReset, .times = Fault::kAlways});
  auto response = Send(QueryRequest("GetUser"), "iam");
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork) << response.error().ToString();
  auto requests = fake_.Requests("iam", "GetUser");
  ASSERT_GE(requests.size(), 1u);
  EXPECT_EQ(requests[0].fault, "connection-reset");
  EXPECT_EQ(requests[0].status, 0);

  fake_.ClearFaults();
  auto recovered = Send(QueryRequest("GetUser"), "iam");
  ASSERT_TRUE(recovered) << recovered.error().ToString();
  EXPECT_EQ(recovered->body, "ok");
}

TEST_F(FakeAwsTest, DelayLongerThanTheClientTimeoutIsATimeout) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, "late"}, {200, {}, "on time"}});
  fake_.InjectFault("iam", "GetUser", {.kind = FaultKind::kDelay, .delay_ms = 5000});
  options_.read_timeout_ms = 200;
  auto started = std::chrono::steady_clock::now();
  auto response = Send(QueryRequest("GetUser"), "iam");
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
  auto next = Send(QueryRequest("GetUser"), "iam");
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(next->body, "on time");
}

TEST_F(FakeAwsTest, TruncatedBodyIsATransportError) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, kListUsersXml}});
  fake_.InjectFault("iam", "GetUser", {.kind = FaultKind::kTruncatedBody});
  auto response = Send(QueryRequest("GetUser"), "iam");
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork) << response.error().ToString();
  EXPECT_EQ(fake_.Requests("iam", "GetUser").at(0).fault, "truncated-body");
}

TEST_F(FakeAwsTest, MalformedBodyAndWrongContentType) {
  fake_.AddResponses("kms", "ListKeys", {{200, {}, R"({"Keys":[]})"}});
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kMalformedBody});
  fake_.InjectFault("kms", "ListKeys", {.kind = FaultKind::kWrongContentType});
  auto malformed = Send(JsonRequest("TrentService.ListKeys", "{}"), "kms");
  ASSERT_TRUE(malformed) << malformed.error().ToString();
  EXPECT_EQ(malformed->status, 200);
  EXPECT_FALSE(ParseJson(malformed->body));
  EXPECT_EQ(*malformed->FindHeader("content-type"), "application/x-amz-json-1.1");

  auto html = Send(JsonRequest("TrentService.ListKeys", "{}"), "kms");
  ASSERT_TRUE(html) << html.error().ToString();
  EXPECT_EQ(html->status, 200);
  EXPECT_EQ(*html->FindHeader("content-type"), "text/html");
  EXPECT_THAT(html->body, StartsWith("<html>"));
}

TEST_F(FakeAwsTest, AllowsRegisteredUnsignedOperations) {
  fake_.AllowUnsigned("sts", "AssumeRoleWithWebIdentity");
  fake_.AddResponses("sts", "AssumeRoleWithWebIdentity", {{200, {}, "<AssumeRoleWithWebIdentityResponse/>"}});
  auto response = transport_.Send(QueryRequest("AssumeRoleWithWebIdentity", "&WebIdentityToken=t"), options_);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(fake_.RequestCount("sts", "AssumeRoleWithWebIdentity"), 1);
}

TEST_F(FakeAwsTest, ServesConcurrentClients) {
  fake_.AddResponses("iam", "GetUser", {{200, {}, "ok"}});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        HttpRequest request = QueryRequest("GetUser");
        aws::SigningParams params{.region = "us-east-1", .service = "iam", .time_epoch = NowEpochSeconds()};
        if (!aws::SignRequest(request, FakeAws::TestCredentials(), params)) continue;
        auto response = transport_.Send(request, options_);
        if (response && response->status == 200) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(fake_.RequestCount(), 80);
}

TEST(FakeAws, SignatureCheckingCanBeTurnedOff) {
  FakeAws fake(FakeAws::Options{.verify_signatures = false});
  ASSERT_TRUE(fake.Start());
  fake.AddResponses("", "ListUsers", {{200, {}, "ok"}});
  CurlTransport transport(CurlTransportOptions{.environment = EnvironmentVariables{}});
  HttpRequest request;
  request.method = "POST";
  request.scheme = "http";
  request.host = fake.host();
  request.SetHeader("Content-Type", "application/x-www-form-urlencoded");
  request.body = "Action=ListUsers";
  auto response = transport.Send(request, HttpOptions{});
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->body, "ok");
}

TEST(FakeAws, StopsPromptlyWhileAClientKeepsItsConnection) {
  CurlTransport transport(CurlTransportOptions{.environment = EnvironmentVariables{}});
  FakeAws fake(FakeAws::Options{.verify_signatures = false});
  ASSERT_TRUE(fake.Start());
  fake.AddResponses("", "ListUsers", {{200, {}, "ok"}});
  HttpRequest request;
  request.method = "POST";
  request.scheme = "http";
  request.host = fake.host();
  request.SetHeader("Content-Type", "application/x-www-form-urlencoded");
  request.body = "Action=ListUsers";
  ASSERT_TRUE(transport.Send(request, HttpOptions{}));
  auto started = std::chrono::steady_clock::now();
  fake.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(500));
}

TEST(ParseRawHttpResponse, ParsesStatusHeadersAndExactBody) {
  auto crlf = ParseRawHttpResponse(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nX-A:  b \r\n\r\n"
      "line 1\r\n\r\nline 3");
  ASSERT_TRUE(crlf) << crlf.error().ToString();
  EXPECT_EQ(crlf->status, 503);
  ASSERT_EQ(crlf->headers.size(), 2u);
  EXPECT_EQ(crlf->headers[1], (std::pair<std::string, std::string>{"X-A", "b"}));
  EXPECT_EQ(crlf->body, "line 1\r\n\r\nline 3");

  auto lf = ParseRawHttpResponse("HTTP/1.1 200 OK\nContent-Type: text/xml\n\n<a/>\n");
  ASSERT_TRUE(lf) << lf.error().ToString();
  EXPECT_EQ(lf->body, "<a/>\n");

  auto no_body = ParseRawHttpResponse("HTTP/1.1 204 No Content\r\n");
  ASSERT_TRUE(no_body);
  EXPECT_EQ(no_body->status, 204);
  EXPECT_EQ(no_body->body, "");

  EXPECT_FALSE(ParseRawHttpResponse("200 OK\r\n\r\n"));
  EXPECT_FALSE(ParseRawHttpResponse("HTTP/1.1 OK\r\n\r\n"));
  EXPECT_FALSE(ParseRawHttpResponse("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"));
}

class ResponseDirectory {
 public:
  ResponseDirectory() {
    path_ = std::filesystem::temp_directory_path() /
            ("fake_aws_test_" + std::to_string(getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~ResponseDirectory() { std::filesystem::remove_all(path_); }
  void Write(const std::string& relative, const std::string& content) {
    std::filesystem::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << content;
  }
  std::string path() const { return path_.string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

TEST_F(FakeAwsTest, LoadsAResponseDirectory) {
  ResponseDirectory dir;
  dir.Write("iam/ListUsers.1.http", "HTTP/1.1 200 OK\nContent-Type: text/xml\n\npage one");
  dir.Write("iam/ListUsers.2.http", "HTTP/1.1 200 OK\nContent-Type: text/xml\n\npage two");
  dir.Write("s3/ListBuckets.http", "HTTP/1.1 200 OK\nContent-Type: application/xml\n\n<ListAllMyBucketsResult/>");
  dir.Write("s3/routes", "# S3 is path-style on 127.0.0.1\nListBuckets GET /\nGetBucketPolicy GET /[^/]+ policy\n");
  ASSERT_TRUE(LoadResponseDirectory(fake_, dir.path()));

  auto one = Send(QueryRequest("ListUsers"), "iam");
  auto two = Send(QueryRequest("ListUsers"), "iam");
  auto buckets = Send(RestRequest("GET", "/"), "s3");
  ASSERT_TRUE(one && two && buckets);
  EXPECT_EQ(one->body, "page one");
  EXPECT_EQ(two->body, "page two");
  EXPECT_EQ(buckets->body, "<ListAllMyBucketsResult/>");
  EXPECT_EQ(fake_.RequestCount("s3", "ListBuckets"), 1);
}

// Keyed answers: one per bucket / user / ARN, whatever the order of the
// calls; the unkeyed file answers every other value.
TEST_F(FakeAwsTest, LoadsKeyedAnswersOfAResponseDirectory) {
  ResponseDirectory dir;
  dir.Write("s3/routes", "ListBuckets GET /\nGetBucketPolicy GET /[^/]+ policy\n");
  dir.Write("s3/GetBucketPolicy@logs.eu.http", "HTTP/1.1 200 OK\n\nlogs policy");
  dir.Write("s3/GetBucketPolicy@site.http", "HTTP/1.1 200 OK\n\nsite policy");
  dir.Write("iam/ListAccessKeys@alice.http", "HTTP/1.1 200 OK\n\nalice keys");
  dir.Write("iam/ListAccessKeys.1@bob.http", "HTTP/1.1 200 OK\n\nbob keys 1");
  dir.Write("iam/ListAccessKeys.2@bob.http", "HTTP/1.1 200 OK\n\nbob keys 2");
  dir.Write("iam/ListAccessKeys.http", "HTTP/1.1 200 OK\n\nanyone's keys");
  dir.Write("logs/DescribeLogStreams@arn:aws:logs:x%2Fy.http", "HTTP/1.1 200 OK\n\none");
  dir.Write("logs/DescribeLogStreams@arn:aws:logs:x%2Fy@t2.http", "HTTP/1.1 200 OK\n\ntwo");
  dir.Write("lambda/routes", "ListTags GET /2017-03-31/tags/.+\n");
  dir.Write("lambda/ListTags@arn:aws:lambda:us-east-1:1:function:f.http", "HTTP/1.1 200 OK\n\nf tags");
  ASSERT_TRUE(LoadResponseDirectory(fake_, dir.path()));

  auto body = [&](Result<HttpResponse> r) { return r ? r->body : r.error().ToString(); };
  EXPECT_EQ(body(Send(RestRequest("GET", "/site", "policy="), "s3")), "site policy");
  EXPECT_EQ(body(Send(RestRequest("GET", "/logs.eu", "policy="), "s3")), "logs policy");
  EXPECT_THAT(body(Send(RestRequest("GET", "/other", "policy="), "s3")), HasSubstr("FakeAwsNoResponse"));
  EXPECT_EQ(body(Send(QueryRequest("ListAccessKeys", "&UserName=bob"), "iam")), "bob keys 1");
  EXPECT_EQ(body(Send(QueryRequest("ListAccessKeys", "&UserName=alice"), "iam")), "alice keys");
  EXPECT_EQ(body(Send(QueryRequest("ListAccessKeys", "&UserName=bob"), "iam")), "bob keys 2");
  EXPECT_EQ(body(Send(QueryRequest("ListAccessKeys", "&UserName=carol"), "iam")), "anyone's keys");
  // Two values beat one; both must be there.
  EXPECT_EQ(body(Send(JsonRequest("Logs_20140328.DescribeLogStreams", R"({"logGroupIdentifier":"arn:aws:logs:x/y"})"), "logs")), "one");
  EXPECT_EQ(body(Send(JsonRequest("Logs_20140328.DescribeLogStreams", R"({"logGroupIdentifier":"arn:aws:logs:x/y","nextToken":"t2"})"), "logs")), "two");
  // An ARN in a path segment is matched decoded.
  EXPECT_EQ(body(Send(RestRequest("GET", "/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Af"), "lambda")), "f tags");
}

TEST(ReceivedRequest, ParamValuesCoverEveryProtocol) {
  ReceivedRequest r;
  r.http.path = "/v2/email/identities/alerts%40example.com";
  r.http.query = "max-items=5&marker=a%2Fb";
  EXPECT_THAT(r.ParamValues(), ::testing::ElementsAre("5", "a/b", "v2", "email", "identities", "alerts@example.com"));
  ReceivedRequest json;
  json.http.path = "/";
  json.http.body = R"({"names": ["p1", "p2"], "filter": {"status": {"eq": ["ACTIVE"]}}, "limit": 3, "x": null})";
  EXPECT_THAT(json.ParamValues(), ::testing::ElementsAre("p1", "p2", "ACTIVE", "3"));
  ReceivedRequest form;
  form.http.path = "/";
  form.http.SetHeader("Content-Type", "application/x-www-form-urlencoded");
  form.http.body = "Action=ListAccessKeys&UserName=a+b";
  EXPECT_THAT(form.ParamValues(), ::testing::ElementsAre("ListAccessKeys", "a b"));
  EXPECT_TRUE(HasParamValues({"a b", "ListAccessKeys"})(form));
  EXPECT_FALSE(HasParamValues({"a b", "other"})(form));
}

TEST(LoadResponseDirectory, ReportsBrokenLayouts) {
  FakeAws fake;
  {
    ResponseDirectory dir;
    dir.Write("iam/ListUsers.2.http", "HTTP/1.1 200 OK\n\n");
    auto status = LoadResponseDirectory(fake, dir.path());
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().message, HasSubstr("ListUsers.1.http is missing"));
  }
  {
    ResponseDirectory dir;
    dir.Write("iam/ListUsers.http", "not http");
    auto status = LoadResponseDirectory(fake, dir.path());
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().file, HasSubstr("ListUsers.http"));
  }
  {
    ResponseDirectory dir;
    dir.Write("s3/routes", "ListBuckets GET\n");
    auto status = LoadResponseDirectory(fake, dir.path());
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().line, 1);
  }
  {
    ResponseDirectory dir;
    dir.Write("iam/ListAccessKeys.2@bob.http", "HTTP/1.1 200 OK\n\n");
    auto status = LoadResponseDirectory(fake, dir.path());
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().message, HasSubstr("ListAccessKeys.1.http is missing"));
  }
  {
    ResponseDirectory dir;
    dir.Write("iam/ListAccessKeys@bob@.http", "HTTP/1.1 200 OK\n\n");
    EXPECT_FALSE(LoadResponseDirectory(fake, dir.path()));
  }
  {
    ResponseDirectory dir;
    dir.Write("iam/ListAccessKeys@bob.http", "HTTP/1.1 200 OK\n\n");
    dir.Write("iam/ListAccessKeys.1@bob.http", "HTTP/1.1 200 OK\n\n");
    auto status = LoadResponseDirectory(fake, dir.path());
    ASSERT_FALSE(status);
    EXPECT_THAT(status.error().message, HasSubstr("both"));
  }
  EXPECT_FALSE(LoadResponseDirectory(fake, "/nonexistent/fake-aws-responses"));
}

}  // namespace
}  // namespace cloudaudit::testing
