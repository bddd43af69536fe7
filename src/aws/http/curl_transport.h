// CurlTransport: the production HttpTransport, on libcurl.
//
// Connection reuse: libcurl keeps live connections in each easy handle, and
// its shared connection cache (CURL_LOCK_DATA_CONNECT) is not safe across
// threads (curl known bug "A shared connection cache is not thread-safe",
// curl#4915). So the transport keeps a mutex-protected LIFO pool of easy
// handles: a call borrows one, and the most recently returned handle, whose
// connections are warm, is lent next. DNS results and TLS sessions are
// shared between all handles through a locked CURLSH.
//
// Proxies: chosen exactly as the AWS CLI (botocore + urllib) chooses them,
// not as libcurl would. libcurl ignores upper-case HTTP_PROXY (a CGI
// "httpoxy" guard), honours ALL_PROXY and matches NO_PROXY slightly
// differently; the AWS CLI honours HTTP_PROXY/http_proxy for http URLs,
// HTTPS_PROXY/https_proxy for https URLs (lower case wins, an empty lower-case
// value disables), ignores ALL_PROXY, and bypasses hosts matched by
// NO_PROXY/no_proxy as DNS suffixes. We resolve the proxy ourselves
// (ProxyForUrl) and always set CURLOPT_PROXY, which stops libcurl from
// reading the environment at all.
//
// Wire behaviour: no "Expect: 100-continue", no Accept-Encoding (AWS bodies
// must arrive byte-exact, e.g. for DynamoDB's CRC32), no default Accept or
// Content-Type, the path is sent as-is (no dot-segment removal: it was signed
// that way), HTTP/1.1, redirects not followed.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/http/transport.h"
#include "base/error.h"

namespace cloudaudit::aws {

using EnvironmentVariables = std::vector<std::pair<std::string, std::string>>;

// The process environment, as name/value pairs in environ order.
EnvironmentVariables ProcessEnvironment();

// The proxy URL the AWS CLI would use for a request to scheme://host
// (host may carry ":port"), or "" for a direct connection. A proxy value
// without a scheme gets "http://", as botocore's ProxyConfiguration does.
std::string ProxyForUrl(std::string_view scheme, std::string_view host, const EnvironmentVariables& env);

struct CurlTransportOptions {
  // Where proxy settings come from; nullopt: the process environment, read
  // once when the transport is built (botocore also reads it once per client).
  std::optional<EnvironmentVariables> environment;
  // Idle easy handles kept for reuse; extra ones are closed when returned.
  size_t max_idle_handles = 16;
};

class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(CurlTransportOptions options = {});
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  // Thread-safe; any number of calls may run concurrently. Errors:
  //   kTimeout  connect timeout, or the whole attempt took longer than
  //             options.read_timeout_ms;
  //   kNetwork  refused, reset, DNS, TLS, proxy, truncated body...; the
  //             message is curl's, with the URL (never headers or body);
  //   kParse    the body exceeded options.max_response_bytes (not retryable:
  //             asking again would get the same answer);
  //   kInvalidArgument  a request libcurl cannot express (bad URL).
  // Response header names keep the case the server sent (look them up with
  // HttpResponse::FindHeader, which ignores case); HEAD responses have no body.
  Result<HttpResponse> Send(const HttpRequest& request, const HttpOptions& options) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cloudaudit::aws
