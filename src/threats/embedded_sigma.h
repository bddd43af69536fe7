// The built-in Sigma rule pack (rules/sigma/**/*.yml, without rules/sigma/tests/)
// compiled into the binary by tools/embed_text.py.
#pragma once

#include <span>

namespace cloudaudit::threats {

struct EmbeddedSpec {
  const char* name;  // path under rules/, e.g. "sigma/aws/cloudtrail/root_console_login.yml"
  const char* text;
};

std::span<const EmbeddedSpec> EmbeddedSigmaRules();

}  // namespace cloudaudit::threats
