// libFuzzer harness for SigV4 verification (VerifySignedRequest, which
// parses the Authorization header and X-Amz-Date) and, in round-trip mode,
// for the signer: whatever request the input describes, a request signed by
// SignRequest must verify, and signing it again must give the same
// signature. In memory only.
//
// Input: [flags byte] then an HTTP request as text, like the AWS test suite's
// .sreq files (so they are seeds as they are):
//   METHOD TARGET [HTTP/1.1]\n      TARGET = path[?query]
//   Name:value\n ...                continuation lines start with space/tab
//   \n
//   body
// flags: bit 0 S3 variant; bit 1 the expected credentials carry a session
// token; bit 2 round-trip mode (sign, then verify); in round-trip mode bit 3
// adds the token after signing instead of signing it, bit 4 signs
// UNSIGNED-PAYLOAD (S3 only), bits 5-6 pick the signing time.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "aws/auth/sigv4.h"
#include "fuzz_support.h"

namespace {

using cloudaudit::ErrorCode;
using cloudaudit::aws::Credentials;
using cloudaudit::aws::HttpRequest;

// The AWS test suite's credentials (../shared/testdata/sigv4), so its signed
// requests verify. Both secrets contain '/', which no echo path of the
// verifier's messages can carry.
constexpr std::string_view kAccessKeyId = "AKIDEXAMPLE";
constexpr std::string_view kSecretAccessKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kSessionToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUu"
    "wthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQ"
    "cHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/"
    "oLxBA==";
// 1970-01-01, the suite's 20150830T123600Z, 2000-02-29 (leap day), 9999-12-31T23:59:59Z.
constexpr int64_t kSigningTimes[] = {0, 1440938160, 951782400, 253402300799};

void ParseRequest(std::string_view text, HttpRequest* request) {
  request->host = "example.amazonaws.com";
  request->path = "/";
  size_t pos = text.find('\n');
  std::string_view line = text.substr(0, pos);
  text = pos == std::string_view::npos ? std::string_view() : text.substr(pos + 1);

  const size_t space = line.find(' ');
  request->method = std::string(line.substr(0, space));
  if (space != std::string_view::npos) {
    std::string_view target = line.substr(space + 1);
    const size_t version = target.rfind(" HTTP/");
    if (version != std::string_view::npos) target = target.substr(0, version);
    const size_t question = target.find('?');
    request->path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) request->query = std::string(target.substr(question + 1));
  }

  while (!text.empty()) {
    pos = text.find('\n');
    line = text.substr(0, pos);
    text = pos == std::string_view::npos ? std::string_view() : text.substr(pos + 1);
    if (line.empty()) break;
    if ((line.front() == ' ' || line.front() == '\t') && !request->headers.empty()) {
      request->headers.back().second.append("\n").append(line);
      continue;
    }
    const size_t colon = line.find(':');
    request->headers.emplace_back(std::string(line.substr(0, colon)),
                                  colon == std::string_view::npos ? std::string() : std::string(line.substr(colon + 1)));
  }
  request->body = std::string(text);
}

bool IsTokenName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Headers whose presence legitimately changes the verdict (the verifier's
// own inputs), or whose names SigV4 cannot list: left out of round trips.
bool KeepForRoundTrip(const std::string& name) {
  if (!IsTokenName(name)) return false;
  for (std::string_view reserved : {"authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"}) {
    if (cloudaudit::IEquals(name, reserved)) return false;
  }
  return true;
}

void CheckVerifyError(const cloudaudit::Error& error) {
  FUZZ_CHECK(error.code == ErrorCode::kInvalidArgument || error.code == ErrorCode::kCredentials,
             "VerifySignedRequest fails with kInvalidArgument or kCredentials");
  FUZZ_CHECK(error.http_status == 400 || error.http_status == 403, "VerifySignedRequest errors are 400 or 403");
  FUZZ_CHECK(!error.aws_code.empty(), "VerifySignedRequest errors carry an AWS error code");
  const std::string text = error.ToString();
  FUZZ_CHECK(text.find(kSecretAccessKey) == std::string::npos, "the secret key never appears in errors");
  FUZZ_CHECK(text.find(kSessionToken) == std::string::npos, "the session token never appears in errors");
}

void RoundTrip(HttpRequest request, const Credentials& credentials, uint8_t flags) {
  const bool s3 = (flags & 1) != 0;
  std::erase_if(request.headers, [](const auto& h) { return !KeepForRoundTrip(h.first); });
  const int64_t time = kSigningTimes[(flags >> 5) & 3];
  cloudaudit::aws::SigningParams params;
  if (s3) {
    params = cloudaudit::aws::S3SigningParams("us-east-1", time);
    params.unsigned_payload = (flags & 16) != 0;
  } else {
    params.region = "us-east-1";
    params.service = "service";
    params.time_epoch = time;
  }
  params.sign_session_token = (flags & 8) == 0;

  auto signed_once = cloudaudit::aws::SignRequest(request, credentials, params);
  if (!signed_once) std::fprintf(stderr, "SignRequest: %s\n", signed_once.error().ToString().c_str());
  FUZZ_CHECK(signed_once.has_value(), "SignRequest succeeds for a request with a host and valid credentials");

  auto verified = cloudaudit::aws::VerifySignedRequest(request, credentials, s3);
  if (!verified) {
    std::fprintf(stderr, "VerifySignedRequest: %s\ncanonical request (escaped):\n%s\n",
                 verified.error().ToString().c_str(), cloudaudit::DumpPythonJson(signed_once->canonical_request).c_str());
  }
  FUZZ_CHECK(verified.has_value(), "a request signed by SignRequest verifies");

  const std::string first = *request.FindHeader("authorization");
  auto signed_twice = cloudaudit::aws::SignRequest(request, credentials, params);
  FUZZ_CHECK(signed_twice.has_value(), "re-signing succeeds");
  FUZZ_CHECK(*request.FindHeader("authorization") == first, "signing is idempotent");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  HttpRequest request;
  ParseRequest(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), &request);

  Credentials credentials;
  credentials.access_key_id = std::string(kAccessKeyId);
  credentials.secret_access_key = std::string(kSecretAccessKey);
  if ((flags & 2) != 0) credentials.session_token = std::string(kSessionToken);

  if ((flags & 4) != 0) {
    RoundTrip(std::move(request), credentials, flags);
    return 0;
  }
  auto verified = cloudaudit::aws::VerifySignedRequest(request, credentials, (flags & 1) != 0);
  if (!verified) CheckVerifyError(verified.error());
  return 0;
}
