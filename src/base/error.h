// The one error model of cloudaudit: every fallible function returns
// Result<T> = tl::expected<T, Error>. An Error has a stable machine code, a
// human message and optional context (AWS service/operation/region/request id,
// or file:line for data files). Errors never carry secrets: callers must not
// put credentials, tokens or signatures into messages.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace cloudaudit {

enum class ErrorCode {
  kInvalidArgument,  // bad user input (flags, parameters, files)
  kNotFound,         // unknown service, operation, profile, file
  kParse,            // malformed data (JSON, XML, INI, model)
  kIo,               // local file or process I/O
  kNetwork,          // connection refused/reset, DNS, TLS
  kTimeout,          // connect or read timeout
  kAwsService,       // AWS answered with an error (see aws_code)
  kNotConfigured,    // AWS "no such configuration" (e.g. NoSuchBucketPolicy)
  kCredentials,      // no credentials, or a provider failed
  kReadOnly,         // a non-read-only operation was refused
  kUnsupported,      // feature not supported
  kInternal,         // programmer error surfaced as a value
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // AWS context, filled where known.
  std::string aws_code;    // e.g. "AccessDenied", "Throttling"
  std::string request_id;  // x-amzn-RequestId / RequestId
  int http_status = 0;
  std::string service;
  std::string operation;
  std::string region;
  // Data-file context (rule files, config files): where the problem is.
  std::string file;
  int line = 0;

  // One line for people: "[file:line: ]message (service Operation region: code, HTTP n, request id r)".
  std::string ToString() const;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  return tl::unexpected<Error>(std::move(e));
}

inline tl::unexpected<Error> Fail(Error e) { return tl::unexpected<Error>(std::move(e)); }

// A malformed data file (spec, rule, config...): kParse with where it is.
inline Error DataFileError(std::string file, int line, std::string message) {
  Error e;
  e.code = ErrorCode::kParse;
  e.file = std::move(file);
  e.line = line;
  e.message = std::move(message);
  return e;
}

}  // namespace cloudaudit

// Early return on error: CA_TRY(auto x, Expr()); or CA_TRY_STATUS(Expr()).
#define CA_CONCAT_INNER(a, b) a##b
#define CA_CONCAT(a, b) CA_CONCAT_INNER(a, b)
#define CA_TRY_IMPL(tmp, decl, expr)                                      \
  auto tmp = (expr);                                                      \
  if (!tmp) return ::tl::unexpected<::cloudaudit::Error>(std::move(tmp).error()); \
  decl = std::move(*tmp)
#define CA_TRY(decl, expr) CA_TRY_IMPL(CA_CONCAT(ca_try_, __LINE__), decl, expr)
#define CA_TRY_STATUS(expr)                                                         \
  do {                                                                              \
    auto ca_status_ = (expr);                                                       \
    if (!ca_status_) return ::tl::unexpected<::cloudaudit::Error>(std::move(ca_status_).error()); \
  } while (0)
