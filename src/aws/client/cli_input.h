// Building an operation's parameters from command-line input:
// `--input JSON` (or `--input @file.json`) plus `--param Name=Value`
// pairs whose values are typed from the operation's input shape.
#pragma once

#include <string>
#include <vector>

#include "aws/model/model.h"
#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {

// `input` is JSON text, "@path" to read it from a file, or empty. Each
// `params` entry is "Name=Value": strings stay as written; integers, floats
// and booleans are converted; lists of scalars accept "a,b,c" or JSON;
// structures, maps and nested lists take JSON. --param wins over --input.
Result<Json> BuildCliParams(const Operation& op, const std::string& input, const std::vector<std::string>& params);

}  // namespace cloudaudit::aws
