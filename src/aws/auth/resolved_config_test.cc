#include "aws/auth/resolved_config.h"

#include <gtest/gtest.h>

#include "aws/auth/auth_test_fakes.h"

namespace cloudaudit::aws {
namespace {

using testing::FakeWorld;

ResolvedConfig LoadOk(FakeWorld& w) {
  auto config = w.Load();
  EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().ToString());
  return config ? *config : ResolvedConfig{};
}

TEST(ResolvedConfig, DefaultsWithNoFilesAndNoEnvironment) {
  FakeWorld w;
  ResolvedConfig c = LoadOk(w);
  EXPECT_EQ(c.profile_name(), "default");
  EXPECT_FALSE(c.profile_from_flag());
  EXPECT_TRUE(c.profile().empty());
  EXPECT_EQ(c.config_file_path(), "/home/tester/.aws/config");
  EXPECT_EQ(c.credentials_file_path(), "/home/tester/.aws/credentials");
  EXPECT_FALSE(c.Region().has_value());
  EXPECT_FALSE(c.CaBundle().has_value());
  EXPECT_EQ(c.RetryMode().value(), "standard");
  EXPECT_EQ(c.MaxAttempts().value(), 3);
  EXPECT_EQ(c.StsRegionalEndpoints().value(), "regional");
  EXPECT_FALSE(c.shared_config().config_file_found);
}

TEST(ResolvedConfig, ProfilePrecedence) {
  FakeWorld w;
  w.ConfigFile("[profile flag]\n[profile env]\n[profile legacy]\n");
  w.env.Set("AWS_DEFAULT_PROFILE", "legacy");
  EXPECT_EQ(LoadOk(w).profile_name(), "legacy");
  w.env.Set("AWS_PROFILE", "env");
  EXPECT_EQ(LoadOk(w).profile_name(), "env");
  EXPECT_FALSE(LoadOk(w).profile_from_flag());
  w.flags.profile = "flag";
  EXPECT_EQ(LoadOk(w).profile_name(), "flag");
  EXPECT_TRUE(LoadOk(w).profile_from_flag());
}

TEST(ResolvedConfig, ExplicitProfileMustExist) {
  FakeWorld w;
  w.ConfigFile("[profile dev]\nregion = x\n");
  w.env.Set("AWS_PROFILE", "prod");
  auto c = w.Load();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kNotFound);
  EXPECT_NE(c.error().message.find("The config profile (prod) could not be found"), std::string::npos);
  // Even "default", when named explicitly, as the AWS CLI does.
  w.env.Set("AWS_PROFILE", "default");
  EXPECT_FALSE(w.Load().has_value());
  // An empty AWS_PROFILE names the profile "".
  w.env.Set("AWS_PROFILE", "");
  EXPECT_FALSE(w.Load().has_value());
  // A profile that exists only in the credentials file is fine.
  w.env.Set("AWS_PROFILE", "ci");
  w.CredentialsFile("[ci]\naws_access_key_id = A\n");
  EXPECT_EQ(LoadOk(w).profile_name(), "ci");
}

TEST(ResolvedConfig, RegionPrecedence) {
  FakeWorld w;
  w.ConfigFile("[default]\nregion = from-profile\n");
  EXPECT_EQ(LoadOk(w).Region(), "from-profile");
  w.env.Set("AWS_DEFAULT_REGION", "from-default-region");
  EXPECT_EQ(LoadOk(w).Region(), "from-default-region");
  w.env.Set("AWS_REGION", "from-region");
  EXPECT_EQ(LoadOk(w).Region(), "from-region");
  w.flags.region = "from-flag";
  EXPECT_EQ(LoadOk(w).Region(), "from-flag");
}

TEST(ResolvedConfig, RegionComesFromTheActiveProfile) {
  FakeWorld w;
  w.ConfigFile("[default]\nregion = a\n[profile dev]\nregion = b\n");
  w.flags.profile = "dev";
  EXPECT_EQ(LoadOk(w).Region(), "b");
}

TEST(ResolvedConfig, CredentialsFileSettingsOverrideTheConfigFile) {
  FakeWorld w;
  w.ConfigFile("[default]\nregion = config\n");
  w.CredentialsFile("[default]\nregion = credentials\n");
  EXPECT_EQ(LoadOk(w).Region(), "credentials");
}

TEST(ResolvedConfig, CaBundlePrecedence) {
  FakeWorld w;
  w.ConfigFile("[default]\nca_bundle = /profile.pem\n");
  EXPECT_EQ(LoadOk(w).CaBundle(), "/profile.pem");
  w.env.Set("AWS_CA_BUNDLE", "/env.pem");
  EXPECT_EQ(LoadOk(w).CaBundle(), "/env.pem");
  w.flags.ca_bundle = "/flag.pem";
  EXPECT_EQ(LoadOk(w).CaBundle(), "/flag.pem");
}

TEST(ResolvedConfig, FileLocationsFromEnvironmentWithExpansion) {
  FakeWorld w;
  w.env.Set("AWS_CONFIG_FILE", "~/custom/config");
  w.env.Set("CFG_DIR", "/etc/aws");
  w.env.Set("AWS_SHARED_CREDENTIALS_FILE", "${CFG_DIR}/creds");
  w.fs->AddFile("/home/tester/custom/config", "[default]\nregion = custom\n");
  w.fs->AddFile("/etc/aws/creds", "[default]\naws_access_key_id = X\n");
  ResolvedConfig c = LoadOk(w);
  EXPECT_EQ(c.config_file_path(), "/home/tester/custom/config");
  EXPECT_EQ(c.credentials_file_path(), "/etc/aws/creds");
  EXPECT_EQ(c.Region(), "custom");
  EXPECT_TRUE(c.shared_config().credentials_file_found);
}

TEST(ResolvedConfig, PathExpansionMatchesPython) {
  Environment env(std::map<std::string, std::string>{{"HOME", "/home/u/"}, {"A", "x"}});
  EXPECT_EQ(ExpandUser("~", env), "/home/u");
  EXPECT_EQ(ExpandUser("~/.aws/config", env), "/home/u/.aws/config");
  EXPECT_EQ(ExpandUser("/abs/~/x", env), "/abs/~/x");
  EXPECT_EQ(ExpandUser("~no_such_user_hopefully_xyz/x", env), "~no_such_user_hopefully_xyz/x");
  EXPECT_EQ(ExpandVars("$A/${A}/$B/${B}/$/${}", env), "x/x/$B/${B}/$/${}");
  EXPECT_EQ(ExpandVars("${A", env), "${A");
  Environment empty_home(std::map<std::string, std::string>{{"HOME", ""}});
  EXPECT_EQ(ExpandUser("~/.aws", empty_home), "/.aws");
}

TEST(ResolvedConfig, MalformedFilesFailWithFileAndLine) {
  FakeWorld w;
  w.ConfigFile("[default]\nregion = a\n[default]\n");
  auto c = w.Load();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kParse);
  EXPECT_EQ(c.error().file, "/home/tester/.aws/config");
  EXPECT_EQ(c.error().line, 3);

  FakeWorld w2;
  w2.CredentialsFile("aws_access_key_id = A\n");
  auto c2 = w2.Load();
  ASSERT_FALSE(c2.has_value());
  EXPECT_EQ(c2.error().file, "/home/tester/.aws/credentials");
  EXPECT_EQ(c2.error().line, 1);
}

TEST(ResolvedConfig, UnreadableFilesAreSkippedAndNoted) {
  FakeWorld w;
  w.fs->AddUnreadable("/home/tester/.aws/config");
  ResolvedConfig c = LoadOk(w);
  EXPECT_FALSE(c.shared_config().config_file_found);
  ASSERT_EQ(c.read_problems().size(), 1u);
  EXPECT_NE(c.read_problems()[0].find("Permission denied"), std::string::npos);
}

TEST(ResolvedConfig, ParseOptionsAreHonoured) {
  FakeWorld w;
  w.ConfigFile("[default]\nregion = us-east-1 # prod\n");
  EXPECT_EQ(LoadOk(w).Region(), "us-east-1 # prod");
  ConfigParseOptions options;
  options.strip_inline_comments = true;
  auto c = ResolvedConfig::Load(w.flags, w.env, w.fs, options);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->Region(), "us-east-1");
}

TEST(ResolvedConfig, EndpointUrlPrecedence) {
  FakeWorld w;
  w.ConfigFile(
      "[default]\n"
      "endpoint_url = http://profile-global\n"
      "services = local\n"
      "[services local]\n"
      "elastic_load_balancing_v2 =\n"
      "  endpoint_url = http://services-elbv2\n"
      "s3 =\n"
      "  endpoint_url = http://services-s3\n");
  auto url = [&](std::string_view service_id) { return LoadOk(w).EndpointUrl(service_id).value(); };
  EXPECT_EQ(url("Elastic Load Balancing v2"), "http://services-elbv2");
  EXPECT_EQ(url("S3"), "http://services-s3");
  EXPECT_EQ(url("IAM"), "http://profile-global");
  w.env.Set("AWS_ENDPOINT_URL", "http://env-global");
  EXPECT_EQ(url("S3"), "http://env-global");
  w.env.Set("AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2", "http://env-elbv2");
  EXPECT_EQ(url("Elastic Load Balancing v2"), "http://env-elbv2");
  EXPECT_EQ(url("S3"), "http://env-global");
  w.flags.endpoint_url = "http://flag";
  EXPECT_EQ(url("S3"), "http://flag");
}

TEST(ResolvedConfig, EmptyEndpointVariablesFallThrough) {
  FakeWorld w;
  w.ConfigFile("[default]\nendpoint_url = http://profile\n");
  w.env.Set("AWS_ENDPOINT_URL", "");
  w.env.Set("AWS_ENDPOINT_URL_S3", "");
  EXPECT_EQ(LoadOk(w).EndpointUrl("S3").value(), "http://profile");
}

TEST(ResolvedConfig, IgnoreConfiguredEndpointUrls) {
  FakeWorld w;
  w.ConfigFile("[default]\nendpoint_url = http://profile\n");
  w.env.Set("AWS_ENDPOINT_URL", "http://env");
  w.env.Set("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE");
  EXPECT_FALSE(LoadOk(w).EndpointUrl("S3").value().has_value());
  w.flags.endpoint_url = "http://flag";
  EXPECT_EQ(LoadOk(w).EndpointUrl("S3").value(), "http://flag");
}

TEST(ResolvedConfig, MissingServicesSectionIsAnError) {
  FakeWorld w;
  w.ConfigFile("[default]\nservices = nope\n");
  auto url = LoadOk(w).EndpointUrl("S3");
  ASSERT_FALSE(url.has_value());
  EXPECT_EQ(url.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(url.error().message.find("nope"), std::string::npos);
}

TEST(ResolvedConfig, EndpointServiceKey) {
  EXPECT_EQ(ResolvedConfig::EndpointServiceKey("Elastic Load Balancing v2"), "elastic_load_balancing_v2");
  EXPECT_EQ(ResolvedConfig::EndpointServiceKey("API Gateway"), "api_gateway");
  EXPECT_EQ(ResolvedConfig::EndpointServiceKey("Service Quotas"), "service_quotas");
  EXPECT_EQ(ResolvedConfig::EndpointServiceKey("S3"), "s3");
  EXPECT_EQ(ResolvedConfig::EndpointServiceKey("resource-groups"), "resource_groups");
}

TEST(ResolvedConfig, RetrySettings) {
  FakeWorld w;
  w.ConfigFile("[default]\nretry_mode = adaptive\nmax_attempts = 7\n");
  EXPECT_EQ(LoadOk(w).RetryMode().value(), "adaptive");
  EXPECT_EQ(LoadOk(w).MaxAttempts().value(), 7);
  w.env.Set("AWS_RETRY_MODE", "legacy");
  w.env.Set("AWS_MAX_ATTEMPTS", " 2 ");
  EXPECT_EQ(LoadOk(w).RetryMode().value(), "legacy");
  EXPECT_EQ(LoadOk(w).MaxAttempts().value(), 2);
  w.env.Set("AWS_RETRY_MODE", "sometimes");
  w.env.Set("AWS_MAX_ATTEMPTS", "two");
  EXPECT_EQ(LoadOk(w).RetryMode().error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(LoadOk(w).MaxAttempts().error().code, ErrorCode::kInvalidArgument);
  w.env.Set("AWS_MAX_ATTEMPTS", "0");
  EXPECT_FALSE(LoadOk(w).MaxAttempts().has_value());
}

TEST(ResolvedConfig, StsRegionalEndpoints) {
  FakeWorld w;
  w.ConfigFile("[default]\nsts_regional_endpoints = legacy\n");
  EXPECT_EQ(LoadOk(w).StsRegionalEndpoints().value(), "legacy");
  w.env.Set("AWS_STS_REGIONAL_ENDPOINTS", "regional");
  EXPECT_EQ(LoadOk(w).StsRegionalEndpoints().value(), "regional");
  w.env.Set("AWS_STS_REGIONAL_ENDPOINTS", "global");
  EXPECT_FALSE(LoadOk(w).StsRegionalEndpoints().has_value());
}

TEST(ResolvedConfig, ImdsSettings) {
  FakeWorld w;
  ImdsSettings s = LoadOk(w).Imds().value();
  EXPECT_FALSE(s.disabled);
  EXPECT_EQ(s.endpoint, "http://169.254.169.254/");
  EXPECT_EQ(s.timeout_ms, 1000);
  EXPECT_EQ(s.num_attempts, 1);
  EXPECT_FALSE(s.v1_disabled);

  w.ConfigFile("[default]\nmetadata_service_timeout = 3\nmetadata_service_num_attempts = 2\n"
               "ec2_metadata_service_endpoint_mode = IPv6\nec2_metadata_v1_disabled = true\n");
  w.env.Set("AWS_EC2_METADATA_DISABLED", "True");
  s = LoadOk(w).Imds().value();
  EXPECT_TRUE(s.disabled);
  EXPECT_EQ(s.endpoint, "http://[fd00:ec2::254]/");
  EXPECT_EQ(s.timeout_ms, 3000);
  EXPECT_EQ(s.num_attempts, 2);
  EXPECT_TRUE(s.v1_disabled);

  w.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338");
  EXPECT_EQ(LoadOk(w).Imds().value().endpoint, "http://127.0.0.1:1338");
  w.env.Set("AWS_METADATA_SERVICE_TIMEOUT", "1.5");
  EXPECT_FALSE(LoadOk(w).Imds().has_value());
  w.env.Unset("AWS_METADATA_SERVICE_TIMEOUT");
  w.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT", "not a url");
  EXPECT_FALSE(LoadOk(w).Imds().has_value());
  w.env.Unset("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  w.env.Set("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv5");
  EXPECT_FALSE(LoadOk(w).Imds().has_value());
}

TEST(ResolvedConfig, ImdsUseIpv6Flag) {
  FakeWorld w;
  w.env.Set("AWS_IMDS_USE_IPV6", "true");
  EXPECT_EQ(LoadOk(w).Imds().value().endpoint, "http://[fd00:ec2::254]/");
}

}  // namespace
}  // namespace cloudaudit::aws
