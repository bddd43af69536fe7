// The five AWS wire protocols (query, ec2, json, rest-json, rest-xml),
// driven entirely by the service model: parameters (boto3-shaped JSON) to an
// HTTP request, and HTTP responses back to boto3-shaped JSON — the exact
// document the AWS CLI prints with `--output json`, without
// ResponseMetadata. No per-operation code.
#pragma once

#include <optional>

#include "aws/http/transport.h"
#include "aws/model/model.h"
#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {

// Checks `params` against the operation's input shape the way botocore's
// ParamValidator does: required members, unknown members (with the valid
// names), types, enum-free ranges (min length/value). All problems at once.
Status ValidateInput(const Operation& op, const Json& params);

// Fills method, path, query, headers and body of `request` (scheme and host
// are the caller's; request->path may hold a base path that the operation's
// URI is appended to).
Status SerializeRequest(const ServiceModel& model, const Operation& op, const Json& params, HttpRequest* request);

// Parses a 2xx response into the output document. Malformed bodies are
// kParse errors, never crashes.
Result<Json> ParseResponse(const ServiceModel& model, const Operation& op, const HttpResponse& response);

// Turns a non-2xx response into an Error (kAwsService with aws_code, message,
// request id and HTTP status; kNotConfigured for "no such configuration"
// codes such as NoSuchBucketPolicy). Never fails: garbage becomes a generic
// error naming the HTTP status.
Error ParseErrorResponse(const ServiceModel& model, const Operation& op, const HttpResponse& response);

// The request id AWS put in the response headers (x-amzn-RequestId, or S3's
// x-amz-request-id), or "".
std::string RequestIdOf(const HttpResponse& response);

// True for AWS error codes meaning "this optional configuration does not
// exist" (NoSuchBucketPolicy, ServerSideEncryptionConfigurationNotFoundError,
// iam GetAccountPasswordPolicy's NoSuchEntity...): such answers are facts
// ("not configured"), not failures.
bool IsNotConfiguredCode(std::string_view service, std::string_view operation, std::string_view aws_code);

// botocore's ResponseMetadata (RequestId, HostId, HTTPStatusCode,
// HTTPHeaders, RetryAttempts) when the protocol produces one. The AWS CLI
// drops it from output unless the result has a top-level "Errors" key.
std::optional<Json> ResponseMetadata(const ServiceModel& model, const HttpResponse& response, int retry_attempts);

// botocore asks S3 for url-encoded keys in ListObjects* when the caller did
// not choose an encoding, then decodes them; this is the decoding half.
void DecodeS3ListObjectsKeys(const Operation& op, Json& out);

}  // namespace cloudaudit::aws
