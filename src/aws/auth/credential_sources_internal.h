// Helpers shared by the credential source implementations
// (credential_sources.cc, metadata_sources.cc, sts_sources.cc). Not part of
// the library's interface.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "aws/auth/credential_sources.h"
#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws::internal {

inline tl::unexpected<Error> CredentialsError(std::string message) {
  return MakeError(ErrorCode::kCredentials, std::move(message));
}

// `object[key]` when `object` is an object and the member is a string.
std::optional<std::string> JsonString(const Json& object, const char* key);

// An expiration as AWS and credential processes send it: ISO-8601 or
// RFC-822 text, or epoch seconds. `what` names it in errors.
Result<int64_t> ParseExpirationText(std::string_view text, std::string_view what);
Result<int64_t> ParseExpirationJson(const Json& value, std::string_view what);

// Re-labels an error from a call made on behalf of a provider: kCredentials,
// `context` in front, AWS details (code, request id, status) kept.
Error WrapError(Error error, std::string_view context);

// A plain profile value where a sub-section would make no sense:
// nullopt when absent, an error when it is a sub-section.
Result<std::optional<std::string>> PlainValue(const ConfigSection& section, std::string_view key,
                                              std::string_view where);

// "cloudaudit-session-<epoch>", our botocore-session-<epoch>.
std::string DefaultRoleSessionName(const SourceContext& ctx);

// Lower-case hex SHA-1 (the SSO token cache key).
std::string Sha1Hex(std::string_view data);

}  // namespace cloudaudit::aws::internal
