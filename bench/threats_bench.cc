// Threat hunting throughput on gzipped CloudTrail logs, one core at a time:
//
//   BM_Decompress          inflate only
//   BM_DecompressSplit     inflate + split into records (no parse)
//   BM_Split               split only, on JSON in memory
//   BM_DecompressParse     inflate + split into records + simdjson parse of
//                          each (the physical limit of any evaluator)
//   BM_DecompressParseWhole  inflate each file whole, parse it as one
//                          document (the non-streaming reference)
//   BM_HuntNoRules         the hunt with no rule (reading, checks, filters)
//   BM_Hunt/<threads>      the whole hunt (read files, check, service-activity
//                          filter, every built-in Sigma rule, alerts) over
//                          the same logs on disk (page cache)
//
// The logs are generated once per process, deterministically (fixed seed,
// own PRNG): `CLOUDAUDIT_BENCH_MB` MB of JSON (default 64) in ~1 MB files,
// records shaped like real CloudTrail records (IAM users and assumed roles,
// service calls with invokedBy, nested requestParameters/responseElements,
// console logins, a few attack-looking calls). Items are records; bytes are
// decompressed JSON. Figures: docs/performance.md "Threat hunting".
//
//   cloudaudit_threats_bench --benchmark_min_time=2
//   CLOUDAUDIT_BENCH_MB=256 CLOUDAUDIT_BENCH_KEEP=1 cloudaudit_threats_bench --benchmark_filter=none
#include <benchmark/benchmark.h>

#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "base/time.h"
#include "threats/cloudtrail_reader.h"
#include "threats/hunt.h"
#include "threats/sigma.h"
#include "threats/sources.h"

namespace {

using namespace cloudaudit::threats;

// xorshift64*: the same logs on every machine and library.
struct Rng {
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t Next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  template <typename T, size_t N>
  const T& Pick(const T (&a)[N]) {
    return a[Below(N)];
  }
};

const char* kAccounts[] = {"111122223333", "222233334444", "333344445555", "444455556666"};
const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-southeast-2"};
const char* kUsers[] = {"alice", "bob", "carol", "deploy", "ci-runner", "dave", "erin"};
const char* kRoles[] = {"Admin", "ReadOnly", "ci-deployer", "lambda-exec", "ops-oncall", "data-pipeline"};
struct Call {
  const char *source, *name;
  int weight;
};
// Mostly reads, as in real trails; some writes; a few calls rules look for.
const Call kCalls[] = {
    {"ec2.amazonaws.com", "DescribeInstances", 30}, {"s3.amazonaws.com", "ListBuckets", 10},
    {"sts.amazonaws.com", "AssumeRole", 25},        {"kms.amazonaws.com", "Decrypt", 25},
    {"iam.amazonaws.com", "GetRole", 8},            {"lambda.amazonaws.com", "ListFunctions20150331", 6},
    {"logs.amazonaws.com", "CreateLogStream", 10},  {"ec2.amazonaws.com", "RunInstances", 3},
    {"s3.amazonaws.com", "PutBucketPolicy", 1},     {"iam.amazonaws.com", "CreateAccessKey", 1},
    {"signin.amazonaws.com", "ConsoleLogin", 2},    {"cloudtrail.amazonaws.com", "LookupEvents", 3},
    {"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", 1}, {"iam.amazonaws.com", "AttachRolePolicy", 1},
    {"guardduty.amazonaws.com", "ListDetectors", 2}, {"config.amazonaws.com", "DescribeConfigRules", 3},
};

std::string Identity(Rng& rng, const std::string& account, bool* service) {
  *service = false;
  switch (rng.Below(10)) {
    case 0:
    case 1:
    case 2: {
      const char* user = rng.Pick(kUsers);
      return fmt::format(R"({{"type":"IAMUser","principalId":"AIDA{:016X}","arn":"arn:aws:iam::{}:user/{}","accountId":"{}","accessKeyId":"AKIA{:016X}","userName":"{}"}})",
                         rng.Next(), account, user, account, rng.Next(), user);
    }
    case 3: {
      *service = true;
      return fmt::format(R"({{"type":"AWSService","invokedBy":"{}"}})", rng.Below(2) ? "config.amazonaws.com" : "cloudtrail.amazonaws.com");
    }
    case 4: {
      *service = true;
      return fmt::format(R"({{"type":"AssumedRole","principalId":"AROA{:016X}:s","arn":"arn:aws:sts::{}:assumed-role/AWSServiceRoleForConfig/s","accountId":"{}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::{}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig","accountId":"{}","userName":"AWSServiceRoleForConfig"}},"attributes":{{"creationDate":"2024-01-05T09:00:00Z","mfaAuthenticated":"false"}}}},"invokedBy":"config.amazonaws.com"}})",
                         rng.Next(), account, account, account, account);
    }
    default: {
      const char* role = rng.Pick(kRoles);
      return fmt::format(R"({{"type":"AssumedRole","principalId":"AROA{:016X}:{}","arn":"arn:aws:sts::{}:assumed-role/{}/{}","accountId":"{}","accessKeyId":"ASIA{:016X}","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"AROA{:016X}","arn":"arn:aws:iam::{}:role/{}","accountId":"{}","userName":"{}"}},"webIdFederationData":{{}},"attributes":{{"creationDate":"2024-01-05T09:00:00Z","mfaAuthenticated":"{}"}}}}}})",
                         rng.Next(), rng.Pick(kUsers), account, role, rng.Pick(kUsers), account, rng.Next(), rng.Next(), account, role,
                         account, role, rng.Below(3) == 0 ? "true" : "false");
    }
  }
}

std::string Record(Rng& rng, int64_t t) {
  int total = 0;
  for (const auto& c : kCalls) total += c.weight;
  int pick = static_cast<int>(rng.Below(static_cast<size_t>(total)));
  const Call* call = &kCalls[0];
  for (const auto& c : kCalls) {
    if (pick < c.weight) {
      call = &c;
      break;
    }
    pick -= c.weight;
  }
  const std::string account = rng.Pick(kAccounts);
  const char* region = rng.Pick(kRegions);
  bool service = false;
  std::string identity = Identity(rng, account, &service);
  std::string request = fmt::format(
      R"({{"instancesSet":{{"items":[{{"instanceId":"i-{:017x}"}},{{"instanceId":"i-{:017x}"}}]}},"filterSet":{{"items":[{{"name":"tag:team","valueSet":{{"items":[{{"value":"payments"}}]}}}}]}},"maxResults":{}}})",
      rng.Next() >> 4, rng.Next() >> 4, 50 + rng.Below(950));
  std::string response = rng.Below(4) == 0 ? "null"
                                           : fmt::format(R"({{"requestId":"{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}","nextToken":"{:032x}"}})",
                                                         rng.Next() & 0xffffffff, rng.Next() & 0xffff, rng.Next() & 0xfff,
                                                         rng.Next() & 0xfff, rng.Next() >> 16, rng.Next());
  std::string error = rng.Below(20) == 0 ? R"("errorCode":"AccessDenied","errorMessage":"User is not authorized to perform this operation",)" : "";
  return fmt::format(
      R"({{"eventVersion":"1.09","userIdentity":{},"eventTime":"{}","eventSource":"{}","eventName":"{}","awsRegion":"{}",)"
      R"("sourceIPAddress":"{}","userAgent":"{}",{}"requestParameters":{},"responseElements":{},"requestID":"{:08x}-{:04x}",)"
      R"("eventID":"{:08x}-{:04x}-4{:03x}-b{:03x}-{:012x}","readOnly":{},"eventType":"AwsApiCall","managementEvent":true,)"
      R"("recipientAccountId":"{}","eventCategory":"Management","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"{}.{}.amazonaws.com"}}}})",
      identity, cloudaudit::FormatIso8601Utc(t), call->source, call->name, region,
      service ? call->source : fmt::format("198.51.{}.{}", rng.Below(256), rng.Below(256)),
      service ? call->source : "aws-cli/2.15.30 md/Botocore#1.34.30 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8", error,
      request, response, rng.Next() & 0xffffffff, rng.Next() & 0xffff, rng.Next() & 0xffffffff, rng.Next() & 0xffff,
      rng.Next() & 0xfff, rng.Next() & 0xfff, rng.Next() >> 16, rng.Below(3) != 0 ? "true" : "false", account,
      std::string(call->source).substr(0, std::string(call->source).find('.')), region);
}

std::string Gzip(const std::string& data) {
  z_stream s{};
  deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()) + 32, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

struct Logs {
  std::vector<std::string> files;  // gzipped
  std::vector<std::string> plain;  // the same, not compressed
  uint64_t records = 0, bytes = 0, compressed = 0;
  std::filesystem::path dir;  // the same files on disk, in the CloudTrail layout
};

const Logs& TheLogs() {
  static const Logs logs = [] {
    Logs l;
    const char* env = std::getenv("CLOUDAUDIT_BENCH_MB");
    const uint64_t target = (env != nullptr ? std::strtoull(env, nullptr, 10) : 64) * 1000 * 1000;
    Rng rng;
    int64_t t = 1704445200;  // 2024-01-05T09:00:00Z
    l.dir = std::filesystem::temp_directory_path() / fmt::format("cloudaudit-threats-bench-{}", ::getpid());
    std::filesystem::remove_all(l.dir);
    while (l.bytes < target) {
      std::string doc = "{\"Records\":[";
      size_t n = 0;
      while (doc.size() < 1000 * 1000) {
        if (n++ > 0) doc += ',';
        doc += Record(rng, t);
        t += 1 + static_cast<int64_t>(rng.Below(2));
      }
      doc += "]}";
      l.records += n;
      l.bytes += doc.size();
      l.files.push_back(Gzip(doc));
      l.plain.push_back(doc);
      l.compressed += l.files.back().size();
      const std::string day = cloudaudit::FormatIso8601Utc(t).substr(0, 10);
      auto path = l.dir / "AWSLogs" / "111122223333" / "CloudTrail" / "us-east-1" / day.substr(0, 4) / day.substr(5, 2) / day.substr(8, 2) /
                  fmt::format("111122223333_CloudTrail_us-east-1_{}_{:04}.json.gz", cloudaudit::FormatAmzDate(t).substr(0, 13) + "Z",
                              l.files.size());
      std::filesystem::create_directories(path.parent_path());
      std::ofstream(path, std::ios::binary) << l.files.back();
    }
    std::fprintf(stderr, "logs: %zu files, %llu records, %.1f MB JSON, %.1f MB gzipped, in %s\n", l.files.size(),
                 static_cast<unsigned long long>(l.records), l.bytes / 1e6, l.compressed / 1e6, l.dir.c_str());
    return l;
  }();
  return logs;
}

void Report(benchmark::State& state, const Logs& logs) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * logs.records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * logs.bytes));
}

void BM_Decompress(benchmark::State& state) {
  const Logs& logs = TheLogs();
  std::vector<char> buf(256 * 1024);
  for (auto _ : state) {
    uint64_t total = 0;
    for (const auto& f : logs.files) {
      MemoryByteSource in(f);
      Decompressor d(&in);
      while (true) {
        auto n = d.Read(buf.data(), buf.size());
        if (!n || *n == 0) break;
        total += *n;
      }
    }
    benchmark::DoNotOptimize(total);
  }
  Report(state, logs);
}
BENCHMARK(BM_Decompress)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

class CountSink : public RecordSink {
 public:
  void OnRecord(const RawRecord&) override { ++records; }
  void OnProblem(const ReadProblem&) override {}
  uint64_t records = 0;
};

// Inflate and split into records, no parse: what the splitter adds.
void BM_DecompressSplit(benchmark::State& state) {
  const Logs& logs = TheLogs();
  ReaderLimits limits;
  for (auto _ : state) {
    CountSink sink;
    for (const auto& f : logs.files) {
      MemoryByteSource in(f);
      ReadCloudTrailLog(in, limits, sink);
    }
    if (sink.records != logs.records) state.SkipWithError("the logs did not split");
  }
  Report(state, logs);
}
BENCHMARK(BM_DecompressSplit)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Split only, on JSON already in memory: the splitter's own cost.
void BM_Split(benchmark::State& state) {
  const Logs& logs = TheLogs();
  ReaderLimits limits;
  for (auto _ : state) {
    CountSink sink;
    for (const auto& f : logs.plain) {
      MemoryByteSource in(f);
      ReadCloudTrailLog(in, limits, sink);
    }
    if (sink.records != logs.records) state.SkipWithError("the logs did not split");
  }
  Report(state, logs);
}
BENCHMARK(BM_Split)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

class ParseSink : public RecordSink {
 public:
  void OnRecord(const RawRecord& r) override {
    simdjson::dom::element doc;
    if (parser_.parse(r.text.data(), r.text.size(), false).get(doc) == simdjson::SUCCESS) ++parsed;
  }
  void OnProblem(const ReadProblem&) override { ++problems; }
  uint64_t parsed = 0, problems = 0;

 private:
  simdjson::dom::parser parser_;
};

void BM_DecompressParse(benchmark::State& state) {
  const Logs& logs = TheLogs();
  ReaderLimits limits;
  for (auto _ : state) {
    ParseSink sink;
    for (const auto& f : logs.files) {
      MemoryByteSource in(f);
      ReadCloudTrailLog(in, limits, sink);
    }
    if (sink.parsed != logs.records || sink.problems != 0) state.SkipWithError("the logs did not parse");
  }
  Report(state, logs);
}
BENCHMARK(BM_DecompressParse)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// The reference: each file inflated whole, then parsed as one document by
// simdjson (what a non-streaming reader would do, holding the file).
void BM_DecompressParseWhole(benchmark::State& state) {
  const Logs& logs = TheLogs();
  simdjson::dom::parser parser;
  std::vector<char> buf(256 * 1024);
  for (auto _ : state) {
    uint64_t records = 0;
    for (const auto& f : logs.files) {
      MemoryByteSource in(f);
      Decompressor d(&in);
      std::string text;
      while (true) {
        auto n = d.Read(buf.data(), buf.size());
        if (!n || *n == 0) break;
        text.append(buf.data(), *n);
      }
      simdjson::dom::element root;
      simdjson::dom::array array;
      if (parser.parse(text).get(root) != simdjson::SUCCESS || root["Records"].get(array) != simdjson::SUCCESS) {
        state.SkipWithError("the logs did not parse");
        return;
      }
      records += array.size();
    }
    if (records != logs.records) state.SkipWithError("records missing");
  }
  Report(state, logs);
}
BENCHMARK(BM_DecompressParseWhole)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

class NoRules : public RecordMatcher {
 public:
  const std::vector<RuleInfo>& rules() const override { return rules_; }
  void Match(simdjson::dom::element, std::vector<size_t>* out) const override { out->clear(); }

 private:
  std::vector<RuleInfo> rules_;
};

// The hunt's pipeline without rules: files, checks, service-activity filter.
void BM_HuntNoRules(benchmark::State& state) {
  const Logs& logs = TheLogs();
  NoRules matcher;
  HuntOptions options;
  options.concurrency = 1;
  auto sources = std::vector<SourceSpec>{*ParseSourceSpec(logs.dir.string())};
  for (auto _ : state) {
    auto r = Hunt(sources, matcher, options);
    if (!r || r->stats.records != logs.records) {
      state.SkipWithError("the hunt failed");
      return;
    }
  }
  Report(state, logs);
}
BENCHMARK(BM_HuntNoRules)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

void BM_Hunt(benchmark::State& state) {
  const Logs& logs = TheLogs();
  static const auto rules = SigmaRuleSet::Load(SigmaLoadOptions{});
  if (!rules || rules->rules().empty()) {
    state.SkipWithError("no built-in Sigma rules");
    return;
  }
  SigmaMatcher matcher(*rules);
  HuntOptions options;
  options.concurrency = static_cast<int>(state.range(0));
  auto sources = std::vector<SourceSpec>{*ParseSourceSpec(logs.dir.string())};
  uint64_t alerts = 0, service = 0;
  for (auto _ : state) {
    auto r = Hunt(sources, matcher, options);
    if (!r || r->stats.records != logs.records) {
      state.SkipWithError("the hunt failed");
      return;
    }
    alerts = r->stats.alerts;
    service = r->stats.service_activity;
  }
  state.counters["rules"] = static_cast<double>(rules->rules().size());
  state.counters["alerts"] = static_cast<double>(alerts);
  state.counters["service_dropped"] = static_cast<double>(service);
  Report(state, logs);
}
BENCHMARK(BM_Hunt)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // CLOUDAUDIT_BENCH_KEEP=1 keeps the generated folder (to run the command on it).
  if (std::getenv("CLOUDAUDIT_BENCH_KEEP") != nullptr) std::fprintf(stderr, "kept %s\n", TheLogs().dir.c_str());
  else std::filesystem::remove_all(TheLogs().dir);
  return 0;
}
