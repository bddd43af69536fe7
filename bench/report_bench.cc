// The report writers over a synthetic scan: N findings (four in five
// alarms) over a few rules with compliance mappings, a diff, gaps and a
// hundred threat alerts. Output goes to a stream that only counts bytes, so
// the figures are the writers' own cost (docs/performance.md "Reports").
#include <streambuf>

#include <benchmark/benchmark.h>

#include "report/formats.h"
#include "report/model.h"

namespace {

using namespace cloudaudit;
using namespace cloudaudit::report;

class CountingBuf : public std::streambuf {
 public:
  size_t bytes = 0;

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) ++bytes;
    return c;
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    bytes += static_cast<size_t>(n);
    return n;
  }
};

Report Synthetic(size_t n) {
  Report r;
  r.tool_version = "0.1.0";
  r.generated_at = "2026-03-01T10:05:00Z";
  r.scan = {7, "123456789012", "aws", {"us-east-1", "eu-west-1"}, "2026-03-01T10:00:00Z", "2026-03-01T10:04:12Z", "0.1.0",
            "complete", {}};
  const char* ids[] = {"aws.s3.bucket_public_read", "aws.ec2.sg_open_ssh", "aws.iam.user_mfa_disabled", "aws.kms.key_rotation_disabled"};
  const char* sev[] = {"critical", "high", "medium", "low"};
  for (int i = 0; i < 4; ++i) {
    RuleInfo rule;
    rule.id = ids[i];
    rule.title = std::string("Title of ") + ids[i];
    rule.description = "Why it matters, in two sentences of ordinary length for a rule description.";
    rule.service = std::string(ids[i]).substr(4, std::string(ids[i]).find('.', 4) - 4);
    rule.severity = sev[i];
    rule.compliance = {{"cis-aws-v3.0", {"2.1.4"}}, {"nist-800-53-rev5", {"AC-3", "SC-7"}}};
    rule.references = {"https://docs.aws.amazon.com/"};
    rule.remediation.console = "1. Open the console.\n2. Change the setting.\n3. Save.";
    rule.remediation.cli = "aws service fix --id {id}";
    r.rules.emplace(rule.id, rule);
  }
  r.findings.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    Finding f;
    int k = static_cast<int>(i % 4);
    f.rule = &r.rules.at(ids[k]);
    f.row.finding_id = "0123456789abcdef" + std::to_string(i);
    f.row.rule_id = ids[k];
    f.row.service = f.rule->service;
    f.row.severity = sev[k];
    f.row.account_id = "123456789012";
    f.row.region = i % 2 ? "us-east-1" : "eu-west-1";
    f.row.resource = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-" + std::to_string(i);
    f.row.resource_name = "sg-" + std::to_string(i);
    f.row.status = i % 5 == 4 ? "ok" : "alarm";
    f.row.reason = "port 22 is open to 0.0.0.0/0 on security group sg-" + std::to_string(i);
    f.row.evidence = R"({"cidr":"0.0.0.0/0","port":22})";
    if (f.row.status == "alarm") {
      f.row.remediation_cli = "aws ec2 revoke-security-group-ingress --group-id sg-" + std::to_string(i);
      f.first_seen = "2026-02-01T00:00:00Z";
      f.change = i % 3 ? "open" : "new";
      ++r.summary.alarms_by_severity[sev[k]];
      ++r.summary.alarms_by_service[f.row.service];
    }
    ++r.summary.by_status[f.row.status];
    r.findings.push_back(std::move(f));
  }
  r.summary.rules = 4;
  r.summary.resources = n;
  ScanDiff diff;
  diff.previous_scan_id = 6;
  diff.previous_started_at = "2026-02-22T10:00:00Z";
  for (size_t i = 0; i < n / 100; ++i) diff.resolved.push_back(r.findings[i].row);
  r.diff = diff;
  for (int i = 0; i < 50; ++i) r.gaps.push_back({"aws_s3_bucket", "s3", "GetBucketPolicy", "us-east-1", "b", "AccessDenied", "denied"});
  store::ThreatRun run;
  run.id = 1;
  run.started_at = "2026-03-01T09:00:00Z";
  r.threat_run = run;
  for (int i = 0; i < 100; ++i) {
    store::AlertRow a;
    a.alert_id = "alert-" + std::to_string(i);
    a.rule_id = "sigma-" + std::to_string(i % 10);
    a.rule_title = "Suspicious call " + std::to_string(i % 10);
    a.level = sev[i % 4];
    a.tags = {"attack.persistence", "attack.t1098.001"};
    a.event_time = "2026-02-28T23:59:01Z";
    a.event_name = "CreateAccessKey";
    a.event_source = "iam.amazonaws.com";
    a.account_id = "123456789012";
    a.region = "us-east-1";
    a.principal = "arn:aws:iam::123456789012:user/u" + std::to_string(i);
    a.source_ip = "203.0.113.5";
    a.record = R"({"eventName":"CreateAccessKey","userIdentity":{"type":"IAMUser","userName":"u"}})";
    r.alerts.push_back(a);
  }
  return r;
}

template <Status (*Writer)(const Report&, std::ostream&, const WriteOptions&)>
void BM_Write(benchmark::State& state) {
  Report report = Synthetic(static_cast<size_t>(state.range(0)));
  WriteOptions options;
  size_t bytes = 0;
  for (auto _ : state) {
    CountingBuf buf;
    std::ostream out(&buf);
    auto status = Writer(report, out, options);
    if (!status) state.SkipWithError(status.error().message.c_str());
    bytes = buf.bytes;
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["output_MiB"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
}

#define REPORT_BENCH(w) BENCHMARK_TEMPLATE(BM_Write, w)->Arg(20000)->Arg(100000)->Unit(benchmark::kMillisecond)
REPORT_BENCH(WriteTable);
REPORT_BENCH(WriteJson);
REPORT_BENCH(WriteCsv);
REPORT_BENCH(WriteOcsf);
REPORT_BENCH(WriteAsff);
REPORT_BENCH(WriteSarif);
REPORT_BENCH(WriteJunit);
REPORT_BENCH(WriteMarkdown);

}  // namespace

BENCHMARK_MAIN();
