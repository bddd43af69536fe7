// JSON responses (json, rest-json) to boto3-shaped JSON, as botocore's
// BaseJSONParser: structures keep only modeled members, renamed from their
// wire names and in model order; timestamps are rendered; everything else is
// passed through with its JSON type.
#include <fmt/format.h>

#include "aws/protocol/protocol_internal.h"

namespace cloudaudit::aws::internal {

namespace {

constexpr int kMaxDepth = 200;

Result<Json> Parse(const ShapeRef& ref, const Json& value, int depth);

Result<Json> ParseStructure(const Shape& shape, const Json& value, int depth) {
  if (shape.document) return value;
  if (value.is_null()) return Json();
  if (!value.is_object())
    return MakeError(ErrorCode::kParse, fmt::format("expected a JSON object for {}", shape.name));
  Json out = Json::object();
  if (shape.is_union && !value.empty()) {
    const std::string& tag = value.begin().key();
    if (shape.FindMember(tag) == nullptr) {
      out["SDK_UNKNOWN_MEMBER"] = Json{{"name", tag}};
      return out;
    }
  }
  for (const auto& m : shape.members) {
    const std::string& wire = m.ref.location_name.empty() ? m.name : m.ref.location_name;
    auto it = value.find(wire);
    if (it == value.end() || it->is_null()) continue;
    CA_TRY(Json v, Parse(m.ref, *it, depth + 1));
    out[m.name] = std::move(v);
  }
  return out;
}

Result<Json> Parse(const ShapeRef& ref, const Json& value, int depth) {
  if (depth > kMaxDepth) return MakeError(ErrorCode::kParse, "JSON nested too deeply");
  const Shape& shape = *ref.shape;
  switch (shape.type) {
    case ShapeType::kStructure: return ParseStructure(shape, value, depth);
    case ShapeType::kList: {
      if (value.is_null()) return Json();
      if (!value.is_array()) return MakeError(ErrorCode::kParse, fmt::format("expected a JSON list for {}", shape.name));
      Json out = Json::array();
      for (const auto& item : value) {
        CA_TRY(Json v, Parse(shape.member, item, depth + 1));
        out.push_back(std::move(v));
      }
      return out;
    }
    case ShapeType::kMap: {
      if (value.is_null()) return Json();
      if (!value.is_object()) return MakeError(ErrorCode::kParse, fmt::format("expected a JSON map for {}", shape.name));
      Json out = Json::object();
      for (auto it = value.begin(); it != value.end(); ++it) {
        CA_TRY(Json v, Parse(shape.value, it.value(), depth + 1));
        out[it.key()] = std::move(v);
      }
      return out;
    }
    case ShapeType::kTimestamp:
      if (value.is_null()) return Json();
      return RenderTimestamp(value);
    default: return value;
  }
}

}  // namespace

Result<Json> ParseJsonValue(const ShapeRef& ref, const Json& value) { return Parse(ref, value, 0); }

Result<Json> ParseJsonBody(const Shape* shape, std::string_view body) {
  if (shape == nullptr) return Json::object();
  Json doc = Json::object();
  if (!body.empty()) {
    // Unlike botocore (which turns an unparseable 2xx body into {"message": body}
    // and so prints {}), a garbled success response is an error: a scanner
    // must not mistake garbage for "no resources".
    CA_TRY(doc, ParseJson(body));
  }
  ShapeRef ref;
  ref.shape = shape;
  return Parse(ref, doc, 0);
}

}  // namespace cloudaudit::aws::internal
