#include "aws/client/retry.h"

#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cloudaudit::aws {
namespace {

using ::testing::DoubleNear;
using ::testing::Ge;
using ::testing::Lt;

// Time stands still until someone sleeps.
class FakeClock final : public RetryClock {
 public:
  double NowSeconds() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  void SleepSeconds(double seconds) override { Advance(seconds); }
  void Advance(double seconds) {
    std::lock_guard<std::mutex> lock(mutex_);
    now_ += seconds;
  }

 private:
  std::mutex mutex_;
  double now_ = 1000.0;
};

RetryDecision Decide(RetryStrategy& strategy, const AttemptOutcome& outcome) {
  CallRetryState call;
  return strategy.OnAttempt(call, outcome);
}

bool Retries(const AttemptOutcome& outcome, std::string service = "iam") {
  RetryStrategy strategy(RetryOptions{.service = std::move(service)}, [] { return 0.5; });
  return Decide(strategy, outcome).retry;
}

TEST(RetryStrategy, RetriesEveryThrottlingCode) {
  for (const char* code :
       {"Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
        "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown",
        "PriorRequestNotComplete", "EC2ThrottledException"}) {
    AttemptOutcome outcome = AttemptOutcome::Response(400, code);
    EXPECT_TRUE(IsThrottlingErrorCode(code)) << code;
    EXPECT_TRUE(IsThrottlingOutcome(outcome)) << code;
    EXPECT_TRUE(Retries(outcome)) << code;
  }
}

TEST(RetryStrategy, RetriesTransientCodesStatusesAndTransportErrors) {
  for (const char* code : {"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"}) {
    EXPECT_TRUE(IsTransientErrorCode(code)) << code;
    EXPECT_TRUE(Retries(AttemptOutcome::Response(400, code))) << code;
  }
  for (int status : {500, 502, 503, 504}) {
    EXPECT_TRUE(Retries(AttemptOutcome::Response(status))) << status;
    EXPECT_TRUE(Retries(AttemptOutcome::Response(status, "InternalError"))) << status;
  }
  EXPECT_TRUE(Retries(AttemptOutcome::TransportError(ErrorCode::kNetwork)));
  EXPECT_TRUE(Retries(AttemptOutcome::TransportError(ErrorCode::kTimeout)));
  // Transport errors are never throttling for the rate limiter.
  EXPECT_FALSE(IsThrottlingOutcome(AttemptOutcome::TransportError(ErrorCode::kTimeout)));
}

TEST(RetryStrategy, DoesNotRetryFinalAnswers) {
  EXPECT_FALSE(Retries(AttemptOutcome::Response(403, "AccessDenied")));
  EXPECT_FALSE(Retries(AttemptOutcome::Response(400, "ValidationError")));
  EXPECT_FALSE(Retries(AttemptOutcome::Response(404, "NoSuchEntity")));
  EXPECT_FALSE(Retries(AttemptOutcome::Response(501, "NotImplemented")));
  // botocore needs a code: a bare 429 is not throttling.
  EXPECT_FALSE(Retries(AttemptOutcome::Response(429)));
  EXPECT_FALSE(IsThrottlingOutcome(AttemptOutcome::Response(429)));
  // A malformed 200 body gets the same bytes again.
  EXPECT_FALSE(Retries(AttemptOutcome::TransportError(ErrorCode::kParse)));
  EXPECT_FALSE(Retries(AttemptOutcome::TransportError(ErrorCode::kCredentials)));
}

TEST(RetryStrategy, ExpiredCredentialsAreNeverRetried) {
  RetryStrategy strategy(RetryOptions{}, [] { return 0.5; });
  for (const char* code : {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}) {
    EXPECT_TRUE(IsExpiredCredentialsErrorCode(code));
    // Not even behind a retryable status or trait.
    for (const AttemptOutcome& outcome : {AttemptOutcome::Response(400, code), AttemptOutcome::Response(503, code),
                                          AttemptOutcome::Response(400, code, ModeledRetry::kTransient)}) {
      RetryDecision decision = Decide(strategy, outcome);
      EXPECT_FALSE(decision.retry) << code;
      EXPECT_EQ(decision.reason, RetryReason::kExpiredCredentials) << code;
    }
  }
}

TEST(RetryStrategy, ModeledTraitsAndSpecialCases) {
  EXPECT_TRUE(Retries(AttemptOutcome::Response(400, "IdempotentParameterMismatch", ModeledRetry::kTransient)));
  AttemptOutcome modeled_throttle = AttemptOutcome::Response(400, "CustomSlowDown", ModeledRetry::kThrottling);
  EXPECT_TRUE(Retries(modeled_throttle));
  EXPECT_TRUE(IsThrottlingOutcome(modeled_throttle));
  EXPECT_FALSE(IsThrottlingOutcome(AttemptOutcome::Response(400, "Odd", ModeledRetry::kTransient)));
  // sts only.
  EXPECT_TRUE(Retries(AttemptOutcome::Response(400, "IDPCommunicationError"), "sts"));
  EXPECT_FALSE(Retries(AttemptOutcome::Response(400, "IDPCommunicationError"), "iam"));
  // DynamoDB's CRC32 mismatch is retried although the status is 200.
  AttemptOutcome bad_crc = AttemptOutcome::Response(200);
  bad_crc.checksum_mismatch = true;
  EXPECT_FALSE(bad_crc.Succeeded());
  EXPECT_TRUE(Retries(bad_crc, "dynamodb"));
}

TEST(AttemptOutcome, FromErrorKeepsStatusAndCode) {
  Error aws;
  aws.code = ErrorCode::kAwsService;
  aws.http_status = 400;
  aws.aws_code = "Throttling";
  AttemptOutcome outcome = AttemptOutcome::FromError(aws);
  EXPECT_FALSE(outcome.transport_error);
  EXPECT_EQ(outcome.http_status, 400);
  EXPECT_EQ(outcome.aws_code, "Throttling");

  Error timeout;
  timeout.code = ErrorCode::kTimeout;
  EXPECT_EQ(AttemptOutcome::FromError(timeout).transport_error, ErrorCode::kTimeout);
}

TEST(RetryStrategy, StopsAtMaxAttempts) {
  RetryStrategy strategy(RetryOptions{}, [] { return 0.5; });  // default: 3 attempts
  CallRetryState call;
  const AttemptOutcome unavailable = AttemptOutcome::Response(503, "ServiceUnavailable");
  EXPECT_TRUE(strategy.OnAttempt(call, unavailable).retry);
  EXPECT_TRUE(strategy.OnAttempt(call, unavailable).retry);
  RetryDecision last = strategy.OnAttempt(call, unavailable);
  EXPECT_FALSE(last.retry);
  EXPECT_EQ(last.reason, RetryReason::kMaxAttemptsReached);
  EXPECT_EQ(call.attempts, 3);

  RetryStrategy once(RetryOptions{.max_attempts = 1}, [] { return 0.5; });
  EXPECT_EQ(Decide(once, unavailable).reason, RetryReason::kMaxAttemptsReached);

  RetryStrategy five(RetryOptions{.max_attempts = 5}, [] { return 0.5; });
  CallRetryState call5;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(five.OnAttempt(call5, unavailable).retry);
  EXPECT_FALSE(five.OnAttempt(call5, unavailable).retry);
}

TEST(RetryStrategy, BackoffIsFullJitterExponentialCappedAt20Seconds) {
  double next = 0.999999;
  RetryStrategy strategy(RetryOptions{.max_attempts = 10}, [&] { return next; });
  EXPECT_THAT(strategy.BackoffSeconds(1), DoubleNear(1.0, 1e-5));
  EXPECT_THAT(strategy.BackoffSeconds(2), DoubleNear(2.0, 1e-5));
  EXPECT_THAT(strategy.BackoffSeconds(3), DoubleNear(4.0, 1e-5));
  EXPECT_THAT(strategy.BackoffSeconds(5), DoubleNear(16.0, 1e-4));
  EXPECT_DOUBLE_EQ(strategy.BackoffSeconds(6), 20.0);
  EXPECT_DOUBLE_EQ(strategy.BackoffSeconds(100), 20.0);
  next = 0.0;
  EXPECT_DOUBLE_EQ(strategy.BackoffSeconds(4), 0.0);
  next = 0.25;
  EXPECT_DOUBLE_EQ(strategy.BackoffSeconds(3), 1.0);

  // The decision carries the delay for the attempt that failed.
  next = 0.5;
  CallRetryState call;
  EXPECT_DOUBLE_EQ(strategy.OnAttempt(call, AttemptOutcome::Response(500)).delay_seconds, 0.5);
  EXPECT_DOUBLE_EQ(strategy.OnAttempt(call, AttemptOutcome::Response(500)).delay_seconds, 1.0);
  EXPECT_DOUBLE_EQ(strategy.OnAttempt(call, AttemptOutcome::Response(500)).delay_seconds, 2.0);
}

TEST(RetryStrategy, DefaultJitterStaysInBounds) {
  RetryStrategy strategy;
  double sum = 0;
  for (int i = 0; i < 1000; ++i) {
    double delay = strategy.BackoffSeconds(3);
    EXPECT_THAT(delay, Ge(0.0));
    EXPECT_THAT(delay, Lt(4.0));
    sum += delay;
  }
  EXPECT_THAT(sum / 1000, DoubleNear(2.0, 0.3));  // uniform on [0, 4)
}

TEST(RetryStrategy, QuotaIsSpentByRetriesAndExhausts) {
  RetryStrategy strategy(RetryOptions{.max_attempts = 1000}, [] { return 0.0; });
  EXPECT_EQ(strategy.available_quota(), 500);
  CallRetryState call;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(strategy.OnAttempt(call, AttemptOutcome::Response(503)).retry) << i;
  }
  EXPECT_EQ(strategy.available_quota(), 0);
  RetryDecision decision = strategy.OnAttempt(call, AttemptOutcome::Response(503));
  EXPECT_FALSE(decision.retry);
  EXPECT_EQ(decision.reason, RetryReason::kQuotaExhausted);
  EXPECT_EQ(RetryReasonName(decision.reason), "retry-quota-exhausted");
}

TEST(RetryStrategy, TimeoutsCostTenAndSuccessRefunds) {
  RetryStrategy strategy(RetryOptions{}, [] { return 0.0; });
  CallRetryState call;
  ASSERT_TRUE(strategy.OnAttempt(call, AttemptOutcome::TransportError(ErrorCode::kTimeout)).retry);
  EXPECT_EQ(strategy.available_quota(), 490);
  ASSERT_TRUE(strategy.OnAttempt(call, AttemptOutcome::TransportError(ErrorCode::kNetwork)).retry);
  EXPECT_EQ(strategy.available_quota(), 485);
  // Success gives back what the last retry took (5), not the total.
  EXPECT_EQ(strategy.OnAttempt(call, AttemptOutcome::Response(200)).reason, RetryReason::kSucceeded);
  EXPECT_EQ(strategy.available_quota(), 490);
  // A call that never retried gives back 1...
  EXPECT_EQ(Decide(strategy, AttemptOutcome::Response(200)).reason, RetryReason::kSucceeded);
  EXPECT_EQ(strategy.available_quota(), 491);
  // ...a final failure nothing...
  CallRetryState failed;
  EXPECT_FALSE(strategy.OnAttempt(failed, AttemptOutcome::Response(403, "AccessDenied")).retry);
  EXPECT_EQ(strategy.available_quota(), 491);
  // ...and the quota never grows past its capacity.
  for (int i = 0; i < 20; ++i) Decide(strategy, AttemptOutcome::Response(200));
  EXPECT_EQ(strategy.available_quota(), 500);
}

TEST(RetryStrategy, QuotaExhaustsAfterFiftyTimeouts) {
  RetryStrategy strategy(RetryOptions{.max_attempts = 1000}, [] { return 0.0; });
  CallRetryState call;
  int retries = 0;
  while (strategy.OnAttempt(call, AttemptOutcome::TransportError(ErrorCode::kTimeout)).retry) ++retries;
  EXPECT_EQ(retries, 50);
}

TEST(RetryQuota, IsThreadSafe) {
  RetryQuota quota;
  std::atomic<int> acquired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i)
        if (quota.Acquire(5)) ++acquired;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(acquired.load(), 100);
  EXPECT_EQ(quota.available(), 0);
}

// Sends at `rate` requests per second for `seconds`, letting the limiter
// hold us back, and reports every response as a success.
void SendSuccesses(RateLimiter& limiter, FakeClock& clock, double rate, double seconds) {
  const double end = clock.NowSeconds() + seconds;
  while (clock.NowSeconds() < end) {
    limiter.Acquire();
    limiter.OnResponse(false);
    clock.Advance(1.0 / rate);
  }
}

TEST(RateLimiter, DoesNothingUntilThrottled) {
  FakeClock clock;
  RateLimiter limiter(&clock);
  EXPECT_FALSE(limiter.enabled());
  const double start = clock.NowSeconds();
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(limiter.Acquire(), 0.0);
    limiter.OnResponse(false);
  }
  EXPECT_EQ(clock.NowSeconds(), start);
}

TEST(RateLimiter, ThrottlingCutsTheRateAndAcquireWaits) {
  FakeClock clock;
  RateLimiter limiter(&clock);
  SendSuccesses(limiter, clock, 20, 5);
  EXPECT_THAT(limiter.measured_rate(), DoubleNear(20, 1));
  limiter.OnResponse(true);
  EXPECT_TRUE(limiter.enabled());
  // Beta (0.7) of the rate we were sending at when throttled.
  const double throttled_rate = limiter.fill_rate();
  EXPECT_THAT(throttled_rate, DoubleNear(0.7 * limiter.measured_rate(), 0.5));

  // The bucket holds at most one second's worth of tokens (a burst of
  // `rate`), and the rest arrive at `rate` per second of (fake) time.
  const double start = clock.NowSeconds();
  double waited = 0;
  for (int i = 0; i < 100; ++i) waited += limiter.Acquire();
  const double elapsed = clock.NowSeconds() - start;
  EXPECT_THAT(elapsed, DoubleNear((100 - throttled_rate) / throttled_rate, 1 / throttled_rate));
  EXPECT_THAT(waited, DoubleNear(elapsed, 1e-9));
}

TEST(RateLimiter, RecoversAfterThrottling) {
  FakeClock clock;
  RateLimiter limiter(&clock);
  SendSuccesses(limiter, clock, 10, 5);
  const double before = limiter.measured_rate();
  limiter.OnResponse(true);
  const double after_throttle = limiter.fill_rate();
  EXPECT_LT(after_throttle, before);

  // The client tries to go faster than before; CUBIC climbs back to the old
  // ceiling in about cbrt(w_max * 0.3 / 0.4) s and then probes beyond it.
  SendSuccesses(limiter, clock, 100, 2);
  EXPECT_GT(limiter.fill_rate(), after_throttle);
  SendSuccesses(limiter, clock, 100, 8);
  EXPECT_GT(limiter.fill_rate(), before);
}

TEST(RateLimiter, RepeatedThrottlingBottomsOutAtHalfARequestPerSecond) {
  FakeClock clock;
  RateLimiter limiter(&clock);
  SendSuccesses(limiter, clock, 10, 3);
  for (int i = 0; i < 50; ++i) {
    limiter.Acquire();
    limiter.OnResponse(true);
  }
  EXPECT_THAT(limiter.fill_rate(), Ge(0.5));
  EXPECT_THAT(limiter.fill_rate(), Lt(1.0));
}

TEST(RateLimiter, ConcurrentAcquireRespectsTheRate) {
  FakeClock clock;
  RateLimiter limiter(&clock);
  SendSuccesses(limiter, clock, 10, 3);
  limiter.OnResponse(true);
  const double rate = limiter.fill_rate();
  const double start = clock.NowSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) limiter.Acquire();
    });
  }
  for (auto& thread : threads) thread.join();
  // Forty tokens, a burst of at most `rate` of them free: sleeping threads
  // all advance the shared fake clock, so time can only run ahead of the
  // ideal, never behind it.
  EXPECT_THAT(clock.NowSeconds() - start, Ge((40 - rate - 1) / rate));
}

TEST(RetryRegistry, OneStrategyAndLimiterPerServiceAndRegion) {
  FakeClock clock;
  RetryRegistry registry(RetryOptions{.max_attempts = 4}, /*adaptive=*/true, &clock);
  RetryStrategy& iam = registry.Strategy("iam", "us-east-1");
  EXPECT_EQ(&iam, &registry.Strategy("iam", "us-east-1"));
  EXPECT_NE(&iam, &registry.Strategy("iam", "eu-west-1"));
  EXPECT_NE(&iam, &registry.Strategy("ec2", "us-east-1"));
  EXPECT_EQ(iam.options().max_attempts, 4);
  EXPECT_EQ(iam.options().service, "iam");
  ASSERT_NE(registry.Limiter("ec2", "us-east-1"), nullptr);
  EXPECT_EQ(registry.Limiter("ec2", "us-east-1"), registry.Limiter("ec2", "us-east-1"));
  EXPECT_NE(registry.Limiter("ec2", "us-east-1"), registry.Limiter("ec2", "us-west-2"));
  // Throttling one region leaves the others alone.
  registry.Limiter("ec2", "us-east-1")->OnResponse(true);
  EXPECT_TRUE(registry.Limiter("ec2", "us-east-1")->enabled());
  EXPECT_FALSE(registry.Limiter("ec2", "us-west-2")->enabled());
  EXPECT_TRUE(
      Decide(registry.Strategy("sts", "us-east-1"), AttemptOutcome::Response(400, "IDPCommunicationError")).retry);

  RetryRegistry standard(RetryOptions{}, /*adaptive=*/false, &clock);
  EXPECT_EQ(standard.Limiter("ec2", "us-east-1"), nullptr);
}

}  // namespace
}  // namespace cloudaudit::aws
