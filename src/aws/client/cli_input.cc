#include "aws/client/cli_input.h"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

Result<Json> TypedValue(const ShapeRef& ref, const std::string& name, const std::string& text) {
  const Shape& shape = *ref.shape;
  auto bad = [&](const char* what) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("--param {}: \"{}\" is not {} ({} is a {})", name, text, what, name, ShapeTypeName(shape.type)));
  };
  switch (shape.type) {
    case ShapeType::kString:
    case ShapeType::kTimestamp:
    case ShapeType::kBlob: return Json(text);
    case ShapeType::kBoolean:
      if (text == "true") return Json(true);
      if (text == "false") return Json(false);
      return bad("true or false");
    case ShapeType::kInteger:
    case ShapeType::kLong: {
      char* end = nullptr;
      errno = 0;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE) return bad("an integer");
      return Json(static_cast<int64_t>(v));
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble: {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0') return bad("a number");
      return Json(v);
    }
    case ShapeType::kList: {
      if (!text.empty() && text.front() == '[') {
        auto parsed = ParseJson(text);
        if (!parsed) return MakeError(ErrorCode::kInvalidArgument, fmt::format("--param {}: {}", name, parsed.error().message));
        return parsed;
      }
      const Shape& member = *shape.member.shape;
      if (member.type == ShapeType::kStructure || member.type == ShapeType::kMap || member.type == ShapeType::kList)
        return bad("a JSON list");
      Json out = Json::array();
      for (const auto& part : Split(text, ',')) {
        CA_TRY(Json v, TypedValue(shape.member, name, part));
        out.push_back(std::move(v));
      }
      return out;
    }
    case ShapeType::kStructure:
    case ShapeType::kMap: {
      auto parsed = ParseJson(text);
      if (!parsed || !parsed->is_object()) return bad("a JSON object");
      return parsed;
    }
  }
  return bad("valid");
}

}  // namespace

Result<Json> BuildCliParams(const Operation& op, const std::string& input, const std::vector<std::string>& params) {
  Json out = Json::object();
  if (!input.empty()) {
    std::string text = input;
    if (input.front() == '@') {
      std::ifstream file(input.substr(1), std::ios::binary);
      if (!file) return MakeError(ErrorCode::kInvalidArgument, fmt::format("--input: cannot read {}", input.substr(1)));
      std::ostringstream ss;
      ss << file.rdbuf();
      text = ss.str();
    }
    auto parsed = ParseJson(text);
    if (!parsed) return MakeError(ErrorCode::kInvalidArgument, "--input: " + parsed.error().message);
    if (!parsed->is_object()) return MakeError(ErrorCode::kInvalidArgument, "--input: expected a JSON object");
    out = std::move(*parsed);
  }
  for (const auto& p : params) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return MakeError(ErrorCode::kInvalidArgument, fmt::format("--param \"{}\": expected Name=Value", p));
    std::string name = p.substr(0, eq);
    const Member* m = op.input != nullptr ? op.input->FindMember(name) : nullptr;
    if (m == nullptr) {
      std::string valid;
      if (op.input != nullptr)
        for (const auto& mm : op.input->members) valid += (valid.empty() ? "" : ", ") + mm.name;
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("--param {}: {} has no such parameter{}{}", name, op.name,
                                   valid.empty() ? "" : "; valid: ", valid));
    }
    CA_TRY(Json v, TypedValue(m->ref, name, p.substr(eq + 1)));
    out[name] = std::move(v);
  }
  return out;
}

}  // namespace cloudaudit::aws
