// POSIX shell-like word splitting exactly as Python's shlex.split(s) (posix
// mode, no comments), which botocore uses for credential_process commands and
// for "[profile name]" section headers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace cloudaudit::aws {

// Splits on spaces, tabs, CR and LF; '...' is literal, "..." honours \" and \\,
// a backslash outside quotes escapes the next character. An unterminated
// quote or a trailing backslash is a kParse error (shlex's ValueError).
Result<std::vector<std::string>> ShellSplit(std::string_view text);

}  // namespace cloudaudit::aws
