// AWS Security Finding Format for Security Hub's BatchImportFindings: a JSON
// array of findings, one per line, ready for
// `aws securityhub batch-import-findings --findings file://...` once split
// into batches of 100 (the API's limit; docs/reports.md shows the loop).
// Findings resolved since the previous scan are written ARCHIVED so that
// Security Hub closes them. Threat alerts follow, typed by their ATT&CK
// tactics (TTPs/...), with the principal as the resource.
#include <algorithm>
#include <map>

#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

// Limits of the AwsSecurityFinding fields (Security Hub API reference).
constexpr size_t kTitleMax = 256;
constexpr size_t kDescriptionMax = 1024;
constexpr size_t kRecommendationMax = 512;
constexpr size_t kProductFieldValueMax = 2048;
constexpr size_t kResourceIdMax = 512;
constexpr size_t kRelatedRequirementsMax = 32;

std::string Label(std::string_view severity) {
  if (severity == "critical") return "CRITICAL";
  if (severity == "high") return "HIGH";
  if (severity == "medium") return "MEDIUM";
  if (severity == "low") return "LOW";
  return "INFORMATIONAL";
}

// Security Hub's classifier names for the standards it knows; other
// frameworks are named by their catalogue title.
std::string StandardClassifier(const Report& report, const std::string& framework) {
  static const std::map<std::string, std::string> kKnown = {
      {"cis-aws-v3.0", "CIS AWS Foundations Benchmark"},
      {"fsbp", "AWS-Foundational-Security-Best-Practices"},
      {"pci-dss-v4.0", "PCI-DSS"},
      {"nist-800-53-rev5", "NIST 800-53 Controls (USA)"},
      {"hipaa", "HIPAA Controls (USA)"},
      {"soc2", "SOC 2"},
      {"iso-27001-2022", "ISO 27001 Controls"},
      {"gdpr", "GDPR Controls (Europe)"},
      {"apra-cps-234", "APRA CPS 234"},
      {"mas-trm", "MAS TRM Guidelines"},
  };
  auto it = kKnown.find(framework);
  if (it != kKnown.end()) return it->second;
  std::string name = framework;
  for (const auto& fw : report.frameworks)
    if (fw.id == framework && !fw.title.empty()) name = fw.title;
  // '/' separates namespace, category and classifier.
  std::replace(name.begin(), name.end(), '/', '-');
  return ValidUtf8(name);
}

Json Types(const Report& report, const RuleInfo& rule) {
  Json types = Json::array({"Software and Configuration Checks/AWS Security Best Practices"});
  for (const auto& [framework, controls] : rule.compliance) {
    std::string t = "Software and Configuration Checks/Industry and Regulatory Standards/" + StandardClassifier(report, framework);
    if (std::find(types.begin(), types.end(), Json(t)) == types.end() && types.size() < 50) types.push_back(t);
  }
  return types;
}

std::string HomeRegion(const Report& report) {
  return report.scan.regions.empty() ? std::string("us-east-1") : report.scan.regions.front();
}

std::string Partition(const Report& report) {
  const std::string& p = report.scan.partition;
  return p == "aws-cn" || p == "aws-us-gov" ? p : std::string("aws");
}

Json AsffFinding(const Report& report, const store::FindingRow& row, const RuleInfo& rule, bool suppressed,
                 const std::string& first_seen, const std::string& change, bool resolved) {
  std::string scan_time = Rfc3339Utc(report.scan.started_at);
  if (scan_time.empty()) scan_time = Rfc3339Utc(report.generated_at);
  std::string created = Rfc3339Utc(first_seen);
  if (created.empty() || EpochMillis(created) > EpochMillis(scan_time)) created = scan_time;
  std::string region = row.region.empty() || row.region == "global" ? HomeRegion(report) : row.region;
  std::string account = row.account_id.empty() ? report.scan.account_id : row.account_id;

  std::string description = row.reason;
  if (resolved) description = "Resolved since the previous scan (was: " + row.reason + ").";
  if (!rule.description.empty()) description += "\n\n" + rule.description;
  std::string recommendation = rule.remediation.console.empty() ? rule.description : rule.remediation.console;
  if (recommendation.empty()) recommendation = rule.title;

  std::string compliance_status = resolved                ? "PASSED"
                                  : row.status == "alarm" ? "FAILED"
                                  : row.status == "ok"    ? "PASSED"
                                  : row.status == "skip"  ? "WARNING"
                                                          : "NOT_AVAILABLE";
  std::string workflow = resolved || row.status == "ok" ? "RESOLVED" : suppressed ? "SUPPRESSED" : "NEW";

  Json requirements = Json::array();
  for (const auto& [framework, controls] : rule.compliance)
    for (const auto& c : controls)
      if (requirements.size() < kRelatedRequirementsMax) requirements.push_back(framework + "/" + c);
  Json compliance = {{"Status", compliance_status}};
  if (!requirements.empty()) compliance["RelatedRequirements"] = std::move(requirements);

  Json product_fields = {{"cloudaudit/RuleId", rule.id},
                         {"cloudaudit/FindingId", row.finding_id},
                         {"cloudaudit/ScanId", std::to_string(report.scan.id)},
                         {"cloudaudit/Status", resolved ? std::string("resolved") : row.status},
                         {"cloudaudit/Service", row.service}};
  if (!change.empty()) product_fields["cloudaudit/Change"] = change;
  if (!row.remediation_cli.empty())
    product_fields["cloudaudit/RemediationCli"] = TruncateUtf16(ValidUtf8(row.remediation_cli), kProductFieldValueMax);
  if (suppressed) {
    auto reason = row.suppression.find("reason");
    if (reason != row.suppression.end() && reason->is_string())
      product_fields["cloudaudit/SuppressionReason"] = TruncateUtf16(ValidUtf8(reason->get<std::string>()), kProductFieldValueMax);
  }

  std::string resource_type = AsffResourceType(row.resource, rule.resource_table);
  Json resource = {{"Type", resource_type},
                   {"Id", TruncateUtf16(ValidUtf8(row.resource.empty() ? row.finding_id : row.resource), kResourceIdMax)},
                   {"Partition", Partition(report)},
                   {"Region", region}};
  if (resource_type == "Other" && !row.resource_name.empty())
    resource["Details"] = {{"Other", {{"Name", TruncateUtf16(ValidUtf8(row.resource_name), kProductFieldValueMax)}}}};

  Json severity = {{"Label", Label(row.severity)}, {"Original", row.severity.empty() ? std::string("unknown") : row.severity}};
  Json types = Types(report, rule);
  Json recommendation_obj = {{"Text", TruncateUtf16(ValidUtf8(recommendation), kRecommendationMax)}};
  if (!rule.references.empty()) recommendation_obj["Url"] = rule.references.front();

  Json finding = {
      {"SchemaVersion", "2018-10-08"},
      {"Id", "cloudaudit/" + row.finding_id},
      {"ProductArn", "arn:" + Partition(report) + ":securityhub:" + HomeRegion(report) + ":" + account + ":product/" +
                         account + "/default"},
      {"ProductName", "cloudaudit"},
      {"CompanyName", "cloudaudit"},
      {"GeneratorId", rule.id},
      {"AwsAccountId", account},
      {"Types", types},
      {"CreatedAt", created},
      {"UpdatedAt", scan_time},
      {"Severity", severity},
      {"Title", TruncateUtf16(ValidUtf8(rule.title.empty() ? rule.id : rule.title), kTitleMax)},
      {"Description", TruncateUtf16(ValidUtf8(description), kDescriptionMax)},
      {"Remediation", {{"Recommendation", std::move(recommendation_obj)}}},
      {"ProductFields", std::move(product_fields)},
      {"Resources", Json::array({std::move(resource)})},
      {"Compliance", std::move(compliance)},
      {"Workflow", {{"Status", workflow}}},
      {"RecordState", resolved ? "ARCHIVED" : "ACTIVE"},
      {"FindingProviderFields", {{"Severity", severity}, {"Types", types}}},
  };
  if (row.status == "alarm" && !resolved) {
    finding["FirstObservedAt"] = created;
    finding["LastObservedAt"] = scan_time;
  }
  return finding;
}

// The ASFF classifier of a Sigma rule's ATT&CK tactic tags.
Json AlertTypes(const store::AlertRow& a) {
  static const std::map<std::string, std::string> kTactics = {
      {"attack.initial_access", "TTPs/Initial Access"},
      {"attack.execution", "TTPs/Execution"},
      {"attack.persistence", "TTPs/Persistence"},
      {"attack.privilege_escalation", "TTPs/Privilege Escalation"},
      {"attack.defense_evasion", "TTPs/Defense Evasion"},
      {"attack.credential_access", "TTPs/Credential Access"},
      {"attack.discovery", "TTPs/Discovery"},
      {"attack.lateral_movement", "TTPs/Lateral Movement"},
      {"attack.collection", "TTPs/Collection"},
      {"attack.command_and_control", "TTPs/Command and Control"},
      {"attack.exfiltration", "Effects/Data Exfiltration"},
      {"attack.impact", "Effects/Data Destruction"},
  };
  Json types = Json::array();
  for (const auto& tag : a.tags) {
    auto it = kTactics.find(tag);
    if (it != kTactics.end() && std::find(types.begin(), types.end(), Json(it->second)) == types.end()) types.push_back(it->second);
  }
  if (types.empty()) types.push_back("Unusual Behaviors/User");
  return types;
}

// A threat alert as an ASFF finding: the principal as the resource, the
// CloudTrail event in ProductFields.
Json AsffAlert(const Report& report, const store::AlertRow& a) {
  std::string event_time = Rfc3339Utc(a.event_time);
  std::string updated = Rfc3339Utc(report.generated_at);
  if (event_time.empty()) event_time = updated;
  std::string account = a.account_id.empty() ? report.scan.account_id : a.account_id;
  std::string region = a.region.empty() ? HomeRegion(report) : a.region;
  Json severity = {{"Label", Label(a.level)}, {"Original", a.level.empty() ? std::string("unknown") : a.level}};
  Json types = AlertTypes(a);
  std::string principal = a.principal.rfind("arn:", 0) == 0 ? a.principal : std::string();
  std::string resource_type = principal.empty() ? std::string("AwsAccount") : AsffResourceType(principal, "");
  Json resource = {{"Type", resource_type},
                   {"Id", TruncateUtf16(ValidUtf8(principal.empty() ? "AWS::::Account:" + account : principal), kResourceIdMax)},
                   {"Partition", Partition(report)},
                   {"Region", region}};
  Json product_fields = {{"cloudaudit/RuleId", a.rule_id},
                         {"cloudaudit/AlertId", a.alert_id},
                         {"cloudaudit/EventName", a.event_name},
                         {"cloudaudit/EventSource", a.event_source},
                         {"cloudaudit/EventId", a.event_id},
                         {"cloudaudit/Principal", TruncateUtf16(ValidUtf8(a.principal), kProductFieldValueMax)},
                         {"cloudaudit/SourceIp", a.source_ip},
                         {"cloudaudit/UserAgent", TruncateUtf16(ValidUtf8(a.user_agent), kProductFieldValueMax)},
                         {"cloudaudit/Source", TruncateUtf16(ValidUtf8(a.source), kProductFieldValueMax)}};
  std::string description = a.event_name + " by " + (a.principal.empty() ? std::string("an unknown principal") : a.principal) +
                            " from " + (a.source_ip.empty() ? std::string("an unknown address") : a.source_ip) + " at " +
                            a.event_time + " in " + region + ".";
  return Json{
      {"SchemaVersion", "2018-10-08"},
      {"Id", "cloudaudit/alert/" + a.alert_id},
      {"ProductArn", "arn:" + Partition(report) + ":securityhub:" + HomeRegion(report) + ":" + account + ":product/" + account +
                         "/default"},
      {"ProductName", "cloudaudit"},
      {"CompanyName", "cloudaudit"},
      {"GeneratorId", a.rule_id},
      {"AwsAccountId", account},
      {"Types", types},
      {"CreatedAt", event_time},
      {"UpdatedAt", updated.empty() ? event_time : updated},
      {"FirstObservedAt", event_time},
      {"LastObservedAt", event_time},
      {"Severity", severity},
      {"Title", TruncateUtf16(ValidUtf8(a.rule_title.empty() ? a.rule_id : a.rule_title), kTitleMax)},
      {"Description", TruncateUtf16(ValidUtf8(description), kDescriptionMax)},
      {"ProductFields", std::move(product_fields)},
      {"Resources", Json::array({std::move(resource)})},
      {"Workflow", {{"Status", a.suppression.is_null() ? "NEW" : "SUPPRESSED"}}},
      {"RecordState", "ACTIVE"},
      {"FindingProviderFields", {{"Severity", severity}, {"Types", types}}},
  };
}

}  // namespace

Status WriteAsff(const Report& report, std::ostream& out, const WriteOptions& options) {
  bool first = true;
  auto emit = [&](const Json& finding) {
    out << (first ? "[\n" : ",\n") << JsonText(finding);
    first = false;
  };
  for (const auto& f : report.findings) {
    if (!Listed(f, options)) continue;
    emit(AsffFinding(report, f.row, *f.rule, f.suppressed(), f.first_seen, f.change, false));
  }
  if (report.diff) {
    for (const auto& row : report.diff->resolved) {
      auto it = report.rules.find(row.rule_id);
      RuleInfo fallback;
      fallback.id = fallback.title = row.rule_id;
      fallback.service = row.service;
      fallback.severity = row.severity;
      emit(AsffFinding(report, row, it == report.rules.end() ? fallback : it->second, false, "", "resolved", true));
    }
  }
  for (const auto& a : report.alerts) emit(AsffAlert(report, a));
  out << (first ? "[]\n" : "\n]\n");
  if (!out) return MakeError(ErrorCode::kIo, "could not write the ASFF report");
  return {};
}

}  // namespace cloudaudit::report
