#include "collect/permissions.h"

#include <set>

#include "aws/model/model.h"

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

Json LeastPrivilegePolicy(const SpecSet& specs) {
  std::set<std::string> actions = {"sts:GetCallerIdentity", "ec2:DescribeRegions"};
  for (const auto& r : specs.resources) {
    if (r.list.builtin == "credential_report") {
      actions.insert("iam:GenerateCredentialReport");
      actions.insert("iam:GetCredentialReport");
    } else if (!r.list.call.operation.empty()) {
      actions.insert(IamActionFor(r.list.call.service, r.list.call.operation));
    }
    for (const auto& e : r.enrich) actions.insert(IamActionFor(e.call.service, e.call.operation));
  }
  Json statement = {{"Sid", "CloudauditReadOnly"}, {"Effect", "Allow"}, {"Action", Json::array()}, {"Resource", "*"}};
  for (const auto& a : actions) statement["Action"].push_back(a);
  return Json{{"Version", "2012-10-17"}, {"Statement", Json::array({statement})}};
}

}  // namespace cloudaudit::collect
