#include "aws/http/curl_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "base/strings.h"

extern char** environ;

namespace cloudaudit::aws {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// urllib.request.getproxies_environment(): any-case "<scheme>_proxy" names
// first, then exact lower-case "_proxy" suffixes again so they win (and an
// empty one removes the entry). Under CGI (REQUEST_METHOD set) a non-lower-
// case HTTP_PROXY may come from a client's "Proxy:" header, so it is dropped.
std::map<std::string, std::string> ProxiesFromEnvironment(const EnvironmentVariables& env) {
  std::map<std::string, std::string> proxies;
  bool cgi = false;
  for (const auto& [name, value] : env) {
    if (name == "REQUEST_METHOD") cgi = true;
    std::string lower = ToLower(name);
    if (!value.empty() && EndsWith(lower, "_proxy")) proxies[lower.substr(0, lower.size() - 6)] = value;
  }
  if (cgi) proxies.erase("http");
  for (const auto& [name, value] : env) {
    if (!EndsWith(name, "_proxy")) continue;
    std::string key = ToLower(name.substr(0, name.size() - 6));
    if (!value.empty()) {
      proxies[key] = value;
    } else {
      proxies.erase(key);
    }
  }
  return proxies;
}

// urllib.request.proxy_bypass_environment(): no_proxy is "*" or a comma list
// of DNS suffixes (leading dots ignored), compared with the host both with and
// without its port.
bool BypassProxy(std::string_view netloc, const std::map<std::string, std::string>& proxies) {
  auto it = proxies.find("no");
  if (it == proxies.end()) return false;
  if (it->second == "*") return true;
  std::string host = ToLower(netloc);
  std::string host_only = host;
  if (size_t colon = host.rfind(':');
      colon != std::string::npos &&
      std::all_of(host.begin() + colon + 1, host.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    host_only = host.substr(0, colon);
  }
  for (const std::string& entry : Split(it->second, ',')) {
    std::string_view name = Trim(entry);
    if (name.empty()) continue;
    while (!name.empty() && name.front() == '.') name.remove_prefix(1);
    std::string lower = ToLower(name);
    if (host_only == lower || host == lower) return true;
    std::string suffix = "." + lower;
    if (EndsWith(host_only, suffix) || EndsWith(host, suffix)) return true;
  }
  return false;
}

// botocore.httpsession.ProxyConfiguration._fix_proxy_url.
std::string FixProxyUrl(const std::string& url) {
  if (url.starts_with("http:") || url.starts_with("https:")) return url;
  if (url.starts_with("//")) return "http:" + url;
  return "http://" + url;
}

void GlobalInitOnce() {
  static std::once_flag once;
  // Never paired with curl_global_cleanup: other threads may still hold
  // handles at exit, and the OS reclaims everything anyway.
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse response;
  size_t max_bytes = 0;
  bool too_large = false;
};

size_t OnHeader(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(buffer, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  HttpHeaders& headers = transfer->response.headers;
  if (line.starts_with("HTTP/")) {
    // A new status line: an interim (1xx) response came before; start over.
    headers.clear();
  } else if (line.empty()) {
    // End of this header block.
  } else if (line.front() == ' ' || line.front() == '\t') {
    // Obsolete line folding: the value continues.
    if (!headers.empty()) {
      headers.back().second += ' ';
      headers.back().second += Trim(line);
    }
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    // Names as the server sent them: botocore keeps their case (S3
    // "x-amz-meta-Owner" metadata is returned under the key "Owner").
    headers.emplace_back(std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string& body = transfer->response.body;
  if (n > transfer->max_bytes - body.size()) {
    transfer->too_large = true;
    return 0;  // any short count makes curl fail with CURLE_WRITE_ERROR
  }
  body.append(data, n);
  return n;
}

// The URL without its query, for error messages: the query may hold
// presigned credentials or tokens.
std::string UrlForMessages(const HttpRequest& request) { return request.scheme + "://" + request.host + request.path; }

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool Append(Slist& list, const std::string& line) {
  curl_slist* next = curl_slist_append(list.get(), line.c_str());
  if (next == nullptr) return false;
  list.release();
  list.reset(next);
  return true;
}

}  // namespace

EnvironmentVariables ProcessEnvironment() {
  EnvironmentVariables env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view kv(*entry);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

std::string ProxyForUrl(std::string_view scheme, std::string_view host, const EnvironmentVariables& env) {
  std::map<std::string, std::string> proxies = ProxiesFromEnvironment(env);
  if (BypassProxy(host, proxies)) return "";
  auto it = proxies.find(ToLower(scheme));
  if (it == proxies.end()) return "";
  return FixProxyUrl(it->second);
}

struct CurlTransport::Impl {
  CurlTransportOptions options;
  EnvironmentVariables environment;
  CURLSH* share = nullptr;
  // One lock per kind of shared data, as CURLSHOPT_LOCKFUNC requires.
  std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;

  std::mutex pool_mutex;
  std::vector<CURL*> idle;  // LIFO: back() has the warmest connections

  static void Lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<size_t>(data)].lock();
  }
  static void Unlock(CURL*, curl_lock_data data, void* user) {
    static_cast<Impl*>(user)->share_locks[static_cast<size_t>(data)].unlock();
  }

  CURL* Borrow() {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }

  void Return(CURL* handle) {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (idle.size() < options.max_idle_handles) {
        idle.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }
};

CurlTransport::CurlTransport(CurlTransportOptions options) : impl_(std::make_unique<Impl>()) {
  GlobalInitOnce();
  impl_->environment = options.environment ? *options.environment : ProcessEnvironment();
  impl_->options = std::move(options);
  impl_->share = curl_share_init();
  if (impl_->share != nullptr) {
    curl_share_setopt(impl_->share, CURLSHOPT_LOCKFUNC, &Impl::Lock);
    curl_share_setopt(impl_->share, CURLSHOPT_UNLOCKFUNC, &Impl::Unlock);
    curl_share_setopt(impl_->share, CURLSHOPT_USERDATA, impl_.get());
    curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(impl_->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  }
}

CurlTransport::~CurlTransport() {
  // Handles reference the share, so they go first.
  for (CURL* handle : impl_->idle) curl_easy_cleanup(handle);
  impl_->idle.clear();
  if (impl_->share != nullptr) curl_share_cleanup(impl_->share);
}

Result<HttpResponse> CurlTransport::Send(const HttpRequest& request, const HttpOptions& options) {
  CURL* handle = impl_->Borrow();
  if (handle == nullptr) return MakeError(ErrorCode::kInternal, "curl_easy_init failed");
  struct Returner {
    Impl* impl;
    CURL* handle;
    ~Returner() { impl->Return(handle); }
  } returner{impl_.get(), handle};

  // Keeps the handle's live connections, DNS and TLS session caches; every
  // option below is set again for this request.
  curl_easy_reset(handle);

  const std::string url = request.Url();
  const std::string proxy = ProxyForUrl(request.scheme, request.host, impl_->environment);
  char error_buffer[CURL_ERROR_SIZE] = {0};
  Transfer transfer;
  transfer.max_bytes = options.max_response_bytes;

  Slist headers;
  bool has_content_type = false, has_expect = false, has_accept = false;
  for (const auto& [name, value] : request.headers) {
    has_content_type |= IEquals(name, "Content-Type");
    has_expect |= IEquals(name, "Expect");
    has_accept |= IEquals(name, "Accept");
    // "Name:" would tell curl to drop the header; "Name;" sends it empty.
    if (!Append(headers, value.empty() ? name + ";" : name + ": " + value)) {
      return MakeError(ErrorCode::kInternal, "out of memory building request headers");
    }
  }
  if (!has_expect && !Append(headers, "Expect:")) return MakeError(ErrorCode::kInternal, "out of memory");
  if (!has_accept && !Append(headers, "Accept:")) return MakeError(ErrorCode::kInternal, "out of memory");

  const bool head = request.method == "HEAD";
  // Methods that carry a body always send one (Content-Length: 0 when
  // empty), as AWS expects for POST and PUT.
  const bool send_body = !head && (request.method == "POST" || request.method == "PUT" || request.method == "PATCH" ||
                                   !request.body.empty());
  if (send_body && !has_content_type && !Append(headers, "Content-Type:")) {
    return MakeError(ErrorCode::kInternal, "out of memory");
  }

  const curl_off_t max_size = static_cast<curl_off_t>(
      std::min<size_t>(options.max_response_bytes, static_cast<size_t>(std::numeric_limits<curl_off_t>::max())));

  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  if (impl_->share != nullptr) curl_easy_setopt(handle, CURLOPT_SHARE, impl_->share);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we are multi-threaded
  curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(handle, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max<int64_t>(options.connect_timeout_ms, 0)));
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(options.read_timeout_ms, 0)));
  // Always set: an empty string means "no proxy" and stops libcurl from
  // consulting the environment with its own, different rules.
  curl_easy_setopt(handle, CURLOPT_PROXY, proxy.c_str());
  curl_easy_setopt(handle, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  // For the endpoint only: botocore does not apply AWS_CA_BUNDLE to an
  // https:// proxy (that is proxy_ca_bundle's job).
  if (!options.ca_bundle.empty()) curl_easy_setopt(handle, CURLOPT_CAINFO, options.ca_bundle.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  // Fails early when Content-Length already announces too much; OnBody
  // catches bodies without a length. Not for HEAD, whose Content-Length
  // describes a body that is never sent (S3 HeadObject on a large object).
  if (!head) curl_easy_setopt(handle, CURLOPT_MAXFILESIZE_LARGE, max_size);

  if (head) {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (send_body) {
    if (request.method == "POST") {
      curl_easy_setopt(handle, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(handle, CURLOPT_POSTFIELDS, request.body.data());
  } else if (request.method == "GET") {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    const std::string what = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
    const std::string where = request.method + " " + UrlForMessages(request);
    if (transfer.too_large || code == CURLE_FILESIZE_EXCEEDED) {
      return MakeError(ErrorCode::kParse, fmt::format("{}: response body exceeds the limit of {} bytes", where,
                                                      options.max_response_bytes));
    }
    switch (code) {
      case CURLE_OPERATION_TIMEDOUT:
        return MakeError(ErrorCode::kTimeout, fmt::format("{}: {}", where, what));
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return MakeError(ErrorCode::kInvalidArgument, fmt::format("{}: {}", where, what));
      default:
        return MakeError(ErrorCode::kNetwork,
                         fmt::format("{}: {} (curl error {})", where, what, static_cast<int>(code)));
    }
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  transfer.response.status = static_cast<int>(status);
  return std::move(transfer.response);
}

}  // namespace cloudaudit::aws
