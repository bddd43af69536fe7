// FakeAws: an in-process AWS endpoint for end-to-end tests of the client.
//
// A cpp-httplib server on 127.0.0.1:<ephemeral port>, in background threads,
// that speaks AWS's wire formats:
//   - checks the SigV4 signature of every request (VerifySignedRequest with
//     the configured test credentials; S3 style for s3/s3control) and answers
//     403 SignatureDoesNotMatch / InvalidClientTokenId ... in the protocol's
//     error format when it is wrong;
//   - identifies the call: service (and region) from the Authorization
//     credential scope; operation from X-Amz-Target (json), the Action form
//     field (query, ec2) or a registered (method, path regex, query keys)
//     route (rest-json, rest-xml);
//   - answers with scripted responses per (service, operation): the n-th
//     call gets the n-th response, the last one repeats; scripts may be
//     selected by a predicate on the request, e.g. a pagination token, or
//     keyed by request parameter values (HasParamValues: the answer for one
//     bucket, user or ARN, whatever order concurrent callers come in);
//   - records every request (method, path, query, headers, body, and what it
//     answered);
//   - injects faults per (service, operation) or globally: throttling, 500,
//     503, connection dropped without an answer, delay, truncated body,
//     malformed body, HTML instead of the protocol's body.
//
//   FakeAws fake;
//   ASSERT_TRUE(fake.Start());
//   fake.AddResponses("iam", "ListUsers", {{200, {}, "<ListUsersResponse>...</ListUsersResponse>"}});
//   fake.InjectFault("iam", "ListUsers", {.kind = FaultKind::kThrottle, .times = 2});
//   ... point the client at fake.endpoint(), with FakeAws::TestCredentials() ...
//   EXPECT_EQ(fake.RequestCount("iam", "ListUsers"), 3);
//
// Thread-safe: configure and inspect it from the test while clients call it
// from any number of threads. Destroy (or Stop) it after the clients: a
// delayed answer is cut short by Stop.
//
// A client that reuses connections may resend a request once by itself when
// a reused connection closes before any byte of the answer (libcurl does), so
// a kConnectionReset fault can be seen twice for one client attempt.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/auth/credentials.h"
#include "aws/http/transport.h"
#include "base/error.h"

namespace cloudaudit::testing {

enum class AwsProtocol { kQuery, kEc2, kJson, kRestJson, kRestXml };
std::string_view AwsProtocolName(AwsProtocol protocol);  // "query", "ec2", "json", "rest-json", "rest-xml"
std::optional<AwsProtocol> AwsProtocolFromName(std::string_view name);

struct FakeResponse {
  int status = 200;
  aws::HttpHeaders headers;  // Content-Type defaults to the protocol's; Content-Length is computed
  std::string body;
};

// Parses a raw HTTP response as tests/conformance stores them: status line,
// "Name: value" header lines, a blank line, then the body (every byte after
// the blank line; LF or CRLF line ends).
Result<FakeResponse> ParseRawHttpResponse(std::string_view raw);

// A request as the fake received it, and what it answered.
struct ReceivedRequest {
  aws::HttpRequest http;  // scheme "http"; host from the Host header; path and query raw, as sent
  std::string service;    // from the credential scope ("" when unsigned and not registered)
  std::string region;     // from the credential scope
  std::string operation;  // "" when not identified
  AwsProtocol protocol = AwsProtocol::kRestJson;
  int status = 0;        // status answered; 0 when the connection was dropped
  std::string aws_code;  // the error code answered, if any
  std::string fault;     // the injected fault ("throttle", "delay"...), "" for none

  // A request parameter wherever the protocol puts it: the query string,
  // the form body (query, ec2) or a top-level member of a JSON body (other
  // than strings dumped as JSON). nullopt when absent.
  std::optional<std::string> Param(std::string_view name) const;
  // Every parameter value of the request wherever the protocol puts it: the
  // values of the query string and of a form body, the string, number and
  // boolean leaves of a JSON body (at any depth), and the URI-decoded
  // segments of the path (where REST services put bucket names, function
  // names, ARNs...).
  std::vector<std::string> ParamValues() const;
};

using RequestPredicate = std::function<bool(const ReceivedRequest&)>;
// For multi-page listings: the parameter has this value / is absent.
RequestPredicate ParamEquals(std::string name, std::string value);
RequestPredicate ParamAbsent(std::string name);
// Keyed answers: every one of `values` is among the request's ParamValues()
// ({"my-bucket"} for S3 GET /my-bucket?policy, {"alice"} for iam
// ListAccessKeys UserName=alice, {"arn:...", "API_GATEWAY"} for two).
RequestPredicate HasParamValues(std::vector<std::string> values);

enum class FaultKind {
  kThrottle,            // the protocol's throttling error: query Throttling 400, ec2 RequestLimitExceeded 503,
                        // json ThrottlingException 400, rest-json TooManyRequestsException 429, s3 SlowDown 503
  kInternalError,       // 500 InternalError (s3, ec2) / InternalFailure
  kServiceUnavailable,  // 503 ServiceUnavailable
  kConnectionReset,     // close the connection without answering
  kDelay,               // answer normally after delay_ms (cut short by Stop)
  kTruncatedBody,       // the normal answer, but Content-Length larger than the bytes sent, then close
  kMalformedBody,       // the normal status and headers with a body that is neither JSON nor XML
  kWrongContentType,    // the normal status with an HTML page (Content-Type: text/html) as body
};
std::string_view FaultKindName(FaultKind kind);

struct Fault {
  static constexpr int kAlways = -1;
  FaultKind kind = FaultKind::kThrottle;
  int times = 1;         // the next `times` matching requests get it; kAlways: every one
  int64_t delay_ms = 0;  // kDelay
  std::string aws_code;  // kThrottle / kInternalError / kServiceUnavailable: another error code
};

class FakeAws {
 public:
  struct Options {
    aws::Credentials credentials = TestCredentials();
    bool verify_signatures = true;
    // Called from a server thread for each request once its answer is
    // decided, before it is sent (for logging). Must not call back into the fake.
    std::function<void(const ReceivedRequest&)> on_request;
    // Server threads. Each open (keep-alive) connection holds one, so this
    // bounds the client connections served at once: keep it above the
    // clients' concurrency, or requests queue in the fake.
    int threads = 64;
  };
  // AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, the AWS docs' keys.
  static aws::Credentials TestCredentials();

  FakeAws();
  explicit FakeAws(Options options);
  ~FakeAws();  // Stop()
  FakeAws(const FakeAws&) = delete;
  FakeAws& operator=(const FakeAws&) = delete;

  // Listens on 127.0.0.1:`port` (0: an ephemeral port) and serves from
  // background threads. kIo when it cannot bind; kInvalidArgument when
  // already started (a stopped fake cannot be restarted).
  Status Start(int port = 0);
  // Ends delays, stops serving and joins the threads. Idempotent.
  void Stop();
  int port() const;
  std::string host() const;      // "127.0.0.1:PORT"
  std::string endpoint() const;  // "http://127.0.0.1:PORT"

  // --- Identifying calls ---------------------------------------------------
  // A rest-json / rest-xml operation: `method` and the raw path (full match
  // of `path_regex`), with every one of `query_keys` present in the query
  // (S3: GET /bucket?policy is GetBucketPolicy). When several routes match,
  // the one with most query keys wins, then the first registered. protocol
  // nullopt: the service's (SetProtocol, else rest-xml for s3, s3control,
  // route53, cloudfront and rest-json for the rest).
  void AddRoute(std::string service, std::string operation, std::string method, std::string path_regex,
                std::vector<std::string> query_keys = {}, std::optional<AwsProtocol> protocol = std::nullopt);
  // Error format for requests of `service` no route identifies.
  void SetProtocol(std::string service, AwsProtocol protocol);
  // Accepts the operation without a signature (sts AssumeRoleWithWebIdentity,
  // sso GetRoleCredentials); an unsigned request is attributed to `service`.
  void AllowUnsigned(std::string service, std::string operation);

  // --- Scripted responses --------------------------------------------------
  // The n-th matching call gets responses[n-1]; the last one repeats.
  // Scripts with a predicate are tried first, in registration order; then
  // the one without (registering it again replaces it). A call nothing
  // answers gets 400 FakeAwsNoResponse.
  void AddResponses(std::string service, std::string operation, std::vector<FakeResponse> responses);
  void AddResponses(std::string service, std::string operation, RequestPredicate when,
                    std::vector<FakeResponse> responses);

  // --- Faults ---------------------------------------------------------------
  // Queued per (service, operation), applied in order, each to its next
  // `times` requests; global faults apply first, to every call. A faulted
  // request does not consume a scripted response, unless the fault answers
  // normally (kDelay, kTruncatedBody, kMalformedBody, kWrongContentType).
  void InjectFault(std::string service, std::string operation, Fault fault);
  void InjectGlobalFault(Fault fault);
  void ClearFaults();

  // --- Observations ---------------------------------------------------------
  std::vector<ReceivedRequest> Requests() const;
  std::vector<ReceivedRequest> Requests(std::string_view service, std::string_view operation) const;
  int RequestCount() const;
  int RequestCount(std::string_view service, std::string_view operation) const;
  void ClearRequests();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads scripted responses and routes from a directory (the format of
// cloudaudit-fake-aws --responses):
//   DIR/<service>/<Operation>.http      the answer to every call
//   DIR/<service>/<Operation>.<n>.http  the answer to the n-th call (n = 1, 2, ...; the last repeats)
//   DIR/<service>/<Operation>@<value>[@<value>...].http
//                                       keyed: the answer to the calls having every <value> among
//                                       their ParamValues() (GetBucketPolicy@my-bucket.http), whatever
//                                       the order of the calls. In a value, '/', '@' and '%' are
//                                       written %2F, %40 and %25 (any %XX is decoded). Keyed answers
//                                       are tried before unkeyed ones, those with more values first,
//                                       then in file name order; <Operation>.<n>@<value>.http is the
//                                       n-th call with that key.
//   DIR/<service>/routes                rest-json / rest-xml operations, one per line:
//                                         <Operation> <METHOD> <path-regex> [<query-key>...]
//                                       plus optionally "protocol <name>"; '#' starts a comment
// .http files are ParseRawHttpResponse's format. Errors name the file.
Status LoadResponseDirectory(FakeAws& fake, const std::string& dir);

}  // namespace cloudaudit::testing
