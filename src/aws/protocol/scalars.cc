// Scalar conversions shared by the parsers.
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "aws/protocol/protocol_internal.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::aws::internal {

namespace {

// Python's int()/float() accept surrounding whitespace and '_' between digits.
std::string NumberText(const std::string& text) {
  std::string out;
  std::string_view t = Trim(text);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      continue;
    }
    out += t[i];
  }
  return out;
}

}  // namespace

Result<Json> RenderTimestamp(const Json& wire) {
  if (wire.is_number()) {
    CA_TRY(Timestamp ts, TimestampFromEpochChecked(wire.get<double>()));
    return Json(FormatIsoPython(ts));
  }
  if (wire.is_string()) {
    CA_TRY(Timestamp ts, ParseTimestamp(wire.get<std::string>()));
    return Json(FormatIsoPython(ts));
  }
  return MakeError(ErrorCode::kParse, "timestamp is neither a string nor a number");
}

Result<Json> ParseTextScalar(const Shape& shape, const std::string& text) {
  switch (shape.type) {
    case ShapeType::kBoolean: return Json(text == "true");
    case ShapeType::kInteger:
    case ShapeType::kLong: {
      std::string t = NumberText(text);
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(t.c_str(), &end, 10);
      if (t.empty() || *end != '\0' || errno == ERANGE)
        return MakeError(ErrorCode::kParse, fmt::format("invalid integer \"{}\" for {}", text.substr(0, 40), shape.name));
      return Json(static_cast<int64_t>(v));
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble: {
      std::string t = NumberText(text);
      char* end = nullptr;
      double v = std::strtod(t.c_str(), &end);
      bool hex = t.find_first_of("xX") != std::string::npos;
      if (t.empty() || *end != '\0' || hex)
        return MakeError(ErrorCode::kParse, fmt::format("invalid number \"{}\" for {}", text.substr(0, 40), shape.name));
      return Json(v);
    }
    case ShapeType::kTimestamp: return RenderTimestamp(Json(text));
    default: return Json(text);  // strings, and blobs left base64 as the AWS CLI does
  }
}

}  // namespace cloudaudit::aws::internal
