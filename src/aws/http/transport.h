// HTTP transport seam. The client builds an HttpRequest, signs it and hands
// it to an HttpTransport; CurlTransport talks to the network, tests plug in
// fakes or an in-process server. Implementations must be thread-safe: one
// transport is shared by all concurrent calls.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"

namespace cloudaudit::aws {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, POST, HEAD, PUT...
  std::string scheme = "https";
  std::string host;   // "iam.amazonaws.com" or "127.0.0.1:8080" (with port when not default)
  std::string path = "/";  // already URI-encoded, starts with '/'
  std::string query;  // already encoded, without '?', may be empty
  HttpHeaders headers;  // in insertion order; names as sent
  std::string body;

  std::string Url() const;
  // Case-insensitive header lookup; nullptr when absent.
  const std::string* FindHeader(std::string_view name) const;
  void SetHeader(std::string name, std::string value);  // replaces existing (case-insensitive)
  void RemoveHeader(std::string_view name);
};

struct HttpResponse {
  int status = 0;
  // In arrival order, names as the server sent them (botocore keeps their
  // case, e.g. S3 "x-amz-meta-Owner" metadata becomes the key "Owner"); use
  // FindHeader for lookups.
  HttpHeaders headers;
  std::string body;
  const std::string* FindHeader(std::string_view name) const;  // case-insensitive
};

struct HttpOptions {
  int64_t connect_timeout_ms = 10'000;
  int64_t read_timeout_ms = 60'000;  // whole-transfer timeout for one attempt
  std::string ca_bundle;             // AWS_CA_BUNDLE / ca_bundle; empty: system default
  bool verify_tls = true;
  size_t max_response_bytes = size_t{1} << 30;  // a hostile endpoint cannot exhaust memory
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // Sends one request. Network failures are errors (kNetwork/kTimeout); any
  // HTTP status, including 4xx/5xx, is a successful HttpResponse.
  virtual Result<HttpResponse> Send(const HttpRequest& request, const HttpOptions& options) = 0;
};

}  // namespace cloudaudit::aws
