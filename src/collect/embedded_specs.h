// The resource specs (resources/aws/*.yaml) and the managed policies data
// (resources/managed_policies.yaml) compiled into the binary.
#pragma once

#include <span>

namespace cloudaudit::collect {

struct EmbeddedSpec {
  const char* name;  // file name, e.g. "iam.yaml"
  const char* text;
};

std::span<const EmbeddedSpec> EmbeddedSpecs();
// resources/managed_policies.yaml (one entry).
std::span<const EmbeddedSpec> EmbeddedManagedPolicies();

}  // namespace cloudaudit::collect
