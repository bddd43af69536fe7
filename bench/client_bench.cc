// Benchmarks of the AWS client's CPU-bound paths: SigV4 signing, response
// parsing (ec2 XML, lambda JSON, IAM XML with URL-encoded policies), the AWS
// CLI JSON rendering, and service-model loading. Inputs are synthetic but
// shaped like the recorded answers in tests/conformance (same elements, same
// nesting, realistic value lengths), generated once per process. Results are
// discussed in docs/performance.md.
//
//   cloudaudit_bench --benchmark_min_time=0.5
//
// "Reference" benchmarks (pugixml / nlohmann parse only) bound what the
// model-driven parsers could reach: the difference is our own work.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "aws/auth/credentials.h"
#include "aws/auth/sigv4.h"
#include "aws/http/transport.h"
#include "aws/model/embedded_models.h"
#include "aws/model/model.h"
#include "aws/protocol/protocol.h"
#include "base/json.h"
#include "base/strings.h"

namespace {

using cloudaudit::Json;
using cloudaudit::aws::HttpRequest;
using cloudaudit::aws::HttpResponse;

// ---------------------------------------------------------------------------
// Synthetic responses.

// One ec2 instance as in tests/conformance/ec2/describe-instances/responses/1.http
// (first instance), with two security groups, two EBS volumes, three tags
// and one network interface.
constexpr std::string_view kInstanceXml = R"(        <item>
            <instanceId>i-{id:017x}</instanceId>
            <imageId>ami-0abcdef1234567890</imageId>
            <instanceState>
                <code>16</code>
                <name>running</name>
            </instanceState>
            <privateDnsName>ip-10-0-{a}-{b}.ec2.internal</privateDnsName>
            <dnsName>ec2-54-194-{a}-{b}.compute-1.amazonaws.com</dnsName>
            <reason/>
            <keyName>prod-key</keyName>
            <amiLaunchIndex>{index}</amiLaunchIndex>
            <productCodes/>
            <instanceType>t3.micro</instanceType>
            <launchTime>2023-01-10T08:00:00.000Z</launchTime>
            <placement>
                <availabilityZone>us-east-1a</availabilityZone>
                <groupName/>
                <tenancy>default</tenancy>
            </placement>
            <monitoring>
                <state>disabled</state>
            </monitoring>
            <subnetId>subnet-0aa11bb22cc33dd44</subnetId>
            <vpcId>vpc-0c1d2e3f4a5b6c7d8</vpcId>
            <privateIpAddress>10.0.{a}.{b}</privateIpAddress>
            <ipAddress>54.194.{a}.{b}</ipAddress>
            <sourceDestCheck>true</sourceDestCheck>
            <groupSet>
                <item>
                    <groupId>sg-0a1b2c3d4e5f67890</groupId>
                    <groupName>web</groupName>
                </item>
                <item>
                    <groupId>sg-0f1e2d3c4b5a69788</groupId>
                    <groupName>ssh-from-bastion</groupName>
                </item>
            </groupSet>
            <architecture>x86_64</architecture>
            <rootDeviceType>ebs</rootDeviceType>
            <rootDeviceName>/dev/xvda</rootDeviceName>
            <blockDeviceMapping>
                <item>
                    <deviceName>/dev/xvda</deviceName>
                    <ebs>
                        <volumeId>vol-{id:017x}</volumeId>
                        <status>attached</status>
                        <attachTime>2023-01-10T08:00:01.000Z</attachTime>
                        <deleteOnTermination>true</deleteOnTermination>
                    </ebs>
                </item>
                <item>
                    <deviceName>/dev/xvdb</deviceName>
                    <ebs>
                        <volumeId>vol-{id2:017x}</volumeId>
                        <status>attached</status>
                        <attachTime>2023-01-10T08:00:01.000Z</attachTime>
                        <deleteOnTermination>false</deleteOnTermination>
                    </ebs>
                </item>
            </blockDeviceMapping>
            <virtualizationType>hvm</virtualizationType>
            <clientToken>terraform-20230110075959000000000001</clientToken>
            <tagSet>
                <item>
                    <key>Name</key>
                    <value>web-{id}</value>
                </item>
                <item>
                    <key>env</key>
                    <value>prod</value>
                </item>
                <item>
                    <key>team</key>
                    <value>payments</value>
                </item>
            </tagSet>
            <hypervisor>xen</hypervisor>
            <networkInterfaceSet>
                <item>
                    <networkInterfaceId>eni-{id:017x}</networkInterfaceId>
                    <subnetId>subnet-0aa11bb22cc33dd44</subnetId>
                    <vpcId>vpc-0c1d2e3f4a5b6c7d8</vpcId>
                    <description/>
                    <ownerId>123456789012</ownerId>
                    <status>in-use</status>
                    <macAddress>0a:1b:2c:3d:4e:5f</macAddress>
                    <privateIpAddress>10.0.{a}.{b}</privateIpAddress>
                    <privateDnsName>ip-10-0-{a}-{b}.ec2.internal</privateDnsName>
                    <sourceDestCheck>true</sourceDestCheck>
                    <groupSet>
                        <item>
                            <groupId>sg-0a1b2c3d4e5f67890</groupId>
                            <groupName>web</groupName>
                        </item>
                    </groupSet>
                    <attachment>
                        <attachmentId>eni-attach-{id:017x}</attachmentId>
                        <deviceIndex>0</deviceIndex>
                        <status>attached</status>
                        <attachTime>2023-01-10T08:00:00.000Z</attachTime>
                        <deleteOnTermination>true</deleteOnTermination>
                        <networkCardIndex>0</networkCardIndex>
                    </attachment>
                    <association>
                        <publicIp>54.194.{a}.{b}</publicIp>
                        <publicDnsName>ec2-54-194-{a}-{b}.compute-1.amazonaws.com</publicDnsName>
                        <ipOwnerId>amazon</ipOwnerId>
                    </association>
                    <privateIpAddressesSet>
                        <item>
                            <privateIpAddress>10.0.{a}.{b}</privateIpAddress>
                            <privateDnsName>ip-10-0-{a}-{b}.ec2.internal</privateDnsName>
                            <primary>true</primary>
                        </item>
                    </privateIpAddressesSet>
                    <ipv6AddressesSet/>
                    <interfaceType>interface</interfaceType>
                </item>
            </networkInterfaceSet>
            <iamInstanceProfile>
                <arn>arn:aws:iam::123456789012:instance-profile/web-role</arn>
                <id>AIPAJDPG2FNLI5EXAMPLE</id>
            </iamInstanceProfile>
            <ebsOptimized>false</ebsOptimized>
            <enaSupport>true</enaSupport>
            <cpuOptions>
                <coreCount>1</coreCount>
                <threadsPerCore>2</threadsPerCore>
            </cpuOptions>
            <capacityReservationSpecification>
                <capacityReservationPreference>open</capacityReservationPreference>
            </capacityReservationSpecification>
            <hibernationOptions>
                <configured>false</configured>
            </hibernationOptions>
            <enclaveOptions>
                <enabled>false</enabled>
            </enclaveOptions>
            <metadataOptions>
                <state>applied</state>
                <httpTokens>optional</httpTokens>
                <httpPutResponseHopLimit>1</httpPutResponseHopLimit>
                <httpEndpoint>enabled</httpEndpoint>
                <httpProtocolIpv6>disabled</httpProtocolIpv6>
                <instanceMetadataTags>disabled</instanceMetadataTags>
            </metadataOptions>
            <maintenanceOptions>
                <autoRecovery>default</autoRecovery>
            </maintenanceOptions>
            <platformDetails>Linux/UNIX</platformDetails>
            <usageOperation>RunInstances</usageOperation>
            <usageOperationUpdateTime>2023-01-10T08:00:00.000Z</usageOperationUpdateTime>
            <privateDnsNameOptions>
                <hostnameType>ip-name</hostnameType>
                <enableResourceNameDnsARecord>false</enableResourceNameDnsARecord>
                <enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord>
            </privateDnsNameOptions>
        </item>
)";

constexpr int kReservations = 1000;
constexpr int kInstancesPerReservation = 2;

std::string MakeDescribeInstancesXml() {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
      "    <requestId>7a62c49f-347e-4fc4-9331-6e8e0000003c</requestId>\n<reservationSet>\n";
  uint64_t id = 0x0598c7d356eba48dULL;
  for (int r = 0; r < kReservations; ++r) {
    out += fmt::format(
        "    <item>\n        <reservationId>r-{:017x}</reservationId>\n        <ownerId>123456789012</ownerId>\n"
        "        <groupSet/>\n        <instancesSet>\n",
        id);
    for (int i = 0; i < kInstancesPerReservation; ++i) {
      ++id;
      out += fmt::format(fmt::runtime(kInstanceXml), fmt::arg("id", id), fmt::arg("id2", id * 31),
                         fmt::arg("a", (id >> 8) % 256), fmt::arg("b", id % 256), fmt::arg("index", i));
    }
    out += "        </instancesSet>\n    </item>\n";
  }
  out += "</reservationSet>\n</DescribeInstancesResponse>\n";
  return out;
}

// Lambda ListFunctions (rest-json) as in
// tests/conformance/rest-json/lambda-list-functions/responses/1.http.
constexpr int kLambdaFunctions = 5000;

std::string MakeListFunctionsJson() {
  std::string out = "{\"Functions\":[";
  for (int i = 0; i < kLambdaFunctions; ++i) {
    if (i > 0) out += ',';
    out += fmt::format(
        R"({{"FunctionName":"orders-api-{0}","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:orders-api-{0}",)"
        R"("Runtime":"python3.9","Role":"arn:aws:iam::123456789012:role/orders-api-role-{0}","Handler":"app.handler",)"
        R"("CodeSize":{1},"Description":"Orders API – handles “orders” #{0}","Timeout":30,"MemorySize":512,)"
        R"("LastModified":"2023-01-10T08:00:00.000+0000","CodeSha256":"YFgDgEKG3ugvF1+pX64gV6tu9qNuIYNUdgJm8nCxsm4=",)"
        R"("Version":"$LATEST","VpcConfig":{{"SubnetIds":["subnet-0aa11bb22cc33dd44","subnet-0ee55ff66aa77bb88"],)"
        R"("SecurityGroupIds":["sg-0a1b2c3d4e5f67890"],"VpcId":"vpc-0c1d2e3f4a5b6c7d8"}},)"
        R"("Environment":{{"Variables":{{"STAGE":"prod","DB_URL":"postgres://orders@db:5432/orders?sslmode=require",)"
        R"("JSON":"{{\"a\": [1, 2]}}","PATH_LIKE":"C:\\tmp\\x"}}}},"TracingConfig":{{"Mode":"Active"}},)"
        R"("RevisionId":"4f5c8a1e-2b3d-4e6f-8a9b-{2:012x}","Layers":[{{"Arn":"arn:aws:lambda:us-east-1:123456789012:layer:common:7","CodeSize":41234}}],)"
        R"("PackageType":"Zip","Architectures":["arm64"],"EphemeralStorage":{{"Size":512}},"KMSKeyArn":null}})",
        i, 5797206 + i, static_cast<uint64_t>(i) * 7919);
  }
  out += "],\"NextMarker\":null}";
  return out;
}

// iam GetAccountAuthorizationDetails (query) as in
// tests/conformance/query/iam-get-account-authorization-details: every
// policy document URL-encoded, which the parser decodes into JSON.
constexpr int kIamUsers = 300, kIamGroups = 50, kIamRoles = 300, kIamPolicies = 200;

std::string EncodedPolicy(int n, std::string_view action) {
  std::string doc = fmt::format(
      "{{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {{\n      \"Sid\": \"Stmt{0}\",\n"
      "      \"Effect\": \"Allow\",\n      \"Action\": [\n        \"{1}\",\n        \"s3:GetObject\",\n"
      "        \"logs:CreateLogStream\"\n      ],\n      \"Resource\": [\n"
      "        \"arn:aws:s3:::bucket-{0}/*\",\n        \"arn:aws:logs:us-east-1:123456789012:log-group:/app/{0}:*\"\n"
      "      ],\n      \"Condition\": {{\"StringEquals\": {{\"aws:PrincipalTag/team\": \"payments\"}}}}\n"
      "    }}\n  ]\n}}",
      n, action);
  return cloudaudit::UriEncode(doc);
}

std::string MakeIamAuthorizationDetailsXml() {
  std::string out =
      "<GetAccountAuthorizationDetailsResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n"
      "  <GetAccountAuthorizationDetailsResult>\n    <IsTruncated>false</IsTruncated>\n    <UserDetailList>\n";
  for (int i = 0; i < kIamUsers; ++i) {
    out += fmt::format(
        "      <member>\n        <Path>/</Path>\n        <UserName>user-{0}</UserName>\n"
        "        <UserId>AIDACKCEVSQ6C2{0:07d}</UserId>\n        <Arn>arn:aws:iam::123456789012:user/user-{0}</Arn>\n"
        "        <CreateDate>2013-10-14T18:32:24Z</CreateDate>\n        <UserPolicyList>\n          <member>\n"
        "            <PolicyName>inline-{0}</PolicyName>\n            <PolicyDocument>{1}</PolicyDocument>\n"
        "          </member>\n        </UserPolicyList>\n        <GroupList>\n          <member>group-{2}</member>\n"
        "          <member>everyone</member>\n        </GroupList>\n        <AttachedManagedPolicies>\n"
        "          <member>\n            <PolicyName>ReadOnlyAccess</PolicyName>\n"
        "            <PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn>\n          </member>\n"
        "        </AttachedManagedPolicies>\n        <Tags>\n          <member>\n            <Key>team</Key>\n"
        "            <Value>payments</Value>\n          </member>\n        </Tags>\n      </member>\n",
        i, EncodedPolicy(i, "s3:ListBucket"), i % kIamGroups);
  }
  out += "    </UserDetailList>\n    <GroupDetailList>\n";
  for (int i = 0; i < kIamGroups; ++i) {
    out += fmt::format(
        "      <member>\n        <Path>/</Path>\n        <GroupName>group-{0}</GroupName>\n"
        "        <GroupId>AGPACKCEVSQ6C2{0:07d}</GroupId>\n        <Arn>arn:aws:iam::123456789012:group/group-{0}</Arn>\n"
        "        <CreateDate>2013-10-14T18:32:24Z</CreateDate>\n        <GroupPolicyList>\n          <member>\n"
        "            <PolicyName>group-inline-{0}</PolicyName>\n            <PolicyDocument>{1}</PolicyDocument>\n"
        "          </member>\n        </GroupPolicyList>\n        <AttachedManagedPolicies>\n          <member>\n"
        "            <PolicyName>AdministratorAccess</PolicyName>\n"
        "            <PolicyArn>arn:aws:iam::aws:policy/AdministratorAccess</PolicyArn>\n          </member>\n"
        "        </AttachedManagedPolicies>\n      </member>\n",
        i, EncodedPolicy(i, "ec2:Describe*"));
  }
  out += "    </GroupDetailList>\n    <RoleDetailList>\n";
  for (int i = 0; i < kIamRoles; ++i) {
    std::string trust = cloudaudit::UriEncode(
        "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n"
        "      \"Principal\": {\"Service\": \"ec2.amazonaws.com\"},\n      \"Action\": \"sts:AssumeRole\"\n    }\n  ]\n}");
    out += fmt::format(
        "      <member>\n        <Path>/service-role/</Path>\n        <RoleName>role-{0}</RoleName>\n"
        "        <RoleId>AROAJ52OTH4H7L{0:07d}</RoleId>\n"
        "        <Arn>arn:aws:iam::123456789012:role/service-role/role-{0}</Arn>\n"
        "        <CreateDate>2014-07-30T17:09:20Z</CreateDate>\n"
        "        <AssumeRolePolicyDocument>{1}</AssumeRolePolicyDocument>\n"
        "        <InstanceProfileList>\n          <member>\n            <Path>/</Path>\n"
        "            <InstanceProfileName>role-{0}</InstanceProfileName>\n"
        "            <InstanceProfileId>AIPAFFYRBHWXW2{0:07d}</InstanceProfileId>\n"
        "            <Arn>arn:aws:iam::123456789012:instance-profile/role-{0}</Arn>\n"
        "            <CreateDate>2014-07-30T17:09:20Z</CreateDate>\n            <Roles/>\n          </member>\n"
        "        </InstanceProfileList>\n        <RolePolicyList>\n          <member>\n"
        "            <PolicyName>role-inline-{0}</PolicyName>\n            <PolicyDocument>{2}</PolicyDocument>\n"
        "          </member>\n        </RolePolicyList>\n        <AttachedManagedPolicies>\n          <member>\n"
        "            <PolicyName>policy-{3}</PolicyName>\n"
        "            <PolicyArn>arn:aws:iam::123456789012:policy/policy-{3}</PolicyArn>\n          </member>\n"
        "        </AttachedManagedPolicies>\n        <Tags>\n          <member>\n            <Key>owner</Key>\n"
        "            <Value>sec-team</Value>\n          </member>\n        </Tags>\n        <RoleLastUsed>\n"
        "          <LastUsedDate>2023-01-29T04:12:55Z</LastUsedDate>\n          <Region>eu-west-1</Region>\n"
        "        </RoleLastUsed>\n      </member>\n",
        i, trust, EncodedPolicy(i, "kms:Decrypt"), i % kIamPolicies);
  }
  out += "    </RoleDetailList>\n    <Policies>\n";
  for (int i = 0; i < kIamPolicies; ++i) {
    out += fmt::format(
        "      <member>\n        <PolicyName>policy-{0}</PolicyName>\n        <DefaultVersionId>v2</DefaultVersionId>\n"
        "        <PolicyId>ANPAJ2UCCR6DPC{0:07d}</PolicyId>\n        <Path>/</Path>\n"
        "        <Arn>arn:aws:iam::123456789012:policy/policy-{0}</Arn>\n        <AttachmentCount>2</AttachmentCount>\n"
        "        <PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>\n"
        "        <IsAttachable>true</IsAttachable>\n        <CreateDate>2014-07-30T17:09:20Z</CreateDate>\n"
        "        <UpdateDate>2015-02-19T10:05:42Z</UpdateDate>\n        <PolicyVersionList>\n"
        "          <member>\n            <Document>{1}</Document>\n            <VersionId>v2</VersionId>\n"
        "            <IsDefaultVersion>true</IsDefaultVersion>\n            <CreateDate>2015-02-19T10:05:42Z</CreateDate>\n"
        "          </member>\n          <member>\n            <Document>{2}</Document>\n"
        "            <VersionId>v1</VersionId>\n            <IsDefaultVersion>false</IsDefaultVersion>\n"
        "            <CreateDate>2014-07-30T17:09:20Z</CreateDate>\n          </member>\n"
        "        </PolicyVersionList>\n      </member>\n",
        i, EncodedPolicy(i, "ec2:*"), EncodedPolicy(i, "ec2:Describe*"));
  }
  out +=
      "    </Policies>\n  </GetAccountAuthorizationDetailsResult>\n  <ResponseMetadata>\n"
      "    <RequestId>7a62c49f-347e-4fc4-9331-6e8e00000005</RequestId>\n  </ResponseMetadata>\n"
      "</GetAccountAuthorizationDetailsResponse>\n";
  return out;
}

HttpResponse Response200(std::string body, std::string content_type) {
  HttpResponse response;
  response.status = 200;
  response.headers = {{"content-type", std::move(content_type)},
                      {"x-amzn-requestid", "7a62c49f-347e-4fc4-9331-6e8e0000003c"},
                      {"date", "Tue, 31 Jan 2023 12:00:00 GMT"}};
  response.body = std::move(body);
  return response;
}

struct Fixture {
  std::shared_ptr<const cloudaudit::aws::ServiceModel> model;
  const cloudaudit::aws::Operation* op = nullptr;
  HttpResponse response;
};

// Aborts the whole run on a broken fixture: numbers for a parse that fails
// would be meaningless.
Fixture MakeFixture(const char* service, const char* operation, HttpResponse response) {
  auto model = cloudaudit::aws::LoadServiceModel(service);
  if (!model) {
    std::fprintf(stderr, "cannot load %s: %s\n", service, model.error().ToString().c_str());
    std::abort();
  }
  Fixture f{*model, (*model)->FindOperation(operation), std::move(response)};
  if (f.op == nullptr) std::abort();
  auto parsed = cloudaudit::aws::ParseResponse(*f.model, *f.op, f.response);
  if (!parsed) {
    std::fprintf(stderr, "%s %s fixture does not parse: %s\n", service, operation, parsed.error().ToString().c_str());
    std::abort();
  }
  return f;
}

const Fixture& DescribeInstances() {
  static const Fixture f = MakeFixture("ec2", "DescribeInstances", Response200(MakeDescribeInstancesXml(), "text/xml"));
  return f;
}
const Fixture& ListFunctions() {
  static const Fixture f =
      MakeFixture("lambda", "ListFunctions", Response200(MakeListFunctionsJson(), "application/json"));
  return f;
}
const Fixture& IamAuthorizationDetails() {
  static const Fixture f = MakeFixture("iam", "GetAccountAuthorizationDetails",
                                       Response200(MakeIamAuthorizationDetailsXml(), "text/xml"));
  return f;
}

void ParseBenchmark(benchmark::State& state, const Fixture& f) {
  size_t items = 0;
  for (auto _ : state) {
    auto parsed = cloudaudit::aws::ParseResponse(*f.model, *f.op, f.response);
    benchmark::DoNotOptimize(parsed);
    if (!parsed) state.SkipWithError("parse failed");
    ++items;
  }
  state.SetBytesProcessed(static_cast<int64_t>(items * f.response.body.size()));
  state.counters["body_MB"] = static_cast<double>(f.response.body.size()) / 1e6;
}

// ---------------------------------------------------------------------------
// Signing.

cloudaudit::aws::Credentials SessionCredentials() {
  cloudaudit::aws::Credentials c;
  c.access_key_id = "ASIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  // Assumed-role session tokens are ~800-1000 characters.
  c.session_token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ";
  while (c.session_token.size() < 900) c.session_token += "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/";
  return c;
}

void BM_SigV4_QueryPost(benchmark::State& state) {
  const auto credentials = SessionCredentials();
  HttpRequest base;
  base.method = "POST";
  base.host = "iam.amazonaws.com";
  base.path = "/";
  base.body = "Action=GetAccountAuthorizationDetails&Version=2010-05-08&Filter.member.1=User&MaxItems=1000";
  base.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                  {"User-Agent", "cloudaudit/0.1.0"}};
  cloudaudit::aws::SigningParams params;
  params.region = "us-east-1";
  params.service = "iam";
  params.time_epoch = 1675166400;
  for (auto _ : state) {
    HttpRequest request = base;  // signing edits the request; the copy is part of every real call too
    auto signed_request = cloudaudit::aws::SignRequest(request, credentials, params);
    benchmark::DoNotOptimize(signed_request);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigV4_QueryPost);

void BM_SigV4_S3Get(benchmark::State& state) {
  const auto credentials = SessionCredentials();
  HttpRequest base;
  base.method = "GET";
  base.host = "audit-logs-123456789012.s3.us-east-1.amazonaws.com";
  base.path = "/AWSLogs/123456789012/CloudTrail/us-east-1/2023/01/31/trail%20file.json.gz";
  base.query = "versionId=3HL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY";
  base.headers = {{"User-Agent", "cloudaudit/0.1.0"}};
  const auto params = cloudaudit::aws::S3SigningParams("us-east-1", 1675166400);
  for (auto _ : state) {
    HttpRequest request = base;
    auto signed_request = cloudaudit::aws::SignRequest(request, credentials, params);
    benchmark::DoNotOptimize(signed_request);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SigV4_S3Get);

// ---------------------------------------------------------------------------
// Response parsing.

void BM_Parse_Ec2DescribeInstances_Xml(benchmark::State& state) { ParseBenchmark(state, DescribeInstances()); }
BENCHMARK(BM_Parse_Ec2DescribeInstances_Xml)->Unit(benchmark::kMillisecond);

void BM_Parse_LambdaListFunctions_Json(benchmark::State& state) { ParseBenchmark(state, ListFunctions()); }
BENCHMARK(BM_Parse_LambdaListFunctions_Json)->Unit(benchmark::kMillisecond);

void BM_Parse_IamGetAccountAuthorizationDetails_Xml(benchmark::State& state) {
  ParseBenchmark(state, IamAuthorizationDetails());
}
BENCHMARK(BM_Parse_IamGetAccountAuthorizationDetails_Xml)->Unit(benchmark::kMillisecond);

// Reference: pugixml's DOM build alone, with the options ParseXmlBody uses.
void BM_Reference_PugixmlLoad_Ec2DescribeInstances(benchmark::State& state) {
  const std::string& body = DescribeInstances().response.body;
  for (auto _ : state) {
    pugi::xml_document doc;
    auto result = doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata,
                                  pugi::encoding_utf8);
    benchmark::DoNotOptimize(result);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Reference_PugixmlLoad_Ec2DescribeInstances)->Unit(benchmark::kMillisecond);

// Reference: nlohmann's parse alone (what ParseJsonBody does first).
void BM_Reference_NlohmannParse_LambdaListFunctions(benchmark::State& state) {
  const std::string& body = ListFunctions().response.body;
  for (auto _ : state) {
    auto doc = cloudaudit::ParseJson(body);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Reference_NlohmannParse_LambdaListFunctions)->Unit(benchmark::kMillisecond);

// Experiment: the same parse into nlohmann::json (std::map objects) instead
// of ordered_json, to size the cost of ordered_map (see docs/performance.md).
void BM_Experiment_NlohmannParseUnordered_LambdaListFunctions(benchmark::State& state) {
  const std::string& body = ListFunctions().response.body;
  for (auto _ : state) {
    auto doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_Experiment_NlohmannParseUnordered_LambdaListFunctions)->Unit(benchmark::kMillisecond);

// Experiment: building an ordered_json object member by member, as the
// response parsers do (out[name] = std::move(value)), with and without
// reserving the members first. ordered_map is a vector of
// pair<const std::string, Json>, which is not nothrow-movable, so every
// growth of the vector deep-copies the subtrees already inserted.
void BM_Experiment_OrderedJsonObjectBuild(benchmark::State& state) {
  const bool reserve = state.range(0) != 0;
  constexpr int kMembers = 60;  // ~ an ec2 Instance
  std::vector<std::string> names;
  for (int i = 0; i < kMembers; ++i) names.push_back(fmt::format("Member{}", i));
  for (auto _ : state) {
    Json out = Json::object();
    if (reserve) out.get_ref<Json::object_t&>().reserve(kMembers);
    for (int i = 0; i < kMembers; ++i) {
      Json child = Json::object();
      child["GroupId"] = "sg-0a1b2c3d4e5f67890";
      child["GroupName"] = "web-servers-with-a-long-name";
      child["Tags"] = Json::array({Json{{"Key", "Name"}, {"Value", "web-1"}}, Json{{"Key", "env"}, {"Value", "prod"}}});
      out[names[i]] = std::move(child);
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * kMembers);
}
BENCHMARK(BM_Experiment_OrderedJsonObjectBuild)->ArgName("reserve")->Arg(0)->Arg(1);

// ---------------------------------------------------------------------------
// AWS CLI rendering (json.dumps(indent=4) equivalent); bytes are output bytes.

void BM_DumpPythonJson_Ec2DescribeInstances(benchmark::State& state) {
  const Fixture& f = DescribeInstances();
  const Json doc = *cloudaudit::aws::ParseResponse(*f.model, *f.op, f.response);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = cloudaudit::DumpPythonJson(doc);
    bytes += out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_DumpPythonJson_Ec2DescribeInstances)->Unit(benchmark::kMillisecond);

void BM_DumpPythonJson_LambdaListFunctions(benchmark::State& state) {
  const Fixture& f = ListFunctions();
  const Json doc = *cloudaudit::aws::ParseResponse(*f.model, *f.op, f.response);
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = cloudaudit::DumpPythonJson(doc);
    bytes += out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_DumpPythonJson_LambdaListFunctions)->Unit(benchmark::kMillisecond);

// ---------------------------------------------------------------------------
// Model loading. LoadServiceModel caches per process, so its three stages are
// measured separately on the embedded blob: zlib inflate, JSON parse,
// ServiceModel::Compile. Their sum is the cost of the first call.

const cloudaudit::aws::EmbeddedModel& Embedded(std::string_view name) {
  for (const auto& m : cloudaudit::aws::EmbeddedModels()) {
    if (name == m.name) return m;
  }
  std::fprintf(stderr, "no embedded model %.*s\n", static_cast<int>(name.size()), name.data());
  std::abort();
}

void BM_Model_Inflate(benchmark::State& state, const char* service) {
  const auto& m = Embedded(service);
  for (auto _ : state) {
    auto text = cloudaudit::aws::ZlibInflate(m.data, m.compressed_size, m.raw_size);
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * m.raw_size));
  state.counters["raw_MB"] = static_cast<double>(m.raw_size) / 1e6;
}
BENCHMARK_CAPTURE(BM_Model_Inflate, ec2, "ec2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Model_Inflate, iam, "iam")->Unit(benchmark::kMillisecond);

void BM_Model_ParseJson(benchmark::State& state, const char* service) {
  const auto& m = Embedded(service);
  const std::string text = *cloudaudit::aws::ZlibInflate(m.data, m.compressed_size, m.raw_size);
  for (auto _ : state) {
    auto doc = cloudaudit::ParseJson(text);
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK_CAPTURE(BM_Model_ParseJson, ec2, "ec2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Model_ParseJson, iam, "iam")->Unit(benchmark::kMillisecond);

void BM_Model_Compile(benchmark::State& state, const char* service) {
  const auto& m = Embedded(service);
  const Json doc = *cloudaudit::ParseJson(*cloudaudit::aws::ZlibInflate(m.data, m.compressed_size, m.raw_size));
  for (auto _ : state) {
    auto model = cloudaudit::aws::ServiceModel::Compile(service, doc["model"], doc["paginators"]);
    if (!model) state.SkipWithError("compile failed");
    benchmark::DoNotOptimize(model);
  }
  state.counters["shapes_ops"] = static_cast<double>(doc["model"]["shapes"].size() + doc["model"]["operations"].size());
}
BENCHMARK_CAPTURE(BM_Model_Compile, ec2, "ec2")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Model_Compile, iam, "iam")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
