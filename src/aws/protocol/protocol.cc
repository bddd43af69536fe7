// Entry points of the protocol layer: response dispatch per protocol, the
// REST envelope (headers, status code, payload), error parsing, and the few
// output customizations botocore applies to every AWS CLI call.
#include "aws/protocol/protocol.h"

#include <algorithm>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "aws/protocol/protocol_internal.h"
#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

// RFC 9110 reason phrases, as Python's http.client.responses gives them.
std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

Result<Json> ParseHeaderValue(const ShapeRef& ref, const std::string& value, bool rest_json) {
  const Shape& shape = *ref.shape;
  if (ref.json_value && shape.type == ShapeType::kString) {
    std::string decoded;
    if (!Base64Decode(value, &decoded)) return MakeError(ErrorCode::kParse, "invalid base64 JSON header value");
    return ParseJson(decoded);
  }
  if (shape.type == ShapeType::kList) {
    Json out = Json::array();
    for (const auto& part : Split(value, ',')) {
      CA_TRY(Json v, ParseHeaderValue(shape.member, std::string(Trim(part)), rest_json));
      out.push_back(std::move(v));
    }
    return out;
  }
  if (shape.type == ShapeType::kTimestamp) return internal::RenderTimestamp(Json(value));
  // botocore's JSON parser has no integer/boolean handlers, so rest-json
  // header values of those types stay strings; rest-xml converts them.
  if (rest_json) return Json(value);
  return internal::ParseTextScalar(shape, value);
}

Result<Json> ParseRest(const ServiceModel& model, const Operation& op, const HttpResponse& response) {
  bool rest_json = model.metadata().protocol == "rest-json";
  const Shape* shape = op.output;
  if (shape == nullptr) return Json::object();
  Json out = Json::object();
  for (const auto& m : shape->members) {
    const std::string& loc = m.ref.location;
    if (loc.empty()) continue;
    if (loc == "statusCode") {
      out[m.name] = response.status;
    } else if (loc == "headers") {
      std::string prefix = ToLower(m.ref.location_name);
      Json map = Json::object();
      for (const auto& [name, value] : response.headers)
        if (ToLower(name).rfind(prefix, 0) == 0) map[name.substr(prefix.size())] = value;
      out[m.name] = std::move(map);
    } else if (loc == "header") {
      const std::string& header = m.ref.location_name.empty() ? m.name : m.ref.location_name;
      if (const std::string* v = response.FindHeader(header)) {
        CA_TRY(Json parsed, ParseHeaderValue(m.ref, *v, rest_json));
        out[m.name] = std::move(parsed);
      }
    }
  }
  if (!shape->payload.empty()) {
    const Member* pm = shape->FindMember(shape->payload);
    if (pm == nullptr) return MakeError(ErrorCode::kInternal, "payload member missing from model");
    ShapeType pt = pm->ref.shape->type;
    if (pt == ShapeType::kString || pt == ShapeType::kBlob) {
      out[pm->name] = response.body;
    } else if (rest_json) {
      Json doc = Json::object();
      if (!response.body.empty()) {
        CA_TRY(doc, ParseJson(response.body));
      }
      CA_TRY(Json v, internal::ParseJsonValue(pm->ref, doc));
      out[pm->name] = std::move(v);
    } else {
      CA_TRY(Json v, internal::ParseXmlBody(model, op, pm->ref.shape, response.body, /*rest=*/true));
      out[pm->name] = std::move(v);
    }
    return out;
  }
  Json body;
  if (rest_json) {
    CA_TRY(body, internal::ParseJsonBody(shape, response.body));
  } else {
    CA_TRY(body, internal::ParseXmlBody(model, op, shape, response.body, /*rest=*/true));
  }
  for (auto it = body.begin(); it != body.end(); ++it) out[it.key()] = std::move(it.value());
  return out;
}

// IAM returns policy documents URL-encoded; botocore decodes them into JSON
// (handlers.json_decode_policies) and so the AWS CLI prints objects.
void DecodePolicyDocuments(Json& value, const Shape& shape, int depth) {
  if (depth > 100) return;
  if (shape.type == ShapeType::kStructure && value.is_object()) {
    for (const auto& m : shape.members) {
      auto it = value.find(m.name);
      if (it == value.end()) continue;
      if (m.ref.shape->type == ShapeType::kString && m.ref.shape->name == "policyDocumentType") {
        if (it->is_string()) {
          auto doc = ParseJson(UriDecode(it->get<std::string>()));
          if (doc) *it = std::move(*doc);
        }
      } else {
        DecodePolicyDocuments(*it, *m.ref.shape, depth + 1);
      }
    }
  } else if (shape.type == ShapeType::kList && value.is_array()) {
    for (auto& item : value) DecodePolicyDocuments(item, *shape.member.shape, depth + 1);
  }
}

void UrlDecodeListObjects(Json& out, const std::vector<std::string>& top_keys) {
  if (!out.contains("EncodingType") || out["EncodingType"] != "url") return;
  for (const auto& key : top_keys)
    if (out.contains(key) && out[key].is_string()) out[key] = UriDecode(out[key].get<std::string>(), true);
  for (const auto& [list, field] : {std::pair<const char*, const char*>{"Contents", "Key"}, {"CommonPrefixes", "Prefix"},
                                    {"Versions", "Key"}, {"DeleteMarkers", "Key"}}) {
    if (!out.contains(list) || !out[list].is_array()) continue;
    for (auto& item : out[list])
      if (item.is_object() && item.contains(field) && item[field].is_string())
        item[field] = UriDecode(item[field].get<std::string>(), true);  // unquote_plus, as botocore
  }
}

Status ApplyOutputCustomizations(const ServiceModel& model, const Operation& op, const HttpResponse& response,
                                 Json& out) {
  const std::string& service = model.name();
  if (service == "iam" && op.output != nullptr) {
    DecodePolicyDocuments(out, *op.output, 0);
  } else if (service == "cloudformation" && op.name == "GetTemplate") {
    if (out.contains("TemplateBody") && out["TemplateBody"].is_string()) {
      auto doc = ParseJson(out["TemplateBody"].get<std::string>());
      if (doc) out["TemplateBody"] = std::move(*doc);
    }
  } else if (service == "s3" && op.name == "GetBucketLocation") {
    // Not modelable: the region is the text of the root element, null when empty.
    pugi::xml_document doc;
    if (!doc.load_buffer(response.body.data(), response.body.size()))
      return MakeError(ErrorCode::kParse, "invalid XML in GetBucketLocation response");
    std::string text = doc.document_element().text().get();
    out["LocationConstraint"] = text.empty() ? Json() : Json(text);
  } else if (service == "ec2" && op.name == "GetConsoleOutput") {
    if (out.contains("Output") && out["Output"].is_string()) {
      std::string decoded;
      if (Base64Decode(out["Output"].get<std::string>(), &decoded)) out["Output"] = decoded;
    }
  }
  return {};
}

}  // namespace

void DecodeS3ListObjectsKeys(const Operation& op, Json& out) {
  if (op.name == "ListObjects") UrlDecodeListObjects(out, {"Delimiter", "Marker", "NextMarker"});
  if (op.name == "ListObjectsV2") UrlDecodeListObjects(out, {"Delimiter", "Prefix", "StartAfter"});
  if (op.name == "ListObjectVersions")
    UrlDecodeListObjects(out, {"KeyMarker", "NextKeyMarker", "Prefix", "Delimiter"});
}

std::optional<Json> ResponseMetadata(const ServiceModel& model, const HttpResponse& response, int retry_attempts) {
  const std::string& protocol = model.metadata().protocol;
  Json meta = Json::object();
  bool present = false;
  if (protocol == "rest-json" || protocol == "rest-xml") {
    present = true;  // botocore's REST parsers always create it
    if (const std::string* rid = response.FindHeader("x-amzn-requestid")) {
      meta["RequestId"] = *rid;
    } else if (const std::string* s3_rid = response.FindHeader("x-amz-request-id")) {
      meta["RequestId"] = *s3_rid;
      const std::string* host_id = response.FindHeader("x-amz-id-2");
      meta["HostId"] = host_id != nullptr ? *host_id : "";
    }
  } else if (protocol == "json") {
    if (const std::string* rid = response.FindHeader("x-amzn-requestid")) {
      meta["RequestId"] = *rid;
      present = true;
    }
  } else {
    pugi::xml_document doc;
    if (doc.load_buffer(response.body.data(), response.body.size())) {
      for (pugi::xml_node child = doc.document_element().first_child(); child; child = child.next_sibling()) {
        std::string_view name(child.name());
        if (name == "ResponseMetadata" || name == "requestId") {
          meta["RequestId"] = name == "requestId" ? child.text().get() : child.child("RequestId").text().get();
          present = true;
        }
      }
    }
  }
  if (!present) return std::nullopt;
  meta["HTTPStatusCode"] = response.status;
  Json headers = Json::object();
  for (const auto& [name, value] : response.headers) headers[ToLower(name)] = value;
  meta["HTTPHeaders"] = std::move(headers);
  meta["RetryAttempts"] = retry_attempts;
  return meta;
}

Result<Json> ParseResponse(const ServiceModel& model, const Operation& op, const HttpResponse& response) {
  const std::string& protocol = model.metadata().protocol;
  Json out;
  if (protocol == "query" || protocol == "ec2") {
    CA_TRY(out, internal::ParseXmlBody(model, op, op.output, response.body, /*rest=*/false));
  } else if (protocol == "json") {
    CA_TRY(out, internal::ParseJsonBody(op.output, response.body));
  } else if (protocol == "rest-json" || protocol == "rest-xml") {
    CA_TRY(out, ParseRest(model, op, response));
  } else {
    return MakeError(ErrorCode::kUnsupported, fmt::format("protocol \"{}\" is not supported", protocol));
  }
  if (!out.is_object()) out = Json::object();
  CA_TRY_STATUS(ApplyOutputCustomizations(model, op, response, out));
  return out;
}

namespace {

struct ErrorFields {
  std::string code, message, request_id;
};

std::string XmlChildText(const pugi::xml_node& node, const char* name) {
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    std::string_view n(child.name());
    size_t colon = n.find(':');
    if (colon != std::string_view::npos) n = n.substr(colon + 1);
    if (n == name) return child.text().get();
  }
  return {};
}

bool ParseXmlError(const std::string& body, ErrorFields* out) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return false;
  pugi::xml_node root = doc.document_element();
  if (!root) return false;
  // <ErrorResponse><Error>..</Error><RequestId/></ErrorResponse>  (query, CloudFront, Route 53)
  // <Response><Errors><Error>..</Error></Errors><RequestID/></Response>  (EC2)
  // <Error><Code/><Message/><RequestId/></Error>  (S3)
  pugi::xml_node error = root;
  std::string_view root_name(root.name());
  if (root_name != "Error") {
    pugi::xml_node found = root.child("Error");
    if (!found) found = root.child("Errors").child("Error");
    if (!found) return false;
    error = found;
  }
  out->code = XmlChildText(error, "Code");
  out->message = XmlChildText(error, "Message");
  out->request_id = XmlChildText(error, "RequestId");
  if (out->request_id.empty()) out->request_id = XmlChildText(root, "RequestId");
  if (out->request_id.empty()) out->request_id = XmlChildText(root, "RequestID");
  return !out->code.empty() || !out->message.empty();
}

void ParseJsonError(const HttpResponse& response, bool rest, ErrorFields* out) {
  auto body = response.body.empty() ? Result<Json>(Json::object()) : ParseJson(response.body);
  Json doc = body && body->is_object() ? *body : Json::object();
  auto str = [&doc](const char* key) -> std::string {
    auto it = doc.find(key);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  out->message = doc.contains("message") ? str("message") : str("Message");
  if (!body && !response.body.empty()) out->message = response.body.substr(0, 512);
  std::string code = doc.contains("__type") ? str("__type") : std::to_string(response.status);
  if (size_t hash = code.rfind('#'); hash != std::string::npos) code = code.substr(hash + 1);
  if (const std::string* query_error = response.FindHeader("x-amzn-query-error")) {
    // awsQueryCompatible services: "Code;Sender".
    std::string q = *query_error;
    if (size_t semi = q.find(';'); semi != std::string::npos) code = q.substr(0, semi);
  }
  if (rest) {
    if (const std::string* type = response.FindHeader("x-amzn-errortype")) {
      code = type->substr(0, type->find(':'));
    } else if (doc.contains("code") || doc.contains("Code")) {
      code = doc.contains("code") ? str("code") : str("Code");
    }
  }
  out->code = code;
  if (const std::string* rid = response.FindHeader("x-amzn-requestid")) out->request_id = *rid;
  else if (const std::string* rid2 = response.FindHeader("x-amz-request-id")) out->request_id = *rid2;
}

}  // namespace

bool IsNotConfiguredCode(std::string_view service, std::string_view operation, std::string_view aws_code) {
  // Codes meaning "this optional configuration is absent" wherever they occur.
  static const char* kAlways[] = {
      "NoSuchBucketPolicy", "ServerSideEncryptionConfigurationNotFoundError", "NoSuchPublicAccessBlockConfiguration",
      "NoSuchLifecycleConfiguration", "NoSuchCORSConfiguration", "NoSuchWebsiteConfiguration", "NoSuchTagSet",
      "NoSuchTagSetError", "ReplicationConfigurationNotFoundError", "ObjectLockConfigurationNotFoundError",
      "OwnershipControlsNotFoundError", "NoSuchAccessPointPolicy", "NoSuchConfiguration",
      "RepositoryPolicyNotFoundException", "LifecyclePolicyNotFoundException", "AWSOrganizationsNotInUseException",
      "NoSuchPublicAccessBlockConfigurationException", "RegistryPolicyNotFoundException",
      "ScanConfigurationNotFoundException",
  };
  for (const char* code : kAlways)
    if (aws_code == code) return true;
  // Codes that mean "not configured" only for a given operation (elsewhere
  // they mean the resource itself is missing).
  struct Specific {
    const char* service;
    const char* operation;
    const char* code;
  };
  static const Specific kSpecific[] = {
      {"iam", "GetAccountPasswordPolicy", "NoSuchEntity"},
      {"lambda", "GetPolicy", "ResourceNotFoundException"},
      {"lambda", "GetFunctionUrlConfig", "ResourceNotFoundException"},
      {"lambda", "GetFunctionConcurrency", "ResourceNotFoundException"},
      {"backup", "GetBackupVaultAccessPolicy", "ResourceNotFoundException"},
      {"backup", "GetBackupVaultNotifications", "ResourceNotFoundException"},
      {"sesv2", "GetDedicatedIps", "NotFoundException"},
      {"apigateway", "GetAccount", "NotFoundException"},
      {"ecr", "GetLifecyclePolicy", "LifecyclePolicyNotFoundException"},
      {"securityhub", "DescribeHub", "InvalidAccessException"},
      {"config", "DescribeConfigurationRecorderStatus", "NoSuchConfigurationRecorderException"},
      {"kms", "GetKeyPolicy", "NotFoundException"},
      {"s3control", "GetPublicAccessBlock", "NoSuchPublicAccessBlockConfiguration"},
      {"shield", "DescribeSubscription", "ResourceNotFoundException"},
      {"shield", "DescribeProtection", "ResourceNotFoundException"},
      {"guardduty", "GetMasterAccount", "BadRequestException"},
      {"eks", "DescribeAddon", "ResourceNotFoundException"},
      {"elbv2", "DescribeListenerCertificates", "ListenerNotFound"},
      {"route53", "GetDNSSEC", "NoSuchHostedZone"},
      {"appsync", "GetApiCache", "NotFoundException"},
      {"account", "GetAlternateContact", "ResourceNotFoundException"},  // no contact of that type
  };
  for (const auto& s : kSpecific)
    if (service == s.service && operation == s.operation && aws_code == s.code) return true;
  return false;
}

std::string RequestIdOf(const HttpResponse& response) {
  for (const char* header : {"x-amzn-requestid", "x-amz-request-id", "x-amzn-request-id"})
    if (const std::string* rid = response.FindHeader(header)) return *rid;
  return {};
}

Error ParseErrorResponse(const ServiceModel& model, const Operation& op, const HttpResponse& response) {
  const std::string& protocol = model.metadata().protocol;
  ErrorFields fields;
  std::string_view trimmed = Trim(response.body);
  bool generic = response.status >= 500 && (trimmed.empty() || trimmed.substr(0, 6) == "<html>");
  if (!generic) {
    if (protocol == "json" || protocol == "rest-json") {
      ParseJsonError(response, protocol == "rest-json", &fields);
    } else if (!trimmed.empty()) {
      ParseXmlError(response.body, &fields);
    }
  }
  if (fields.code.empty()) {
    fields.code = std::to_string(response.status);
    if (fields.message.empty()) fields.message = std::string(ReasonPhrase(response.status));
  }
  if (fields.request_id.empty()) fields.request_id = RequestIdOf(response);
  Error e;
  e.code = IsNotConfiguredCode(model.name(), op.name, fields.code) ? ErrorCode::kNotConfigured : ErrorCode::kAwsService;
  e.aws_code = fields.code;
  e.message = fields.message;
  e.request_id = fields.request_id;
  e.http_status = response.status;
  e.service = model.name();
  e.operation = op.name;
  return e;
}

}  // namespace cloudaudit::aws
