#include "aws/http/curl_transport.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>


namespace cloudaudit::aws {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// cpp-httplib listens with a backlog of 5, compiled into Debian's shared
// library: eight simultaneous connects overflow it, and the dropped SYNs are
// retried only after a second. listen() again on the bound socket raises it.
class Server : public httplib::Server {
 public:
  void RaiseBacklog() { ::listen(svr_sock_, 128); }
};

// A cpp-httplib server on 127.0.0.1:<ephemeral> in a background thread.
// Handlers that must block wait on Sleep(), which Stop() interrupts so the
// server can join its workers promptly.
class TestServer {
 public:
  TestServer() {
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.set_keep_alive_timeout(1);
    server_.set_keep_alive_max_count(100);
    // Otherwise Nagle holds the body back behind the headers until the
    // client's delayed ACK: 40 ms per request.
    server_.set_tcp_nodelay(true);
  }
  ~TestServer() { Stop(); }

  httplib::Server& server() { return server_; }

  void Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    server_.RaiseBacklog();
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the listen loop runs is lost and the join never returns.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }

  // Waits `ms` or until Stop().
  void Sleep(int ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stopping_; });
  }

  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

HttpOptions ShortTimeouts() {
  HttpOptions options;
  options.connect_timeout_ms = 1000;
  options.read_timeout_ms = 2000;
  return options;
}

class CurlTransportTest : public ::testing::Test {
 protected:
  HttpRequest Request(std::string method, std::string path) {
    HttpRequest request;
    request.method = std::move(method);
    request.scheme = "http";
    request.host = server_.host();
    request.path = std::move(path);
    return request;
  }

  // Declared before the transport so it is destroyed after it: the
  // transport's idle keep-alive connections close first and the server's
  // workers exit at once.
  TestServer server_;
  CurlTransport transport_{CurlTransportOptions{.environment = EnvironmentVariables{}}};
};

TEST_F(CurlTransportTest, GetRoundTripWithHeadersAndQuery) {
  httplib::Headers seen;
  std::string seen_target;
  server_.server().Get("/echo", [&](const httplib::Request& req, httplib::Response& res) {
    seen = req.headers;
    seen_target = req.target;
    res.set_header("X-Amzn-RequestId", "req-1");
    res.set_header("X-Mixed-Case", "  padded value ");
    res.set_header("x-amz-meta-Owner", "alice");
    res.set_content("hello", "text/plain");
  });
  server_.Start();

  HttpRequest request = Request("GET", "/echo");
  request.query = "Action=ListUsers&Version=2010-05-08";
  request.SetHeader("X-Amz-Date", "20150830T123600Z");
  auto response = transport_.Send(request, ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  ASSERT_NE(response->FindHeader("x-amzn-requestid"), nullptr);
  EXPECT_EQ(*response->FindHeader("x-amzn-requestid"), "req-1");
  EXPECT_EQ(*response->FindHeader("x-mixed-case"), "padded value");
  // Names keep the case the server sent, as botocore keeps them (S3 user
  // metadata "x-amz-meta-Owner" is the key "Owner"); lookups ignore case.
  EXPECT_EQ(*response->FindHeader("X-MIXED-CASE"), "padded value");
  auto has_header = [&](const std::string& name, const std::string& value) {
    return std::find(response->headers.begin(), response->headers.end(), std::make_pair(name, value)) !=
           response->headers.end();
  };
  EXPECT_TRUE(has_header("X-Amzn-RequestId", "req-1"));
  EXPECT_TRUE(has_header("X-Mixed-Case", "padded value"));
  EXPECT_TRUE(has_header("x-amz-meta-Owner", "alice"));
  EXPECT_TRUE(has_header("Content-Type", "text/plain"));

  EXPECT_EQ(seen_target, "/echo?Action=ListUsers&Version=2010-05-08");
  EXPECT_EQ(seen.find("X-Amz-Date")->second, "20150830T123600Z");
  // Nothing we did not ask for: gzip would break byte-exact bodies.
  EXPECT_EQ(seen.count("Accept-Encoding"), 0u);
  EXPECT_EQ(seen.count("Accept"), 0u);
  EXPECT_EQ(seen.count("Expect"), 0u);
}

TEST_F(CurlTransportTest, PostSendsBodyExactlyWithoutExpectContinue) {
  std::string seen_body, seen_type, seen_length;
  bool saw_expect = true;
  server_.server().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    seen_body = req.body;
    seen_type = req.get_header_value("Content-Type");
    seen_length = req.get_header_value("Content-Length");
    saw_expect = req.has_header("Expect");
    res.status = 201;
    res.set_content(req.body, "application/octet-stream");
  });
  server_.Start();

  HttpRequest request = Request("POST", "/");
  // Large enough that curl would normally ask for 100-continue, and with
  // bytes that must survive untouched.
  request.body = std::string(2 << 20, 'x');
  request.body[5] = '\0';
  request.body[6] = '\xff';
  request.SetHeader("Content-Type", "application/x-amz-json-1.1");
  auto started = std::chrono::steady_clock::now();
  auto response = transport_.Send(request, ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(900));
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, request.body);
  EXPECT_EQ(seen_body, request.body);
  EXPECT_EQ(seen_type, "application/x-amz-json-1.1");
  EXPECT_EQ(seen_length, std::to_string(request.body.size()));
  EXPECT_FALSE(saw_expect);
}

TEST_F(CurlTransportTest, EmptyPostHasZeroLengthAndNoDefaultContentType) {
  httplib::Headers seen;
  server_.server().Post("/", [&](const httplib::Request& req, httplib::Response& res) {
    seen = req.headers;
    res.set_content("", "text/plain");
  });
  server_.Start();
  auto response = transport_.Send(Request("POST", "/"), ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(seen.find("Content-Length")->second, "0");
  EXPECT_EQ(seen.count("Content-Type"), 0u);
}

TEST_F(CurlTransportTest, HeadReturnsHeadersWithoutBody) {
  server_.server().Get("/object", [&](const httplib::Request&, httplib::Response& res) {
    res.set_header("ETag", "\"abc\"");
    res.set_content("twelve bytes", "text/plain");
  });
  server_.Start();
  HttpOptions options = ShortTimeouts();
  options.max_response_bytes = 4;  // Content-Length of a HEAD is not a body
  auto response = transport_.Send(Request("HEAD", "/object"), options);
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_THAT(response->body, IsEmpty());
  EXPECT_EQ(*response->FindHeader("content-length"), "12");
  EXPECT_EQ(*response->FindHeader("etag"), "\"abc\"");
}

TEST_F(CurlTransportTest, PutAndDeleteUseTheirMethods) {
  std::string put_body, delete_method;
  server_.server().Put("/k", [&](const httplib::Request& req, httplib::Response& res) {
    put_body = req.body;
    res.status = 200;
  });
  server_.server().Delete("/k", [&](const httplib::Request& req, httplib::Response& res) {
    delete_method = req.method;
    res.status = 204;
  });
  server_.Start();
  HttpRequest put = Request("PUT", "/k");
  put.body = "data";
  auto put_response = transport_.Send(put, ShortTimeouts());
  ASSERT_TRUE(put_response) << put_response.error().ToString();
  EXPECT_EQ(put_body, "data");
  auto delete_response = transport_.Send(Request("DELETE", "/k"), ShortTimeouts());
  ASSERT_TRUE(delete_response) << delete_response.error().ToString();
  EXPECT_EQ(delete_response->status, 204);
  EXPECT_EQ(delete_method, "DELETE");
}

TEST_F(CurlTransportTest, ErrorStatusesAreResponsesNotErrors) {
  server_.server().Get("/", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 503;
    res.set_content("<Error><Code>SlowDown</Code></Error>", "application/xml");
  });
  server_.Start();
  auto response = transport_.Send(Request("GET", "/"), ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->status, 503);
  EXPECT_THAT(response->body, HasSubstr("SlowDown"));
}

TEST_F(CurlTransportTest, PathIsSentAsIs) {
  std::string seen_target;
  server_.server().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    seen_target = req.target;
    res.status = 200;
  });
  server_.Start();
  // An S3 key like "a/../b" is signed verbatim; curl must not squash it.
  auto response = transport_.Send(Request("GET", "/bucket/a/../b/./c%20d"), ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(seen_target, "/bucket/a/../b/./c%20d");
}

TEST_F(CurlTransportTest, KeepAliveReusesTheConnection) {
  std::mutex mutex;
  std::set<int> client_ports;
  server_.server().Get("/", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mutex);
    client_ports.insert(req.remote_port);
    res.set_content("ok", "text/plain");
  });
  server_.Start();
  for (int i = 0; i < 5; ++i) {
    auto response = transport_.Send(Request("GET", "/"), ShortTimeouts());
    ASSERT_TRUE(response) << response.error().ToString();
  }
  EXPECT_EQ(client_ports.size(), 1u) << "each request opened a new connection";
}

TEST_F(CurlTransportTest, SlowResponseIsATimeout) {
  server_.server().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    server_.Sleep(5000);
    res.set_content("late", "text/plain");
  });
  server_.Start();
  HttpOptions options;
  options.connect_timeout_ms = 200;
  options.read_timeout_ms = 200;
  auto started = std::chrono::steady_clock::now();
  auto response = transport_.Send(Request("GET", "/slow"), options);
  auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().ToString();
  EXPECT_THAT(response.error().message, HasSubstr("/slow"));
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500));
}

TEST_F(CurlTransportTest, SlowBodyIsATimeout) {
  server_.server().Get("/trickle", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&](size_t offset, httplib::DataSink& sink) {
      if (offset > 0) server_.Sleep(5000);
      sink.write("x", 1);
      return true;
    });
  });
  server_.Start();
  HttpOptions options;
  options.connect_timeout_ms = 200;
  options.read_timeout_ms = 200;
  auto response = transport_.Send(Request("GET", "/trickle"), options);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().ToString();
}

// A port that refuses connections: bound (so nobody else takes it) but not
// listening.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~RefusingPort() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(CurlTransport, ConnectionRefusedIsANetworkError) {
  RefusingPort refusing;
  CurlTransport transport(CurlTransportOptions{.environment = EnvironmentVariables{}});
  HttpRequest request;
  request.scheme = "http";
  request.host = "127.0.0.1:" + std::to_string(refusing.port());
  request.query = "X-Amz-Signature=secret";
  auto response = transport.Send(request, ShortTimeouts());
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork);
  EXPECT_THAT(response.error().message, HasSubstr(request.host));
  // The query may hold presigned credentials; messages never show it.
  EXPECT_THAT(response.error().message, Not(HasSubstr("secret")));
}

// A listener whose accept queue is full and never drained: further SYNs are
// dropped, so a connect hangs, all without leaving the loopback interface.
class BlackHolePort {
 public:
  BlackHolePort() {
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listener_, 0);
    socklen_t len = sizeof addr;
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    for (int i = 0; i < 4; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(fd);
    }
  }
  ~BlackHolePort() {
    for (int fd : fillers_) close(fd);
    close(listener_);
  }
  int port() const { return port_; }

 private:
  int listener_ = -1;
  std::vector<int> fillers_;
  int port_ = 0;
};

TEST(CurlTransport, ConnectTimeoutIsATimeout) {
  BlackHolePort black_hole;
  CurlTransport transport(CurlTransportOptions{.environment = EnvironmentVariables{}});
  HttpRequest request;
  request.scheme = "http";
  request.host = "127.0.0.1:" + std::to_string(black_hole.port());
  HttpOptions options;
  options.connect_timeout_ms = 200;
  options.read_timeout_ms = 5000;
  auto started = std::chrono::steady_clock::now();
  auto response = transport.Send(request, options);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kTimeout) << response.error().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(1500));
}

TEST(CurlTransport, UnsupportedSchemeIsInvalidArgument) {
  CurlTransport transport(CurlTransportOptions{.environment = EnvironmentVariables{}});
  HttpRequest request;
  request.scheme = "ftp";
  request.host = "127.0.0.1:1";
  auto response = transport.Send(request, ShortTimeouts());
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << response.error().ToString();
}

TEST_F(CurlTransportTest, UsesTheConfiguredCaBundle) {
  server_.server().Get("/", [&](const httplib::Request&, httplib::Response& res) { res.status = 200; });
  server_.Start();
  // No TLS server here: an unreadable bundle must fail before any handshake,
  // which shows the option reaches libcurl.
  HttpRequest request = Request("GET", "/");
  request.scheme = "https";
  HttpOptions options = ShortTimeouts();
  options.ca_bundle = "/nonexistent/cloudaudit-ca-bundle.pem";
  auto response = transport_.Send(request, options);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork);
  EXPECT_THAT(response.error().message, HasSubstr("/nonexistent/cloudaudit-ca-bundle.pem"));
}

TEST_F(CurlTransportTest, ConnectionResetMidBodyIsANetworkError) {
  server_.server().Get("/partial", [&](const httplib::Request&, httplib::Response& res) {
    // Announces 1000 bytes, sends 100, then the server drops the connection.
    res.set_content_provider(1000, "text/plain", [](size_t, size_t, httplib::DataSink& sink) {
      sink.write(std::string(100, 'a').data(), 100);
      return false;
    });
  });
  server_.Start();
  auto response = transport_.Send(Request("GET", "/partial"), ShortTimeouts());
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kNetwork) << response.error().ToString();
}

TEST_F(CurlTransportTest, OversizedBodyWithLengthIsRefused) {
  server_.server().Get("/big", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(2 << 20, 'b'), "text/plain");
  });
  server_.Start();
  HttpOptions options = ShortTimeouts();
  options.max_response_bytes = 1 << 20;
  auto response = transport_.Send(Request("GET", "/big"), options);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kParse) << response.error().ToString();
  EXPECT_THAT(response.error().message, HasSubstr("1048576"));
}

TEST_F(CurlTransportTest, OversizedChunkedBodyIsRefused) {
  std::atomic<size_t> sent{0};
  server_.server().Get("/endless", [&](const httplib::Request&, httplib::Response& res) {
    // No Content-Length: only counting received bytes can stop this one.
    res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
      std::string chunk(64 << 10, 'c');
      sent += chunk.size();
      return sent < (64u << 20) && sink.write(chunk.data(), chunk.size());
    });
  });
  server_.Start();
  HttpOptions options = ShortTimeouts();
  options.max_response_bytes = 1 << 20;
  auto response = transport_.Send(Request("GET", "/endless"), options);
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code, ErrorCode::kParse) << response.error().ToString();
  EXPECT_LT(sent.load(), 64u << 20);
}

TEST_F(CurlTransportTest, ConcurrentRequestsFromEightThreads) {
  server_.server().Post(
      "/echo", [&](const httplib::Request& req, httplib::Response& res) { res.set_content(req.body, "text/plain"); });
  server_.Start();
  constexpr int kThreads = 8, kRequestsPerThread = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequestsPerThread; ++i) {
        HttpRequest request = Request("POST", "/echo");
        request.body = "thread " + std::to_string(t) + " request " + std::to_string(i);
        auto response = transport_.Send(request, ShortTimeouts());
        if (response && response->status == 200 && response->body == request.body) {
          ++ok;
        } else {
          ADD_FAILURE() << (response ? "status " + std::to_string(response->status) : response.error().ToString());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), kThreads * kRequestsPerThread);
}

TEST(ProxyForUrl, FollowsTheAwsCliRules) {
  // Upper-case HTTP_PROXY counts for http URLs (libcurl would ignore it).
  EXPECT_EQ(ProxyForUrl("http", "a.example", {{"HTTP_PROXY", "http://p:1"}}), "http://p:1");
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"HTTPS_PROXY", "http://p:1"}}), "http://p:1");
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"https_proxy", "http://p:1"}}), "http://p:1");
  // Scheme-specific: an http proxy is not used for https and vice versa.
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"HTTP_PROXY", "http://p:1"}}), "");
  EXPECT_EQ(ProxyForUrl("http", "a.example", {{"HTTPS_PROXY", "http://p:1"}}), "");
  // ALL_PROXY is not honoured by the AWS CLI.
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"ALL_PROXY", "http://p:1"}}), "");
  // Lower case wins, whatever the order; an empty lower-case value disables.
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"https_proxy", "http://low:1"}, {"HTTPS_PROXY", "http://up:1"}}),
            "http://low:1");
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"HTTPS_PROXY", "http://up:1"}, {"https_proxy", ""}}), "");
  // Under CGI a non-lower-case HTTP_PROXY may come from a request header.
  EXPECT_EQ(ProxyForUrl("http", "a.example", {{"REQUEST_METHOD", "GET"}, {"HTTP_PROXY", "http://p:1"}}), "");
  EXPECT_EQ(ProxyForUrl("http", "a.example", {{"REQUEST_METHOD", "GET"}, {"http_proxy", "http://p:1"}}), "http://p:1");
  // Scheme-less values get http://, as botocore does.
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"HTTPS_PROXY", "proxy.corp:3128"}}), "http://proxy.corp:3128");
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"HTTPS_PROXY", "//proxy.corp:3128"}}), "http://proxy.corp:3128");
  EXPECT_EQ(ProxyForUrl("https", "a.example", {{"HTTPS_PROXY", "https://u:p@proxy:443"}}), "https://u:p@proxy:443");
}

TEST(ProxyForUrl, NoProxyMatchesDnsSuffixes) {
  const std::pair<std::string, std::string> proxy{"HTTPS_PROXY", "http://p:1"};
  auto with_no_proxy = [&](std::string value) { return EnvironmentVariables{proxy, {"NO_PROXY", std::move(value)}}; };
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com", with_no_proxy("*")), "");
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com", with_no_proxy("amazonaws.com")), "");
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com", with_no_proxy(".amazonaws.com")), "");
  EXPECT_EQ(ProxyForUrl("https", "S3.AmazonAWS.com", with_no_proxy("other.com, AMAZONAWS.COM")), "");
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com:443", with_no_proxy("amazonaws.com")), "");
  EXPECT_EQ(ProxyForUrl("http", "127.0.0.1:8080", {{"http_proxy", "p:1"}, {"no_proxy", "127.0.0.1:8080"}}), "");
  // Suffixes match whole labels only, and "*" is special only on its own.
  EXPECT_EQ(ProxyForUrl("https", "notamazonaws.com", with_no_proxy("amazonaws.com")), "http://p:1");
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com", with_no_proxy("*.amazonaws.com")), "http://p:1");
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com", with_no_proxy("")), "http://p:1");
  EXPECT_EQ(ProxyForUrl("https", "s3.amazonaws.com", {proxy, {"no_proxy", "s3.amazonaws.com"}}), "");
}

TEST_F(CurlTransportTest, UsesUpperCaseHttpProxyFromTheEnvironment) {
  std::string seen_target;
  server_.server().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    seen_target = req.target;
    res.set_content("via proxy", "text/plain");
  });
  server_.Start();
  // The test server plays the proxy; the target host is never resolved.
  CurlTransport transport(
      CurlTransportOptions{.environment = EnvironmentVariables{{"HTTP_PROXY", "http://" + server_.host()}}});
  HttpRequest request;
  request.scheme = "http";
  request.host = "iam.amazonaws.invalid";
  request.path = "/p";
  auto response = transport.Send(request, ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->body, "via proxy");
  EXPECT_EQ(seen_target, "http://iam.amazonaws.invalid/p");
}

TEST_F(CurlTransportTest, NoProxyBypassesTheProxy) {
  server_.server().Get(
      "/", [&](const httplib::Request&, httplib::Response& res) { res.set_content("direct", "text/plain"); });
  server_.Start();
  RefusingPort dead_proxy;
  CurlTransport transport(CurlTransportOptions{
      .environment = EnvironmentVariables{{"http_proxy", "http://127.0.0.1:" + std::to_string(dead_proxy.port())},
                                          {"NO_PROXY", "localhost,127.0.0.1"}}});
  auto response = transport.Send(Request("GET", "/"), ShortTimeouts());
  ASSERT_TRUE(response) << response.error().ToString();
  EXPECT_EQ(response->body, "direct");
}

}  // namespace
}  // namespace cloudaudit::aws
