#include "report/model.h"

#include <algorithm>
#include <set>

#include "base/time.h"
#include "rules/engine.h"
#include "rules/rule.h"

namespace cloudaudit::report {

namespace {

std::string StringOf(const Json& doc, const char* key) {
  auto it = doc.find(key);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> StringsOf(const Json& doc, const char* key) {
  std::vector<std::string> out;
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// A description for findings whose rule has no snapshot (a store written by
// hand, or a rule file removed between evaluation and report).
RuleInfo UnknownRule(const store::FindingRow& row) {
  RuleInfo r;
  r.id = row.rule_id;
  r.title = row.rule_id;
  r.service = row.service;
  r.severity = row.severity;
  return r;
}

}  // namespace

int SeverityRank(std::string_view severity) {
  if (severity == "critical") return 4;
  if (severity == "high") return 3;
  if (severity == "medium") return 2;
  if (severity == "low") return 1;
  if (severity == "informational") return 0;
  return -1;
}

RuleInfo RuleInfo::FromDocument(const Json& doc) {
  RuleInfo r;
  if (!doc.is_object()) return r;
  r.id = StringOf(doc, "id");
  r.title = StringOf(doc, "title");
  r.description = StringOf(doc, "description");
  r.service = StringOf(doc, "service");
  r.resource_table = StringOf(doc, "resource");
  r.severity = StringOf(doc, "severity");
  r.pillars = StringsOf(doc, "pillars");
  r.tags = StringsOf(doc, "tags");
  r.aliases = StringsOf(doc, "aliases");
  r.references = StringsOf(doc, "references");
  auto legacy = doc.find("legacy");
  r.legacy = legacy != doc.end() && legacy->is_boolean() && legacy->get<bool>();
  auto comp = doc.find("compliance");
  if (comp != doc.end() && comp->is_object())
    for (const auto& [fw, ids] : comp->items()) r.compliance[fw] = StringsOf(*comp, fw.c_str());
  auto rem = doc.find("remediation");
  if (rem != doc.end() && rem->is_object()) {
    r.remediation.console = StringOf(*rem, "console");
    r.remediation.cli = StringOf(*rem, "cli");
    r.remediation.terraform = StringOf(*rem, "terraform");
    r.remediation.cloudformation = StringOf(*rem, "cloudformation");
    r.remediation.prevent = StringOf(*rem, "prevent");
  }
  return r;
}

Result<Report> LoadReport(store::Store& store, const rules::RuleSet& rules, const LoadOptions& options) {
  Report report;
  report.tool_version = options.tool_version;
  report.generated_at = options.generated_at.empty() ? FormatIso8601Utc(NowEpochSeconds()) : options.generated_at;

  CA_TRY(int64_t scan_id, store.ResolveScanId(options.scan_id));
  CA_TRY(std::vector<store::ScanInfo> scans, store.ListScans());
  auto scan_it = std::find_if(scans.begin(), scans.end(), [&](const store::ScanInfo& s) { return s.id == scan_id; });
  if (scan_it == scans.end()) return MakeError(ErrorCode::kNotFound, "no scan " + std::to_string(scan_id) + " in the store");
  report.scan = *scan_it;

  CA_TRY(auto snapshots, store.ListScanRules(scan_id));
  if (snapshots.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     "scan " + std::to_string(scan_id) + " has not been evaluated: run `cloudaudit evaluate --scan " +
                         std::to_string(scan_id) + "` (or `cloudaudit scan`) first");
  for (const auto& [id, doc] : snapshots) {
    RuleInfo info = RuleInfo::FromDocument(doc);
    if (info.id.empty()) info.id = id;
    report.rules.emplace(id, std::move(info));
  }

  CA_TRY(std::vector<store::FindingRow> rows, store.ListFindings(scan_id));
  std::map<std::string, std::string> first_seen;
  std::set<std::string> previous_alarms;
  if (options.history) {
    CA_TRY(first_seen, store.AlarmFirstSeen(scan_id));
    int64_t previous = options.previous_scan_id;
    if (previous == 0) {
      CA_TRY(previous, store.PreviousEvaluatedScan(scan_id));
    }
    if (previous != 0) {
      auto prev_it = std::find_if(scans.begin(), scans.end(), [&](const store::ScanInfo& s) { return s.id == previous; });
      if (prev_it == scans.end()) return MakeError(ErrorCode::kNotFound, "no scan " + std::to_string(previous) + " in the store");
      ScanDiff diff;
      diff.previous_scan_id = previous;
      diff.previous_started_at = prev_it->started_at;
      CA_TRY(std::vector<store::FindingRow> prev_rows, store.ListFindings(previous));
      std::set<std::string> current_alarms;
      for (const auto& r : rows)
        if (r.status == "alarm") current_alarms.insert(r.finding_id);
      for (auto& r : prev_rows) {
        if (r.status != "alarm") continue;
        previous_alarms.insert(r.finding_id);
        if (!current_alarms.count(r.finding_id)) diff.resolved.push_back(std::move(r));
      }
      report.diff = std::move(diff);
    }
  }

  std::set<std::pair<std::string, std::string>> resources;
  report.findings.reserve(rows.size());
  for (auto& row : rows) {
    Finding f;
    f.row = std::move(row);
    auto rule_it = report.rules.find(f.row.rule_id);
    if (rule_it == report.rules.end()) rule_it = report.rules.emplace(f.row.rule_id, UnknownRule(f.row)).first;
    f.rule = &rule_it->second;
    resources.emplace(f.row.account_id + "/" + f.row.region, f.row.resource);
    if (f.row.status == "alarm") {
      auto fs = first_seen.find(f.row.finding_id);
      f.first_seen = fs != first_seen.end() ? fs->second : report.scan.started_at;
      if (report.diff) {
        f.change = previous_alarms.count(f.row.finding_id) ? "open" : "new";
        ++(f.change == "new" ? report.diff->new_alarms : report.diff->open_alarms);
      }
    }
    Summary& s = report.summary;
    if (f.suppressed()) {
      ++s.suppressed;
    } else {
      ++s.by_status[f.row.status];
      if (f.row.status == "alarm") {
        ++s.alarms_by_severity[f.row.severity];
        ++s.alarms_by_service[f.row.service];
        ++s.alarms_by_region[f.row.region];
      }
    }
    report.findings.push_back(std::move(f));
  }
  report.summary.resources = resources.size();
  report.summary.rules = snapshots.size();
  std::stable_sort(report.findings.begin(), report.findings.end(), [](const Finding& a, const Finding& b) {
    bool aa = a.row.status == "alarm" && !a.suppressed(), ba = b.row.status == "alarm" && !b.suppressed();
    if (aa != ba) return aa;
    int sa = SeverityRank(a.row.severity), sb = SeverityRank(b.row.severity);
    if (sa != sb) return sa > sb;
    if (a.row.rule_id != b.row.rule_id) return a.row.rule_id < b.row.rule_id;
    return a.row.resource < b.row.resource;
  });

  // Compliance posture from the snapshots' control mappings (what the rules
  // claimed when they ran) and the binary's framework catalogues (titles).
  if (!options.frameworks.empty()) {
    rules::RuleSet mapping;
    std::set<std::string> evaluated;
    for (const auto& [id, info] : report.rules) {
      rules::Rule r;
      r.id = id;
      r.compliance = info.compliance;
      mapping.rules.push_back(std::move(r));
      evaluated.insert(id);
    }
    std::vector<store::FindingRow> plain;
    plain.reserve(report.findings.size());
    for (const auto& f : report.findings) plain.push_back(f.row);
    for (const auto& fw_id : options.frameworks) {
      const rules::Framework* fw = rules.FindFramework(fw_id);
      if (fw == nullptr) return MakeError(ErrorCode::kInvalidArgument, "unknown framework '" + fw_id + "' (see `cloudaudit compliance`)");
      rules::FrameworkPosture posture = rules::ComputePosture(*fw, mapping, evaluated, plain);
      FrameworkResult out;
      out.id = fw->id;
      out.title = fw->title;
      out.version = fw->version;
      out.url = fw->url;
      out.pass = posture.pass;
      out.fail = posture.fail;
      out.manual = posture.manual;
      out.not_applicable = posture.not_applicable;
      out.unknown = posture.unknown;
      out.percent = posture.percent;
      for (const auto& cp : posture.controls) {
        ControlResult c;
        c.id = cp.control->id;
        c.title = cp.control->title;
        c.section = cp.control->section;
        c.status = cp.status;
        c.rules = cp.rules;
        c.alarms = cp.alarms;
        c.oks = cp.oks;
        c.skips = cp.skips;
        out.controls.push_back(std::move(c));
      }
      report.frameworks.push_back(std::move(out));
    }
  }

  CA_TRY(report.gaps, store.ListGaps(scan_id));
  CA_TRY(report.api_calls, store.ListApiStats(scan_id));
  // Threat alerts: those of the chosen run (default the latest) that concern
  // this scan's account — an organization trail's run holds every member's.
  if (options.threat_run_id >= 0) {
    CA_TRY(std::vector<store::ThreatRun> runs, store.ListThreatRuns());
    const store::ThreatRun* run = nullptr;
    if (options.threat_run_id == 0) {
      if (!runs.empty()) run = &runs.back();
    } else {
      for (const auto& r : runs)
        if (r.id == options.threat_run_id) run = &r;
      if (run == nullptr)
        return MakeError(ErrorCode::kNotFound, "no threat run " + std::to_string(options.threat_run_id) + " in the store");
    }
    if (run != nullptr) {
      report.threat_run = *run;
      CA_TRY(std::vector<store::AlertRow> alerts, store.ListAlerts(run->id));
      for (auto& a : alerts)
        if (report.scan.account_id.empty() || a.account_id == report.scan.account_id) report.alerts.push_back(std::move(a));
    }
  }
  return report;
}

}  // namespace cloudaudit::report
