// The credential sources of the AWS CLI v2 default chain, one class each,
// with botocore's names ("env", "assume-role", "iam-role"...). Most callers
// want MakeDefaultCredentialsChain() in credential_chain.h; these building
// blocks are public for tests and for callers that need one source alone.
//
// A source decides whether it is configured (environment variables, profile
// keys, files) and, if so, returns a CredentialsProvider. Sources that call
// AWS (assume-role, web identity, SSO) return a deferred provider: the call is
// made by its first GetCredentials(), as botocore does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aws/auth/config_file.h"
#include "aws/auth/credentials.h"
#include "aws/auth/environment.h"
#include "aws/auth/refreshing_credentials.h"
#include "aws/auth/resolved_config.h"
#include "aws/http/transport.h"
#include "base/error.h"

namespace cloudaudit::aws {

// Asks the user for an MFA code. Receives the whole prompt,
// "Enter MFA code for arn:aws:iam::123456789012:mfa/user: ".
using MfaPrompt = std::function<Result<std::string>(const std::string& prompt)>;
using Sleeper = std::function<void(int64_t milliseconds)>;
// A uniformly random integer in [lo, hi] (IMDS expiry jitter).
using RandomInt = std::function<int64_t(int64_t lo, int64_t hi)>;

// What credential sources read and call. Shared (read-only) by all sources
// and providers of one chain; the transport and caller are not owned and must
// outlive every provider created from the context.
struct SourceContext {
  Environment env;
  std::shared_ptr<const FileSystem> fs;
  std::shared_ptr<const SharedConfig> config;
  std::string config_file_path;       // for messages
  std::string credentials_file_path;  // for messages
  std::vector<std::string> read_problems;  // unreadable files, for "not found" messages
  std::string region;                 // region of STS calls; may be empty
  ImdsSettings imds;
  std::string sso_cache_dir;          // ~/.aws/sso/cache
  HttpTransport* transport = nullptr;  // IMDS and container endpoints
  AwsCaller* caller = nullptr;         // sts and sso calls
  MfaPrompt mfa_prompt;
  Clock clock;
  Sleeper sleep;
  RandomInt random;
};
using SourceContextPtr = std::shared_ptr<const SourceContext>;

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // botocore's method name, also used as Credentials::source.
  virtual const char* method() const = 0;
  // The provider when this source is configured. When it is not: nullptr,
  // with the reason in *not_found (it ends up in the "Unable to locate
  // credentials" message, so it never holds secrets). An error means the
  // source is configured but broken, and the chain stops there as botocore's
  // does (e.g. AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY).
  virtual Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) = 0;
};
using SourcePtr = std::unique_ptr<CredentialSource>;

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (or
// AWS_SECURITY_TOKEN), AWS_CREDENTIAL_EXPIRATION, AWS_ACCOUNT_ID.
SourcePtr MakeEnvSource(SourceContextPtr ctx);
// role_arn with source_profile (recursively) or credential_source.
SourcePtr MakeAssumeRoleSource(SourceContextPtr ctx, std::string profile);
// AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN/AWS_ROLE_SESSION_NAME (when
// use_env) or the profile's web_identity_token_file/role_arn/role_session_name.
SourcePtr MakeWebIdentitySource(SourceContextPtr ctx, std::string profile, bool use_env);
// sso_account_id/sso_role_name with sso_session or legacy sso_start_url.
SourcePtr MakeSsoSource(SourceContextPtr ctx, std::string profile);
// [profile] of the credentials file (the section name is the profile name).
SourcePtr MakeSharedCredentialsFileSource(SourceContextPtr ctx, std::string profile);
// credential_process of the profile.
SourcePtr MakeProcessSource(SourceContextPtr ctx, std::string profile);
// Static keys in the config file's profile.
SourcePtr MakeConfigFileSource(SourceContextPtr ctx, std::string profile);
// Legacy: AWS_CREDENTIAL_FILE (AWSAccessKeyId=/AWSSecretKey= lines).
SourcePtr MakeEc2CredentialFileSource(SourceContextPtr ctx);
// Legacy: [Credentials] of BOTO_CONFIG, else /etc/boto.cfg and ~/.boto.
SourcePtr MakeBotoConfigSource(SourceContextPtr ctx);
// ECS/EKS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI).
SourcePtr MakeContainerSource(SourceContextPtr ctx);
// EC2 instance metadata (IMDSv2 with fallback to v1 unless disabled).
SourcePtr MakeInstanceMetadataSource(SourceContextPtr ctx);

// The per-profile sources in chain order: web identity, SSO, shared
// credentials file, credential_process, config file.
std::vector<SourcePtr> MakeProfileSources(const SourceContextPtr& ctx, const std::string& profile, bool use_env);

// Tries `sources` in order and returns the first provider (nullptr when none
// is configured, with one "method: reason" line per source in *not_found).
Result<std::shared_ptr<CredentialsProvider>> LoadFirst(std::vector<SourcePtr>& sources,
                                                       std::vector<std::string>* not_found);

}  // namespace cloudaudit::aws
