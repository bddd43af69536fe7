// libFuzzer harness for the XML response parsers (query, ec2 and rest-xml
// protocols): any bytes, as the body (and optional headers) of a 200 and of
// an error answer to one of the operations below, must parse or fail with
// kParse; a parsed document must be a JSON object whose AWS CLI rendering
// reads back unchanged. Input layout: see response_harness.h.
#include <cstddef>
#include <cstdint>

#include "response_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cloudaudit::fuzz::LoadOperations;
  // The order is the input format (selector byte): append, never reorder.
  static const auto ops = LoadOperations(
      {
          {"iam", "ListUsers"},                       // 0  query, resultWrapper, timestamps
          {"iam", "GetAccountAuthorizationDetails"},  // 1  query, URL-encoded policy documents
          {"ec2", "DescribeInstances"},               // 2  ec2, <item> lists, deep nesting
          {"ec2", "DescribeSecurityGroups"},          // 3  ec2
          {"s3", "ListObjectsV2"},                    // 4  rest-xml, flattened lists, EncodingType=url
          {"s3", "GetBucketAcl"},                     // 5  rest-xml, xsi:type attributes
          {"s3", "GetBucketLocation"},                // 6  rest-xml, root element text
          {"cloudfront", "ListDistributions"},        // 7  rest-xml, structure payload
          {"sqs", "GetQueueAttributes"},              // 8  query, flattened map
          {"sns", "GetTopicAttributes"},              // 9  query, map
          {"s3", "HeadObject"},                       // 10 rest-xml header members (timestamp, long, map prefix)
          {"cloudfront", "GetDistribution"},          // 11 rest-xml ETag header + payload
      },
      {"query", "ec2", "rest-xml"});
  return cloudaudit::fuzz::RunResponseInput(ops, data, size);
}
