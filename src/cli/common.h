// What every command shares: exit codes and error reporting.
//
// Exit codes (the AWS CLI's, so scripts can treat both alike):
//   0    success
//   1    the command ran and found what it was asked to report (failed
//        fixtures in `rules test`)
//   252  bad command line or parameters
//   253  configuration or credentials problem (also malformed rule files)
//   254  AWS returned an error (access denied, not found, throttled...)
//   255  anything else (network, malformed response, internal)
#pragma once

#include "base/error.h"

namespace cloudaudit::cli {

inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 252;
inline constexpr int kExitConfig = 253;
inline constexpr int kExitService = 254;
inline constexpr int kExitOther = 255;

int ExitCodeFor(const Error& e);
// Prints the error for people (stderr) and returns its exit code.
int ReportError(const Error& e);

}  // namespace cloudaudit::cli
