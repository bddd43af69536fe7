#include "cli/rules_commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "base/json.h"
#include "base/time.h"
#include "cli/common.h"
#include "collect/spec.h"
#include "rules/engine.h"
#include "rules/rule.h"
#include "store/store.h"

namespace cloudaudit::cli {

struct RuleCommands::Flags {
  CLI::App* rules = nullptr;
  CLI::App* list = nullptr;
  CLI::App* show = nullptr;
  CLI::App* test = nullptr;
  CLI::App* evaluate = nullptr;
  CLI::App* compliance = nullptr;

  // Shared by every command.
  std::vector<std::string> rule_dirs;
  bool no_builtin = false;
  std::string specs_dir;
  std::string format = "table";

  // Selection.
  std::vector<std::string> ids, services, tags, frameworks;
  std::string min_severity;
  bool no_legacy = false;

  std::string show_id;
  std::vector<std::string> test_ids;

  std::string db = "cloudaudit.db";
  int64_t scan = 0;
  std::vector<std::string> params;
  std::string suppressions;
  int threads = 0;
  bool quiet = false;
  std::string as_of;

  std::string framework;

  void AddRuleSource(CLI::App* app) {
    app->add_option("--rules-dir", rule_dirs, "Also load rules (and framework files) from this directory (repeatable)")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_flag("--no-builtin", no_builtin, "Do not load the built-in rules");
    app->add_option("--specs", specs_dir, "Resource spec directory (default: built-in specs)");
  }
  void AddSelection(CLI::App* app) {
    app->add_option("--rule", ids, "Rule ids or patterns (* and ?), repeatable or comma-separated")->delimiter(',')->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_option("--service", services, "Only rules of these services")->delimiter(',')->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_option("--tag", tags, "Only rules with one of these tags")->delimiter(',')->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_option("--framework", frameworks, "Only rules mapped to these frameworks")->delimiter(',')->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app->add_option("--severity", min_severity, "Only rules of this severity or worse")
        ->check(CLI::IsMember({"informational", "low", "medium", "high", "critical"}));
    app->add_flag("--no-legacy", no_legacy, "Leave out legacy-platform rules (EC2-Classic, ...)");
  }
  rules::Selection MakeSelection() const {
    rules::Selection s;
    s.ids = ids;
    s.services = services;
    s.tags = tags;
    s.frameworks = frameworks;
    if (!min_severity.empty()) s.min_severity = rules::ParseSeverity(min_severity);
    s.include_legacy = !no_legacy;
    return s;
  }
};

RuleCommands::RuleCommands(CLI::App& app) : flags_(std::make_unique<Flags>()) {
  Flags& f = *flags_;
  f.rules = app.add_subcommand("rules", "List, show and test the misconfiguration rules");
  f.rules->require_subcommand(1);
  f.list = f.rules->add_subcommand("list", "List rules (id, severity, service, title)");
  f.AddRuleSource(f.list);
  f.AddSelection(f.list);
  f.list->add_option("--format", f.format, "table or json")->check(CLI::IsMember({"table", "json"}));
  f.show = f.rules->add_subcommand("show", "Show one rule whole");
  f.show->add_option("id", f.show_id, "Rule id")->required();
  f.AddRuleSource(f.show);
  f.show->add_option("--format", f.format, "table (text) or json")->check(CLI::IsMember({"table", "json"}));
  f.test = f.rules->add_subcommand("test", "Run rule fixtures (all, or the given ids/patterns)");
  f.test->add_option("ids", f.test_ids, "Rule ids or patterns");
  f.AddRuleSource(f.test);

  f.evaluate = app.add_subcommand("evaluate", "Evaluate rules against a stored scan and save the findings");
  f.evaluate->add_option("--db", f.db, "Store file");
  f.evaluate->add_option("--scan", f.scan, "Scan id (default: the latest)");
  f.AddRuleSource(f.evaluate);
  f.AddSelection(f.evaluate);
  f.evaluate->add_option("--param", f.params, "Parameter override name=value or rule.id.name=value (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f.evaluate->add_option("--suppressions", f.suppressions, "Suppressions file (YAML)");
  f.evaluate->add_option("--threads", f.threads, "Parallel rule workers (default: CPU count)")->check(CLI::Range(1, 256));
  f.evaluate->add_option("--format", f.format, "table or json (summary)")->check(CLI::IsMember({"table", "json"}));
  f.evaluate->add_flag("--quiet", f.quiet, "No progress or summary");
  f.evaluate->add_option("--as-of", f.as_of, "Evaluate ages as of this time (ISO-8601) instead of the scan's start");

  f.compliance = app.add_subcommand("compliance", "Compliance posture per control of a framework (or list frameworks)");
  f.compliance->add_option("framework", f.framework, "Framework id, e.g. cis-aws-v3.0");
  f.compliance->add_option("--db", f.db, "Store file");
  f.compliance->add_option("--scan", f.scan, "Scan id (default: the latest)");
  f.AddRuleSource(f.compliance);
  f.compliance->add_option("--format", f.format, "table or json")->check(CLI::IsMember({"table", "json"}));
}

RuleCommands::~RuleCommands() = default;

namespace {

struct Loaded {
  collect::SpecSet specs;
  rules::RuleSet rules;
};

// Rule-file problems are configuration errors (253), reported in full.
std::optional<Loaded> LoadAll(const RuleCommands& /*unused*/, const std::vector<std::string>& dirs, bool no_builtin,
                              const std::string& specs_dir, int& rc) {
  auto specs = collect::LoadSpecs(specs_dir);
  if (!specs) {
    rc = ReportError(specs.error());
    return std::nullopt;
  }
  rules::LoadOptions options;
  options.builtin = !no_builtin;
  options.rule_dirs = dirs;
  auto set = rules::LoadRules(options, *specs);
  if (!set) {
    std::cerr << set.error().message << "\n";
    rc = set.error().code == ErrorCode::kNotFound ? kExitUsage : kExitConfig;
    return std::nullopt;
  }
  return Loaded{std::move(*specs), std::move(*set)};
}

std::string Join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

void PrintIndented(const std::string& label, const std::string& text) {
  if (text.empty()) return;
  std::cout << label << ":\n";
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::cout << "  " << text.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

}  // namespace

std::optional<int> RuleCommands::Run() {
  Flags& f = *flags_;
  int rc = 0;
  if (*f.list) {
    auto loaded = LoadAll(*this, f.rule_dirs, f.no_builtin, f.specs_dir, rc);
    if (!loaded) return rc;
    auto selection = f.MakeSelection();
    Json out = Json::array();
    size_t n = 0;
    for (const auto& r : loaded->rules.rules) {
      if (!selection.Matches(r)) continue;
      ++n;
      if (f.format == "json") {
        out.push_back(r.Document());
      } else {
        std::printf("%-60s %-13s %-12s %s%s\n", r.id.c_str(), std::string(rules::SeverityName(r.severity)).c_str(),
                    r.service.c_str(), r.title.c_str(), r.legacy ? " (legacy)" : "");
      }
    }
    if (f.format == "json") std::cout << DumpPythonJson(out, 2) << "\n";
    else std::printf("(%zu rules)\n", n);
    return 0;
  }
  if (*f.show) {
    auto loaded = LoadAll(*this, f.rule_dirs, f.no_builtin, f.specs_dir, rc);
    if (!loaded) return rc;
    const rules::Rule* r = loaded->rules.Find(f.show_id);
    if (r == nullptr) {
      std::cerr << "no rule " << f.show_id << "; `cloudaudit rules list` lists them\n";
      return kExitUsage;
    }
    if (f.format == "json") {
      Json doc = r->Document();
      doc["query"] = r->query;
      doc["file"] = r->file;
      doc["tests"] = r->tests.size();
      std::cout << DumpPythonJson(doc, 2) << "\n";
      return 0;
    }
    std::cout << r->id << " — " << r->title << (r->legacy ? " (legacy)" : "") << "\n"
              << "severity " << rules::SeverityName(r->severity) << ", service " << r->service << ", table "
              << r->resource_table << ", pillars " << Join(r->pillars) << "\n";
    if (!r->tags.empty()) std::cout << "tags: " << Join(r->tags) << "\n";
    if (!r->aliases.empty()) std::cout << "aliases: " << Join(r->aliases) << "\n";
    std::cout << "\n" << r->description << "\n\n";
    if (!r->compliance.empty()) {
      std::cout << "compliance:\n";
      for (const auto& [fw, ids] : r->compliance) std::cout << "  " << fw << ": " << Join(ids) << "\n";
    }
    if (!r->params.empty()) {
      std::cout << "parameters:\n";
      for (const auto& p : r->params) std::cout << "  " << p.name << " = " << p.default_value.dump() << "  " << p.description << "\n";
    }
    PrintIndented("query", r->query);
    PrintIndented("console", r->remediation.console);
    PrintIndented("cli", r->remediation.cli);
    PrintIndented("terraform", r->remediation.terraform);
    PrintIndented("cloudformation", r->remediation.cloudformation);
    PrintIndented("prevent", r->remediation.prevent);
    if (!r->references.empty()) PrintIndented("references", Join(r->references, "\n"));
    std::cout << "defined in " << r->file << ":" << r->line << " (" << r->tests.size() << " fixtures)\n";
    return 0;
  }
  if (*f.test) {
    auto loaded = LoadAll(*this, f.rule_dirs, f.no_builtin, f.specs_dir, rc);
    if (!loaded) return rc;
    std::vector<const rules::Rule*> chosen;
    rules::Selection selection;
    selection.ids = f.test_ids;
    for (const auto& r : loaded->rules.rules)
      if (selection.Matches(r)) chosen.push_back(&r);
    if (chosen.empty()) {
      std::cerr << "no rule matches " << Join(f.test_ids) << "\n";
      return kExitUsage;
    }
    auto report = rules::RunRuleTests(chosen, loaded->specs);
    for (const auto& failure : report.failures)
      std::cout << failure.file << ":" << failure.line << ": " << failure.rule_id << ": fixture `" << failure.test_name
                << "`: " << failure.message << "\n";
    std::cout << fmt::format("{} rules, {} fixtures, {} failure{}\n", report.rules, report.tests, report.failures.size(),
                             report.failures.size() == 1 ? "" : "s");
    return report.failures.empty() ? 0 : kExitFindings;
  }
  if (*f.evaluate) {
    auto loaded = LoadAll(*this, f.rule_dirs, f.no_builtin, f.specs_dir, rc);
    if (!loaded) return rc;
    rules::EvalOptions options;
    options.selection = f.MakeSelection();
    for (const auto& p : f.params) {
      auto parsed = rules::ParseParamAssignment(p);
      if (!parsed) return ReportError(parsed.error());
      options.params[parsed->first] = parsed->second;
    }
    if (!f.suppressions.empty()) {
      auto s = rules::LoadSuppressions(f.suppressions);
      if (!s) {
        std::cerr << s.error().message << "\n";
        return s.error().code == ErrorCode::kNotFound ? kExitUsage : kExitConfig;
      }
      options.suppressions = std::move(*s);
    }
    options.threads = f.threads > 0 ? f.threads : std::max(1, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)));
    options.tool_version = CLOUDAUDIT_VERSION;
    if (!f.as_of.empty()) {
      auto ts = ParseTimestamp(f.as_of.size() == 10 ? f.as_of + "T00:00:00Z" : f.as_of);
      if (!ts) {
        std::cerr << "--as-of: `" << f.as_of << "` is not a date or ISO-8601 time\n";
        return kExitUsage;
      }
      options.as_of_epoch = ts->epoch_seconds;
    }
    bool tty = isatty(STDERR_FILENO) != 0 && !f.quiet;
    std::mutex mu;
    if (tty)
      options.on_progress = [&](size_t done, size_t total) {
        std::lock_guard<std::mutex> lock(mu);
        std::fprintf(stderr, "\rEvaluating rules %zu/%zu", done, total);
        std::fflush(stderr);
      };
    int64_t scan_id = f.scan;
    {
      auto store = store::Store::Open(f.db, /*read_only=*/true);
      if (!store) return ReportError(store.error());
      auto resolved = (*store)->ResolveScanId(f.scan);
      if (!resolved) return ReportError(resolved.error());
      scan_id = *resolved;
    }
    auto summary = rules::Evaluate(f.db, scan_id, loaded->rules, loaded->specs, options);
    if (tty) std::fprintf(stderr, "\n");
    if (!summary) return ReportError(summary.error());
    for (const auto& s : summary->expired)
      std::cerr << fmt::format("warning: {}:{}: suppression of {} for {} (owner {}) expired on {}; it no longer applies\n", s.file,
                               s.line, s.rule, s.resource, s.owner, s.expires);
    for (const auto& e : summary->rule_errors) std::cerr << "rule error: " << e << "\n";
    if (f.quiet) return 0;
    if (f.format == "json") {
      Json j = {{"scan_id", summary->scan_id},
                {"rules", summary->rules},
                {"by_status", summary->by_status},
                {"alarms_by_severity", summary->alarms_by_severity},
                {"suppressed", summary->suppressed},
                {"rule_errors", summary->rule_errors},
                {"seconds", summary->seconds}};
      std::cout << DumpPythonJson(j, 2) << "\n";
      return 0;
    }
    // The worst alarms first, then the totals. Only the rows shown are read:
    // a large scan's findings do not fit in memory.
    auto store = store::Store::Open(f.db, /*read_only=*/true);
    if (!store) return ReportError(store.error());
    auto quote = [](const std::string& text) {
      std::string out = "'";
      for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
      return out + "'";
    };
    std::string selected, rank = "CASE severity";
    for (const auto& r : loaded->rules.rules)
      if (options.selection.Matches(r)) selected += (selected.empty() ? "" : ",") + quote(r.id);
    for (auto sev : {rules::Severity::kInformational, rules::Severity::kLow, rules::Severity::kMedium, rules::Severity::kHigh,
                     rules::Severity::kCritical})
      rank += fmt::format(" WHEN {} THEN {}", quote(std::string(rules::SeverityName(sev))), static_cast<int>(sev));
    rank += " ELSE 0 END";
    const size_t kShown = 25;
    auto shown = (*store)->Query(
        fmt::format("SELECT severity, rule_id, resource, reason FROM findings WHERE scan_id = {} AND status = 'alarm' "
                    "AND suppression IS NULL AND rule_id IN ({}) ORDER BY {} DESC, rule_id, resource LIMIT {}",
                    scan_id, selected, rank, kShown),
        [&](const auto&, const std::vector<Json>& v) {
          std::printf("%-8s %-50s %s\n         %s\n", v[0].get<std::string>().c_str(), v[1].get<std::string>().c_str(),
                      v[2].get<std::string>().c_str(), v[3].get<std::string>().c_str());
        });
    if (!shown) return ReportError(shown.error());
    // The unsuppressed alarms of the selected rules, as the evaluation counted them.
    const size_t alarms = summary->by_status.count("alarm") ? summary->by_status.at("alarm") : 0;
    if (alarms > kShown) std::printf("... and %zu more alarms (cloudaudit query --db %s \"select * from findings\")\n", alarms - kShown, f.db.c_str());
    auto count = [&](const char* k) { return summary->by_status.count(k) ? summary->by_status.at(k) : 0; };
    std::printf("\nScan %lld: %zu rules in %.2f s — %zu alarm, %zu ok, %zu skip, %zu error, %zu suppressed\n",
                static_cast<long long>(summary->scan_id), summary->rules, summary->seconds, count("alarm"), count("ok"), count("skip"),
                count("error"), summary->suppressed);
    if (!summary->alarms_by_severity.empty()) {
      std::printf("Alarms by severity:");
      for (const char* sev : {"critical", "high", "medium", "low", "informational"})
        if (summary->alarms_by_severity.count(sev)) std::printf(" %s %zu", sev, summary->alarms_by_severity.at(sev));
      std::printf("\n");
    }
    return 0;
  }
  if (*f.compliance) {
    auto loaded = LoadAll(*this, f.rule_dirs, f.no_builtin, f.specs_dir, rc);
    if (!loaded) return rc;
    if (f.framework.empty()) {
      for (const auto& fw : loaded->rules.frameworks)
        std::printf("%-20s %s (%zu controls)\n", fw.id.c_str(), fw.title.c_str(), fw.controls.size());
      return 0;
    }
    const rules::Framework* fw = loaded->rules.FindFramework(f.framework);
    if (fw == nullptr) {
      std::cerr << "no framework " << f.framework << "; `cloudaudit compliance` lists them\n";
      return kExitUsage;
    }
    auto store = store::Store::Open(f.db, /*read_only=*/true);
    if (!store) return ReportError(store.error());
    auto scan_id = (*store)->ResolveScanId(f.scan);
    if (!scan_id) return ReportError(scan_id.error());
    // Findings are stored as an evaluation runs; rules it did not finish
    // have no metadata and count as not evaluated.
    std::string last_evaluation;
    auto checked = (*store)->Query(fmt::format("SELECT status FROM evaluations WHERE scan_id = {} ORDER BY id DESC LIMIT 1", *scan_id),
                                   [&](const auto&, const std::vector<Json>& v) { last_evaluation = v[0].get<std::string>(); });
    if (!checked) return ReportError(checked.error());
    if (last_evaluation == "running" || last_evaluation == "failed")
      std::cerr << "warning: the last evaluation of scan " << *scan_id << " is " << last_evaluation
                << (last_evaluation == "running" ? " (or was interrupted)" : "")
                << ": the rules it did not finish count as not evaluated\n";
    auto findings = (*store)->ListFindings(*scan_id);
    if (!findings) return ReportError(findings.error());
    auto evaluated_rules = (*store)->ListScanRules(*scan_id);
    if (!evaluated_rules) return ReportError(evaluated_rules.error());
    std::set<std::string> evaluated;
    for (const auto& [id, doc] : *evaluated_rules) evaluated.insert(id);
    if (evaluated.empty()) {
      std::cerr << "scan " << *scan_id << " has not been evaluated yet: run `cloudaudit evaluate --db " << f.db << "` first\n";
      return kExitUsage;
    }
    auto posture = rules::ComputePosture(*fw, loaded->rules, evaluated, *findings);
    if (f.format == "json") {
      Json controls = Json::array();
      for (const auto& c : posture.controls)
        controls.push_back({{"id", c.control->id}, {"title", c.control->title}, {"status", c.status}, {"rules", c.rules},
                            {"alarms", c.alarms}, {"ok", c.oks}, {"skipped", c.skips}});
      Json j = {{"framework", fw->id}, {"title", fw->title}, {"scan_id", *scan_id}, {"pass", posture.pass}, {"fail", posture.fail},
                {"manual", posture.manual}, {"not_applicable", posture.not_applicable}, {"unknown", posture.unknown},
                {"percent", posture.percent}, {"controls", controls}};
      std::cout << DumpPythonJson(j, 2) << "\n";
      return 0;
    }
    std::cout << fw->title << " — scan " << *scan_id << "\n\n";
    for (const auto& c : posture.controls) {
      std::string detail = c.status == "fail" ? fmt::format(" ({} alarm{})", c.alarms, c.alarms == 1 ? "" : "s") : "";
      std::printf("%-10s %-15s %s%s\n", c.control->id.c_str(), c.status.c_str(), c.control->title.c_str(), detail.c_str());
    }
    std::printf("\n%zu pass, %zu fail, %zu manual, %zu not applicable, %zu unknown — %.1f%% of automated controls pass\n",
                posture.pass, posture.fail, posture.manual, posture.not_applicable, posture.unknown, posture.percent);
    return 0;
  }
  return std::nullopt;
}

}  // namespace cloudaudit::cli
