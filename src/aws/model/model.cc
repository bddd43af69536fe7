#include "aws/model/model.h"

#include <algorithm>
#include <mutex>

#include <fmt/format.h>
#include <zlib.h>

#include "aws/model/embedded_models.h"
#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

std::string StringOr(const Json& obj, const char* key, std::string fallback = {}) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_string()) return it->get<std::string>();
  return fallback;
}

bool BoolOr(const Json& obj, const char* key, bool fallback = false) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_boolean()) return it->get<bool>();
  return fallback;
}

Result<ShapeType> ParseShapeType(const std::string& type) {
  static const std::pair<const char*, ShapeType> kTypes[] = {
      {"structure", ShapeType::kStructure}, {"list", ShapeType::kList},       {"map", ShapeType::kMap},
      {"string", ShapeType::kString},       {"integer", ShapeType::kInteger}, {"long", ShapeType::kLong},
      {"float", ShapeType::kFloat},         {"double", ShapeType::kDouble},   {"boolean", ShapeType::kBoolean},
      {"timestamp", ShapeType::kTimestamp}, {"blob", ShapeType::kBlob},       {"character", ShapeType::kString},
      {"bigdecimal", ShapeType::kDouble},   {"biginteger", ShapeType::kLong},
  };
  for (const auto& [name, t] : kTypes)
    if (type == name) return t;
  return MakeError(ErrorCode::kParse, fmt::format("unknown shape type \"{}\"", type));
}

}  // namespace

std::string_view ShapeTypeName(ShapeType type) {
  switch (type) {
    case ShapeType::kStructure: return "structure";
    case ShapeType::kList: return "list";
    case ShapeType::kMap: return "map";
    case ShapeType::kString: return "string";
    case ShapeType::kInteger: return "integer";
    case ShapeType::kLong: return "long";
    case ShapeType::kFloat: return "float";
    case ShapeType::kDouble: return "double";
    case ShapeType::kBoolean: return "boolean";
    case ShapeType::kTimestamp: return "timestamp";
    case ShapeType::kBlob: return "blob";
  }
  return "unknown";
}

const Member* Shape::FindMember(std::string_view member_name) const {
  for (const auto& m : members)
    if (m.name == member_name) return &m;
  return nullptr;
}

Result<std::shared_ptr<const ServiceModel>> ServiceModel::Compile(std::string service_name, const Json& model,
                                                                  const Json& paginators) {
  auto out = std::make_shared<ServiceModel>();
  out->name_ = std::move(service_name);
  auto fail = [&](std::string msg) {
    return MakeError(ErrorCode::kParse, fmt::format("model {}: {}", out->name_, msg));
  };
  if (!model.is_object() || !model.contains("metadata") || !model.contains("shapes") ||
      !model.contains("operations")) {
    return fail("missing metadata, shapes or operations");
  }
  const Json& meta = model["metadata"];
  ServiceMetadata& md = out->metadata_;
  md.protocol = StringOr(meta, "protocol");
  md.api_version = StringOr(meta, "apiVersion");
  md.endpoint_prefix = StringOr(meta, "endpointPrefix");
  md.signing_name = StringOr(meta, "signingName", md.endpoint_prefix);
  md.service_id = StringOr(meta, "serviceId");
  md.service_full_name = StringOr(meta, "serviceFullName");
  md.json_version = StringOr(meta, "jsonVersion");
  md.target_prefix = StringOr(meta, "targetPrefix");
  md.global_endpoint = StringOr(meta, "globalEndpoint");
  md.signature_version = StringOr(meta, "signatureVersion");
  md.xml_namespace = StringOr(meta, "xmlNamespace");

  // Pass 1: create every shape so references can point anywhere.
  for (auto it = model["shapes"].begin(); it != model["shapes"].end(); ++it) {
    auto shape = std::make_unique<Shape>();
    shape->name = it.key();
    out->shapes_[it.key()] = std::move(shape);
  }
  auto resolve_ref = [&](const Json& ref, ShapeRef* dst) -> Status {
    std::string target = StringOr(ref, "shape");
    auto found = out->shapes_.find(target);
    if (found == out->shapes_.end()) return fail(fmt::format("reference to unknown shape \"{}\"", target));
    const Shape* shape = found->second.get();
    const Json& shape_json = model["shapes"][target];
    dst->shape = shape;
    dst->location = StringOr(ref, "location");
    dst->location_name = StringOr(ref, "locationName", StringOr(shape_json, "locationName"));
    dst->query_name = StringOr(ref, "queryName");
    dst->flattened = BoolOr(ref, "flattened", BoolOr(shape_json, "flattened"));
    dst->xml_attribute = BoolOr(ref, "xmlAttribute");
    const Json* ns = nullptr;
    if (ref.contains("xmlNamespace")) ns = &ref["xmlNamespace"];
    else if (shape_json.contains("xmlNamespace")) ns = &shape_json["xmlNamespace"];
    if (ns != nullptr && ns->is_object()) {
      dst->xml_namespace_uri = StringOr(*ns, "uri");
      dst->xml_namespace_prefix = StringOr(*ns, "prefix");
    }
    dst->timestamp_format = StringOr(ref, "timestampFormat", StringOr(shape_json, "timestampFormat"));
    dst->json_value = BoolOr(ref, "jsonvalue");
    dst->host_label = BoolOr(ref, "hostLabel");
    dst->idempotency_token = BoolOr(ref, "idempotencyToken");
    dst->event_payload = BoolOr(ref, "eventpayload");
    return {};
  };

  // Pass 2: fill shapes.
  for (auto it = model["shapes"].begin(); it != model["shapes"].end(); ++it) {
    const Json& sj = it.value();
    Shape& shape = *out->shapes_[it.key()];
    auto type = ParseShapeType(StringOr(sj, "type"));
    if (!type) return fail(fmt::format("shape {}: {}", it.key(), type.error().message));
    shape.type = *type;
    shape.payload = StringOr(sj, "payload");
    shape.exception = BoolOr(sj, "exception");
    shape.is_union = BoolOr(sj, "union");
    shape.document = BoolOr(sj, "document");
    shape.flattened = BoolOr(sj, "flattened");
    shape.timestamp_format = StringOr(sj, "timestampFormat");
    shape.sensitive = BoolOr(sj, "sensitive");
    shape.location_name = StringOr(sj, "locationName");
    shape.event_stream = BoolOr(sj, "eventstream");
    shape.pattern = StringOr(sj, "pattern");
    if (sj.contains("xmlNamespace") && sj["xmlNamespace"].is_object())
      shape.xml_namespace_uri = StringOr(sj["xmlNamespace"], "uri");
    if (sj.contains("min") && sj["min"].is_number()) shape.min = sj["min"].get<double>();
    if (sj.contains("max") && sj["max"].is_number()) shape.max = sj["max"].get<double>();
    if (sj.contains("enum") && sj["enum"].is_array())
      for (const auto& e : sj["enum"])
        if (e.is_string()) shape.enum_values.push_back(e.get<std::string>());
    if (sj.contains("required") && sj["required"].is_array())
      for (const auto& r : sj["required"])
        if (r.is_string()) shape.required.push_back(r.get<std::string>());
    if (sj.contains("error") && sj["error"].is_object()) {
      shape.error_code = StringOr(sj["error"], "code");
      if (sj["error"].contains("httpStatusCode") && sj["error"]["httpStatusCode"].is_number_integer())
        shape.error_http_status = sj["error"]["httpStatusCode"].get<int>();
    }
    if (sj.contains("retryable") && sj["retryable"].is_object()) {
      shape.retryable = true;
      shape.retryable_throttling = BoolOr(sj["retryable"], "throttling");
    }
    if (sj.contains("members") && sj["members"].is_object()) {
      for (auto m = sj["members"].begin(); m != sj["members"].end(); ++m) {
        Member member;
        member.name = m.key();
        CA_TRY_STATUS(resolve_ref(m.value(), &member.ref));
        shape.members.push_back(std::move(member));
      }
    }
    if (shape.type == ShapeType::kList) {
      if (!sj.contains("member")) return fail(fmt::format("list shape {} has no member", it.key()));
      CA_TRY_STATUS(resolve_ref(sj["member"], &shape.member));
    }
    if (shape.type == ShapeType::kMap) {
      if (!sj.contains("key") || !sj.contains("value")) return fail(fmt::format("map shape {} lacks key/value", it.key()));
      CA_TRY_STATUS(resolve_ref(sj["key"], &shape.key));
      CA_TRY_STATUS(resolve_ref(sj["value"], &shape.value));
    }
    if (shape.exception) {
      out->errors_by_code_[shape.name] = &shape;
      if (!shape.error_code.empty()) out->errors_by_code_[shape.error_code] = &shape;
    }
  }

  // Operations.
  for (auto it = model["operations"].begin(); it != model["operations"].end(); ++it) {
    const Json& oj = it.value();
    Operation op;
    op.name = it.key();
    if (oj.contains("http")) {
      op.http_method = StringOr(oj["http"], "method", "POST");
      op.request_uri = StringOr(oj["http"], "requestUri", "/");
    }
    auto shape_of = [&](const char* key) -> const Shape* {
      if (!oj.contains(key)) return nullptr;
      auto s = out->shapes_.find(StringOr(oj[key], "shape"));
      return s == out->shapes_.end() ? nullptr : s->second.get();
    };
    op.input = shape_of("input");
    op.output = shape_of("output");
    if (oj.contains("input")) {
      op.input_location_name = StringOr(oj["input"], "locationName");
      if (oj["input"].contains("xmlNamespace") && oj["input"]["xmlNamespace"].is_object())
        op.input_xml_namespace = StringOr(oj["input"]["xmlNamespace"], "uri");
    }
    if (oj.contains("output")) op.result_wrapper = StringOr(oj["output"], "resultWrapper");
    if (oj.contains("errors") && oj["errors"].is_array())
      for (const auto& e : oj["errors"]) {
        auto s = out->shapes_.find(StringOr(e, "shape"));
        if (s != out->shapes_.end()) op.errors.push_back(s->second.get());
      }
    if (oj.contains("endpoint") && oj["endpoint"].is_object()) op.host_prefix = StringOr(oj["endpoint"], "hostPrefix");
    op.auth_type = StringOr(oj, "authtype");
    op.deprecated = BoolOr(oj, "deprecated");
    // As botocore: a checksum is required by the old trait or by the
    // flexible-checksum trait's requestChecksumRequired (not by
    // httpChecksum alone, which may only ask to validate responses).
    op.http_checksum_required =
        BoolOr(oj, "httpChecksumRequired") ||
        (oj.contains("httpChecksum") && oj["httpChecksum"].is_object() && BoolOr(oj["httpChecksum"], "requestChecksumRequired"));
    if (paginators.is_object() && paginators.contains(op.name)) {
      const Json& pj = paginators[op.name];
      Paginator p;
      auto strings = [](const Json& v) {
        std::vector<std::string> list;
        if (v.is_string()) list.push_back(v.get<std::string>());
        if (v.is_array())
          for (const auto& x : v)
            if (x.is_string()) list.push_back(x.get<std::string>());
        return list;
      };
      if (pj.contains("input_token")) p.input_tokens = strings(pj["input_token"]);
      if (pj.contains("output_token")) p.output_tokens = strings(pj["output_token"]);
      if (pj.contains("result_key")) p.result_keys = strings(pj["result_key"]);
      if (pj.contains("non_aggregate_keys")) p.non_aggregate_keys = strings(pj["non_aggregate_keys"]);
      p.limit_key = StringOr(pj, "limit_key");
      p.more_results = StringOr(pj, "more_results");
      op.paginator = std::move(p);
    }
    out->kebab_to_operation_[CamelToKebab(op.name)] = op.name;
    out->operations_.emplace(op.name, std::move(op));
  }
  return std::shared_ptr<const ServiceModel>(std::move(out));
}

const Operation* ServiceModel::FindOperation(std::string_view name) const {
  auto it = operations_.find(std::string(name));
  if (it != operations_.end()) return &it->second;
  auto kebab = kebab_to_operation_.find(ToLower(name));
  if (kebab != kebab_to_operation_.end()) return &operations_.at(kebab->second);
  for (const auto& [op_name, op] : operations_)
    if (IEquals(op_name, name)) return &op;
  return nullptr;
}

Result<const Operation*> ServiceModel::RequireOperation(std::string_view name) const {
  if (const Operation* op = FindOperation(name)) return op;
  std::string msg = fmt::format("unknown operation \"{}\" for service {}", std::string(name), name_);
  auto suggestions = SuggestOperations(name);
  if (!suggestions.empty()) {
    msg += "; did you mean ";
    for (size_t i = 0; i < suggestions.size(); ++i) msg += (i ? ", " : "") + suggestions[i];
    msg += "?";
  }
  return MakeError(ErrorCode::kNotFound, msg);
}

const Shape* ServiceModel::FindShape(std::string_view name) const {
  auto it = shapes_.find(std::string(name));
  return it == shapes_.end() ? nullptr : it->second.get();
}

const Shape* ServiceModel::FindErrorShape(std::string_view code) const {
  auto it = errors_by_code_.find(std::string(code));
  return it == errors_by_code_.end() ? nullptr : it->second;
}

std::vector<std::string> ServiceModel::SuggestOperations(std::string_view name, size_t max) const {
  std::vector<std::pair<size_t, std::string>> scored;
  std::string wanted = ToLower(name);
  for (const auto& [op_name, op] : operations_) {
    size_t d = std::min(EditDistance(wanted, ToLower(op_name)), EditDistance(wanted, CamelToKebab(op_name)));
    scored.emplace_back(d, op_name);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (const auto& [d, n] : scored) {
    if (out.size() >= max || d > std::max<size_t>(3, wanted.size() / 3)) break;
    out.push_back(n);
  }
  return out;
}

Result<std::string> ZlibInflate(const unsigned char* data, size_t size, size_t expected_size) {
  std::string out(expected_size, '\0');
  uLongf dest_len = static_cast<uLongf>(expected_size);
  int rc = uncompress(reinterpret_cast<Bytef*>(out.data()), &dest_len, data, static_cast<uLong>(size));
  if (rc != Z_OK || dest_len != expected_size)
    return MakeError(ErrorCode::kParse, fmt::format("corrupt embedded data (zlib error {})", rc));
  return out;
}

namespace {

const EmbeddedModel* FindEmbedded(std::string_view name) {
  for (const auto& m : EmbeddedModels())
    if (name == m.name) return &m;
  return nullptr;
}

Result<Json> InflateJson(const EmbeddedModel& m) {
  CA_TRY(std::string text, ZlibInflate(m.data, m.compressed_size, m.raw_size));
  return ParseJson(text);
}

// Alternative names users type: endpoint prefixes and AWS CLI names.
std::string CanonicalServiceName(std::string_view service) {
  static const std::pair<const char*, const char*> kAliases[] = {
      {"elasticloadbalancing", "elb"},     {"elasticloadbalancingv2", "elbv2"},
      {"monitoring", "cloudwatch"},        {"email", "ses"},
      {"execute-api", "apigateway"},       {"servicequotas", "service-quotas"},
      {"access-analyzer", "accessanalyzer"}, {"states", "stepfunctions"},
      {"cloudwatchlogs", "logs"},          {"s3api", "s3"},
  };
  std::string lower = ToLower(service);
  for (const auto& [alias, name] : kAliases)
    if (lower == alias) return name;
  return lower;
}

}  // namespace

Result<std::shared_ptr<const ServiceModel>> LoadServiceModel(std::string_view service) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const ServiceModel>> cache;
  std::string name = CanonicalServiceName(service);
  std::lock_guard<std::mutex> lock(mu);
  auto cached = cache.find(name);
  if (cached != cache.end()) return cached->second;
  const EmbeddedModel* embedded = name == "__endpoints__" ? nullptr : FindEmbedded(name);
  if (embedded == nullptr) {
    std::string msg = fmt::format("unknown service \"{}\"", std::string(service));
    std::vector<std::pair<size_t, std::string>> scored;
    for (const auto& n : EmbeddedServiceNames()) scored.emplace_back(EditDistance(name, n), n);
    std::sort(scored.begin(), scored.end());
    if (!scored.empty() && scored[0].first <= 3) msg += fmt::format("; did you mean \"{}\"?", scored[0].second);
    return MakeError(ErrorCode::kNotFound, msg);
  }
  CA_TRY(Json doc, InflateJson(*embedded));
  CA_TRY(auto model, ServiceModel::Compile(name, doc["model"], doc["paginators"]));
  cache[name] = model;
  return model;
}

std::vector<std::string> EmbeddedServiceNames() {
  std::vector<std::string> names;
  for (const auto& m : EmbeddedModels())
    if (std::string_view(m.name) != "__endpoints__") names.emplace_back(m.name);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::shared_ptr<const Json>> LoadEndpointsJson() {
  static std::once_flag once;
  static Result<std::shared_ptr<const Json>> result = MakeError(ErrorCode::kInternal, "not loaded");
  std::call_once(once, [] {
    const EmbeddedModel* m = FindEmbedded("__endpoints__");
    if (m == nullptr) {
      result = MakeError(ErrorCode::kInternal, "endpoints.json is not embedded");
      return;
    }
    auto doc = InflateJson(*m);
    if (!doc) {
      result = tl::unexpected(doc.error());
      return;
    }
    result = std::make_shared<const Json>(std::move(*doc));
  });
  return result;
}

}  // namespace cloudaudit::aws
