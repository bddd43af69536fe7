#include "base/error.h"

#include <fmt/format.h>

namespace cloudaudit {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid-argument";
    case ErrorCode::kNotFound: return "not-found";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kNetwork: return "network";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kAwsService: return "aws-service";
    case ErrorCode::kNotConfigured: return "not-configured";
    case ErrorCode::kCredentials: return "credentials";
    case ErrorCode::kReadOnly: return "read-only";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string Error::ToString() const {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0) out += fmt::format(":{}", line);
    out += ": ";
  }
  out += message;
  std::string ctx;
  auto add = [&ctx](std::string_view part) {
    if (part.empty()) return;
    if (!ctx.empty()) ctx += ' ';
    ctx += part;
  };
  add(service);
  add(operation);
  add(region);
  std::string details;
  if (!aws_code.empty()) details += aws_code;
  if (http_status > 0) details += fmt::format("{}HTTP {}", details.empty() ? "" : ", ", http_status);
  if (!request_id.empty()) details += fmt::format("{}request id {}", details.empty() ? "" : ", ", request_id);
  if (!ctx.empty() || !details.empty()) {
    out += " (";
    out += ctx;
    if (!ctx.empty() && !details.empty()) out += ": ";
    out += details;
    out += ")";
  }
  return out;
}

}  // namespace cloudaudit
