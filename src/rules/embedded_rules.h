// The built-in rules and framework files (rules/**/*.yaml) compiled into the binary.
#pragma once

#include <span>

namespace cloudaudit::rules {

struct EmbeddedSpec {
  const char* name;  // path under rules/, e.g. "aws/iam/root_account_mfa_disabled.yaml"
  const char* text;
};

std::span<const EmbeddedSpec> EmbeddedRules();

}  // namespace cloudaudit::rules
