// Credentials that expire and refresh themselves, with botocore's
// RefreshableCredentials timing: from 15 minutes before expiry (advisory)
// one caller refreshes while the others keep using the current credentials,
// and a failed refresh is ignored; from 10 minutes before expiry (mandatory)
// every caller waits for the refresh and a failure is returned.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "aws/auth/credentials.h"
#include "base/error.h"

namespace cloudaudit::aws {

// Current time in epoch seconds; injectable so tests control expiry.
using Clock = std::function<int64_t()>;
Clock SystemClock();

struct RefreshWindows {
  int64_t advisory_seconds = 15 * 60;
  int64_t mandatory_seconds = 10 * 60;
};

// Fixed credentials (environment, files, credential_process without expiry).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> GetCredentials() override { return credentials_; }

 private:
  const Credentials credentials_;
};

class RefreshingCredentialsProvider final : public CredentialsProvider {
 public:
  // Fetches a fresh set; errors must not contain secrets.
  using Fetch = std::function<Result<Credentials>()>;

  // `method` names the source in errors ("assume-role", "iam-role"...).
  // Without `initial` the first GetCredentials() fetches (botocore's
  // DeferredRefreshableCredentials: an STS call is made only when needed).
  RefreshingCredentialsProvider(std::string method, Fetch fetch, Clock clock,
                                std::optional<Credentials> initial = std::nullopt, RefreshWindows windows = {});

  // Thread-safe. At most one fetch runs at a time.
  Result<Credentials> GetCredentials() override;

 private:
  enum class Need { kNone, kAdvisory, kMandatory };
  Need NeedsRefresh(int64_t now) const;  // caller holds state_mu_
  // Caller holds refresh_mu_. Fetches and installs new credentials; a failure
  // is returned only for a mandatory refresh.
  Status Refresh(bool mandatory);
  Result<Credentials> Current() const;

  const std::string method_;
  const Fetch fetch_;
  const Clock clock_;
  const RefreshWindows windows_;
  std::mutex refresh_mu_;  // serializes fetches
  mutable std::mutex state_mu_;
  std::optional<Credentials> current_;
};

// Wraps a fetch that prompts for an MFA code so it runs at most once: the
// assumed-role credentials cannot be renewed without asking again, which
// botocore refuses to do ("Cannot refresh credentials: MFA token required").
RefreshingCredentialsProvider::Fetch FetchOnceForMfa(RefreshingCredentialsProvider::Fetch fetch);

}  // namespace cloudaudit::aws
