// The least-privilege IAM policy for the calls the specs make, and which of
// those calls the AWS managed policies SecurityAudit and ViewOnlyAccess
// already grant (resources/managed_policies.yaml).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "collect/spec.h"

namespace cloudaudit::collect {

// The IAM action that authorizes an API operation ("s3:ListAllMyBuckets"
// for s3 ListBuckets, "cloudwatch:DescribeAlarms" for monitoring...).
std::string IamActionFor(const std::string& service, const std::string& operation);

// Every IAM action the specs' calls need, including the collector's own
// (sts GetCallerIdentity, ec2 DescribeRegions).
std::set<std::string> RequiredActions(const SpecSet& specs);

// {"Version": "2012-10-17", "Statement": [{"Sid": sid, "Effect": "Allow",
// "Action": [...sorted...], "Resource": "*"}]}.
Json PolicyForActions(const std::set<std::string>& actions, const std::string& sid = "CloudauditReadOnly");

// The policy for RequiredActions(specs).
Json LeastPrivilegePolicy(const SpecSet& specs);

struct ManagedPolicy {
  std::string name;  // SecurityAudit
  std::string arn;
  std::string source;                 // where the action list comes from
  std::vector<std::string> actions;   // IAM patterns ("s3:GetBucket*")
};

struct ManagedPolicies {
  std::vector<ManagedPolicy> policies;
  std::vector<std::string> no_permission_needed;  // sts:GetCallerIdentity
};

// The embedded resources/managed_policies.yaml, or another file's text.
Result<ManagedPolicies> LoadManagedPolicies();
Result<ManagedPolicies> ParseManagedPolicies(const std::string& text, const std::string& file);

// IAM matching: case-insensitive, '*' any run of characters, '?' one.
bool IamActionMatches(std::string_view pattern, std::string_view action);

struct ActionCoverage {
  std::string action;
  bool no_permission_needed = false;
  std::vector<std::string> granted_by;  // names of the managed policies that grant it
};
std::vector<ActionCoverage> ManagedPolicyCoverage(const std::set<std::string>& actions, const ManagedPolicies& managed);

// The actions `policy` (a name from `managed`) does not grant, those that
// need no permission left out: what to attach beside it.
std::set<std::string> ActionsNotGrantedBy(const std::vector<ActionCoverage>& coverage, const std::string& policy);

// A table, one action per line, with a column per managed policy, then the
// summary line ("SecurityAudit covers 150 of 195 actions ...").
std::string CoverageReport(const std::vector<ActionCoverage>& coverage, const ManagedPolicies& managed);
std::string CoverageSummary(const std::vector<ActionCoverage>& coverage, const ManagedPolicies& managed);

}  // namespace cloudaudit::collect
