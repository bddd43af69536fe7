// Size and write time of the HTML report for a large synthetic scan: a store
// holding N alarms (plus passed, skipped and suppressed results) spread over
// the built-in rules, with reasons, evidence and filled-in CLI commands of
// realistic length. Prints the time of LoadReport and WriteHtml and the file
// size; the page's opening time in Chromium is measured by
// `tests/html_report_e2e.py measure --html FILE`. Figures in
// docs/performance.md, "HTML report". A plain program (one run is long).
//
//   cloudaudit_html_report_bench [--alarms N] [--passed N] [--out FILE]
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/json.h"
#include "collect/spec.h"
#include "report/formats.h"
#include "report/model.h"
#include "rules/rule.h"
#include "store/store.h"

namespace {

using namespace cloudaudit;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

int Die(const Error& e) {
  std::fprintf(stderr, "error: %s\n", e.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  size_t alarms = 50000, passed = 100000;
  std::string out = "html_report_bench.html";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--alarms")) alarms = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--passed")) passed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--alarms N] [--passed N] [--out FILE]\n", argv[0]);
      return 2;
    }
  }

  auto specs = collect::LoadSpecs();
  if (!specs) return Die(specs.error());
  auto rules = rules::LoadRules({}, *specs);
  if (!rules) return Die(rules.error());

  std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("cloudaudit-html-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  auto opened = store::Store::Open((dir / "bench.db").string());
  if (!opened) return Die(opened.error());
  store::Store& store = **opened;

  store::ScanInfo info;
  info.account_id = "123456789012";
  info.partition = "aws";
  info.regions = {"us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"};
  info.started_at = "2023-02-01T00:00:00Z";
  info.tool_version = "bench";
  auto scan = store.BeginScan(info);
  if (!scan) return Die(scan.error());
  if (auto s = store.FinishScan(*scan, "complete", info.account_id, info.regions); !s) return Die(s.error());

  store::EvaluationRecord record;
  record.started_at = record.ended_at = info.started_at;
  record.tool_version = "bench";
  record.status = "complete";
  for (const auto& r : rules->rules) record.rules.emplace_back(r.id, r.Document());

  // Findings spread round-robin over the rules; every 50th alarm is
  // suppressed and every 100th result a skip, as in a large real account.
  Json suppression = {{"rule", "aws.ec2.*"}, {"resource", "*"}, {"reason", "accepted risk, see SEC-1234"}, {"owner", "secops"},
                      {"expires", "2999-12-31"}};
  std::vector<store::FindingRow> findings;
  findings.reserve(alarms + passed);
  const size_t n_rules = rules->rules.size();
  for (size_t i = 0; i < alarms + passed; ++i) {
    const rules::Rule& rule = rules->rules[i % n_rules];
    store::FindingRow f;
    const std::string region = info.regions[i % info.regions.size()];
    const std::string name = fmt::format("{}-resource-{:06d}", rule.service, i);
    f.rule_id = rule.id;
    f.service = rule.service;
    f.severity = std::string(rules::SeverityName(rule.severity));
    f.account_id = info.account_id;
    f.region = region;
    f.resource = fmt::format("arn:aws:{}:{}:{}:{}/{}", rule.service, region, info.account_id, rule.resource_table.substr(4), name);
    f.resource_name = name;
    f.finding_id = fmt::format("{:016x}", std::hash<std::string>{}(rule.id + f.resource));
    bool alarm = i < alarms;
    f.status = alarm ? "alarm" : (i % 100 == 0 ? "skip" : "ok");
    // Alarm reasons differ per resource beyond its identifiers (ages,
    // ports, counts), so they do not collapse into one shared shape: the
    // figures are for the less favourable case.
    f.reason = alarm ? fmt::format("{} {} in {} does not meet the rule: the setting it checks has been off for {} days "
                                   "({} related item(s) affected), and nothing else compensates for it.",
                                   rule.resource_table.substr(4), name, region, 30 + (i * 7919) % 2000, 1 + i % 17)
                     : fmt::format("{} {} in {} meets the rule.", rule.resource_table.substr(4), name, region);
    if (alarm) {
      f.evidence = Json{{"resource", name}, {"setting", false}, {"days_off", 30 + (i * 7919) % 2000},
                        {"items", Json::array({fmt::format("item-{}", i % 97), fmt::format("item-{}", i % 89)})}}.dump();
      f.remediation_cli = rules::FillTemplate(rule.remediation.cli, {{"name", name}, {"resource_name", name}, {"region", region},
                                                                     {"account_id", info.account_id}, {"resource", f.resource}});
      if (i % 50 == 0) f.suppression = suppression;
    }
    findings.push_back(std::move(f));
  }
  auto t_save = Clock::now();
  if (auto s = store.SaveEvaluation(*scan, record, findings); !s) return Die(s.error());
  double save_s = Seconds(t_save);

  report::LoadOptions load;
  for (const auto& fw : rules->frameworks) load.frameworks.push_back(fw.id);
  load.tool_version = "bench";
  load.generated_at = "2023-02-01T01:00:00Z";
  auto t_load = Clock::now();
  auto loaded = report::LoadReport(store, *rules, load);
  if (!loaded) return Die(loaded.error());
  double load_s = Seconds(t_load);

  // The machine is shared: CPU time says more than wall time here.
  auto t_write = Clock::now();
  std::clock_t cpu_write = std::clock();
  std::ofstream file(out, std::ios::binary);
  if (auto s = report::WriteHtml(*loaded, file, {}); !s) return Die(s.error());
  file.close();
  double write_s = Seconds(t_write);
  double write_cpu_s = static_cast<double>(std::clock() - cpu_write) / CLOCKS_PER_SEC;
  auto bytes = std::filesystem::file_size(out);
  std::filesystem::remove_all(dir);

  std::printf("alarms %zu, passed %zu, rules %zu, frameworks %zu\n", alarms, passed, n_rules, rules->frameworks.size());
  std::printf("store: save %.2f s; LoadReport %.2f s; WriteHtml %.2f s (%.2f s CPU)\n", save_s, load_s, write_s, write_cpu_s);
  std::printf("html: %s, %ju bytes (%.1f MB, %.0f bytes per embedded finding)\n", out.c_str(), static_cast<uintmax_t>(bytes),
              bytes / 1e6, static_cast<double>(bytes) / static_cast<double>(alarms + passed / 100));
  return 0;
}
