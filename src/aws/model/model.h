// AWS service models: the botocore service-2.json + paginators-1.json of a
// service, compiled once into linked Shape/Operation structures that the
// protocol serializers and parsers walk. Models come from the blobs embedded
// at build time (tools/embed_models.py); nothing is read from disk at run time.
//
// Thread safety: LoadServiceModel() is safe to call concurrently; returned
// models are immutable and live for the whole process.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {

enum class ShapeType {
  kStructure, kList, kMap, kString, kInteger, kLong, kFloat, kDouble, kBoolean, kTimestamp, kBlob,
};

struct Shape;

// A reference to a shape from a structure member, list member or map
// key/value, with the serialization traits that botocore merges from the
// reference and the target shape (reference wins).
struct ShapeRef {
  const Shape* shape = nullptr;
  std::string location;       // "", "header", "headers", "querystring", "uri", "statusCode"
  std::string location_name;  // wire name; empty: use the member name
  std::string query_name;     // ec2 protocol "queryName"
  bool flattened = false;
  bool xml_attribute = false;
  std::string xml_namespace_uri;
  std::string xml_namespace_prefix;
  std::string timestamp_format;  // "iso8601", "rfc822", "unixTimestamp" or ""
  bool json_value = false;       // header holding base64 JSON
  bool host_label = false;
  bool idempotency_token = false;
  bool event_payload = false;
};

struct Member {
  std::string name;
  ShapeRef ref;
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::kString;
  // Structure.
  std::vector<Member> members;  // model order (boto3 key order)
  std::vector<std::string> required;
  std::string payload;  // member name sent/received as the whole body
  bool exception = false;
  bool is_union = false;
  bool document = false;
  std::string error_code;  // "error": {"code": ...}
  int error_http_status = 0;
  bool retryable = false;             // "retryable": {...} trait of an exception
  bool retryable_throttling = false;  // "retryable": {"throttling": true}
  // List / map.
  ShapeRef member;  // list element
  ShapeRef key, value;
  bool flattened = false;
  // Scalars.
  std::string timestamp_format;
  std::vector<std::string> enum_values;
  std::optional<double> min, max;
  std::string pattern;
  bool sensitive = false;
  // Shape-level serialization defaults.
  std::string location_name;
  std::string xml_namespace_uri;
  bool event_stream = false;

  const Member* FindMember(std::string_view member_name) const;
};

std::string_view ShapeTypeName(ShapeType type);

struct Paginator {
  std::vector<std::string> input_tokens;
  std::vector<std::string> output_tokens;  // JMESPath-ish paths, e.g. "NextToken" or "Marker || Contents[-1].Key"
  std::string limit_key;
  std::string more_results;
  std::vector<std::string> result_keys;
  std::vector<std::string> non_aggregate_keys;
};

struct Operation {
  std::string name;
  std::string http_method = "POST";
  std::string request_uri = "/";
  const Shape* input = nullptr;   // may be null
  const Shape* output = nullptr;  // may be null
  std::string result_wrapper;     // query protocol: <OperationResult> element
  std::string input_location_name;  // rest-xml payload root element name
  std::string input_xml_namespace;
  std::vector<const Shape*> errors;
  std::string host_prefix;  // "endpoint": {"hostPrefix": ...}
  std::string auth_type;    // "none", "v4-unsigned-body", ""
  bool deprecated = false;
  bool http_checksum_required = false;  // httpChecksumRequired or httpChecksum.requestChecksumRequired: send Content-MD5
  std::optional<Paginator> paginator;
};

struct ServiceMetadata {
  std::string protocol;  // query, ec2, json, rest-json, rest-xml
  std::string api_version;
  std::string endpoint_prefix;
  std::string signing_name;
  std::string service_id;
  std::string service_full_name;
  std::string json_version;
  std::string target_prefix;
  std::string global_endpoint;
  std::string signature_version;
  std::string xml_namespace;
};

class ServiceModel {
 public:
  // Compiles a model from its JSON (service-2.json as a whole) and the
  // "pagination" object of paginators-1.json. Validates every shape reference.
  static Result<std::shared_ptr<const ServiceModel>> Compile(std::string service_name, const Json& model,
                                                             const Json& paginators);

  const std::string& name() const { return name_; }  // botocore name, e.g. "iam"
  const ServiceMetadata& metadata() const { return metadata_; }
  // Finds by exact name, or the AWS CLI form ("list-users"), case-insensitive.
  const Operation* FindOperation(std::string_view name) const;
  // The same, or kNotFound naming the closest operations ("did you mean ...").
  Result<const Operation*> RequireOperation(std::string_view name) const;
  const Shape* FindShape(std::string_view name) const;
  const std::map<std::string, Operation>& operations() const { return operations_; }
  // Operation names closest to a misspelt one, best first.
  std::vector<std::string> SuggestOperations(std::string_view name, size_t max = 3) const;
  // Exception shape by its error code (ErrorCode or shape name); null if unknown.
  const Shape* FindErrorShape(std::string_view code) const;

 private:
  std::string name_;
  ServiceMetadata metadata_;
  std::unordered_map<std::string, std::unique_ptr<Shape>> shapes_;
  std::map<std::string, Operation> operations_;
  std::unordered_map<std::string, std::string> kebab_to_operation_;
  std::unordered_map<std::string, const Shape*> errors_by_code_;
};

// The embedded model of a service by botocore name ("ec2", "elbv2") or its
// AWS CLI / endpoint prefix alias ("elasticloadbalancing" -> elb). Cached.
Result<std::shared_ptr<const ServiceModel>> LoadServiceModel(std::string_view service);
// Names of every embedded service, sorted.
std::vector<std::string> EmbeddedServiceNames();
// The embedded endpoints.json, parsed once.
Result<std::shared_ptr<const Json>> LoadEndpointsJson();
// Decompresses a zlib stream (exposed for tests and fuzzing).
Result<std::string> ZlibInflate(const unsigned char* data, size_t size, size_t expected_size);

}  // namespace cloudaudit::aws
