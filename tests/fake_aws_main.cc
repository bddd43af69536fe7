// cloudaudit-fake-aws: a fake AWS endpoint on 127.0.0.1 serving recorded
// responses, for the README demo and manual testing without an AWS account.
//
//   cloudaudit-fake-aws --port 8080 --responses DIR [--access-key ID --secret-key S] [--latency-ms N]
//
// prints "listening on http://127.0.0.1:PORT" once it accepts connections,
// logs one line per request to stderr, and runs until SIGINT or SIGTERM.
// Requests must be SigV4-signed with the given keys (default: the AWS docs'
// AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY); any region works.
//
// DIR layout (see LoadResponseDirectory in testing/fake_aws.h):
//   DIR/<service>/<Operation>.http      the answer to every call, e.g. DIR/iam/ListUsers.http
//   DIR/<service>/<Operation>.<n>.http  the answer to the n-th call (1, 2, ...; the last repeats)
//   DIR/<service>/<Operation>@<value>.http
//                                       the answer to calls with that parameter value (a bucket,
//                                       user name, ARN... anywhere in the request), whatever the
//                                       order of the calls; '/' '@' '%' in values as %2F %40 %25
//   DIR/<service>/routes                for rest-json / rest-xml services, one operation per line:
//                                         <Operation> <METHOD> <path-regex> [<query-key>...]
//                                       e.g. "GetBucketPolicy GET /[^/]+ policy"; "protocol rest-xml"
//                                       sets the service's error format; '#' starts a comment
// Each .http file is a raw HTTP response: a status line ("HTTP/1.1 200 OK"),
// "Name: value" header lines, a blank line, then the body byte for byte
// (LF or CRLF line ends) — the format of tests/conformance/*/responses.
// Services are botocore names (s3, not s3api); json and query operations
// need no routes: X-Amz-Target and Action= name them.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "testing/fake_aws.h"

int main(int argc, char** argv) {
  using cloudaudit::testing::FakeAws;
  CLI::App app{"Fake AWS endpoint on 127.0.0.1 serving recorded responses"};
  int port = 0;
  std::string responses;
  std::string access_key;
  std::string secret_key;
  int latency_ms = 0;
  app.add_option("--port", port, "Port on 127.0.0.1 (0: any free port)")->check(CLI::Range(0, 65535));
  app.add_option("--latency-ms", latency_ms, "Delay every answer by this many milliseconds")
      ->check(CLI::Range(0, 600'000));
  app.add_option("--responses", responses, "Directory of recorded responses")
      ->required()
      ->check(CLI::ExistingDirectory);
  auto* access_key_option = app.add_option("--access-key", access_key, "Access key id requests must be signed with");
  auto* secret_key_option = app.add_option("--secret-key", secret_key, "Secret key requests must be signed with");
  access_key_option->needs(secret_key_option);
  secret_key_option->needs(access_key_option);
  CLI11_PARSE(app, argc, argv);

  // Blocked before the server threads exist, so they inherit the mask and
  // only sigwait() below sees the signals.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  FakeAws::Options options;
  if (!access_key.empty()) {
    options.credentials.access_key_id = access_key;
    options.credentials.secret_access_key = secret_key;
  }
  options.on_request = [](const cloudaudit::testing::ReceivedRequest& r) {
    // "POST / iam ListUsers -> 200", "GET /b s3 ? -> 400 FakeAwsNoResponse"
    std::string line = r.http.method + " " + r.http.path + " " + (r.service.empty() ? "?" : r.service) + " " +
                       (r.operation.empty() ? "?" : r.operation) + " -> " + std::to_string(r.status);
    if (!r.aws_code.empty()) line += " " + r.aws_code;
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  FakeAws fake(std::move(options));
  if (auto loaded = cloudaudit::testing::LoadResponseDirectory(fake, responses); !loaded) {
    std::fprintf(stderr, "cloudaudit-fake-aws: %s\n", loaded.error().ToString().c_str());
    return 1;
  }
  if (latency_ms > 0) {
    fake.InjectGlobalFault({.kind = cloudaudit::testing::FaultKind::kDelay,
                            .times = cloudaudit::testing::Fault::kAlways,
                            .delay_ms = latency_ms});
  }
  if (auto started = fake.Start(port); !started) {
    std::fprintf(stderr, "cloudaudit-fake-aws: %s\n", started.error().ToString().c_str());
    return 1;
  }
  std::printf("listening on %s\n", fake.endpoint().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fake.Stop();
  return 0;
}
