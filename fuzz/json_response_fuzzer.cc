// libFuzzer harness for the JSON response parsers (json and rest-json
// protocols), including the REST envelope: response headers come from the
// input, so header members and the error headers (x-amzn-errortype,
// x-amzn-query-error, x-amzn-requestid) are reached. Same contract as the
// XML harness; input layout in response_harness.h.
#include <cstddef>
#include <cstdint>

#include "response_harness.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using cloudaudit::fuzz::LoadOperations;
  // The order is the input format (selector byte): append, never reorder.
  static const auto ops = LoadOperations(
      {
          {"dynamodb", "DescribeTable"},       // 0 json, epoch timestamps, nested structures
          {"kms", "DescribeKey"},              // 1 json
          {"cloudtrail", "DescribeTrails"},    // 2 json
          {"lambda", "ListFunctions"},         // 3 rest-json
          {"apigateway", "GetStages"},         // 4 rest-json, maps
          {"eks", "DescribeCluster"},          // 5 rest-json, iso timestamps, maps
          {"organizations", "ListAccounts"},   // 6 json
          {"apigateway", "GetExport"},         // 7 rest-json header members + blob payload
      },
      {"json", "rest-json"});
  return cloudaudit::fuzz::RunResponseInput(ops, data, size);
}
