// Rendering results the way `aws ... --output json` prints them.
#pragma once

#include <string>

#include "base/json.h"

namespace cloudaudit::aws {

// json.dumps(result, indent=4, ensure_ascii=False) + "\n"; nothing at all
// for an empty object, as the AWS CLI prints nothing for `{}`.
std::string FormatLikeAwsCli(const Json& result);

// "An error occurred (Code) when calling the Op operation: message", the AWS
// CLI's wording, for errors that came from AWS.
std::string DescribeAwsError(const Error& error);

}  // namespace cloudaudit::aws
