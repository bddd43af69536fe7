// Collection of a large synthetic account served by FakeAws with a fixed
// latency on every request: wall time, API calls and peak RSS against the
// ideal (calls / concurrency x latency). Results in docs/performance.md,
// "Collection". A plain program (not Google Benchmark): one collection per
// configuration is already long.
//
//   cloudaudit_collect_bench [--instances N] [--users N] [--buckets N]
//                            [--regions N] [--latency-ms N] [--concurrency A,B,...]
//
// The account: N EC2 instances per region (DescribeInstances pages of 1,000
// via NextToken), N IAM users (GetAccountAuthorizationDetails pages of
// 1,000 via Marker), N S3 buckets each enriched by GetBucketLocation,
// GetBucketPolicy and GetBucketEncryption. The spec set is reduced to those
// three tables (no per-instance or per-user enrichment) so the number of
// calls is known: 1 (sts) + regions x ceil(instances/1000) +
// ceil(users/1000) + 1 + 3 x buckets. `--concurrency` threads run the
// tasks and the buckets' enrichment calls, so at most that many requests are
// in flight; the fake gets concurrency + 16 server threads.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "aws/client/client.h"
#include "aws/http/curl_transport.h"
#include "collect/collector.h"
#include "collect/spec.h"
#include "store/store.h"
#include "testing/fake_aws.h"

namespace {

using namespace cloudaudit;
using testing::FakeAws;
using testing::FakeResponse;
using testing::Fault;
using testing::FaultKind;
using testing::ParamAbsent;
using testing::ParamEquals;

class StaticCredentials : public aws::CredentialsProvider {
 public:
  Result<aws::Credentials> GetCredentials() override { return FakeAws::TestCredentials(); }
};

struct Params {
  int instances = 10'000;
  int users = 5'000;
  int buckets = 2'000;
  int regions = 1;
  int latency_ms = 50;
  std::vector<int> concurrency = {16, 64};
};

constexpr int kPage = 1000;

const char* kSpecs = R"(service: ec2
resources:
  - table: aws_ec2_instance
    description: d
    list: {operation: DescribeInstances, items: Reservations.Instances}
    identity: {id: "{InstanceId}", arn: "arn:{partition}:ec2:{region}:{account_id}:instance/{InstanceId}", name: "{InstanceId}"}
    tags: Tags
    columns:
      - {name: instance_type, path: InstanceType, description: d}
)";
const char* kIamSpec = R"(service: iam
resources:
  - table: aws_iam_user
    description: d
    scope: global
    list:
      operation: GetAccountAuthorizationDetails
      params: {Filter: [User, Role, Group, LocalManagedPolicy]}
      items: UserDetailList
      shared: true
    identity: {id: "{UserId}", arn: "{Arn}", name: "{UserName}"}
    columns:
      - {name: user_name, path: UserName, description: d}
)";
const char* kS3Spec = R"(service: s3
resources:
  - table: aws_s3_bucket
    description: d
    scope: global
    list: {operation: ListBuckets, items: Buckets}
    identity: {id: "{Name}", arn: "arn:{partition}:s3:::{Name}", name: "{Name}"}
    enrich:
      - {operation: GetBucketLocation, params: {Bucket: "{Name}"}, result: LocationConstraint, into: Region}
      - {operation: GetBucketPolicy, params: {Bucket: "{Name}"}, result: Policy, into: Policy}
      - {operation: GetBucketEncryption, params: {Bucket: "{Name}"}, result: ServerSideEncryptionConfiguration, into: Encryption}
    columns:
      - {name: policy, path: Policy, description: d}
)";

FakeResponse Xml(std::string body) { return FakeResponse{200, {{"Content-Type", "text/xml"}}, std::move(body)}; }

std::string InstancesPage(int first, int count, const std::string& next) {
  std::string body = "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>r</requestId><reservationSet>";
  for (int i = first; i < first + count; ++i) {
    body += fmt::format(
        "<item><reservationId>r-{0:017x}</reservationId><ownerId>123456789012</ownerId><groupSet/><instancesSet><item>"
        "<instanceId>i-{0:017x}</instanceId><imageId>ami-0abcdef1234567890</imageId>"
        "<instanceState><code>16</code><name>running</name></instanceState>"
        "<privateDnsName>ip-10-0-{1}-{2}.ec2.internal</privateDnsName><keyName>prod-key</keyName>"
        "<instanceType>t3.micro</instanceType><launchTime>2023-01-10T08:00:00.000Z</launchTime>"
        "<placement><availabilityZone>us-east-1a</availabilityZone><tenancy>default</tenancy></placement>"
        "<monitoring><state>disabled</state></monitoring><subnetId>subnet-0aa11bb22cc33dd44</subnetId>"
        "<vpcId>vpc-0c1d2e3f4a5b6c7d8</vpcId><privateIpAddress>10.0.{1}.{2}</privateIpAddress>"
        "<groupSet><item><groupId>sg-0a1b2c3d4e5f67890</groupId><groupName>web</groupName></item></groupSet>"
        "<metadataOptions><state>applied</state><httpTokens>required</httpTokens><httpPutResponseHopLimit>2</httpPutResponseHopLimit>"
        "<httpEndpoint>enabled</httpEndpoint></metadataOptions>"
        "<tagSet><item><key>Name</key><value>web-{0}</value></item><item><key>env</key><value>prod</value></item></tagSet>"
        "</item></instancesSet></item>",
        i, (i / 256) % 256, i % 256);
  }
  body += "</reservationSet>";
  if (!next.empty()) body += "<nextToken>" + next + "</nextToken>";
  return body + "</DescribeInstancesResponse>";
}

std::string UsersPage(int first, int count, const std::string& marker) {
  std::string body =
      "<GetAccountAuthorizationDetailsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">"
      "<GetAccountAuthorizationDetailsResult><IsTruncated>" +
      std::string(marker.empty() ? "false" : "true") + "</IsTruncated>";
  if (!marker.empty()) body += "<Marker>" + marker + "</Marker>";
  body += "<UserDetailList>";
  for (int i = first; i < first + count; ++i) {
    body += fmt::format(
        "<member><Path>/</Path><UserName>user-{0}</UserName><UserId>AIDA{0:016X}</UserId>"
        "<Arn>arn:aws:iam::123456789012:user/user-{0}</Arn><CreateDate>2023-01-01T00:00:00Z</CreateDate>"
        "<GroupList><member>developers</member></GroupList>"
        "<AttachedManagedPolicies><member><PolicyName>ReadOnlyAccess</PolicyName>"
        "<PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member></AttachedManagedPolicies>"
        "<Tags><member><Key>team</Key><Value>t{1}</Value></member></Tags></member>",
        i, i % 17);
  }
  body += "</UserDetailList><GroupDetailList/><RoleDetailList/><Policies/></GetAccountAuthorizationDetailsResult>"
          "<ResponseMetadata><RequestId>u</RequestId></ResponseMetadata></GetAccountAuthorizationDetailsResponse>";
  return body;
}

std::string BucketsBody(int n) {
  std::string body = "<ListAllMyBucketsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>o</ID>"
                     "<DisplayName>o</DisplayName></Owner><Buckets>";
  for (int i = 0; i < n; ++i)
    body += fmt::format("<Bucket><Name>bucket-{:05}</Name><CreationDate>2023-01-01T00:00:00.000Z</CreationDate></Bucket>", i);
  return body + "</Buckets></ListAllMyBucketsResult>";
}

void Script(FakeAws& fake, const Params& p) {
  fake.AddResponses("sts", "GetCallerIdentity",
                    {Xml("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
                         "<Arn>arn:aws:iam::123456789012:user/bench</Arn><UserId>AIDABENCH</UserId><Account>123456789012</Account>"
                         "</GetCallerIdentityResult><ResponseMetadata><RequestId>s</RequestId></ResponseMetadata>"
                         "</GetCallerIdentityResponse>")});
  // Pages k = 1..n: page 1 without token, page k answers token "p<k>".
  int ec2_pages = (p.instances + kPage - 1) / kPage;
  for (int k = 1; k <= ec2_pages; ++k) {
    int first = (k - 1) * kPage;
    std::string next = k < ec2_pages ? fmt::format("p{}", k + 1) : "";
    auto page = Xml(InstancesPage(first, std::min(kPage, p.instances - first), next));
    if (k == 1) fake.AddResponses("ec2", "DescribeInstances", ParamAbsent("NextToken"), {page});
    else fake.AddResponses("ec2", "DescribeInstances", ParamEquals("NextToken", fmt::format("p{}", k)), {page});
  }
  int iam_pages = (p.users + kPage - 1) / kPage;
  for (int k = 1; k <= iam_pages; ++k) {
    int first = (k - 1) * kPage;
    std::string next = k < iam_pages ? fmt::format("m{}", k + 1) : "";
    auto page = Xml(UsersPage(first, std::min(kPage, p.users - first), next));
    if (k == 1) fake.AddResponses("iam", "GetAccountAuthorizationDetails", ParamAbsent("Marker"), {page});
    else fake.AddResponses("iam", "GetAccountAuthorizationDetails", ParamEquals("Marker", fmt::format("m{}", k)), {page});
  }
  fake.AddRoute("s3", "ListBuckets", "GET", "/");
  fake.AddRoute("s3", "GetBucketLocation", "GET", "/[^/]+", {"location"});
  fake.AddRoute("s3", "GetBucketPolicy", "GET", "/[^/]+", {"policy"});
  fake.AddRoute("s3", "GetBucketEncryption", "GET", "/[^/]+", {"encryption"});
  fake.AddResponses("s3", "ListBuckets", {Xml(BucketsBody(p.buckets))});
  fake.AddResponses("s3", "GetBucketLocation",
                    {Xml("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-1</LocationConstraint>")});
  fake.AddResponses("s3", "GetBucketPolicy",
                    {FakeResponse{200, {{"Content-Type", "application/json"}},
                                  R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]})"}});
  fake.AddResponses("s3", "GetBucketEncryption",
                    {Xml("<ServerSideEncryptionConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>"
                         "<ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
                         "<BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>")});
}

long ProcStatusKb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  size_t n = std::strlen(field);
  while (std::getline(in, line))
    if (line.compare(0, n, field) == 0) return std::strtol(line.c_str() + n + 1, nullptr, 10);
  return -1;
}
void ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";  // resets VmHWM to the current RSS (Linux >= 4.0)
}

std::vector<int> ParseList(const char* s) {
  std::vector<int> out;
  for (const char* p = s; *p;) {
    out.push_back(std::atoi(p));
    const char* comma = std::strchr(p, ',');
    if (!comma) break;
    p = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Params p;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--instances") p.instances = std::atoi(argv[i + 1]);
    else if (a == "--users") p.users = std::atoi(argv[i + 1]);
    else if (a == "--buckets") p.buckets = std::atoi(argv[i + 1]);
    else if (a == "--regions") p.regions = std::atoi(argv[i + 1]);
    else if (a == "--latency-ms") p.latency_ms = std::atoi(argv[i + 1]);
    else if (a == "--concurrency") p.concurrency = ParseList(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  collect::SpecSet specs;
  for (const char* text : {kSpecs, kIamSpec, kS3Spec}) {
    auto parsed = collect::ParseSpecYaml(text, "bench.yaml");
    if (!parsed) {
      std::fprintf(stderr, "%s\n", parsed.error().ToString().c_str());
      return 1;
    }
    for (auto& r : *parsed) specs.resources.push_back(std::move(r));
  }
  if (auto errors = collect::ValidateSpecs(specs.resources); !errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.ToString().c_str());
    return 1;
  }
  const std::vector<std::string> all_regions = {"us-east-1", "eu-west-1", "us-west-2", "eu-central-1",
                                                "ap-southeast-1", "ap-northeast-1", "sa-east-1", "ca-central-1"};
  std::vector<std::string> regions(all_regions.begin(), all_regions.begin() + std::min<size_t>(p.regions, all_regions.size()));

  std::printf("account: %d instances x %zu region(s), %d IAM users, %d buckets x 3 enrichments; latency %d ms/request\n",
              p.instances, regions.size(), p.users, p.buckets, p.latency_ms);
  std::printf("%-11s | %-9s | %-9s | %-9s | %-10s | %-9s | %-11s | %-11s | %s\n", "concurrency", "wall s", "ideal s",
              "wall/ideal", "HTTP calls", "calls/s", "VmHWM MiB", "RSS+ MiB", "rows");
  for (int concurrency : p.concurrency) {
    // A server thread per client connection, with room to spare: the fake
    // must not be what limits the requests in flight.
    FakeAws::Options fake_options;
    fake_options.threads = concurrency + 16;
    FakeAws fake(fake_options);
    if (!fake.Start()) return 1;
    Script(fake, p);
    fake.InjectGlobalFault({.kind = FaultKind::kDelay, .times = Fault::kAlways, .delay_ms = p.latency_ms});
    aws::ClientConfig config;
    config.region = "us-east-1";
    config.endpoints.endpoint_url = fake.endpoint();
    config.http.read_timeout_ms = 60'000;
    aws::AwsClient client(config, std::make_shared<aws::CurlTransport>(), std::make_shared<StaticCredentials>());
    std::string db = (std::filesystem::temp_directory_path() / fmt::format("cloudaudit-collect-bench-{}.db", ::getpid())).string();
    std::filesystem::remove(db);
    long rss_before = 0, hwm = 0;
    {
      auto store = store::Store::Open(db);
      if (!store) return 1;
      collect::CollectOptions options;
      options.concurrency = concurrency;
      options.regions = regions;
      options.tool_version = "bench";
      rss_before = ProcStatusKb("VmRSS:");
      ResetPeakRss();
      auto start = std::chrono::steady_clock::now();
      auto summary = collect::Collect(client, **store, specs, options);
      double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      hwm = ProcStatusKb("VmHWM:");
      if (!summary) {
        std::fprintf(stderr, "collect failed: %s\n", summary.error().ToString().c_str());
        return 1;
      }
      auto stats = client.stats();
      int64_t rows = 0;
      for (const auto& [t, n] : summary->resources_per_type) rows += n;
      double ideal = static_cast<double>(stats.attempts) / concurrency * p.latency_ms / 1000.0;
      std::printf("%-11d | %-9.1f | %-9.2f | %-10.1f | %-10llu | %-9.1f | %-11.1f | %-11.1f | %lld (gaps %lld)\n", concurrency,
                  wall, ideal, wall / ideal, static_cast<unsigned long long>(stats.attempts), stats.attempts / wall,
                  hwm / 1024.0, (hwm - rss_before) / 1024.0, static_cast<long long>(rows),
                  static_cast<long long>(summary->gaps));
      for (const auto& [t, n] : summary->resources_per_type) std::printf("    %s: %lld\n", t.c_str(), static_cast<long long>(n));
      std::fflush(stdout);
    }
    std::filesystem::remove(db);
    std::filesystem::remove(db + "-wal");
    std::filesystem::remove(db + "-shm");
  }
  return 0;
}
