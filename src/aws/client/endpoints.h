// Endpoint resolution from botocore's endpoints.json: partitions (aws,
// aws-cn, aws-us-gov, ...), regional and global services, credential scopes,
// FIPS and dual-stack variants (off by default), and explicit endpoint URLs.
#pragma once

#include <string>

#include "base/error.h"

namespace cloudaudit::aws {

struct EndpointOptions {
  bool use_fips = false;
  bool use_dualstack = false;
  bool sts_regional = true;           // AWS CLI v2 default: regional STS endpoints
  bool s3_us_east_1_regional = false; // legacy: s3.amazonaws.com for us-east-1
  std::string endpoint_url;           // explicit override ("https://host[:port][/path]")
};

struct Endpoint {
  std::string scheme = "https";
  std::string host;        // with ":port" when not the scheme default
  std::string base_path;   // "" or "/prefix" from an endpoint URL
  std::string signing_region;
  std::string signing_name;
  std::string partition;   // "aws", "aws-cn", ...
  bool custom = false;     // came from an explicit endpoint URL
};

// `endpoint_prefix` and `signing_name` are the model's metadata values.
Result<Endpoint> ResolveEndpoint(const std::string& endpoint_prefix, const std::string& signing_name,
                                 const std::string& region, const EndpointOptions& options);

// The partition a region belongs to ("aws" when unknown), e.g. for ARNs.
std::string PartitionOfRegion(const std::string& region);

// Splits "https://host:port/path" into scheme, host[:port] and path.
Result<Endpoint> ParseEndpointUrl(const std::string& url);

}  // namespace cloudaudit::aws
