// The JSON report: cloudaudit's own documented document
// (docs/reports.md, tests/schemas/cloudaudit-report.schema.json). Written as
// a stream — one finding per line — so tens of thousands of findings never
// sit in memory as a second JSON tree.
#include <map>

#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

constexpr const char* kSchemaVersion = "1.0";

Json StringArray(const std::vector<std::string>& values) {
  Json out = Json::array();
  for (const auto& v : values) out.push_back(v);
  return out;
}

Json CountMap(const std::map<std::string, size_t>& counts) {
  Json out = Json::object();
  for (const auto& [k, v] : counts) out[k] = v;
  return out;
}

// JSON text stored in the database (evidence, CloudTrail records) as a JSON
// value; text that does not parse is kept as a string.
Json EmbeddedJson(const std::string& text) {
  if (text.empty()) return nullptr;
  auto parsed = ParseJson(text);
  if (parsed) return std::move(*parsed);
  return ValidUtf8(text);
}

Json ScanJson(const store::ScanInfo& scan) {
  return Json{{"id", scan.id},
              {"account_id", scan.account_id},
              {"partition", scan.partition},
              {"regions", StringArray(scan.regions)},
              {"started_at", scan.started_at},
              {"ended_at", scan.ended_at},
              {"status", scan.status},
              {"tool_version", scan.tool_version}};
}

Json RuleJson(const RuleInfo& rule) {
  Json compliance = Json::object();
  for (const auto& [fw, controls] : rule.compliance) compliance[fw] = StringArray(controls);
  return Json{{"title", rule.title},
              {"description", rule.description},
              {"service", rule.service},
              {"resource_table", rule.resource_table},
              {"severity", rule.severity},
              {"pillars", StringArray(rule.pillars)},
              {"tags", StringArray(rule.tags)},
              {"aliases", StringArray(rule.aliases)},
              {"references", StringArray(rule.references)},
              {"legacy", rule.legacy},
              {"compliance", std::move(compliance)},
              {"remediation",
               {{"console", rule.remediation.console},
                {"cli", rule.remediation.cli},
                {"terraform", rule.remediation.terraform},
                {"cloudformation", rule.remediation.cloudformation},
                {"prevent", rule.remediation.prevent}}}};
}

Json RowJson(const store::FindingRow& row) {
  return Json{{"finding_id", row.finding_id},
              {"rule_id", row.rule_id},
              {"status", row.status},
              {"severity", row.severity},
              {"service", row.service},
              {"account_id", row.account_id},
              {"region", row.region},
              {"resource", row.resource},
              {"resource_name", row.resource_name},
              {"reason", row.reason},
              {"evidence", EmbeddedJson(row.evidence)},
              {"remediation_cli", row.remediation_cli},
              {"suppression", row.suppression.is_null() ? Json(nullptr) : row.suppression}};
}

Json FindingJson(const Finding& f) {
  Json out = RowJson(f.row);
  out["first_seen"] = f.first_seen.empty() ? Json(nullptr) : Json(f.first_seen);
  out["change"] = f.change.empty() ? Json(nullptr) : Json(f.change);
  return out;
}

Json FrameworkJson(const FrameworkResult& fw) {
  Json controls = Json::array();
  for (const auto& c : fw.controls)
    controls.push_back(Json{{"id", c.id},
                            {"title", c.title},
                            {"section", c.section},
                            {"status", c.status},
                            {"rules", StringArray(c.rules)},
                            {"alarms", c.alarms},
                            {"oks", c.oks},
                            {"skips", c.skips}});
  return Json{{"id", fw.id},           {"title", fw.title},   {"version", fw.version},
              {"url", fw.url},         {"percent", fw.percent}, {"pass", fw.pass},
              {"fail", fw.fail},       {"manual", fw.manual}, {"not_applicable", fw.not_applicable},
              {"unknown", fw.unknown}, {"controls", std::move(controls)}};
}

Json GapJson(const store::Gap& g) {
  return Json{{"type", g.type},         {"service", g.service},       {"operation", g.operation}, {"region", g.region},
              {"resource", g.resource}, {"error_code", g.error_code}, {"message", g.message}};
}

Json ApiCallJson(const store::ApiCallStat& s) {
  return Json{{"service", s.service}, {"operation", s.operation}, {"region", s.region},
              {"calls", s.calls},     {"errors", s.errors},       {"elapsed_ms", s.elapsed_ms}};
}

Json ThreatRunJson(const store::ThreatRun& run) {
  return Json{{"id", run.id},
              {"started_at", run.started_at},
              {"ended_at", run.ended_at},
              {"status", run.status},
              {"tool_version", run.tool_version},
              {"sources", run.sources},
              {"since", run.since},
              {"until", run.until},
              {"rules", run.rules},
              {"records", run.records},
              {"malformed", run.malformed},
              {"alerts", run.alerts}};
}

Json AlertJson(const store::AlertRow& a) {
  return Json{{"alert_id", a.alert_id},
              {"run_id", a.run_id},
              {"rule_id", a.rule_id},
              {"rule_title", a.rule_title},
              {"level", a.level},
              {"tags", StringArray(a.tags)},
              {"event_time", a.event_time},
              {"event_id", a.event_id},
              {"event_name", a.event_name},
              {"event_source", a.event_source},
              {"account_id", a.account_id},
              {"region", a.region},
              {"principal", a.principal},
              {"source_ip", a.source_ip},
              {"user_agent", a.user_agent},
              {"source", a.source},
              {"record", EmbeddedJson(a.record)},
              {"suppression", a.suppression.is_null() ? Json(nullptr) : a.suppression}};
}

// Pretty JSON of a nested value, every line after the first indented by
// `depth` spaces (JSON strings never hold a raw newline, so this is safe).
std::string Nested(const Json& value, int depth) {
  std::string text = JsonText(value, 2);
  std::string pad(static_cast<size_t>(depth), ' ');
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    out += c;
    if (c == '\n') out += pad;
  }
  return out;
}

// A JSON array of one compact element per line.
template <typename Items, typename Fn>
void WriteArray(std::ostream& out, const Items& items, Fn&& to_json) {
  bool first = true;
  size_t n = 0;
  for (const auto& item : items) {
    auto value = to_json(item);
    if (!value) continue;
    out << (first ? "[\n    " : ",\n    ") << JsonText(*value);
    first = false;
    ++n;
  }
  out << (first ? "[]" : "\n  ]");
}

}  // namespace

Status WriteJson(const Report& report, std::ostream& out, const WriteOptions& options) {
  size_t listed = 0;
  for (const auto& f : report.findings)
    if (Listed(f, options)) ++listed;

  std::map<std::string, size_t> alerts_by_level;
  for (const auto& a : report.alerts)
    if (a.suppression.is_null()) ++alerts_by_level[a.level];

  const Summary& s = report.summary;
  Json summary = {{"by_status", CountMap(s.by_status)},
                  {"alarms_by_severity", CountMap(s.alarms_by_severity)},
                  {"alarms_by_service", CountMap(s.alarms_by_service)},
                  {"alarms_by_region", CountMap(s.alarms_by_region)},
                  {"suppressed", s.suppressed},
                  {"resources", s.resources},
                  {"rules", s.rules},
                  {"findings_listed", listed},
                  {"gaps", report.gaps.size()},
                  {"alerts", report.alerts.size()},
                  {"alerts_by_level", CountMap(alerts_by_level)}};
  Json rules = Json::object();
  for (const auto& [id, rule] : report.rules) rules[id] = RuleJson(rule);

  out << "{\n  \"schema_version\": \"" << kSchemaVersion << "\",\n";
  out << "  \"tool\": " << JsonText(Json{{"name", "cloudaudit"}, {"version", report.tool_version}}) << ",\n";
  out << "  \"generated_at\": " << JsonText(report.generated_at) << ",\n";
  out << "  \"include_passed\": " << (options.include_passed ? "true" : "false") << ",\n";
  out << "  \"scan\": " << Nested(ScanJson(report.scan), 2) << ",\n";
  out << "  \"summary\": " << Nested(summary, 2) << ",\n";
  out << "  \"rules\": " << Nested(rules, 2) << ",\n";
  out << "  \"findings\": ";
  WriteArray(out, report.findings, [&](const Finding& f) -> std::optional<Json> {
    if (!Listed(f, options)) return std::nullopt;
    return FindingJson(f);
  });
  out << ",\n  \"frameworks\": ";
  WriteArray(out, report.frameworks, [](const FrameworkResult& fw) -> std::optional<Json> { return FrameworkJson(fw); });
  out << ",\n  \"diff\": ";
  if (!report.diff) {
    out << "null";
  } else {
    const ScanDiff& d = *report.diff;
    out << "{\n    \"previous_scan_id\": " << d.previous_scan_id
        << ",\n    \"previous_started_at\": " << JsonText(d.previous_started_at) << ",\n    \"new\": " << d.new_alarms
        << ",\n    \"open\": " << d.open_alarms << ",\n    \"resolved\": " << d.resolved.size()
        << ",\n    \"resolved_findings\": ";
    bool first = true;
    for (const auto& row : d.resolved) {
      out << (first ? "[\n      " : ",\n      ") << JsonText(RowJson(row));
      first = false;
    }
    out << (first ? "[]" : "\n    ]") << "\n  }";
  }
  out << ",\n  \"gaps\": ";
  WriteArray(out, report.gaps, [](const store::Gap& g) -> std::optional<Json> { return GapJson(g); });
  out << ",\n  \"api_calls\": ";
  WriteArray(out, report.api_calls, [](const store::ApiCallStat& c) -> std::optional<Json> { return ApiCallJson(c); });
  out << ",\n  \"threat_run\": " << (report.threat_run ? Nested(ThreatRunJson(*report.threat_run), 2) : "null");
  out << ",\n  \"alerts\": ";
  WriteArray(out, report.alerts, [](const store::AlertRow& a) -> std::optional<Json> { return AlertJson(a); });
  out << "\n}\n";
  if (!out) return MakeError(ErrorCode::kIo, "could not write the JSON report");
  return {};
}

}  // namespace cloudaudit::report
