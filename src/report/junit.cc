// JUnit XML for CI test viewers: <testsuites> > one <testsuite> per service
// > one <testcase> per rule and resource (classname = rule id, so viewers
// group by rule). An unsuppressed alarm is a <failure> (message = reason,
// body = remediation); a suppressed alarm is <skipped>; with
// include_passed, ok results pass, skip results are <skipped> and rule
// errors are <error>. Threat alerts form a `threats` suite: a failure per
// alert (skipped when suppressed). Text is escaped for XML 1.0, and characters XML 1.0
// cannot carry at all (most control characters) become U+FFFD.
#include <map>
#include <vector>

#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

std::string Xml(std::string_view raw) {
  std::string s = ValidUtf8(raw);
  std::string out;
  out.reserve(s.size() + 16);
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\t': out += "&#9;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      default:
        if (c < 0x20)
          out += "\xEF\xBF\xBD";
        else
          out += ch;
    }
  }
  // U+FFFE and U+FFFF are not XML characters either.
  for (const char* bad : {"\xEF\xBF\xBE", "\xEF\xBF\xBF"})
    for (size_t pos = out.find(bad); pos != std::string::npos; pos = out.find(bad, pos)) out.replace(pos, 3, "\xEF\xBF\xBD");
  return out;
}

// Element content: line breaks and tabs stay as they are.
std::string XmlText(std::string_view raw) {
  std::string s = ValidUtf8(raw);
  std::string out;
  for (size_t start = 0;;) {
    size_t pos = s.find_first_of("\n\t", start);
    out += Xml(s.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    out += s[pos];
    start = pos + 1;
  }
  return out;
}

std::string Remediation(const Finding& f) {
  std::string body;
  if (!f.row.remediation_cli.empty()) body += "AWS CLI:\n" + f.row.remediation_cli + "\n";
  if (!f.rule->remediation.console.empty()) body += (body.empty() ? "" : "\n") + std::string("Console:\n") + f.rule->remediation.console;
  if (!f.first_seen.empty()) body += (body.empty() ? "" : "\n") + std::string("First seen: ") + f.first_seen;
  return body;
}

struct Suite {
  std::vector<const Finding*> cases;
  size_t failures = 0, errors = 0, skipped = 0;
};

bool IsSkipped(const Finding& f) { return f.suppressed() || f.row.status == "skip"; }

}  // namespace

Status WriteJunit(const Report& report, std::ostream& out, const WriteOptions& options) {
  std::map<std::string, Suite> suites;
  size_t tests = 0, failures = 0, errors = 0, skipped = 0;
  for (const auto& f : report.findings) {
    if (!Listed(f, options)) continue;
    Suite& s = suites[f.row.service.empty() ? std::string("other") : f.row.service];
    s.cases.push_back(&f);
    ++tests;
    if (IsSkipped(f)) {
      ++s.skipped, ++skipped;
    } else if (f.row.status == "alarm") {
      ++s.failures, ++failures;
    } else if (f.row.status == "error") {
      ++s.errors, ++errors;
    }
  }
  // Threat alerts: one more suite, a failing case per alert (skipped when a
  // suppression applies), so a CI view shows them beside the findings.
  size_t alert_failures = 0, alert_skipped = 0;
  for (const auto& a : report.alerts) ++(a.suppression.is_null() ? alert_failures : alert_skipped);
  tests += report.alerts.size();
  failures += alert_failures;
  skipped += alert_skipped;
  std::string timestamp = Rfc3339Utc(report.scan.started_at);
  if (!timestamp.empty() && timestamp.back() == 'Z') timestamp.pop_back();  // xs:dateTime as JUnit writes it

  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"" << Xml("cloudaudit scan " + std::to_string(report.scan.id) + " of account " + report.scan.account_id)
      << "\" tests=\"" << tests << "\" failures=\"" << failures << "\" errors=\"" << errors << "\" skipped=\"" << skipped
      << "\" time=\"0\">\n";
  for (const auto& [service, suite] : suites) {
    out << "  <testsuite name=\"" << Xml(service) << "\" tests=\"" << suite.cases.size() << "\" failures=\"" << suite.failures
        << "\" errors=\"" << suite.errors << "\" skipped=\"" << suite.skipped << "\" time=\"0\"";
    if (!timestamp.empty()) out << " timestamp=\"" << timestamp << "\"";
    out << ">\n";
    out << "    <properties>\n";
    out << "      <property name=\"account_id\" value=\"" << Xml(report.scan.account_id) << "\"/>\n";
    out << "      <property name=\"scan_id\" value=\"" << report.scan.id << "\"/>\n";
    out << "    </properties>\n";
    for (const Finding* f : suite.cases) {
      const auto& r = f->row;
      out << "    <testcase classname=\"" << Xml(r.rule_id) << "\" name=\"" << Xml(r.resource + " (" + r.region + ")")
          << "\" time=\"0\"";
      if (r.status == "ok" && !f->suppressed()) {
        out << "/>\n";
        continue;
      }
      out << ">\n";
      std::string what = f->rule->title + ": " + r.reason;
      if (f->suppressed()) {
        std::string reason;
        auto it = r.suppression.find("reason");
        if (it != r.suppression.end() && it->is_string()) reason = it->get<std::string>();
        out << "      <skipped message=\"" << Xml("suppressed" + (reason.empty() ? "" : ": " + reason)) << "\"/>\n";
      } else if (r.status == "skip") {
        out << "      <skipped message=\"" << Xml(r.reason) << "\"/>\n";
      } else if (r.status == "alarm") {
        out << "      <failure message=\"" << Xml(what) << "\" type=\"" << Xml(r.severity) << "\">" << XmlText(Remediation(*f))
            << "</failure>\n";
      } else {
        out << "      <error message=\"" << Xml(what) << "\" type=\"rule-error\"/>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  if (!report.alerts.empty()) {
    out << "  <testsuite name=\"threats\" tests=\"" << report.alerts.size() << "\" failures=\"" << alert_failures
        << "\" errors=\"0\" skipped=\"" << alert_skipped << "\" time=\"0\">\n";
    for (const auto& a : report.alerts) {
      out << "    <testcase classname=\"" << Xml(a.rule_id) << "\" name=\""
          << Xml(a.event_name + " by " + a.principal + " at " + a.event_time + " (" + a.region + ")") << "\" time=\"0\">\n";
      if (!a.suppression.is_null()) {
        out << "      <skipped message=\"suppressed\"/>\n";
      } else {
        std::string body = "Event " + a.event_id + " from " + a.source_ip + " (" + a.user_agent + "), read from " + a.source +
                           "\nRecord:\n" + a.record;
        out << "      <failure message=\"" << Xml(a.rule_title) << "\" type=\"" << Xml(a.level) << "\">" << XmlText(body)
            << "</failure>\n";
      }
      out << "    </testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  if (!out) return MakeError(ErrorCode::kIo, "could not write the JUnit report");
  return {};
}

}  // namespace cloudaudit::report
