#include "cli/common.h"

#include <iostream>

#include "aws/client/cli_output.h"

namespace cloudaudit::cli {

int ExitCodeFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kReadOnly: return kExitUsage;
    case ErrorCode::kCredentials: return kExitConfig;
    case ErrorCode::kAwsService:
    case ErrorCode::kNotConfigured: return kExitService;
    default: return e.file.empty() ? kExitOther : kExitConfig;
  }
}

int ReportError(const Error& e) {
  std::cerr << "\n" << aws::DescribeAwsError(e) << "\n";
  return ExitCodeFor(e);
}

}  // namespace cloudaudit::cli
