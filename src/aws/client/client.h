// The model-driven AWS client: any read-only operation of any embedded
// service, by name, with boto3-shaped JSON in and out.
//
//   AwsClient client(config, transport, credentials);
//   auto users = client.CallAllPages("iam", "ListUsers", Json::object());
//
// One call = validate the parameters against the model, refuse non-read
// operations, resolve the endpoint, serialize, sign (SigV4 / S3 variant),
// send with retries (standard mode) under a per service+region adaptive rate
// limit, follow S3 region redirects, and parse the response or the error.
// Thread-safe: one client serves all the threads of a scan.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "aws/auth/credentials.h"
#include "aws/client/endpoints.h"
#include "aws/http/transport.h"
#include "aws/model/model.h"
#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {

class RetryRegistry;  // retry.h
class RetryClock;

struct ClientConfig {
  std::string region;                 // default region for calls without one
  EndpointOptions endpoints;          // FIPS, dual-stack, --endpoint-url
  // Per-service endpoint URLs (AWS_ENDPOINT_URL_<SERVICE>, profile services
  // sections), keyed by botocore service name; win over endpoints.endpoint_url.
  std::map<std::string, std::string> service_endpoint_urls;
  std::string s3_addressing_style = "auto";  // auto | virtual | path
  HttpOptions http;
  int max_attempts = 3;               // standard retry mode, first try included
  bool adaptive_rate_limit = true;    // client-side token bucket per service+region
  int max_pages = 10'000;             // safety cap for CallAllPages / Paginate
  bool inject_host_prefix = true;     // endpoint hostPrefix ("{AccountId}.")
  // Endpoint URL configured for a service (AWS_ENDPOINT_URL_<SERVICE>,
  // profile services sections...); wins over endpoints.endpoint_url.
  std::function<Result<std::optional<std::string>>(const ServiceMetadata&)> endpoint_url_for;
  RetryClock* clock = nullptr;        // null: real time (tests inject a fake)
  std::function<int64_t()> now_epoch; // signing time source; null: system clock
};

// Statistics of the calls made, for end-of-run summaries and benchmarks.
struct CallStats {
  uint64_t calls = 0;      // logical calls
  uint64_t attempts = 0;   // HTTP requests sent, retries included
  uint64_t retries = 0;
  uint64_t throttled = 0;
  uint64_t errors = 0;
};

class AwsClient : public AwsCaller {
 public:
  AwsClient(ClientConfig config, std::shared_ptr<HttpTransport> transport,
            std::shared_ptr<CredentialsProvider> credentials);
  ~AwsClient() override;

  // One request (one page). `region` empty = the configured region.
  Result<Json> Call(const std::string& service, const std::string& operation, const Json& params,
                    const std::string& region = "");

  // Every page, merged like the AWS CLI's default output.
  Result<Json> CallAllPages(const std::string& service, const std::string& operation, const Json& params,
                            const std::string& region = "");

  // Streams pages to `on_page` (return false to stop early). Operations
  // without a paginator give one page.
  Status Paginate(const std::string& service, const std::string& operation, const Json& params,
                  const std::string& region, const std::function<bool(const Json& page)>& on_page);

  // AwsCaller, for credential providers (credentials null = unsigned call).
  Result<Json> Call(const std::string& service, const std::string& operation, const Json& params,
                    const Credentials* credentials, const std::string& region) override;

  // Installs the credential chain after construction: the chain's STS/SSO
  // providers call through this client. Call before any other use.
  void SetCredentialsProvider(std::shared_ptr<CredentialsProvider> credentials) { credentials_ = std::move(credentials); }

  CallStats stats() const;
  const ClientConfig& config() const { return config_; }

 private:
  struct Prepared;
  Result<Json> Invoke(const ServiceModel& model, const Operation& op, const Json& params, const std::string& region,
                      const Credentials* override_credentials, bool unsigned_call);
  Result<Prepared> Prepare(const ServiceModel& model, const Operation& op, const Json& params,
                           const std::string& region);
  // `attempts` receives the number of HTTP attempts made.
  Result<HttpResponse> SendWithRetries(const ServiceModel& model, const Operation& op, const Prepared& prepared,
                                       const Credentials* override_credentials, bool unsigned_call, int* attempts);

  ClientConfig config_;
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<CredentialsProvider> credentials_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> bucket_regions_;  // S3 region discovery cache
  std::unique_ptr<RetryRegistry> retry_;
  CallStats stats_;
};

}  // namespace cloudaudit::aws
