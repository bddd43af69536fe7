#include "aws/auth/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/crypto.h"
#include "base/json.h"
#include "base/strings.h"
#include "base/time.h"
#include "testing/test_paths.h"

namespace cloudaudit::aws {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

int64_t EpochOf(std::string_view iso8601) {
  Result<Timestamp> ts = ParseTimestamp(iso8601);
  EXPECT_TRUE(ts.has_value()) << iso8601;
  return ts.has_value() ? ts->epoch_seconds : 0;
}

// Parses the raw HTTP request text of the test suites: request line (the
// target may contain spaces, as in "GET /example space/ HTTP/1.1"), header
// lines "Name:value" (repeated names kept, lines starting with a space or tab
// continue the previous value and are kept with their line break so the
// signer's folding is exercised), a blank line, then the body. The target is
// kept verbatim: the suites define their paths and queries as the request's
// already-encoded ones.
HttpRequest ParseRawRequest(std::string_view text) {
  HttpRequest request;
  request.headers.clear();
  size_t pos = 0;
  auto next_line = [&](std::string_view* line) {
    if (pos >= text.size()) return false;
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    *line = text.substr(pos, end - pos);
    pos = end + 1;
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    return true;
  };
  std::string_view line;
  if (!next_line(&line)) {
    ADD_FAILURE() << "empty request text";
    return request;
  }
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    ADD_FAILURE() << "bad request line: " << line;
    return request;
  }
  request.method = std::string(line.substr(0, first_space));
  const std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  const size_t question = target.find('?');
  request.path = std::string(target.substr(0, question));
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));

  bool blank_line = false;
  while (next_line(&line)) {
    if (line.empty()) {
      blank_line = true;
      break;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (request.headers.empty()) {
        ADD_FAILURE() << "continuation line before any header";
        continue;
      }
      request.headers.back().second.append("\n").append(line);
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      ADD_FAILURE() << "header line without ':': " << line;
      continue;
    }
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(Trim(line.substr(colon + 1))));
  }
  if (blank_line && pos < text.size()) request.body = std::string(text.substr(pos));
  if (const std::string* host = request.FindHeader("host")) request.host = *host;
  return request;
}

// Header order carries no meaning except among headers of one name, so
// compare lower-cased names after a stable sort by name.
std::vector<std::pair<std::string, std::string>> ComparableHeaders(const HttpRequest& request) {
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : request.headers) headers.emplace_back(ToLower(name), value);
  std::stable_sort(headers.begin(), headers.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return headers;
}

void ExpectSameRequest(const HttpRequest& actual, const HttpRequest& expected) {
  EXPECT_EQ(actual.method, expected.method);
  EXPECT_EQ(actual.path, expected.path);
  EXPECT_EQ(actual.query, expected.query);
  EXPECT_EQ(ComparableHeaders(actual), ComparableHeaders(expected));
  EXPECT_EQ(actual.body, expected.body);
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST(ParseRawRequest, HandlesFoldedAndRepeatedHeadersAndBody) {
  HttpRequest r = ParseRawRequest("POST /a b/?x=1 HTTP/1.1\nHost:h\nA: 1 \nA:2\nB:x\n  y\n\nbody\n");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/a b/");
  EXPECT_EQ(r.query, "x=1");
  EXPECT_EQ(r.host, "h");
  HttpHeaders expected = {{"Host", "h"}, {"A", "1"}, {"A", "2"}, {"B", "x\n  y"}};
  EXPECT_EQ(r.headers, expected);
  EXPECT_EQ(r.body, "body\n");
  EXPECT_EQ(ParseRawRequest("GET / HTTP/1.1\nHost:h\n").body, "");
  EXPECT_EQ(ParseRawRequest("GET / HTTP/1.1\nHost:h\n\n").body, "");
}

// ---------------------------------------------------------------------------
// The official AWS suite: every <case>/<case>.req, compared with .creq, .sts
// and .authz. All cases use the README's credentials, time, region, service.

constexpr std::string_view kSuiteAccessKeyId = "AKIDEXAMPLE";
constexpr std::string_view kSuiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
// get-vanilla-with-session-token signs with a token the suite only shows in
// its expected canonical request; aws-c-auth's context.json for the same
// case names it.
constexpr std::string_view kVanillaSessionToken = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
constexpr size_t kOfficialCaseCount = 34;
constexpr size_t kAwsCAuthCaseCount = 38;

std::string OfficialSuiteDir() { return cloudaudit::testing::SharedDir() + "/testdata/sigv4/aws-sig-v4-test-suite"; }
std::string AwsCAuthSuiteDir() { return cloudaudit::testing::SharedDir() + "/testdata/sigv4/aws-c-auth-v4"; }

// Case folders relative to the suite root ("get-vanilla",
// "normalize-path/get-slash"): every directory holding <name>/<name>.req.
std::vector<std::string> ListOfficialCases() {
  std::vector<std::string> cases;
  const fs::path root = OfficialSuiteDir();
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory()) continue;
    const fs::path& dir = it->path();
    if (fs::is_regular_file(dir / (dir.filename().string() + ".req"))) {
      cases.push_back(fs::relative(dir, root).generic_string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::vector<std::string> ListAwsCAuthCases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (fs::directory_iterator it(AwsCAuthSuiteDir(), ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory() && fs::is_regular_file(it->path() / "context.json")) {
      cases.push_back(it->path().filename().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

TEST(SigV4TestSuites, FindsEveryCase) {
  EXPECT_EQ(ListOfficialCases().size(), kOfficialCaseCount) << "in " << OfficialSuiteDir();
  EXPECT_EQ(ListAwsCAuthCases().size(), kAwsCAuthCaseCount) << "in " << AwsCAuthSuiteDir();
}

// The STS token of post-sts-token/readme.txt: its last line.
std::string ReadmeSessionToken() {
  const std::string readme = cloudaudit::testing::ReadFileOrDie(OfficialSuiteDir() + "/post-sts-token/readme.txt");
  std::string_view text = Trim(readme);
  const size_t newline = text.rfind('\n');
  std::string token(Trim(text.substr(newline == std::string_view::npos ? 0 : newline + 1)));
  EXPECT_EQ(token.rfind("AQoDYXdz", 0), 0u) << "unexpected readme layout";
  return token;
}

class OfficialSuite : public ::testing::TestWithParam<std::string> {};

TEST_P(OfficialSuite, MatchesCanonicalRequestStringToSignAndAuthorization) {
  const std::string dir = OfficialSuiteDir() + "/" + GetParam();
  const std::string name = fs::path(GetParam()).filename().string();
  const std::string base = dir + "/" + name;

  Credentials credentials;
  credentials.access_key_id = kSuiteAccessKeyId;
  credentials.secret_access_key = kSuiteSecret;
  SigningParams params;
  params.region = "us-east-1";
  params.service = "service";
  params.time_epoch = EpochOf("2015-08-30T12:36:00Z");
  // post-sts-token/readme.txt: "before" signs the token, "after" adds it
  // after signing.
  if (name == "get-vanilla-with-session-token") credentials.session_token = kVanillaSessionToken;
  if (name == "post-sts-header-before" || name == "post-sts-header-after") {
    credentials.session_token = ReadmeSessionToken();
    params.sign_session_token = name == "post-sts-header-before";
  }

  HttpRequest request = ParseRawRequest(cloudaudit::testing::ReadFileOrDie(base + ".req"));
  Result<SigningProducts> products = SignRequest(request, credentials, params);
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request, cloudaudit::testing::ReadFileOrDie(base + ".creq"));
  EXPECT_EQ(products->string_to_sign, cloudaudit::testing::ReadFileOrDie(base + ".sts"));
  const std::string* authorization = request.FindHeader("Authorization");
  ASSERT_NE(authorization, nullptr);
  EXPECT_EQ(*authorization, cloudaudit::testing::ReadFileOrDie(base + ".authz"));
  if (!credentials.session_token.empty()) {
    const std::string* token = request.FindHeader("X-Amz-Security-Token");
    ASSERT_NE(token, nullptr);
    EXPECT_EQ(*token, credentials.session_token);
  }

  Status verified = VerifySignedRequest(request, credentials, /*s3_style=*/false);
  EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
}

INSTANTIATE_TEST_SUITE_P(Cases, OfficialSuite, ::testing::ValuesIn(ListOfficialCases()), ParamName);

// ---------------------------------------------------------------------------
// aws-c-auth's suite: every case folder, header and query signing, compared
// with the canonical request, string to sign, signature and signed request.

struct AwsCAuthCase {
  Credentials credentials;
  SigningParams params;
  HttpRequest request;
};

AwsCAuthCase LoadAwsCAuthCase(const std::string& dir) {
  AwsCAuthCase c;
  Result<Json> context = ParseJson(cloudaudit::testing::ReadFileOrDie(dir + "/context.json"));
  if (!context.has_value()) {
    ADD_FAILURE() << context.error().ToString();
    return c;
  }
  const Json& j = *context;
  c.credentials.access_key_id = j.at("credentials").at("access_key_id").get<std::string>();
  c.credentials.secret_access_key = j.at("credentials").at("secret_access_key").get<std::string>();
  c.credentials.session_token = j.at("credentials").value("token", "");
  c.params.region = j.at("region").get<std::string>();
  c.params.service = j.at("service").get<std::string>();
  c.params.time_epoch = EpochOf(j.at("timestamp").get<std::string>());
  // "normalize": false skips normalization but still encodes the path once
  // more: the expected "/example%20space/" for the raw "/example space/".
  c.params.normalize_path = j.at("normalize").get<bool>();
  c.params.double_encode_path = true;
  c.params.add_content_sha256_header = j.at("sign_body").get<bool>();
  c.params.sign_session_token = !j.value("omit_session_token", false);
  c.params.expires_seconds = j.at("expiration_in_seconds").get<int64_t>();
  c.request = ParseRawRequest(cloudaudit::testing::ReadFileOrDie(dir + "/request.txt"));
  return c;
}

class AwsCAuthSuite : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Dir() const { return AwsCAuthSuiteDir() + "/" + GetParam(); }
  std::string Expected(const std::string& file) const { return cloudaudit::testing::ReadFileOrDie(Dir() + "/" + file); }
};

TEST_P(AwsCAuthSuite, HeaderSigning) {
  AwsCAuthCase c = LoadAwsCAuthCase(Dir());
  Result<SigningProducts> products = SignRequest(c.request, c.credentials, c.params);
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request, Expected("header-canonical-request.txt"));
  EXPECT_EQ(products->string_to_sign, Expected("header-string-to-sign.txt"));
  EXPECT_EQ(products->signature, Expected("header-signature.txt"));
  ExpectSameRequest(c.request, ParseRawRequest(Expected("header-signed-request.txt")));
  if (c.params.normalize_path) {  // the verifier knows only the normal and the S3 variants
    Status verified = VerifySignedRequest(c.request, c.credentials, /*s3_style=*/false);
    EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
  }
}

TEST_P(AwsCAuthSuite, QuerySigning) {
  AwsCAuthCase c = LoadAwsCAuthCase(Dir());
  Result<SigningProducts> products = PresignRequest(c.request, c.credentials, c.params);
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request, Expected("query-canonical-request.txt"));
  EXPECT_EQ(products->string_to_sign, Expected("query-string-to-sign.txt"));
  EXPECT_EQ(products->signature, Expected("query-signature.txt"));
  ExpectSameRequest(c.request, ParseRawRequest(Expected("query-signed-request.txt")));
}

INSTANTIATE_TEST_SUITE_P(Cases, AwsCAuthSuite, ::testing::ValuesIn(ListAwsCAuthCases()), ParamName);

// ---------------------------------------------------------------------------
// S3: the examples of AWS's "Signature Calculations for the Authorization
// Header" and "Query String Authentication" pages of the S3 API reference.

Credentials S3ExampleCredentials() {
  Credentials credentials;
  credentials.access_key_id = "AKIAIOSFODNN7EXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  return credentials;
}

HttpRequest S3ExampleRequest(std::string method, std::string path, std::string query = "") {
  HttpRequest request;
  request.method = std::move(method);
  request.host = "examplebucket.s3.amazonaws.com";
  request.path = std::move(path);
  request.query = std::move(query);
  return request;
}

TEST(SigV4S3, SignsDocumentedGetObjectExample) {
  HttpRequest request = S3ExampleRequest("GET", "/test.txt");
  request.headers = {{"Range", "bytes=0-9"}};
  const Credentials credentials = S3ExampleCredentials();
  Result<SigningProducts> products =
      SignRequest(request, credentials, S3SigningParams("us-east-1", EpochOf("2013-05-24T00:00:00Z")));
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(products->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(products->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  const std::string* authorization = request.FindHeader("authorization");
  ASSERT_NE(authorization, nullptr);
  EXPECT_EQ(*authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  ASSERT_NE(request.FindHeader("x-amz-content-sha256"), nullptr);
  EXPECT_EQ(*request.FindHeader("x-amz-content-sha256"), kEmptySha256);
  Status verified = VerifySignedRequest(request, credentials, /*s3_style=*/true);
  EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
}

TEST(SigV4S3, SignsDocumentedPutObjectExample) {
  // The key "test$file.text" is encoded into the path by the caller; S3
  // signs the path as sent.
  HttpRequest request = S3ExampleRequest("PUT", "/test%24file.text");
  request.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  request.body = "Welcome to Amazon S3.";
  Result<SigningProducts> products =
      SignRequest(request, S3ExampleCredentials(), S3SigningParams("us-east-1", EpochOf("2013-05-24T00:00:00Z")));
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request,
            "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(products->signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3, SignsDocumentedGetBucketLifecycleAndListObjectsExamples) {
  const int64_t time = EpochOf("2013-05-24T00:00:00Z");
  HttpRequest lifecycle = S3ExampleRequest("GET", "/", "lifecycle");
  Result<SigningProducts> products = SignRequest(lifecycle, S3ExampleCredentials(), S3SigningParams("us-east-1", time));
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request.substr(0, 17), "GET\n/\nlifecycle=\n");
  EXPECT_EQ(products->signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");

  HttpRequest list = S3ExampleRequest("GET", "/", "max-keys=2&prefix=J");
  products = SignRequest(list, S3ExampleCredentials(), S3SigningParams("us-east-1", time));
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// Signing keys are cached per thread by secret, day, region and service:
// another secret or a full cache must never give a stale key.
TEST(SigV4S3, SigningKeyCacheKeepsSecretsApart) {
  const int64_t time = EpochOf("2013-05-24T00:00:00Z");
  auto sign = [&](const Credentials& credentials, const std::string& region) {
    HttpRequest request = S3ExampleRequest("GET", "/test.txt");
    request.headers = {{"Range", "bytes=0-9"}};
    Result<SigningProducts> products = SignRequest(request, credentials, S3SigningParams(region, time));
    EXPECT_TRUE(products.has_value());
    return products.has_value() ? products->signature : std::string();
  };
  const std::string documented = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
  Credentials other = S3ExampleCredentials();
  other.secret_access_key.back() = 'Z';
  EXPECT_EQ(sign(S3ExampleCredentials(), "us-east-1"), documented);
  const std::string other_signature = sign(other, "us-east-1");
  EXPECT_NE(other_signature, documented);
  EXPECT_EQ(sign(S3ExampleCredentials(), "us-east-1"), documented);
  for (int i = 0; i < 40; ++i) sign(S3ExampleCredentials(), "region-" + std::to_string(i));
  EXPECT_EQ(sign(other, "us-east-1"), other_signature);
  EXPECT_EQ(sign(S3ExampleCredentials(), "us-east-1"), documented);
}

TEST(SigV4S3, PresignsDocumentedExample) {
  HttpRequest request = S3ExampleRequest("GET", "/test.txt");
  SigningParams params = S3SigningParams("us-east-1", EpochOf("2013-05-24T00:00:00Z"));
  params.unsigned_payload = true;
  params.expires_seconds = 86400;
  Result<SigningProducts> products = PresignRequest(request, S3ExampleCredentials(), params);
  ASSERT_TRUE(products.has_value()) << products.error().ToString();
  EXPECT_EQ(products->canonical_request,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2F"
            "us-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n"
            "host:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD");
  EXPECT_EQ(products->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  // Presigned URLs carry no X-Amz-Content-Sha256 header, even with S3 params.
  EXPECT_EQ(request.FindHeader("x-amz-content-sha256"), nullptr);
  EXPECT_EQ(request.Url(),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
            "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&"
            "X-Amz-SignedHeaders=host&X-Amz-Expires=86400&"
            "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

TEST(SigV4S3, SignsPathAsSentWithoutNormalizing) {
  HttpRequest request = S3ExampleRequest("GET", "/my-object//example//./photo%20one.user");
  Result<SigningProducts> products = SignRequest(request, S3ExampleCredentials(), S3SigningParams("us-east-1", 0));
  ASSERT_TRUE(products.has_value());
  EXPECT_EQ(Split(products->canonical_request, '\n').at(1), "/my-object//example//./photo%20one.user");
}

TEST(SigV4S3, UnsignedPayloadGoesIntoTheHeader) {
  HttpRequest request = S3ExampleRequest("PUT", "/big");
  request.body = "streamed elsewhere";
  SigningParams params = S3SigningParams("eu-west-1", EpochOf("2024-01-02T03:04:05Z"));
  params.unsigned_payload = true;
  Result<SigningProducts> products = SignRequest(request, S3ExampleCredentials(), params);
  ASSERT_TRUE(products.has_value());
  EXPECT_EQ(*request.FindHeader("X-Amz-Content-Sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_TRUE(products->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  EXPECT_TRUE(VerifySignedRequest(request, S3ExampleCredentials(), /*s3_style=*/true).has_value());
}

// ---------------------------------------------------------------------------
// Canonicalization details the suites do not cover.

Credentials TestCredentials() {
  Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "TOP-SECRET-KEY-6e5f4d3c2b1a";
  return credentials;
}

SigningParams TestParams() {
  SigningParams params;
  params.region = "us-east-1";
  params.service = "iam";
  params.time_epoch = EpochOf("2024-02-29T23:59:59Z");
  return params;
}

std::string CanonicalRequestOf(HttpRequest request, const SigningParams& params = TestParams()) {
  Result<SigningProducts> products = SignRequest(request, TestCredentials(), params);
  EXPECT_TRUE(products.has_value()) << products.error().ToString();
  return products.has_value() ? products->canonical_request : std::string();
}

// Line `index` (0-based) of a canonical request.
std::string CanonicalLine(const std::string& canonical_request, size_t index) {
  std::vector<std::string> lines = Split(canonical_request, '\n');
  return index < lines.size() ? lines[index] : std::string("<missing>");
}

TEST(SigV4Canonical, QueryIsReencodedSortedByKeyThenValueWithEmptyValues) {
  HttpRequest request;
  request.host = "iam.amazonaws.com";
  request.query = "b=2&a=&c&a=1&%7e=x&sp=a%20b&plus=a+b&lower=%2f&&a-b=3&utf=%e1%88%b4&raw=$";
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 2),
            "a=&a=1&a-b=3&b=2&c=&lower=%2F&plus=a%2Bb&raw=%24&sp=a%20b&utf=%E1%88%B4&~=x");
}

TEST(SigV4Canonical, PathIsNormalizedAndEncodedOnceMore) {
  HttpRequest request;
  request.host = "iam.amazonaws.com";
  request.path = "/a/b/../c/./d%20e//";
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 1), "/a/c/d%2520e/");
  request.path = "/a/b/..";
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 1), "/a");
  request.path = "/../..";
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 1), "/");
  request.path = "";
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 1), "/");
  request.path = "/2015-03-31/functions/arn%3Aaws%3Alambda/invocations";
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 1), "/2015-03-31/functions/arn%253Aaws%253Alambda/invocations");
}

TEST(SigV4Canonical, HeaderValuesAreTrimmedFoldedAndJoined) {
  HttpRequest request;
  request.host = "iam.amazonaws.com";
  request.headers = {{"X-B", "  one \t two  "}, {"x-a", "1"}, {"X-A", "\t2\r\n  3 "}, {"X-Empty", ""}};
  const std::string canonical = CanonicalRequestOf(request);
  EXPECT_EQ(CanonicalLine(canonical, 3), "host:iam.amazonaws.com");
  EXPECT_EQ(CanonicalLine(canonical, 4), "x-a:1,2 3");
  EXPECT_EQ(CanonicalLine(canonical, 5), "x-amz-date:20240229T235959Z");
  EXPECT_EQ(CanonicalLine(canonical, 6), "x-b:one two");
  EXPECT_EQ(CanonicalLine(canonical, 7), "x-empty:");
  EXPECT_EQ(CanonicalLine(canonical, 9), "host;x-a;x-amz-date;x-b;x-empty");
}

TEST(SigV4Canonical, SkipsHeadersThatProxiesRewrite) {
  HttpRequest request;
  request.host = "iam.amazonaws.com";
  request.headers = {{"User-Agent", "cloudaudit/0.1"},
                     {"Expect", "100-continue"},
                     {"X-Amzn-Trace-Id", "t"},
                     {"Transfer-Encoding", "chunked"},
                     {"Content-Type", "application/x-www-form-urlencoded"}};
  EXPECT_EQ(CanonicalLine(CanonicalRequestOf(request), 7), "content-type;host;x-amz-date");
}

TEST(SigV4Sign, AddsHostHeaderWithoutTheDefaultPort) {
  struct Case {
    std::string scheme, host, expected;
  };
  for (const Case& c : std::vector<Case>{{"https", "iam.amazonaws.com:443", "iam.amazonaws.com"},
                                         {"http", "127.0.0.1:80", "127.0.0.1"},
                                         {"http", "127.0.0.1:8080", "127.0.0.1:8080"},
                                         {"https", "localhost:80", "localhost:80"},
                                         {"https", "[::1]:443", "[::1]"},
                                         {"https", "iam.amazonaws.com", "iam.amazonaws.com"}}) {
    HttpRequest request;
    request.scheme = c.scheme;
    request.host = c.host;
    ASSERT_TRUE(SignRequest(request, TestCredentials(), TestParams()).has_value());
    ASSERT_NE(request.FindHeader("Host"), nullptr) << c.host;
    EXPECT_EQ(*request.FindHeader("Host"), c.expected) << c.host;
  }
}

TEST(SigV4Sign, KeepsAnExistingHostHeaderAndReplacesOldSigningHeaders) {
  HttpRequest request;
  request.host = "127.0.0.1:9000";
  request.headers = {{"host", "iam.amazonaws.com"}};
  ASSERT_TRUE(SignRequest(request, TestCredentials(), TestParams()).has_value());
  SigningParams later = TestParams();
  later.time_epoch += 60;
  Result<SigningProducts> products = SignRequest(request, TestCredentials(), later);
  ASSERT_TRUE(products.has_value());
  EXPECT_EQ(*request.FindHeader("Host"), "iam.amazonaws.com");
  size_t authorizations = 0, dates = 0;
  for (const auto& [name, value] : request.headers) {
    authorizations += IEquals(name, "authorization");
    dates += IEquals(name, "x-amz-date");
  }
  EXPECT_EQ(authorizations, 1u);
  EXPECT_EQ(dates, 1u);
  EXPECT_EQ(*request.FindHeader("X-Amz-Date"), "20240301T000059Z");
  EXPECT_NE(request.FindHeader("authorization")->find(products->signature), std::string::npos);
}

TEST(SigV4Sign, SessionTokenSignedOrAddedAfterSigning) {
  Credentials credentials = TestCredentials();
  credentials.session_token = "FwoGZXIvYXdzEXAMPLETOKEN+/=";
  HttpRequest request;
  request.host = "sts.amazonaws.com";
  HttpRequest unsigned_token = request;

  ASSERT_TRUE(SignRequest(request, credentials, TestParams()).has_value());
  EXPECT_NE(request.FindHeader("authorization")->find("SignedHeaders=host;x-amz-date;x-amz-security-token,"),
            std::string::npos);
  EXPECT_EQ(*request.FindHeader("x-amz-security-token"), credentials.session_token);

  SigningParams params = TestParams();
  params.sign_session_token = false;
  unsigned_token.headers = {{"X-Amz-Security-Token", "stale"}};
  Result<SigningProducts> products = SignRequest(unsigned_token, credentials, params);
  ASSERT_TRUE(products.has_value());
  EXPECT_NE(unsigned_token.FindHeader("authorization")->find("SignedHeaders=host;x-amz-date,"), std::string::npos);
  EXPECT_EQ(products->canonical_request.find("security-token"), std::string::npos);
  EXPECT_EQ(*unsigned_token.FindHeader("x-amz-security-token"), credentials.session_token);
  EXPECT_TRUE(VerifySignedRequest(request, credentials, false).has_value());
  EXPECT_TRUE(VerifySignedRequest(unsigned_token, credentials, false).has_value());
}

TEST(SigV4Sign, PresignWithUnsignedSessionTokenAppendsItBeforeTheSignature) {
  Credentials credentials = TestCredentials();
  credentials.session_token = "tok/en+";
  HttpRequest request;
  request.host = "iam.amazonaws.com";
  request.query = "Action=ListUsers&Version=2010-05-08";
  SigningParams params = TestParams();
  params.expires_seconds = 900;
  params.sign_session_token = false;
  Result<SigningProducts> products = PresignRequest(request, credentials, params);
  ASSERT_TRUE(products.has_value());
  EXPECT_EQ(products->canonical_request.find("Security-Token"), std::string::npos);
  EXPECT_NE(request.query.find("&X-Amz-Expires=900&X-Amz-Security-Token=tok%2Fen%2B&X-Amz-Signature="),
            std::string::npos);
  EXPECT_EQ(request.query.rfind("Action=ListUsers&Version=2010-05-08&X-Amz-Algorithm=", 0), 0u);
}

TEST(SigV4Sign, RejectsBadInputWithoutTouchingTheRequestOrLeakingSecrets) {
  HttpRequest original;
  original.host = "iam.amazonaws.com";
  original.headers = {{"Content-Type", "application/json"}};
  original.body = "{}";
  const Credentials good = TestCredentials();

  struct Case {
    std::string what;
    Credentials credentials;
    SigningParams params;
    ErrorCode code;
  };
  std::vector<Case> cases;
  Credentials no_secret = good;
  no_secret.secret_access_key.clear();
  Credentials no_key = good;
  no_key.access_key_id.clear();
  Credentials slash_key = good;
  slash_key.access_key_id = "AKID/EVIL";
  SigningParams no_region = TestParams();
  no_region.region.clear();
  SigningParams slash_region = TestParams();
  slash_region.region = "us-east-1/x";
  SigningParams spaced_service = TestParams();
  spaced_service.service = "i am";
  SigningParams before_1970 = TestParams();
  before_1970.time_epoch = -1;
  SigningParams after_9999 = TestParams();
  after_9999.time_epoch = 253402300800;
  cases.push_back({"no secret", no_secret, TestParams(), ErrorCode::kCredentials});
  cases.push_back({"no key id", no_key, TestParams(), ErrorCode::kCredentials});
  cases.push_back({"key id with '/'", slash_key, TestParams(), ErrorCode::kCredentials});
  cases.push_back({"no region", good, no_region, ErrorCode::kInvalidArgument});
  cases.push_back({"region with '/'", good, slash_region, ErrorCode::kInvalidArgument});
  cases.push_back({"service with space", good, spaced_service, ErrorCode::kInvalidArgument});
  cases.push_back({"time before 1970", good, before_1970, ErrorCode::kInvalidArgument});
  cases.push_back({"time after 9999", good, after_9999, ErrorCode::kInvalidArgument});
  for (const Case& c : cases) {
    for (bool presign : {false, true}) {
      HttpRequest request = original;
      SigningParams params = c.params;
      params.expires_seconds = 60;
      Result<SigningProducts> products =
          presign ? PresignRequest(request, c.credentials, params) : SignRequest(request, c.credentials, params);
      ASSERT_FALSE(products.has_value()) << c.what;
      EXPECT_EQ(products.error().code, c.code) << c.what;
      EXPECT_EQ(products.error().message.find(good.secret_access_key), std::string::npos) << c.what;
      EXPECT_EQ(request.headers, original.headers) << c.what;
      EXPECT_EQ(request.query, original.query) << c.what;
    }
  }

  HttpRequest no_host;
  EXPECT_FALSE(SignRequest(no_host, good, TestParams()).has_value());
  EXPECT_TRUE(no_host.headers.empty());
  for (int64_t expires : {int64_t{0}, int64_t{-5}, int64_t{604801}}) {
    HttpRequest request = original;
    SigningParams params = TestParams();
    params.expires_seconds = expires;
    Result<SigningProducts> products = PresignRequest(request, good, params);
    ASSERT_FALSE(products.has_value()) << expires;
    EXPECT_EQ(products.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(request.query.empty());
  }
}

// ---------------------------------------------------------------------------
// VerifySignedRequest.

HttpRequest SignedIamRequest(const Credentials& credentials, bool sign_token = true) {
  HttpRequest request;
  request.method = "POST";
  request.host = "iam.amazonaws.com";
  request.path = "/";
  request.query = "Extra=1";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = "Action=ListUsers&Version=2010-05-08";
  SigningParams params = TestParams();
  params.sign_session_token = sign_token;
  EXPECT_TRUE(SignRequest(request, credentials, params).has_value());
  return request;
}

HttpRequest SignedS3Request(const Credentials& credentials) {
  HttpRequest request;
  request.method = "PUT";
  request.host = "bucket.s3.eu-west-1.amazonaws.com";
  request.path = "/dir//a%20b.txt";
  request.query = "x-id=PutObject";
  request.body = "hello";
  EXPECT_TRUE(
      SignRequest(request, credentials, S3SigningParams("eu-west-1", EpochOf("2024-05-06T07:08:09Z"))).has_value());
  return request;
}

// No error may show the secret, the session token or the signature.
void ExpectNoSecretsIn(const Error& error, const Credentials& credentials, const HttpRequest& request) {
  const std::string text = error.ToString();
  EXPECT_EQ(text.find(credentials.secret_access_key), std::string::npos) << text;
  if (!credentials.session_token.empty()) {
    EXPECT_EQ(text.find(credentials.session_token), std::string::npos) << text;
  }
  if (const std::string* authorization = request.FindHeader("authorization")) {
    const size_t at = authorization->find("Signature=");
    if (at != std::string::npos && authorization->size() >= at + 10 + 16) {
      EXPECT_EQ(text.find(authorization->substr(at + 10, 16)), std::string::npos) << text;
    }
  }
}

void ExpectRejected(const HttpRequest& request, const Credentials& credentials, bool s3_style,
                    std::string_view aws_code, std::string_view message_part) {
  Status status = VerifySignedRequest(request, credentials, s3_style);
  ASSERT_FALSE(status.has_value()) << "accepted, expected " << aws_code;
  EXPECT_EQ(status.error().aws_code, aws_code) << status.error().ToString();
  EXPECT_NE(status.error().message.find(message_part), std::string::npos) << status.error().ToString();
  EXPECT_GE(status.error().http_status, 400);
  ExpectNoSecretsIn(status.error(), credentials, request);
}

TEST(SigV4Verify, AcceptsWhatSignRequestProduced) {
  Credentials credentials = TestCredentials();
  EXPECT_TRUE(VerifySignedRequest(SignedIamRequest(credentials), credentials, false).has_value());
  EXPECT_TRUE(VerifySignedRequest(SignedS3Request(credentials), credentials, true).has_value());
  credentials.session_token = "IQoJb3JpZ2luX2VjEXAMPLE//+=";
  EXPECT_TRUE(VerifySignedRequest(SignedIamRequest(credentials), credentials, false).has_value());
  EXPECT_TRUE(VerifySignedRequest(SignedIamRequest(credentials, /*sign_token=*/false), credentials, false).has_value());
  EXPECT_TRUE(VerifySignedRequest(SignedS3Request(credentials), credentials, true).has_value());
}

TEST(SigV4Verify, IgnoresUnsignedHeadersAddedAfterSigning) {
  const Credentials credentials = TestCredentials();
  HttpRequest request = SignedIamRequest(credentials);
  request.headers.emplace_back("User-Agent", "curl/7.88");
  request.headers.emplace_back("Accept", "*/*");
  EXPECT_TRUE(VerifySignedRequest(request, credentials, false).has_value());
}

TEST(SigV4Verify, RejectsTamperedRequests) {
  const Credentials credentials = TestCredentials();
  const HttpRequest iam = SignedIamRequest(credentials);
  const HttpRequest s3 = SignedS3Request(credentials);

  HttpRequest request = iam;
  request.body = "Action=DeleteUser&Version=2010-05-08";
  ExpectRejected(request, credentials, false, "SignatureDoesNotMatch", "signature does not match");

  request = iam;
  request.SetHeader("Content-Type", "application/json");
  ExpectRejected(request, credentials, false, "SignatureDoesNotMatch", "string to sign");

  request = iam;
  request.query = "Extra=2";
  ExpectRejected(request, credentials, false, "SignatureDoesNotMatch", "signature does not match");

  request = iam;
  request.path = "/other";
  ExpectRejected(request, credentials, false, "SignatureDoesNotMatch", "signature does not match");

  request = iam;
  request.SetHeader("X-Amz-Date", "20240229T235958Z");
  ExpectRejected(request, credentials, false, "SignatureDoesNotMatch", "signature does not match");

  request = s3;
  request.body = "HELLO";
  ExpectRejected(request, credentials, true, "XAmzContentSHA256Mismatch", "X-Amz-Content-Sha256");

  request = s3;
  request.path = "/dir/a%20b.txt";  // S3 paths are not normalized: "//" matters
  ExpectRejected(request, credentials, true, "SignatureDoesNotMatch", "signature does not match");

  request = s3;
  request.RemoveHeader("X-Amz-Content-Sha256");
  ExpectRejected(request, credentials, true, "InvalidRequest", "X-Amz-Content-Sha256");
}

TEST(SigV4Verify, RejectsWrongCredentials) {
  const Credentials credentials = TestCredentials();
  const HttpRequest request = SignedIamRequest(credentials);

  Credentials other_secret = credentials;
  other_secret.secret_access_key = "ANOTHER-SECRET-KEY-0123456789";
  ExpectRejected(request, other_secret, false, "SignatureDoesNotMatch", "another secret key");

  Credentials other_key = credentials;
  other_key.access_key_id = "AKIDOTHER";
  ExpectRejected(request, other_key, false, "InvalidClientTokenId", "access key id");
  ExpectRejected(SignedS3Request(credentials), other_key, true, "InvalidAccessKeyId", "access key id");

  Credentials temporary = credentials;
  temporary.session_token = "SESSION-TOKEN-VALUE-abcdef";
  ExpectRejected(request, temporary, false, "InvalidClientTokenId", "no X-Amz-Security-Token");
  HttpRequest with_token = SignedIamRequest(temporary);
  ExpectRejected(with_token, credentials, false, "InvalidClientTokenId", "no session token");
  Credentials other_token = temporary;
  other_token.session_token = "SESSION-TOKEN-VALUE-OTHER";
  ExpectRejected(with_token, other_token, false, "InvalidClientTokenId", "not the session token");
}

std::string ToUpperForTest(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

TEST(SigV4Verify, RejectsMissingOrMalformedAuthorization) {
  const Credentials credentials = TestCredentials();
  const HttpRequest signed_request = SignedIamRequest(credentials);
  const std::string good = *signed_request.FindHeader("Authorization");
  const std::string signature = good.substr(good.find("Signature=") + 10);
  const std::string credential = "Credential=AKIDEXAMPLE/20240229/us-east-1/iam/aws4_request";
  const std::string signed_headers = "SignedHeaders=content-type;host;x-amz-date";

  HttpRequest request = signed_request;
  request.RemoveHeader("Authorization");
  ExpectRejected(request, credentials, false, "MissingAuthenticationToken", "no Authorization header");

  request = signed_request;
  request.headers.emplace_back("authorization", good);
  ExpectRejected(request, credentials, false, "IncompleteSignature", "more than one Authorization");

  struct Case {
    std::string authorization;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"", "AWS4-HMAC-SHA256"},
      {"Bearer abc", "AWS4-HMAC-SHA256"},
      {"AWS4-HMAC-SHA256", "nothing after"},
      {"AWS4-HMAC-SHA256Credential=x", "nothing after"},
      {"AWS4-HMAC-SHA256 ", "nothing after"},
      {"AWS4-HMAC-SHA256 ,,,", "without '='"},
      {"AWS4-HMAC-SHA256 " + credential + ", " + signed_headers, "no Signature"},
      {"AWS4-HMAC-SHA256 " + signed_headers + ", Signature=" + signature, "no Credential"},
      {"AWS4-HMAC-SHA256 " + credential + ", Signature=" + signature, "no SignedHeaders"},
      {"AWS4-HMAC-SHA256 " + credential + ", " + credential + ", " + signed_headers + ", Signature=" + signature,
       "repeats Credential"},
      {"AWS4-HMAC-SHA256 " + credential + ", " + signed_headers + ", Signature=" + signature + ", Extra=1",
       "unknown component"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/us-east-1/iam, " + signed_headers + ", Signature=" + signature,
       "Credential is not"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2024022/us-east-1/iam/aws4_request, " + signed_headers +
           ", Signature=" + signature,
       "Credential is not"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229/us-east-1/iam/aws5_request, " + signed_headers +
           ", Signature=" + signature,
       "Credential is not"},
      {"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240229//iam/aws4_request, " + signed_headers +
           ", Signature=" + signature,
       "Credential is not"},
      {"AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;content-type;x-amz-date, Signature=" + signature,
       "sorted list"},
      {"AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=content-type;Host;x-amz-date, Signature=" + signature,
       "sorted list"},
      {"AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;;x-amz-date, Signature=" + signature, "sorted list"},
      {"AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=, Signature=" + signature, "sorted list"},
      {"AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=x-amz-date, Signature=" + signature, "must include host"},
      {"AWS4-HMAC-SHA256 " + credential + ", SignedHeaders=host;x-amz-date;x-custom, Signature=" + signature,
       "\"x-custom\" is not in the request"},
      {"AWS4-HMAC-SHA256 " + credential + ", " + signed_headers + ", Signature=" + signature.substr(1),
       "64 lower-case hex"},
      {"AWS4-HMAC-SHA256 " + credential + ", " + signed_headers + ", Signature=" + ToUpperForTest(signature),
       "64 lower-case hex"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.authorization);
    request = signed_request;
    request.SetHeader("Authorization", c.authorization);
    ExpectRejected(request, credentials, false, "IncompleteSignature", c.message_part);
  }

  // A credential scope dated another day than X-Amz-Date.
  request = signed_request;
  request.SetHeader("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240228/us-east-1/iam/aws4_request, " +
                                         signed_headers + ", Signature=" + signature);
  ExpectRejected(request, credentials, false, "SignatureDoesNotMatch", "date in the Authorization Credential");

  for (const std::string date : {"", "2024-02-29T23:59:59Z", "20240229T235959", "20240229X235959Z"}) {
    request = signed_request;
    request.SetHeader("X-Amz-Date", date);
    ExpectRejected(request, credentials, false, "IncompleteSignature", "X-Amz-Date");
  }
  request = signed_request;
  request.RemoveHeader("X-Amz-Date");
  ExpectRejected(request, credentials, false, "IncompleteSignature", "X-Amz-Date");

  request = signed_request;
  request.SetHeader("X-Amz-Content-Sha256", "not-a-hash");
  ExpectRejected(request, credentials, false, "InvalidArgument", "X-Amz-Content-Sha256");
}

TEST(SigV4Verify, NeverCrashesOnGarbage) {
  const Credentials credentials = TestCredentials();
  const HttpRequest signed_request = SignedIamRequest(credentials);
  const std::string good = *signed_request.FindHeader("Authorization");
  std::mt19937 rng(20240229);
  auto random_byte = [&] { return static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng)); };
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::string alphabet = "AWS4-HMAC-SHA256 Credential=/,;=SignedHeaders Signature aws4_request 0af \t\n%";

  for (int i = 0; i < 3000; ++i) {
    HttpRequest request = signed_request;
    std::string authorization;
    switch (i % 3) {
      case 0: {  // random bytes
        const size_t length = pick(200);
        for (size_t k = 0; k < length; ++k) authorization.push_back(random_byte());
        break;
      }
      case 1: {  // a valid header with a few bytes flipped, inserted or deleted
        authorization = good;
        for (size_t edits = 1 + pick(4); edits > 0 && !authorization.empty(); --edits) {
          const size_t at = pick(authorization.size());
          switch (pick(3)) {
            case 0:
              authorization[at] = random_byte();
              break;
            case 1:
              authorization.insert(authorization.begin() + static_cast<std::ptrdiff_t>(at), random_byte());
              break;
            default:
              authorization.erase(at, 1);
              break;
          }
        }
        break;
      }
      default: {  // the right vocabulary in random order
        const size_t length = pick(300);
        for (size_t k = 0; k < length; ++k) authorization.push_back(alphabet[pick(alphabet.size())]);
        break;
      }
    }
    request.SetHeader("Authorization", authorization);
    if (i % 7 == 0) request.SetHeader("X-Amz-Content-Sha256", authorization.substr(0, 64));
    if (i % 11 == 0) request.SetHeader("X-Amz-Date", authorization.substr(0, 16));
    Status status = VerifySignedRequest(request, credentials, i % 2 == 0);
    if (authorization != good) {
      // A flip can only be accepted if it left the header equivalent (say,
      // whitespace after a comma); it must never be accepted with another
      // signature.
      if (status.has_value()) {
        EXPECT_NE(authorization.find(good.substr(good.find("Signature="))), std::string::npos) << authorization;
      } else {
        ExpectNoSecretsIn(status.error(), credentials, signed_request);
      }
    }
  }
}

}  // namespace
}  // namespace cloudaudit::aws
