#include "aws/client/session.h"

#include <fmt/format.h>

#include "aws/auth/credential_chain.h"
#include "aws/http/curl_transport.h"
#include "base/strings.h"

namespace cloudaudit::aws {

Result<Session> OpenSession(const ConfigOverrides& overrides) {
  return OpenSession(overrides, Environment::FromProcess(), RealFileSystem(), std::make_shared<CurlTransport>());
}

Result<Session> OpenSession(const ConfigOverrides& overrides, Environment env, std::shared_ptr<const FileSystem> fs,
                            std::shared_ptr<HttpTransport> transport) {
  CA_TRY(ResolvedConfig resolved, ResolvedConfig::Load(overrides, std::move(env), std::move(fs)));
  auto config = std::make_shared<const ResolvedConfig>(std::move(resolved));
  ClientConfig cc;
  cc.region = config->Region().value_or("");
  if (auto ca = config->CaBundle()) cc.http.ca_bundle = *ca;
  CA_TRY(std::string retry_mode, config->RetryMode());
  CA_TRY(cc.max_attempts, config->MaxAttempts());
  // The adaptive limiter is always on: a scan must slow down when an account
  // throttles, whatever the retry mode says.
  cc.adaptive_rate_limit = true;
  (void)retry_mode;
  CA_TRY(std::string sts_mode, config->StsRegionalEndpoints());
  cc.endpoints.sts_regional = sts_mode != "legacy";
  // The profile's `s3 =` sub-section: addressing_style = auto|virtual|path.
  if (auto s3 = config->profile().find("s3"); s3 != config->profile().end() && s3->second.is_subsection) {
    if (auto style = s3->second.subsection.find("addressing_style"); style != s3->second.subsection.end())
      cc.s3_addressing_style = style->second;
  }
  cc.endpoint_url_for = [config](const ServiceMetadata& metadata) -> Result<std::optional<std::string>> {
    return config->EndpointUrl(metadata.service_id);
  };

  Session session;
  session.config = config;
  session.transport = std::move(transport);
  session.client = std::make_shared<AwsClient>(cc, session.transport, nullptr);
  CredentialChainDeps deps;
  deps.transport = session.transport.get();
  deps.caller = session.client.get();
  session.credentials = MakeDefaultCredentialsChain(*config, std::move(deps));
  session.client->SetCredentialsProvider(session.credentials);
  return session;
}

}  // namespace cloudaudit::aws
