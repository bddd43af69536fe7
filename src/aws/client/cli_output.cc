#include "aws/client/cli_output.h"

#include <fmt/format.h>

namespace cloudaudit::aws {

std::string FormatLikeAwsCli(const Json& result) {
  if (result.is_object() && result.empty()) return {};
  return DumpPythonJson(result) + "\n";
}

std::string DescribeAwsError(const Error& error) {
  if (error.aws_code.empty()) return error.ToString();
  std::string out = fmt::format("An error occurred ({}) when calling the {} operation: {}", error.aws_code,
                                error.operation, error.message);
  std::string details;
  if (!error.region.empty()) details += "region " + error.region;
  if (error.http_status > 0) details += fmt::format("{}HTTP {}", details.empty() ? "" : ", ", error.http_status);
  if (!error.request_id.empty()) details += fmt::format("{}request id {}", details.empty() ? "" : ", ", error.request_id);
  if (!details.empty()) out += " (" + details + ")";
  return out;
}

}  // namespace cloudaudit::aws
