#include "collect/spec.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "collect/permissions.h"

namespace cloudaudit::collect {
namespace {

TEST(Specs, BuiltInSpecsLoadAndValidate) {
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs) << specs.error().message;
  EXPECT_NE(specs->Find("aws_iam_user"), nullptr);
  EXPECT_NE(specs->Find("aws_s3_bucket"), nullptr);
  for (const auto& r : specs->resources) {
    EXPECT_FALSE(r.description.empty()) << r.table;
    EXPECT_FALSE(r.columns.empty()) << r.table;
  }
}

TEST(Specs, ReportsEveryProblemWithFileAndLine) {
  const char* yaml = R"(service: iam
resources:
  - table: aws_iam_thing
    description: bad on purpose
    list:
      operation: ListUserz
      items: Users
    identity: {id: "{UserId}"}
    columns:
      - {name: BadName, path: UserName, description: x}
  - table: aws_iam_other
    description: also bad
    list:
      operation: DeleteUser
    identity: {id: "{UserId}"}
    columns:
      - {name: user_name, path: UserName}
)";
  auto parsed = ParseSpecYaml(yaml, "bad.yaml");
  ASSERT_TRUE(parsed);
  auto errors = ValidateSpecs(*parsed);
  ASSERT_GE(errors.size(), 4u);
  std::string all;
  for (const auto& e : errors) all += e.ToString() + "\n";
  EXPECT_NE(all.find("bad.yaml:3: aws_iam_thing: iam has no operation \"ListUserz\""), std::string::npos) << all;
  EXPECT_NE(all.find("BadName"), std::string::npos) << all;
  EXPECT_NE(all.find("not a read-only operation"), std::string::npos) << all;
  EXPECT_NE(all.find("has no description"), std::string::npos) << all;
}

TEST(Specs, EnrichmentBuiltinsAreCheckedLikeCalls) {
  const char* yaml = R"(service: iam
resources:
  - table: aws_iam_thing
    description: users with their service report
    list: {operation: ListUsers, items: Users}
    identity: {id: "{UserId}", arn: "{Arn}"}
    enrich:
      - {builtin: service_last_accessed, params: {Arn: "{Arn}"}, into: ServicesLastAccessed}
      - {builtin: service_last_accessed, params: {Nope: "{Arn}"}, into: Other}
      - {builtin: service_last_accessed, operation: GetUser, into: Third}
    columns:
      - {name: services, type: json, path: ServicesLastAccessed, description: from the builtin}
)";
  auto parsed = ParseSpecYaml(yaml, "b.yaml");
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const Enrichment& e = (*parsed)[0].enrich[0];
  EXPECT_EQ(e.builtin, "service_last_accessed");
  EXPECT_EQ(e.call.service, "iam");
  EXPECT_EQ(e.call.operation, "GenerateServiceLastAccessedDetails");
  std::string all;
  for (const auto& err : ValidateSpecs(*parsed)) all += err.ToString() + "\n";
  EXPECT_NE(all.find("GenerateServiceLastAccessedDetails has no parameter \"Nope\""), std::string::npos) << all;
  EXPECT_NE(all.find("enrichment builtin service_last_accessed calls iam GenerateServiceLastAccessedDetails, not iam GetUser"),
            std::string::npos) << all;
  EXPECT_EQ(all.find("ServicesLastAccessed"), std::string::npos) << all;  // the column path is the builtin's member
  auto unknown = ParseSpecYaml(
      "service: iam\nresources:\n  - table: aws_iam_x\n    description: x\n    list: {operation: ListUsers, items: Users}\n"
      "    enrich:\n      - {builtin: nope, into: X}\n",
      "u.yaml");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().ToString(), "u.yaml:7: unknown enrichment builtin \"nope\"");
}

TEST(Specs, MalformedYamlIsAClearError) {
  auto parsed = ParseSpecYaml("service: iam\nresources:\n  - table: [unclosed\n", "broken.yaml");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().file, "broken.yaml");
  EXPECT_GT(parsed.error().line, 0);
  EXPECT_FALSE(ParseSpecYaml("just a string", "x.yaml"));
}

TEST(Specs, ColumnPathsMustExistInTheItemShape) {
  auto parsed = ParseSpecYaml(R"(service: iam
resources:
  - table: aws_iam_x
    description: d
    list: {operation: ListUsers, items: Users}
    identity: {id: "{UserId}"}
    columns:
      - {name: nope, path: NoSuchMember, description: d}
)", "p.yaml");
  ASSERT_TRUE(parsed);
  auto errors = ValidateSpecs(*parsed);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("NoSuchMember"), std::string::npos);
}

TEST(Templates, ExpandFromItemAndContext) {
  Json item = {{"Name", "logs"}, {"Nested", {{"Id", 7}}}};
  std::map<std::string, std::string> ctx = {{"partition", "aws"}, {"region", "eu-west-1"}};
  EXPECT_EQ(ExpandTemplate("arn:{partition}:s3:::{Name}", item, ctx), "arn:aws:s3:::logs");
  EXPECT_EQ(ExpandTemplate("{Nested.Id}-{region}", item, ctx), "7-eu-west-1");
  std::string missing;
  ExpandTemplate("{Absent}", item, ctx, &missing);
  EXPECT_EQ(missing, "Absent");
  Json params = ExpandParams(Json{{"Bucket", "{Name}"}, {"Max", "{Nested.Id}"}}, item, ctx, &missing);
  EXPECT_EQ(params["Bucket"], "logs");
  EXPECT_EQ(params["Max"], 7);
  Json list_item = {{"Items", Json::array({Json{{"Id", "a"}}, Json{{"Id", "b"}}})}};
  EXPECT_EQ(ExpandTemplate("{Items.1.Id}", list_item, ctx), "b");
  EXPECT_EQ(ExpandTemplate("{Url|after_last:/}", Json{{"Url", "https://sqs.x/123/q1"}}, ctx), "q1");
  EXPECT_EQ(SqlPath("Project.0.logs"), "$.Project[0].logs");
  std::string when = ExpandTemplate("{time:-14d}", item, ctx);
  ASSERT_EQ(when.size(), 20u);
  EXPECT_EQ(when.back(), 'Z');
}

TEST(Permissions, PolicyCoversEveryCallWithIamActionNames) {
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs);
  Json policy = LeastPrivilegePolicy(*specs);
  std::string actions = policy["Statement"][0]["Action"].dump();
  EXPECT_NE(actions.find("\"s3:ListAllMyBuckets\""), std::string::npos);
  EXPECT_NE(actions.find("\"s3:GetEncryptionConfiguration\""), std::string::npos);
  EXPECT_NE(actions.find("\"iam:GetAccountAuthorizationDetails\""), std::string::npos);
  EXPECT_NE(actions.find("\"iam:GenerateCredentialReport\""), std::string::npos);
  EXPECT_NE(actions.find("\"iam:GenerateServiceLastAccessedDetails\""), std::string::npos);
  EXPECT_NE(actions.find("\"iam:GetServiceLastAccessedDetails\""), std::string::npos);
  EXPECT_EQ(actions.find("s3:ListBuckets\""), std::string::npos);
  EXPECT_EQ(IamActionFor("cloudwatch", "DescribeAlarms"), "cloudwatch:DescribeAlarms");
  EXPECT_EQ(IamActionFor("elbv2", "DescribeListeners"), "elasticloadbalancing:DescribeListeners");
}

TEST(Permissions, IamActionPatternsMatchLikeIam) {
  EXPECT_TRUE(IamActionMatches("s3:GetBucket*", "s3:GetBucketPolicy"));
  EXPECT_TRUE(IamActionMatches("s3:getbucket*", "S3:GetBucketPolicy"));  // case-insensitive
  EXPECT_TRUE(IamActionMatches("ec2:Describe*", "ec2:Describe"));
  EXPECT_TRUE(IamActionMatches("iam:*", "iam:ListUsers"));
  EXPECT_TRUE(IamActionMatches("*", "iam:ListUsers"));
  EXPECT_TRUE(IamActionMatches("iam:List?sers", "iam:ListUsers"));
  EXPECT_TRUE(IamActionMatches("cloudformation:*Stack*", "cloudformation:DescribeStacks"));
  EXPECT_FALSE(IamActionMatches("s3:GetBucket*", "s3:GetEncryptionConfiguration"));
  EXPECT_FALSE(IamActionMatches("s3:GetBucket", "s3:GetBucketPolicy"));
  EXPECT_FALSE(IamActionMatches("iam:List?sers", "iam:ListUser"));
  EXPECT_FALSE(IamActionMatches("ec2:Describe*", "ec2s:DescribeInstances"));
}

TEST(Permissions, ManagedPolicyCoverageOfTheBuiltInSpecs) {
  auto specs = LoadSpecs();
  ASSERT_TRUE(specs);
  auto managed = LoadManagedPolicies();
  ASSERT_TRUE(managed) << managed.error().ToString();
  ASSERT_EQ(managed->policies.size(), 2u);
  EXPECT_EQ(managed->policies[0].name, "SecurityAudit");
  EXPECT_EQ(managed->policies[1].name, "ViewOnlyAccess");
  const std::set<std::string> actions = RequiredActions(*specs);
  EXPECT_EQ(LeastPrivilegePolicy(*specs)["Statement"][0]["Action"].size(), actions.size());
  auto coverage = ManagedPolicyCoverage(actions, *managed);
  ASSERT_EQ(coverage.size(), actions.size());
  auto find = [&](const std::string& action) -> const ActionCoverage& {
    for (const auto& c : coverage)
      if (c.action == action) return c;
    ADD_FAILURE() << action << " not required";
    static const ActionCoverage none;
    return none;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(find("s3:GetBucketPolicy").granted_by, (V{"SecurityAudit"}));  // ViewOnlyAccess: no Get*
  EXPECT_EQ(find("ec2:DescribeInstances").granted_by, (V{"SecurityAudit", "ViewOnlyAccess"}));
  EXPECT_EQ(find("iam:GetAccountAuthorizationDetails").granted_by, (V{"SecurityAudit"}));
  EXPECT_TRUE(find("servicequotas:GetServiceQuota").granted_by.empty());
  EXPECT_TRUE(find("sts:GetCallerIdentity").no_permission_needed);

  std::set<std::string> beyond = ActionsNotGrantedBy(coverage, "SecurityAudit");
  EXPECT_TRUE(beyond.count("servicequotas:GetServiceQuota"));
  EXPECT_FALSE(beyond.count("s3:GetBucketPolicy"));
  EXPECT_FALSE(beyond.count("sts:GetCallerIdentity"));
  EXPECT_LT(beyond.size(), actions.size() / 2);  // SecurityAudit grants most of what we call
  Json supplement = PolicyForActions(beyond, "CloudauditBeyondSecurityAudit");
  EXPECT_EQ(supplement["Statement"][0]["Action"].size(), beyond.size());

  std::string summary = CoverageSummary(coverage, *managed);
  EXPECT_NE(summary.find(fmt::format("SecurityAudit covers {} of {} actions", actions.size() - beyond.size(), actions.size())),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find(fmt::format("add the other {}", beyond.size())), std::string::npos) << summary;
  std::string report = CoverageReport(coverage, *managed);
  EXPECT_NE(report.find("sts:GetCallerIdentity"), std::string::npos);
  EXPECT_NE(report.find("(needs no permission)"), std::string::npos);
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), static_cast<long>(actions.size() + 2));  // header, rows, summary
}

TEST(Permissions, ManagedPoliciesFileErrorsNameTheLine) {
  auto bad = ParseManagedPolicies("policies:\n  - name: X\n    actions: [s3GetBucket]\n", "p.yaml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().file, "p.yaml");
  EXPECT_EQ(bad.error().line, 3);
  EXPECT_FALSE(ParseManagedPolicies("policies: []\n", "p.yaml"));
  EXPECT_FALSE(ParseManagedPolicies("policies:\n  - actions: [s3:Get*]\n", "p.yaml"));
  auto good = ParseManagedPolicies("no_permission_needed: [sts:GetCallerIdentity]\npolicies:\n  - name: X\n    actions: [s3:Get*]\n", "p.yaml");
  ASSERT_TRUE(good) << good.error().ToString();
  EXPECT_EQ(good->policies[0].actions, std::vector<std::string>{"s3:Get*"});
}

}  // namespace
}  // namespace cloudaudit::collect
