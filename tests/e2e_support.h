// Helpers shared by the end-to-end tests of this folder (client_e2e_test.cc,
// credentials_e2e_test.cc): a fake retry clock, static credentials, recorded
// conformance responses, and a loopback port that refuses connections.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "aws/auth/credentials.h"
#include "aws/client/retry.h"
#include "aws/http/curl_transport.h"
#include "testing/fake_aws.h"
#include "testing/test_paths.h"

namespace cloudaudit::testing {

// Backoff and rate limiting without real sleeps: "sleeping" advances the
// clock. Thread-safe; records the total time slept.
class FakeRetryClock final : public aws::RetryClock {
 public:
  double NowSeconds() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return now_;
  }
  void SleepSeconds(double seconds) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (seconds > 0) {
      now_ += seconds;
      slept_ += seconds;
    }
  }
  double slept() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return slept_;
  }

 private:
  mutable std::mutex mutex_;
  double now_ = 1000;
  double slept_ = 0;
};

class StaticTestCredentials final : public aws::CredentialsProvider {
 public:
  explicit StaticTestCredentials(aws::Credentials credentials = FakeAws::TestCredentials())
      : credentials_(std::move(credentials)) {}
  Result<aws::Credentials> GetCredentials() override { return credentials_; }

 private:
  aws::Credentials credentials_;
};

// Starts `fake` and returns once it is serving. FakeAws::Start returns
// before its server thread runs, and a Stop() in that window does not stop it
// (see FakeAwsLifecycle.StopRightAfterStartDoesNotHang in client_e2e_test.cc):
// one request answered proves the thread is serving. The socket already
// listens, so the probe just waits for the thread; it is sent once, with a
// generous timeout (a retried probe could be recorded after the clear), and
// then forgotten.
inline ::testing::AssertionResult StartServing(FakeAws& fake) {
  if (auto started = fake.Start(); !started) {
    return ::testing::AssertionFailure() << started.error().ToString();
  }
  aws::CurlTransport transport(aws::CurlTransportOptions{.environment = aws::EnvironmentVariables{}});
  aws::HttpRequest probe;
  probe.scheme = "http";
  probe.host = fake.host();
  probe.path = "/cloudaudit-e2e-probe";
  auto answered = transport.Send(probe, aws::HttpOptions{.connect_timeout_ms = 10'000, .read_timeout_ms = 30'000});
  if (!answered) {
    return ::testing::AssertionFailure() << "FakeAws does not answer: " << answered.error().ToString();
  }
  fake.ClearRequests();
  return ::testing::AssertionSuccess();
}

// The responses of tests/conformance/<case_dir>/responses/N.http, in order.
inline std::vector<FakeResponse> RecordedResponses(const std::string& case_dir) {
  std::vector<FakeResponse> responses;
  const std::string base = SourceDir() + "/tests/conformance/" + case_dir + "/responses/";
  for (int n = 1;; ++n) {
    const std::string path = base + std::to_string(n) + ".http";
    if (::access(path.c_str(), R_OK) != 0) break;
    auto response = ParseRawHttpResponse(ReadFileOrDie(path));
    if (!response) {
      ADD_FAILURE() << path << ": " << response.error().ToString();
      break;
    }
    responses.push_back(std::move(*response));
  }
  if (responses.empty()) ADD_FAILURE() << "no recorded responses in " << base;
  return responses;
}

// A 127.0.0.1 port bound but not listening: connections to it are refused at
// once, and nobody else gets the port while this object lives.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot bind a loopback socket";
      return;
    }
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace cloudaudit::testing
