// The Sigma engine alone (src/threats): records per second matched against N
// rules, on synthetic CloudTrail records already parsed by simdjson. The
// end-to-end figure (decompression + parsing + matching) is measured
// separately; this one isolates rule evaluation. docs/performance.md "Sigma
// engine".
//
// Rules are generated in the proportions of CloudTrail rule packs: most
// (70%) select on eventSource + eventName lists with filters (the
// pre-filter's case), 20% add a regex or cidr condition, 8% select on
// fields the index cannot use (userIdentity.type, errorCode) and 2% are
// keyword searches over every value of the record.
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "threats/sigma.h"

namespace {

using cloudaudit::threats::SigmaLoadOptions;
using cloudaudit::threats::SigmaRule;
using cloudaudit::threats::SigmaRuleSet;

const char* const kServices[] = {"iam",        "s3",     "ec2", "kms",           "sts",
                                 "cloudtrail", "lambda", "rds", "organizations", "guardduty"};
const char* const kVerbs[] = {"Create",   "Delete", "Put",    "Get",    "List",
                              "Describe", "Update", "Attach", "Detach", "Modify"};
const char* const kNouns[] = {"User",         "Role",          "Policy",   "Bucket",   "Key",
                              "Trail",        "Function",      "Instance", "Snapshot", "AccessKey",
                              "LoginProfile", "SecurityGroup", "Detector", "Account",  "Grant"};

std::string EventName(int i) { return std::string(kVerbs[i % 10]) + kNouns[(i / 10) % 15]; }

// A CloudTrail-shaped record (about 1.2 KB, like real management events).
std::string Record(std::mt19937& rng) {
  const int name = static_cast<int>(rng() % 150);
  const char* service = kServices[rng() % 10];
  const bool root = rng() % 50 == 0;
  const bool error = rng() % 10 == 0;
  char ip[32];
  std::snprintf(ip, sizeof(ip), "%u.%u.%u.%u", static_cast<unsigned>(rng() % 223 + 1),
                static_cast<unsigned>(rng() % 256), static_cast<unsigned>(rng() % 256),
                static_cast<unsigned>(rng() % 256));
  std::string r = "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"";
  r += root ? "Root" : "AssumedRole";
  r += "\",\"principalId\":\"AROAEXAMPLE:session\",\"arn\":\"arn:aws:sts::123456789012:assumed-role/dev-";
  r += std::to_string(rng() % 40);
  r +=
      "/session\",\"accountId\":\"123456789012\",\"accessKeyId\":\"ASIAEXAMPLE\",\"sessionContext\":{\"sessionIssuer\":"
      "{\"type\":\"Role\",\"principalId\":\"AROAEXAMPLE\",\"arn\":\"arn:aws:iam::123456789012:role/dev\",\"accountId\":"
      "\"123456789012\",\"userName\":\"dev\"},\"attributes\":{\"creationDate\":\"2026-11-01T10:00:00Z\","
      "\"mfaAuthenticated\":"
      "\"false\"}}},\"eventTime\":\"2026-11-01T10:";
  r += std::to_string(10 + rng() % 50);
  r += ":00Z\",\"eventSource\":\"";
  r += service;
  r += ".amazonaws.com\",\"eventName\":\"" + EventName(name) + "\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"";
  r += ip;
  r += "\",\"userAgent\":\"";
  r += rng() % 3 == 0 ? "aws-cli/2.13.0 Python/3.11.4 Linux/5.10 exe/x86_64.amzn.2"
                      : "Boto3/1.28.0 Python/3.11 Botocore/1.31";
  r += "\",\"requestParameters\":{\"name\":\"resource-" + std::to_string(rng() % 1000) +
       "\",\"maxResults\":100,\"filters\":[{\"name\":\"tag:env\",\"values\":[\"prod\",\"dev\"]}]},";
  r += error ? "\"errorCode\":\"AccessDenied\",\"errorMessage\":\"User is not authorized\"," : "";
  r += "\"responseElements\":null,\"requestID\":\"0b1c2d3e-0000-4000-8000-00000000000" + std::to_string(rng() % 10) +
       "\",\"eventID\":\"6a7b8c9d-0000-4000-8000-000000000000\",\"readOnly\":";
  r += name % 10 >= 3 && name % 10 <= 5 ? "true" : "false";
  r += ",\"eventType\":\"AwsApiCall\",\"managementEvent\":true,\"recipientAccountId\":\"123456789012\","
       "\"eventCategory\":\"Management\",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_"
       "SHA256\","
       "\"clientProvidedHostHeader\":\"";
  r += service;
  r += ".amazonaws.com\"}}";
  return r;
}

// Rule i of a generated pack; `indexable` false turns the eventName
// equality into startswith, which the pre-filter cannot use.
std::string RuleYaml(int i, bool indexable) {
  std::string d;
  const std::string name_key = indexable ? "eventName" : "eventName|startswith";
  // Mix per 50 rules: 4 unindexed field rules, 1 keyword rule, 5 regex, 5
  // cidr and 35 of the common service + event names + filters shape.
  const int kind = i % 50;
  switch (kind < 4 ? 0 : kind < 5 ? 3 : kind < 10 ? 1 : kind < 15 ? 2 : 4) {
    case 0:  // not indexable whatever: principal type and errors
      d = "  selection:\n    userIdentity.type: Root\n    errorCode: AccessDenied\n  condition: selection\n";
      break;
    case 1:  // a regex on the user agent
      d = "  selection:\n    " + name_key + ": " + EventName(i % 150) +
          "\n    userAgent|re: '^aws-cli/2\\.1[0-9]'\n  condition: selection\n";
      break;
    case 2:  // source outside a set of networks
      d = "  selection:\n    " + name_key + ":\n      - " + EventName(i % 150) + "\n      - " +
          EventName((i + 7) % 150) +
          "\n  filter_internal:\n    sourceIPAddress|cidr:\n      - 10.0.0.0/8\n      - 192.168.0.0/16\n"
          "  condition: selection and not filter_internal\n";
      break;
    case 3:  // keyword search over all values
      d = "  selection:\n    " + name_key + ": " + EventName(i % 150) +
          "\n  keywords:\n    - 'pacu'\n    - 'mimikatz'\n"
          "  condition: selection or keywords\n";
      break;
    default:  // the common shape: service + a few event names + filters
      d = "  selection:\n    eventSource: " + std::string(kServices[i % 10]) + ".amazonaws.com\n    " + name_key +
          ":\n      - " + EventName(i % 150) + "\n      - " + EventName((i * 7 + 3) % 150) + "\n      - " +
          EventName((i * 13 + 5) % 150) +
          "\n  filter_readonly:\n    readOnly: true\n"
          "  filter_service:\n    userIdentity.arn|contains: 'AWSServiceRole'\n"
          "  condition: selection and not 1 of filter_*\n";
      break;
  }
  return "title: Generated rule " + std::to_string(i) + "\nid: bench-" + std::to_string(100000 + i) +
         "\nlevel: medium\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n" + d;
}

SigmaRuleSet Generated(int n, bool indexable) {
  std::vector<SigmaRule> rules;
  for (int i = 0; i < n; ++i) {
    auto r = SigmaRuleSet::Parse(RuleYaml(i, indexable), "bench.yml");
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().ToString().c_str());
      std::abort();
    }
    rules.push_back(std::move(*r));
  }
  auto set = SigmaRuleSet::FromRules(std::move(rules));
  if (!set) std::abort();
  return std::move(*set);
}

struct Records {
  std::string json;
  simdjson::dom::parser parser;
  std::vector<simdjson::dom::element> items;
  size_t bytes = 0;
};

Records& SharedRecords() {
  static Records* r = [] {
    auto* out = new Records;
    std::mt19937 rng(42);
    out->json = "{\"Records\":[";
    // 1000 records (1.2 MB): their DOM stays in L2 as a record just parsed
    // by a streaming reader would; 10,000 would measure cache misses.
    for (int i = 0; i < 1000; ++i) {
      if (i) out->json += ',';
      out->json += Record(rng);
    }
    out->json += "]}";
    out->bytes = out->json.size();
    simdjson::dom::element doc;
    simdjson::dom::array arr;
    if (out->parser.parse(out->json).get(doc) || doc["Records"].get_array().get(arr)) std::abort();
    for (auto e : arr) out->items.push_back(e);
    return out;
  }();
  return *r;
}

void RunMatch(benchmark::State& state, const SigmaRuleSet& set) {
  Records& recs = SharedRecords();
  std::vector<size_t> hits;
  size_t i = 0, alerts = 0;
  for (auto _ : state) {
    set.Match(recs.items[i], &hits);
    alerts += hits.size();
    if (++i == recs.items.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["rules"] = static_cast<double>(set.rules().size());
  state.counters["alerts_per_record"] = static_cast<double>(alerts) / static_cast<double>(state.iterations());
}

void BM_Match(benchmark::State& state) {
  static std::map<int64_t, SigmaRuleSet> sets;
  auto it = sets.find(state.range(0));
  if (it == sets.end()) it = sets.emplace(state.range(0), Generated(static_cast<int>(state.range(0)), true)).first;
  RunMatch(state, it->second);
}
BENCHMARK(BM_Match)->Arg(10)->Arg(100)->Arg(1000);

// The same rules with eventName|startswith: no pre-filter, every rule is
// evaluated for every record.
void BM_Match_NoIndex(benchmark::State& state) {
  static std::map<int64_t, SigmaRuleSet> sets;
  auto it = sets.find(state.range(0));
  if (it == sets.end()) it = sets.emplace(state.range(0), Generated(static_cast<int>(state.range(0)), false)).first;
  RunMatch(state, it->second);
}
BENCHMARK(BM_Match_NoIndex)->Arg(100)->Arg(1000);

// The built-in pack (rules/sigma), as shipped; or, when CLOUDAUDIT_SIGMA_RULES
// names a file or directory, those rules instead.
void BM_Match_BuiltinPack(benchmark::State& state) {
  static auto set = [] {
    SigmaLoadOptions options;
    if (const char* dir = std::getenv("CLOUDAUDIT_SIGMA_RULES"); dir != nullptr && *dir != '\0') {
      options.builtin = false;
      options.paths = {dir};
    }
    return SigmaRuleSet::Load(options);
  }();
  if (!set) {
    state.SkipWithError(set.error().ToString().c_str());
    return;
  }
  RunMatch(state, *set);
}
BENCHMARK(BM_Match_BuiltinPack);

// For scale: simdjson parsing of the same records (bytes/s), which the
// end-to-end benchmark pays before any rule runs.
void BM_ParseOnly(benchmark::State& state) {
  Records& recs = SharedRecords();
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element doc;
    if (parser.parse(recs.json).get(doc)) std::abort();
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * recs.bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * recs.items.size()));
}
BENCHMARK(BM_ParseOnly);

// Loading (YAML parse + compile) of 1000 rules.
void BM_Compile1000(benchmark::State& state) {
  std::vector<std::string> texts;
  for (int i = 0; i < 1000; ++i) texts.push_back(RuleYaml(i, true));
  for (auto _ : state) {
    for (const auto& t : texts) benchmark::DoNotOptimize(SigmaRuleSet::Parse(t, "bench.yml"));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 1000));
}
BENCHMARK(BM_Compile1000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
