// AWS Signature Version 4 (header and presigned-query forms), including the
// S3 variant: no URI path normalization, no double-encoding of the path, and
// an X-Amz-Content-Sha256 header (the payload hash or UNSIGNED-PAYLOAD).
// Verified against the official AWS suite and aws-c-auth's suite in
// ../shared/testdata/sigv4.
//
// Thread-safe: the functions only edit the request they are given (and a
// per-thread cache of derived signing keys), so they can be called
// concurrently on different requests.
#pragma once

#include <cstdint>
#include <string>

#include "aws/auth/credentials.h"
#include "aws/http/transport.h"
#include "base/error.h"

namespace cloudaudit::aws {

struct SigningParams {
  std::string region;      // "us-east-1"
  std::string service;     // signing name, e.g. "iam", "s3", "execute-api"
  int64_t time_epoch = 0;  // signing time (UTC epoch seconds, years 1970..9999)
  // Remove "." / ".." segments and empty segments ("//") from the path before
  // signing, as botocore does. False for S3, where "a//b" is a distinct key.
  bool normalize_path = true;
  // URI-encode the (already encoded) request path once more. False for S3,
  // whose canonical URI is the request path exactly as sent.
  bool double_encode_path = true;
  // Header signing only: add X-Amz-Content-Sha256 (signed) with the payload
  // hash. S3 requires it; presigned URLs never carry it.
  bool add_content_sha256_header = false;
  bool unsigned_payload = false;   // hash "UNSIGNED-PAYLOAD" instead of the body
  bool sign_session_token = true;  // false: add X-Amz-Security-Token after signing
  int64_t expires_seconds = 0;     // presigning only (X-Amz-Expires), 1..604800
};

// The S3 variant (also right for "s3-outposts" and "s3-object-lambda"):
// service "s3", no path normalization or re-encoding, X-Amz-Content-Sha256
// added. The caller must have encoded the object key into request.path with
// UriEncode(key, /*keep_slash=*/true), since S3 signs the path as sent.
SigningParams S3SigningParams(std::string region, int64_t time_epoch);

// Intermediate products, for tests and debug logging. No secret key or
// derived key is in here, but when the session token is signed it appears in
// canonical_request (as the x-amz-security-token line, or the
// X-Amz-Security-Token query parameter when presigning): redact it before
// logging.
struct SigningProducts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // hex
};

// Signs `request` in place: adds (replacing any existing) X-Amz-Date,
// X-Amz-Security-Token (if the credentials have a token), X-Amz-Content-Sha256
// (if asked) and Authorization. The Host header is added from request.host
// when missing, without the port when it is the scheme's default (80 for
// http, 443 for https), as AWS SDKs send it.
//
// Every header of the request is signed except Authorization and the ones
// proxies and HTTP stacks may rewrite (User-Agent, Expect,
// Transfer-Encoding, X-Amzn-Trace-Id), as botocore does: add headers before
// signing and do not change them afterwards.
//
// Errors: kCredentials when the key id or secret is empty or the key id
// cannot be put in a credential scope; kInvalidArgument for an empty region or
// service, a time outside years 1970..9999, or neither request.host nor a
// Host header. On error the request is unchanged. Messages never contain
// secrets.
Result<SigningProducts> SignRequest(HttpRequest& request, const Credentials& credentials, const SigningParams& params);

// Query-string signing (presigned URL): appends X-Amz-Algorithm,
// -Credential, -Date, -SignedHeaders, -Expires, (-Security-Token) and
// -Signature to the query, in that order (as aws-c-auth does), and removes
// any Authorization header. The request must not already carry these
// parameters. The payload hash is the body's unless params.unsigned_payload
// (S3 presigned URLs use UNSIGNED-PAYLOAD); add_content_sha256_header is
// ignored. Errors as SignRequest, plus kInvalidArgument when expires_seconds
// is outside 1..604800 (AWS's 7-day limit).
Result<SigningProducts> PresignRequest(HttpRequest& request, const Credentials& credentials,
                                       const SigningParams& params);

// Recomputes the signature of a request signed with the Authorization header,
// for fake AWS endpoints in tests: region, service and time come from the
// request's credential scope and X-Amz-Date, the headers from SignedHeaders.
// `s3_style` selects the S3 variant (path signed as sent, and a signed
// X-Amz-Content-Sha256 header required). When the request carries
// X-Amz-Content-Sha256, its value is the payload hash and must match the
// body unless it is UNSIGNED-PAYLOAD. The session token must match
// credentials.session_token (absent when that is empty); it may be signed or
// not. Clock skew is not checked: the caller knows what "now" is.
//
// Returns success, or an error saying what is wrong, with aws_code and
// http_status set to what AWS would answer (MissingAuthenticationToken,
// IncompleteSignature, InvalidClientTokenId / InvalidAccessKeyId,
// SignatureDoesNotMatch, XAmzContentSHA256Mismatch). Missing or malformed
// input is kInvalidArgument, wrong credentials or signature kCredentials.
// Never echoes the signature, the token or the secret. Presigned
// (query-string) requests are not supported.
Status VerifySignedRequest(const HttpRequest& request, const Credentials& credentials, bool s3_style);

}  // namespace cloudaudit::aws
