// Test helpers for the threat sources that read from AWS: an AwsClient
// pointed at the in-process fake endpoint, S3 listing answers and a clock
// that never sleeps.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "aws/client/client.h"
#include "aws/client/retry.h"
#include "aws/http/curl_transport.h"
#include "testing/fake_aws.h"

namespace cloudaudit::threats::testing {

class StaticCredentials : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> GetCredentials() override { return cloudaudit::testing::FakeAws::TestCredentials(); }
};

inline std::unique_ptr<aws::AwsClient> FakeClient(const cloudaudit::testing::FakeAws& fake, const std::string& region = "us-east-1") {
  aws::ClientConfig config;
  config.region = region;
  config.endpoints.endpoint_url = fake.endpoint();
  config.http.read_timeout_ms = 5000;
  config.max_attempts = 1;
  return std::make_unique<aws::AwsClient>(config, std::make_shared<aws::CurlTransport>(), std::make_shared<StaticCredentials>());
}

// Time that advances only when slept; records the sleeps.
class FakeClock : public aws::RetryClock {
 public:
  double NowSeconds() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepSeconds(double seconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    sleeps_.push_back(seconds);
    now_ += seconds;
  }
  void Advance(double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += seconds;
  }
  std::vector<double> sleeps() {
    std::lock_guard<std::mutex> lock(mu_);
    return sleeps_;
  }

 private:
  std::mutex mu_;
  double now_ = 1000;
  std::vector<double> sleeps_;
};

inline void AddS3Routes(cloudaudit::testing::FakeAws& fake) {
  fake.AddRoute("s3", "ListObjectsV2", "GET", "/[^/]+", {"list-type"});
  fake.AddRoute("s3", "GetObject", "GET", "/[^/]+/.+");
}

// A ListObjectsV2 answer: keys with sizes, common prefixes, and a
// continuation token when more pages follow.
inline cloudaudit::testing::FakeResponse ListXml(const std::vector<std::pair<std::string, int64_t>>& keys,
                                                 const std::vector<std::string>& prefixes = {},
                                                 const std::string& next_token = "") {
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)";
  xml += fmt::format("<KeyCount>{}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>{}</IsTruncated>", keys.size() + prefixes.size(),
                     next_token.empty() ? "false" : "true");
  if (!next_token.empty()) xml += "<NextContinuationToken>" + next_token + "</NextContinuationToken>";
  for (const auto& [key, size] : keys)
    xml += fmt::format("<Contents><Key>{}</Key><LastModified>2024-01-05T10:00:00.000Z</LastModified><Size>{}</Size>"
                       "<StorageClass>STANDARD</StorageClass></Contents>",
                       key, size);
  for (const auto& p : prefixes) xml += "<CommonPrefixes><Prefix>" + p + "</Prefix></CommonPrefixes>";
  xml += "</ListBucketResult>";
  return cloudaudit::testing::FakeResponse{200, {{"Content-Type", "application/xml"}}, xml};
}

// Matches a ListObjectsV2 request of `bucket` with exactly these prefix,
// delimiter ("/" or none), start-after and continuation token.
inline cloudaudit::testing::RequestPredicate ListRequest(std::string bucket, std::string prefix, bool delimiter,
                                                         std::string start_after = "", std::string token = "") {
  return [=](const cloudaudit::testing::ReceivedRequest& r) {
    auto opt = [&](const char* name) { return r.Param(name).value_or(""); };
    return r.http.path == "/" + bucket && opt("prefix") == prefix && (opt("delimiter") == "/") == delimiter &&
           opt("start-after") == start_after && opt("continuation-token") == token;
  };
}

inline std::string S3Error(const std::string& code, const std::string& message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>" + code + "</Code><Message>" + message +
         "</Message><RequestId>R1</RequestId></Error>";
}

}  // namespace cloudaudit::threats::testing
