// The resource specs (resources/aws/*.yaml) compiled into the binary.
#pragma once

#include <span>

namespace cloudaudit::collect {

struct EmbeddedSpec {
  const char* name;  // file name, e.g. "iam.yaml"
  const char* text;
};

std::span<const EmbeddedSpec> EmbeddedSpecs();

}  // namespace cloudaudit::collect
