// AWS credentials and the provider chain the AWS CLI uses.
//
// Secrets (secret_access_key, session_token) must never be logged, printed
// or put into an Error: use Credentials::Describe() for diagnostics.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;              // empty for long-term keys
  std::optional<int64_t> expiration;      // epoch seconds; nullopt: does not expire
  std::string source;                     // "env", "shared-credentials-file", "assume-role", ...
  std::string account_id;                 // when the source knows it (SSO, assumed roles); else empty

  bool Empty() const { return access_key_id.empty() || secret_access_key.empty(); }
  // True when the credentials expire within `window_seconds` of now_epoch.
  bool ExpiresWithin(int64_t now_epoch, int64_t window_seconds) const {
    return expiration.has_value() && *expiration - now_epoch <= window_seconds;
  }
  // "AKIA…WXYZ from env" — never the secret.
  std::string Describe() const;
};

// Makes the few AWS calls credential providers need (sts AssumeRole,
// AssumeRoleWithWebIdentity, sso GetRoleCredentials) through the real
// client without auth depending on it. `credentials` null means unsigned.
// Returns the boto3-shaped response (e.g. {"Credentials": {...}}).
class AwsCaller {
 public:
  virtual ~AwsCaller() = default;
  virtual Result<Json> Call(const std::string& service, const std::string& operation, const Json& params,
                            const Credentials* credentials, const std::string& region) = 0;
};

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Returns valid credentials, refreshing them if they expire soon.
  // Thread-safe. Errors are kCredentials with what was tried and why.
  virtual Result<Credentials> GetCredentials() = 0;
};

}  // namespace cloudaudit::aws
