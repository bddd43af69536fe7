// The terminal summary a person reads at a glance (also what `cloudaudit
// scan` prints at the end). Width-aware: lines fit the terminal width
// (COLUMNS, else 100), text is cut at a character boundary with "…".
// Every string that comes from AWS, a rule or a file passes through
// TerminalSafe, so a resource name cannot move the cursor, change colours or
// reorder text. ANSI colours only with WriteOptions::color.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>

#include "report/format_util.h"
#include "report/formats.h"

namespace cloudaudit::report {

namespace {

size_t TerminalWidth() {
  const char* env = std::getenv("COLUMNS");
  if (env != nullptr) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 40 && v <= 1000) return static_cast<size_t>(v);
  }
  return 100;
}

class Painter {
 public:
  explicit Painter(bool color) : color_(color) {}
  std::string Bold(const std::string& s) const { return Wrap("1", s); }
  std::string Dim(const std::string& s) const { return Wrap("2", s); }
  std::string Green(const std::string& s) const { return Wrap("32", s); }
  std::string Severity(const std::string& severity, const std::string& s) const {
    if (severity == "critical") return Wrap("1;31", s);
    if (severity == "high") return Wrap("31", s);
    if (severity == "medium") return Wrap("33", s);
    if (severity == "low") return Wrap("36", s);
    return Wrap("2", s);
  }

 private:
  std::string Wrap(const char* code, const std::string& s) const {
    if (!color_ || s.empty()) return s;
    return std::string("\x1b[") + code + "m" + s + "\x1b[0m";
  }
  bool color_;
};

std::string Safe(std::string_view s) { return TerminalSafe(s); }

std::string Bar(size_t n, size_t max, size_t width) {
  if (n == 0 || max == 0 || width == 0) return std::string();
  size_t len = std::max<size_t>(1, n * width / max);
  std::string out;
  for (size_t i = 0; i < len; ++i) out += "\xE2\x96\x88";  // █
  return out;
}

size_t Count(const std::map<std::string, size_t>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

std::string Date(const std::string& iso) { return iso.size() >= 10 ? iso.substr(0, 10) : iso; }

}  // namespace

Status WriteTable(const Report& report, std::ostream& out, const WriteOptions& options) {
  const size_t width = TerminalWidth();
  const Painter p(options.color);
  const Summary& s = report.summary;
  auto line = [&](const std::string& text) { out << TruncateToWidth(text, width) << "\n"; };
  // A line with colour codes: truncate the plain text, then paint pieces.
  auto heading = [&](const std::string& title, const std::string& rest) {
    std::string plain = TruncateToWidth(title + (rest.empty() ? "" : "  " + rest), width);
    if (plain.size() <= title.size()) {
      out << p.Bold(plain) << "\n";
    } else {
      out << p.Bold(title) << plain.substr(title.size()) << "\n";
    }
  };

  // Scan line.
  std::string regions;
  for (const auto& r : report.scan.regions) regions += (regions.empty() ? "" : ", ") + r;
  heading("cloudaudit", "scan " + std::to_string(report.scan.id) + " · account " + Safe(report.scan.account_id) + " · " +
                            Safe(regions.empty() ? "no regions" : regions));
  std::string when = "started " + Safe(report.scan.started_at);
  if (auto d = DurationText(report.scan.started_at, report.scan.ended_at); !d.empty()) when += " · took " + d;
  when += " · " + Safe(report.scan.status);
  line("  " + when);
  out << "\n";

  // Findings by severity and service.
  size_t alarms = Count(s.by_status, "alarm");
  heading("FINDINGS", std::to_string(alarms) + " alarms · " + std::to_string(s.suppressed) + " suppressed · " +
                          std::to_string(Count(s.by_status, "ok")) + " ok · " + std::to_string(Count(s.by_status, "skip")) +
                          " skipped · " + std::to_string(Count(s.by_status, "error")) + " errors · " + std::to_string(s.rules) +
                          " rules · " + std::to_string(s.resources) + " resources");
  size_t max_sev = 0;
  for (const auto& sev : SeverityNames()) max_sev = std::max(max_sev, Count(s.alarms_by_severity, sev));
  size_t bar_width = width > 40 ? std::min<size_t>(40, width - 30) : 0;
  for (const auto& sev : SeverityNames()) {
    size_t n = Count(s.alarms_by_severity, sev);
    std::string label = PadToWidth(sev, 14);
    std::string num = std::to_string(n);
    num = std::string(num.size() < 6 ? 6 - num.size() : 0, ' ') + num;
    out << "  " << p.Severity(sev, label) << num << "  " << p.Severity(sev, Bar(n, max_sev, bar_width)) << "\n";
  }
  if (!s.alarms_by_service.empty()) {
    std::vector<std::pair<std::string, size_t>> services(s.alarms_by_service.begin(), s.alarms_by_service.end());
    std::stable_sort(services.begin(), services.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string text = "  by service: ";
    size_t shown = 0;
    for (const auto& [svc, n] : services) {
      std::string item = (shown ? " · " : "") + Safe(svc) + " " + std::to_string(n);
      std::string more = " · +" + std::to_string(services.size() - shown - 1) + " more";
      if (DisplayWidth(text + item) + (shown + 1 < services.size() ? DisplayWidth(more) : 0) > width) {
        text += " · +" + std::to_string(services.size() - shown) + " more";
        break;
      }
      text += item;
      ++shown;
    }
    line(text);
  }
  out << "\n";

  // Worst unsuppressed alarms.
  std::vector<const Finding*> worst;
  for (const auto& f : report.findings)
    if (f.row.status == "alarm" && !f.suppressed()) worst.push_back(&f);
  if (worst.empty()) {
    heading("WORST FINDINGS", "none: no unsuppressed alarms");
  } else {
    size_t shown = std::min(worst.size(), options.table_limit);
    heading("WORST FINDINGS", std::to_string(shown) + " of " + std::to_string(worst.size()) + " unsuppressed alarms");
    // Columns: severity, title, region, first seen, NEW. On a narrow
    // terminal the first-seen column goes before the title shrinks below 12.
    const size_t prefix_width = 14;  // "  " + severity (10) + "  "
    size_t title_max = 0, region_max = 0;
    bool any_new = false;
    for (size_t i = 0; i < shown; ++i) {
      title_max = std::max(title_max, DisplayWidth(Safe(worst[i]->rule->title)));
      region_max = std::max(region_max, DisplayWidth(Safe(worst[i]->row.region)));
      any_new = any_new || worst[i]->change == "new";
    }
    region_max = std::min<size_t>(region_max, 16);
    const size_t seen_width = 21;  // "first seen 2026-01-01"
    const size_t new_width = any_new ? 5 : 0;
    auto room = [&](size_t used) { return width > used ? width - used : 0; };
    bool show_seen = room(prefix_width + 2 + region_max + 2 + seen_width + new_width) >= std::min<size_t>(title_max, 12);
    size_t title_width =
        std::min(title_max, room(prefix_width + 2 + region_max + (show_seen ? 2 + seen_width : 0) + new_width));
    title_width = std::max<size_t>(title_width, std::min<size_t>(title_max, 8));
    for (size_t i = 0; i < shown; ++i) {
      const Finding& f = *worst[i];
      std::string body = PadToWidth(Safe(f.rule->title), title_width) + "  " + PadToWidth(Safe(f.row.region), region_max);
      if (show_seen) body += "  first seen " + Safe(Date(f.first_seen));
      body = TruncateToWidth(body, room(prefix_width + new_width));
      out << "  " << p.Severity(f.row.severity, PadToWidth(f.row.severity, 10)) << "  " << body;
      if (f.change == "new" && DisplayWidth(body) + prefix_width + new_width <= width) out << "  " << p.Bold("NEW");
      out << "\n";
      // The reason usually names the resource; the ARN follows for the record.
      std::string detail = Safe(f.row.reason) + " — " + Safe(f.row.resource);
      out << std::string(prefix_width, ' ') << p.Dim(TruncateToWidth(detail, room(prefix_width))) << "\n";
    }
    if (worst.size() > shown) line("  … " + std::to_string(worst.size() - shown) + " more: cloudaudit report --format html|json|csv");
  }
  out << "\n";

  // Compliance posture.
  if (!report.frameworks.empty()) {
    heading("COMPLIANCE", "");
    size_t name_max = 0;
    for (const auto& fw : report.frameworks) name_max = std::max(name_max, DisplayWidth(Safe(fw.title.empty() ? fw.id : fw.title)));
    for (const auto& fw : report.frameworks) {
      char pct[16];
      std::snprintf(pct, sizeof pct, "%5.1f%%", fw.percent);
      std::string counts = "pass " + std::to_string(fw.pass) + " · fail " + std::to_string(fw.fail) + " · manual " +
                           std::to_string(fw.manual) + " · n/a " + std::to_string(fw.not_applicable) + " · unknown " +
                           std::to_string(fw.unknown);
      std::string bar;
      size_t filled = static_cast<size_t>(fw.percent / 10.0 + 0.5);
      for (size_t i = 0; i < 10; ++i) bar += i < filled ? "\xE2\x96\x88" : "\xE2\x96\x91";  // █ ░
      size_t name_width = std::min(name_max, std::max<size_t>(width > 60 ? width - 60 : 0, 12));
      std::string name = PadToWidth(Safe(fw.title.empty() ? fw.id : fw.title), name_width);
      std::string rest = std::string(pct) + " " + bar + "  " + counts;
      out << "  " << name << "  " << (fw.fail ? p.Severity("high", TruncateToWidth(rest, width - name_width - 4))
                                              : p.Green(TruncateToWidth(rest, width - name_width - 4)))
          << "\n";
    }
    out << "\n";
  }

  // Changes since the previous scan.
  if (report.diff) {
    const ScanDiff& d = *report.diff;
    heading("CHANGES", "since scan " + std::to_string(d.previous_scan_id) + " (" + Safe(d.previous_started_at) + ")");
    line("  " + std::to_string(d.new_alarms) + " new · " + std::to_string(d.open_alarms) + " still open · " +
         std::to_string(d.resolved.size()) + " resolved");
    out << "\n";
  }

  // Collection gaps: count and the largest groups.
  if (!report.gaps.empty()) {
    std::map<std::tuple<std::string, std::string, std::string>, size_t> groups;
    for (const auto& g : report.gaps) ++groups[{g.service, g.operation, g.error_code}];
    std::vector<std::pair<std::tuple<std::string, std::string, std::string>, size_t>> sorted(groups.begin(), groups.end());
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    heading("COLLECTION GAPS", std::to_string(report.gaps.size()) + " (rules that needed this data report skip)");
    for (size_t i = 0; i < sorted.size() && i < 5; ++i) {
      const auto& [k, n] = sorted[i];
      line("  " + Safe(std::get<0>(k)) + " " + Safe(std::get<1>(k)) + ": " + Safe(std::get<2>(k)) + " ×" + std::to_string(n));
    }
    if (sorted.size() > 5) line("  … " + std::to_string(sorted.size() - 5) + " more kinds");
    out << "\n";
  }

  // API calls.
  if (!report.api_calls.empty()) {
    int64_t calls = 0, errors = 0;
    for (const auto& c : report.api_calls) {
      calls += c.calls;
      errors += c.errors;
    }
    heading("API CALLS", std::to_string(calls) + " calls · " + std::to_string(errors) + " errors · " +
                             std::to_string(report.api_calls.size()) + " operations");
    out << "\n";
  }

  // Threat alerts.
  if (!report.alerts.empty()) {
    std::map<std::string, size_t> by_level;
    size_t suppressed = 0;
    for (const auto& a : report.alerts) {
      if (a.suppression.is_null())
        ++by_level[a.level];
      else
        ++suppressed;
    }
    std::string head = std::to_string(report.alerts.size()) + " alerts";
    if (report.threat_run)
      head += " · threat run " + std::to_string(report.threat_run->id) + " · " + std::to_string(report.threat_run->records) +
              " records";
    heading("THREAT ALERTS", head);
    std::string levels;
    for (const auto& sev : SeverityNames())
      if (by_level.count(sev)) levels += (levels.empty() ? "" : " · ") + sev + " " + std::to_string(by_level[sev]);
    if (suppressed) levels += (levels.empty() ? "" : " · ") + std::string("suppressed ") + std::to_string(suppressed);
    line("  " + levels);
    auto sorted = AlertsWorstFirst(report.alerts);
    size_t shown = 0;
    for (const auto* a : sorted) {
      if (!a->suppression.is_null()) continue;
      if (shown++ >= std::min<size_t>(options.table_limit, 10)) break;
      std::string text = Safe(a->rule_title) + " — " + Safe(a->event_name) + " by " + Safe(a->principal);
      if (!a->source_ip.empty()) text += " from " + Safe(a->source_ip);
      text += " at " + Safe(a->event_time);
      out << "  " << p.Severity(a->level, PadToWidth(a->level, 10)) << "  "
          << TruncateToWidth(text, width > 14 ? width - 14 : 10) << "\n";
    }
    out << "\n";
  }
  if (!out) return MakeError(ErrorCode::kIo, "could not write the table report");
  return {};
}

}  // namespace cloudaudit::report
