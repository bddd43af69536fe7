#include "aws/auth/refreshing_credentials.h"

#include <atomic>
#include <memory>

#include <fmt/format.h>

#include "base/time.h"

namespace cloudaudit::aws {

Clock SystemClock() {
  return [] { return NowEpochSeconds(); };
}

RefreshingCredentialsProvider::RefreshingCredentialsProvider(std::string method, Fetch fetch, Clock clock,
                                                             std::optional<Credentials> initial,
                                                             RefreshWindows windows)
    : method_(std::move(method)),
      fetch_(std::move(fetch)),
      clock_(clock ? std::move(clock) : SystemClock()),
      windows_(windows),
      current_(std::move(initial)) {}

RefreshingCredentialsProvider::Need RefreshingCredentialsProvider::NeedsRefresh(int64_t now) const {
  if (!current_) return Need::kMandatory;
  if (!current_->expiration) return Need::kNone;
  int64_t remaining = *current_->expiration - now;
  if (remaining >= windows_.advisory_seconds) return Need::kNone;
  return remaining < windows_.mandatory_seconds ? Need::kMandatory : Need::kAdvisory;
}

Result<Credentials> RefreshingCredentialsProvider::Current() const {
  std::lock_guard<std::mutex> lock(state_mu_);
  if (!current_) return MakeError(ErrorCode::kInternal, fmt::format("{} credentials were never fetched", method_));
  return *current_;
}

Status RefreshingCredentialsProvider::Refresh(bool mandatory) {
  auto fetched = fetch_();
  if (!fetched) {
    // Inside the advisory window the current credentials are still good for
    // at least ten minutes: keep them and let a later call try again.
    if (!mandatory) return {};
    Error e = std::move(fetched).error();
    if (e.code != ErrorCode::kCredentials) {
      e.message = fmt::format("{}: {}", method_, e.message);
      e.code = ErrorCode::kCredentials;
    }
    return Fail(std::move(e));
  }
  if (fetched->source.empty()) fetched->source = method_;
  bool expired = fetched->expiration && *fetched->expiration < clock_();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    current_ = std::move(*fetched);
  }
  if (expired) {
    return MakeError(ErrorCode::kCredentials,
                     fmt::format("{}: credentials were refreshed, but the refreshed credentials are still expired",
                                 method_));
  }
  return {};
}

Result<Credentials> RefreshingCredentialsProvider::GetCredentials() {
  Need need;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    need = NeedsRefresh(clock_());
    if (need == Need::kNone) return *current_;
  }
  std::unique_lock<std::mutex> refresh(refresh_mu_, std::try_to_lock);
  if (refresh.owns_lock()) {
    std::lock_guard<std::mutex> lock(state_mu_);
    need = NeedsRefresh(clock_());
    if (need == Need::kNone) return *current_;
  } else {
    // Someone else is refreshing. Inside the advisory window use what we
    // have; inside the mandatory window (or with nothing yet) wait for them
    // and refresh again only if they did not get us out of that window.
    if (need == Need::kAdvisory) return Current();
    refresh.lock();
    std::lock_guard<std::mutex> lock(state_mu_);
    need = NeedsRefresh(clock_());
    if (need != Need::kMandatory) return *current_;
  }
  CA_TRY_STATUS(Refresh(need == Need::kMandatory));
  return Current();
}

RefreshingCredentialsProvider::Fetch FetchOnceForMfa(RefreshingCredentialsProvider::Fetch fetch) {
  auto called = std::make_shared<std::atomic<bool>>(false);
  return [fetch = std::move(fetch), called]() -> Result<Credentials> {
    if (called->exchange(true)) {
      return MakeError(ErrorCode::kCredentials,
                       "Cannot refresh credentials: MFA token required (the role was assumed with an MFA code "
                       "that cannot be asked for again; run the command again)");
    }
    return fetch();
  };
}

}  // namespace cloudaudit::aws
