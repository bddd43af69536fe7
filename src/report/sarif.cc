// SARIF 2.1.0 (OASIS), shaped for GitHub code scanning: one run whose
// driver lists the rules that have results (with help text, remediation and
// GitHub's `security-severity`), one result per listed finding and one per
// threat alert (rules of the Sigma pack). A cloud resource is not a file:
// each result carries the resource ARN both as a logical location (kind
// "resource") and as the artifact URI of a physical location, because GitHub
// rejects results without one (docs/reports.md). Collection gaps and rule
// errors are tool execution notifications, not results.
#include <algorithm>
#include <map>

#include "base/strings.h"
#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

constexpr const char* kSarifSchema =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
constexpr size_t kMaxTags = 20;  // GitHub keeps at most 20 tags per rule

std::string Level(std::string_view severity) {
  if (severity == "critical" || severity == "high") return "error";
  if (severity == "medium") return "warning";
  return "note";
}

// GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9),
// medium (4.0-6.9) and low (0.1-3.9).
std::string SecuritySeverity(std::string_view severity) {
  if (severity == "critical") return "9.5";
  if (severity == "high") return "8.0";
  if (severity == "medium") return "5.5";
  if (severity == "low") return "3.0";
  return "0.0";
}

std::string PascalCase(std::string_view text) {
  std::string out;
  bool upper = true;
  for (char c : text) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out.empty() ? std::string("Rule") : out;
}

// A fenced code block whose fence is longer than any backtick run inside.
std::string Fenced(const std::string& body, const char* lang) {
  size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  std::string fence(std::max<size_t>(3, longest + 1), '`');
  std::string text = body;
  if (!text.empty() && text.back() != '\n') text += '\n';
  return fence + lang + "\n" + text + fence + "\n";
}

Json StringsToValid(const Json& strings) {
  Json out = Json::array();
  for (const auto& s : strings) out.push_back(s.is_string() ? Json(ValidUtf8(s.get<std::string>())) : s);
  return out;
}

Json Message(const std::string& text) { return Json{{"text", ValidUtf8(text.empty() ? std::string("(no text)") : text)}}; }

Json RuleDescriptor(const RuleInfo& rule) {
  std::string text = rule.description;
  std::string md = "**" + rule.title + "**\n\n" + rule.description + "\n";
  if (!rule.remediation.console.empty()) {
    text += "\n\nRemediation (console):\n" + rule.remediation.console;
    md += "\n### Remediation (console)\n\n" + rule.remediation.console + "\n";
  }
  if (!rule.remediation.cli.empty()) {
    text += "\n\nAWS CLI:\n" + rule.remediation.cli;
    md += "\n### AWS CLI\n\n" + Fenced(rule.remediation.cli, "sh");
  }
  if (!rule.remediation.terraform.empty()) md += "\n### Terraform\n\n" + Fenced(rule.remediation.terraform, "hcl");
  if (!rule.remediation.cloudformation.empty())
    md += "\n### CloudFormation\n\n" + Fenced(rule.remediation.cloudformation, "yaml");
  if (!rule.remediation.prevent.empty()) {
    text += "\n\nPrevent it:\n" + rule.remediation.prevent;
    md += "\n### Prevent it\n\n" + rule.remediation.prevent + "\n";
  }
  std::vector<std::string> refs = ComplianceRefs(rule);
  if (!refs.empty()) {
    std::string joined;
    for (const auto& r : refs) joined += (joined.empty() ? "" : ", ") + r;
    text += "\n\nCompliance: " + joined;
    md += "\n### Compliance\n\n" + joined + "\n";
  }
  if (!rule.references.empty()) {
    md += "\n### References\n\n";
    for (const auto& r : rule.references) md += "- " + r + "\n";
  }

  Json tags = Json::array({"security", "aws"});
  auto add_tag = [&](const std::string& t) {
    if (!t.empty() && tags.size() < kMaxTags && std::find(tags.begin(), tags.end(), Json(t)) == tags.end()) tags.push_back(t);
  };
  add_tag(rule.service);
  add_tag(rule.severity);
  for (const auto& p : rule.pillars) add_tag(p);
  for (const auto& t : rule.tags) add_tag(t);
  for (const auto& r : refs) add_tag(r);

  Json out = {{"id", rule.id},
              {"name", PascalCase(rule.id.substr(rule.id.rfind('.') + 1))},
              {"shortDescription", Message(rule.title.empty() ? rule.id : rule.title)},
              {"fullDescription", Message(rule.description.empty() ? rule.title : rule.description)},
              {"help", {{"text", ValidUtf8(text.empty() ? rule.title : text)}, {"markdown", ValidUtf8(md)}}},
              {"defaultConfiguration", {{"level", Level(rule.severity)}}},
              {"properties",
               {{"tags", StringsToValid(tags)},
                {"security-severity", SecuritySeverity(rule.severity)},
                {"precision", "very-high"},
                {"problem.severity", rule.severity == "critical" || rule.severity == "high" ? "error"
                                     : rule.severity == "medium"                             ? "warning"
                                                                                             : "recommendation"}}}};
  if (!rule.references.empty() && rule.references.front().rfind("http", 0) == 0) out["helpUri"] = rule.references.front();
  return out;
}

// An alert's rule: the Sigma rule id, title and ATT&CK tags.
Json SigmaDescriptor(const store::AlertRow& a) {
  Json tags = Json::array({"security", "aws", "cloudtrail", "sigma"});
  for (const auto& t : a.tags)
    if (tags.size() < kMaxTags && std::find(tags.begin(), tags.end(), Json(t)) == tags.end()) tags.push_back(ValidUtf8(t));
  std::string text = "Sigma rule " + a.rule_id + " matched a CloudTrail record: " + a.rule_title;
  return Json{{"id", ValidUtf8(a.rule_id)},
              {"name", PascalCase(a.rule_title)},
              {"shortDescription", Message(a.rule_title)},
              {"fullDescription", Message(text)},
              {"help", {{"text", ValidUtf8(text)}}},
              {"defaultConfiguration", {{"level", Level(a.level)}}},
              {"properties", {{"tags", tags}, {"security-severity", SecuritySeverity(a.level)}, {"precision", "medium"}}}};
}

std::string ResourceUri(const store::FindingRow& row) {
  if (row.resource.rfind("arn:", 0) == 0) return UriEncodeKeeping(row.resource, ":/");
  return "aws/" + UriEncode(row.account_id) + "/" + UriEncode(row.region) + "/" + UriEncodeKeeping(row.resource, "/");
}

Json Location(const std::string& uri, const std::string& name, const std::string& fqn, const char* kind) {
  return Json{{"physicalLocation", {{"artifactLocation", {{"uri", uri}}}, {"region", {{"startLine", 1}}}}},
              {"logicalLocations", Json::array({Json{{"name", ValidUtf8(name)}, {"fullyQualifiedName", ValidUtf8(fqn)}, {"kind", kind}}})}};
}

Json FindingResult(const Report& report, const Finding& f, int rule_index) {
  const auto& r = f.row;
  Json result = {{"ruleId", r.rule_id},
                 {"ruleIndex", rule_index},
                 {"message", Message(r.reason)},
                 {"locations", Json::array({Location(ResourceUri(r), r.resource_name.empty() ? r.resource : r.resource_name,
                                                     r.resource, "resource")})},
                 {"partialFingerprints", {{"cloudauditFindingId/v1", r.finding_id}}}};
  if (r.status == "alarm") {
    result["kind"] = "fail";
    result["level"] = Level(r.severity);
  } else {
    result["kind"] = r.status == "ok" ? "pass" : "review";
    result["level"] = "none";
  }
  if (f.change == "new") result["baselineState"] = "new";
  if (f.change == "open") result["baselineState"] = "unchanged";
  if (f.suppressed()) {
    Json s = {{"kind", "external"}, {"status", "accepted"}};
    auto reason = r.suppression.find("reason");
    if (reason != r.suppression.end() && reason->is_string()) s["justification"] = ValidUtf8(reason->get<std::string>());
    result["suppressions"] = Json::array({std::move(s)});
  }
  Json props = {{"status", r.status},          {"severity", r.severity}, {"service", r.service},
                {"account_id", r.account_id},  {"region", r.region},     {"resource", ValidUtf8(r.resource)},
                {"scan_id", report.scan.id}};
  if (!f.first_seen.empty()) props["first_seen"] = f.first_seen;
  if (!f.change.empty()) props["change"] = f.change;
  if (!r.remediation_cli.empty()) props["remediation_cli"] = ValidUtf8(r.remediation_cli);
  result["properties"] = std::move(props);
  if (auto fs = Rfc3339Utc(f.first_seen); !fs.empty()) result["provenance"] = {{"firstDetectionTimeUtc", fs}};
  return result;
}

Json AlertResult(const store::AlertRow& a, int rule_index) {
  std::string message = a.event_name + " by " + (a.principal.empty() ? "an unknown principal" : a.principal);
  if (!a.source_ip.empty()) message += " from " + a.source_ip;
  if (!a.event_time.empty()) message += " at " + a.event_time;
  std::string uri = "cloudtrail/" + UriEncode(a.account_id) + "/" + UriEncode(a.region) + "/" + UriEncode(a.event_id);
  Json result = {{"ruleId", ValidUtf8(a.rule_id)},
                 {"ruleIndex", rule_index},
                 {"kind", "fail"},
                 {"level", Level(a.level)},
                 {"message", Message(message)},
                 {"locations", Json::array({Location(uri, a.principal.empty() ? a.event_name : a.principal,
                                                     a.principal.empty() ? a.event_name : a.principal, "user")})},
                 {"partialFingerprints", {{"cloudauditAlertId/v1", a.alert_id}}},
                 {"properties",
                  {{"event_time", a.event_time},
                   {"event_name", ValidUtf8(a.event_name)},
                   {"event_source", ValidUtf8(a.event_source)},
                   {"principal", ValidUtf8(a.principal)},
                   {"source_ip", ValidUtf8(a.source_ip)},
                   {"account_id", a.account_id},
                   {"region", a.region},
                   {"source", ValidUtf8(a.source)}}}};
  if (!a.suppression.is_null()) {
    Json s = {{"kind", "external"}, {"status", "accepted"}};
    auto reason = a.suppression.find("reason");
    if (reason != a.suppression.end() && reason->is_string()) s["justification"] = ValidUtf8(reason->get<std::string>());
    result["suppressions"] = Json::array({std::move(s)});
  }
  return result;
}

}  // namespace

Status WriteSarif(const Report& report, std::ostream& out, const WriteOptions& options) {
  // Rules with at least one result, by id; then the Sigma rules of alerts.
  std::map<std::string, int> rule_index;
  Json rules = Json::array();
  {
    std::map<std::string, const RuleInfo*> used;
    for (const auto& f : report.findings)
      if (Listed(f, options) && f.row.status != "error") used.emplace(f.row.rule_id, f.rule);
    for (const auto& [id, rule] : used) {
      rule_index[id] = static_cast<int>(rules.size());
      rules.push_back(RuleDescriptor(*rule));
    }
    for (const auto& a : report.alerts) {
      if (rule_index.count(a.rule_id)) continue;
      rule_index[a.rule_id] = static_cast<int>(rules.size());
      rules.push_back(SigmaDescriptor(a));
    }
  }

  Json notifications = Json::array();
  for (const auto& g : report.gaps) {
    std::string text = "collection gap: " + g.service + " " + g.operation + " in " + g.region;
    if (!g.resource.empty()) text += " for " + g.resource;
    text += ": " + g.error_code + (g.message.empty() ? "" : " (" + g.message + ")");
    notifications.push_back(Json{{"level", "warning"}, {"message", Message(text)}});
  }
  for (const auto& f : report.findings) {
    if (f.row.status != "error") continue;
    notifications.push_back(Json{{"level", "error"},
                                 {"message", Message("rule " + f.row.rule_id + " failed for " + f.row.resource + ": " + f.row.reason)},
                                 {"associatedRule", {{"id", f.row.rule_id}}}});
  }
  Json invocation = {{"executionSuccessful", report.scan.status != "failed"}};
  if (auto t = Rfc3339Utc(report.scan.started_at); !t.empty()) invocation["startTimeUtc"] = t;
  if (auto t = Rfc3339Utc(report.scan.ended_at); !t.empty()) invocation["endTimeUtc"] = t;
  if (!notifications.empty()) invocation["toolExecutionNotifications"] = std::move(notifications);

  Json driver = {{"name", "cloudaudit"}, {"rules", std::move(rules)}};
  if (!report.tool_version.empty()) driver["version"] = report.tool_version;
  Json run_props = {{"scan_id", report.scan.id},
                    {"account_id", report.scan.account_id},
                    {"partition", report.scan.partition},
                    {"regions", report.scan.regions},
                    {"scan_status", report.scan.status},
                    {"suppressed", report.summary.suppressed},
                    {"resources", report.summary.resources}};

  out << "{\n  \"$schema\": \"" << kSarifSchema << "\",\n  \"version\": \"2.1.0\",\n  \"runs\": [\n    {\n";
  out << "      \"tool\": " << JsonText(Json{{"driver", std::move(driver)}}) << ",\n";
  out << "      \"automationDetails\": "
      << JsonText(Json{{"id", "cloudaudit/" + report.scan.account_id + "/" + std::to_string(report.scan.id)}}) << ",\n";
  out << "      \"invocations\": [" << JsonText(invocation) << "],\n";
  out << "      \"properties\": " << JsonText(run_props) << ",\n";
  out << "      \"results\": [";
  bool first = true;
  auto emit = [&](const Json& result) {
    out << (first ? "\n        " : ",\n        ") << JsonText(result);
    first = false;
  };
  for (const auto& f : report.findings) {
    if (!Listed(f, options) || f.row.status == "error") continue;
    emit(FindingResult(report, f, rule_index.at(f.row.rule_id)));
  }
  for (const auto& a : report.alerts) emit(AlertResult(a, rule_index.at(a.rule_id)));
  out << (first ? "]\n" : "\n      ]\n") << "    }\n  ]\n}\n";
  if (!out) return MakeError(ErrorCode::kIo, "could not write the SARIF report");
  return {};
}

}  // namespace cloudaudit::report
