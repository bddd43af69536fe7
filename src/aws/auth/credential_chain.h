// The AWS CLI v2 default credential chain, in botocore's order:
//   env (skipped when --profile is given), assume-role (role_arn),
//   assume-role-with-web-identity, sso, shared-credentials-file,
//   custom-process (credential_process), config-file,
//   ec2-credentials-file (AWS_CREDENTIAL_FILE), boto-config,
//   container-role (ECS/EKS), iam-role (EC2 instance metadata).
// The first source that is configured wins; a configured source that fails
// stops the chain with its error (it does not fall through), as in botocore.
//
// Typical use:
//   CA_TRY(ResolvedConfig config, ResolvedConfig::Load(flags, Environment::FromProcess(), RealFileSystem()));
//   auto credentials = MakeDefaultCredentialsChain(config, {.transport = &http, .caller = &sts_caller});
//   CA_TRY(Credentials c, credentials->GetCredentials());   // from any thread
#pragma once

#include <memory>

#include "aws/auth/credential_sources.h"
#include "aws/auth/credentials.h"
#include "aws/auth/resolved_config.h"

namespace cloudaudit::aws {

// The outside world the chain may use. Everything is optional; unset
// functions get real implementations. `transport` and `caller` are not owned
// and must outlive the chain. Without a transport the container and IMDS
// sources report themselves unavailable; without a caller assume-role, web
// identity and SSO fail when they are needed.
struct CredentialChainDeps {
  HttpTransport* transport = nullptr;
  AwsCaller* caller = nullptr;
  MfaPrompt mfa_prompt;  // default: PromptOnTerminal (reads /dev/tty, echo off)
  Clock clock;           // default: the system clock
  Sleeper sleep;         // default: std::this_thread::sleep_for
  RandomInt random;      // default: a seeded Mersenne twister
};

// The context every source of a chain shares (exposed for tests and for
// callers that build their own chains from credential_sources.h).
// kInvalidArgument when the metadata-service settings are invalid.
Result<std::shared_ptr<SourceContext>> MakeSourceContext(const ResolvedConfig& config, CredentialChainDeps deps);

// The chain for config.profile_name(). Nothing is read or called until the
// first GetCredentials(), which picks the source once (concurrent first
// callers wait for it) and then delegates to its provider; the outcome,
// including "no credentials", is kept for the life of the chain. When no
// source is configured the kCredentials error lists every place that was
// looked at, without secrets.
std::shared_ptr<CredentialsProvider> MakeDefaultCredentialsChain(const ResolvedConfig& config,
                                                                 CredentialChainDeps deps = {});

}  // namespace cloudaudit::aws
