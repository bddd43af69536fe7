// Rule evaluation at scale: builds a synthetic inventory of N resources
// (default 1,000,000) from the built-in rules' own fixtures — fixture rows,
// misconfigured and well-configured alike, copied with their ids rewritten
// so each copy is a self-consistent slice with its relations intact — then
// evaluates every built-in rule on it and reports wall time, findings, peak
// memory and the slowest rules. Like a real large account, the bulk is
// compute, storage, network and identity resources (the kBulk tables); the
// account's configuration (trails, metric filters, alarms, recorders,
// password policy...) is copied once. A plain program; figures in
// docs/performance.md.
//
// usage: cloudaudit_evaluate_bench [RESOURCES] [THREADS] [DB_PATH]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "collect/collector.h"
#include "rules/engine.h"
#include "store/store.h"

using namespace cloudaudit;

namespace {

double PeakRssMiB() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

// Appends `suffix` to every string that is one of the fixture ids/arns/names.
void Rewrite(Json& v, const std::set<std::string>& keys, const std::string& suffix) {
  if (v.is_string()) {
    if (keys.count(v.get_ref<const std::string&>())) v = v.get<std::string>() + suffix;
  } else if (v.is_structured()) {
    for (auto& child : v) Rewrite(child, keys, suffix);
  }
}

// The tables that grow with the size of an account.
const std::set<std::string> kBulk = {
    "aws_ec2_instance", "aws_ec2_volume", "aws_ec2_snapshot", "aws_ec2_image", "aws_ec2_security_group",
    "aws_ec2_network_interface", "aws_ec2_subnet", "aws_ec2_elastic_ip", "aws_ec2_instance_status", "aws_ec2_key_pair", "aws_s3_bucket", "aws_iam_user",
    "aws_iam_role", "aws_iam_policy", "aws_iam_credential_report", "aws_kms_key", "aws_iam_group"};

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  const size_t target = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 2;
  const std::string path = argc > 3 ? argv[3] : "/tmp/cloudaudit-evaluate-bench.db";

  auto specs = collect::LoadSpecs();
  if (!specs) return std::fprintf(stderr, "%s\n", specs.error().ToString().c_str()), 1;
  auto rules = rules::LoadRules(rules::LoadOptions{}, *specs);
  if (!rules) return std::fprintf(stderr, "%s\n", rules.error().message.c_str()), 1;

  // The fixture universe: every row of every fixture (skipping those whose
  // point is an absent table).
  std::vector<store::ResourceRow> universe;
  std::set<std::string> keys;
  for (const auto& r : rules->rules)
    for (const auto& t : r.tests)
      for (const auto& [table, rows] : t.resources.items()) {
        const auto* spec = specs->Find(table);
        if (spec == nullptr) continue;
        for (const auto& row : rows) {
          store::ResourceRow rr;
          rr.type = table;
          rr.id = row.value("id", "");
          rr.arn = row.value("arn", "");
          rr.name = row.value("name", "");
          rr.region = row.value("region", spec->scope == collect::Scope::kGlobal ? "global" : "us-east-1");
          rr.account_id = "123456789012";
          rr.tags = row.contains("tags") ? row["tags"] : Json();
          rr.data = row["data"];
          for (const auto* k : {&rr.id, &rr.arn, &rr.name})
            if (k->size() > 3) keys.insert(*k);
          universe.push_back(std::move(rr));
        }
      }
  std::printf("fixture universe: %zu rows from %zu rules\n", universe.size(), rules->rules.size());

  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  auto store = store::Store::Open(path);
  if (!store) return std::fprintf(stderr, "%s\n", store.error().ToString().c_str()), 1;
  store::ScanInfo info;
  info.account_id = "123456789012";
  info.started_at = "2026-06-01T00:00:00Z";
  info.tool_version = "bench";
  info.regions = {"us-east-1"};
  int64_t scan = *(*store)->BeginScan(info);

  auto t0 = std::chrono::steady_clock::now();
  size_t written = 0;
  std::set<std::pair<std::string, std::string>> seen;  // (type, id) of one copy: fixtures repeat rows
  for (size_t copy = 0; written < target; ++copy) {
    std::vector<store::ResourceRow> batch;
    seen.clear();
    const std::string suffix = "-c" + std::to_string(copy);
    for (const auto& row : universe) {
      if (written + batch.size() >= target) break;
      if (copy > 0 && !kBulk.count(row.type)) continue;
      if (!seen.emplace(row.type, row.id + row.region).second) continue;
      store::ResourceRow r = row;
      r.id += suffix;
      if (!r.arn.empty()) r.arn += suffix;
      if (!r.name.empty()) r.name += suffix;
      Rewrite(r.data, keys, suffix);
      batch.push_back(std::move(r));
    }
    if (auto s = (*store)->AddResources(scan, batch); !s) return std::fprintf(stderr, "%s\n", s.error().ToString().c_str()), 1;
    written += batch.size();
  }
  (void)(*store)->FinishScan(scan, "complete", info.account_id, info.regions);
  store.value().reset();
  double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("inventory: %zu resources written in %.1f s (%s, %.0f MiB)\n", written, load_s, path.c_str(),
              static_cast<double>(std::filesystem::file_size(path)) / 1048576.0);

  rules::EvalOptions options;
  options.threads = threads;
  options.tool_version = "bench";
  double rss_before = PeakRssMiB();
  auto summary = rules::Evaluate(path, scan, *rules, *specs, options);
  if (!summary) return std::fprintf(stderr, "%s\n", summary.error().ToString().c_str()), 1;
  size_t findings = 0;
  for (const auto& [status, n] : summary->by_status) findings += n;
  std::printf("evaluate: %zu rules, %zu threads, %.1f s wall, %zu findings (%zu alarm), %zu rule errors, peak RSS %.0f MiB (%.0f before)\n",
              summary->rules, static_cast<size_t>(threads), summary->seconds, findings,
              summary->by_status.count("alarm") ? summary->by_status.at("alarm") : 0, summary->rule_errors.size(), PeakRssMiB(),
              rss_before);
  double rules_s = 0;
  for (const auto& [id, s] : summary->rule_seconds) rules_s += s;
  std::printf("  materialized tables %.1f s (slowest worker), rule queries %.1f s (sum over rules), storing findings %.1f s (sum)\n",
              summary->setup_seconds, rules_s, summary->write_seconds);
  for (const auto& e : summary->rule_errors) std::printf("  rule error: %s\n", e.c_str());
  std::printf("slowest rules:\n");
  for (size_t i = 0; i < summary->rule_seconds.size() && i < 15; ++i)
    std::printf("  %8.2f s  %s\n", summary->rule_seconds[i].second, summary->rule_seconds[i].first.c_str());
  return 0;
}
