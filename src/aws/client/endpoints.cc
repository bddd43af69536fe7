#include "aws/client/endpoints.h"

#include <algorithm>
#include <regex>

#include <fmt/format.h>

#include "aws/model/model.h"
#include "base/json.h"
#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

const Json* FindPartition(const Json& endpoints, const std::string& region) {
  const Json& partitions = endpoints["partitions"];
  for (const auto& p : partitions)
    if (p.contains("regions") && p["regions"].contains(region)) return &p;
  for (const auto& p : partitions) {
    if (!p.contains("regionRegex")) continue;
    try {
      if (std::regex_match(region, std::regex(p["regionRegex"].get<std::string>()))) return &p;
    } catch (const std::regex_error&) {
      continue;
    }
  }
  for (const auto& p : partitions)
    if (p.value("partition", "") == "aws") return &p;
  return nullptr;
}

void Merge(Json& into, const Json& from) {
  if (!from.is_object()) return;
  for (auto it = from.begin(); it != from.end(); ++it) into[it.key()] = it.value();
}

std::string Expand(std::string tpl, const std::string& service, const std::string& region, const std::string& dns) {
  auto replace = [&tpl](const std::string& key, const std::string& value) {
    for (size_t pos; (pos = tpl.find(key)) != std::string::npos;) tpl.replace(pos, key.size(), value);
  };
  replace("{service}", service);
  replace("{region}", region);
  replace("{dnsSuffix}", dns);
  return tpl;
}

}  // namespace

Result<Endpoint> ParseEndpointUrl(const std::string& url) {
  Endpoint e;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid endpoint URL \"{}\": expected scheme://host[:port][/path]", url));
  e.scheme = ToLower(url.substr(0, scheme_end));
  if (e.scheme != "http" && e.scheme != "https")
    return MakeError(ErrorCode::kInvalidArgument, fmt::format("invalid endpoint URL \"{}\": scheme must be http or https", url));
  std::string rest = url.substr(scheme_end + 3);
  size_t slash = rest.find('/');
  e.host = rest.substr(0, slash);
  if (slash != std::string::npos) e.base_path = rest.substr(slash);
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  if (e.host.empty()) return MakeError(ErrorCode::kInvalidArgument, fmt::format("invalid endpoint URL \"{}\": no host", url));
  // Default ports are not part of the Host header AWS signs.
  if ((e.scheme == "https" && e.host.size() > 4 && e.host.ends_with(":443")) ||
      (e.scheme == "http" && e.host.size() > 3 && e.host.ends_with(":80"))) {
    e.host = e.host.substr(0, e.host.rfind(':'));
  }
  e.custom = true;
  return e;
}

std::string PartitionOfRegion(const std::string& region) {
  auto endpoints = LoadEndpointsJson();
  if (!endpoints) return "aws";
  const Json* p = FindPartition(**endpoints, region);
  return p != nullptr ? p->value("partition", "aws") : "aws";
}

Result<Endpoint> ResolveEndpoint(const std::string& endpoint_prefix, const std::string& signing_name,
                                 const std::string& region, const EndpointOptions& options) {
  if (region.empty() && options.endpoint_url.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     "no region: pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or set region in the profile");
  CA_TRY(auto endpoints, LoadEndpointsJson());
  const Json* partition = FindPartition(*endpoints, region.empty() ? "us-east-1" : region);
  if (partition == nullptr) return MakeError(ErrorCode::kInternal, "endpoints.json has no partitions");
  Endpoint out;
  out.partition = partition->value("partition", "aws");
  out.signing_name = signing_name.empty() ? endpoint_prefix : signing_name;
  out.signing_region = region;

  const std::string dns_suffix = partition->value("dnsSuffix", "amazonaws.com");
  Json config = partition->value("defaults", Json::object());
  const Json* service = nullptr;
  if (partition->contains("services") && (*partition)["services"].contains(endpoint_prefix))
    service = &(*partition)["services"][endpoint_prefix];
  std::string endpoint_name = region;
  if (service != nullptr) {
    Merge(config, service->value("defaults", Json::object()));
    const Json& eps = service->contains("endpoints") ? (*service)["endpoints"] : Json::object();
    bool regionalized = service->value("isRegionalized", true);
    std::string partition_endpoint = service->value("partitionEndpoint", "");
    bool use_global = !regionalized && !partition_endpoint.empty();
    // Services whose clients default to the global endpoint unless configured.
    if (endpoint_prefix == "sts" && !options.sts_regional && !partition_endpoint.empty()) use_global = true;
    if (endpoint_prefix == "s3" && region == "us-east-1" && !options.s3_us_east_1_regional) {
      use_global = !partition_endpoint.empty();
    }
    if (!eps.contains(region) && !partition_endpoint.empty() && !regionalized) use_global = true;
    if (use_global) endpoint_name = partition_endpoint;
    if (eps.contains(endpoint_name)) Merge(config, eps[endpoint_name]);
  }
  std::string hostname = config.value("hostname", "{service}.{region}.{dnsSuffix}");
  std::string host_dns = dns_suffix;
  if (options.use_fips || options.use_dualstack) {
    // Variants: pick the one whose tags are exactly the requested set.
    std::vector<std::string> wanted;
    if (options.use_dualstack) wanted.push_back("dualstack");
    if (options.use_fips) wanted.push_back("fips");
    std::sort(wanted.begin(), wanted.end());
    bool found = false;
    const Json& partition_defaults = (*partition)["defaults"];
    for (const Json* source : std::initializer_list<const Json*>{&config, &partition_defaults}) {
      if (found || !source->contains("variants")) continue;
      for (const auto& v : (*source)["variants"]) {
        std::vector<std::string> tags = v.value("tags", std::vector<std::string>{});
        std::sort(tags.begin(), tags.end());
        if (tags != wanted) continue;
        if (v.contains("hostname")) hostname = v["hostname"].get<std::string>();
        if (v.contains("dnsSuffix")) host_dns = v["dnsSuffix"].get<std::string>();
        found = true;
        break;
      }
    }
    if (!found)
      return MakeError(ErrorCode::kUnsupported,
                       fmt::format("{} has no {} endpoint in {}", endpoint_prefix,
                                   options.use_fips ? (options.use_dualstack ? "FIPS dual-stack" : "FIPS") : "dual-stack",
                                   region));
  }
  out.host = Expand(hostname, endpoint_prefix, region, host_dns);
  if (config.contains("credentialScope")) {
    const Json& scope = config["credentialScope"];
    if (scope.contains("region")) out.signing_region = scope["region"].get<std::string>();
    if (scope.contains("service")) out.signing_name = scope["service"].get<std::string>();
  }
  if (!options.endpoint_url.empty()) {
    CA_TRY(Endpoint custom, ParseEndpointUrl(options.endpoint_url));
    // An explicit endpoint keeps the region's signing scope (us-east-1 when
    // no region is configured, as botocore does for custom endpoints).
    custom.signing_region = out.signing_region.empty() ? "us-east-1" : out.signing_region;
    custom.signing_name = out.signing_name;
    custom.partition = out.partition;
    return custom;
  }
  return out;
}

}  // namespace cloudaudit::aws
