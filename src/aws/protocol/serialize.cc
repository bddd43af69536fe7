// Request serialization for all five protocols, following botocore's
// serializers (botocore/serialize.py) so requests match what the AWS CLI sends.
#include <regex>

#include <fmt/format.h>

#include "aws/protocol/protocol_internal.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::aws {

namespace internal {

std::string ScalarToString(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string: return value.get<std::string>();
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer: return std::to_string(value.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(value.get<uint64_t>());
    case Json::value_t::number_float: return PythonFloatRepr(value.get<double>());
    default: return DumpPythonJson(value, -1);
  }
}

Result<std::string> TimestampToWire(const Json& value, const std::string& format) {
  Timestamp ts;
  if (value.is_number()) {
    CA_TRY(ts, TimestampFromEpochChecked(value.get<double>()));
  } else if (value.is_string()) {
    CA_TRY(ts, ParseTimestamp(value.get<std::string>()));
  } else {
    return MakeError(ErrorCode::kInvalidArgument, "timestamp must be a string or a number");
  }
  // Naive times are UTC (botocore's parse_to_aware_datetime); aware ones are
  // converted to UTC before formatting.
  int64_t epoch = ts.epoch_seconds;
  std::string fmt_name = ToLower(format);
  if (fmt_name == "unixtimestamp") return std::to_string(epoch);
  if (fmt_name == "rfc822") return FormatHttpDate(epoch);
  std::string iso = FormatIso8601Utc(epoch);
  if (ts.micros > 0) iso = iso.substr(0, iso.size() - 1) + fmt::format(".{:06d}Z", ts.micros);
  return iso;
}

namespace {

std::string SerializedName(const ShapeRef& ref, const std::string& fallback, bool ec2) {
  if (ec2) {
    if (!ref.query_name.empty()) return ref.query_name;
    if (!ref.location_name.empty()) {
      std::string name = ref.location_name;
      name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
      return name;
    }
    return fallback;
  }
  return ref.location_name.empty() ? fallback : ref.location_name;
}

Status SerializeQueryValue(const ShapeRef& ref, const Json& value, const std::string& prefix, bool ec2,
                           Params* out) {
  const Shape& shape = *ref.shape;
  switch (shape.type) {
    case ShapeType::kStructure: {
      if (!value.is_object()) return MakeError(ErrorCode::kInvalidArgument, prefix + " must be an object");
      for (auto it = value.begin(); it != value.end(); ++it) {
        const Member* m = shape.FindMember(it.key());
        if (m == nullptr) return MakeError(ErrorCode::kInvalidArgument, "unknown parameter " + it.key());
        std::string name = SerializedName(m->ref, m->name, ec2);
        CA_TRY_STATUS(SerializeQueryValue(m->ref, it.value(), prefix.empty() ? name : prefix + "." + name, ec2, out));
      }
      return {};
    }
    case ShapeType::kList: {
      if (!value.is_array()) return MakeError(ErrorCode::kInvalidArgument, prefix + " must be a list");
      if (ec2) {
        size_t i = 1;
        for (const auto& item : value)
          CA_TRY_STATUS(SerializeQueryValue(shape.member, item, fmt::format("{}.{}", prefix, i++), ec2, out));
        return {};
      }
      if (value.empty()) {
        out->emplace_back(prefix, "");
        return {};
      }
      std::string list_prefix;
      if (ref.flattened || shape.flattened) {
        list_prefix = prefix;
        if (!shape.member.location_name.empty()) {
          size_t dot = prefix.rfind('.');
          list_prefix = (dot == std::string::npos ? "" : prefix.substr(0, dot + 1)) + shape.member.location_name;
        }
      } else {
        list_prefix = prefix + "." + (shape.member.location_name.empty() ? "member" : shape.member.location_name);
      }
      size_t i = 1;
      for (const auto& item : value)
        CA_TRY_STATUS(SerializeQueryValue(shape.member, item, fmt::format("{}.{}", list_prefix, i++), ec2, out));
      return {};
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return MakeError(ErrorCode::kInvalidArgument, prefix + " must be a map");
      std::string full = (ref.flattened || shape.flattened) ? prefix : prefix + ".entry";
      std::string key_suffix = shape.key.location_name.empty() ? "key" : shape.key.location_name;
      std::string value_suffix = shape.value.location_name.empty() ? "value" : shape.value.location_name;
      size_t i = 1;
      for (auto it = value.begin(); it != value.end(); ++it, ++i) {
        out->emplace_back(fmt::format("{}.{}.{}", full, i, key_suffix), it.key());
        CA_TRY_STATUS(SerializeQueryValue(shape.value, it.value(), fmt::format("{}.{}.{}", full, i, value_suffix), ec2, out));
      }
      return {};
    }
    case ShapeType::kTimestamp: {
      CA_TRY(std::string ts, TimestampToWire(value, ref.timestamp_format.empty() ? "iso8601" : ref.timestamp_format));
      out->emplace_back(prefix, std::move(ts));
      return {};
    }
    case ShapeType::kBlob:
      // Parameters carry blobs base64-encoded already (the AWS CLI's default
      // cli_binary_format), which is also the wire form.
      out->emplace_back(prefix, ScalarToString(value));
      return {};
    default:
      out->emplace_back(prefix, ScalarToString(value));
      return {};
  }
}

}  // namespace

Status SerializeQueryParams(const Shape& shape, const Json& params, bool ec2, Params* out) {
  ShapeRef ref;
  ref.shape = &shape;
  if (params.is_null()) return {};
  return SerializeQueryValue(ref, params, "", ec2, out);
}

std::string EncodeForm(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += UriEncode(k);
    out += '=';
    out += UriEncode(v);
  }
  return out;
}

Result<Json> SerializeJsonValue(const ShapeRef& ref, const Json& value) {
  const Shape& shape = *ref.shape;
  switch (shape.type) {
    case ShapeType::kStructure:
      if (shape.document) return value;
      return SerializeJsonStructure(shape, value, false);
    case ShapeType::kList: {
      if (!value.is_array()) return MakeError(ErrorCode::kInvalidArgument, "expected a list");
      Json out = Json::array();
      for (const auto& item : value) {
        CA_TRY(Json v, SerializeJsonValue(shape.member, item));
        out.push_back(std::move(v));
      }
      return out;
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return MakeError(ErrorCode::kInvalidArgument, "expected a map");
      Json out = Json::object();
      for (auto it = value.begin(); it != value.end(); ++it) {
        CA_TRY(Json v, SerializeJsonValue(shape.value, it.value()));
        out[it.key()] = std::move(v);
      }
      return out;
    }
    case ShapeType::kTimestamp: {
      std::string format = ref.timestamp_format.empty() ? "unixtimestamp" : ref.timestamp_format;
      CA_TRY(std::string ts, TimestampToWire(value, format));
      if (ToLower(format) == "unixtimestamp") return Json(std::stoll(ts));
      return Json(ts);
    }
    default:
      return value;
  }
}

Result<Json> SerializeJsonStructure(const Shape& shape, const Json& params, bool skip_located) {
  Json out = Json::object();
  if (params.is_null()) return out;
  if (!params.is_object()) return MakeError(ErrorCode::kInvalidArgument, "expected an object for " + shape.name);
  for (auto it = params.begin(); it != params.end(); ++it) {
    const Member* m = shape.FindMember(it.key());
    if (m == nullptr) return MakeError(ErrorCode::kInvalidArgument, "unknown parameter " + it.key());
    if (skip_located && !m->ref.location.empty()) continue;
    CA_TRY(Json v, SerializeJsonValue(m->ref, it.value()));
    out[m->ref.location_name.empty() ? m->name : m->ref.location_name] = std::move(v);
  }
  return out;
}

namespace {

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#xD;"; break;
      default: out += c;
    }
  }
  return out;
}

Status SerializeXmlValue(const ShapeRef& ref, const Json& value, const std::string& name, std::string* out) {
  const Shape& shape = *ref.shape;
  std::string ns_attr;
  if (!ref.xml_namespace_uri.empty()) {
    ns_attr = ref.xml_namespace_prefix.empty()
                  ? fmt::format(" xmlns=\"{}\"", ref.xml_namespace_uri)
                  : fmt::format(" xmlns:{}=\"{}\"", ref.xml_namespace_prefix, ref.xml_namespace_uri);
  }
  switch (shape.type) {
    case ShapeType::kStructure: {
      if (!value.is_object()) return MakeError(ErrorCode::kInvalidArgument, name + " must be an object");
      std::string attrs = ns_attr, body;
      for (const auto& m : shape.members) {
        if (!value.contains(m.name)) continue;
        std::string member_name = m.ref.location_name.empty() ? m.name : m.ref.location_name;
        if (m.ref.xml_attribute) {
          attrs += fmt::format(" {}=\"{}\"", member_name, XmlEscape(ScalarToString(value[m.name])));
          continue;
        }
        CA_TRY_STATUS(SerializeXmlValue(m.ref, value[m.name], member_name, &body));
      }
      *out += fmt::format("<{}{}>{}</{}>", name, attrs, body, name);
      return {};
    }
    case ShapeType::kList: {
      if (!value.is_array()) return MakeError(ErrorCode::kInvalidArgument, name + " must be a list");
      bool flat = ref.flattened || shape.flattened;
      std::string item_name = shape.member.location_name.empty() ? (flat ? name : "member") : shape.member.location_name;
      std::string items;
      for (const auto& item : value) CA_TRY_STATUS(SerializeXmlValue(shape.member, item, item_name, &items));
      if (flat) {
        *out += items;
      } else {
        *out += fmt::format("<{}{}>{}</{}>", name, ns_attr, items, name);
      }
      return {};
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return MakeError(ErrorCode::kInvalidArgument, name + " must be a map");
      std::string key_name = shape.key.location_name.empty() ? "key" : shape.key.location_name;
      std::string value_name = shape.value.location_name.empty() ? "value" : shape.value.location_name;
      std::string entries;
      for (auto it = value.begin(); it != value.end(); ++it) {
        std::string entry = fmt::format("<{}>{}</{}>", key_name, XmlEscape(it.key()), key_name);
        CA_TRY_STATUS(SerializeXmlValue(shape.value, it.value(), value_name, &entry));
        entries += (ref.flattened || shape.flattened) ? fmt::format("<{}>{}</{}>", name, entry, name)
                                                      : fmt::format("<entry>{}</entry>", entry);
      }
      *out += (ref.flattened || shape.flattened) ? entries : fmt::format("<{}{}>{}</{}>", name, ns_attr, entries, name);
      return {};
    }
    case ShapeType::kTimestamp: {
      CA_TRY(std::string ts, TimestampToWire(value, ref.timestamp_format.empty() ? "iso8601" : ref.timestamp_format));
      *out += fmt::format("<{}{}>{}</{}>", name, ns_attr, XmlEscape(ts), name);
      return {};
    }
    default:
      *out += fmt::format("<{}{}>{}</{}>", name, ns_attr, XmlEscape(ScalarToString(value)), name);
      return {};
  }
}

}  // namespace

Result<std::string> SerializeXmlBody(const Shape& shape, const Json& params, const std::string& root_name,
                                     const std::string& xml_namespace) {
  ShapeRef ref;
  ref.shape = &shape;
  ref.xml_namespace_uri = xml_namespace;
  // Only body members: located members were placed in the URI/headers.
  Json body = Json::object();
  for (auto it = params.begin(); it != params.end(); ++it) {
    const Member* m = shape.FindMember(it.key());
    if (m != nullptr && m->ref.location.empty()) body[it.key()] = it.value();
  }
  std::string out;
  CA_TRY_STATUS(SerializeXmlValue(ref, body, root_name, &out));
  return out;
}

}  // namespace internal

namespace {

using internal::Params;

// "{Bucket}" and "{Key+}" labels of a request URI, percent-encoded as botocore.
Result<std::string> RenderUri(const Operation& op, const Json& params) {
  const std::string& tpl = op.request_uri;
  std::string out;
  size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] != '{') {
      out += tpl[i++];
      continue;
    }
    size_t close = tpl.find('}', i);
    if (close == std::string::npos) return MakeError(ErrorCode::kInternal, "bad request URI template " + tpl);
    std::string label = tpl.substr(i + 1, close - i - 1);
    bool greedy = !label.empty() && label.back() == '+';
    if (greedy) label.pop_back();
    // The label names the member's locationName (or member name).
    const Json* value = nullptr;
    if (op.input != nullptr) {
      for (const auto& m : op.input->members) {
        if (m.ref.location == "uri" && (m.ref.location_name == label || (m.ref.location_name.empty() && m.name == label)) &&
            params.contains(m.name)) {
          value = &params[m.name];
        }
      }
    }
    if (value == nullptr)
      return MakeError(ErrorCode::kInvalidArgument, fmt::format("missing required URI parameter {}", label));
    std::string text = internal::ScalarToString(*value);
    out += greedy ? UriEncode(text, /*keep_slash=*/true) : UriEncode(text);
    i = close + 1;
  }
  return out;
}

Result<std::string> HeaderValue(const ShapeRef& ref, const Json& value) {
  const Shape& shape = *ref.shape;
  if (ref.json_value) return Base64Encode(DumpPythonJson(value, -1));
  switch (shape.type) {
    case ShapeType::kTimestamp:
      return internal::TimestampToWire(value, ref.timestamp_format.empty() ? "rfc822" : ref.timestamp_format);
    case ShapeType::kList: {
      std::string out;
      for (const auto& item : value) {
        if (!out.empty()) out += ",";
        out += internal::ScalarToString(item);
      }
      return out;
    }
    default:
      return internal::ScalarToString(value);
  }
}

Status SerializeRest(const ServiceModel& model, const Operation& op, const Json& params, HttpRequest* request) {
  bool json = model.metadata().protocol == "rest-json";
  request->method = op.http_method;
  CA_TRY(std::string uri, RenderUri(op, params));
  std::string fixed_query;
  if (size_t q = uri.find('?'); q != std::string::npos) {
    fixed_query = uri.substr(q + 1);
    uri.resize(q);
  }
  // Join the endpoint's base path with the operation's path like botocore's _urljoin.
  std::string base = request->path.empty() ? "/" : request->path;
  if (uri.empty() || uri == "/") {
    request->path = base;
  } else if (base.back() == '/' && uri.front() == '/') {
    request->path = base.substr(0, base.size() - 1) + uri;
  } else {
    request->path = base + uri;
  }
  Params query;
  const Shape* input = op.input;
  if (input != nullptr && params.is_object()) {
    for (auto it = params.begin(); it != params.end(); ++it) {
      const Member* m = input->FindMember(it.key());
      if (m == nullptr) continue;  // ValidateInput reports unknown members
      const std::string wire_name = m->ref.location_name.empty() ? m->name : m->ref.location_name;
      const Json& v = it.value();
      if (m->ref.location == "querystring") {
        if (v.is_object()) {
          for (auto kv = v.begin(); kv != v.end(); ++kv) {
            if (kv.value().is_array()) {
              for (const auto& item : kv.value()) query.emplace_back(kv.key(), internal::ScalarToString(item));
            } else {
              query.emplace_back(kv.key(), internal::ScalarToString(kv.value()));
            }
          }
        } else if (v.is_array()) {
          for (const auto& item : v) query.emplace_back(wire_name, internal::ScalarToString(item));
        } else if (m->ref.shape->type == ShapeType::kTimestamp) {
          CA_TRY(std::string ts, internal::TimestampToWire(v, m->ref.timestamp_format.empty() ? "iso8601" : m->ref.timestamp_format));
          query.emplace_back(wire_name, ts);
        } else {
          query.emplace_back(wire_name, internal::ScalarToString(v));
        }
      } else if (m->ref.location == "header") {
        if (v.is_array() && v.empty()) continue;
        CA_TRY(std::string hv, HeaderValue(m->ref, v));
        request->SetHeader(wire_name, hv);
      } else if (m->ref.location == "headers") {
        if (!v.is_object()) return MakeError(ErrorCode::kInvalidArgument, it.key() + " must be a map");
        for (auto kv = v.begin(); kv != v.end(); ++kv)
          request->SetHeader(wire_name + kv.key(), internal::ScalarToString(kv.value()));
      }
    }
  }
  std::string query_text = fixed_query;
  std::string encoded = internal::EncodeForm(query);
  if (!encoded.empty()) query_text += (query_text.empty() ? "" : "&") + encoded;
  request->query = query_text;

  // Body: an explicit payload member, or the non-located members.
  if (input != nullptr) {
    if (!input->payload.empty()) {
      const Member* pm = input->FindMember(input->payload);
      if (pm != nullptr && params.contains(pm->name)) {
        const Json& pv = params[pm->name];
        if (pm->ref.shape->type == ShapeType::kString || pm->ref.shape->type == ShapeType::kBlob) {
          request->body = pv.is_string() ? pv.get<std::string>() : internal::ScalarToString(pv);
        } else if (json) {
          CA_TRY(Json body, internal::SerializeJsonValue(pm->ref, pv));
          request->body = DumpPythonJson(body, -1);
        } else {
          std::string root = pm->ref.location_name.empty() ? pm->name : pm->ref.location_name;
          ShapeRef ref = pm->ref;
          CA_TRY(std::string xml, internal::SerializeXmlBody(*pm->ref.shape, pv, root, ref.xml_namespace_uri));
          request->body = std::move(xml);
        }
      }
    } else {
      bool has_body_members = false, has_body_params = false;
      for (const auto& m : input->members) {
        if (!m.ref.location.empty()) continue;
        has_body_members = true;
        if (params.is_object() && params.contains(m.name)) has_body_params = true;
      }
      if (has_body_params) {
        if (json) {
          CA_TRY(Json body, internal::SerializeJsonStructure(*input, params, /*skip_located=*/true));
          request->body = DumpPythonJson(body, -1);
        } else {
          std::string root = op.input_location_name.empty() ? input->name : op.input_location_name;
          CA_TRY(std::string xml, internal::SerializeXmlBody(*input, params, root, op.input_xml_namespace));
          request->body = std::move(xml);
        }
      } else if (json && has_body_members) {
        request->body = "{}";
      }
    }
  }
  if (json && !request->body.empty() && request->FindHeader("Content-Type") == nullptr)
    request->SetHeader("Content-Type", "application/json");
  return {};
}

}  // namespace

Status SerializeRequest(const ServiceModel& model, const Operation& op, const Json& params, HttpRequest* request) {
  const std::string& protocol = model.metadata().protocol;
  Json empty = Json::object();
  const Json& p = params.is_null() ? empty : params;
  if (protocol == "query" || protocol == "ec2") {
    Params form;
    form.emplace_back("Action", op.name);
    form.emplace_back("Version", model.metadata().api_version);
    if (op.input != nullptr) CA_TRY_STATUS(internal::SerializeQueryParams(*op.input, p, protocol == "ec2", &form));
    request->method = "POST";
    if (request->path.empty()) request->path = "/";
    request->body = internal::EncodeForm(form);
    request->SetHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    return {};
  }
  if (protocol == "json") {
    request->method = op.http_method.empty() ? "POST" : op.http_method;
    if (request->path.empty()) request->path = "/";
    request->SetHeader("X-Amz-Target", model.metadata().target_prefix + "." + op.name);
    request->SetHeader("Content-Type", "application/x-amz-json-" + model.metadata().json_version);
    Json body = Json::object();
    if (op.input != nullptr) {
      CA_TRY(body, internal::SerializeJsonStructure(*op.input, p, false));
    }
    request->body = DumpPythonJson(body, -1);
    return {};
  }
  if (protocol == "rest-json" || protocol == "rest-xml") return SerializeRest(model, op, p, request);
  return MakeError(ErrorCode::kUnsupported, fmt::format("protocol \"{}\" is not supported", protocol));
}

}  // namespace cloudaudit::aws
