// The sources that read the environment, files and local processes.
#include "aws/auth/credential_sources.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "aws/auth/auth_test_fakes.h"

namespace cloudaudit::aws {
namespace {

using testing::ExpectNoSecrets;
using testing::FakeWorld;
using testing::kSecretKey;
using testing::kSessionToken;

struct Loaded {
  std::shared_ptr<CredentialsProvider> provider;
  std::string not_found;
  std::optional<Error> error;
};

Loaded LoadSource(const SourcePtr& source) {
  Loaded out;
  auto r = source->Load(&out.not_found);
  if (!r) {
    out.error = r.error();
    ExpectNoSecrets(r.error().ToString());
  } else {
    out.provider = *r;
  }
  ExpectNoSecrets(out.not_found);
  return out;
}

Credentials Get(const Loaded& loaded) {
  EXPECT_TRUE(loaded.provider != nullptr) << (loaded.error ? loaded.error->ToString() : loaded.not_found);
  if (!loaded.provider) return {};
  auto c = loaded.provider->GetCredentials();
  EXPECT_TRUE(c.has_value()) << c.error().ToString();
  return c ? *c : Credentials{};
}

// ------------------------------------------------------------ env

TEST(EnvSource, ReadsKeysAndToken) {
  FakeWorld w;
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  w.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
  w.env.Set("AWS_SESSION_TOKEN", kSessionToken);
  w.env.Set("AWS_ACCOUNT_ID", "111122223333");
  Credentials c = Get(LoadSource(MakeEnvSource(w.Context())));
  EXPECT_EQ(c.access_key_id, "AKIAENV");
  EXPECT_EQ(c.secret_access_key, kSecretKey);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.account_id, "111122223333");
  EXPECT_EQ(c.source, "env");
  EXPECT_FALSE(c.expiration.has_value());
}

TEST(EnvSource, SecurityTokenWinsOverSessionToken) {
  FakeWorld w;
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  w.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
  w.env.Set("AWS_SESSION_TOKEN", "session");
  w.env.Set("AWS_SECURITY_TOKEN", "security");
  EXPECT_EQ(Get(LoadSource(MakeEnvSource(w.Context()))).session_token, "security");
}

TEST(EnvSource, NotConfiguredWithoutAccessKey) {
  FakeWorld w;
  w.env.Set("AWS_ACCESS_KEY_ID", "");
  w.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
  Loaded l = LoadSource(MakeEnvSource(w.Context()));
  EXPECT_EQ(l.provider, nullptr);
  EXPECT_FALSE(l.error.has_value());
  EXPECT_NE(l.not_found.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(EnvSource, MissingSecretIsAnError) {
  FakeWorld w;
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  Loaded l = LoadSource(MakeEnvSource(w.Context()));
  ASSERT_TRUE(l.error.has_value());
  EXPECT_EQ(l.error->code, ErrorCode::kCredentials);
  EXPECT_NE(l.error->message.find("missing: AWS_SECRET_ACCESS_KEY"), std::string::npos);
}

TEST(EnvSource, ExpiringCredentials) {
  FakeWorld w;
  w.clock.Set(1'800'000'000);  // 2027-01-15T08:00:00Z
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  w.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
  w.env.Set("AWS_CREDENTIAL_EXPIRATION", "2027-01-15T09:00:00Z");
  Loaded l = LoadSource(MakeEnvSource(w.Context()));
  Credentials c = Get(l);
  EXPECT_EQ(c.expiration, 1'800'003'600);
  // The environment does not change, so once inside the mandatory window
  // the "refresh" yields the same, expired, credentials.
  w.clock.Set(1'800'003'601);
  auto again = l.provider->GetCredentials();
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("still expired"), std::string::npos);
  ExpectNoSecrets(again.error().ToString());
}

TEST(EnvSource, BadExpirationIsAnError) {
  FakeWorld w;
  w.env.Set("AWS_ACCESS_KEY_ID", "AKIAENV");
  w.env.Set("AWS_SECRET_ACCESS_KEY", kSecretKey);
  w.env.Set("AWS_CREDENTIAL_EXPIRATION", "next tuesday");
  Loaded l = LoadSource(MakeEnvSource(w.Context()));
  ASSERT_TRUE(l.error.has_value());
  EXPECT_NE(l.error->message.find("AWS_CREDENTIAL_EXPIRATION"), std::string::npos);
}

// ------------------------------------------------------------ files

TEST(SharedCredentialsFileSource, ReadsTheProfileSection) {
  FakeWorld w;
  w.CredentialsFile(std::string("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = ") + kSecretKey +
                    "\naws_session_token = " + kSessionToken + "\naws_account_id = 444455556666\n");
  Credentials c = Get(LoadSource(MakeSharedCredentialsFileSource(w.Context(), "default")));
  EXPECT_EQ(c.access_key_id, "AKIAFILE");
  EXPECT_EQ(c.secret_access_key, kSecretKey);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.account_id, "444455556666");
  EXPECT_EQ(c.source, "shared-credentials-file");
}

TEST(SharedCredentialsFileSource, LegacySecurityTokenWins) {
  FakeWorld w;
  w.CredentialsFile("[default]\naws_access_key_id = A\naws_secret_access_key = S\naws_session_token = new\n"
                    "aws_security_token = old\n");
  EXPECT_EQ(Get(LoadSource(MakeSharedCredentialsFileSource(w.Context(), "default"))).session_token, "old");
}

TEST(SharedCredentialsFileSource, NotFoundReasons) {
  FakeWorld w;
  Loaded missing = LoadSource(MakeSharedCredentialsFileSource(w.Context(), "default"));
  EXPECT_EQ(missing.provider, nullptr);
  EXPECT_NE(missing.not_found.find("/home/tester/.aws/credentials is missing or unreadable"), std::string::npos);
  w.CredentialsFile("[other]\naws_access_key_id = A\naws_secret_access_key = S\n[default]\nregion = x\n");
  Loaded no_section = LoadSource(MakeSharedCredentialsFileSource(w.Context(), "dev"));
  EXPECT_NE(no_section.not_found.find("no [dev] section"), std::string::npos);
  Loaded no_key = LoadSource(MakeSharedCredentialsFileSource(w.Context(), "default"));
  EXPECT_NE(no_key.not_found.find("has no aws_access_key_id"), std::string::npos);
}

TEST(SharedCredentialsFileSource, PartialAndEmptyKeysAreErrors) {
  FakeWorld w;
  w.CredentialsFile("[default]\naws_access_key_id = A\n[empty]\naws_access_key_id =\naws_secret_access_key = S\n"
                    "[nested]\naws_access_key_id =\n  x = y\naws_secret_access_key = S\n");
  Loaded partial = LoadSource(MakeSharedCredentialsFileSource(w.Context(), "default"));
  ASSERT_TRUE(partial.error.has_value());
  EXPECT_NE(partial.error->message.find("missing: aws_secret_access_key"), std::string::npos);
  Loaded empty = LoadSource(MakeSharedCredentialsFileSource(w.Context(), "empty"));
  ASSERT_TRUE(empty.error.has_value());
  EXPECT_NE(empty.error->message.find("empty"), std::string::npos);
  Loaded nested = LoadSource(MakeSharedCredentialsFileSource(w.Context(), "nested"));
  ASSERT_TRUE(nested.error.has_value());
  EXPECT_NE(nested.error->message.find("single value"), std::string::npos);
}

TEST(ConfigFileSource, ReadsStaticKeysFromTheConfigFileOnly) {
  FakeWorld w;
  w.ConfigFile("[profile dev]\naws_access_key_id = AKIACONFIG\naws_secret_access_key = S\n");
  w.CredentialsFile("[dev]\nregion = x\n");
  Credentials c = Get(LoadSource(MakeConfigFileSource(w.Context(), "dev")));
  EXPECT_EQ(c.access_key_id, "AKIACONFIG");
  EXPECT_EQ(c.source, "config-file");
  // Keys that exist only in the credentials file are not the config file's.
  FakeWorld w2;
  w2.ConfigFile("[profile dev]\nregion = x\n");
  w2.CredentialsFile("[dev]\naws_access_key_id = A\naws_secret_access_key = S\n");
  EXPECT_EQ(LoadSource(MakeConfigFileSource(w2.Context(), "dev")).provider, nullptr);
}

TEST(Ec2CredentialFileSource, ReadsLegacyKeyValueFile) {
  FakeWorld w;
  w.env.Set("AWS_CREDENTIAL_FILE", "~/legacy.txt");
  w.fs->AddFile("/home/tester/legacy.txt", "AWSAccessKeyId=AKIALEGACY\r\nAWSSecretKey = S\nnoise\n");
  Credentials c = Get(LoadSource(MakeEc2CredentialFileSource(w.Context())));
  EXPECT_EQ(c.access_key_id, "AKIALEGACY");
  EXPECT_EQ(c.secret_access_key, "S");
  EXPECT_EQ(c.source, "ec2-credentials-file");
  w.env.Set("AWS_CREDENTIAL_FILE", "/missing");
  EXPECT_TRUE(LoadSource(MakeEc2CredentialFileSource(w.Context())).error.has_value());
}

TEST(BotoConfigSource, ReadsCredentialsSection) {
  FakeWorld w;
  w.fs->AddFile("/home/tester/.boto", "[Credentials]\naws_access_key_id = AKIABOTO\naws_secret_access_key = S\n");
  Credentials c = Get(LoadSource(MakeBotoConfigSource(w.Context())));
  EXPECT_EQ(c.access_key_id, "AKIABOTO");
  EXPECT_EQ(c.source, "boto-config");
  w.env.Set("BOTO_CONFIG", "/elsewhere.cfg");
  Loaded none = LoadSource(MakeBotoConfigSource(w.Context()));
  EXPECT_EQ(none.provider, nullptr);
  EXPECT_NE(none.not_found.find("/elsewhere.cfg"), std::string::npos);
}

// ------------------------------------------------------------ credential_process

class CredentialProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string base = ::testing::TempDir();
    if (base.empty() || base.back() != '/') base += '/';
    std::string pattern = base + "cloudaudit_process_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string Script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    chmod(path.c_str(), 0755);
    return path;
  }

  FakeWorld& WorldWith(const std::string& credential_process) {
    world_.ConfigFile("[default]\ncredential_process = " + credential_process + "\n");
    return world_;
  }

  std::string dir_;
  FakeWorld world_;
};

TEST_F(CredentialProcessTest, StaticCredentials) {
  std::string script = Script("creds.sh", std::string("cat <<'EOF'\n{\"Version\": 1, \"AccessKeyId\": \"AKIAPROC\", "
                                                      "\"SecretAccessKey\": \"") +
                                              kSecretKey + "\", \"SessionToken\": \"" + kSessionToken +
                                              "\", \"AccountId\": \"999988887777\"}\nEOF\n");
  FakeWorld& w = WorldWith(script);
  Credentials c = Get(LoadSource(MakeProcessSource(w.Context(), "default")));
  EXPECT_EQ(c.access_key_id, "AKIAPROC");
  EXPECT_EQ(c.secret_access_key, kSecretKey);
  EXPECT_EQ(c.session_token, kSessionToken);
  EXPECT_EQ(c.account_id, "999988887777");
  EXPECT_EQ(c.source, "custom-process");
  EXPECT_FALSE(c.expiration.has_value());
}

TEST_F(CredentialProcessTest, ArgumentsAreSplitLikeShlex) {
  std::string script = Script("my creds.sh",
                              "printf '{\"Version\": 1, \"AccessKeyId\": \"%s|%s\", \"SecretAccessKey\": \"s\"}' "
                              "\"$1\" \"$2\"\n");
  FakeWorld& w = WorldWith("\"" + script + "\" 'one arg' two");
  EXPECT_EQ(Get(LoadSource(MakeProcessSource(w.Context(), "default"))).access_key_id, "one arg|two");
}

TEST_F(CredentialProcessTest, ExpiringCredentialsRerunTheProcess) {
  // Each run hands out the next key (K1, K2, ...), counting in a file.
  std::string counter = dir_ + "/count";
  std::string script = Script("refresh.sh", "n=$(cat '" + counter + "' 2>/dev/null || echo 0)\nn=$((n+1))\n"
                                            "echo $n > '" + counter + "'\n"
                                            "printf '{\"Version\": 1, \"AccessKeyId\": \"K%s\", \"SecretAccessKey\": "
                                            "\"s\", \"Expiration\": \"2027-01-15T09:00:00Z\"}' $n\n");
  FakeWorld& w = WorldWith(script);
  w.clock.Set(1'800'000'000);  // an hour before expiry
  Loaded l = LoadSource(MakeProcessSource(w.Context(), "default"));
  Credentials first = Get(l);
  EXPECT_EQ(first.access_key_id, "K1");
  EXPECT_EQ(first.expiration, 1'800'003'600);
  EXPECT_EQ(Get(l).access_key_id, "K1");
  w.clock.Set(1'800'003'600 - 14 * 60);  // advisory window: run again
  EXPECT_EQ(Get(l).access_key_id, "K2");
}

TEST_F(CredentialProcessTest, NonZeroExitReportsStderr) {
  std::string script = Script("fail.sh", "echo 'token expired, run login' >&2\nexit 3\n");
  FakeWorld& w = WorldWith(script);
  Loaded l = LoadSource(MakeProcessSource(w.Context(), "default"));
  ASSERT_TRUE(l.error.has_value());
  EXPECT_EQ(l.error->code, ErrorCode::kCredentials);
  EXPECT_NE(l.error->message.find("exited with status 3"), std::string::npos) << l.error->message;
  EXPECT_NE(l.error->message.find("token expired, run login"), std::string::npos);
}

TEST_F(CredentialProcessTest, MalformedOutputNeverEchoesTheSecret) {
  std::string script = Script("bad.sh", std::string("echo '{\"Version\": 1, \"SecretAccessKey\": \"") + kSecretKey +
                                            "\", oops'\n");
  FakeWorld& w = WorldWith(script);
  Loaded l = LoadSource(MakeProcessSource(w.Context(), "default"));
  ASSERT_TRUE(l.error.has_value());
  EXPECT_NE(l.error->message.find("not a JSON object"), std::string::npos);
}

TEST_F(CredentialProcessTest, RejectsOtherVersionsAndMissingKeys) {
  FakeWorld& w = WorldWith(Script("v2.sh", "echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'\n"));
  Loaded v2 = LoadSource(MakeProcessSource(w.Context(), "default"));
  ASSERT_TRUE(v2.error.has_value());
  EXPECT_NE(v2.error->message.find("unsupported version '2'"), std::string::npos) << v2.error->message;

  FakeWorld& w2 = WorldWith(Script("nov.sh", "echo '{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"S\"}'\n"));
  Loaded nov = LoadSource(MakeProcessSource(w2.Context(), "default"));
  ASSERT_TRUE(nov.error.has_value());
  EXPECT_NE(nov.error->message.find("<Version key not provided>"), std::string::npos);

  FakeWorld& w3 = WorldWith(Script("nosecret.sh", "echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'\n"));
  Loaded nosecret = LoadSource(MakeProcessSource(w3.Context(), "default"));
  ASSERT_TRUE(nosecret.error.has_value());
  EXPECT_NE(nosecret.error->message.find("missing required key in response: 'SecretAccessKey'"), std::string::npos);
}

TEST_F(CredentialProcessTest, MissingProgramAndBadQuoting) {
  FakeWorld& w = WorldWith(dir_ + "/does-not-exist --flag");
  Loaded missing = LoadSource(MakeProcessSource(w.Context(), "default"));
  ASSERT_TRUE(missing.error.has_value());
  EXPECT_NE(missing.error->message.find("cannot run"), std::string::npos) << missing.error->message;
  FakeWorld& w2 = WorldWith("'unterminated");
  Loaded quoting = LoadSource(MakeProcessSource(w2.Context(), "default"));
  ASSERT_TRUE(quoting.error.has_value());
  EXPECT_NE(quoting.error->message.find("no closing quotation"), std::string::npos);
}

TEST_F(CredentialProcessTest, RunawayOutputIsStopped) {
  FakeWorld& w = WorldWith(Script("yes.sh", "yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"));
  Loaded l = LoadSource(MakeProcessSource(w.Context(), "default"));
  ASSERT_TRUE(l.error.has_value());
  EXPECT_NE(l.error->message.find("was stopped"), std::string::npos) << l.error->message;
}

TEST_F(CredentialProcessTest, NotConfigured) {
  FakeWorld w;
  Loaded l = LoadSource(MakeProcessSource(w.Context(), "default"));
  EXPECT_EQ(l.provider, nullptr);
  EXPECT_NE(l.not_found.find("no credential_process"), std::string::npos);
}

}  // namespace
}  // namespace cloudaudit::aws
