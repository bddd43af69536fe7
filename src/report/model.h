// The report model: everything a report shows about one scan, read from the
// store alone — findings with the rule snapshot taken when they were
// evaluated, compliance posture, collection gaps, API calls, what changed
// since the previous scan of the same account, and threat alerts. Every
// output format (formats.h) writes from a Report and nothing else, so a
// report of an old scan looks the same whatever rules the binary ships now.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "store/store.h"

namespace cloudaudit::rules {
struct RuleSet;
}

namespace cloudaudit::report {

// A rule as it was when the scan was evaluated (scan_rules snapshot).
struct RuleInfo {
  std::string id, title, description, service, resource_table;
  std::string severity;  // informational | low | medium | high | critical
  std::vector<std::string> pillars, tags, aliases, references;
  bool legacy = false;
  std::map<std::string, std::vector<std::string>> compliance;  // framework id -> control ids
  struct {
    std::string console, cli, terraform, cloudformation, prevent;
  } remediation;  // cli is the template; a finding's filled-in commands are in its row

  static RuleInfo FromDocument(const Json& document);
};

// One rule result for one resource, with its history.
struct Finding {
  store::FindingRow row;
  const RuleInfo* rule = nullptr;  // never null in a loaded report
  // Alarms only: start time of the earliest scan of the same account in
  // which this finding (same finding id) was an alarm, this scan included.
  std::string first_seen;
  // Alarms only, when a previous scan of the account exists: "new" (not an
  // alarm in the previous scan) or "open" (already one). Empty otherwise.
  std::string change;
  bool suppressed() const { return !row.suppression.is_null(); }
};

struct ControlResult {
  std::string id, title, section;
  std::string status;  // pass | fail | manual | not_applicable | unknown
  std::vector<std::string> rules;
  size_t alarms = 0, oks = 0, skips = 0;
};

struct FrameworkResult {
  std::string id, title, version, url;
  std::vector<ControlResult> controls;
  size_t pass = 0, fail = 0, manual = 0, not_applicable = 0, unknown = 0;
  double percent = 0;  // pass / (pass + fail), 0..100
};

// Changes since the previous scan of the same account (by finding id).
struct ScanDiff {
  int64_t previous_scan_id = 0;
  std::string previous_started_at;
  size_t new_alarms = 0, open_alarms = 0;
  // Alarms of the previous scan that are no alarm now (fixed, or the
  // resource is gone); rows as they were in the previous scan.
  std::vector<store::FindingRow> resolved;
};

// Counts over unsuppressed findings unless named otherwise.
struct Summary {
  std::map<std::string, size_t> by_status;           // ok / alarm / skip / error
  std::map<std::string, size_t> alarms_by_severity;  // severity -> alarms
  std::map<std::string, size_t> alarms_by_service;
  std::map<std::string, size_t> alarms_by_region;
  size_t suppressed = 0;  // findings a suppression applies to
  size_t resources = 0;   // distinct resources evaluated
  size_t rules = 0;       // rules evaluated
};

struct Report {
  std::string tool_version;
  std::string generated_at;  // ISO-8601 UTC
  store::ScanInfo scan;
  std::map<std::string, RuleInfo> rules;  // rule id -> snapshot
  // Every finding of the scan (all statuses), worst first: alarms before
  // other statuses, then severity (critical first), rule id, resource.
  std::vector<Finding> findings;
  std::vector<FrameworkResult> frameworks;  // those asked for, in that order
  std::vector<store::Gap> gaps;
  std::vector<store::ApiCallStat> api_calls;
  std::optional<ScanDiff> diff;  // absent: no earlier scan of this account
  // Threat alerts of the chosen threat run (none when no run is included).
  std::optional<store::ThreatRun> threat_run;
  std::vector<store::AlertRow> alerts;
  Summary summary;
};

struct LoadOptions {
  int64_t scan_id = 0;                  // 0: the latest scan
  std::vector<std::string> frameworks;  // posture of these framework ids
  bool history = true;                  // first-seen dates and the diff
  int64_t previous_scan_id = 0;         // diff against this scan instead of the previous one
  // Threat run to include: 0 the latest (if any), -1 none, else that run.
  // Only its alerts about the scan's account are included.
  int64_t threat_run_id = 0;
  std::string tool_version;
  std::string generated_at;  // empty: now
};

// Reads a Report from the store. `rules` supplies the framework catalogues
// (control titles); findings are described by the scan's rule snapshots.
// kNotFound when the scan does not exist, kInvalidArgument when it was never
// evaluated or a framework id is unknown.
Result<Report> LoadReport(store::Store& store, const rules::RuleSet& rules, const LoadOptions& options);

// Severity rank for sorting: critical 4 ... informational 0, unknown -1.
int SeverityRank(std::string_view severity);

}  // namespace cloudaudit::report
