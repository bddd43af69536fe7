// IAM and resource-based policy analysis: parsing policy documents into a
// normalised form, and the questions misconfiguration rules ask of them
// (is it public, which accounts does it grant, does it allow an action, does
// it grant admin, does it deny plain-HTTP access). Pure C++, no SQLite; the
// SQL functions in sql_functions.h are thin adapters over this header.
//
// Semantics follow the IAM policy evaluation logic for a single policy; what
// each function decides, and why, is written down in docs/policy-analysis.md.
// Everything here is thread-compatible (no shared state) and never throws:
// malformed documents come back as an Error with ErrorCode::kParse.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::policy {

enum class Effect { kAllow, kDeny };

// ForAnyValue: / ForAllValues: prefix of a condition operator.
enum class SetQualifier { kNone, kForAnyValue, kForAllValues };

// One (operator, key, values) triple of a Condition block. Operators and keys
// are compared case-insensitively (IAM does), so their lower-case forms are
// kept beside the spelling of the document.
struct ConditionClause {
  std::string op;       // as written, e.g. "ForAnyValue:StringLikeIfExists"
  std::string base_op;  // lower case, without qualifier and IfExists: "stringlike"
  bool if_exists = false;
  SetQualifier qualifier = SetQualifier::kNone;
  std::string key;                  // as written, e.g. "aws:SourceVpc"
  std::string key_lower;            // "aws:sourcevpc"
  std::vector<std::string> values;  // scalars as text: true -> "true", 5 -> "5"
};

// A Principal or NotPrincipal element. "Principal": "*" sets `wildcard`;
// the object form fills the typed lists (each value string or array).
struct PrincipalSet {
  bool wildcard = false;
  std::vector<std::string> aws;
  std::vector<std::string> service;
  std::vector<std::string> federated;
  std::vector<std::string> canonical_user;

  // "*" or {"AWS": "*"}. IAM accepts no other wildcard in principals; should
  // a document hold one, it counts as everyone unless the ARN's account is
  // concrete ("arn:aws:iam::*:root" is everyone, "arn:aws:iam::111122223333:
  // role/*" is not).
  bool IsEveryone() const;
};

struct Statement {
  size_t index = 0;  // position in the Statement array, from 0
  std::string sid;   // empty when absent
  Effect effect = Effect::kAllow;
  bool has_principal = false;      // Principal element present
  bool has_not_principal = false;  // NotPrincipal element present
  PrincipalSet principal;          // Principal or NotPrincipal, see the flags
  bool not_action = false;         // `actions` came from NotAction
  std::vector<std::string> actions;
  bool has_resource = false;  // Resource or NotResource present (trust and
                              // some resource policies omit it: the policy's
                              // own resource is meant)
  bool not_resource = false;  // `resources` came from NotResource
  std::vector<std::string> resources;
  std::vector<ConditionClause> conditions;

  bool IsConditional() const { return !conditions.empty(); }
};

struct Policy {
  std::string version;  // empty when absent
  std::string id;       // empty when absent
  std::vector<Statement> statements;
};

// Parses policy text: JSON, JSON URL-encoded as IAM returns it
// ("%7B%22Version%22..."), or a JSON string holding the policy (one level of
// double encoding, as some APIs return policies inside documents).
// ErrorCode::kParse with a message naming the offending element otherwise.
Result<Policy> ParsePolicy(std::string_view text);
// The same for an already parsed document (a separate name: std::string
// converts to both string_view and Json).
Result<Policy> ParsePolicyJson(const Json& document);

// The canonical form: Statement always an array; Action/NotAction,
// Resource/NotResource, principal values and condition values always arrays
// of strings; Effect spelled "Allow"/"Deny"; Principal always an object with
// types spelled "AWS", "Service", "Federated", "CanonicalUser" ("Principal":
// "*" becomes {"AWS": ["*"]}, its documented equivalent). Elements keep
// their order; Sid, Version and Id are left out when absent.
Json NormalizedJson(const Policy& policy);

// --- Matching primitives ----------------------------------------------------

// IAM wildcard match of a concrete value: '*' any run, '?' one character.
// Actions match case-insensitively, resources (ARNs) case-sensitively.
bool ActionMatches(std::string_view pattern, std::string_view action);
bool ResourceMatches(std::string_view pattern, std::string_view resource);

// --- Public access -----------------------------------------------------------

struct PublicOptions {
  // aws:SourceIp ranges wider than these prefixes are "the internet" and do
  // not restrict (0.0.0.0/0 and ::/0 never do).
  int min_ipv4_prefix = 8;
  int min_ipv6_prefix = 32;
  // Take Deny statements that fence a public Allow (e.g. Deny "*" unless
  // aws:PrincipalOrgID is ours) into account.
  bool honour_deny_guards = true;
};

// An Allow statement that grants access to anyone.
struct PublicStatement {
  size_t index = 0;
  std::string sid;
  bool not_action = false;
  std::vector<std::string> actions;  // Action (or NotAction when not_action)
  bool via_not_principal = false;    // Allow + NotPrincipal: everyone but a few
};

struct PublicResult {
  bool is_public = false;
  std::vector<PublicStatement> statements;  // the statements responsible
};

// Does any Allow statement grant access to anyone (Principal "*",
// {"AWS": "*"}, or Allow + NotPrincipal) without a condition that restricts
// who can use it, and without a Deny statement fencing it? The restricting
// conditions are listed in docs/policy-analysis.md.
PublicResult IsPublic(const Policy& policy, const PublicOptions& options = {});

// --- Principals ----------------------------------------------------------------

// What Allow statements grant. Accounts come from principal values
// ("123456789012", "arn:aws:iam::123456789012:root|role/x|user/x",
// "arn:aws:sts::123456789012:assumed-role/...") and, for statements whose
// principal is everyone or a service, from the conditions that restrict them
// to accounts (aws:SourceAccount, aws:SourceArn, aws:PrincipalAccount, ...).
// All lists are sorted and unique.
struct Grantees {
  bool everyone = false;  // some Allow names "*" (conditions not considered)
  std::vector<std::string> accounts;
  std::vector<std::string> aws;  // AWS principal values as written, except "*"
  std::vector<std::string> services;
  std::vector<std::string> federated;
  std::vector<std::string> canonical_users;
};
Grantees GrantedPrincipals(const Policy& policy);

// The 12-digit account id in an AWS principal value or ARN, or "" when it
// names none (unique ids like AROA..., "*", service names).
std::string AccountOfPrincipal(std::string_view value);

struct ExternalAccess {
  std::vector<std::string> accounts;  // sorted, unique, neither own nor trusted
  bool is_public = false;             // IsPublic(policy).is_public
};
ExternalAccess ExternalAccounts(const Policy& policy, std::string_view own_account,
                                const std::vector<std::string>& trusted_accounts = {});

// --- Actions -------------------------------------------------------------------

enum class Access {
  kNotAllowed,             // no Allow covers it, or an unconditional Deny blocks it
  kAllowedWithConditions,  // allowed only when some condition holds (or a
                           // conditional Deny does not)
  kAllowed,                // allowed with no condition at all
};

// Does the policy allow `action` on `resource`? Both may hold wildcards and
// then mean "all of them": "s3:*" on "*" asks whether every S3 action is
// allowed on every resource. An Allow must cover the whole query; a Deny that
// applies to any part of it (and to every principal the Allow names) blocks.
// Principals are otherwise not considered: the answer is "for the principals
// this policy names".
Access Allows(const Policy& policy, std::string_view action, std::string_view resource = "*");

// Allow of Action "*" (or "*:*", or an empty NotAction) on every resource
// ("*", "arn:*", "arn:aws:*:*:*:*", no Resource element), with no condition.
bool GrantsFullAdmin(const Policy& policy);

// Wildcard actions ("*", "s3:*", "iam:Get*", ...) of Allow statements that
// apply to every resource, conditions or not; sorted, unique
// (case-insensitively, first spelling kept). NotAction statements are not
// listed (see docs/policy-analysis.md).
std::vector<std::string> ServiceWildcards(const Policy& policy);

// A Deny for everyone ("*" / {"AWS": "*"}) of all actions of a service ("*"
// or "svc:*") whose only condition is Bool/BoolIfExists aws:SecureTransport
// "false". The Resource element is not checked.
bool DeniesInsecureTransport(const Policy& policy);

// Some statement (Allow or Deny) has a condition on `key` (case-insensitive;
// '*' and '?' in `key` are wildcards, e.g. "aws:PrincipalTag/*").
bool HasConditionKey(const Policy& policy, std::string_view key);

}  // namespace cloudaudit::policy
