// The rule engine: runs rule queries over a stored scan, applies collection
// gaps (a rule whose data is missing says skip, never ok), suppressions and
// parameters, and writes findings with stable ids. Also runs rule fixtures
// and computes compliance posture.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "collect/spec.h"
#include "rules/rule.h"
#include "store/store.h"

struct sqlite3;

namespace cloudaudit::rules {

struct Suppression {
  std::string rule;      // rule id pattern (* and ?)
  std::string resource;  // resource pattern (* and ?)
  std::string reason, owner;
  std::string expires;   // YYYY-MM-DD or ISO-8601; empty: never
  std::string file;
  int line = 0;
  Json ToJson() const;
};

// Loads a suppressions file (docs/rules.md); every problem with file:line.
Result<std::vector<Suppression>> LoadSuppressions(const std::string& path);
Result<std::vector<Suppression>> ParseSuppressionsYaml(const std::string& text, const std::string& file);

// Which rules to run. Empty lists select everything.
struct Selection {
  std::vector<std::string> ids;         // rule ids or patterns (* and ?)
  std::vector<std::string> services;
  std::vector<std::string> tags;
  std::vector<std::string> frameworks;  // rules mapped to any control of these
  std::optional<Severity> min_severity;
  bool include_legacy = true;
  bool Matches(const Rule& rule) const;
  Json ToJson() const;
};

// Parameter overrides: "name" applies to every rule declaring it,
// "rule.id.name" to one rule.
using ParamOverrides = std::map<std::string, Json>;

// Parses "name=value" (value as JSON when it parses, else a string).
Result<std::pair<std::string, Json>> ParseParamAssignment(const std::string& text);

// Stable finding id: hash of rule id, account, region and resource.
std::string FindingId(const std::string& rule_id, const std::string& account_id, const std::string& region,
                      const std::string& resource);

// Runs one rule on a connection that has the scan's views and the SQL
// functions; applies `gaps` of the tables the rule reads. A query that fails
// at run time yields one `error` finding naming the rule.
// `account_id` names the scan's account for rows about a whole listing.
Result<std::vector<store::FindingRow>> RunRule(sqlite3* db, const Rule& rule, const ParamOverrides& overrides,
                                               const std::vector<store::Gap>& gaps, const collect::SpecSet& specs,
                                               const std::string& account_id);

struct EvalOptions {
  Selection selection;
  ParamOverrides params;
  std::vector<Suppression> suppressions;
  int threads = 2;
  std::string tool_version;
  int64_t wall_now_epoch = 0;  // for suppression expiry; 0: the real clock
  int64_t as_of_epoch = 0;     // evaluation time; 0: the scan's start
  std::function<void(size_t done, size_t total)> on_progress;
};

struct EvalSummary {
  int64_t scan_id = 0;
  size_t rules = 0;
  std::map<std::string, size_t> by_status;           // ok/alarm/skip/error (unsuppressed)
  std::map<std::string, size_t> alarms_by_severity;  // unsuppressed alarms
  size_t suppressed = 0;
  std::vector<std::string> rule_errors;               // "rule id: message"
  std::vector<Suppression> expired;                   // suppressions past their date
  std::vector<std::pair<std::string, double>> rule_seconds;  // time per rule, slowest first
  double setup_seconds = 0;  // workers' materialized tables (the slowest worker)
  double write_seconds = 0;  // storing findings, summed over workers, and the commit
  double seconds = 0;
};

// Evaluates the selected rules against scan `scan_id` of the store file at
// `db_path` (the scan's start time is the evaluation time), in parallel on
// read-only connections, and saves the findings.
Result<EvalSummary> Evaluate(const std::string& db_path, int64_t scan_id, const RuleSet& rules,
                             const collect::SpecSet& specs, const EvalOptions& options);

// Fixtures.
struct TestFailure {
  std::string rule_id, test_name, file;
  int line = 0;
  std::string message;
};
struct TestReport {
  size_t rules = 0, tests = 0;
  std::vector<TestFailure> failures;
};
TestReport RunRuleTests(const std::vector<const Rule*>& rules, const collect::SpecSet& specs);

// Compliance posture of one framework from a scan's findings.
struct ControlPosture {
  const Control* control = nullptr;
  std::string status;  // pass | fail | manual | not_applicable | unknown
  std::vector<std::string> rules;
  size_t alarms = 0, oks = 0, skips = 0;
};
struct FrameworkPosture {
  const Framework* framework = nullptr;
  std::vector<ControlPosture> controls;
  size_t pass = 0, fail = 0, manual = 0, not_applicable = 0, unknown = 0;
  double percent = 0;  // pass / (pass + fail), 0..100
};
// `evaluated`: the rules that ran on the scan (a rule with no finding then
// found nothing to check; one that did not run says nothing).
FrameworkPosture ComputePosture(const Framework& framework, const RuleSet& rules, const std::set<std::string>& evaluated,
                                const std::vector<store::FindingRow>& findings);

}  // namespace cloudaudit::rules
