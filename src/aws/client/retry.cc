#include "aws/client/retry.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <random>
#include <thread>

namespace cloudaudit::aws {
namespace {

// botocore.retries.standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES.
constexpr std::array<std::string_view, 14> kThrottlingCodes = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
};

// TransientRetryableChecker._TRANSIENT_ERROR_CODES and _STATUS_CODES.
constexpr std::array<std::string_view, 3> kTransientCodes = {
    "RequestTimeout",
    "RequestTimeoutException",
    "PriorRequestNotComplete",
};
constexpr std::array<int, 4> kTransientStatuses = {500, 502, 503, 504};

constexpr std::array<std::string_view, 3> kExpiredCredentialsCodes = {
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
};

template <typename Array, typename Value>
bool Contains(const Array& array, const Value& value) {
  return std::find(array.begin(), array.end(), value) != array.end();
}

class RealClock final : public RetryClock {
 public:
  double NowSeconds() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void SleepSeconds(double seconds) override {
    if (seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  }
};

double ThreadLocalRandom() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// adaptive.py constants.
constexpr double kMinFillRate = 0.5;          // TokenBucket._MIN_RATE
constexpr double kMaxRateAdjustScale = 2.0;   // ClientRateLimiter._MAX_RATE_ADJUST_SCALE
constexpr double kSmoothing = 0.8;            // RateClocker._DEFAULT_SMOOTHING
constexpr double kTimeBucketScale = 1 / 0.5;  // 1 / RateClocker._TIME_BUCKET_RANGE
constexpr double kCubicScale = 0.4;           // CubicCalculator._SCALE_CONSTANT
constexpr double kCubicBeta = 0.7;            // CubicCalculator._BETA

}  // namespace

RetryClock& RetryClock::Real() {
  static RealClock* clock = new RealClock();  // never destroyed: used by detached threads at exit
  return *clock;
}

AttemptOutcome AttemptOutcome::Response(int http_status, std::string aws_code, ModeledRetry modeled) {
  AttemptOutcome outcome;
  outcome.http_status = http_status;
  outcome.aws_code = std::move(aws_code);
  outcome.modeled = modeled;
  return outcome;
}

AttemptOutcome AttemptOutcome::TransportError(ErrorCode code) {
  AttemptOutcome outcome;
  outcome.transport_error = code;
  return outcome;
}

AttemptOutcome AttemptOutcome::FromError(const Error& error, ModeledRetry modeled) {
  if (error.code == ErrorCode::kAwsService || error.code == ErrorCode::kNotConfigured) {
    return Response(error.http_status, error.aws_code, modeled);
  }
  return TransportError(error.code);
}

bool AttemptOutcome::Succeeded() const {
  return !transport_error && http_status >= 200 && http_status < 300 && !checksum_mismatch;
}

bool IsThrottlingErrorCode(std::string_view aws_code) { return Contains(kThrottlingCodes, aws_code); }
bool IsTransientErrorCode(std::string_view aws_code) { return Contains(kTransientCodes, aws_code); }
bool IsExpiredCredentialsErrorCode(std::string_view aws_code) { return Contains(kExpiredCredentialsCodes, aws_code); }

bool IsThrottlingOutcome(const AttemptOutcome& outcome) {
  if (outcome.transport_error) return false;
  return IsThrottlingErrorCode(outcome.aws_code) || outcome.modeled == ModeledRetry::kThrottling;
}

bool IsRetryableOutcome(const AttemptOutcome& outcome, std::string_view service) {
  if (outcome.transport_error) {
    // ConnectionError / HTTPClientError in botocore: refused, reset, DNS,
    // TLS, proxy, connect and read timeouts.
    return *outcome.transport_error == ErrorCode::kNetwork || *outcome.transport_error == ErrorCode::kTimeout;
  }
  if (IsExpiredCredentialsErrorCode(outcome.aws_code)) return false;
  if (outcome.checksum_mismatch) return true;
  if (IsTransientErrorCode(outcome.aws_code)) return true;
  if (Contains(kTransientStatuses, outcome.http_status)) return true;
  if (IsThrottlingErrorCode(outcome.aws_code)) return true;
  if (!outcome.aws_code.empty() && outcome.modeled != ModeledRetry::kNone) return true;
  // special.RetryIDPCommunicationError.
  return service == "sts" && outcome.aws_code == "IDPCommunicationError";
}

bool RetryQuota::Acquire(int amount) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (amount > available_) return false;
  available_ -= amount;
  return true;
}

void RetryQuota::Release(int amount) {
  std::lock_guard<std::mutex> lock(mutex_);
  available_ = std::min(max_, available_ + amount);
}

int RetryQuota::available() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return available_;
}

std::string_view RetryReasonName(RetryReason reason) {
  switch (reason) {
    case RetryReason::kSucceeded:
      return "succeeded";
    case RetryReason::kRetry:
      return "retry";
    case RetryReason::kNotRetryable:
      return "not-retryable";
    case RetryReason::kExpiredCredentials:
      return "expired-credentials";
    case RetryReason::kMaxAttemptsReached:
      return "max-attempts-reached";
    case RetryReason::kQuotaExhausted:
      return "retry-quota-exhausted";
  }
  return "unknown";
}

RetryStrategy::RetryStrategy(RetryOptions options, std::function<double()> random)
    : options_(std::move(options)), random_(random ? std::move(random) : ThreadLocalRandom) {
  options_.max_attempts = std::max(options_.max_attempts, 1);
}

double RetryStrategy::BackoffSeconds(int attempt_number) const {
  // 2^(n-1) overflows nothing for any sane n, but cap the exponent anyway.
  const double scale = std::ldexp(1.0, std::clamp(attempt_number - 1, 0, 62));
  return std::min(random_() * scale, options_.max_backoff_seconds);
}

RetryDecision RetryStrategy::OnAttempt(CallRetryState& call, const AttemptOutcome& outcome) {
  const int attempt = ++call.attempts;
  RetryDecision decision;
  decision.throttled = IsThrottlingOutcome(outcome);
  if (outcome.Succeeded()) {
    // botocore RetryQuotaChecker.release_retry_quota (the after-call hook).
    quota_.Release(call.last_quota_cost > 0 ? call.last_quota_cost : kNoRetryIncrement);
    decision.reason = RetryReason::kSucceeded;
    return decision;
  }
  if (!outcome.transport_error && IsExpiredCredentialsErrorCode(outcome.aws_code)) {
    decision.reason = RetryReason::kExpiredCredentials;
    return decision;
  }
  if (!IsRetryableOutcome(outcome, options_.service)) {
    decision.reason = RetryReason::kNotRetryable;
    return decision;
  }
  if (attempt >= options_.max_attempts) {
    decision.reason = RetryReason::kMaxAttemptsReached;
    return decision;
  }
  const int cost = outcome.transport_error == ErrorCode::kTimeout ? kTimeoutRetryCost : kRetryCost;
  if (!quota_.Acquire(cost)) {
    decision.reason = RetryReason::kQuotaExhausted;
    return decision;
  }
  call.last_quota_cost = cost;
  decision.retry = true;
  decision.reason = RetryReason::kRetry;
  decision.delay_seconds = BackoffSeconds(attempt);
  return decision;
}

RateLimiter::RateLimiter(RetryClock* clock) : clock_(clock != nullptr ? clock : &RetryClock::Real()) {
  const double now = clock_->NowSeconds();
  last_bucket_ = std::floor(now);
  last_fail_ = now;
  // CubicCalculator(starting_max_rate=0) and TokenBucket(max_rate=1).
  w_max_ = 0;
  k_ = 0;
  SetRateLocked(1.0);
}

bool RateLimiter::enabled() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return enabled_;
}

double RateLimiter::fill_rate() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fill_rate_;
}

double RateLimiter::measured_rate() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return measured_rate_;
}

void RateLimiter::RefillLocked() {
  const double now = clock_->NowSeconds();
  if (!last_refill_) {
    last_refill_ = now;
    return;
  }
  capacity_ = std::min(max_capacity_, capacity_ + (now - *last_refill_) * fill_rate_);
  last_refill_ = now;
}

void RateLimiter::SetRateLocked(double rate) {
  // Tokens earned at the old rate are credited before the rate changes.
  RefillLocked();
  fill_rate_ = std::max(rate, kMinFillRate);
  max_capacity_ = rate >= 1 ? rate : 1;
  capacity_ = std::min(capacity_, max_capacity_);
}

double RateLimiter::RecordLocked() {
  const double now = clock_->NowSeconds();
  const double bucket = std::floor(now * kTimeBucketScale) / kTimeBucketScale;
  ++count_;
  if (bucket > last_bucket_) {
    const double current_rate = static_cast<double>(count_) / (bucket - last_bucket_);
    measured_rate_ = current_rate * kSmoothing + measured_rate_ * (1 - kSmoothing);
    count_ = 0;
    last_bucket_ = bucket;
  }
  return measured_rate_;
}

double RateLimiter::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!enabled_) return 0;
  double waited = 0;
  RefillLocked();
  // The epsilon: a sleep too short to move a clock reading of ~1e9 s (one
  // ulp) would otherwise repeat forever on rounding leftovers.
  constexpr double kEpsilon = 1e-6;
  while (capacity_ < 1 - kEpsilon) {
    const double sleep = (1 - capacity_) / fill_rate_;
    // The clock may be a fake that other threads also use: never sleep on it
    // while holding the lock.
    lock.unlock();
    clock_->SleepSeconds(sleep);
    waited += sleep;
    lock.lock();
    RefillLocked();
  }
  capacity_ = std::max(capacity_ - 1, 0.0);
  return waited;
}

void RateLimiter::OnResponse(bool throttled) {
  std::lock_guard<std::mutex> lock(mutex_);
  const double measured = RecordLocked();
  const double now = clock_->NowSeconds();
  double new_rate;
  if (!throttled) {
    // CubicCalculator.success_received.
    const double dt = now - last_fail_;
    new_rate = kCubicScale * std::pow(dt - k_, 3) + w_max_;
  } else {
    const double rate_to_use = enabled_ ? std::min(measured, fill_rate_) : measured;
    // CubicCalculator.error_received: the rate we were at becomes the new
    // ceiling, and we back off to beta of it.
    w_max_ = rate_to_use;
    k_ = std::cbrt(w_max_ * (1 - kCubicBeta) / kCubicScale);
    last_fail_ = now;
    new_rate = rate_to_use * kCubicBeta;
    enabled_ = true;
  }
  SetRateLocked(std::min(new_rate, kMaxRateAdjustScale * measured));
}

RetryRegistry::RetryRegistry(RetryOptions options, bool adaptive, RetryClock* clock, std::function<double()> random)
    : options_(std::move(options)),
      adaptive_(adaptive),
      clock_(clock != nullptr ? clock : &RetryClock::Real()),
      random_(std::move(random)) {}

RetryRegistry::Entry& RetryRegistry::Get(const std::string& service, const std::string& region) {
  std::lock_guard<std::mutex> lock(mutex_);
  Entry& entry = entries_[{service, region}];
  if (!entry.strategy) {
    RetryOptions options = options_;
    options.service = service;
    entry.strategy = std::make_unique<RetryStrategy>(std::move(options), random_);
    if (adaptive_) entry.limiter = std::make_unique<RateLimiter>(clock_);
  }
  return entry;
}

RetryStrategy& RetryRegistry::Strategy(const std::string& service, const std::string& region) {
  return *Get(service, region).strategy;
}

RateLimiter* RetryRegistry::Limiter(const std::string& service, const std::string& region) {
  return Get(service, region).limiter.get();
}

}  // namespace cloudaudit::aws
