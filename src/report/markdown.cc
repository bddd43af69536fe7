// Markdown for a pull-request comment or a wiki page (GitHub-flavoured
// tables). Every value that comes from AWS or a rule is escaped: Markdown
// punctuation, '|' (cell separator), '<' '>' '&' (inline HTML), '@' and '#'
// (mentions and issue links) are backslash-escaped or entity-encoded, and
// line breaks become spaces, so a resource name cannot break a table or
// inject markup.
#include <algorithm>
#include <map>
#include <sstream>
#include <tuple>

#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

std::string Md(std::string_view raw) {
  std::string s = TerminalSafe(raw);  // one line, no control characters
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '\\': case '`': case '*': case '_': case '[': case ']': case '|': case '~': case '!': case '#': case '@':
      case '{': case '}': case '(': case ')':
        out += '\\';
        out += c;
        break;
      default: out += c;
    }
  }
  return out;
}

std::string Percent(double p) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(p == static_cast<int>(p) ? 0 : 1);
  s << p << "%";
  return s.str();
}

std::string Date(const std::string& iso) { return iso.size() >= 10 ? iso.substr(0, 10) : iso; }

}  // namespace

Status WriteMarkdown(const Report& report, std::ostream& out, const WriteOptions& options) {
  const Summary& s = report.summary;
  auto count = [](const std::map<std::string, size_t>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? size_t{0} : it->second;
  };
  size_t alarms = count(s.by_status, "alarm");

  out << "# cloudaudit report: account " << Md(report.scan.account_id) << "\n\n";
  std::string regions;
  for (const auto& r : report.scan.regions) regions += (regions.empty() ? "" : ", ") + r;
  out << "Scan " << report.scan.id << " · " << Md(regions.empty() ? "no regions" : regions) << " · started "
      << Md(report.scan.started_at);
  if (auto d = DurationText(report.scan.started_at, report.scan.ended_at); !d.empty()) out << " (" << d << ")";
  out << " · " << Md(report.scan.status);
  if (!report.tool_version.empty()) out << " · cloudaudit " << Md(report.tool_version);
  out << "\n\n";

  out << "## Summary\n\n";
  out << "**" << alarms << "** unsuppressed alarms, " << s.suppressed << " suppressed, " << count(s.by_status, "ok") << " ok, "
      << count(s.by_status, "skip") << " skipped, " << count(s.by_status, "error") << " errors; " << s.rules << " rules over "
      << s.resources << " resources.\n\n";
  out << "| Severity | Alarms |\n|---|---:|\n";
  for (const auto& sev : SeverityNames()) out << "| " << sev << " | " << count(s.alarms_by_severity, sev) << " |\n";
  out << "\n";
  if (!s.alarms_by_service.empty()) {
    std::vector<std::pair<std::string, size_t>> services(s.alarms_by_service.begin(), s.alarms_by_service.end());
    std::stable_sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    out << "| Service | Alarms |\n|---|---:|\n";
    for (const auto& [svc, n] : services) out << "| " << Md(svc) << " | " << n << " |\n";
    out << "\n";
  }

  out << "## Worst findings\n\n";
  std::vector<const Finding*> worst;
  for (const auto& f : report.findings)
    if (f.row.status == "alarm" && !f.suppressed()) worst.push_back(&f);
  if (worst.empty()) {
    out << "No unsuppressed alarms.\n\n";
  } else {
    size_t shown = std::min(worst.size(), options.table_limit);
    out << "| Severity | Rule | Resource | Region | Reason | First seen |\n|---|---|---|---|---|---|\n";
    for (size_t i = 0; i < shown; ++i) {
      const Finding& f = *worst[i];
      std::string first = Md(Date(f.first_seen));
      if (f.change == "new") first += " **new**";
      out << "| " << Md(f.row.severity) << " | " << Md(f.rule->title) << " (" << Md(f.row.rule_id) << ") | "
          << Md(f.row.resource) << " | " << Md(f.row.region) << " | "
          << Md(f.row.reason) << " | " << first << " |\n";
    }
    if (worst.size() > shown) out << "\n…and " << worst.size() - shown << " more (see the JSON or HTML report).\n";
    out << "\n";
  }

  if (!report.frameworks.empty()) {
    out << "## Compliance posture\n\n| Framework | Score | Pass | Fail | Manual | Not applicable | Unknown |\n"
           "|---|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& fw : report.frameworks)
      out << "| " << Md(fw.title.empty() ? fw.id : fw.title) << " | " << Percent(fw.percent) << " | " << fw.pass << " | "
          << fw.fail << " | " << fw.manual << " | " << fw.not_applicable << " | " << fw.unknown << " |\n";
    out << "\n";
  }

  if (report.diff) {
    const ScanDiff& d = *report.diff;
    out << "## Changes since scan " << d.previous_scan_id << " (" << Md(d.previous_started_at) << ")\n\n";
    out << "- **" << d.new_alarms << "** new alarms\n- " << d.open_alarms << " still open\n- **" << d.resolved.size()
        << "** resolved\n\n";
    if (!d.resolved.empty()) {
      size_t shown = std::min(d.resolved.size(), options.table_limit);
      out << "| Resolved rule | Resource | Region |\n|---|---|---|\n";
      for (size_t i = 0; i < shown; ++i) {
        const auto& r = d.resolved[i];
        auto rule = report.rules.find(r.rule_id);
        out << "| " << Md(rule != report.rules.end() ? rule->second.title : r.rule_id) << " | "
            << Md(r.resource) << " | " << Md(r.region) << " |\n";
      }
      if (d.resolved.size() > shown) out << "\n…and " << d.resolved.size() - shown << " more.\n";
      out << "\n";
    }
  }

  if (!report.gaps.empty()) {
    std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> groups;
    for (const auto& g : report.gaps) ++groups[{g.service, g.operation, g.region, g.error_code}];
    out << "## Collection gaps\n\n" << report.gaps.size()
        << " calls could not be made; rules that needed their data report `skip`.\n\n"
           "| Service | Operation | Region | Error | Count |\n|---|---|---|---|---:|\n";
    for (const auto& [k, n] : groups)
      out << "| " << Md(std::get<0>(k)) << " | " << Md(std::get<1>(k)) << " | " << Md(std::get<2>(k)) << " | "
          << Md(std::get<3>(k)) << " | " << n << " |\n";
    out << "\n";
  }

  if (!report.api_calls.empty()) {
    int64_t calls = 0, errors = 0;
    for (const auto& c : report.api_calls) calls += c.calls, errors += c.errors;
    out << "## API calls\n\n" << calls << " calls to " << report.api_calls.size() << " operations, " << errors << " errors.\n\n";
  }

  if (!report.alerts.empty()) {
    out << "## Threat alerts\n\n";
    if (report.threat_run)
      out << "Threat run " << report.threat_run->id << ": " << report.threat_run->records << " CloudTrail records, "
          << report.alerts.size() << " alerts.\n\n";
    auto sorted = AlertsWorstFirst(report.alerts);
    size_t shown = std::min(sorted.size(), options.table_limit);
    out << "| Level | Rule | Event | Principal | Source IP | Time |\n|---|---|---|---|---|---|\n";
    for (size_t i = 0; i < shown; ++i) {
      const auto& a = *sorted[i];
      out << "| " << Md(a.level) << (a.suppression.is_null() ? "" : " (suppressed)") << " | " << Md(a.rule_title) << " | "
          << Md(a.event_name) << " | " << Md(a.principal) << " | " << Md(a.source_ip) << " | " << Md(a.event_time) << " |\n";
    }
    if (sorted.size() > shown) out << "\n…and " << sorted.size() - shown << " more.\n";
    out << "\n";
  }
  out << "<sub>Generated " << Md(report.generated_at) << " by cloudaudit.</sub>\n";
  if (!out) return MakeError(ErrorCode::kIo, "could not write the Markdown report");
  return {};
}

}  // namespace cloudaudit::report
