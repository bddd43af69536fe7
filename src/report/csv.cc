// CSV (RFC 4180): a header row, then one row per finding and one per threat
// alert, told apart by the first column `kind`. Records end in CRLF; a field
// holding a comma, quote, CR or LF is quoted with quotes doubled. Cells that
// a spreadsheet would run as a formula (starting with = + - @, tab or CR)
// get a leading apostrophe — the OWASP guard against CSV injection.
#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

const char* const kColumns[] = {"kind",          "finding_id", "status",    "severity",   "rule_id",
                                "title",         "service",    "account_id", "region",     "resource",
                                "resource_name", "reason",     "first_seen", "change",     "suppressed",
                                "compliance",    "remediation_cli"};

std::string Cell(std::string_view raw) {
  std::string value = ValidUtf8(raw);
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                         value[0] == '\t' || value[0] == '\r'))
    value.insert(value.begin(), '\'');
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void Row(std::ostream& out, const std::vector<std::string>& cells) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out << ',';
    out << Cell(cells[i]);
  }
  out << "\r\n";
}

std::string Joined(const std::vector<std::string>& values, char sep) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty()) out += sep;
    out += v;
  }
  return out;
}

}  // namespace

Status WriteCsv(const Report& report, std::ostream& out, const WriteOptions& options) {
  Row(out, std::vector<std::string>(std::begin(kColumns), std::end(kColumns)));
  for (const auto& f : report.findings) {
    if (!Listed(f, options)) continue;
    const auto& r = f.row;
    Row(out, {"finding", r.finding_id, r.status, r.severity, r.rule_id, f.rule->title, r.service, r.account_id, r.region,
              r.resource, r.resource_name, r.reason, f.first_seen, f.change, f.suppressed() ? "true" : "false",
              Joined(ComplianceRefs(*f.rule), ';'), r.remediation_cli});
  }
  for (const auto& a : report.alerts) {
    std::string reason = a.event_name + " by " + (a.principal.empty() ? "an unknown principal" : a.principal);
    if (!a.source_ip.empty()) reason += " from " + a.source_ip;
    Row(out, {"alert", a.alert_id, "alarm", a.level, a.rule_id, a.rule_title, ServiceOfEventSource(a.event_source),
              a.account_id, a.region, a.principal, a.event_name, reason, a.event_time, "",
              a.suppression.is_null() ? "false" : "true", Joined(a.tags, ';'), ""});
  }
  if (!out) return MakeError(ErrorCode::kIo, "could not write the CSV report");
  return {};
}

}  // namespace cloudaudit::report
