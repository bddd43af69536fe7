// OCSF (Open Cybersecurity Schema Framework) events: posture findings as
// Compliance Finding (class 2003), findings resolved since the previous scan
// as Compliance Finding "Close" events, threat alerts as Detection Finding
// (class 2004). The output is one JSON array, one event per line (docs/reports.md
// shows how to turn it into JSON Lines for Firehose/Security Lake).
#include <arpa/inet.h>

#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

constexpr const char* kOcsfVersion = "1.9.0";
constexpr int kCategoryFindings = 2;
constexpr int kClassCompliance = 2003;
constexpr int kClassDetection = 2004;
constexpr int kActivityCreate = 1;
constexpr int kActivityClose = 3;

struct Caption {
  int id;
  const char* name;
};

Caption SeverityOf(std::string_view severity) {
  if (severity == "critical") return {5, "Critical"};
  if (severity == "high") return {4, "High"};
  if (severity == "medium") return {3, "Medium"};
  if (severity == "low") return {2, "Low"};
  if (severity == "informational") return {1, "Informational"};
  return {0, "Unknown"};
}

// Finding status_id: New 1, Suppressed 3, Resolved 4.
Caption FindingStatus(const std::string& status, bool suppressed) {
  if (suppressed) return {3, "Suppressed"};
  if (status == "alarm") return {1, "New"};
  if (status == "ok") return {4, "Resolved"};
  return {1, "New"};
}

// Compliance status_id: Pass 1, Warning 2 (no result: missing data), Fail 3.
Caption ComplianceStatus(const std::string& status) {
  if (status == "alarm") return {3, "Fail"};
  if (status == "ok") return {1, "Pass"};
  return {2, "Warning"};
}

Json Metadata(const Report& report, const std::string& uid) {
  return Json{{"version", kOcsfVersion},
              {"product", {{"name", "cloudaudit"}, {"vendor_name", "cloudaudit"}, {"version", report.tool_version}}},
              {"profiles", Json::array({"cloud"})},
              {"uid", uid}};
}

Json Cloud(const std::string& account_id, const std::string& region) {
  Json cloud = {{"provider", "AWS"},
                {"account", {{"uid", account_id}, {"type_id", 10}, {"type", "AWS Account"}}}};
  if (!region.empty() && region != "global") cloud["region"] = region;
  return cloud;
}

Json Base(const Report& report, int class_uid, const char* class_name, int activity_id, const char* activity_name,
          Caption severity, int64_t time_ms, const std::string& uid) {
  return Json{{"category_uid", kCategoryFindings},
              {"category_name", "Findings"},
              {"class_uid", class_uid},
              {"class_name", class_name},
              {"activity_id", activity_id},
              {"activity_name", activity_name},
              {"type_uid", class_uid * 100 + activity_id},
              {"type_name", std::string(class_name) + ": " + activity_name},
              {"severity_id", severity.id},
              {"severity", severity.name},
              {"time", time_ms},
              {"metadata", Metadata(report, uid)}};
}

Json StringArray(const std::vector<std::string>& values) {
  Json out = Json::array();
  for (const auto& v : values) out.push_back(ValidUtf8(v));
  return out;
}

Json ComplianceObject(const RuleInfo& rule, const std::string& status) {
  Json standards = Json::array();
  Json requirements = Json::array();
  for (const auto& [framework, controls] : rule.compliance) {
    standards.push_back(framework);
    for (const auto& c : controls) requirements.push_back(framework + " " + c);
  }
  // `standards` is required: a rule that maps to no framework is checked
  // against cloudaudit's own rule set.
  if (standards.empty()) standards.push_back("cloudaudit");
  Caption st = ComplianceStatus(status);
  Json out = {{"control", rule.id}, {"standards", std::move(standards)}, {"status_id", st.id}, {"status", st.name}};
  if (!requirements.empty()) out["requirements"] = std::move(requirements);
  return out;
}

Json Remediation(const RuleInfo& rule, const std::string& filled_cli) {
  std::string desc = rule.remediation.console;
  if (!filled_cli.empty()) desc += (desc.empty() ? "" : "\n\n") + std::string("AWS CLI:\n") + filled_cli;
  if (desc.empty()) desc = rule.description.empty() ? rule.title : rule.description;
  Json out = {{"desc", ValidUtf8(desc)}};
  if (!rule.references.empty()) out["references"] = StringArray(rule.references);
  return out;
}

Json Resource(const store::FindingRow& row, const RuleInfo& rule, const std::string& partition) {
  std::string type = AsffResourceType(row.resource, rule.resource_table);
  if (type == "Other" && !rule.resource_table.empty()) type = rule.resource_table;
  Json out = {{"uid", ValidUtf8(row.resource)}, {"type", type}, {"cloud_partition", partition.empty() ? "aws" : partition}};
  if (!row.resource_name.empty()) out["name"] = ValidUtf8(row.resource_name);
  if (!row.region.empty() && row.region != "global") out["region"] = row.region;
  return out;
}

Json ComplianceFinding(const Report& report, const store::FindingRow& row, const RuleInfo& rule, bool suppressed,
                       const std::string& first_seen, bool resolved) {
  int64_t scan_ms = EpochMillis(report.scan.started_at).value_or(0);
  Caption severity = SeverityOf(row.severity);
  Json event = Base(report, kClassCompliance, "Compliance Finding", resolved ? kActivityClose : kActivityCreate,
                    resolved ? "Close" : "Create", severity, scan_ms, row.finding_id);
  Caption status = resolved ? Caption{4, "Resolved"} : FindingStatus(row.status, suppressed);
  event["status_id"] = status.id;
  event["status"] = status.name;
  event["message"] = ValidUtf8(resolved ? "resolved since the previous scan: " + row.reason : row.reason);
  Json info = {{"uid", row.finding_id},
               {"title", ValidUtf8(rule.title)},
               {"types", Json::array({"Configuration/" + (row.service.empty() ? rule.service : row.service)})},
               {"analytic", {{"uid", rule.id}, {"name", ValidUtf8(rule.title)}, {"type_id", 1}, {"type", "Rule"}}},
               {"last_seen_time", scan_ms}};
  if (!rule.description.empty()) info["desc"] = ValidUtf8(rule.description);
  if (auto fs = EpochMillis(first_seen)) info["first_seen_time"] = *fs;
  event["finding_info"] = std::move(info);
  event["compliance"] = ComplianceObject(rule, resolved ? "ok" : row.status);
  event["resources"] = Json::array({Resource(row, rule, report.scan.partition)});
  event["remediation"] = Remediation(rule, row.remediation_cli);
  event["cloud"] = Cloud(row.account_id, row.region);
  if (suppressed && !row.suppression.is_null()) {
    auto reason = row.suppression.find("reason");
    if (reason != row.suppression.end() && reason->is_string())
      event["status_detail"] = ValidUtf8("suppressed: " + reason->get<std::string>());
  }
  return event;
}

bool IsIpAddress(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// OCSF user from the CloudTrail userIdentity: uid is the ARN, type_id
// User 1 / Admin 2 (root) / System 3 (AWS services) / Other 99.
Json Actor(const store::AlertRow& a, const Json& record) {
  Json user = {{"account", {{"uid", a.account_id}, {"type_id", 10}, {"type", "AWS Account"}}}};
  std::string identity_type;
  if (record.is_object()) {
    auto ui = record.find("userIdentity");
    if (ui != record.end() && ui->is_object()) {
      auto t = ui->find("type");
      if (t != ui->end() && t->is_string()) identity_type = t->get<std::string>();
      auto acct = ui->find("accountId");
      if (acct != ui->end() && acct->is_string()) user["account"]["uid"] = acct->get<std::string>();
      auto name = ui->find("userName");
      if (name != ui->end() && name->is_string()) user["name"] = ValidUtf8(name->get<std::string>());
    }
  }
  if (a.principal.rfind("arn:", 0) == 0) {
    user["uid"] = ValidUtf8(a.principal);
    if (!user.contains("name")) user["name"] = ValidUtf8(a.principal.substr(a.principal.rfind('/') + 1));
  } else if (!a.principal.empty()) {
    user["name"] = ValidUtf8(a.principal);
  }
  Caption type = identity_type == "IAMUser"      ? Caption{1, "User"}
                 : identity_type == "Root"       ? Caption{2, "Admin"}
                 : identity_type == "AWSService" ? Caption{3, "System"}
                                                 : Caption{99, "Other"};
  user["type_id"] = type.id;
  user["type"] = type.id == 99 && !identity_type.empty() ? ValidUtf8(identity_type) : std::string(type.name);
  return Json{{"user", std::move(user)}};
}

Json DetectionFinding(const Report& report, const store::AlertRow& a) {
  int64_t time_ms = EpochMillis(a.event_time).value_or(EpochMillis(report.generated_at).value_or(0));
  Json event = Base(report, kClassDetection, "Detection Finding", kActivityCreate, "Create", SeverityOf(a.level), time_ms,
                    a.alert_id);
  bool suppressed = !a.suppression.is_null();
  event["status_id"] = suppressed ? 3 : 1;
  event["status"] = suppressed ? "Suppressed" : "New";
  event["is_alert"] = !suppressed;
  std::string message = a.rule_title + ": " + a.event_name + " by " + (a.principal.empty() ? "unknown" : a.principal);
  if (!a.source_ip.empty()) message += " from " + a.source_ip;
  event["message"] = ValidUtf8(message);

  Json info = {{"uid", a.alert_id},
               {"title", ValidUtf8(a.rule_title)},
               {"types", Json::array({"Threat Detection/CloudTrail"})},
               {"analytic", {{"uid", ValidUtf8(a.rule_id)}, {"name", ValidUtf8(a.rule_title)}, {"type_id", 1}, {"type", "Rule"}}},
               {"first_seen_time", time_ms},
               {"last_seen_time", time_ms}};
  AttackTags attack = ParseAttackTags(a.tags);
  Json attacks = Json::array();
  // One attack object per technique (each with the alert's tactics), or
  // one per tactic when the rule names no technique.
  for (const auto& technique : attack.techniques) {
    Json obj = {{"technique", {{"uid", technique}}}};
    for (const auto& sub : attack.sub_techniques)
      if (sub.rfind(technique, 0) == 0) obj["sub_technique"] = {{"uid", sub}};
    if (!attack.tactics.empty()) obj["tactic"] = {{"uid", attack.tactics[0].uid}, {"name", attack.tactics[0].name}};
    attacks.push_back(std::move(obj));
  }
  if (attack.techniques.empty())
    for (const auto& tactic : attack.tactics) attacks.push_back(Json{{"tactic", {{"uid", tactic.uid}, {"name", tactic.name}}}});
  if (!attacks.empty()) info["attacks"] = std::move(attacks);
  event["finding_info"] = std::move(info);

  auto parsed = ParseJson(a.record);
  Json record = parsed ? std::move(*parsed) : Json(ValidUtf8(a.record));
  Json evidence = {{"actor", Actor(a, record)},
                   {"api", {{"operation", ValidUtf8(a.event_name)}, {"service", {{"name", ValidUtf8(a.event_source)}}}}},
                   {"data", record}};
  if (!a.source_ip.empty()) {
    // CloudTrail's sourceIPAddress is an AWS service name for calls that a
    // service made on the principal's behalf.
    evidence["src_endpoint"] =
        IsIpAddress(a.source_ip) ? Json{{"ip", a.source_ip}} : Json{{"svc_name", ValidUtf8(a.source_ip)}};
  }
  event["evidences"] = Json::array({std::move(evidence)});
  event["cloud"] = Cloud(a.account_id, a.region);
  return event;
}

}  // namespace

Status WriteOcsf(const Report& report, std::ostream& out, const WriteOptions& options) {
  bool first = true;
  auto emit = [&](const Json& event) {
    out << (first ? "[\n" : ",\n") << JsonText(event);
    first = false;
  };
  for (const auto& f : report.findings) {
    if (!Listed(f, options)) continue;
    emit(ComplianceFinding(report, f.row, *f.rule, f.suppressed(), f.first_seen, false));
  }
  if (report.diff) {
    for (const auto& row : report.diff->resolved) {
      auto rule = report.rules.find(row.rule_id);
      RuleInfo fallback;
      if (rule == report.rules.end()) {
        fallback.id = fallback.title = row.rule_id;
        fallback.service = row.service;
        fallback.severity = row.severity;
      }
      emit(ComplianceFinding(report, row, rule == report.rules.end() ? fallback : rule->second, false, "", true));
    }
  }
  for (const auto& a : report.alerts) emit(DetectionFinding(report, a));
  out << (first ? "[]\n" : "\n]\n");
  if (!out) return MakeError(ErrorCode::kIo, "could not write the OCSF report");
  return {};
}

}  // namespace cloudaudit::report
