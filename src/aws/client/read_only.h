// The read-only guard: cloudaudit never changes an AWS account. Only
// operations that read are allowed through the client.
#pragma once

#include <string_view>

namespace cloudaudit::aws {

// True for Describe*/List*/Get*/Head*/Lookup*/BatchGet* operations and a short
// list of explicit non-mutating exceptions (e.g. iam GenerateCredentialReport,
// sts AssumeRole for credentials). Data-plane reads of customer content
// (dynamodb Scan/Query, kms Decrypt) are not allowed either.
bool IsReadOnlyOperation(std::string_view service, std::string_view operation);

}  // namespace cloudaudit::aws
