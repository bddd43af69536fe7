// JSON value type used for AWS request parameters and boto3-shaped responses.
// ordered_json keeps members in insertion order, which is how boto3 (and so
// the AWS CLI) orders keys: model member order, then response order for maps.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace cloudaudit {

using Json = nlohmann::ordered_json;

// Parses JSON text; errors carry the byte offset. Never throws.
Result<Json> ParseJson(std::string_view text);

// Serializes exactly like Python's json.dumps(value, indent=4,
// ensure_ascii=False) — the AWS CLI's `--output json` — without a trailing
// newline. indent < 0 gives the compact form json.dumps(value) uses
// (", " and ": " separators).
std::string DumpPythonJson(const Json& value, int indent = 4);

// Python repr() of a float: shortest round-trip digits, exponent when the
// decimal exponent is < -4 or >= 16, "Infinity"/"NaN" as json.dumps writes.
std::string PythonFloatRepr(double value);

}  // namespace cloudaudit
