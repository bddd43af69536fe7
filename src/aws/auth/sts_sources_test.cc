// assume-role, assume-role-with-web-identity and SSO sources against a fake
// AwsCaller that records the STS/SSO calls.
#include <gtest/gtest.h>

#include "aws/auth/auth_test_fakes.h"
#include "aws/auth/credential_sources.h"

namespace cloudaudit::aws {
namespace {

using testing::ExpectNoSecrets;
using testing::FakeCaller;
using testing::FakeTransport;
using testing::FakeWorld;
using testing::kSecretKey;
using testing::kSessionToken;

constexpr int64_t kNow = 1'800'000'000;                    // 2027-01-15T08:00:00Z
constexpr const char* kInOneHour = "2027-01-15T09:00:00+00:00";
constexpr const char* kAdminRole = "arn:aws:iam::123456789012:role/Admin";

std::string StaticKeys(const std::string& key_id) {
  return "aws_access_key_id = " + key_id + "\naws_secret_access_key = " + kSecretKey + "\n";
}

// Loads a source and returns its provider; records a failure otherwise.
std::shared_ptr<CredentialsProvider> LoadOk(const SourcePtr& source) {
  std::string not_found;
  auto r = source->Load(&not_found);
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  if (!r) return nullptr;
  EXPECT_NE(*r, nullptr) << not_found;
  return *r;
}

Error LoadFails(const SourcePtr& source) {
  std::string not_found;
  auto r = source->Load(&not_found);
  EXPECT_FALSE(r.has_value()) << "loaded; not_found=" << not_found;
  if (r) return Error{};
  EXPECT_EQ(r.error().code, ErrorCode::kCredentials);
  ExpectNoSecrets(r.error().ToString());
  return r.error();
}

Error GetFails(const std::shared_ptr<CredentialsProvider>& provider) {
  if (!provider) return Error{};
  auto c = provider->GetCredentials();
  EXPECT_FALSE(c.has_value());
  if (c) return Error{};
  ExpectNoSecrets(c.error().ToString());
  return c.error();
}

class AssumeRoleTest : public ::testing::Test {
 protected:
  AssumeRoleTest() {
    w_.clock.Set(kNow);
    w_.env.Set("AWS_REGION", "eu-west-1");
  }
  FakeWorld w_;
};

TEST_F(AssumeRoleTest, FromSourceProfileWithStaticKeys) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole +
                "\nsource_profile = base\nexternal_id = ext-1\nduration_seconds = 1800\nrole_session_name = me\n");
  w_.CredentialsFile("[base]\n" + StaticKeys("AKIABASE"));
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAADMIN", kInOneHour, "210987654321"));
  auto provider = LoadOk(MakeAssumeRoleSource(w_.Context(), "admin"));
  ASSERT_NE(provider, nullptr);
  EXPECT_TRUE(w_.caller.calls().empty());  // deferred until needed
  auto c = provider->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAADMIN");
  EXPECT_EQ(c->secret_access_key, kSecretKey);
  EXPECT_EQ(c->session_token, kSessionToken);
  EXPECT_EQ(c->expiration, kNow + 3600);
  EXPECT_EQ(c->account_id, "210987654321");
  EXPECT_EQ(c->source, "assume-role");
  auto calls = w_.caller.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].service, "sts");
  EXPECT_EQ(calls[0].operation, "AssumeRole");
  EXPECT_EQ(calls[0].region, "eu-west-1");
  EXPECT_TRUE(calls[0].signed_call);
  EXPECT_EQ(calls[0].credentials.access_key_id, "AKIABASE");
  EXPECT_EQ(calls[0].params, (Json{{"RoleArn", kAdminRole},
                                   {"RoleSessionName", "me"},
                                   {"ExternalId", "ext-1"},
                                   {"DurationSeconds", 1800}}));
  // Cached until the refresh window.
  provider->GetCredentials();
  EXPECT_EQ(w_.caller.calls().size(), 1u);
  w_.clock.Set(kNow + 3600 - 10 * 60);
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAAGAIN", "2027-01-15T10:00:00Z"));
  EXPECT_EQ(provider->GetCredentials()->access_key_id, "ASIAAGAIN");
  EXPECT_EQ(w_.caller.calls().size(), 2u);
}

TEST_F(AssumeRoleTest, DefaultSessionNameAndIgnoredBadDuration) {
  w_.ConfigFile(std::string("[default]\nrole_arn = ") + kAdminRole + "\nsource_profile = base\n"
                "duration_seconds = an hour\nrole_session_name =\n[profile base]\n" + StaticKeys("AKIABASE"));
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIA", kInOneHour));
  ASSERT_TRUE(LoadOk(MakeAssumeRoleSource(w_.Context(), "default"))->GetCredentials().has_value());
  Json params = w_.caller.calls().at(0).params;
  EXPECT_EQ(params["RoleSessionName"], "cloudaudit-session-1800000000");
  EXPECT_FALSE(params.contains("DurationSeconds"));
}

TEST_F(AssumeRoleTest, ChainsThroughSeveralRoles) {
  w_.ConfigFile(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::2:role/B\nsource_profile = c\n"
      "[profile c]\n" + StaticKeys("AKIAC"));
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAB", kInOneHour));
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAA", kInOneHour));
  auto c = LoadOk(MakeAssumeRoleSource(w_.Context(), "a"))->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAA");
  auto calls = w_.caller.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].params["RoleArn"], "arn:aws:iam::2:role/B");
  EXPECT_EQ(calls[0].credentials.access_key_id, "AKIAC");
  EXPECT_EQ(calls[1].params["RoleArn"], "arn:aws:iam::1:role/A");
  EXPECT_EQ(calls[1].credentials.access_key_id, "ASIAB");
}

TEST_F(AssumeRoleTest, DetectsCycles) {
  w_.ConfigFile("[profile a]\nrole_arn = arn:aws:iam::1:role/A\nsource_profile = b\n"
                "[profile b]\nrole_arn = arn:aws:iam::2:role/B\nsource_profile = a\n");
  Error e = LoadFails(MakeAssumeRoleSource(w_.Context(), "a"));
  EXPECT_NE(e.message.find("Infinite loop in credential configuration detected"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("Visited profiles: [\"a\", \"b\"]"), std::string::npos) << e.message;
  EXPECT_TRUE(w_.caller.calls().empty());
}

TEST_F(AssumeRoleTest, SelfReferenceNeedsStaticKeys) {
  w_.ConfigFile(std::string("[profile a]\nrole_arn = ") + kAdminRole + "\nsource_profile = a\n" + StaticKeys("AKIASELF") +
                "[profile loop]\nrole_arn = " + kAdminRole + "\nsource_profile = loop\n");
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIA", kInOneHour));
  ASSERT_TRUE(LoadOk(MakeAssumeRoleSource(w_.Context(), "a"))->GetCredentials().has_value());
  EXPECT_EQ(w_.caller.calls().at(0).credentials.access_key_id, "AKIASELF");
  Error e = LoadFails(MakeAssumeRoleSource(w_.Context(), "loop"));
  EXPECT_NE(e.message.find("Infinite loop"), std::string::npos);
}

TEST_F(AssumeRoleTest, RejectsOverlyLongChains) {
  std::string config;
  for (int i = 0; i < 80; ++i) {
    config += "[profile p" + std::to_string(i) + "]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = p" +
              std::to_string(i + 1) + "\n";
  }
  config += "[profile p80]\n" + StaticKeys("AKIAEND");
  w_.ConfigFile(config);
  Error e = LoadFails(MakeAssumeRoleSource(w_.Context(), "p0"));
  EXPECT_NE(e.message.find("longer than 64"), std::string::npos) << e.message;
}

TEST_F(AssumeRoleTest, ConfigurationErrors) {
  w_.ConfigFile(std::string("[profile missing]\nrole_arn = ") + kAdminRole + "\nsource_profile = nope\n" +
                "[profile both]\nrole_arn = " + kAdminRole + "\nsource_profile = x\ncredential_source = Environment\n" +
                "[profile neither]\nrole_arn = " + kAdminRole + "\n" +
                "[profile badsource]\nrole_arn = " + kAdminRole + "\ncredential_source = environment\n" +
                "[profile nocreds]\nrole_arn = " + kAdminRole + "\nsource_profile = empty\n" +
                "[profile empty]\nregion = us-east-1\n[profile x]\n");
  EXPECT_NE(LoadFails(MakeAssumeRoleSource(w_.Context(), "missing")).message.find(
                "The source_profile \"nope\" referenced in the profile \"missing\" does not exist."),
            std::string::npos);
  EXPECT_NE(LoadFails(MakeAssumeRoleSource(w_.Context(), "both")).message.find(
                "contains both source_profile and credential_source"),
            std::string::npos);
  EXPECT_NE(LoadFails(MakeAssumeRoleSource(w_.Context(), "neither")).message.find(
                "missing: source_profile or credential_source"),
            std::string::npos);
  EXPECT_NE(LoadFails(MakeAssumeRoleSource(w_.Context(), "badsource")).message.find(
                "The credential source \"environment\" referenced in profile \"badsource\" is not valid"),
            std::string::npos);
  Error nocreds = LoadFails(MakeAssumeRoleSource(w_.Context(), "nocreds"));
  EXPECT_NE(nocreds.message.find("The source profile \"empty\" must have credentials"), std::string::npos);
  EXPECT_NE(nocreds.message.find("shared-credentials-file"), std::string::npos) << nocreds.message;
}

TEST_F(AssumeRoleTest, NotConfiguredWithoutRoleArnOrWithWebIdentity) {
  w_.ConfigFile(std::string("[profile plain]\nregion = x\n[profile web]\nrole_arn = ") + kAdminRole +
                "\nweb_identity_token_file = /t\n");
  for (const char* profile : {"plain", "web", "absent"}) {
    std::string not_found;
    auto r = MakeAssumeRoleSource(w_.Context(), profile)->Load(&not_found);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(*r, nullptr) << profile;
    EXPECT_NE(not_found.find("has no role_arn"), std::string::npos);
  }
}

TEST_F(AssumeRoleTest, CredentialSourceEnvironment) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole + "\ncredential_source = Environment\n");
  w_.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  w_.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
  w_.flags.profile = "admin";  // --profile does not stop credential_source from reading the environment
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIA", kInOneHour));
  ASSERT_TRUE(LoadOk(MakeAssumeRoleSource(w_.Context(), "admin"))->GetCredentials().has_value());
  EXPECT_EQ(w_.caller.calls().at(0).credentials.access_key_id, "AKIAENV");
}

TEST_F(AssumeRoleTest, CredentialSourceInstanceMetadata) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole + "\ncredential_source = Ec2InstanceMetadata\n");
  w_.transport.SetHandler([](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "PUT") return FakeTransport::Response(200, "tok");
    if (r.path.back() == '/') return FakeTransport::Response(200, "instance-role");
    return FakeTransport::Response(200, Json{{"AccessKeyId", "ASIAEC2"},
                                             {"SecretAccessKey", kSecretKey},
                                             {"Token", kSessionToken},
                                             {"Expiration", "2027-01-15T14:00:00Z"}}
                                            .dump());
  });
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIA", kInOneHour));
  ASSERT_TRUE(LoadOk(MakeAssumeRoleSource(w_.Context(), "admin"))->GetCredentials().has_value());
  EXPECT_EQ(w_.caller.calls().at(0).credentials.access_key_id, "ASIAEC2");
}

TEST_F(AssumeRoleTest, CredentialSourceWithNothingThere) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole + "\ncredential_source = EcsContainer\n");
  Error e = LoadFails(MakeAssumeRoleSource(w_.Context(), "admin"));
  EXPECT_NE(e.message.find("No credentials found in credential_source EcsContainer"), std::string::npos) << e.message;
}

TEST_F(AssumeRoleTest, PromptsForMfaOnceAndRefusesToRefresh) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole +
                "\nsource_profile = base\nmfa_serial = arn:aws:iam::123456789012:mfa/me\n[profile base]\n" +
                StaticKeys("AKIABASE"));
  w_.mfa_code = " 654321\n";
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAMFA", kInOneHour));
  auto provider = LoadOk(MakeAssumeRoleSource(w_.Context(), "admin"));
  EXPECT_TRUE(w_.prompts.empty());
  ASSERT_TRUE(provider->GetCredentials().has_value());
  ASSERT_EQ(w_.prompts.size(), 1u);
  EXPECT_EQ(w_.prompts[0], "Enter MFA code for arn:aws:iam::123456789012:mfa/me: ");
  Json params = w_.caller.calls().at(0).params;
  EXPECT_EQ(params["SerialNumber"], "arn:aws:iam::123456789012:mfa/me");
  EXPECT_EQ(params["TokenCode"], "654321");
  w_.clock.Set(kNow + 3600 - 5 * 60);
  Error e = GetFails(provider);
  EXPECT_NE(e.message.find("MFA token required"), std::string::npos);
  EXPECT_EQ(w_.prompts.size(), 1u);
}

TEST_F(AssumeRoleTest, MfaPromptFailure) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole +
                "\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile base]\n" + StaticKeys("AKIA"));
  auto ctx = w_.Context();
  auto with_failing_prompt = std::make_shared<SourceContext>(*ctx);
  with_failing_prompt->mfa_prompt = [](const std::string&) -> Result<std::string> {
    return MakeError(ErrorCode::kCredentials, "cannot ask for the MFA code: no terminal");
  };
  Error e = GetFails(LoadOk(MakeAssumeRoleSource(with_failing_prompt, "admin")));
  EXPECT_NE(e.message.find("no terminal"), std::string::npos);
  EXPECT_TRUE(w_.caller.calls().empty());
}

TEST_F(AssumeRoleTest, StsErrorsKeepTheirAwsDetails) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole + "\nsource_profile = base\n[profile base]\n" +
                StaticKeys("AKIABASE") + "aws_session_token = " + kSessionToken + "\n");
  for (const char* code : {"AccessDenied", "ExpiredToken"}) {
    FakeWorld& w = w_;
    w.caller.Respond("AssumeRole", FakeCaller::AwsError(code, std::string(code) + ": not authorized to perform "
                                                                                   "sts:AssumeRole"));
    Error e = GetFails(LoadOk(MakeAssumeRoleSource(w.Context(), "admin")));
    EXPECT_EQ(e.code, ErrorCode::kCredentials);
    EXPECT_EQ(e.aws_code, code);
    EXPECT_EQ(e.http_status, 403);
    EXPECT_NE(e.message.find(kAdminRole), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("profile \"admin\""), std::string::npos) << e.message;
  }
}

TEST_F(AssumeRoleTest, MalformedStsResponse) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole + "\nsource_profile = base\n[profile base]\n" +
                StaticKeys("AKIABASE"));
  w_.caller.Respond("AssumeRole", Json{{"Credentials", {{"AccessKeyId", "A"}, {"SecretAccessKey", kSecretKey}}}});
  Error e = GetFails(LoadOk(MakeAssumeRoleSource(w_.Context(), "admin")));
  EXPECT_NE(e.message.find("no Credentials.SessionToken"), std::string::npos) << e.message;
}

TEST_F(AssumeRoleTest, SourceProfileMayUseSso) {
  w_.ConfigFile(std::string("[profile admin]\nrole_arn = ") + kAdminRole + "\nsource_profile = sso\n"
                "[profile sso]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
                "sso_account_id = 111122223333\nsso_role_name = Base\n");
  w_.fs->AddFile("/home/tester/.aws/sso/cache/a51746d4aa793ae07b25e90c3a5db96fc7832bd7.json",
                 Json{{"accessToken", kSessionToken}, {"expiresAt", "2027-01-15T12:00:00Z"}}.dump());
  w_.caller.Respond("GetRoleCredentials",
                    Json{{"roleCredentials",
                          {{"accessKeyId", "ASIASSO"},
                           {"secretAccessKey", kSecretKey},
                           {"sessionToken", kSessionToken},
                           {"expiration", (kNow + 3600) * 1000}}}});
  w_.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAADMIN", kInOneHour));
  auto c = LoadOk(MakeAssumeRoleSource(w_.Context(), "admin"))->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  auto calls = w_.caller.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].operation, "GetRoleCredentials");
  EXPECT_EQ(calls[1].credentials.access_key_id, "ASIASSO");
}

// ------------------------------------------------------------ web identity

TEST(WebIdentitySource, FromEnvironment) {
  FakeWorld w;
  w.clock.Set(kNow);
  w.env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/secrets/token");
  w.env.Set("AWS_ROLE_ARN", kAdminRole);
  w.env.Set("AWS_ROLE_SESSION_NAME", "pod-session");
  w.env.Set("AWS_REGION", "ap-southeast-2");
  w.fs->AddFile("/var/run/secrets/token", "eyJ.jwt.1");
  w.caller.Respond("AssumeRoleWithWebIdentity", FakeCaller::StsCredentials("ASIAWEB", kInOneHour));
  auto provider = LoadOk(MakeWebIdentitySource(w.Context(), "default", /*use_env=*/true));
  ASSERT_NE(provider, nullptr);
  auto c = provider->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAWEB");
  EXPECT_EQ(c->source, "assume-role-with-web-identity");
  auto call = w.caller.calls().at(0);
  EXPECT_EQ(call.service, "sts");
  EXPECT_EQ(call.operation, "AssumeRoleWithWebIdentity");
  EXPECT_FALSE(call.signed_call);
  EXPECT_EQ(call.region, "ap-southeast-2");
  EXPECT_EQ(call.params, (Json{{"RoleArn", kAdminRole},
                               {"RoleSessionName", "pod-session"},
                               {"WebIdentityToken", "eyJ.jwt.1"}}));
  // The token file is read again on refresh (Kubernetes rotates it).
  w.fs->AddFile("/var/run/secrets/token", "eyJ.jwt.2");
  w.clock.Set(kNow + 3600 - 5 * 60);
  ASSERT_TRUE(provider->GetCredentials().has_value());
  EXPECT_EQ(w.caller.calls().at(1).params["WebIdentityToken"], "eyJ.jwt.2");
}

TEST(WebIdentitySource, FromProfileAndEnvironmentIgnoredWhenAsked) {
  FakeWorld w;
  w.ConfigFile(std::string("[profile web]\nweb_identity_token_file = /token\nrole_arn = ") + kAdminRole + "\n");
  w.env.Set("AWS_ROLE_ARN", "arn:aws:iam::9:role/FromEnv");
  w.fs->AddFile("/token", "jwt");
  w.caller.Respond("AssumeRoleWithWebIdentity", FakeCaller::StsCredentials("ASIAWEB", kInOneHour));
  ASSERT_TRUE(LoadOk(MakeWebIdentitySource(w.Context(), "web", /*use_env=*/false))->GetCredentials().has_value());
  Json params = w.caller.calls().at(0).params;
  EXPECT_EQ(params["RoleArn"], kAdminRole);
  EXPECT_EQ(params["RoleSessionName"], "cloudaudit-session-1800000000");
  // With the environment in play, each setting comes from it first.
  ASSERT_TRUE(LoadOk(MakeWebIdentitySource(w.Context(), "web", /*use_env=*/true))->GetCredentials().has_value());
  EXPECT_EQ(w.caller.calls().at(1).params["RoleArn"], "arn:aws:iam::9:role/FromEnv");
}

TEST(WebIdentitySource, Problems) {
  FakeWorld w;
  std::string not_found;
  auto none = MakeWebIdentitySource(w.Context(), "default", true)->Load(&not_found);
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, nullptr);
  EXPECT_NE(not_found.find("AWS_WEB_IDENTITY_TOKEN_FILE"), std::string::npos);

  w.env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", "/missing");
  Error no_role = LoadFails(MakeWebIdentitySource(w.Context(), "default", true));
  EXPECT_NE(no_role.message.find("has no role ARN configured"), std::string::npos);

  w.env.Set("AWS_ROLE_ARN", kAdminRole);
  Error no_file = GetFails(LoadOk(MakeWebIdentitySource(w.Context(), "default", true)));
  EXPECT_NE(no_file.message.find("cannot read the web identity token file"), std::string::npos);

  w.fs->AddFile("/missing", kSessionToken);  // the JWT itself must never be echoed
  w.caller.Respond("AssumeRoleWithWebIdentity",
                   FakeCaller::AwsError("InvalidIdentityToken", "Couldn't retrieve verification key", 400));
  Error rejected = GetFails(LoadOk(MakeWebIdentitySource(w.Context(), "default", true)));
  EXPECT_EQ(rejected.aws_code, "InvalidIdentityToken");
}

// ------------------------------------------------------------ SSO

constexpr const char* kCorpSessionCache =
    "/home/tester/.aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json";  // sha1("corp")
constexpr const char* kCorpUrlCache =
    "/home/tester/.aws/sso/cache/a51746d4aa793ae07b25e90c3a5db96fc7832bd7.json";  // sha1(start URL)

Json RoleCredentials(const std::string& key_id, int64_t expires_epoch) {
  return Json{{"roleCredentials",
               {{"accessKeyId", key_id},
                {"secretAccessKey", kSecretKey},
                {"sessionToken", kSessionToken},
                {"expiration", expires_epoch * 1000}}}};
}

class SsoTest : public ::testing::Test {
 protected:
  SsoTest() {
    w_.clock.Set(kNow);
    w_.ConfigFile(
        "[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = ReadOnly\n"
        "region = eu-central-1\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_registration_scopes = sso:account:access\n"
        "[profile legacy]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-west-2\n"
        "sso_account_id = 444455556666\nsso_role_name = Admin\n");
  }
  void CacheToken(const char* path, const std::string& expires_at) {
    w_.fs->AddFile(path, Json{{"startUrl", "https://corp.awsapps.com/start"},
                              {"region", "us-east-1"},
                              {"accessToken", kSessionToken},
                              {"expiresAt", expires_at}}
                             .dump());
  }
  FakeWorld w_;
};

TEST_F(SsoTest, SsoSessionProfile) {
  CacheToken(kCorpSessionCache, "2027-01-15T16:00:00Z");
  w_.caller.Respond("GetRoleCredentials", RoleCredentials("ASIASSO", kNow + 3600));
  auto provider = LoadOk(MakeSsoSource(w_.Context(), "dev"));
  ASSERT_NE(provider, nullptr);
  EXPECT_TRUE(w_.caller.calls().empty());
  auto c = provider->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIASSO");
  EXPECT_EQ(c->expiration, kNow + 3600);
  EXPECT_EQ(c->account_id, "111122223333");
  EXPECT_EQ(c->source, "sso");
  auto call = w_.caller.calls().at(0);
  EXPECT_EQ(call.service, "sso");
  EXPECT_EQ(call.operation, "GetRoleCredentials");
  EXPECT_FALSE(call.signed_call);
  EXPECT_EQ(call.region, "us-east-1");
  EXPECT_EQ(call.params, (Json{{"roleName", "ReadOnly"}, {"accountId", "111122223333"}, {"accessToken", kSessionToken}}));
}

TEST_F(SsoTest, LegacyProfileUsesTheStartUrlCacheKey) {
  CacheToken(kCorpUrlCache, "2027-01-15T16:00:00Z");
  w_.caller.Respond("GetRoleCredentials", RoleCredentials("ASIALEGACY", kNow + 3600));
  auto c = LoadOk(MakeSsoSource(w_.Context(), "legacy"))->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "ASIALEGACY");
  EXPECT_EQ(w_.caller.calls().at(0).region, "us-west-2");
}

TEST_F(SsoTest, ExpiredOrMissingTokenSaysToLogIn) {
  CacheToken(kCorpSessionCache, "2027-01-15T07:59:59Z");
  Error expired = GetFails(LoadOk(MakeSsoSource(w_.Context(), "dev")));
  EXPECT_NE(expired.message.find("expired"), std::string::npos) << expired.message;
  EXPECT_NE(expired.message.find("aws sso login --profile dev"), std::string::npos) << expired.message;
  Error missing = GetFails(LoadOk(MakeSsoSource(w_.Context(), "legacy")));
  EXPECT_NE(missing.message.find("does not exist"), std::string::npos) << missing.message;
  EXPECT_NE(missing.message.find("aws sso login --profile legacy"), std::string::npos);
  w_.fs->AddFile(kCorpUrlCache, "{\"accessToken\": 1}");
  Error invalid = GetFails(LoadOk(MakeSsoSource(w_.Context(), "legacy")));
  EXPECT_NE(invalid.message.find("is invalid"), std::string::npos);
  EXPECT_TRUE(w_.caller.calls().empty());
}

TEST_F(SsoTest, AcceptsTheOlderUtcSuffixInTheCache) {
  CacheToken(kCorpSessionCache, "2027-01-15T16:00:00UTC");
  w_.caller.Respond("GetRoleCredentials", RoleCredentials("ASIASSO", kNow + 3600));
  EXPECT_TRUE(LoadOk(MakeSsoSource(w_.Context(), "dev"))->GetCredentials().has_value());
}

TEST_F(SsoTest, UnauthorizedTokenSaysToLogIn) {
  CacheToken(kCorpSessionCache, "2027-01-15T16:00:00Z");
  w_.caller.Respond("GetRoleCredentials", FakeCaller::AwsError("UnauthorizedException", "Session token not found or invalid", 401));
  Error e = GetFails(LoadOk(MakeSsoSource(w_.Context(), "dev")));
  EXPECT_NE(e.message.find("The SSO session associated with this profile has expired"), std::string::npos);
  EXPECT_NE(e.message.find("aws sso login --profile dev"), std::string::npos);
  EXPECT_EQ(e.aws_code, "UnauthorizedException");
}

TEST_F(SsoTest, ConfigurationErrors) {
  w_.ConfigFile(
      "[profile partial]\nsso_account_id = 1\n"
      "[profile nosession]\nsso_session = nope\nsso_account_id = 1\nsso_role_name = R\n"
      "[profile clash]\nsso_session = corp\nsso_region = eu-west-1\nsso_account_id = 1\nsso_role_name = R\n"
      "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n");
  Error partial = LoadFails(MakeSsoSource(w_.Context(), "partial"));
  EXPECT_NE(partial.message.find("missing required configuration: sso_role_name, sso_start_url, sso_region"),
            std::string::npos)
      << partial.message;
  Error nosession = LoadFails(MakeSsoSource(w_.Context(), "nosession"));
  EXPECT_NE(nosession.message.find("The specified sso-session does not exist: \"nope\""), std::string::npos);
  Error clash = LoadFails(MakeSsoSource(w_.Context(), "clash"));
  EXPECT_NE(clash.message.find("The value for sso_region is inconsistent between profile (eu-west-1) and "
                               "sso-session (us-east-1)"),
            std::string::npos)
      << clash.message;
}

TEST_F(SsoTest, NotConfigured) {
  w_.ConfigFile("[profile plain]\nregion = x\n");
  std::string not_found;
  auto r = MakeSsoSource(w_.Context(), "plain")->Load(&not_found);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, nullptr);
  EXPECT_NE(not_found.find("sso_account_id"), std::string::npos);
}

}  // namespace
}  // namespace cloudaudit::aws
