// Domain functions registered into SQLite for rules and `cloudaudit query`:
// time/age relative to the evaluation time, CIDR and port-range tests, ARN
// parsing and masking. docs/rules.md documents each one. The policy_*
// functions live in src/policy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/error.h"

struct sqlite3;

namespace cloudaudit::rules {

// What the functions of a connection know about the scan: ages are computed
// against the scan's start (or an explicit --as-of time), so re-evaluating an
// old scan gives the same answers.
struct EvalContext {
  int64_t now_epoch = 0;
  std::string account_id;               // scan_account_id()
  std::string regions_json = "[]";      // scan_regions(): the regions collected
};

// Registers every domain function (including the policy_* ones) on `db`.
// `clock` must outlive the connection's use of the functions.
Status RegisterSqlFunctions(sqlite3* db, const EvalContext* clock);

}  // namespace cloudaudit::rules
