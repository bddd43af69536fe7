// AWS Signature Version 4 (header and presigned-query forms), including the
// S3 variant: no URI path normalization, no double-encoding of the path, and
// an X-Amz-Content-Sha256 header (the payload hash or UNSIGNED-PAYLOAD).
// Verified against the official AWS suite and aws-c-auth's suite in
// ../shared/testdata/sigv4.
#pragma once

#include <cstdint>
#include <string>

#include "aws/auth/credentials.h"
#include "aws/http/transport.h"
#include "base/error.h"

namespace cloudaudit::aws {

struct SigningParams {
  std::string region;                 // "us-east-1"
  std::string service;                // signing name, e.g. "iam", "s3", "execute-api"
  int64_t time_epoch = 0;             // signing time (UTC epoch seconds)
  bool normalize_path = true;         // false for S3
  bool double_encode_path = true;     // false for S3
  bool add_content_sha256_header = false;  // S3: add X-Amz-Content-Sha256
  bool unsigned_payload = false;      // hash "UNSIGNED-PAYLOAD" instead of the body
  bool sign_session_token = true;     // false: add X-Amz-Security-Token after signing
  int64_t expires_seconds = 0;        // presigning only (X-Amz-Expires)
};

// Intermediate products, exposed for tests and debug logging (no secrets).
struct SigningProducts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
};

// Signs `request` in place: adds X-Amz-Date, X-Amz-Security-Token (if any),
// X-Amz-Content-Sha256 (if asked) and Authorization. The Host header is added
// from request.host when missing.
Result<SigningProducts> SignRequest(HttpRequest& request, const Credentials& credentials,
                                    const SigningParams& params);

// Query-string signing (presigned URL): adds X-Amz-Algorithm, -Credential,
// -Date, -Expires, -SignedHeaders, (-Security-Token) and -Signature to the query.
Result<SigningProducts> PresignRequest(HttpRequest& request, const Credentials& credentials,
                                       const SigningParams& params);

// Recomputes the signature of a request signed with the Authorization header,
// for fake AWS endpoints in tests: region, service and time come from the
// request's credential scope and X-Amz-Date; `s3_style` selects the S3
// variant. Returns an error naming the mismatch, or success.
Status VerifySignedRequest(const HttpRequest& request, const Credentials& credentials, bool s3_style);

}  // namespace cloudaudit::aws
