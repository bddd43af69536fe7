// The least-privilege IAM policy for the calls the specs make.
#pragma once

#include <string>

#include "base/json.h"
#include "collect/spec.h"

namespace cloudaudit::collect {

// The IAM action that authorizes an API operation ("s3:ListAllMyBuckets"
// for s3 ListBuckets, "cloudwatch:DescribeAlarms" for monitoring...).
std::string IamActionFor(const std::string& service, const std::string& operation);

// {"Version": "2012-10-17", "Statement": [{"Sid": "CloudauditReadOnly",
// "Effect": "Allow", "Action": [...sorted...], "Resource": "*"}]} covering
// every call of the specs, including the collector's own (sts
// GetCallerIdentity, ec2 DescribeRegions).
Json LeastPrivilegePolicy(const SpecSet& specs);

}  // namespace cloudaudit::collect
