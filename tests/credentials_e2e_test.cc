// End-to-end tests of the credential provider chain: OpenSession with an
// in-memory ~/.aws and an explicit environment, the real CurlTransport, and
// FakeAws (plus small cpp-httplib servers for the container and instance
// metadata endpoints) on 127.0.0.1. Every source ends in a scan call that the
// fake accepts only when it is signed with the credentials that source was
// meant to produce.
//
// FakeAws verifies one key pair. Where two are in play (assume-role: the
// source profile's long-term keys sign sts AssumeRole, the assumed temporary
// keys sign the scan), two fakes are used: AWS_ENDPOINT_URL_STS points at one
// verifying the source keys, AWS_ENDPOINT_URL at one verifying the assumed
// keys, so both signatures are really checked.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/auth/environment.h"
#include "aws/client/session.h"
#include "aws/http/curl_transport.h"
#include "base/json.h"
#include "e2e_support.h"
#include "testing/fake_aws.h"

namespace cloudaudit::testing {
namespace {

using aws::ConfigOverrides;
using aws::Credentials;
using aws::CurlTransport;
using aws::CurlTransportOptions;
using aws::Environment;
using aws::EnvironmentVariables;
using aws::MemoryFileSystem;
using aws::Session;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kHome[] = "/home/e2e";
constexpr char kFarFuture[] = "2099-01-01T00:00:00Z";

Credentials Temporary(std::string access_key_id, std::string secret, std::string token) {
  Credentials c;
  c.access_key_id = std::move(access_key_id);
  c.secret_access_key = std::move(secret);
  c.session_token = std::move(token);
  return c;
}

// What each source is made to hand out.
const Credentials kEnvKeys = Temporary("ASIAENVIRONMENT00001", "envSecret/K7MDENG+bPxRfiCYEXAMPLEKEY", "env-token");
const Credentials kAssumed =
    Temporary("ASIAASSUMEDROLE00001", "assumedSecret/K7MDENG+bPxRfiCYEXAMPLE", "assumed-role-session-token");
const Credentials kWebIdentity =
    Temporary("ASIAWEBIDENTITY00001", "webSecret/K7MDENG+bPxRfiCYEXAMPLEKEY", "web-identity-session-token");
const Credentials kSso = Temporary("ASIASSOROLECREDS0001", "ssoSecret/K7MDENG+bPxRfiCYEXAMPLEKEY", "sso-session-token");
const Credentials kContainer =
    Temporary("ASIACONTAINERROLE001", "containerSecret/K7MDENG+bPxRfiCYEXAMPL", "container-session-token");
const Credentials kInstance =
    Temporary("ASIAINSTANCEROLE0001", "instanceSecret/K7MDENG+bPxRfiCYEXAMPLE", "instance-session-token");
const Credentials kProcess =
    Temporary("ASIACREDPROCESS00001", "processSecret/K7MDENG+bPxRfiCYEXAMPLEK", "process-session-token");

std::string StsCredentialsXml(const Credentials& c) {
  return fmt::format(
      "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>"
      "<SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials>",
      c.access_key_id, c.secret_access_key, c.session_token, kFarFuture);
}

// A cpp-httplib server on 127.0.0.1:<ephemeral> for the container and IMDS
// endpoints.
class LocalServer {
 public:
  LocalServer() {
    // One request per connection: an idle keep-alive connection held by the
    // shared transport would make Stop() wait for it to time out.
    server_.set_keep_alive_max_count(1);
    server_.set_tcp_nodelay(true);
  }
  ~LocalServer() { Stop(); }
  httplib::Server& server() { return server_; }
  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() is ignored until the server runs (see StartServing).
    for (int i = 0; i < 1000 && !server_.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_TRUE(server_.is_running());
  }
  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

class CredentialsE2eTest : public ::testing::Test {
 protected:
  // The fake that serves the scan call, verifying `expected`.
  void StartFake(const Credentials& expected) {
    fake_ = std::make_unique<FakeAws>(FakeAws::Options{.credentials = expected});
    ASSERT_TRUE(StartServing(*fake_));
    fake_->AddResponses("iam", "ListUsers", RecordedResponses("query/iam-list-users"));
  }

  // A clean environment: no credentials, the fake as endpoint, and the
  // instance metadata service on a refusing loopback port, so the chain can
  // never reach 169.254.169.254.
  Environment BaseEnvironment() const {
    Environment env;
    env.Set("HOME", kHome);
    env.Set("AWS_REGION", "us-east-1");
    if (fake_) env.Set("AWS_ENDPOINT_URL", fake_->endpoint());
    env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:" + std::to_string(no_imds_.port()));
    return env;
  }

  Result<Session> Open(Environment env, ConfigOverrides overrides = {}) {
    return aws::OpenSession(overrides, std::move(env), fs_, transport_);
  }

  // One scan call through the session's client; the fake must have accepted
  // its signature, made with `expected`.
  void ExpectScanSignedWith(Session& session, const Credentials& expected) {
    const int before = fake_->RequestCount("iam", "ListUsers");
    auto users = session.client->Call("iam", "ListUsers", Json::object());
    ASSERT_TRUE(users) << users.error().ToString();
    EXPECT_EQ((*users)["Users"].size(), 3u);
    auto requests = fake_->Requests("iam", "ListUsers");
    ASSERT_EQ(static_cast<int>(requests.size()), before + 1);
    const ReceivedRequest& r = requests.back();
    EXPECT_EQ(r.status, 200) << r.aws_code;
    ASSERT_NE(r.http.FindHeader("authorization"), nullptr);
    EXPECT_THAT(*r.http.FindHeader("authorization"), HasSubstr("Credential=" + expected.access_key_id + "/"));
    const std::string* token = r.http.FindHeader("x-amz-security-token");
    if (expected.session_token.empty()) {
      EXPECT_EQ(token, nullptr);
    } else {
      ASSERT_NE(token, nullptr);
      EXPECT_EQ(*token, expected.session_token);
    }
  }

  RefusingPort no_imds_;
  std::unique_ptr<FakeAws> fake_;
  std::shared_ptr<MemoryFileSystem> fs_ = std::make_shared<MemoryFileSystem>();
  std::shared_ptr<CurlTransport> transport_ =
      std::make_shared<CurlTransport>(CurlTransportOptions{.environment = EnvironmentVariables{}});
};

// ---------------------------------------------------------------- (a) environment

TEST_F(CredentialsE2eTest, EnvironmentKeys) {
  StartFake(kEnvKeys);
  Environment env = BaseEnvironment();
  env.Set("AWS_ACCESS_KEY_ID", kEnvKeys.access_key_id);
  env.Set("AWS_SECRET_ACCESS_KEY", kEnvKeys.secret_access_key);
  env.Set("AWS_SESSION_TOKEN", kEnvKeys.session_token);
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();
  auto credentials = session->credentials->GetCredentials();
  ASSERT_TRUE(credentials) << credentials.error().ToString();
  EXPECT_EQ(credentials->source, "env");
  ExpectScanSignedWith(*session, kEnvKeys);
}

TEST_F(CredentialsE2eTest, LongTermKeysFromTheCredentialsFile) {
  StartFake(FakeAws::TestCredentials());
  fs_->AddFile(std::string(kHome) + "/.aws/credentials",
               fmt::format("[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                           FakeAws::TestCredentials().access_key_id, FakeAws::TestCredentials().secret_access_key));
  auto session = Open(BaseEnvironment());
  ASSERT_TRUE(session) << session.error().ToString();
  ExpectScanSignedWith(*session, FakeAws::TestCredentials());
  EXPECT_EQ(session->credentials->GetCredentials()->source, "shared-credentials-file");
}

// ---------------------------------------------------------------- (b) assume-role

TEST_F(CredentialsE2eTest, AssumeRoleThroughTheClientWithTheSourceProfileKeys) {
  StartFake(kAssumed);
  FakeAws sts;  // verifies the source profile's long-term keys (TestCredentials)
  ASSERT_TRUE(StartServing(sts));
  sts.AddResponses("sts", "AssumeRole",
                   {{200,
                     {},
                     "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                     "<AssumedRoleUser><AssumedRoleId>AROA3XFRBF535PLBIFPI4:cloudaudit-e2e</AssumedRoleId>"
                     "<Arn>arn:aws:sts::210987654321:assumed-role/Scanner/cloudaudit-e2e</Arn></AssumedRoleUser>" +
                         StsCredentialsXml(kAssumed) +
                         "</AssumeRoleResult><ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata>"
                         "</AssumeRoleResponse>"}});
  fs_->AddFile(std::string(kHome) + "/.aws/config",
               "[profile scanner]\n"
               "role_arn = arn:aws:iam::210987654321:role/Scanner\n"
               "source_profile = base\n"
               "role_session_name = cloudaudit-e2e\n"
               "external_id = ext-42\n"
               "duration_seconds = 900\n");
  fs_->AddFile(std::string(kHome) + "/.aws/credentials",
               fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                           FakeAws::TestCredentials().access_key_id, FakeAws::TestCredentials().secret_access_key));
  Environment env = BaseEnvironment();
  env.Set("AWS_PROFILE", "scanner");
  env.Set("AWS_ENDPOINT_URL_STS", sts.endpoint());
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();

  ExpectScanSignedWith(*session, kAssumed);
  ExpectScanSignedWith(*session, kAssumed);  // the assumed keys are reused

  auto assume = sts.Requests("sts", "AssumeRole");
  ASSERT_EQ(assume.size(), 1u);
  const ReceivedRequest& r = assume[0];
  EXPECT_EQ(r.status, 200) << r.aws_code;  // signature verified with the source keys
  EXPECT_THAT(*r.http.FindHeader("authorization"), HasSubstr("Credential=AKIDEXAMPLE/"));
  EXPECT_EQ(r.http.FindHeader("x-amz-security-token"), nullptr);
  EXPECT_EQ(r.region, "us-east-1");
  EXPECT_EQ(r.Param("RoleArn"), "arn:aws:iam::210987654321:role/Scanner");
  EXPECT_EQ(r.Param("RoleSessionName"), "cloudaudit-e2e");
  EXPECT_EQ(r.Param("ExternalId"), "ext-42");
  EXPECT_EQ(r.Param("DurationSeconds"), "900");

  auto credentials = session->credentials->GetCredentials();
  ASSERT_TRUE(credentials) << credentials.error().ToString();
  EXPECT_EQ(credentials->source, "assume-role");
  EXPECT_EQ(credentials->account_id, "210987654321");
  EXPECT_TRUE(credentials->expiration.has_value());
}

TEST_F(CredentialsE2eTest, AssumeRoleDeniedIsACredentialsErrorWithTheAwsDetails) {
  StartFake(kAssumed);
  FakeAws sts;
  ASSERT_TRUE(StartServing(sts));
  sts.AddResponses("sts", "AssumeRole",
                   {{403,
                     {{"x-amzn-RequestId", "sts-denied-1"}},
                     "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
                     "<Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/auditor is not "
                     "authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/Scanner"
                     "</Message></Error><RequestId>sts-denied-1</RequestId></ErrorResponse>"}});
  fs_->AddFile(std::string(kHome) + "/.aws/config",
               "[profile scanner]\nrole_arn = arn:aws:iam::210987654321:role/Scanner\nsource_profile = base\n");
  fs_->AddFile(std::string(kHome) + "/.aws/credentials",
               fmt::format("[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
                           FakeAws::TestCredentials().access_key_id, FakeAws::TestCredentials().secret_access_key));
  Environment env = BaseEnvironment();
  env.Set("AWS_ENDPOINT_URL_STS", sts.endpoint());
  auto session = Open(env, ConfigOverrides{.profile = "scanner"});
  ASSERT_TRUE(session) << session.error().ToString();
  auto users = session->client->Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(users);
  const Error& e = users.error();
  EXPECT_EQ(e.code, ErrorCode::kCredentials) << e.ToString();
  EXPECT_EQ(e.aws_code, "AccessDenied");
  EXPECT_EQ(e.request_id, "sts-denied-1");
  EXPECT_THAT(e.message, AllOf(HasSubstr("assume-role"), HasSubstr("arn:aws:iam::210987654321:role/Scanner"),
                               HasSubstr("is not authorized to perform: sts:AssumeRole")));
  EXPECT_THAT(e.ToString(), Not(HasSubstr(FakeAws::TestCredentials().secret_access_key)));
  EXPECT_EQ(fake_->RequestCount(), 0);
}

// ---------------------------------------------------------------- (c) web identity

TEST_F(CredentialsE2eTest, WebIdentityTokenExchangedUnsigned) {
  StartFake(kWebIdentity);
  fake_->AllowUnsigned("sts", "AssumeRoleWithWebIdentity");
  fake_->AddResponses(
      "sts", "AssumeRoleWithWebIdentity",
      {{200,
        {},
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>system:serviceaccount:audit:scanner"
        "</SubjectFromWebIdentityToken><AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:pod</AssumedRoleId>"
        "<Arn>arn:aws:sts::123456789012:assumed-role/EksScanner/pod</Arn></AssumedRoleUser>" +
            StsCredentialsXml(kWebIdentity) +
            "<Provider>arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE</Provider>"
            "</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>w-1</RequestId></ResponseMetadata>"
            "</AssumeRoleWithWebIdentityResponse>"}});
  const std::string jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzY2FubmVyIn0.c2lnbmF0dXJl";
  fs_->AddFile("/var/run/secrets/eks.amazonaws.com/serviceaccount/token", jwt);
  Environment env = BaseEnvironment();
  env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/eks.amazonaws.com/serviceaccount/token");
  env.Set("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/EksScanner");
  env.Set("AWS_ROLE_SESSION_NAME", "pod");
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();

  ExpectScanSignedWith(*session, kWebIdentity);

  auto exchange = fake_->Requests("sts", "AssumeRoleWithWebIdentity");
  ASSERT_EQ(exchange.size(), 1u);
  const ReceivedRequest& r = exchange[0];
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.http.FindHeader("authorization"), nullptr);  // the token is the proof
  EXPECT_EQ(r.Param("WebIdentityToken"), jwt);
  EXPECT_EQ(r.Param("RoleArn"), "arn:aws:iam::123456789012:role/EksScanner");
  EXPECT_EQ(r.Param("RoleSessionName"), "pod");
  EXPECT_EQ(session->credentials->GetCredentials()->source, "assume-role-with-web-identity");
}

// ---------------------------------------------------------------- (d) SSO

class SsoE2eTest : public CredentialsE2eTest {
 protected:
  // sha1("corp"): the AWS CLI caches the token of sso-session "corp" here.
  static constexpr char kCacheFile[] = "/home/e2e/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json";
  static constexpr char kAccessToken[] = "aoaAAAAAGPaSsoAccessTokenExample";

  void SetUpSso() {
    StartFake(kSso);
    fake_->AllowUnsigned("sso", "GetRoleCredentials");
    fake_->AddRoute("sso", "GetRoleCredentials", "GET", "/federation/credentials");
    fake_->AddResponses("sso", "GetRoleCredentials",
                        {{200,
                          {},
                          Json{{"roleCredentials",
                                {{"accessKeyId", kSso.access_key_id},
                                 {"secretAccessKey", kSso.secret_access_key},
                                 {"sessionToken", kSso.session_token},
                                 {"expiration", int64_t{4070908800000}}}}}
                              .dump()}});
    fs_->AddFile(std::string(kHome) + "/.aws/config",
                 "[profile audit]\n"
                 "sso_session = corp\n"
                 "sso_account_id = 123456789012\n"
                 "sso_role_name = SecurityAudit\n"
                 "[sso-session corp]\n"
                 "sso_start_url = https://corp.awsapps.com/start\n"
                 "sso_region = eu-west-1\n"
                 "sso_registration_scopes = sso:account:access\n");
  }
};

TEST_F(SsoE2eTest, CachedTokenExchangedForRoleCredentials) {
  SetUpSso();
  fs_->AddFile(kCacheFile, Json{{"startUrl", "https://corp.awsapps.com/start"},
                                {"region", "eu-west-1"},
                                {"accessToken", kAccessToken},
                                {"expiresAt", kFarFuture}}
                               .dump());
  Environment env = BaseEnvironment();
  env.Set("AWS_PROFILE", "audit");
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();

  ExpectScanSignedWith(*session, kSso);

  auto exchange = fake_->Requests("sso", "GetRoleCredentials");
  ASSERT_EQ(exchange.size(), 1u);
  const ReceivedRequest& r = exchange[0];
  EXPECT_EQ(r.status, 200) << r.aws_code;
  EXPECT_EQ(r.http.method, "GET");
  EXPECT_EQ(r.http.FindHeader("authorization"), nullptr);
  ASSERT_NE(r.http.FindHeader("x-amz-sso_bearer_token"), nullptr);
  EXPECT_EQ(*r.http.FindHeader("x-amz-sso_bearer_token"), kAccessToken);
  EXPECT_EQ(r.Param("role_name"), "SecurityAudit");
  EXPECT_EQ(r.Param("account_id"), "123456789012");

  auto credentials = session->credentials->GetCredentials();
  ASSERT_TRUE(credentials) << credentials.error().ToString();
  EXPECT_EQ(credentials->source, "sso");
  EXPECT_EQ(credentials->account_id, "123456789012");
  EXPECT_EQ(credentials->expiration, int64_t{4070908800});
}

TEST_F(SsoE2eTest, ExpiredTokenAsksForALoginWithoutCallingAws) {
  SetUpSso();
  fs_->AddFile(kCacheFile, Json{{"accessToken", kAccessToken}, {"expiresAt", "2020-01-01T00:00:00Z"}}.dump());
  Environment env = BaseEnvironment();
  env.Set("AWS_PROFILE", "audit");
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();
  auto users = session->client->Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().code, ErrorCode::kCredentials);
  EXPECT_THAT(users.error().message, HasSubstr("aws sso login --profile audit"));
  EXPECT_THAT(users.error().ToString(), Not(HasSubstr(kAccessToken)));
  EXPECT_EQ(fake_->RequestCount(), 0);
}

// ---------------------------------------------------------------- (e) container

TEST_F(CredentialsE2eTest, ContainerEndpointWithAuthorizationToken) {
  StartFake(kContainer);
  LocalServer agent;
  std::mutex mutex;
  std::vector<std::string> seen_authorization;
  agent.server().Get("/creds", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      seen_authorization.push_back(req.get_header_value("Authorization"));
    }
    if (req.get_header_value("Authorization") != "Bearer e2e-pod-identity-token") {
      res.status = 401;
      res.set_content(R"({"message":"bad token"})", "application/json");
      return;
    }
    res.set_content(Json{{"AccessKeyId", kContainer.access_key_id},
                         {"SecretAccessKey", kContainer.secret_access_key},
                         {"Token", kContainer.session_token},
                         {"Expiration", kFarFuture},
                         {"AccountId", "123456789012"}}
                        .dump(),
                    "application/json");
  });
  agent.Start();
  Environment env = BaseEnvironment();
  env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url() + "/creds");
  env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer e2e-pod-identity-token");
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();

  ExpectScanSignedWith(*session, kContainer);
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(seen_authorization, std::vector<std::string>{"Bearer e2e-pod-identity-token"});
  }
  auto credentials = session->credentials->GetCredentials();
  ASSERT_TRUE(credentials) << credentials.error().ToString();
  EXPECT_EQ(credentials->source, "container-role");
  EXPECT_EQ(credentials->account_id, "123456789012");
}

// ---------------------------------------------------------------- (f) IMDSv2

TEST_F(CredentialsE2eTest, InstanceMetadataV2) {
  StartFake(kInstance);
  LocalServer imds;
  std::mutex mutex;
  std::vector<std::string> log;  // "METHOD path token"
  const std::string kToken = "AQAEAE2eImdsSessionToken==";
  auto record = [&](const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mutex);
    log.push_back(req.method + " " + req.path + " " + req.get_header_value("x-aws-ec2-metadata-token"));
  };
  imds.server().Put("/latest/api/token", [&](const httplib::Request& req, httplib::Response& res) {
    record(req);
    if (req.get_header_value("x-aws-ec2-metadata-token-ttl-seconds").empty()) {
      res.status = 400;
      return;
    }
    res.set_content(kToken, "text/plain");
  });
  imds.server().Get(R"(/latest/meta-data/iam/security-credentials/(.*))",
                    [&](const httplib::Request& req, httplib::Response& res) {
                      record(req);
                      if (req.get_header_value("x-aws-ec2-metadata-token") != kToken) {
                        res.status = 401;
                        return;
                      }
                      if (req.matches[1].str().empty()) {
                        res.set_content("ScannerInstanceRole", "text/plain");
                      } else if (req.matches[1].str() == "ScannerInstanceRole") {
                        res.set_content(Json{{"Code", "Success"},
                                             {"LastUpdated", "2023-01-31T12:00:00Z"},
                                             {"Type", "AWS-HMAC"},
                                             {"AccessKeyId", kInstance.access_key_id},
                                             {"SecretAccessKey", kInstance.secret_access_key},
                                             {"Token", kInstance.session_token},
                                             {"Expiration", kFarFuture}}
                                            .dump(),
                                        "text/plain");
                      } else {
                        res.status = 404;
                      }
                    });
  imds.Start();
  Environment env = BaseEnvironment();
  env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url());
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();

  ExpectScanSignedWith(*session, kInstance);
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(log, (std::vector<std::string>{
                       "PUT /latest/api/token ",
                       "GET /latest/meta-data/iam/security-credentials/ " + kToken,
                       "GET /latest/meta-data/iam/security-credentials/ScannerInstanceRole " + kToken,
                   }));
  }
  EXPECT_EQ(session->credentials->GetCredentials()->source, "iam-role");
}

// ---------------------------------------------------------------- (g) credential_process

class ProcessE2eTest : public CredentialsE2eTest {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cloudaudit-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }
  std::string WriteScript(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), 0700);
    return path;
  }
  std::string dir_;
};

TEST_F(ProcessE2eTest, CredentialProcessOutputSignsTheCalls) {
  StartFake(kProcess);
  const std::string script = WriteScript(
      "creds.sh",
      fmt::format("#!/bin/sh\n[ \"$1\" = --profile ] && [ \"$2\" = audit ] || exit 3\ncat <<'EOF'\n{}\nEOF\n",
                  Json{{"Version", 1},
                       {"AccessKeyId", kProcess.access_key_id},
                       {"SecretAccessKey", kProcess.secret_access_key},
                       {"SessionToken", kProcess.session_token},
                       {"Expiration", kFarFuture}}
                      .dump()));
  fs_->AddFile(std::string(kHome) + "/.aws/config", "[default]\ncredential_process = " + script + " --profile audit\n");
  auto session = Open(BaseEnvironment());
  ASSERT_TRUE(session) << session.error().ToString();
  ExpectScanSignedWith(*session, kProcess);
  EXPECT_EQ(session->credentials->GetCredentials()->source, "custom-process");
}

TEST_F(ProcessE2eTest, FailingCredentialProcessReportsItsStderrNotItsStdout) {
  StartFake(kProcess);
  const std::string script = WriteScript("fail.sh",
                                         "#!/bin/sh\necho '{\"SecretAccessKey\": \"LeakedSecretFromStdout\"}'\n"
                                         "echo 'the SSO session expired: log in again' >&2\nexit 2\n");
  fs_->AddFile(std::string(kHome) + "/.aws/config", "[default]\ncredential_process = " + script + "\n");
  auto session = Open(BaseEnvironment());
  ASSERT_TRUE(session) << session.error().ToString();
  auto users = session->client->Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(users);
  EXPECT_EQ(users.error().code, ErrorCode::kCredentials);
  EXPECT_THAT(users.error().message,
              AllOf(HasSubstr("exited with status 2"), HasSubstr("the SSO session expired: log in again")));
  EXPECT_THAT(users.error().ToString(), Not(HasSubstr("LeakedSecretFromStdout")));
  EXPECT_EQ(fake_->RequestCount(), 0);
}

// ---------------------------------------------------------------- (h) nothing configured

TEST_F(CredentialsE2eTest, NothingConfiguredListsWhereItLookedWithoutSecrets) {
  StartFake(FakeAws::TestCredentials());
  const std::string kOtherSecret = "OtherProfileSecret/K7MDENG+bPxRfiCYEXAMPLE";
  const std::string kLoneSecret = "LoneEnvironmentSecret/K7MDENGbPxRfiCYEXAMPLE";
  const std::string kLoneToken = "LoneEnvironmentSessionToken";
  fs_->AddFile(std::string(kHome) + "/.aws/config", "[default]\nregion = us-east-1\noutput = json\n");
  fs_->AddFile(std::string(kHome) + "/.aws/credentials",
               "[other]\naws_access_key_id = AKIAOTHERPROFILE0001\naws_secret_access_key = " + kOtherSecret + "\n");
  Environment env = BaseEnvironment();
  // A secret without its key id is not a configured source.
  env.Set("AWS_SECRET_ACCESS_KEY", kLoneSecret);
  env.Set("AWS_SESSION_TOKEN", kLoneToken);
  auto session = Open(env);
  ASSERT_TRUE(session) << session.error().ToString();

  const auto started = std::chrono::steady_clock::now();
  auto users = session->client->Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(users);
  const Error& e = users.error();
  EXPECT_EQ(e.code, ErrorCode::kCredentials) << e.ToString();
  EXPECT_THAT(e.message,
              AllOf(HasSubstr("Unable to locate credentials"), HasSubstr("env: AWS_ACCESS_KEY_ID is not set"),
                    HasSubstr("shared-credentials-file: /home/e2e/.aws/credentials has no [default] section"),
                    HasSubstr("config-file: profile \"default\" in /home/e2e/.aws/config has no aws_access_key_id"),
                    HasSubstr("custom-process"), HasSubstr("container-role"),
                    HasSubstr("iam-role: http://127.0.0.1:" + std::to_string(no_imds_.port()))));
  for (const std::string& secret : {kOtherSecret, kLoneSecret, kLoneToken}) {
    EXPECT_THAT(e.ToString(), Not(HasSubstr(secret)));
  }
  EXPECT_EQ(fake_->RequestCount(), 0);
  // The refusing metadata endpoint answers at once: no timeouts waited out.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));

  // The outcome is kept: asking again gives the same answer without retrying.
  auto again = session->client->Call("iam", "ListUsers", Json::object());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().message, e.message);
}

}  // namespace
}  // namespace cloudaudit::testing
