#include "collect/spec.h"

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
  EXPECT_EQ(actions.find("s3:ListBuckets\""), std::string::npos);
  EXPECT_EQ(IamActionFor("cloudwatch", "DescribeAlarms"), "cloudwatch:DescribeAlarms");
  EXPECT_EQ(IamActionFor("elbv2", "DescribeListeners"), "elasticloadbalancing:DescribeListeners");
}

}  // namespace
}  // namespace cloudaudit::collect
