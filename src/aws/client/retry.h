// Retries and client-side rate limiting, as the AWS CLI does them: botocore's
// "standard" retry mode (botocore/retries/standard.py, quota.py) and its
// "adaptive" rate limiter (adaptive.py, bucket.py, throttling.py).
//
// A pure library: nothing here sends requests. Around each attempt the
// client calls
//
//   limiter->Acquire();                                  // may block
//   ... send, parse the error code if any ...
//   AttemptOutcome outcome = AttemptOutcome::FromError(error) / Response(...);
//   limiter->OnResponse(IsThrottlingOutcome(outcome));
//   RetryDecision d = strategy.OnAttempt(call_state, outcome);
//   if (d.retry) clock.SleepSeconds(d.delay_seconds), try again;
//
// with one CallRetryState per logical call (all of its attempts), and one
// RetryStrategy and RateLimiter per service+region (RetryRegistry), as
// botocore has one client, so one quota and one limiter, per service+region.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/error.h"

namespace cloudaudit::aws {

// Time for backoff and rate limiting, injectable so tests run on a fake
// clock that advances when "slept". Implementations must be thread-safe.
class RetryClock {
 public:
  virtual ~RetryClock() = default;
  virtual double NowSeconds() = 0;  // monotonic
  virtual void SleepSeconds(double seconds) = 0;
  // steady_clock and std::this_thread::sleep_for; lives for the process.
  static RetryClock& Real();
};

// The `retryable` trait of the operation's modeled error shape matching the
// error code (botocore's ModeledRetryErrorDetector); the client looks it up
// in the service model.
enum class ModeledRetry { kNone, kTransient, kThrottling };

// What one attempt produced: either no HTTP response at all (a transport
// error), or a status with the AWS error code parsed from it (empty for
// success or an unparseable body).
struct AttemptOutcome {
  std::optional<ErrorCode> transport_error;  // kNetwork, kTimeout, ...; nullopt: a response arrived
  int http_status = 0;
  std::string aws_code;
  ModeledRetry modeled = ModeledRetry::kNone;
  // DynamoDB: the x-amz-crc32 header did not match the body (botocore
  // retries this even on a 200).
  bool checksum_mismatch = false;

  static AttemptOutcome Response(int http_status, std::string aws_code = {},
                                 ModeledRetry modeled = ModeledRetry::kNone);
  static AttemptOutcome TransportError(ErrorCode code);
  // kAwsService / kNotConfigured errors become a response with the error's
  // http_status and aws_code; any other code is a transport error (only
  // kNetwork and kTimeout are retryable, so a kParse of a 200 body is final).
  static AttemptOutcome FromError(const Error& error, ModeledRetry modeled = ModeledRetry::kNone);

  bool Succeeded() const;  // a 2xx response with a good checksum
};

// The fixed code lists of botocore's standard mode.
bool IsThrottlingErrorCode(std::string_view aws_code);
bool IsTransientErrorCode(std::string_view aws_code);
// ExpiredToken, ExpiredTokenException, RequestExpired (the AWS SDK for Go's
// list): retrying with the same credentials cannot help, so these are never
// retried even when a status or trait would say so; the caller may refresh
// credentials and start a new call.
bool IsExpiredCredentialsErrorCode(std::string_view aws_code);
// Throttling as the adaptive limiter sees it: a fixed throttling code or a
// modeled throttling trait (HTTP 429 alone is not, as in botocore).
bool IsThrottlingOutcome(const AttemptOutcome& outcome);
// Retryable by standard mode's rules, ignoring attempts and quota.
bool IsRetryableOutcome(const AttemptOutcome& outcome, std::string_view service);

// Shared retry budget (botocore quota.RetryQuota): retries spend capacity,
// successes give some back, so a failing endpoint stops being retried.
// Thread-safe.
class RetryQuota {
 public:
  static constexpr int kInitialCapacity = 500;
  explicit RetryQuota(int capacity = kInitialCapacity) : max_(capacity), available_(capacity) {}
  bool Acquire(int amount);  // false (and nothing taken) when short
  void Release(int amount);  // capped at the initial capacity
  int available() const;

 private:
  mutable std::mutex mutex_;
  const int max_;
  int available_;
};

struct RetryOptions {
  int max_attempts = 3;               // attempts in total, the first included (>= 1)
  double max_backoff_seconds = 20.0;  // botocore ExponentialBackoff._MAX_BACKOFF
  std::string service;                // botocore service name ("sts" retries IDPCommunicationError)
};

enum class RetryReason {
  kSucceeded,           // 2xx: done
  kRetry,               // retry after delay_seconds
  kNotRetryable,        // a final answer (4xx, parse error...)
  kExpiredCredentials,  // see IsExpiredCredentialsErrorCode
  kMaxAttemptsReached,  // retryable, but this was the last attempt
  kQuotaExhausted,      // retryable, but the retry quota is spent
};
std::string_view RetryReasonName(RetryReason reason);

struct RetryDecision {
  bool retry = false;
  double delay_seconds = 0;  // wait this long before the next attempt
  RetryReason reason = RetryReason::kNotRetryable;
  bool throttled = false;  // the outcome was throttling (for statistics)
};

// Per logical call: every attempt of one API call shares it. Not
// thread-safe; a call runs on one thread.
struct CallRetryState {
  int attempts = 0;         // attempts recorded so far
  int last_quota_cost = 0;  // capacity taken by the latest retry; 0: never retried
};

// Standard retry mode. Thread-safe: one instance serves all concurrent calls
// to one service+region.
class RetryStrategy {
 public:
  static constexpr int kRetryCost = 5;          // botocore RetryQuotaChecker._RETRY_COST
  static constexpr int kTimeoutRetryCost = 10;  // ._TIMEOUT_RETRY_REQUEST
  static constexpr int kNoRetryIncrement = 1;   // ._NO_RETRY_INCREMENT

  // `random` returns uniform values in [0, 1) and must be thread-safe;
  // null: a thread-local PRNG.
  explicit RetryStrategy(RetryOptions options = {}, std::function<double()> random = nullptr);

  // Records the outcome of the next attempt of `call` and decides. A retry
  // takes quota (10 after a timeout, else 5); a success gives back what the
  // call's last retry took, or 1 when it was never retried.
  RetryDecision OnAttempt(CallRetryState& call, const AttemptOutcome& outcome);

  // Full-jitter exponential backoff after attempt `attempt_number` (1-based)
  // failed: rand[0,1) * 2^(attempt_number-1) seconds, at most max_backoff.
  double BackoffSeconds(int attempt_number) const;

  const RetryOptions& options() const { return options_; }
  int available_quota() const { return quota_.available(); }

 private:
  RetryOptions options_;
  std::function<double()> random_;
  RetryQuota quota_;
};

// Adaptive mode's client-side rate limiter: a token bucket whose rate
// follows CUBIC (throttling.CubicCalculator) on throttling responses. It does
// nothing until the first throttling response, as in botocore. Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(RetryClock* clock = nullptr);  // null: RetryClock::Real()

  // Before each attempt: takes one token, sleeping on the clock until one is
  // available. Returns the seconds spent waiting.
  double Acquire();
  // After each attempt, whatever its outcome (transport errors count as not
  // throttled): measures the send rate and adjusts the bucket's rate.
  void OnResponse(bool throttled);

  bool enabled() const;
  double fill_rate() const;      // tokens per second
  double measured_rate() const;  // smoothed requests per second

 private:
  void SetRateLocked(double rate);
  void RefillLocked();
  double RecordLocked();

  RetryClock* clock_;
  mutable std::mutex mutex_;
  bool enabled_ = false;
  // Token bucket (bucket.TokenBucket).
  double fill_rate_ = 0;
  double max_capacity_ = 0;
  double capacity_ = 0;
  std::optional<double> last_refill_;
  // Send-rate measurement (adaptive.RateClocker).
  double measured_rate_ = 0;
  double last_bucket_ = 0;
  int64_t count_ = 0;
  // CUBIC state (throttling.CubicCalculator).
  double w_max_ = 0;
  double k_ = 0;
  double last_fail_ = 0;
};

// One RetryStrategy (with its quota) and one RateLimiter per service+region,
// made on first use and kept for the registry's lifetime. Thread-safe;
// returned references stay valid.
class RetryRegistry {
 public:
  RetryRegistry(RetryOptions options, bool adaptive, RetryClock* clock = nullptr,
                std::function<double()> random = nullptr);

  RetryStrategy& Strategy(const std::string& service, const std::string& region);
  RateLimiter* Limiter(const std::string& service, const std::string& region);  // null unless adaptive
  RetryClock& clock() { return *clock_; }

 private:
  struct Entry {
    std::unique_ptr<RetryStrategy> strategy;
    std::unique_ptr<RateLimiter> limiter;
  };
  Entry& Get(const std::string& service, const std::string& region);

  RetryOptions options_;
  bool adaptive_;
  RetryClock* clock_;
  std::function<double()> random_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
};

}  // namespace cloudaudit::aws
