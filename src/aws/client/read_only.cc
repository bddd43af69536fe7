#include "aws/client/read_only.h"

namespace cloudaudit::aws {

bool IsReadOnlyOperation(std::string_view service, std::string_view operation) {
  static constexpr std::string_view kReadPrefixes[] = {"Describe", "List", "Get", "Head", "Lookup", "BatchGet"};
  for (auto prefix : kReadPrefixes) {
    if (operation.substr(0, prefix.size()) != prefix || operation.size() == prefix.size()) continue;
    // "Getaway" is not a read: the verb must be followed by a new word.
    char next = operation[prefix.size()];
    if (next >= 'A' && next <= 'Z') return true;
  }
  struct Exception {
    std::string_view service, operation, why;
  };
  static constexpr Exception kExceptions[] = {
      {"iam", "GenerateCredentialReport", "asks IAM to build the credential report; changes nothing"},
      {"iam", "GenerateServiceLastAccessedDetails", "starts a last-accessed report job; changes nothing"},
      {"iam", "GenerateOrganizationsAccessReport", "starts an access report job; changes nothing"},
      {"iam", "SimulatePrincipalPolicy", "evaluates policies; changes nothing"},
      {"iam", "SimulateCustomPolicy", "evaluates policies; changes nothing"},
      {"sts", "AssumeRole", "obtains credentials for scanning a role"},
      {"sts", "AssumeRoleWithWebIdentity", "obtains credentials from a web identity token"},
      {"sts", "DecodeAuthorizationMessage", "decodes a denial message; changes nothing"},
      {"cloudformation", "DetectStackDrift", "starts a drift check; does not change stacks"},
      {"cloudformation", "DetectStackResourceDrift", "checks one resource for drift; changes nothing"},
  };
  for (const auto& e : kExceptions)
    if (e.service == service && e.operation == operation) return true;
  return false;
}

}  // namespace cloudaudit::aws
