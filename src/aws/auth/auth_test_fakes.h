// Fakes at the seams of credential loading, shared by the *_test.cc files of
// this folder (header-only so it stays out of the library): an in-memory HTTP
// transport for IMDS and container endpoints, an AwsCaller that records STS
// and SSO calls, a settable clock, and a builder for a whole configuration
// (environment + in-memory files) that never touches the real HOME.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "aws/auth/credential_chain.h"
#include "aws/auth/credential_sources.h"
#include "aws/auth/environment.h"
#include "aws/auth/resolved_config.h"
#include "aws/http/transport.h"
#include "base/json.h"

namespace cloudaudit::aws::testing {

// Secrets used throughout the tests; no error message may ever contain them.
inline constexpr const char* kSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
inline constexpr const char* kSessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";

inline void ExpectNoSecrets(const std::string& text) {
  EXPECT_EQ(text.find(kSecretKey), std::string::npos) << text;
  EXPECT_EQ(text.find(kSessionToken), std::string::npos) << text;
}

class ManualClock {
 public:
  explicit ManualClock(int64_t now = 1'800'000'000) : now_(now) {}
  Clock AsClock() {
    return [this] { return now_.load(); };
  }
  int64_t now() const { return now_.load(); }
  void Set(int64_t now) { now_.store(now); }
  void Advance(int64_t seconds) { now_.fetch_add(seconds); }

 private:
  std::atomic<int64_t> now_;
};

// Answers requests with a handler; records every request. Thread-safe.
class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;
  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mu_);
    handler_ = std::move(handler);
  }
  Result<HttpResponse> Send(const HttpRequest& request, const HttpOptions& options) override {
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      options_.push_back(options);
      handler = handler_;
    }
    if (!handler) return MakeError(ErrorCode::kNetwork, "no route to host");
    return handler(request);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<HttpOptions> options() const {
    std::lock_guard<std::mutex> lock(mu_);
    return options_;
  }

  static HttpResponse Response(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<HttpRequest> requests_;
  std::vector<HttpOptions> options_;
};

// Records calls and answers from per-operation queues. Thread-safe.
class FakeCaller final : public AwsCaller {
 public:
  struct Recorded {
    std::string service;
    std::string operation;
    Json params;
    bool signed_call = false;
    Credentials credentials;  // copy of what the call was signed with
    std::string region;
  };

  // Answers are used in order; the last one keeps answering until another
  // is queued.
  void Respond(const std::string& operation, Result<Json> answer) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_[operation].answers.push_back(std::move(answer));
  }

  Result<Json> Call(const std::string& service, const std::string& operation, const Json& params,
                    const Credentials* credentials, const std::string& region) override {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(Recorded{service, operation, params, credentials != nullptr,
                              credentials != nullptr ? *credentials : Credentials{}, region});
    auto it = answers_.find(operation);
    if (it == answers_.end() || it->second.empty()) {
      return MakeError(ErrorCode::kInternal, "FakeCaller: no answer for " + operation);
    }
    Queue& q = it->second;
    if (q.front_used && q.answers.size() > 1) {
      q.answers.pop_front();
      q.front_used = false;
    }
    q.front_used = true;
    return q.answers.front();
  }

  std::vector<Recorded> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

  static Json StsCredentials(const std::string& access_key_id, const std::string& expiration,
                             const std::string& account = "123456789012") {
    return Json{{"Credentials",
                 {{"AccessKeyId", access_key_id},
                  {"SecretAccessKey", kSecretKey},
                  {"SessionToken", kSessionToken},
                  {"Expiration", expiration}}},
                {"AssumedRoleUser",
                 {{"AssumedRoleId", "AROA:session"}, {"Arn", "arn:aws:sts::" + account + ":assumed-role/r/session"}}}};
  }

  static tl::unexpected<Error> AwsError(const std::string& code, const std::string& message, int status = 403) {
    Error e;
    e.code = ErrorCode::kAwsService;
    e.aws_code = code;
    e.message = message;
    e.http_status = status;
    return tl::unexpected<Error>(std::move(e));
  }

 private:
  struct Queue {
    std::deque<Result<Json>> answers;
    bool front_used = false;
    bool empty() const { return answers.empty(); }
  };
  mutable std::mutex mu_;
  std::map<std::string, Queue> answers_;
  std::vector<Recorded> calls_;
};

// A whole configuration: environment variables and in-memory files under a
// fake HOME (/home/tester).
struct FakeWorld {
  Environment env{std::map<std::string, std::string>{{"HOME", "/home/tester"}}};
  std::shared_ptr<MemoryFileSystem> fs = std::make_shared<MemoryFileSystem>();
  ConfigOverrides flags;
  FakeTransport transport;
  FakeCaller caller;
  ManualClock clock;
  std::vector<std::string> prompts;
  std::string mfa_code = "123456";
  std::vector<int64_t> sleeps_ms;

  void ConfigFile(std::string text) { fs->AddFile("/home/tester/.aws/config", std::move(text)); }
  void CredentialsFile(std::string text) { fs->AddFile("/home/tester/.aws/credentials", std::move(text)); }

  Result<ResolvedConfig> Load() { return ResolvedConfig::Load(flags, env, fs); }

  CredentialChainDeps Deps() {
    CredentialChainDeps deps;
    deps.transport = &transport;
    deps.caller = &caller;
    deps.mfa_prompt = [this](const std::string& prompt) -> Result<std::string> {
      prompts.push_back(prompt);
      return mfa_code;
    };
    deps.clock = clock.AsClock();
    deps.sleep = [this](int64_t ms) { sleeps_ms.push_back(ms); };
    deps.random = [](int64_t lo, int64_t) { return lo; };
    return deps;
  }

  // The default chain; fails the test when the configuration does not load.
  std::shared_ptr<CredentialsProvider> Chain() {
    auto config = Load();
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().ToString());
    if (!config) return nullptr;
    return MakeDefaultCredentialsChain(*config, Deps());
  }

  // The shared context, for testing one source at a time.
  SourceContextPtr Context() {
    auto config = Load();
    EXPECT_TRUE(config.has_value()) << (config ? "" : config.error().ToString());
    if (!config) return nullptr;
    auto ctx = MakeSourceContext(*config, Deps());
    EXPECT_TRUE(ctx.has_value()) << (ctx ? "" : ctx.error().ToString());
    return ctx ? *ctx : nullptr;
  }
};

}  // namespace cloudaudit::aws::testing
