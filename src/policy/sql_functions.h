// The policy analysis of policy.h as SQLite functions, for misconfiguration
// rules (docs/policy-analysis.md documents each function). Every function
// takes the policy as TEXT (JSON, or URL-encoded JSON as IAM returns it):
// a NULL policy (or any NULL required argument) gives NULL; a malformed
// policy raises an SQL error naming the function and the problem, so that a
// broken document never reads as "not public".
#pragma once

#include "base/error.h"

struct sqlite3;

namespace cloudaudit::policy {

// Registers policy_is_public, policy_public_statements, policy_allows,
// policy_allows_conditionally, policy_grants_admin, policy_wildcard_actions,
// policy_principal_accounts, policy_external_accounts,
// policy_denies_insecure_transport, policy_has_condition_key,
// policy_service_principals and policy_normalize on `db` (deterministic and
// innocuous: usable in views, indexes and with trusted_schema=OFF). Call once
// per connection; kInternal with SQLite's message when registration fails.
Status RegisterPolicyFunctions(sqlite3* db);

}  // namespace cloudaudit::policy
