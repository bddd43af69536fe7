// A ready-to-use AWS session for commands: settings resolved like the AWS
// CLI (flags, environment, ~/.aws files), the credential provider chain, the
// libcurl transport and one shared AwsClient.
#pragma once

#include <memory>

#include "aws/auth/resolved_config.h"
#include "aws/client/client.h"

namespace cloudaudit::aws {

struct Session {
  std::shared_ptr<const ResolvedConfig> config;
  std::shared_ptr<HttpTransport> transport;
  std::shared_ptr<CredentialsProvider> credentials;
  std::shared_ptr<AwsClient> client;
};

// Reads the process environment and the real files. Errors: kParse for a
// malformed config file (file:line), kNotFound for an unknown profile,
// kInvalidArgument for bad settings.
Result<Session> OpenSession(const ConfigOverrides& overrides);

// The same from explicit pieces (tests): any transport, environment and files.
Result<Session> OpenSession(const ConfigOverrides& overrides, Environment env, std::shared_ptr<const FileSystem> fs,
                            std::shared_ptr<HttpTransport> transport);

}  // namespace cloudaudit::aws
