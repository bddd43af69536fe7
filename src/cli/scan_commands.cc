#include "cli/scan_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aws/client/session.h"
#include "base/json.h"
#include "base/time.h"
#include "cli/common.h"
#include "collect/collector.h"
#include "collect/spec.h"
#include "report/formats.h"
#include "report/model.h"
#include "rules/engine.h"
#include "rules/rule.h"
#include "scan/config.h"
#include "store/store.h"

namespace cloudaudit::cli {

namespace fs = std::filesystem;

struct ScanCommands::Flags {
  CLI::App* scan = nullptr;
  CLI::App* report = nullptr;
  CLI::App* diff = nullptr;
  CLI::App* scans = nullptr;

  // scan
  std::string config;
  bool no_config = false;
  std::string profile, region, endpoint_url, ca_bundle;
  std::vector<std::string> regions, services, exclude_services;
  int concurrency = 16;
  bool offline = false;
  std::vector<std::string> rule_dirs;
  bool no_builtin = false;
  std::string specs_dir;
  std::vector<std::string> rule_ids, tags;
  std::string min_severity;
  bool no_legacy = false;
  std::vector<std::string> params;
  std::string suppressions;
  int threads = 0;
  std::string as_of;
  std::string fail_on;
  std::string out_dir = ".";
  bool quiet = false;

  // shared by scan and report
  std::string db = "cloudaudit.db";
  int64_t scan_id = 0;
  std::vector<std::string> formats;
  std::string out;
  std::vector<std::string> frameworks;
  bool include_passed = false;
  int64_t threat_run = 0;
  bool no_threats = false;
  std::string color = "auto";

  // diff
  int64_t from = 0, to = 0;
  std::string diff_format = "table";
};

namespace {

// AWS-provided names may carry control characters; a terminal must not
// interpret them.
std::string SanitizeForTerminal(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(s[i + 1]) <= 0x9f) {
      out += '?';  // C1 controls (U+0080..U+009F), e.g. CSI
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

bool Given(const CLI::App* app, const char* flag) {
  const CLI::Option* o = app->get_option_no_throw(flag);
  return o != nullptr && o->count() > 0;
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool WantColor(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(fd) != 0 && (no_color == nullptr || *no_color == '\0');
}

struct Loaded {
  collect::SpecSet specs;
  rules::RuleSet rules;
};

// Rule-file problems are configuration errors (253), reported in full.
Result<Loaded> LoadRulesAndSpecs(const std::string& specs_dir, bool builtin, const std::vector<std::string>& dirs) {
  CA_TRY(collect::SpecSet specs, collect::LoadSpecs(specs_dir));
  rules::LoadOptions options;
  options.builtin = builtin;
  options.rule_dirs = dirs;
  auto set = rules::LoadRules(options, specs);
  if (!set) {
    Error e = set.error();
    if (e.code != ErrorCode::kNotFound) e.code = ErrorCode::kParse;
    return Fail(std::move(e));
  }
  return Loaded{std::move(specs), std::move(*set)};
}

int ConfigError(const Error& e) {
  std::cerr << e.message << "\n";
  return e.code == ErrorCode::kNotFound ? kExitUsage : kExitConfig;
}

std::optional<int64_t> ParseAsOf(const std::string& text) {
  auto ts = ParseTimestamp(text.size() == 10 ? text + "T00:00:00Z" : text);
  if (!ts) return std::nullopt;
  return ts->epoch_seconds;
}

// The report file for a format: <dir>/cloudaudit-<account>-scan<id><ext>.
std::string ReportPath(const std::string& dir, const report::Report& r, report::Format format) {
  std::string name = fmt::format("cloudaudit-{}-scan{}{}", r.scan.account_id.empty() ? "account" : r.scan.account_id, r.scan.id,
                                 report::FormatExtension(format));
  return (fs::path(dir) / name).string();
}

// Writes to a temporary file beside `path` and renames it into place, so a
// failed or interrupted write never leaves a half-written report.
Status WriteFileAtomically(const std::string& path, const std::function<Status(std::ostream&)>& write) {
  std::error_code ec;
  fs::path target(path);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path + ": " + std::strerror(errno));
    Status st = write(out);
    out.flush();
    if (st && !out) st = MakeError(ErrorCode::kIo, "cannot write " + path + " (disk full?)");
    if (!st) {
      out.close();
      fs::remove(tmp, ec);
      return st;
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return MakeError(ErrorCode::kIo, "cannot write " + path + ": " + ec.message());
  }
  return {};
}

std::optional<std::vector<report::Format>> ParseFormats(const std::vector<std::string>& names) {
  std::vector<report::Format> out;
  for (const auto& n : names) {
    if (n == "all") {
      for (auto f : report::AllFormats())
        if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
      continue;
    }
    auto f = report::ParseFormat(n);
    if (!f) {
      std::cerr << "unknown format `" << n << "`: use table, json, csv, ocsf, asff, sarif, junit, markdown, html or all\n";
      return std::nullopt;
    }
    if (std::find(out.begin(), out.end(), *f) == out.end()) out.push_back(*f);
  }
  return out;
}

// Writes the chosen formats: the table to the terminal, every other format to
// a file in `out_dir` (or `out` when only one format is chosen; "-" is stdout).
// `report` with one format and no --out writes it to standard output.
int WriteFormats(const report::Report& r, const std::vector<report::Format>& formats, std::string out,
                 const std::string& out_dir, const report::WriteOptions& base, bool quiet, bool single_to_stdout) {
  const bool single = formats.size() == 1;
  if (single && out.empty() && single_to_stdout) out = "-";
  for (auto format : formats) {
    report::WriteOptions options = base;
    std::string path;
    if (single && !out.empty()) path = out;
    else if (format != report::Format::kTable) path = ReportPath(out_dir, r, format);
    if (path.empty() || path == "-") {
      if (format != report::Format::kTable) options.color = false;
      auto st = report::WriteReport(r, format, std::cout, options);
      std::cout.flush();
      if (!st) return ReportError(st.error());
      continue;
    }
    options.color = false;
    auto st = WriteFileAtomically(path, [&](std::ostream& os) { return report::WriteReport(r, format, os, options); });
    if (!st) return ReportError(st.error());
    if (!quiet) std::cerr << fmt::format("{} report: {}\n", report::FormatName(format), path);
  }
  return 0;
}

// Exit code of the CI gate: 1 when an unsuppressed alarm is at least
// `fail_on` severe.
int GateExit(const report::Report& r, const std::string& fail_on) {
  if (fail_on.empty()) return 0;
  int threshold = report::SeverityRank(fail_on);
  size_t failing = 0;
  for (const auto& f : r.findings)
    if (f.row.status == "alarm" && !f.suppressed() && report::SeverityRank(f.row.severity) >= threshold) ++failing;
  if (failing == 0) return 0;
  std::cerr << fmt::format("--fail-on {}: {} unsuppressed finding{} of severity {} or worse\n", fail_on, failing,
                             failing == 1 ? "" : "s", fail_on);
  return kExitFindings;
}

}  // namespace

ScanCommands::ScanCommands(CLI::App& app) : flags_(std::make_unique<Flags>()) {
  Flags& f = *flags_;
  auto multi = [](CLI::Option* o) {
    return o->delimiter(',')->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  auto add_report_flags = [&](CLI::App* cmd) {
    cmd->add_option("--db", f.db, "Store file (default: cloudaudit.db)");
    multi(cmd->add_option("--format", f.formats,
                          "Output formats, comma-separated: table, json, csv, ocsf, asff, sarif, junit, markdown, html, all"));
    cmd->add_option("--out", f.out, "Output file when one format is chosen (- for standard output)");
    multi(cmd->add_option("--framework", f.frameworks, "Compliance posture to show for these frameworks (default: all)"));
    cmd->add_flag("--include-passed", f.include_passed, "List passed results one by one too (JSON, CSV, JUnit, SARIF, HTML)");
    cmd->add_option("--threat-run", f.threat_run, "Include the alerts of this threat run (default: the latest)");
    cmd->add_flag("--no-threats", f.no_threats, "Leave threat alerts out");
    cmd->add_option("--color", f.color, "Colours in the table: auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));
  };

  f.scan = app.add_subcommand("scan", "Collect, evaluate and report in one command (the everyday command)");
  f.scan->add_option("--config", f.config, "Configuration file (default: ./cloudaudit.yaml, ./.cloudaudit.yaml, ~/.config/cloudaudit/config.yaml)");
  f.scan->add_flag("--no-config", f.no_config, "Ignore configuration files");
  f.scan->add_option("--profile", f.profile, "Named profile from ~/.aws/config and ~/.aws/credentials");
  f.scan->add_option("--region", f.region, "Region for global calls (default: the profile's)");
  f.scan->add_option("--endpoint-url", f.endpoint_url, "Send every call to this URL instead of the AWS endpoint");
  f.scan->add_option("--ca-bundle", f.ca_bundle, "CA certificate bundle for TLS verification");
  multi(f.scan->add_option("--regions", f.regions, "Regions to collect (default: every enabled region)"));
  multi(f.scan->add_option("--services", f.services, "Only these services (collection and rules)"));
  multi(f.scan->add_option("--exclude-services", f.exclude_services, "Skip these services"));
  f.scan->add_option("--concurrency", f.concurrency, "API requests in flight at most")->check(CLI::Range(1, 256));
  f.scan->add_flag("--offline", f.offline, "Make no AWS call: re-evaluate and report a stored scan (--scan, default the latest)");
  f.scan->add_option("--scan", f.scan_id, "With --offline: the stored scan to use");
  multi(f.scan->add_option("--rules-dir", f.rule_dirs, "Also load rules from this directory (repeatable)"));
  f.scan->add_flag("--no-builtin", f.no_builtin, "Do not load the built-in rules");
  f.scan->add_option("--specs", f.specs_dir, "Resource spec directory (default: built-in specs)");
  multi(f.scan->add_option("--rule", f.rule_ids, "Only these rule ids or patterns (* and ?)"));
  multi(f.scan->add_option("--tag", f.tags, "Only rules with one of these tags"));
  f.scan->add_option("--severity", f.min_severity, "Only rules of this severity or worse")
      ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
  f.scan->add_flag("--no-legacy", f.no_legacy, "Leave out legacy-platform rules");
  f.scan->add_option("--param", f.params, "Parameter override name=value or rule.id.name=value (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f.scan->add_option("--suppressions", f.suppressions, "Suppressions file (YAML)");
  f.scan->add_option("--threads", f.threads, "Parallel rule workers (default: CPU count)")->check(CLI::Range(1, 256));
  f.scan->add_option("--as-of", f.as_of, "Evaluate ages as of this time (ISO-8601) instead of the scan's start");
  f.scan->add_option("--fail-on", f.fail_on, "Exit 1 if an unsuppressed finding of this severity or worse exists")
      ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
  f.scan->add_option("--out-dir", f.out_dir, "Directory for report files (default: the current directory)");
  f.scan->add_flag("--quiet", f.quiet, "No progress; only errors and the gate's verdict");
  add_report_flags(f.scan);

  f.report = app.add_subcommand("report", "Write a report of a stored scan in any format");
  f.report->add_option("--scan", f.scan_id, "Scan id (default: the latest)");
  f.report->add_option("--previous", f.from, "Compare with this scan instead of the previous one of the account");
  f.report->add_option("--out-dir", f.out_dir, "Directory for report files when several formats are chosen");
  f.report->add_option("--fail-on", f.fail_on, "Exit 1 if an unsuppressed finding of this severity or worse exists")
      ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
  add_report_flags(f.report);

  f.diff = app.add_subcommand("diff", "New, resolved and still-open findings between two scans of an account");
  f.diff->add_option("--db", f.db, "Store file (default: cloudaudit.db)");
  f.diff->add_option("--from", f.from, "The earlier scan (default: the scan before --to of the same account)");
  f.diff->add_option("--to", f.to, "The later scan (default: the latest)");
  f.diff->add_option("--format", f.diff_format, "table or json")->check(CLI::IsMember({"table", "json"}));
  f.diff->add_option("--fail-on", f.fail_on, "Exit 1 if a NEW unsuppressed finding of this severity or worse appeared")
      ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
  f.diff->add_option("--color", f.color, "auto, always, never")->check(CLI::IsMember({"auto", "always", "never"}));

  f.scans = app.add_subcommand("scans", "List the scans in the store (history)");
  f.scans->add_option("--db", f.db, "Store file (default: cloudaudit.db)");
  f.scans->add_option("--format", f.diff_format, "table or json")->check(CLI::IsMember({"table", "json"}));
}

ScanCommands::~ScanCommands() = default;

std::optional<int> ScanCommands::Run() {
  Flags& f = *flags_;
  if (!*f.scan && !*f.report && !*f.diff && !*f.scans) return std::nullopt;

  if (*f.scans) {
    auto store = store::Store::Open(f.db, /*read_only=*/true);
    if (!store) return ReportError(store.error());
    auto scans = (*store)->ListScans();
    if (!scans) return ReportError(scans.error());
    std::map<int64_t, std::map<std::string, int64_t>> counts;
    auto st = (*store)->Query(
        "SELECT scan_id, status, count(*) FROM findings WHERE suppression IS NULL GROUP BY scan_id, status",
        [&](const std::vector<std::string>&, const std::vector<Json>& v) {
          counts[v[0].get<int64_t>()][v[1].get<std::string>()] = v[2].get<int64_t>();
        });
    if (!st) return ReportError(st.error());
    Json out = Json::array();
    if (f.diff_format == "table")
      std::printf("%-5s %-12s %-20s %-10s %7s %7s %7s\n", "scan", "account", "started", "status", "regions", "alarms", "ok");
    for (const auto& s : *scans) {
      auto& c = counts[s.id];
      bool evaluated = !c.empty();
      if (f.diff_format == "json") {
        Json j = {{"id", s.id}, {"account_id", s.account_id}, {"started_at", s.started_at}, {"ended_at", s.ended_at},
                  {"status", s.status}, {"regions", s.regions}, {"evaluated", evaluated}};
        if (evaluated) j["findings"] = c;
        out.push_back(std::move(j));
      } else {
        std::printf("%-5lld %-12s %-20s %-10s %7zu %7s %7s\n", static_cast<long long>(s.id), s.account_id.c_str(), s.started_at.c_str(),
                    s.status.c_str(), s.regions.size(), evaluated ? std::to_string(c["alarm"]).c_str() : "-",
                    evaluated ? std::to_string(c["ok"]).c_str() : "-");
      }
    }
    if (f.diff_format == "json") std::cout << DumpPythonJson(out, 2) << "\n";
    return 0;
  }

  // Rules, specs and the configuration: scan and report both need the
  // framework catalogues; only scan evaluates.
  scan::ScanConfig config;
  if (*f.scan && !f.no_config) {
    std::optional<std::string> path = f.config.empty() ? scan::FindScanConfig() : std::optional<std::string>(f.config);
    if (path) {
      auto loaded = scan::LoadScanConfig(*path);
      if (!loaded) return ConfigError(loaded.error());
      config = std::move(*loaded);
    }
  }
  CLI::App* cmd = *f.scan ? f.scan : (*f.report ? f.report : f.diff);
  // Flags win over the configuration file.
  auto pick_str = [&](const char* flag, std::string& value, const std::optional<std::string>& from_config) {
    if (!Given(cmd, flag) && from_config) value = *from_config;
  };
  auto pick_list = [&](const char* flag, std::vector<std::string>& value, const std::vector<std::string>& from_config) {
    if (!Given(cmd, flag) && !from_config.empty()) value = from_config;
  };
  pick_str("--db", f.db, config.db);

  std::vector<std::string> dirs = f.rule_dirs;
  dirs.insert(dirs.begin(), config.rule_dirs.begin(), config.rule_dirs.end());
  bool builtin = !f.no_builtin && config.builtin.value_or(true);
  auto loaded = LoadRulesAndSpecs(f.specs_dir, builtin, dirs);
  if (!loaded) return ConfigError(loaded.error());

  pick_list("--framework", f.frameworks, config.frameworks);
  // Default: the posture of every framework the binary knows (one line each
  // in the table; the HTML report's compliance section drills down).
  if (f.frameworks.empty())
    for (const auto& fw : loaded->rules.frameworks) f.frameworks.push_back(fw.id);
  for (const auto& fw : f.frameworks)
    if (loaded->rules.FindFramework(fw) == nullptr) {
      std::cerr << "unknown framework `" << fw << "`; `cloudaudit compliance` lists them\n";
      return kExitUsage;
    }

  if (*f.diff) {
    auto store = store::Store::Open(f.db, /*read_only=*/true);
    if (!store) return ReportError(store.error());
    report::LoadOptions lo;
    lo.scan_id = f.to;
    lo.previous_scan_id = f.from;
    lo.threat_run_id = -1;
    lo.tool_version = CLOUDAUDIT_VERSION;
    auto r = report::LoadReport(**store, loaded->rules, lo);
    if (!r) return ReportError(r.error());
    if (!r->diff) {
      std::cerr << fmt::format("scan {} is the first evaluated scan of account {}: nothing to compare with\n", r->scan.id,
                               r->scan.account_id);
      return kExitUsage;
    }
    const auto& d = *r->diff;
    std::vector<const report::Finding*> added, open;
    for (const auto& finding : r->findings) {
      if (finding.row.status != "alarm" || finding.suppressed()) continue;
      (finding.change == "new" ? added : open).push_back(&finding);
    }
    if (f.diff_format == "json") {
      auto row = [](const store::FindingRow& x) {
        return Json{{"finding_id", x.finding_id}, {"rule_id", x.rule_id}, {"severity", x.severity}, {"account_id", x.account_id},
                    {"region", x.region},         {"resource", x.resource}, {"reason", x.reason}};
      };
      Json j = {{"from", {{"scan_id", d.previous_scan_id}, {"started_at", d.previous_started_at}}},
                {"to", {{"scan_id", r->scan.id}, {"started_at", r->scan.started_at}}},
                {"new", Json::array()},
                {"resolved", Json::array()},
                {"open", Json::array()}};
      for (const auto* x : added) {
        Json e = row(x->row);
        e["title"] = x->rule->title;
        e["first_seen"] = x->first_seen;
        j["new"].push_back(std::move(e));
      }
      for (const auto& x : d.resolved) j["resolved"].push_back(row(x));
      for (const auto* x : open) {
        Json e = row(x->row);
        e["title"] = x->rule->title;
        e["first_seen"] = x->first_seen;
        j["open"].push_back(std::move(e));
      }
      std::cout << DumpPythonJson(j, 2) << "\n";
    } else {
      bool color = WantColor(f.color, STDOUT_FILENO);
      auto paint = [&](const char* code, const std::string& s) { return color ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s; };
      std::cout << fmt::format("Account {}: scan {} ({}) compared with scan {} ({})\n", r->scan.account_id, r->scan.id,
                               r->scan.started_at, d.previous_scan_id, d.previous_started_at);
      std::cout << fmt::format("{} new, {} resolved, {} still open\n", added.size(), d.resolved.size(), open.size());
      auto line = [&](const std::string& sev, const std::string& rule, const std::string& resource, const std::string& region,
                      const std::string& extra) {
        std::cout << fmt::format("  {:<9} {:<52} {} ({}){}\n", sev, rule, SanitizeForTerminal(resource), region, extra);
      };
      if (!added.empty()) std::cout << "\n" << paint("1;31", "NEW") << "\n";
      for (const auto* x : added) line(x->row.severity, x->row.rule_id, x->row.resource, x->row.region, "");
      if (!d.resolved.empty()) std::cout << "\n" << paint("1;32", "RESOLVED") << "\n";
      for (const auto& x : d.resolved) line(x.severity, x.rule_id, x.resource, x.region, "");
      if (!open.empty()) std::cout << "\n" << paint("1;33", "STILL OPEN") << "\n";
      for (const auto* x : open)
        line(x->row.severity, x->row.rule_id, x->row.resource, x->row.region, "  since " + x->first_seen.substr(0, 10));
    }
    if (!f.fail_on.empty()) {
      int threshold = report::SeverityRank(f.fail_on);
      size_t failing = 0;
      for (const auto* x : added)
        if (report::SeverityRank(x->row.severity) >= threshold) ++failing;
      if (failing > 0) {
        std::cerr << fmt::format("--fail-on {}: {} new finding{} of severity {} or worse\n", f.fail_on, failing,
                                 failing == 1 ? "" : "s", f.fail_on);
        return kExitFindings;
      }
    }
    return 0;
  }

  pick_list("--format", f.formats, config.formats);
  if (f.formats.empty()) f.formats = {"table"};
  auto formats = ParseFormats(f.formats);
  if (!formats) return kExitUsage;
  if (!Given(cmd, "--out-dir") && config.out_dir) f.out_dir = *config.out_dir;
  if (!Given(cmd, "--fail-on") && config.fail_on) f.fail_on = *config.fail_on;
  if (!Given(cmd, "--include-passed") && config.include_passed) f.include_passed = *config.include_passed;
  if (!f.out.empty() && formats->size() > 1) {
    std::cerr << "--out names one file: with several formats use --out-dir\n";
    return kExitUsage;
  }

  int64_t scan_id = f.scan_id;
  const bool quiet = f.quiet;
  const bool progress = !quiet && isatty(STDERR_FILENO) != 0;
  std::mutex progress_mu;

  if (*f.scan) {
    pick_str("--profile", f.profile, config.profile);
    pick_str("--region", f.region, config.region);
    pick_str("--endpoint-url", f.endpoint_url, config.endpoint_url);
    pick_str("--ca-bundle", f.ca_bundle, config.ca_bundle);
    pick_list("--regions", f.regions, config.regions);
    pick_list("--services", f.services, config.services);
    pick_list("--exclude-services", f.exclude_services, config.exclude_services);
    if (!Given(cmd, "--concurrency") && config.concurrency) f.concurrency = *config.concurrency;
    if (!Given(cmd, "--threads") && config.threads) f.threads = *config.threads;

    if (!f.offline) {
      aws::ConfigOverrides overrides;
      if (!f.profile.empty()) overrides.profile = f.profile;
      if (!f.region.empty()) overrides.region = f.region;
      if (!f.endpoint_url.empty()) overrides.endpoint_url = f.endpoint_url;
      if (!f.ca_bundle.empty()) overrides.ca_bundle = f.ca_bundle;
      auto session = aws::OpenSession(overrides);
      if (!session) return ReportError(session.error());
      auto store = store::Store::Open(f.db);
      if (!store) return ReportError(store.error());
      collect::CollectOptions options;
      options.regions = f.regions;
      options.services = {f.services.begin(), f.services.end()};
      options.exclude_services = {f.exclude_services.begin(), f.exclude_services.end()};
      options.concurrency = f.concurrency;
      options.tool_version = CLOUDAUDIT_VERSION;
      if (progress)
        options.on_progress = [&](size_t done, size_t total, const std::string& task) {
          std::lock_guard<std::mutex> lock(progress_mu);
          int width = 30;
          int filled = total == 0 ? width : static_cast<int>(width * done / total);
          std::fprintf(stderr, "\rCollecting [%s%s] %zu/%zu %-44.44s", std::string(filled, '#').c_str(),
                       std::string(width - filled, '.').c_str(), done, total, task.c_str());
          std::fflush(stderr);
        };
      auto collected = collect::Collect(*session->client, **store, loaded->specs, options);
      if (progress) std::fprintf(stderr, "\r\x1b[K");
      if (!collected) return ReportError(collected.error());
      scan_id = collected->scan_id;
      if (!quiet)
        std::cerr << fmt::format("Collected scan {} of account {}: {} regions, {} API calls, {} gaps, {:.1f} s\n", scan_id,
                                 collected->account_id, collected->regions.size(), collected->api_calls, collected->gaps,
                                 collected->seconds);
    } else {
      auto store = store::Store::Open(f.db, /*read_only=*/true);
      if (!store) return ReportError(store.error());
      auto resolved = (*store)->ResolveScanId(f.scan_id);
      if (!resolved) return ReportError(resolved.error());
      scan_id = *resolved;
    }

    // Evaluate.
    rules::EvalOptions options;
    rules::Selection& sel = options.selection;
    sel.ids = f.rule_ids.empty() ? config.rule_ids : f.rule_ids;
    sel.tags = f.tags.empty() ? config.rule_tags : f.tags;
    sel.services = config.rule_services;
    std::string min_sev = f.min_severity.empty() ? config.min_severity.value_or("") : f.min_severity;
    if (!min_sev.empty()) sel.min_severity = rules::ParseSeverity(min_sev);
    sel.include_legacy = !f.no_legacy && config.include_legacy.value_or(true);
    // A service left out of collection must not read as "nothing wrong":
    // its rules are left out of the evaluation too.
    if (!f.services.empty() || !f.exclude_services.empty()) {
      std::set<std::string> wanted(f.services.begin(), f.services.end()), excluded(f.exclude_services.begin(), f.exclude_services.end());
      std::vector<std::string> ids;
      for (const auto& rule : loaded->rules.rules) {
        const collect::ResourceSpec* spec = loaded->specs.Find(rule.resource_table);
        std::string service = spec != nullptr ? spec->service : rule.service;
        if ((wanted.empty() || wanted.count(service)) && !excluded.count(service) && sel.Matches(rule)) ids.push_back(rule.id);
      }
      if (ids.empty()) {
        std::cerr << "no rule reads the services chosen (" << Join(f.services) << ")\n";
        return kExitUsage;
      }
      sel.ids = ids;
    }
    options.params = config.params;
    for (const auto& p : f.params) {
      auto parsed = rules::ParseParamAssignment(p);
      if (!parsed) return ReportError(parsed.error());
      options.params[parsed->first] = parsed->second;
    }
    options.suppressions = config.suppressions;
    for (const std::string& file : {config.suppressions_file.value_or(""), f.suppressions}) {
      if (file.empty()) continue;
      auto s = rules::LoadSuppressions(file);
      if (!s) return ConfigError(s.error());
      options.suppressions.insert(options.suppressions.end(), s->begin(), s->end());
    }
    options.threads = f.threads > 0 ? f.threads : std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
    options.tool_version = CLOUDAUDIT_VERSION;
    if (!f.as_of.empty()) {
      auto as_of = ParseAsOf(f.as_of);
      if (!as_of) {
        std::cerr << "--as-of: `" << f.as_of << "` is not a date or ISO-8601 time\n";
        return kExitUsage;
      }
      options.as_of_epoch = *as_of;
    }
    if (progress)
      options.on_progress = [&](size_t done, size_t total) {
        std::lock_guard<std::mutex> lock(progress_mu);
        std::fprintf(stderr, "\rEvaluating rules %zu/%zu", done, total);
        std::fflush(stderr);
      };
    auto evaluated = rules::Evaluate(f.db, scan_id, loaded->rules, loaded->specs, options);
    if (progress) std::fprintf(stderr, "\r\x1b[K");
    if (!evaluated) return ReportError(evaluated.error());
    for (const auto& s : evaluated->expired)
      std::cerr << fmt::format("warning: {}:{}: suppression of {} for {} (owner {}) expired on {}; it no longer applies\n", s.file,
                               s.line, s.rule, s.resource, s.owner, s.expires);
    for (const auto& e : evaluated->rule_errors) std::cerr << "rule error: " << e << "\n";
    if (!quiet)
      std::cerr << fmt::format("Evaluated {} rules in {:.1f} s\n", evaluated->rules, evaluated->seconds);
  }

  // Report.
  auto store = store::Store::Open(f.db, /*read_only=*/true);
  if (!store) return ReportError(store.error());
  report::LoadOptions lo;
  lo.scan_id = scan_id;
  lo.frameworks = f.frameworks;
  lo.previous_scan_id = *f.report ? f.from : 0;
  lo.threat_run_id = f.no_threats ? -1 : f.threat_run;
  lo.tool_version = CLOUDAUDIT_VERSION;
  auto r = report::LoadReport(**store, loaded->rules, lo);
  if (!r) return ReportError(r.error());
  report::WriteOptions wo;
  wo.color = WantColor(f.color, STDOUT_FILENO);
  wo.include_passed = f.include_passed;
  if (quiet && *f.scan) {
    // Quiet: files only, no table on the terminal.
    formats->erase(std::remove(formats->begin(), formats->end(), report::Format::kTable), formats->end());
  }
  if (int rc = WriteFormats(*r, *formats, f.out, f.out_dir, wo, quiet, /*single_to_stdout=*/*f.report && !Given(cmd, "--out-dir"));
      rc != 0)
    return rc;
  return GateExit(*r, f.fail_on);
}

}  // namespace cloudaudit::cli
