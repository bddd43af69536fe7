#include "cli/threats_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "aws/client/session.h"
#include "base/json.h"
#include "base/time.h"
#include "cli/common.h"
#include "rules/engine.h"
#include "store/store.h"
#include "threats/hunt.h"
#include "threats/sigma.h"
#include "threats/sources.h"

namespace cloudaudit::cli {

struct ThreatsCommand::Flags {
  CLI::App* cmd = nullptr;
  std::vector<std::string> sources;
  std::string since, until;
  std::vector<std::string> rule_paths;
  bool no_builtin = false;
  std::string db;
  std::string suppressions;
  std::string format = "table";
  int concurrency = 0;
  bool include_service_activity = false;
  std::vector<std::string> regions;
  int64_t max_file_mb = 1024;
  std::string delivery_margin = "1h";
  size_t limit = 25;
  bool show_suppressed = false;
  bool quiet = false;
  std::string profile, region, endpoint_url, ca_bundle;
};

ThreatsCommand::ThreatsCommand(CLI::App& app) : flags_(std::make_unique<Flags>()) {
  Flags& f = *flags_;
  f.cmd = app.add_subcommand("threats", "Hunt threats in CloudTrail logs with Sigma rules (files, folders, s3://, lookup-events)");
  f.cmd->add_option("sources", f.sources,
                    "CloudTrail sources: a .json/.json.gz file, a folder (AWSLogs layout, searched recursively), "
                    "s3://BUCKET[/PREFIX], or lookup-events")
      ->required();
  f.cmd->add_option("--since", f.since, "Only records at or after this time: ISO-8601, a date, or an age (90d, 12h)");
  f.cmd->add_option("--until", f.until, "Only records at or before this time (a date means its end)");
  f.cmd->add_option("--rules", f.rule_paths, "Also load Sigma rules from this file or folder (repeatable)")
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  f.cmd->add_flag("--no-builtin", f.no_builtin, "Do not load the built-in Sigma rules");
  f.cmd->add_option("--db", f.db, "Store the run and its alerts in this store file (created if missing)");
  f.cmd->add_option("--suppressions", f.suppressions, "Suppressions file (YAML, as for `evaluate`): rule id pattern + principal/resource ARN pattern");
  f.cmd->add_option("--format", f.format, "table (summary) or json (one alert per line)")->check(CLI::IsMember({"table", "json"}));
  f.cmd->add_option("--concurrency", f.concurrency, "Files read at once (default: CPU count; 16 with S3 or LookupEvents sources)")
      ->check(CLI::Range(1, 256));
  f.cmd->add_flag("--include-service-activity", f.include_service_activity,
                  "Also evaluate calls AWS services make on your behalf (invokedBy, AWSService, service-linked roles)");
  f.cmd->add_option("--regions", f.regions, "Regions for lookup-events (comma-separated, or `all` enabled regions; default: the session's)")
      ->delimiter(',');
  f.cmd->add_option("--max-file-mb", f.max_file_mb, "Skip the rest of a file past this many MB decompressed (and S3 objects larger)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  f.cmd->add_option("--delivery-margin", f.delivery_margin,
                    "With --until, also read files delivered this long after it (late delivery; default 1h)");
  f.cmd->add_option("--limit", f.limit, "Alerts listed in the table (default 25)");
  f.cmd->add_flag("--show-suppressed", f.show_suppressed, "JSON: also print suppressed alerts (with their suppression)");
  f.cmd->add_flag("--quiet", f.quiet, "No progress, notes or summary (JSON lines and errors only)");
  f.cmd->add_option("--profile", f.profile, "Named profile (for s3:// and lookup-events)");
  f.cmd->add_option("--region", f.region, "AWS region (for s3:// and lookup-events)");
  f.cmd->add_option("--endpoint-url", f.endpoint_url, "Send AWS calls to this URL");
  f.cmd->add_option("--ca-bundle", f.ca_bundle, "CA certificate bundle for TLS verification");
}

ThreatsCommand::~ThreatsCommand() = default;

namespace {

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Megabytes(uint64_t bytes) { return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6); }

int LevelRank(const std::string& level) {
  static const std::map<std::string, int> kRank = {{"critical", 5}, {"high", 4}, {"medium", 3}, {"low", 2}, {"informational", 1}};
  auto it = kRank.find(level);
  return it == kRank.end() ? 0 : it->second;
}

// "1h", "30m", "2d": a duration in seconds.
std::optional<int64_t> ParseDuration(const std::string& text) {
  auto t = threats::ParseTimeBound(text, 0, false);
  if (!t || text.find('-') != std::string::npos || text.find(':') != std::string::npos) return std::nullopt;
  return -*t;
}

Json AlertJson(const store::AlertRow& a) {
  Json record;
  if (auto parsed = ParseJson(a.record)) record = std::move(*parsed);
  else record = a.record;
  return Json{{"alert_id", a.alert_id},     {"run_id", a.run_id},         {"rule_id", a.rule_id},
              {"rule_title", a.rule_title}, {"level", a.level},           {"tags", a.tags},
              {"event_time", a.event_time}, {"event_id", a.event_id},     {"event_name", a.event_name},
              {"event_source", a.event_source}, {"account_id", a.account_id}, {"region", a.region},
              {"principal", a.principal},   {"source_ip", a.source_ip},   {"user_agent", a.user_agent},
              {"source", a.source},         {"record", std::move(record)}, {"suppression", a.suppression}};
}

std::string Clip(const std::string& s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 1) + "~"; }

}  // namespace

std::optional<int> ThreatsCommand::Run() {
  Flags& f = *flags_;
  if (!*f.cmd) return std::nullopt;
  const int64_t now = NowEpochSeconds();

  // Arguments first: nothing is read or written for a bad command line.
  threats::HuntOptions options;
  if (!f.since.empty()) {
    auto t = threats::ParseTimeBound(f.since, now, false);
    if (!t) return ReportError(t.error());
    options.window.since = *t;
  }
  if (!f.until.empty()) {
    auto t = threats::ParseTimeBound(f.until, now, true);
    if (!t) return ReportError(t.error());
    options.window.until = *t;
  }
  if (options.window.since && options.window.until && *options.window.since > *options.window.until) {
    std::cerr << "--since is after --until\n";
    return kExitUsage;
  }
  auto margin = ParseDuration(f.delivery_margin);
  if (!margin) {
    std::cerr << "--delivery-margin: `" << f.delivery_margin << "` is not a duration (30m, 1h, 2d)\n";
    return kExitUsage;
  }
  options.margins.delivery_margin_seconds = *margin;
  std::vector<threats::SourceSpec> sources;
  bool remote = false;
  for (const auto& text : f.sources) {
    auto spec = threats::ParseSourceSpec(text);
    if (!spec) return ReportError(spec.error());
    remote = remote || spec->kind != threats::SourceSpec::Kind::kLocal;
    if (spec->kind == threats::SourceSpec::Kind::kLocal && access(spec->path.c_str(), F_OK) != 0) {
      std::cerr << "no such file or folder: " << spec->path << "\n";
      return kExitUsage;
    }
    sources.push_back(std::move(*spec));
  }

  // Rules and suppressions: problems are configuration errors (253).
  threats::SigmaLoadOptions load;
  load.builtin = !f.no_builtin;
  load.paths = f.rule_paths;
  auto rules = threats::SigmaRuleSet::Load(load);
  if (!rules) {
    std::cerr << rules.error().message << "\n";
    return rules.error().code == ErrorCode::kNotFound ? kExitUsage : kExitConfig;
  }
  if (rules->rules().empty()) {
    std::cerr << "no Sigma rules to hunt with: " << (f.no_builtin ? "--no-builtin and no rules in --rules" : "no rules loaded") << "\n";
    return f.no_builtin && f.rule_paths.empty() ? kExitUsage : kExitConfig;
  }
  if (!f.quiet && !rules->skipped().empty())
    std::cerr << fmt::format("note: {} rule{} for other log sources skipped (not aws/cloudtrail)\n", rules->skipped().size(),
                             rules->skipped().size() == 1 ? "" : "s");
  if (!f.suppressions.empty()) {
    auto s = rules::LoadSuppressions(f.suppressions);
    if (!s) {
      std::cerr << s.error().message << "\n";
      return s.error().code == ErrorCode::kNotFound ? kExitUsage : kExitConfig;
    }
    options.suppressions = std::move(*s);
  }

  std::optional<aws::Session> session;
  if (remote) {
    aws::ConfigOverrides o;
    if (!f.profile.empty()) o.profile = f.profile;
    if (!f.region.empty()) o.region = f.region;
    if (!f.endpoint_url.empty()) o.endpoint_url = f.endpoint_url;
    if (!f.ca_bundle.empty()) o.ca_bundle = f.ca_bundle;
    auto opened = aws::OpenSession(o);
    if (!opened) return ReportError(opened.error());
    session = std::move(*opened);
    options.client = session->client.get();
    if (f.regions.size() == 1 && f.regions[0] == "all") {
      auto all = threats::EnabledRegions(*options.client);
      if (!all) return ReportError(all.error());
      options.lookup_regions = *all;
    } else {
      options.lookup_regions = f.regions;
    }
  }
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  options.concurrency = f.concurrency > 0 ? f.concurrency : (remote ? 16 : cores);
  options.include_service_activity = f.include_service_activity;
  options.limits.max_file_bytes = static_cast<uint64_t>(f.max_file_mb) << 20;
  options.now_epoch = now;
  const bool tty = isatty(STDERR_FILENO) != 0 && !f.quiet;
  if (tty)
    options.on_progress = [](const threats::HuntProgress& p) {
      double mbps = p.seconds > 0 ? static_cast<double>(p.bytes) / 1e6 / p.seconds : 0;
      std::fprintf(stderr, "\rRead %s files, %s records, %.1f MB/s, %s alerts   ", Thousands(p.files).c_str(),
                   Thousands(p.records).c_str(), mbps, Thousands(p.alerts).c_str());
      std::fflush(stderr);
    };

  threats::SigmaMatcher matcher(*rules);
  std::unique_ptr<store::Store> store;
  store::ThreatRun run;
  if (!f.db.empty()) {
    auto opened = store::Store::Open(f.db);
    if (!opened) return ReportError(opened.error());
    store = std::move(*opened);
    run.tool_version = CLOUDAUDIT_VERSION;
    for (const auto& s : sources) run.sources.push_back(s.text);
    if (options.window.since) run.since = FormatIso8601Utc(*options.window.since);
    if (options.window.until) run.until = FormatIso8601Utc(*options.window.until);
    run.rules = static_cast<int64_t>(rules->rules().size());
    auto id = store->BeginThreatRun(run);
    if (!id) return ReportError(id.error());
    run.id = *id;
  }

  auto hunted = threats::Hunt(sources, matcher, options);
  if (tty) std::fprintf(stderr, "\n");
  if (!hunted) {
    if (store) {
      run.status = "failed";
      (void)store->FinishThreatRun(run.id, run);
    }
    return ReportError(hunted.error());
  }
  threats::HuntResult& result = *hunted;
  for (auto& a : result.alerts) a.run_id = run.id;
  const auto& st = result.stats;
  if (store) {
    run.status = result.status;
    run.records = static_cast<int64_t>(st.records);
    run.malformed = static_cast<int64_t>(st.malformed_records + st.malformed_files);
    run.alerts = static_cast<int64_t>(st.alerts);
    auto saved = threats::SaveAlerts(*store, run.id, result.alerts);
    if (!saved) {
      run.status = "failed";
      (void)store->FinishThreatRun(run.id, run);
      return ReportError(saved.error());
    }
    if (auto done = store->FinishThreatRun(run.id, run); !done) return ReportError(done.error());
  }

  // Problems and notes go to stderr, whatever the format.
  for (const auto& s : result.expired)
    std::cerr << fmt::format("warning: {}:{}: suppression of {} for {} (owner {}) expired on {}; it no longer applies\n", s.file,
                             s.line, s.rule, s.resource, s.owner, s.expires);
  if (!f.quiet) {
    const size_t kShownNotices = 20;
    for (size_t i = 0; i < result.notices.size() && i < kShownNotices; ++i)
      std::cerr << "warning: " << result.notices[i].where << ": " << result.notices[i].what << "\n";
    if (result.notices_total > kShownNotices)
      std::cerr << fmt::format("warning: ... and {} more problems\n", Thousands(result.notices_total - kShownNotices));
    const auto& sk = st.skipped;
    if (sk.digests > 0) std::cerr << fmt::format("note: skipped {} CloudTrail-Digest files or folders (e.g. {})\n", sk.digests, sk.first_digest);
    if (sk.non_log > 0) std::cerr << fmt::format("note: skipped {} files that are not .json/.json.gz (e.g. {})\n", sk.non_log, sk.first_non_log);
    if (sk.pruned > 0) std::cerr << fmt::format("note: {} files or folders outside the time window were not opened\n", Thousands(sk.pruned));
  }
  for (const auto& e : result.source_errors) std::cerr << "error: " << e.ToString() << "\n";

  std::string final_line = fmt::format(
      "{} records ({} malformed, {} outside the window, {} service activity) from {} files ({} malformed, {} compressed, {}) "
      "in {:.2f} s: {} alert{}, {} suppressed{}",
      Thousands(st.records), Thousands(st.malformed_records), Thousands(st.outside_window), Thousands(st.service_activity),
      Thousands(st.files), Thousands(st.malformed_files + st.failed_objects), Megabytes(st.compressed_bytes), Megabytes(st.bytes),
      st.seconds, Thousands(st.alerts),
      st.alerts == 1 ? "" : "s", Thousands(st.suppressed), store ? fmt::format("; threat run {} in {}", run.id, f.db) : "");
  if (result.status != "complete") final_line += " (partial: see the warnings)";

  if (f.format == "json") {
    for (const auto& a : result.alerts)
      if (a.suppression.is_null() || f.show_suppressed) std::cout << AlertJson(a).dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
    std::cout.flush();
    if (!f.quiet) std::cerr << final_line << "\n";
  } else if (!f.quiet) {
    std::map<std::string, size_t> by_level;
    std::map<std::string, std::pair<size_t, const store::AlertRow*>> by_rule;
    std::vector<const store::AlertRow*> active;
    for (const auto& a : result.alerts) {
      if (!a.suppression.is_null()) continue;
      active.push_back(&a);
      ++by_level[a.level];
      auto& r = by_rule[a.rule_id];
      ++r.first;
      r.second = &a;
    }
    if (!active.empty()) {
      std::string levels;
      for (const char* level : {"critical", "high", "medium", "low", "informational"})
        if (by_level.count(level)) levels += fmt::format("{}{} {}", levels.empty() ? "" : ", ", level, by_level[level]);
      std::printf("Alerts by level: %s", levels.c_str());
      std::printf("\n\nAlerts by rule:\n");
      std::vector<std::pair<std::string, std::pair<size_t, const store::AlertRow*>>> rules_hit(by_rule.begin(), by_rule.end());
      std::stable_sort(rules_hit.begin(), rules_hit.end(), [](const auto& a, const auto& b) {
        int ra = LevelRank(a.second.second->level), rb = LevelRank(b.second.second->level);
        return ra != rb ? ra > rb : a.second.first > b.second.first;
      });
      for (const auto& [id, hit] : rules_hit)
        std::printf("  %-13s %6zu  %s  %s\n", hit.second->level.c_str(), hit.first, id.c_str(), hit.second->rule_title.c_str());
      std::printf("\n%s:\n", active.size() > f.limit ? fmt::format("First {} of {} alerts", f.limit, active.size()).c_str() : "Alerts");
      std::printf("%-20s  %-13s %-40s %-44s %-28s %s\n", "TIME", "LEVEL", "RULE (TITLE)", "PRINCIPAL", "EVENT", "SOURCE IP");
      for (size_t i = 0; i < active.size() && i < f.limit; ++i) {
        const auto& a = *active[i];
        std::printf("%-20s  %-13s %-40s %-44s %-28s %s\n", a.event_time.c_str(), a.level.c_str(), Clip(a.rule_title, 40).c_str(),
                    Clip(a.principal, 44).c_str(), Clip(a.event_name, 28).c_str(), a.source_ip.c_str());
      }
      std::printf("\n");
    }
    std::printf("%s\n", final_line.c_str());
  }
  if (st.alerts > 0) return kExitFindings;
  if (!result.source_errors.empty()) return ExitCodeFor(result.source_errors.front());
  return 0;
}

}  // namespace cloudaudit::cli
