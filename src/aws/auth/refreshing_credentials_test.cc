#include "aws/auth/refreshing_credentials.h"

#include <atomic>
#include <condition_variable>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "aws/auth/auth_test_fakes.h"

namespace cloudaudit::aws {
namespace {

using testing::ManualClock;

constexpr int64_t kT0 = 1'800'000'000;

Credentials Creds(const std::string& id, std::optional<int64_t> expiration) {
  Credentials c;
  c.access_key_id = id;
  c.secret_access_key = "secret";
  c.expiration = expiration;
  return c;
}

// A fetch that hands out "K1", "K2", ... each valid for an hour from `clock`.
struct CountingFetch {
  ManualClock* clock;
  std::atomic<int> calls{0};
  std::atomic<bool> fail{false};
  RefreshingCredentialsProvider::Fetch AsFetch() {
    return [this]() -> Result<Credentials> {
      int n = ++calls;
      if (fail) return MakeError(ErrorCode::kNetwork, "endpoint unreachable");
      return Creds("K" + std::to_string(n), clock->now() + 3600);
    };
  }
};

TEST(RefreshingCredentials, DeferredFetchHappensOnFirstUse) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("test", fetch.AsFetch(), clock.AsClock());
  EXPECT_EQ(fetch.calls, 0);
  auto c = p.GetCredentials();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->access_key_id, "K1");
  EXPECT_EQ(c->source, "test");
  EXPECT_EQ(p.GetCredentials()->access_key_id, "K1");
  EXPECT_EQ(fetch.calls, 1);
}

TEST(RefreshingCredentials, DeferredFetchErrorIsReturnedAndRetried) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  fetch.fail = true;
  RefreshingCredentialsProvider p("test", fetch.AsFetch(), clock.AsClock());
  auto c = p.GetCredentials();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kCredentials);
  EXPECT_NE(c.error().message.find("endpoint unreachable"), std::string::npos);
  fetch.fail = false;
  EXPECT_EQ(p.GetCredentials()->access_key_id, "K2");
}

TEST(RefreshingCredentials, NoRefreshBeforeTheAdvisoryWindow) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("test", fetch.AsFetch(), clock.AsClock(), Creds("K0", kT0 + 3600));
  clock.Set(kT0 + 3600 - 15 * 60);  // exactly 15 minutes left
  EXPECT_EQ(p.GetCredentials()->access_key_id, "K0");
  EXPECT_EQ(fetch.calls, 0);
}

TEST(RefreshingCredentials, RefreshesInTheAdvisoryWindow) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("test", fetch.AsFetch(), clock.AsClock(), Creds("K0", kT0 + 3600));
  clock.Set(kT0 + 3600 - 14 * 60);
  EXPECT_EQ(p.GetCredentials()->access_key_id, "K1");
  EXPECT_EQ(fetch.calls, 1);
}

TEST(RefreshingCredentials, AdvisoryFailureKeepsCurrentCredentials) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  fetch.fail = true;
  RefreshingCredentialsProvider p("test", fetch.AsFetch(), clock.AsClock(), Creds("K0", kT0 + 3600));
  clock.Set(kT0 + 3600 - 12 * 60);
  auto c = p.GetCredentials();
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_EQ(c->access_key_id, "K0");
  EXPECT_EQ(fetch.calls, 1);
  // Later calls in the window try again.
  fetch.fail = false;
  EXPECT_EQ(p.GetCredentials()->access_key_id, "K2");
}

TEST(RefreshingCredentials, MandatoryFailureIsAnError) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  fetch.fail = true;
  RefreshingCredentialsProvider p("iam-role", fetch.AsFetch(), clock.AsClock(), Creds("K0", kT0 + 3600));
  clock.Set(kT0 + 3600 - 9 * 60);
  auto c = p.GetCredentials();
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ErrorCode::kCredentials);
  EXPECT_NE(c.error().message.find("iam-role"), std::string::npos);
}

TEST(RefreshingCredentials, RefreshedButStillExpiredIsAnError) {
  ManualClock clock(kT0);
  RefreshingCredentialsProvider p(
      "test", [&]() -> Result<Credentials> { return Creds("OLD", clock.now() - 1); }, clock.AsClock());
  auto c = p.GetCredentials();
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().message.find("still expired"), std::string::npos);
}

TEST(RefreshingCredentials, CredentialsWithoutExpiryNeverRefresh) {
  ManualClock clock(kT0);
  CountingFetch fetch{&clock};
  RefreshingCredentialsProvider p("test", fetch.AsFetch(), clock.AsClock(), Creds("K0", std::nullopt));
  clock.Advance(100 * 24 * 3600);
  EXPECT_EQ(p.GetCredentials()->access_key_id, "K0");
  EXPECT_EQ(fetch.calls, 0);
}

TEST(RefreshingCredentials, MfaFetchRunsOnce) {
  int calls = 0;
  auto fetch = FetchOnceForMfa([&]() -> Result<Credentials> {
    ++calls;
    return Creds("K", std::nullopt);
  });
  EXPECT_TRUE(fetch().has_value());
  auto second = fetch();
  ASSERT_FALSE(second.has_value());
  EXPECT_NE(second.error().message.find("MFA token required"), std::string::npos);
  EXPECT_EQ(calls, 1);
}

TEST(RefreshingCredentials, ManyThreadsShareOneFetch) {
  ManualClock clock(kT0);
  std::atomic<int> calls{0};
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  RefreshingCredentialsProvider p(
      "test",
      [&]() -> Result<Credentials> {
        ++calls;
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return release; });
        return Creds("SHARED", clock.now() + 3600);
      },
      clock.AsClock());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto c = p.GetCredentials();
      if (c && c->access_key_id == "SHARED") ++ok;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 16);
  EXPECT_EQ(calls, 1);
}

TEST(RefreshingCredentials, AdvisoryRefreshDoesNotBlockOtherThreads) {
  ManualClock clock(kT0);
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  RefreshingCredentialsProvider p(
      "test",
      [&]() -> Result<Credentials> {
        std::unique_lock<std::mutex> lock(mu);
        entered = true;
        cv.notify_all();
        cv.wait(lock, [&] { return release; });
        return Creds("NEW", clock.now() + 3600);
      },
      clock.AsClock(), Creds("OLD", kT0 + 3600));
  clock.Set(kT0 + 3600 - 12 * 60);  // advisory
  std::thread refresher([&] { EXPECT_EQ(p.GetCredentials()->access_key_id, "NEW"); });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  // While the refresh is stuck, others get the current credentials at once.
  EXPECT_EQ(p.GetCredentials()->access_key_id, "OLD");
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  refresher.join();
  EXPECT_EQ(p.GetCredentials()->access_key_id, "NEW");
}

}  // namespace
}  // namespace cloudaudit::aws
