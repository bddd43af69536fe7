// YAML -> JSON for the data files (resource specs, rules, the scan config):
// maps, lists, quoted scalars as strings, and true/false/null/integers/reals
// by their plain spelling.
#pragma once

#include <cstddef>

#include <yaml-cpp/node/node.h>

#include "base/json.h"

namespace cloudaudit::collect {

// Aliases share nodes in yaml-cpp, so a few lines of anchors can expand into
// billions of values ("billion laughs"). The conversion stops with a
// YAML::Exception at the offending node's line (callers already report those
// as file:line errors) past this many values or this depth.
inline constexpr size_t kYamlMaxValues = 1'000'000;
inline constexpr int kYamlMaxDepth = 200;

// `budget` is the number of values left for the whole document: pass the
// same counter (starting at kYamlMaxValues) to every conversion of one file.
Json YamlToJson(const YAML::Node& node, size_t* budget);

}  // namespace cloudaudit::collect
