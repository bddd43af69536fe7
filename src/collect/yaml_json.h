// YAML -> JSON for the data files (resource specs, rules): maps, lists,
// quoted scalars as strings, and true/false/null/integers/reals by their
// plain spelling.
#pragma once

#include <yaml-cpp/node/node.h>

#include "base/json.h"

namespace cloudaudit::collect {

Json YamlToJson(const YAML::Node& node);

}  // namespace cloudaudit::collect
