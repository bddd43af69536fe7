#include "testing/fake_aws.h"

#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>

#include "aws/auth/sigv4.h"
#include "aws/model/embedded_models.h"
#include "base/json.h"
#include "base/strings.h"

namespace cloudaudit::testing {
namespace {

using Key = std::pair<std::string, std::string>;  // (service, operation)

// cpp-httplib's listen backlog (5) is compiled into Debian's shared library;
// a burst of concurrent connects overflows it and the dropped SYNs are only
// retried a second later. listen() again on the bound socket raises it.
class Server : public httplib::Server {
 public:
  void RaiseBacklog() { ::listen(svr_sock_, 128); }
};

bool IsS3Style(std::string_view service) {
  return service == "s3" || service == "s3control" || service == "s3-outposts";
}

AwsProtocol DefaultRestProtocol(std::string_view service) {
  return (IsS3Style(service) || service == "route53" || service == "cloudfront") ? AwsProtocol::kRestXml
                                                                                 : AwsProtocol::kRestJson;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool StartsWithI(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && IEquals(s.substr(0, prefix.size()), prefix);
}

// Decoded name/value pairs of a query string or form body.
std::vector<std::pair<std::string, std::string>> ParsePairs(std::string_view text, bool plus_is_space) {
  std::vector<std::pair<std::string, std::string>> pairs;
  if (text.empty()) return pairs;
  for (const std::string& part : Split(text, '&')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string::npos) {
      pairs.emplace_back(UriDecode(part, plus_is_space), "");
    } else {
      pairs.emplace_back(UriDecode(part.substr(0, eq), plus_is_space), UriDecode(part.substr(eq + 1), plus_is_space));
    }
  }
  return pairs;
}

bool IsFormBody(const aws::HttpRequest& request) {
  const std::string* type = request.FindHeader("content-type");
  return type != nullptr && StartsWithI(*type, "application/x-www-form-urlencoded");
}

// Service and region from "AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...".
// Services sharing a signing name (elb and elbv2 sign as
// "elasticloadbalancing", es and opensearch as "es", apigateway and
// apigatewayv2 as "apigateway"; cloudwatch signs as "monitoring") are told
// apart by their API version (query), target prefix (json) or routes (REST),
// so scripts and response directories use botocore service names.
struct ServiceIdentity {
  std::string name, api_version, target_prefix;
};

const std::multimap<std::string, ServiceIdentity>& ServicesBySigningName() {
  static const auto* table = [] {
    auto* t = new std::multimap<std::string, ServiceIdentity>();
    for (const auto& m : aws::EmbeddedModels()) {
      if (std::string_view(m.name) == "__endpoints__") continue;
      t->emplace(m.signing_name, ServiceIdentity{m.name, m.version, m.target_prefix});
    }
    return t;
  }();
  return *table;
}

std::vector<ServiceIdentity> CandidateServices(const std::string& signing_name) {
  std::vector<ServiceIdentity> out;
  auto [begin, end] = ServicesBySigningName().equal_range(signing_name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

std::pair<std::string, std::string> CredentialScope(const aws::HttpRequest& request) {
  const std::string* authorization = request.FindHeader("authorization");
  if (authorization == nullptr) return {};
  size_t start = authorization->find("Credential=");
  if (start == std::string::npos) return {};
  start += 11;
  size_t end = authorization->find_first_of(", ", start);
  std::vector<std::string> scope = Split(authorization->substr(start, end - start), '/');
  if (scope.size() != 5) return {};
  return {scope[3], scope[2]};
}

// Server-side sockets of the fake's connections: local port `local_port`
// and, unless `remote_port` is -1, peer port `remote_port`. cpp-httplib does
// not expose them, and the fake must be able to drop a connection without
// answering, and to end idle keep-alive connections on Stop (else its
// workers wait out the keep-alive timeout). Shutting a socket down leaves its
// descriptor to httplib to close.
void ShutdownServerSockets(int local_port, int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (local.ss_family != AF_INET || peer.ss_family != AF_INET) continue;
    if (ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port) != local_port) continue;
    if (remote_port != -1 && ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port) != remote_port) continue;
    shutdown(static_cast<int>(fd), SHUT_RDWR);
  }
  closedir(dir);
}

struct Route {
  std::string service;
  std::string operation;
  std::string method;
  std::regex path;
  std::vector<std::string> query_keys;
  std::optional<AwsProtocol> protocol;
};

struct Script {
  RequestPredicate when;  // null: unconditional
  std::vector<FakeResponse> responses;
  size_t served = 0;
};

const char kMalformedBody[] = "<<<this is {\"neither\": valid JSON nor <XML";
const char kHtmlPage[] =
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><h1>Service Temporarily Unavailable</h1></body></html>";

}  // namespace

std::string_view AwsProtocolName(AwsProtocol protocol) {
  switch (protocol) {
    case AwsProtocol::kQuery:
      return "query";
    case AwsProtocol::kEc2:
      return "ec2";
    case AwsProtocol::kJson:
      return "json";
    case AwsProtocol::kRestJson:
      return "rest-json";
    case AwsProtocol::kRestXml:
      return "rest-xml";
  }
  return "unknown";
}

std::optional<AwsProtocol> AwsProtocolFromName(std::string_view name) {
  for (AwsProtocol p :
       {AwsProtocol::kQuery, AwsProtocol::kEc2, AwsProtocol::kJson, AwsProtocol::kRestJson, AwsProtocol::kRestXml}) {
    if (AwsProtocolName(p) == name) return p;
  }
  return std::nullopt;
}

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kThrottle:
      return "throttle";
    case FaultKind::kInternalError:
      return "internal-error";
    case FaultKind::kServiceUnavailable:
      return "service-unavailable";
    case FaultKind::kConnectionReset:
      return "connection-reset";
    case FaultKind::kDelay:
      return "delay";
    case FaultKind::kTruncatedBody:
      return "truncated-body";
    case FaultKind::kMalformedBody:
      return "malformed-body";
    case FaultKind::kWrongContentType:
      return "wrong-content-type";
  }
  return "unknown";
}

Result<FakeResponse> ParseRawHttpResponse(std::string_view raw) {
  FakeResponse response;
  size_t pos = 0;
  auto next_line = [&](std::string_view* line) {
    if (pos >= raw.size()) return false;
    size_t end = raw.find('\n', pos);
    if (end == std::string_view::npos) end = raw.size();
    *line = raw.substr(pos, end - pos);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos = end + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(&line) || !line.starts_with("HTTP/")) {
    return MakeError(ErrorCode::kParse, "raw HTTP response does not start with a status line (HTTP/1.1 200 OK)");
  }
  std::vector<std::string> parts = Split(line, ' ');
  if (parts.size() < 2 || parts[1].size() != 3 || !std::all_of(parts[1].begin(), parts[1].end(), ::isdigit)) {
    return MakeError(ErrorCode::kParse, "bad status line: " + std::string(line));
  }
  response.status = std::stoi(parts[1]);
  while (next_line(&line)) {
    if (line.empty()) {
      response.body = std::string(raw.substr(std::min(pos, raw.size())));
      return response;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return MakeError(ErrorCode::kParse, "bad header line: " + std::string(line));
    }
    response.headers.emplace_back(std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  return response;  // headers only, no blank line: an empty body
}

std::optional<std::string> ReceivedRequest::Param(std::string_view name) const {
  for (const auto& [key, value] : ParsePairs(http.query, false))
    if (key == name) return value;
  if (IsFormBody(http)) {
    for (const auto& [key, value] : ParsePairs(http.body, true))
      if (key == name) return value;
  }
  std::string_view body = Trim(http.body);
  if (body.starts_with("{")) {
    auto json = ParseJson(body);
    if (json && json->is_object()) {
      auto it = json->find(std::string(name));
      if (it != json->end()) return it->is_string() ? it->get<std::string>() : it->dump();
    }
  }
  return std::nullopt;
}

namespace {

void JsonLeaves(const Json& node, std::vector<std::string>* out) {
  if (node.is_object() || node.is_array()) {
    for (const auto& child : node) JsonLeaves(child, out);
  } else if (node.is_string()) {
    out->push_back(node.get<std::string>());
  } else if (!node.is_null()) {
    out->push_back(node.dump());
  }
}

}  // namespace

std::vector<std::string> ReceivedRequest::ParamValues() const {
  std::vector<std::string> values;
  for (auto& [key, value] : ParsePairs(http.query, false)) values.push_back(std::move(value));
  if (IsFormBody(http)) {
    for (auto& [key, value] : ParsePairs(http.body, true)) values.push_back(std::move(value));
  }
  std::string_view body = Trim(http.body);
  if (body.starts_with("{")) {
    if (auto json = ParseJson(body)) JsonLeaves(*json, &values);
  }
  for (const std::string& segment : Split(http.path, '/'))
    if (!segment.empty()) values.push_back(UriDecode(segment, false));
  return values;
}

RequestPredicate HasParamValues(std::vector<std::string> values) {
  return [values = std::move(values)](const ReceivedRequest& request) {
    const std::vector<std::string> have = request.ParamValues();
    return std::all_of(values.begin(), values.end(), [&](const std::string& v) {
      return std::find(have.begin(), have.end(), v) != have.end();
    });
  };
}

RequestPredicate ParamEquals(std::string name, std::string value) {
  return [name = std::move(name), value = std::move(value)](const ReceivedRequest& request) {
    return request.Param(name) == value;
  };
}

RequestPredicate ParamAbsent(std::string name) {
  return [name = std::move(name)](const ReceivedRequest& request) { return !request.Param(name).has_value(); };
}

struct FakeAws::Impl {
  Options options;
  Server server;
  std::thread thread;
  int port = 0;
  bool started = false;

  mutable std::mutex mutex;  // guards everything below
  std::condition_variable stop_cv;
  bool stopping = false;
  std::vector<Route> routes;
  std::map<std::string, AwsProtocol> protocols;
  std::set<Key> unsigned_operations;
  std::map<Key, std::vector<Script>> conditional_scripts;
  std::map<Key, Script> scripts;
  std::map<Key, std::deque<Fault>> faults;
  std::deque<Fault> global_faults;
  std::vector<ReceivedRequest> requests;
  uint64_t request_counter = 0;

  void Handle(const httplib::Request& req, httplib::Response& res);
  void Identify(ReceivedRequest& r) const;
  std::optional<Fault> TakeFault(const Key& key);
  std::optional<FakeResponse> NextScripted(const ReceivedRequest& r);
  FakeResponse ErrorResponse(const ReceivedRequest& r, int status, std::string_view code, std::string_view message,
                             const std::string& request_id) const;
  void Finish(ReceivedRequest r) {
    if (options.on_request) options.on_request(r);
    std::lock_guard<std::mutex> lock(mutex);
    requests.push_back(std::move(r));
  }
  // Waits `ms`, or less when the fake stops.
  void Sleep(int64_t ms) {
    std::unique_lock<std::mutex> lock(mutex);
    stop_cv.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping; });
  }
};

aws::Credentials FakeAws::TestCredentials() {
  aws::Credentials credentials;
  credentials.access_key_id = "AKIDEXAMPLE";
  credentials.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  credentials.source = "fake-aws";
  return credentials;
}

FakeAws::FakeAws() : FakeAws(Options{}) {}

FakeAws::FakeAws(Options options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }

FakeAws::~FakeAws() { Stop(); }

Status FakeAws::Start(int port) {
  Impl& impl = *impl_;
  if (impl.started) return MakeError(ErrorCode::kInvalidArgument, "FakeAws already started");
  impl.started = true;
  Server& server = impl.server;
  const size_t threads = static_cast<size_t>(std::max(1, impl.options.threads));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Without it Nagle holds the body behind the headers until the client's
  // delayed ACK: 40 ms per call.
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(1000);
  server.set_keep_alive_timeout(2);
  auto handler = [&impl](const httplib::Request& req, httplib::Response& res) { impl.Handle(req, res); };
  // [\s\S]: '.' would not match a decoded newline in a path.
  const std::string any = R"([\s\S]*)";
  server.Get(any, handler);  // and HEAD
  server.Post(any, handler);
  server.Put(any, handler);
  server.Patch(any, handler);
  server.Delete(any, handler);
  server.Options(any, handler);
  if (port == 0) {
    impl.port = server.bind_to_any_port("127.0.0.1");
  } else if (server.bind_to_port("127.0.0.1", port)) {
    impl.port = port;
  }
  if (impl.port <= 0) {
    return MakeError(ErrorCode::kIo, "FakeAws cannot listen on 127.0.0.1:" + std::to_string(port));
  }
  server.RaiseBacklog();
  impl.thread = std::thread([&server] { server.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the listen loop runs, so a Stop()
  // right after Start() would hang in join(): wait until it serves.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return {};
}

void FakeAws::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->thread.joinable()) {
    impl_->server.stop();
    ShutdownServerSockets(impl_->port, -1);
    impl_->thread.join();
  }
}

int FakeAws::port() const { return impl_->port; }
std::string FakeAws::host() const { return "127.0.0.1:" + std::to_string(impl_->port); }
std::string FakeAws::endpoint() const { return "http://" + host(); }

void FakeAws::AddRoute(std::string service, std::string operation, std::string method, std::string path_regex,
                       std::vector<std::string> query_keys, std::optional<AwsProtocol> protocol) {
  Route route{std::move(service),     std::move(operation),  std::move(method),
              std::regex(path_regex), std::move(query_keys), protocol};
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->routes.push_back(std::move(route));
}

void FakeAws::SetProtocol(std::string service, AwsProtocol protocol) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->protocols[std::move(service)] = protocol;
}

void FakeAws::AllowUnsigned(std::string service, std::string operation) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->unsigned_operations.emplace(std::move(service), std::move(operation));
}

void FakeAws::AddResponses(std::string service, std::string operation, std::vector<FakeResponse> responses) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->scripts[{std::move(service), std::move(operation)}] = Script{nullptr, std::move(responses), 0};
}

void FakeAws::AddResponses(std::string service, std::string operation, RequestPredicate when,
                           std::vector<FakeResponse> responses) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->conditional_scripts[{std::move(service), std::move(operation)}].push_back(
      Script{std::move(when), std::move(responses), 0});
}

void FakeAws::InjectFault(std::string service, std::string operation, Fault fault) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->faults[{std::move(service), std::move(operation)}].push_back(std::move(fault));
}

void FakeAws::InjectGlobalFault(Fault fault) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->global_faults.push_back(std::move(fault));
}

void FakeAws::ClearFaults() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->faults.clear();
  impl_->global_faults.clear();
}

std::vector<ReceivedRequest> FakeAws::Requests() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->requests;
}

std::vector<ReceivedRequest> FakeAws::Requests(std::string_view service, std::string_view operation) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::vector<ReceivedRequest> out;
  for (const ReceivedRequest& r : impl_->requests)
    if (r.service == service && r.operation == operation) out.push_back(r);
  return out;
}

int FakeAws::RequestCount() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<int>(impl_->requests.size());
}

int FakeAws::RequestCount(std::string_view service, std::string_view operation) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<int>(std::count_if(impl_->requests.begin(), impl_->requests.end(), [&](const ReceivedRequest& r) {
    return r.service == service && r.operation == operation;
  }));
}

void FakeAws::ClearRequests() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->requests.clear();
}

// Caller holds the mutex.
void FakeAws::Impl::Identify(ReceivedRequest& r) const {
  const aws::HttpRequest& http = r.http;
  const std::vector<ServiceIdentity> candidates = CandidateServices(r.service);
  auto pick = [&](auto matches) {
    for (const auto& c : candidates)
      if (matches(c)) {
        r.service = c.name;
        return;
      }
    if (candidates.size() == 1) r.service = candidates.front().name;
  };
  if (const std::string* target = http.FindHeader("x-amz-target")) {
    size_t dot = target->rfind('.');
    r.operation = dot == std::string::npos ? *target : target->substr(dot + 1);
    r.protocol = AwsProtocol::kJson;
    std::string prefix = dot == std::string::npos ? "" : target->substr(0, dot);
    pick([&](const ServiceIdentity& c) { return c.target_prefix == prefix; });
  } else {
    std::optional<std::string> action;
    if (IsFormBody(http)) {
      for (const auto& [key, value] : ParsePairs(http.body, true))
        if (key == "Action") action = value;
    }
    if (!action) {
      for (const auto& [key, value] : ParsePairs(http.query, false))
        if (key == "Action") action = value;
    }
    if (action) {
      r.operation = *action;
      std::optional<std::string> version;
      for (const auto& [key, value] : ParsePairs(IsFormBody(http) ? http.body : http.query, IsFormBody(http)))
        if (key == "Version") version = value;
      pick([&](const ServiceIdentity& c) { return version && c.api_version == *version; });
      r.protocol = r.service == "ec2" ? AwsProtocol::kEc2 : AwsProtocol::kQuery;
    } else {
      std::set<std::string> query_keys;
      for (const auto& [key, value] : ParsePairs(http.query, false)) query_keys.insert(key);
      const Route* best = nullptr;
      for (const Route& route : routes) {
        bool service_matches = r.service.empty() || route.service == r.service ||
                               std::any_of(candidates.begin(), candidates.end(),
                                           [&](const ServiceIdentity& c) { return c.name == route.service; });
        if (!service_matches) continue;
        if (route.method != http.method && !(http.method == "HEAD" && route.method == "GET")) continue;
        if (!std::regex_match(http.path, route.path)) continue;
        if (!std::all_of(route.query_keys.begin(), route.query_keys.end(),
                         [&](const std::string& k) { return query_keys.count(k) > 0; })) {
          continue;
        }
        if (best == nullptr || route.query_keys.size() > best->query_keys.size()) best = &route;
      }
      if (best != nullptr) {
        r.operation = best->operation;
        r.service = best->service;
      } else {
        pick([](const ServiceIdentity&) { return false; });
      }
      const std::string& service = best != nullptr ? best->service : r.service;
      if (best != nullptr && best->protocol) {
        r.protocol = *best->protocol;
      } else if (auto it = protocols.find(service); it != protocols.end()) {
        r.protocol = it->second;
      } else {
        r.protocol = DefaultRestProtocol(service);
      }
    }
  }
  // An unsigned request names no service: take the one this operation was
  // registered under.
  if (r.service.empty() && !r.operation.empty()) {
    for (const Key& key : unsigned_operations)
      if (key.second == r.operation) r.service = key.first;
  }
  if (r.service.empty() && !r.operation.empty()) {
    for (const auto& [key, script] : scripts)
      if (key.second == r.operation) r.service = key.first;
  }
}

// Caller holds the mutex.
std::optional<Fault> FakeAws::Impl::TakeFault(const Key& key) {
  auto take = [](std::deque<Fault>& queue) -> std::optional<Fault> {
    while (!queue.empty()) {
      Fault& front = queue.front();
      if (front.times == 0) {
        queue.pop_front();
        continue;
      }
      Fault taken = front;
      if (front.times > 0 && --front.times == 0) queue.pop_front();
      return taken;
    }
    return std::nullopt;
  };
  if (auto fault = take(global_faults)) return fault;
  if (auto it = faults.find(key); it != faults.end()) return take(it->second);
  return std::nullopt;
}

// Caller holds the mutex.
std::optional<FakeResponse> FakeAws::Impl::NextScripted(const ReceivedRequest& r) {
  const Key key{r.service, r.operation};
  auto serve = [](Script& script) -> std::optional<FakeResponse> {
    if (script.responses.empty()) return std::nullopt;
    size_t index = std::min(script.served, script.responses.size() - 1);
    ++script.served;
    return script.responses[index];
  };
  if (auto it = conditional_scripts.find(key); it != conditional_scripts.end()) {
    for (Script& script : it->second)
      if (script.when && script.when(r)) return serve(script);
  }
  if (auto it = scripts.find(key); it != scripts.end()) return serve(it->second);
  return std::nullopt;
}

FakeResponse FakeAws::Impl::ErrorResponse(const ReceivedRequest& r, int status, std::string_view code,
                                          std::string_view message, const std::string& request_id) const {
  FakeResponse response;
  response.status = status;
  const std::string type = status >= 500 ? "Receiver" : "Sender";
  switch (r.protocol) {
    case AwsProtocol::kQuery:
      response.headers = {{"Content-Type", "text/xml"}};
      response.body = fmt::format(
          "<ErrorResponse xmlns=\"https://{}.amazonaws.com/doc/fake/\">\n  <Error>\n    <Type>{}</Type>\n"
          "    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n"
          "</ErrorResponse>\n",
          r.service, type, XmlEscape(code), XmlEscape(message), request_id);
      break;
    case AwsProtocol::kEc2:
      response.headers = {{"Content-Type", "text/xml;charset=UTF-8"}};
      response.body = fmt::format(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}"
          "</Message></Error></Errors><RequestID>{}</RequestID></Response>",
          XmlEscape(code), XmlEscape(message), request_id);
      break;
    case AwsProtocol::kJson: {
      const std::string* type_header = r.http.FindHeader("content-type");
      response.headers = {{"Content-Type", type_header != nullptr && StartsWithI(*type_header, "application/x-amz-json")
                                               ? *type_header
                                               : "application/x-amz-json-1.1"}};
      response.body = Json{{"__type", code}, {"message", message}}.dump();
      break;
    }
    case AwsProtocol::kRestJson:
      response.headers = {{"Content-Type", "application/json"}, {"x-amzn-ErrorType", std::string(code)}};
      response.body = Json{{"message", message}}.dump();
      break;
    case AwsProtocol::kRestXml:
      response.headers = {{"Content-Type", "application/xml"}};
      if (IsS3Style(r.service)) {
        response.body = fmt::format(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>"
            "<RequestId>{}</RequestId></Error>",
            XmlEscape(code), XmlEscape(message), request_id);
      } else {
        response.body = fmt::format(
            "<?xml version=\"1.0\"?>\n<ErrorResponse xmlns=\"https://{}.amazonaws.com/doc/fake/\"><Error><Type>{}"
            "</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            r.service, type, XmlEscape(code), XmlEscape(message), request_id);
      }
      break;
  }
  return response;
}

void FakeAws::Impl::Handle(const httplib::Request& req, httplib::Response& res) {
  ReceivedRequest r;
  r.http.method = req.method;
  r.http.scheme = "http";
  r.http.host = req.has_header("Host") ? req.get_header_value("Host") : "127.0.0.1:" + std::to_string(port);
  const size_t question = req.target.find('?');
  r.http.path = req.target.substr(0, question);
  r.http.query = question == std::string::npos ? "" : req.target.substr(question + 1);
  r.http.headers.clear();
  for (const auto& [name, value] : req.headers) {
    // cpp-httplib adds the connection's addresses as pseudo headers.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" || name == "LOCAL_PORT") continue;
    r.http.headers.emplace_back(name, value);
  }
  r.http.body = req.body;
  std::tie(r.service, r.region) = CredentialScope(r.http);

  std::optional<Fault> fault;
  std::string request_id;
  bool allowed_unsigned = false;
  {
    std::lock_guard<std::mutex> lock(mutex);
    Identify(r);
    allowed_unsigned =
        r.http.FindHeader("authorization") == nullptr && unsigned_operations.count({r.service, r.operation}) > 0;
    request_id = fmt::format("fake-{:08d}-0000-0000-0000-000000000000", ++request_counter);
  }

  auto answer = [&](FakeResponse response) {
    bool has_request_id = false;
    std::string content_type;
    for (const auto& [name, value] : response.headers) {
      if (IEquals(name, "content-type")) {
        content_type = value;
      } else if (IEquals(name, "content-length") || IEquals(name, "transfer-encoding") || IEquals(name, "connection")) {
        // cpp-httplib frames the body itself.
      } else {
        has_request_id |= IEquals(name, "x-amzn-requestid") || IEquals(name, "x-amz-request-id");
        res.set_header(name, value);
      }
    }
    if (!has_request_id) res.set_header(IsS3Style(r.service) ? "x-amz-request-id" : "x-amzn-RequestId", request_id);
    if (content_type.empty()) {
      switch (r.protocol) {
        case AwsProtocol::kJson:
          content_type = "application/x-amz-json-1.1";
          break;
        case AwsProtocol::kRestJson:
          content_type = "application/json";
          break;
        default:
          content_type = "text/xml";
          break;
      }
    }
    res.status = response.status;
    r.status = response.status;
    if (fault && fault->kind == FaultKind::kTruncatedBody) {
      // Promise more than we send, then give up: the connection closes.
      auto body = std::make_shared<std::string>(std::move(response.body));
      res.set_content_provider(body->size() + 100, content_type, [body](size_t, size_t, httplib::DataSink& sink) {
        if (!body->empty()) sink.write(body->data(), body->size());
        return false;
      });
    } else {
      res.set_content(response.body, content_type);
    }
  };
  auto answer_error = [&](int status, std::string_view code, std::string_view message) {
    r.aws_code = std::string(code);
    answer(ErrorResponse(r, status, code, message, request_id));
  };

  if (options.verify_signatures && !allowed_unsigned) {
    Status verified = aws::VerifySignedRequest(r.http, options.credentials, IsS3Style(r.service));
    if (!verified) {
      const Error& e = verified.error();
      answer_error(e.http_status > 0 ? e.http_status : 403, e.aws_code.empty() ? "SignatureDoesNotMatch" : e.aws_code,
                   e.message);
      Finish(std::move(r));
      return;
    }
  }

  {
    std::lock_guard<std::mutex> lock(mutex);
    fault = TakeFault({r.service, r.operation});
  }
  if (fault) r.fault = std::string(FaultKindName(fault->kind));

  auto normal_answer = [&]() -> FakeResponse {
    std::optional<FakeResponse> scripted;
    {
      std::lock_guard<std::mutex> lock(mutex);
      scripted = NextScripted(r);
    }
    if (scripted) return *scripted;
    r.aws_code = "FakeAwsNoResponse";
    return ErrorResponse(
        r, 400, "FakeAwsNoResponse",
        fmt::format("FakeAws has no scripted response for service \"{}\" operation \"{}\"", r.service, r.operation),
        request_id);
  };

  if (!fault) {
    answer(normal_answer());
    Finish(std::move(r));
    return;
  }
  const bool s3 = IsS3Style(r.service);
  switch (fault->kind) {
    case FaultKind::kThrottle: {
      static const std::map<AwsProtocol, std::pair<int, const char*>> kThrottles = {
          {AwsProtocol::kQuery, {400, "Throttling"}},
          {AwsProtocol::kEc2, {503, "RequestLimitExceeded"}},
          {AwsProtocol::kJson, {400, "ThrottlingException"}},
          {AwsProtocol::kRestJson, {429, "TooManyRequestsException"}},
          {AwsProtocol::kRestXml, {400, "Throttling"}},
      };
      auto [status, code] = kThrottles.at(r.protocol);
      if (s3) {
        status = 503;
        code = "SlowDown";
      }
      answer_error(status, fault->aws_code.empty() ? code : fault->aws_code, "Rate exceeded");
      break;
    }
    case FaultKind::kInternalError:
      answer_error(500,
                   !fault->aws_code.empty()                  ? fault->aws_code
                   : (s3 || r.protocol == AwsProtocol::kEc2) ? "InternalError"
                                                             : "InternalFailure",
                   "We encountered an internal error. Please try again.");
      break;
    case FaultKind::kServiceUnavailable:
      answer_error(503, fault->aws_code.empty() ? "ServiceUnavailable" : fault->aws_code,
                   "Service is unavailable. Please try again.");
      break;
    case FaultKind::kConnectionReset: {
      r.status = 0;
      // Recorded first: the client may look as soon as the socket closes.
      Finish(std::move(r));
      ShutdownServerSockets(req.local_port, req.remote_port);
      // Whatever cpp-httplib now tries to write fails on the closed socket.
      res.status = 500;
      return;
    }
    case FaultKind::kDelay: {
      // The answer is picked on arrival, so later calls get later responses.
      FakeResponse response = normal_answer();
      Sleep(fault->delay_ms);
      answer(std::move(response));
      break;
    }
    case FaultKind::kTruncatedBody:
      answer(normal_answer());
      break;
    case FaultKind::kMalformedBody: {
      FakeResponse response = normal_answer();
      response.body = kMalformedBody;
      answer(std::move(response));
      break;
    }
    case FaultKind::kWrongContentType: {
      FakeResponse response = normal_answer();
      response.headers = {{"Content-Type", "text/html"}};
      response.body = kHtmlPage;
      answer(std::move(response));
      break;
    }
  }
  Finish(std::move(r));
}

namespace {

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kIo, "cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status LoadRoutes(FakeAws& fake, const std::string& service, const std::filesystem::path& path) {
  CA_TRY(std::string text, ReadFile(path));
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  std::optional<AwsProtocol> protocol;
  struct Pending {
    std::string operation, method, regex;
    std::vector<std::string> keys;
    int line;
  };
  std::vector<Pending> pending;
  while (std::getline(lines, line)) {
    ++number;
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string word; words >> word;) fields.push_back(word);
    if (fields.empty()) continue;
    auto fail = [&](std::string message) {
      Error e;
      e.code = ErrorCode::kParse;
      e.message = std::move(message);
      e.file = path.string();
      e.line = number;
      return Fail(std::move(e));
    };
    if (fields[0] == "protocol") {
      if (fields.size() != 2 || !AwsProtocolFromName(fields[1])) {
        return fail("expected \"protocol query|ec2|json|rest-json|rest-xml\"");
      }
      protocol = AwsProtocolFromName(fields[1]);
      continue;
    }
    if (fields.size() < 3) return fail("expected \"<Operation> <METHOD> <path-regex> [<query-key>...]\"");
    try {
      std::regex check(fields[2]);
    } catch (const std::regex_error& e) {
      return fail("bad path regex \"" + fields[2] + "\": " + e.what());
    }
    pending.push_back({fields[0], fields[1], fields[2], {fields.begin() + 3, fields.end()}, number});
  }
  if (protocol) fake.SetProtocol(service, *protocol);
  for (Pending& p : pending) fake.AddRoute(service, p.operation, p.method, p.regex, std::move(p.keys), protocol);
  return {};
}

}  // namespace

Status LoadResponseDirectory(FakeAws& fake, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return MakeError(ErrorCode::kNotFound, "no response directory " + dir);
  std::vector<fs::path> services;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory()) services.push_back(entry.path());
  std::sort(services.begin(), services.end());
  for (const fs::path& service_dir : services) {
    const std::string service = service_dir.filename().string();
    // (operation, key values) -> (n -> response, file name); n = 0 for the
    // unnumbered file; no key values for the unkeyed answers.
    struct Numbered {
      std::map<int, FakeResponse> responses;
      std::string name;  // the first file's name, for ordering and messages
    };
    std::map<std::pair<std::string, std::vector<std::string>>, Numbered> answers;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(service_dir, ec)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& path : files) {
      const std::string name = path.filename().string();
      if (name == "routes") {
        CA_TRY_STATUS(LoadRoutes(fake, service, path));
        continue;
      }
      if (path.extension() != ".http") continue;
      // <Operation>[.<n>][@<value>...]
      std::string stem = path.stem().string();
      std::vector<std::string> values;
      if (size_t at = stem.find('@'); at != std::string::npos) {
        for (const std::string& raw : Split(std::string_view(stem).substr(at + 1), '@')) {
          if (raw.empty()) {
            return MakeError(ErrorCode::kInvalidArgument,
                             path.string() + ": empty key value (expected <Operation>@<value>[@<value>...].http)");
          }
          values.push_back(UriDecode(raw, false));
        }
        stem.resize(at);
      }
      int n = 0;
      if (size_t dot = stem.rfind('.'); dot != std::string::npos) {
        const std::string digits = stem.substr(dot + 1);
        if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit) || std::stoi(digits) < 1) {
          return MakeError(ErrorCode::kInvalidArgument,
                           path.string() +
                               ": expected <Operation>[.<n>][@<value>...].http with n >= 1 (a value's '/', '@' "
                               "and '%' written %2F, %40, %25)");
        }
        n = std::stoi(digits);
        stem.resize(dot);
      }
      CA_TRY(std::string raw, ReadFile(path));
      auto response = ParseRawHttpResponse(raw);
      if (!response) {
        Error e = response.error();
        e.file = path.string();
        return Fail(std::move(e));
      }
      Numbered& numbered = answers[{stem, values}];
      if (numbered.name.empty()) numbered.name = name;
      numbered.responses[n] = std::move(*response);
    }
    auto sequence_of = [&](const std::string& operation, Numbered& numbered) -> Result<std::vector<FakeResponse>> {
      std::vector<FakeResponse> sequence;
      if (numbered.responses.count(0) > 0) {
        if (numbered.responses.size() > 1) {
          return MakeError(ErrorCode::kInvalidArgument,
                           fmt::format("{}: both {} and numbered answers of the same call", service_dir.string(),
                                       numbered.name));
        }
        sequence.push_back(std::move(numbered.responses[0]));
        return sequence;
      }
      int expected = 1;
      for (auto& [n, response] : numbered.responses) {
        if (n != expected) {
          return MakeError(ErrorCode::kInvalidArgument,
                           fmt::format("{}: {}.{}.http is missing (numbered like {})", service_dir.string(), operation,
                                       expected, numbered.name));
        }
        ++expected;
        sequence.push_back(std::move(response));
      }
      return sequence;
    };
    // Keyed answers first, the most specific (most values) first, then by name.
    std::vector<std::pair<const std::pair<std::string, std::vector<std::string>>*, Numbered*>> keyed;
    for (auto& [key, numbered] : answers)
      if (!key.second.empty()) keyed.emplace_back(&key, &numbered);
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
      if (a.first->second.size() != b.first->second.size()) return a.first->second.size() > b.first->second.size();
      return a.second->name < b.second->name;
    });
    for (auto& [key, numbered] : keyed) {
      CA_TRY(auto sequence, sequence_of(key->first, *numbered));
      fake.AddResponses(service, key->first, HasParamValues(key->second), std::move(sequence));
    }
    for (auto& [key, numbered] : answers) {
      if (!key.second.empty()) continue;
      CA_TRY(auto sequence, sequence_of(key.first, numbered));
      fake.AddResponses(service, key.first, std::move(sequence));
    }
  }
  return {};
}

}  // namespace cloudaudit::testing
