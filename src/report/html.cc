// The HTML report: one self-contained page (template, CSS and JS from
// src/report/html/, embedded at build time) with the report's data as one
// JSON document in a <script type="application/json"> element.
//
// Size is the design constraint: a scan of tens of thousands of resources
// must give a page a browser opens in seconds. So findings are compact row
// arrays (see kFindingColumns) that point into a rules table holding each
// rule's title, description and remediation once; repeated short strings
// (accounts, regions, first-seen dates) go through a string table; passed
// results are counts per rule unless WriteOptions::include_passed asks for
// their rows. docs/html-report.md documents the document's layout.
#include <algorithm>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/crypto.h"
#include "base/json.h"
#include "base/strings.h"
#include "report/formats.h"
#include "report/html_assets.h"

namespace cloudaudit::report {

namespace {

// Column order of a finding row; the page reads the same list from the
// document ("finding_columns") so the two cannot drift apart silently.
constexpr const char* kFindingColumns[] = {"rule",   "severity", "status",   "account", "region", "resource",
                                           "name",   "reason",   "evidence", "cli",     "first_seen",
                                           "change", "suppression"};
constexpr const char* kStatuses[] = {"alarm", "error", "skip", "ok"};
constexpr const char* kSeverities[] = {"informational", "low", "medium", "high", "critical"};
constexpr const char* kChanges[] = {"", "new", "open"};

template <size_t N>
int IndexOf(const char* const (&names)[N], std::string_view value) {
  for (size_t i = 0; i < N; ++i)
    if (value == names[i]) return static_cast<int>(i);
  return -1;
}

template <size_t N>
Json NameList(const char* const (&names)[N]) {
  Json out = Json::array();
  for (const char* n : names) out.push_back(n);
  return out;
}

// Interns short repeated strings; rows refer to them by index.
class StringTable {
 public:
  int Intern(const std::string& s) {
    auto [it, inserted] = index_.emplace(s, static_cast<int>(strings_.size()));
    if (inserted) strings_.push_back(s);
    return it->second;
  }
  Json ToJson() const { return Json(strings_); }

 private:
  std::unordered_map<std::string, int> index_;
  std::vector<std::string> strings_;
};

// Reasons and CLI commands repeat across the resources of a rule except for
// the resource's own identifiers ("aws ec2 modify-instance-metadata-options
// --region us-east-1 --instance-id i-0abc ..."). Replacing those by
// placeholders gives a shape that thousands of rows share, stored once in a
// text table. Placeholders are private-use characters U+E000..U+E004 (the
// row's resource, resource id = the ARN's last segment, name, region,
// account); a text that already holds one of that range stays as it is.
class TextTable {
 public:
  // Returns the text table index as JSON, or the text itself when it cannot
  // be shaped.
  Json Add(const std::string& text, const store::FindingRow& row) {
    if (text.empty()) return "";
    if (text.find("\xEE\x80") != std::string::npos) return text;
    std::string_view resource = row.resource;
    size_t cut = resource.find_last_of("/:");
    std::string_view id = cut == std::string_view::npos ? std::string_view() : resource.substr(cut + 1);
    std::pair<std::string_view, const char*> values[] = {{resource, "\xEE\x80\x80"}, {id, "\xEE\x80\x81"},
                                                         {row.resource_name, "\xEE\x80\x82"}, {row.region, "\xEE\x80\x83"},
                                                         {row.account_id, "\xEE\x80\x84"}};
    // Longest first: the ARN contains the others.
    std::stable_sort(std::begin(values), std::end(values),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    std::string shape;
    shape.reserve(text.size());
    for (size_t p = 0; p < text.size();) {
      bool replaced = false;
      for (const auto& [value, token] : values) {
        if (value.size() < 3 || text.compare(p, value.size(), value) != 0) continue;
        shape += token;
        p += value.size();
        replaced = true;
        break;
      }
      if (!replaced) shape += text[p++];
    }
    auto [it, inserted] = index_.emplace(std::move(shape), static_cast<int>(texts_.size()));
    if (inserted) texts_.push_back(it->first);
    return it->second;
  }
  Json ToJson() const { return Json(texts_); }

 private:
  std::unordered_map<std::string, int> index_;
  std::vector<std::string> texts_;
};

// Evidence and CloudTrail records are JSON text; embedding them parsed keeps
// the document free of a second layer of escaping. Text that does not parse
// stays a string, and the page shows it as it is.
Json EmbeddedJson(const std::string& text) {
  if (text.empty()) return nullptr;
  auto parsed = ParseJson(text);
  return parsed ? std::move(*parsed) : Json(text);
}

Json CountsJson(const std::map<std::string, size_t>& counts) {
  Json out = Json::object();
  for (const auto& [k, v] : counts) out[k] = v;
  return out;
}

Json RuleJson(const RuleInfo& r) {
  Json compliance = Json::object();
  for (const auto& [fw, ids] : r.compliance) compliance[fw] = ids;
  return Json{{"id", r.id},
              {"title", r.title},
              {"description", r.description},
              {"service", r.service},
              {"severity", r.severity},
              {"pillars", r.pillars},
              {"tags", r.tags},
              {"references", r.references},
              {"compliance", std::move(compliance)},
              {"remediation",
               {{"console", r.remediation.console},
                {"cli", r.remediation.cli},
                {"terraform", r.remediation.terraform},
                {"cloudformation", r.remediation.cloudformation},
                {"prevent", r.remediation.prevent}}},
              {"counts", {{"ok", 0}, {"alarm", 0}, {"skip", 0}, {"error", 0}, {"suppressed", 0}}}};
}

Json ScanJson(const store::ScanInfo& s) {
  return Json{{"id", s.id},
              {"account_id", s.account_id},
              {"partition", s.partition},
              {"regions", s.regions},
              {"started_at", s.started_at},
              {"ended_at", s.ended_at},
              {"tool_version", s.tool_version},
              {"status", s.status}};
}

Json BuildDocument(const Report& report, const WriteOptions& options) {
  Json doc = Json::object();
  doc["format"] = "cloudaudit-html-report";
  doc["format_version"] = 1;
  doc["tool_version"] = report.tool_version;
  doc["generated_at"] = report.generated_at;
  doc["scan"] = ScanJson(report.scan);

  const Summary& s = report.summary;
  doc["summary"] = Json{{"by_status", CountsJson(s.by_status)},
                        {"alarms_by_severity", CountsJson(s.alarms_by_severity)},
                        {"alarms_by_service", CountsJson(s.alarms_by_service)},
                        {"alarms_by_region", CountsJson(s.alarms_by_region)},
                        {"suppressed", s.suppressed},
                        {"resources", s.resources},
                        {"rules", s.rules},
                        {"findings", report.findings.size()}};

  // Rules table: the report's snapshots, in id order (std::map).
  std::unordered_map<std::string, int> rule_index;
  Json rules = Json::array();
  for (const auto& [id, info] : report.rules) {
    rule_index.emplace(id, static_cast<int>(rules.size()));
    rules.push_back(RuleJson(info));
  }

  StringTable strings;
  TextTable texts;
  std::vector<Json> suppressions;  // distinct suppression documents
  std::map<std::string, int> suppression_index;  // by compact dump
  auto intern_suppression = [&](const Json& sup) -> int {
    if (sup.is_null()) return -1;
    auto [it, inserted] = suppression_index.emplace(sup.dump(), static_cast<int>(suppressions.size()));
    if (inserted) suppressions.push_back(sup);
    return it->second;
  };

  Json findings = Json::array();
  size_t passed_embedded = 0;
  for (const Finding& f : report.findings) {
    const store::FindingRow& row = f.row;
    // The model keys rules by the findings' rule ids; a hand-built report
    // may not, so a finding never fails to find its rule.
    auto found = rule_index.find(row.rule_id);
    if (found == rule_index.end() && f.rule != nullptr) found = rule_index.find(f.rule->id);
    if (found == rule_index.end()) {
      RuleInfo fallback;
      if (f.rule != nullptr) fallback = *f.rule;
      fallback.id = row.rule_id;
      if (fallback.title.empty()) fallback.title = row.rule_id;
      if (fallback.service.empty()) fallback.service = row.service;
      if (fallback.severity.empty()) fallback.severity = row.severity;
      found = rule_index.emplace(row.rule_id, static_cast<int>(rules.size())).first;
      rules.push_back(RuleJson(fallback));
    }
    int rule = found->second;
    Json& counts = rules[rule]["counts"];
    if (f.suppressed()) {
      counts["suppressed"] = counts["suppressed"].get<size_t>() + 1;
    } else if (counts.contains(row.status)) {
      counts[row.status] = counts[row.status].get<size_t>() + 1;
    }
    // Passed results are counted above; their rows only when asked for.
    if (row.status == "ok" && !f.suppressed() && !options.include_passed) continue;
    if (row.status == "ok") ++passed_embedded;
    int status = IndexOf(kStatuses, row.status);
    int severity = IndexOf(kSeverities, row.severity.empty() ? rules[rule]["severity"].get<std::string>() : row.severity);
    findings.push_back(Json::array({rule, severity, status < 0 ? Json(row.status) : Json(status),
                                    strings.Intern(row.account_id), strings.Intern(row.region), row.resource,
                                    row.resource_name, texts.Add(row.reason, row), EmbeddedJson(row.evidence),
                                    texts.Add(row.remediation_cli, row),
                                    f.first_seen.empty() ? -1 : strings.Intern(f.first_seen),
                                    std::max(0, IndexOf(kChanges, f.change)), intern_suppression(row.suppression)}));
  }
  doc["statuses"] = NameList(kStatuses);
  doc["severities"] = NameList(kSeverities);
  doc["changes"] = NameList(kChanges);
  doc["finding_columns"] = NameList(kFindingColumns);
  doc["passed_rows_included"] = options.include_passed;
  doc["rules"] = std::move(rules);
  doc["findings"] = std::move(findings);
  doc["suppressions"] = suppressions;

  Json frameworks = Json::array();
  for (const FrameworkResult& fw : report.frameworks) {
    Json controls = Json::array();
    for (const ControlResult& c : fw.controls) {
      Json rule_ids = Json::array();
      for (const auto& id : c.rules) {
        auto it = rule_index.find(id);
        if (it != rule_index.end()) rule_ids.push_back(it->second);
      }
      controls.push_back(Json::array({c.id, c.title, c.section, c.status, std::move(rule_ids), c.alarms, c.oks, c.skips}));
    }
    frameworks.push_back(Json{{"id", fw.id},
                              {"title", fw.title},
                              {"version", fw.version},
                              {"url", fw.url},
                              {"pass", fw.pass},
                              {"fail", fw.fail},
                              {"manual", fw.manual},
                              {"not_applicable", fw.not_applicable},
                              {"unknown", fw.unknown},
                              {"percent", fw.percent},
                              {"control_columns", {"id", "title", "section", "status", "rules", "alarms", "oks", "skips"}},
                              {"controls", std::move(controls)}});
  }
  doc["frameworks"] = std::move(frameworks);

  if (report.diff) {
    Json resolved = Json::array();
    for (const auto& r : report.diff->resolved)
      resolved.push_back(Json::array({r.rule_id, r.severity, r.service, strings.Intern(r.account_id),
                                      strings.Intern(r.region), r.resource, r.resource_name, r.reason}));
    doc["diff"] = Json{{"previous_scan_id", report.diff->previous_scan_id},
                       {"previous_started_at", report.diff->previous_started_at},
                       {"new", report.diff->new_alarms},
                       {"open", report.diff->open_alarms},
                       {"resolved_columns", {"rule", "severity", "service", "account", "region", "resource", "name", "reason"}},
                       {"resolved", std::move(resolved)}};
  } else {
    doc["diff"] = nullptr;
  }

  Json gaps = Json::array();
  for (const auto& g : report.gaps)
    gaps.push_back(Json::array({g.type, g.service, g.operation, g.region, g.resource, g.error_code, g.message}));
  doc["gap_columns"] = {"type", "service", "operation", "region", "resource", "error_code", "message"};
  doc["gaps"] = std::move(gaps);
  Json calls = Json::array();
  for (const auto& c : report.api_calls)
    calls.push_back(Json::array({c.service, c.operation, c.region, c.calls, c.errors, c.elapsed_ms}));
  doc["api_call_columns"] = {"service", "operation", "region", "calls", "errors", "elapsed_ms"};
  doc["api_calls"] = std::move(calls);

  if (report.threat_run) {
    const store::ThreatRun& t = *report.threat_run;
    doc["threat_run"] = Json{{"id", t.id},           {"started_at", t.started_at}, {"ended_at", t.ended_at},
                             {"status", t.status},   {"tool_version", t.tool_version}, {"sources", t.sources},
                             {"since", t.since},     {"until", t.until},           {"rules", t.rules},
                             {"records", t.records}, {"malformed", t.malformed},   {"alerts", t.alerts}};
  } else {
    doc["threat_run"] = nullptr;
  }
  Json alerts = Json::array();
  for (const auto& a : report.alerts)
    alerts.push_back(Json::array({a.event_time, std::max(0, IndexOf(kSeverities, a.level)), a.rule_id, a.rule_title,
                                  a.tags, a.principal, a.event_name, a.event_source, a.source_ip, a.user_agent,
                                  strings.Intern(a.account_id), strings.Intern(a.region), a.source,
                                  EmbeddedJson(a.record), intern_suppression(a.suppression)}));
  doc["alert_columns"] = {"time",   "level",      "rule",    "title",  "tags",   "principal", "event",      "event_source",
                          "source_ip", "user_agent", "account", "region", "source", "record",    "suppression"};
  doc["alerts"] = std::move(alerts);
  // The suppressions of alerts may have been added after the findings'.
  doc["suppressions"] = suppressions;
  doc["strings"] = strings.ToJson();
  doc["texts"] = texts.ToJson();
  doc["passed_rows_embedded"] = passed_embedded;
  return doc;
}

const char* Asset(std::string_view name) {
  for (const auto& a : EmbeddedHtmlAssets())
    if (name == a.name) return a.text;
  return nullptr;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// Replaces every "@@NAME@@" marker of the template; an unknown or missing
// marker is an error (a broken template must not ship a half page).
Result<std::string> FillPage(std::string_view tpl, const std::map<std::string, std::string_view>& values) {
  std::string out;
  out.reserve(tpl.size() + [&] { size_t n = 0; for (const auto& [k, v] : values) n += v.size(); return n; }());
  std::map<std::string, int> used;
  size_t pos = 0;
  while (true) {
    size_t start = tpl.find("@@", pos);
    if (start == std::string_view::npos) break;
    size_t end = tpl.find("@@", start + 2);
    if (end == std::string_view::npos) break;
    std::string name(tpl.substr(start + 2, end - start - 2));
    auto it = values.find(name);
    if (it == values.end())
      return MakeError(ErrorCode::kInternal, "report.html: unknown marker @@" + name + "@@ at byte " + std::to_string(start));
    out.append(tpl.substr(pos, start - pos));
    out.append(it->second);
    ++used[name];
    pos = end + 2;
  }
  out.append(tpl.substr(pos));
  for (const auto& [name, value] : values)
    if (!used.count(name)) return MakeError(ErrorCode::kInternal, "report.html: marker @@" + name + "@@ is missing");
  return out;
}

std::string EscapeJsonForScript(std::string_view json) {
  // Inside <script> the HTML parser ends the element at "</script" and
  // enters an escaped state at "<!--"; JSON text has '<', '>' and '&' only
  // inside strings, where \u escapes mean the same characters to
  // JSON.parse. U+2028/2029 are escaped too, for readers that eval.
  std::string out;
  out.reserve(json.size() + json.size() / 32);
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (c == '<') {
      out += "\\u003c";
    } else if (c == '>') {
      out += "\\u003e";
    } else if (c == '&') {
      out += "\\u0026";
    } else if (c == '\xE2' && i + 2 < json.size() && json[i + 1] == '\x80' && (json[i + 2] == '\xA8' || json[i + 2] == '\xA9')) {
      out += json[i + 2] == '\xA8' ? "\\u2028" : "\\u2029";
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Status WriteHtml(const Report& report, std::ostream& out, const WriteOptions& options) {
  const char* page = Asset("report.html");
  const char* css = Asset("report.css");
  const char* js = Asset("report.js");
  if (page == nullptr || css == nullptr || js == nullptr)
    return MakeError(ErrorCode::kInternal, "the HTML report's assets are not compiled into this binary");

  // Invalid UTF-8 in AWS data (it happens in tags and names) becomes U+FFFD
  // rather than an exception.
  std::string data =
      EscapeJsonForScript(BuildDocument(report, options).dump(-1, ' ', false, Json::error_handler_t::replace));
  // The page's Content-Security-Policy allows exactly this script and no
  // network access of any kind: the report cannot phone home, and a value
  // that somehow escaped its string could not run.
  std::string script_hash = Base64Encode(Sha256(js));
  std::string title = "cloudaudit report — account " + report.scan.account_id + " — scan " + std::to_string(report.scan.id);
  std::string title_html = HtmlEscape(title);
  CA_TRY(std::string html, FillPage(page, {{"TITLE", title_html},
                                           {"SCRIPT_HASH", script_hash},
                                           {"CSS", css},
                                           {"DATA", data},
                                           {"JS", js}}));
  out << html;
  out.flush();
  if (!out) return MakeError(ErrorCode::kIo, "writing the HTML report failed");
  return {};
}

}  // namespace cloudaudit::report
