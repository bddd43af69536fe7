#include "collect/permissions.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "aws/model/model.h"
#include "base/strings.h"
#include "collect/embedded_specs.h"

namespace cloudaudit::collect {

std::string IamActionFor(const std::string& service, const std::string& operation) {
  // Operations whose IAM action is not named after them (S3's are the
  // classic case); from the AWS Service Authorization Reference.
  static const std::map<std::pair<std::string, std::string>, std::string> kExceptions = {
      {{"s3", "ListBuckets"}, "s3:ListAllMyBuckets"},
      {{"s3", "GetBucketEncryption"}, "s3:GetEncryptionConfiguration"},
      {{"s3", "GetPublicAccessBlock"}, "s3:GetBucketPublicAccessBlock"},
      {{"s3", "GetBucketLifecycleConfiguration"}, "s3:GetLifecycleConfiguration"},
      {{"s3", "GetBucketReplication"}, "s3:GetReplicationConfiguration"},
      {{"s3", "GetBucketWebsite"}, "s3:GetBucketWebsite"},
      {{"s3", "GetObjectLockConfiguration"}, "s3:GetBucketObjectLockConfiguration"},
      {{"s3", "ListObjectsV2"}, "s3:ListBucket"},
      {{"s3", "ListObjects"}, "s3:ListBucket"},
      {{"s3", "HeadBucket"}, "s3:ListBucket"},
      {{"s3control", "GetPublicAccessBlock"}, "s3:GetAccountPublicAccessBlock"},
      {{"lambda", "ListFunctions"}, "lambda:ListFunctions"},
      {{"elbv2", "DescribeLoadBalancers"}, "elasticloadbalancing:DescribeLoadBalancers"},
  };
  if (auto it = kExceptions.find({service, operation}); it != kExceptions.end()) return it->second;
  // API Gateway authorizes by HTTP verb on resources.
  if (service == "apigateway" || service == "apigatewayv2") return "apigateway:GET";
  std::string prefix = service;
  auto model = aws::LoadServiceModel(service);
  if (model) {
    prefix = (*model)->metadata().signing_name;
    if (prefix.empty()) prefix = (*model)->metadata().endpoint_prefix;
  }
  static const std::map<std::string, std::string> kPrefixes = {
      {"monitoring", "cloudwatch"}, {"email", "ses"}, {"es", "es"}, {"execute-api", "apigateway"},
      {"awsssoportal", "sso"}, {"elasticloadbalancing", "elasticloadbalancing"},
  };
  if (auto it = kPrefixes.find(prefix); it != kPrefixes.end()) prefix = it->second;
  return prefix + ":" + operation;
}

std::set<std::string> RequiredActions(const SpecSet& specs) {
  std::set<std::string> actions = {"sts:GetCallerIdentity", "ec2:DescribeRegions"};
  for (const auto& r : specs.resources) {
    if (r.list.builtin == "credential_report") {
      actions.insert("iam:GenerateCredentialReport");
      actions.insert("iam:GetCredentialReport");
    } else if (!r.list.call.operation.empty()) {
      actions.insert(IamActionFor(r.list.call.service, r.list.call.operation));
    }
    for (const auto& e : r.enrich) {
      actions.insert(IamActionFor(e.call.service, e.call.operation));
      if (e.builtin == "service_last_accessed") actions.insert("iam:GetServiceLastAccessedDetails");  // the polling
    }
  }
  return actions;
}

Json PolicyForActions(const std::set<std::string>& actions, const std::string& sid) {
  Json statement = {{"Sid", sid}, {"Effect", "Allow"}, {"Action", Json::array()}, {"Resource", "*"}};
  for (const auto& a : actions) statement["Action"].push_back(a);
  return Json{{"Version", "2012-10-17"}, {"Statement", Json::array({statement})}};
}

Json LeastPrivilegePolicy(const SpecSet& specs) { return PolicyForActions(RequiredActions(specs)); }

Result<ManagedPolicies> ParseManagedPolicies(const std::string& text, const std::string& file) {
  auto fail = [&](const std::string& message, int line) { return Fail(DataFileError(file, line, message)); };
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return fail(e.msg, e.mark.line + 1);
  }
  auto line_of = [](const YAML::Node& n) { return n.Mark().line + 1; };
  auto actions_of = [&](const YAML::Node& list, std::vector<std::string>* out) -> Status {
    if (!list || !list.IsSequence()) return fail("expected a list of IAM actions", line_of(list ? list : root));
    for (const auto& a : list) {
      std::string action = a.IsScalar() ? a.as<std::string>() : "";
      size_t colon = action.find(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == action.size())
        return fail("expected an IAM action pattern like service:Action*, got \"" + action + "\"", line_of(a));
      out->push_back(std::move(action));
    }
    return {};
  };
  ManagedPolicies out;
  try {
    if (!root.IsMap()) return fail("expected a mapping with `policies`", 1);
    if (root["no_permission_needed"]) CA_TRY_STATUS(actions_of(root["no_permission_needed"], &out.no_permission_needed));
    const YAML::Node policies = root["policies"];
    if (!policies || !policies.IsSequence() || policies.size() == 0) return fail("expected a list `policies`", line_of(root));
    for (const auto& p : policies) {
      ManagedPolicy policy;
      if (!p.IsMap() || !p["name"] || !p["name"].IsScalar()) return fail("a policy needs a `name`", line_of(p));
      policy.name = p["name"].as<std::string>();
      if (p["arn"]) policy.arn = p["arn"].as<std::string>();
      if (p["source"]) policy.source = p["source"].as<std::string>();
      CA_TRY_STATUS(actions_of(p["actions"], &policy.actions));
      out.policies.push_back(std::move(policy));
    }
  } catch (const YAML::Exception& e) {
    return fail(e.msg, e.mark.line + 1);
  }
  return out;
}

Result<ManagedPolicies> LoadManagedPolicies() {
  auto embedded = EmbeddedManagedPolicies();
  if (embedded.empty()) return MakeError(ErrorCode::kInternal, "no managed policies built in");
  return ParseManagedPolicies(embedded.front().text, std::string("resources/") + embedded.front().name);
}

bool IamActionMatches(std::string_view pattern, std::string_view action) {
  // IAM action patterns: case-insensitive, `?` is any one character.
  return WildcardMatch(pattern, action, [](char p, char a) {
    return p == '?' || std::tolower(static_cast<unsigned char>(p)) == std::tolower(static_cast<unsigned char>(a));
  });
}

std::vector<ActionCoverage> ManagedPolicyCoverage(const std::set<std::string>& actions, const ManagedPolicies& managed) {
  std::vector<ActionCoverage> out;
  for (const auto& action : actions) {
    ActionCoverage c;
    c.action = action;
    c.no_permission_needed = std::any_of(managed.no_permission_needed.begin(), managed.no_permission_needed.end(),
                                         [&](const std::string& p) { return IamActionMatches(p, action); });
    for (const auto& policy : managed.policies) {
      if (std::any_of(policy.actions.begin(), policy.actions.end(),
                      [&](const std::string& p) { return IamActionMatches(p, action); })) {
        c.granted_by.push_back(policy.name);
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

namespace {

bool Covered(const ActionCoverage& c, const std::string& policy) {
  return c.no_permission_needed || std::find(c.granted_by.begin(), c.granted_by.end(), policy) != c.granted_by.end();
}

}  // namespace

std::set<std::string> ActionsNotGrantedBy(const std::vector<ActionCoverage>& coverage, const std::string& policy) {
  std::set<std::string> out;
  for (const auto& c : coverage)
    if (!Covered(c, policy)) out.insert(c.action);
  return out;
}

std::string CoverageSummary(const std::vector<ActionCoverage>& coverage, const ManagedPolicies& managed) {
  if (managed.policies.empty()) return "";
  auto covered = [&](const std::string& policy) {
    return std::count_if(coverage.begin(), coverage.end(), [&](const ActionCoverage& c) { return Covered(c, policy); });
  };
  const std::string& first = managed.policies.front().name;
  std::string line = fmt::format("{} covers {} of {} actions", first, covered(first), coverage.size());
  for (size_t i = 1; i < managed.policies.size(); ++i)
    line += fmt::format(", {} {}", managed.policies[i].name, covered(managed.policies[i].name));
  const size_t missing = ActionsNotGrantedBy(coverage, first).size();
  if (missing == 0) return line + fmt::format("; {} alone is enough", first);
  return line + fmt::format("; with {} attached, add the other {} (`cloudaudit permissions --format supplement`), or attach the whole policy",
                            first, missing);
}

std::string CoverageReport(const std::vector<ActionCoverage>& coverage, const ManagedPolicies& managed) {
  size_t width = 6;
  for (const auto& c : coverage) width = std::max(width, c.action.size());
  std::string out = fmt::format("{:<{}}", "action", width);
  for (const auto& p : managed.policies) out += fmt::format("  {:<{}}", p.name, std::max<size_t>(p.name.size(), 3));
  out += "\n";
  for (const auto& c : coverage) {
    std::string line = fmt::format("{:<{}}", c.action, width);
    for (const auto& p : managed.policies) {
      const char* mark = c.no_permission_needed ? "n/a" : (Covered(c, p.name) ? "yes" : "-");
      line += fmt::format("  {:<{}}", mark, std::max<size_t>(p.name.size(), 3));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (c.no_permission_needed) line += "  (needs no permission)";
    out += line + "\n";
  }
  return out + CoverageSummary(coverage, managed) + "\n";
}

}  // namespace cloudaudit::collect
