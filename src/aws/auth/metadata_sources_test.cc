// Container credentials endpoint and EC2 instance metadata (IMDS) sources,
// against an in-memory HTTP transport.
#include <gtest/gtest.h>

#include "aws/auth/auth_test_fakes.h"
#include "aws/auth/credential_sources.h"

namespace cloudaudit::aws {
namespace {

using testing::ExpectNoSecrets;
using testing::FakeTransport;
using testing::FakeWorld;
using testing::kSecretKey;
using testing::kSessionToken;

constexpr int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z

std::string CredentialsJson(const std::string& key_id, const std::string& expiration = "2027-01-15T14:00:00Z") {
  return Json{{"Code", "Success"},
              {"LastUpdated", "2027-01-15T08:00:00Z"},
              {"Type", "AWS-HMAC"},
              {"AccessKeyId", key_id},
              {"SecretAccessKey", kSecretKey},
              {"Token", kSessionToken},
              {"Expiration", expiration}}
      .dump();
}

struct Outcome {
  std::shared_ptr<CredentialsProvider> provider;
  std::string not_found;
  std::optional<Error> error;
};

Outcome Load(const SourcePtr& source) {
  Outcome out;
  auto r = source->Load(&out.not_found);
  if (r) {
    out.provider = *r;
  } else {
    out.error = r.error();
    ExpectNoSecrets(r.error().ToString());
  }
  ExpectNoSecrets(out.not_found);
  return out;
}

// ------------------------------------------------------------ container

TEST(ContainerSource, RelativeUri) {
  FakeWorld w;
  w.clock.Set(kNow);
  w.env.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc?x=1");
  w.transport.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return FakeTransport::Response(200, CredentialsJson("ASIACONTAINER"));
  });
  Outcome o = Load(MakeContainerSource(w.Context()));
  ASSERT_NE(o.provider, nullptr) << (o.error ? o.error->ToString() : o.not_found);
  auto c = o.provider->GetCredentials();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "ASIACONTAINER");
  EXPECT_EQ(c->secret_access_key, kSecretKey);
  EXPECT_EQ(c->session_token, kSessionToken);
  EXPECT_EQ(c->expiration, kNow + 6 * 3600);
  EXPECT_EQ(c->source, "container-role");
  auto requests = w.transport.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].Url(), "http://169.254.170.2/v2/credentials/abc?x=1");
  EXPECT_EQ(requests[0].method, "GET");
  ASSERT_NE(requests[0].FindHeader("Accept"), nullptr);
  EXPECT_EQ(*requests[0].FindHeader("Accept"), "application/json");
  EXPECT_EQ(requests[0].FindHeader("Authorization"), nullptr);
  EXPECT_EQ(w.transport.options()[0].read_timeout_ms, 2000);
}

TEST(ContainerSource, FullUriWithAuthorizationToken) {
  FakeWorld w;
  w.clock.Set(kNow);
  w.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials");
  w.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer from-env");
  w.transport.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return FakeTransport::Response(200, CredentialsJson("ASIAEKS"));
  });
  Outcome o = Load(MakeContainerSource(w.Context()));
  ASSERT_NE(o.provider, nullptr);
  EXPECT_EQ(*w.transport.requests()[0].FindHeader("Authorization"), "Bearer from-env");
  // The token file wins over the variable, and is re-read on every refresh.
  w.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/token");
  w.fs->AddFile("/var/run/token", "file-token-1");
  Outcome o2 = Load(MakeContainerSource(w.Context()));
  ASSERT_NE(o2.provider, nullptr);
  EXPECT_EQ(*w.transport.requests().back().FindHeader("Authorization"), "file-token-1");
  w.fs->AddFile("/var/run/token", "file-token-2");
  w.clock.Set(kNow + 6 * 3600 - 5 * 60);
  ASSERT_TRUE(o2.provider->GetCredentials().has_value());
  EXPECT_EQ(*w.transport.requests().back().FindHeader("Authorization"), "file-token-2");
}

TEST(ContainerSource, TokenFileProblemsAreErrors) {
  FakeWorld w;
  w.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost:8080/creds");
  w.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/missing/token");
  Outcome o = Load(MakeContainerSource(w.Context()));
  ASSERT_TRUE(o.error.has_value());
  EXPECT_NE(o.error->message.find("/missing/token"), std::string::npos);
  w.env.Unset("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
  w.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", std::string("Bearer ") + kSessionToken + "\r\nX-Evil: 1");
  Outcome bad = Load(MakeContainerSource(w.Context()));
  ASSERT_TRUE(bad.error.has_value());
  EXPECT_NE(bad.error->message.find("not a legal header value"), std::string::npos);
  EXPECT_TRUE(w.transport.requests().empty());
}

TEST(ContainerSource, OnlyAllowedHosts) {
  for (const char* url : {"http://127.0.0.1:8080/c", "http://127.1.2.3/c", "http://[::1]:9/c", "http://localhost/c",
                          "http://LOCALHOST/c", "http://169.254.170.2/c", "http://169.254.170.23/c",
                          "http://[fd00:ec2::23]/c"}) {
    FakeWorld w;
    w.clock.Set(kNow);
    w.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    w.transport.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
      return FakeTransport::Response(200, CredentialsJson("ASIA"));
    });
    Outcome o = Load(MakeContainerSource(w.Context()));
    EXPECT_NE(o.provider, nullptr) << url << ": " << (o.error ? o.error->ToString() : "");
  }
  for (const char* url : {"http://evil.example.com/c", "http://169.254.169.254/c", "https://10.0.0.1/c",
                          "http://127.0.0.1.evil.com/c", "ftp://localhost/c"}) {
    FakeWorld w;
    w.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", url);
    Outcome o = Load(MakeContainerSource(w.Context()));
    ASSERT_TRUE(o.error.has_value()) << url;
    EXPECT_TRUE(w.transport.requests().empty()) << url;
  }
}

TEST(ContainerSource, RetriesThreeTimesWithPauses) {
  FakeWorld w;
  w.clock.Set(kNow);
  w.env.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
  int calls = 0;
  w.transport.SetHandler([&](const HttpRequest&) -> Result<HttpResponse> {
    if (++calls < 3) return FakeTransport::Response(500, "busy");
    return FakeTransport::Response(200, CredentialsJson("ASIARETRY"));
  });
  Outcome o = Load(MakeContainerSource(w.Context()));
  ASSERT_NE(o.provider, nullptr);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(w.sleeps_ms, (std::vector<int64_t>{1000, 1000}));
}

TEST(ContainerSource, FailureAfterRetriesStopsTheChainWithoutSecrets) {
  FakeWorld w;
  w.env.Set("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://localhost/creds?secret=query");
  w.env.Set("AWS_CONTAINER_AUTHORIZATION_TOKEN", kSessionToken);
  // A server that reflects the Authorization header into its error body.
  w.transport.SetHandler([](const HttpRequest& r) -> Result<HttpResponse> {
    return FakeTransport::Response(403, "denied for " + *r.FindHeader("Authorization"));
  });
  Outcome o = Load(MakeContainerSource(w.Context()));
  ASSERT_TRUE(o.error.has_value());
  EXPECT_EQ(o.error->code, ErrorCode::kCredentials);
  EXPECT_NE(o.error->message.find("HTTP 403"), std::string::npos) << o.error->message;
  EXPECT_NE(o.error->message.find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(o.error->message.find("secret=query"), std::string::npos);
  EXPECT_EQ(w.transport.requests().size(), 3u);
}

TEST(ContainerSource, TimeoutsAndBadBodies) {
  FakeWorld w;
  w.env.Set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
  w.transport.SetHandler(
      [](const HttpRequest&) -> Result<HttpResponse> { return MakeError(ErrorCode::kTimeout, "timed out"); });
  Outcome timeout = Load(MakeContainerSource(w.Context()));
  ASSERT_TRUE(timeout.error.has_value());
  EXPECT_NE(timeout.error->message.find("timed out"), std::string::npos);

  w.transport.SetHandler([](const HttpRequest&) -> Result<HttpResponse> {
    return FakeTransport::Response(200, Json{{"AccessKeyId", "A"}, {"SecretAccessKey", kSecretKey}}.dump());
  });
  Outcome missing = Load(MakeContainerSource(w.Context()));
  ASSERT_TRUE(missing.error.has_value());
  EXPECT_NE(missing.error->message.find("no Token"), std::string::npos);

  w.transport.SetHandler(
      [](const HttpRequest&) -> Result<HttpResponse> { return FakeTransport::Response(200, "<html>"); });
  Outcome html = Load(MakeContainerSource(w.Context()));
  ASSERT_TRUE(html.error.has_value());
  EXPECT_NE(html.error->message.find("not a JSON object"), std::string::npos);
}

TEST(ContainerSource, NotConfigured) {
  FakeWorld w;
  Outcome o = Load(MakeContainerSource(w.Context()));
  EXPECT_EQ(o.provider, nullptr);
  EXPECT_NE(o.not_found.find("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), std::string::npos);
}

// ------------------------------------------------------------ IMDS

// A scripted instance metadata service.
struct FakeImds {
  int token_status = 200;
  bool token_timeout = false;
  std::string role = "my-role";
  int role_status = 200;
  std::string credentials;
  std::vector<std::string> seen_tokens;  // x-aws-ec2-metadata-token of each GET ("-" when absent)

  FakeTransport::Handler Handler() {
    return [this](const HttpRequest& r) -> Result<HttpResponse> {
      if (r.method == "PUT" && r.path == "/latest/api/token") {
        if (token_timeout) return MakeError(ErrorCode::kTimeout, "read timed out");
        const std::string* ttl = r.FindHeader("x-aws-ec2-metadata-token-ttl-seconds");
        if (ttl == nullptr || *ttl != "21600") return FakeTransport::Response(400, "");
        return FakeTransport::Response(token_status, token_status == 200 ? "IMDS-TOKEN" : "");
      }
      const std::string* token = r.FindHeader("x-aws-ec2-metadata-token");
      seen_tokens.push_back(token ? *token : "-");
      if (r.method == "GET" && r.path == "/latest/meta-data/iam/security-credentials/") {
        return FakeTransport::Response(role_status, role_status == 200 ? role : "");
      }
      if (r.method == "GET" && r.path == "/latest/meta-data/iam/security-credentials/" + role) {
        return FakeTransport::Response(200, credentials);
      }
      return FakeTransport::Response(404, "");
    };
  }
};

TEST(InstanceMetadataSource, ImdsV2) {
  FakeWorld w;
  w.clock.Set(kNow);
  FakeImds imds;
  imds.credentials = CredentialsJson("ASIAIMDS");
  w.transport.SetHandler(imds.Handler());
  Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
  ASSERT_NE(o.provider, nullptr) << o.not_found;
  auto c = o.provider->GetCredentials();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->session_token, kSessionToken);
  EXPECT_EQ(c->expiration, kNow + 6 * 3600);
  EXPECT_EQ(c->source, "iam-role");
  auto requests = w.transport.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].Url(), "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(requests[2].Url(), "http://169.254.169.254/latest/meta-data/iam/security-credentials/my-role");
  EXPECT_EQ(imds.seen_tokens, (std::vector<std::string>{"IMDS-TOKEN", "IMDS-TOKEN"}));
  for (const HttpOptions& options : w.transport.options()) {
    EXPECT_EQ(options.connect_timeout_ms, 1000);
    EXPECT_EQ(options.read_timeout_ms, 1000);
  }
}

TEST(InstanceMetadataSource, FallsBackToImdsV1) {
  for (int status : {403, 404, 405}) {
    FakeWorld w;
    w.clock.Set(kNow);
    FakeImds imds;
    imds.token_status = status;
    imds.credentials = CredentialsJson("ASIAV1");
    w.transport.SetHandler(imds.Handler());
    Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
    ASSERT_NE(o.provider, nullptr) << status << ": " << o.not_found;
    EXPECT_EQ(imds.seen_tokens, (std::vector<std::string>{"-", "-"}));
  }
  FakeWorld w;
  w.clock.Set(kNow);
  FakeImds imds;
  imds.token_timeout = true;
  imds.credentials = CredentialsJson("ASIAV1");
  w.transport.SetHandler(imds.Handler());
  EXPECT_NE(Load(MakeInstanceMetadataSource(w.Context())).provider, nullptr);
}

TEST(InstanceMetadataSource, NoFallbackWhenV1Disabled) {
  FakeWorld w;
  w.env.Set("AWS_EC2_METADATA_V1_DISABLED", "true");
  FakeImds imds;
  imds.token_status = 403;
  imds.credentials = CredentialsJson("ASIAV1");
  w.transport.SetHandler(imds.Handler());
  Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
  EXPECT_EQ(o.provider, nullptr);
  EXPECT_NE(o.not_found.find("IMDSv1 fallback is disabled"), std::string::npos);
}

TEST(InstanceMetadataSource, DisabledByEnvironment) {
  FakeWorld w;
  w.env.Set("AWS_EC2_METADATA_DISABLED", "true");
  Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
  EXPECT_EQ(o.provider, nullptr);
  EXPECT_NE(o.not_found.find("AWS_EC2_METADATA_DISABLED"), std::string::npos);
  EXPECT_TRUE(w.transport.requests().empty());
}

TEST(InstanceMetadataSource, NotOnEc2) {
  FakeWorld w;  // no handler: every request fails with "no route to host"
  Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
  EXPECT_EQ(o.provider, nullptr);
  EXPECT_FALSE(o.error.has_value());
  EXPECT_NE(o.not_found.find("http://169.254.169.254/"), std::string::npos);
  EXPECT_NE(o.not_found.find("no route to host"), std::string::npos);
  EXPECT_EQ(w.transport.requests().size(), 2u);  // token PUT, role listing GET
}

TEST(InstanceMetadataSource, RetriesUpToNumAttempts) {
  FakeWorld w;
  w.env.Set("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "3");
  Load(MakeInstanceMetadataSource(w.Context()));
  EXPECT_EQ(w.transport.requests().size(), 6u);
}

TEST(InstanceMetadataSource, BadAnswersMeanNoCredentials) {
  struct Case {
    const char* name;
    std::function<void(FakeImds&)> setup;
    const char* reason;
  };
  std::vector<Case> cases = {
      {"no role", [](FakeImds& i) { i.role_status = 404; }, "HTTP 404"},
      {"token 400", [](FakeImds& i) { i.token_status = 400; }, "HTTP 400"},
      {"error document",
       [](FakeImds& i) {
         i.credentials = Json{{"Code", "AssumeRoleUnauthorizedAccess"}, {"Message", "EC2 cannot assume the role"}}.dump();
       },
       "AssumeRoleUnauthorizedAccess"},
      {"invalid JSON", [](FakeImds& i) { i.credentials = "{"; }, "invalid JSON"},
      {"empty", [](FakeImds& i) { i.credentials = ""; }, "empty response"},
  };
  for (const Case& c : cases) {
    FakeWorld w;
    FakeImds imds;
    imds.credentials = CredentialsJson("ASIA");
    c.setup(imds);
    w.transport.SetHandler(imds.Handler());
    Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
    EXPECT_EQ(o.provider, nullptr) << c.name;
    EXPECT_FALSE(o.error.has_value()) << c.name;
    EXPECT_NE(o.not_found.find(c.reason), std::string::npos) << c.name << ": " << o.not_found;
  }
}

TEST(InstanceMetadataSource, ExtendsStaleCredentialsForStaticStability) {
  FakeWorld w;
  w.clock.Set(kNow);
  FakeImds imds;
  imds.credentials = CredentialsJson("ASIASTALE", "2027-01-15T07:00:00Z");  // expired an hour ago
  w.transport.SetHandler(imds.Handler());
  Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
  ASSERT_NE(o.provider, nullptr);
  auto c = o.provider->GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->expiration, kNow + 15 * 60 + 120);  // refresh window + jitter (the fake's lowest)
}

TEST(InstanceMetadataSource, RefreshesAndReportsRefreshFailures) {
  FakeWorld w;
  w.clock.Set(kNow);
  FakeImds imds;
  imds.credentials = CredentialsJson("ASIAFIRST");
  w.transport.SetHandler(imds.Handler());
  Outcome o = Load(MakeInstanceMetadataSource(w.Context()));
  ASSERT_NE(o.provider, nullptr);
  imds.credentials = CredentialsJson("ASIASECOND", "2027-01-15T20:00:00Z");
  w.clock.Set(kNow + 6 * 3600 - 14 * 60);
  EXPECT_EQ(o.provider->GetCredentials()->access_key_id, "ASIASECOND");
  // IMDS goes away; inside the mandatory window the failure surfaces.
  w.transport.SetHandler(nullptr);
  w.clock.Set(kNow + 12 * 3600 - 5 * 60);
  auto c = o.provider->GetCredentials();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kCredentials);
  EXPECT_NE(c.error().message.find("iam-role"), std::string::npos);
  ExpectNoSecrets(c.error().ToString());
}

TEST(InstanceMetadataSource, CustomAndIpv6Endpoints) {
  {
    FakeWorld w;
    w.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/base");
    Load(MakeInstanceMetadataSource(w.Context()));
    ASSERT_FALSE(w.transport.requests().empty());
    EXPECT_EQ(w.transport.requests()[0].Url(), "http://127.0.0.1:1338/base/latest/api/token");
  }
  {
    FakeWorld w;
    w.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6");
    Load(MakeInstanceMetadataSource(w.Context()));
    ASSERT_FALSE(w.transport.requests().empty());
    EXPECT_EQ(w.transport.requests()[0].Url(), "http://[fd00:ec2::254]/latest/api/token");
  }
}

TEST(InstanceMetadataSource, RoleNameIsEscapedInThePath) {
  FakeWorld w;
  w.clock.Set(kNow);
  FakeImds imds;
  imds.role = "role+with@chars";
  imds.credentials = CredentialsJson("ASIA");
  w.transport.SetHandler(imds.Handler());
  EXPECT_NE(Load(MakeInstanceMetadataSource(w.Context())).provider, nullptr);
  EXPECT_EQ(w.transport.requests().back().path, "/latest/meta-data/iam/security-credentials/role+with@chars");
}

}  // namespace
}  // namespace cloudaudit::aws
