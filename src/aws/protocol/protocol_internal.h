// Internal pieces shared by the protocol implementations. Not a public API.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "aws/protocol/protocol.h"

namespace cloudaudit::aws::internal {

// Ordered name/value pairs of a form body or query string.
using Params = std::vector<std::pair<std::string, std::string>>;

// Serializes `params` of the input shape the query/ec2 way ("Filter.1.Name").
Status SerializeQueryParams(const Shape& shape, const Json& params, bool ec2, Params* out);
// "a=b&c=d" with botocore's percent-encoding (safe "-_.~").
std::string EncodeForm(const Params& params);

// JSON body members of a structure (json and rest-json protocols); members
// with an HTTP location are skipped. Timestamps become epoch seconds.
Result<Json> SerializeJsonValue(const ShapeRef& ref, const Json& value);
Result<Json> SerializeJsonStructure(const Shape& shape, const Json& params, bool skip_located);

// XML body for rest-xml inputs.
Result<std::string> SerializeXmlBody(const Shape& shape, const Json& params, const std::string& root_name,
                                     const std::string& xml_namespace);

// Scalar renderings shared by serializers.
Result<std::string> TimestampToWire(const Json& value, const std::string& format);
std::string ScalarToString(const Json& value);

// Response parsers (boto3-shaped output).
Result<Json> ParseXmlBody(const ServiceModel& model, const Operation& op, const Shape* shape,
                          std::string_view body, bool rest);
Result<Json> ParseJsonBody(const Shape* shape, std::string_view body);
Result<Json> ParseJsonValue(const ShapeRef& ref, const Json& value);

// A scalar from XML text or an HTTP header value, typed like botocore's XML
// scalar handlers (int(), float(), text == "true", timestamps, blobs as text).
Result<Json> ParseTextScalar(const Shape& shape, const std::string& text);

// What botocore's timestamp parser + the AWS CLI's isoformat print.
Result<Json> RenderTimestamp(const Json& wire);

}  // namespace cloudaudit::aws::internal
