// The default chain: order, --profile handling, failure messages, threads.
#include "aws/auth/credential_chain.h"

#include <thread>

#include <gtest/gtest.h>

#include "aws/auth/auth_test_fakes.h"

namespace cloudaudit::aws {
namespace {

using testing::ExpectNoSecrets;
using testing::FakeCaller;
using testing::FakeTransport;
using testing::FakeWorld;
using testing::kSecretKey;
using testing::kSessionToken;

std::string StaticKeys(const std::string& key_id) {
  return "aws_access_key_id = " + key_id + "\naws_secret_access_key = " + kSecretKey + "\n";
}

Credentials GetOk(const std::shared_ptr<CredentialsProvider>& chain) {
  if (!chain) return {};
  auto c = chain->GetCredentials();
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return c ? *c : Credentials{};
}

Error GetFails(const std::shared_ptr<CredentialsProvider>& chain) {
  if (!chain) return {};
  auto c = chain->GetCredentials();
  EXPECT_FALSE(c.has_value()) << "got credentials from " << c->source;
  if (c) return {};
  ExpectNoSecrets(c.error().ToString());
  return c.error();
}

void SetEnvKeys(FakeWorld& w) {
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  w.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
}

FakeTransport::Handler ImdsHandler(const std::string& key_id) {
  return [key_id](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.method == "PUT") return FakeTransport::Response(200, "tok");
    if (r.path.back() == '/') return FakeTransport::Response(200, "role");
    return FakeTransport::Response(200, Json{{"AccessKeyId", key_id},
                                             {"SecretAccessKey", kSecretKey},
                                             {"Token", kSessionToken},
                                             {"Expiration", "2027-01-15T14:00:00Z"}}
                                            .dump());
  };
}

TEST(DefaultChain, EnvironmentComesFirst) {
  FakeWorld w;
  SetEnvKeys(w);
  w.CredentialsFile("[default]\n" + StaticKeys("AKIAFILE"));
  EXPECT_EQ(GetOk(w.Chain()).source, "env");
}

TEST(DefaultChain, ProfileFlagSkipsEnvironmentButAwsProfileDoesNot) {
  FakeWorld w;
  SetEnvKeys(w);
  w.CredentialsFile("[dev]\n" + StaticKeys("AKIADEV"));
  w.env.Set("AWS_PROFILE", "dev");
  EXPECT_EQ(GetOk(w.Chain()).access_key_id, "AKIAENV");
  w.flags.profile = "dev";
  Credentials c = GetOk(w.Chain());
  EXPECT_EQ(c.access_key_id, "AKIADEV");
  EXPECT_EQ(c.source, "shared-credentials-file");
}

TEST(DefaultChain, ProfileFlagAlsoSkipsWebIdentityEnvironment) {
  FakeWorld w;
  w.env.Set("AWS_WEB_IDENTITY_TOKEN_FILE", "/token");
  w.env.Set("AWS_ROLE_ARN", "arn:aws:iam::1:role/R");
  w.fs->AddFile("/token", "jwt");
  w.CredentialsFile("[dev]\n" + StaticKeys("AKIADEV"));
  w.flags.profile = "dev";
  EXPECT_EQ(GetOk(w.Chain()).access_key_id, "AKIADEV");
  w.flags.profile.reset();
  w.caller.Respond("AssumeRoleWithWebIdentity", FakeCaller::StsCredentials("ASIAWEB", "2027-01-15T09:00:00Z"));
  EXPECT_EQ(GetOk(w.Chain()).access_key_id, "ASIAWEB");
}

TEST(DefaultChain, AssumeRoleWinsOverTheProfilesOwnKeys) {
  FakeWorld w;
  w.ConfigFile("[default]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = default\n");
  w.CredentialsFile("[default]\n" + StaticKeys("AKIASTATIC"));
  w.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIAROLE", "2027-01-15T09:00:00Z"));
  Credentials c = GetOk(w.Chain());
  EXPECT_EQ(c.access_key_id, "ASIAROLE");
  EXPECT_EQ(w.caller.calls().at(0).credentials.access_key_id, "AKIASTATIC");
}

TEST(DefaultChain, SharedCredentialsFileBeforeProcessBeforeConfigFile) {
  FakeWorld w;
  w.ConfigFile("[default]\ncredential_process = /nonexistent/never-run\n" + StaticKeys("AKIACONFIG"));
  w.CredentialsFile("[default]\n" + StaticKeys("AKIAFILE"));
  EXPECT_EQ(GetOk(w.Chain()).access_key_id, "AKIAFILE");
  FakeWorld w2;
  w2.ConfigFile("[default]\n" + StaticKeys("AKIACONFIG"));
  EXPECT_EQ(GetOk(w2.Chain()).source, "config-file");
}

TEST(DefaultChain, ContainerBeforeInstanceMetadata) {
  FakeWorld w;
  w.env.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
  w.transport.SetHandler([](const HttpRequest& r) -> Result<HttpResponse> {
    if (r.host == "169.254.170.2") {
      return FakeTransport::Response(200, Json{{"AccessKeyId", "ASIAECS"},
                                               {"SecretAccessKey", kSecretKey},
                                               {"Token", kSessionToken},
                                               {"Expiration", "2027-01-15T14:00:00Z"}}
                                              .dump());
    }
    return ImdsHandler("ASIAEC2")(r);
  });
  EXPECT_EQ(GetOk(w.Chain()).access_key_id, "ASIAECS");
  FakeWorld w2;
  w2.transport.SetHandler(ImdsHandler("ASIAEC2"));
  EXPECT_EQ(GetOk(w2.Chain()).source, "iam-role");
}

TEST(DefaultChain, AConfiguredSourceThatFailsStopsTheChain) {
  FakeWorld w;
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");  // no secret
  w.CredentialsFile("[default]\n" + StaticKeys("AKIAFILE"));
  Error e = GetFails(w.Chain());
  EXPECT_EQ(e.code, ErrorCode::kCredentials);
  EXPECT_NE(e.message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(DefaultChain, NothingFoundSaysWhereItLooked) {
  FakeWorld w;
  w.env.Set("AWS_EC2_METADATA_DISABLED", "true");
  w.fs->AddUnreadable("/home/tester/.aws/config");
  w.CredentialsFile(std::string("[other]\naws_secret_access_key = ") + kSecretKey + "\n");
  Error e = GetFails(w.Chain());
  EXPECT_EQ(e.code, ErrorCode::kCredentials);
  for (const char* expected :
       {"Unable to locate credentials for profile \"default\"", "env: AWS_ACCESS_KEY_ID is not set",
        "assume-role: profile \"default\" has no role_arn", "assume-role-with-web-identity:", "sso:",
        "shared-credentials-file: /home/tester/.aws/credentials has no [default] section",
        "custom-process:", "config-file: /home/tester/.aws/config is missing or unreadable", "ec2-credentials-file:",
        "boto-config:", "container-role: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "iam-role: disabled by AWS_EC2_METADATA_DISABLED", "Permission denied"}) {
    EXPECT_NE(e.message.find(expected), std::string::npos) << "missing \"" << expected << "\" in " << e.message;
  }
  EXPECT_TRUE(w.transport.requests().empty());
}

TEST(DefaultChain, NothingFoundWithProfileFlagMentionsTheSkip) {
  FakeWorld w;
  w.env.Set("AWS_EC2_METADATA_DISABLED", "true");
  w.ConfigFile("[profile dev]\nregion = x\n");
  w.flags.profile = "dev";
  Error e = GetFails(w.Chain());
  EXPECT_NE(e.message.find("profile \"dev\""), std::string::npos);
  EXPECT_NE(e.message.find("env: skipped because --profile was given"), std::string::npos) << e.message;
}

TEST(DefaultChain, OutcomeIsDecidedOnce) {
  FakeWorld w;  // not on EC2: IMDS requests fail
  auto chain = w.Chain();
  GetFails(chain);
  size_t requests = w.transport.requests().size();
  EXPECT_GT(requests, 0u);
  GetFails(chain);
  EXPECT_EQ(w.transport.requests().size(), requests);
}

TEST(DefaultChain, InvalidMetadataSettingsSurfaceOnUse) {
  FakeWorld w;
  SetEnvKeys(w);
  w.env.Set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "many");
  Error e = GetFails(w.Chain());
  EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(e.message.find("metadata_service_num_attempts"), std::string::npos);
}

TEST(DefaultChain, ConcurrentFirstCallsResolveOnce) {
  FakeWorld w;
  w.transport.SetHandler(ImdsHandler("ASIAEC2"));
  auto chain = w.Chain();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        auto c = chain->GetCredentials();
        if (c && c->access_key_id == "ASIAEC2") ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 16 * 50);
  EXPECT_EQ(w.transport.requests().size(), 3u);  // token, role, credentials: once
}

TEST(DefaultChain, StsRegionIsTheResolvedRegion) {
  FakeWorld w;
  w.ConfigFile("[profile admin]\nrole_arn = arn:aws:iam::1:role/R\nsource_profile = base\nregion = sa-east-1\n"
               "[profile base]\n" + StaticKeys("AKIABASE"));
  w.flags.profile = "admin";
  w.caller.Respond("AssumeRole", FakeCaller::StsCredentials("ASIA", "2027-01-15T09:00:00Z"));
  GetOk(w.Chain());
  EXPECT_EQ(w.caller.calls().at(0).region, "sa-east-1");
}

}  // namespace
}  // namespace cloudaudit::aws
