// Running a credential_process command and asking the user for an MFA code:
// the two places where credential loading touches processes and terminals.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "base/error.h"

namespace cloudaudit::aws {

struct ProcessOutput {
  int exit_code = 0;     // valid when !killed_by_signal
  int signal = 0;        // valid when killed_by_signal
  bool killed_by_signal = false;
  std::string stdout_data;
  std::string stderr_data;
};

// Runs argv[0] (looked up in PATH like execvp) with the given arguments, the
// process environment and the caller's stdin, and collects stdout and stderr.
// Thread-safe (posix_spawn; all our descriptors are close-on-exec). kIo when
// the program cannot be started or writes more than `max_output_bytes` to
// either stream (it is then killed). There is no timeout, as in botocore:
// credential processes may legitimately wait for the user (e.g. an MFA touch).
Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv, size_t max_output_bytes = 1 << 20);

// Writes `prompt` to the controlling terminal and reads one line with echo
// off (Python's getpass.getpass). kCredentials when there is no terminal.
Result<std::string> PromptOnTerminal(const std::string& prompt);

}  // namespace cloudaudit::aws
