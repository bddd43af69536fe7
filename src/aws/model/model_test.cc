#include "aws/model/model.h"

#include <gtest/gtest.h>

namespace cloudaudit::aws {
namespace {

TEST(ServiceModel, EveryEmbeddedServiceCompiles) {
  auto names = EmbeddedServiceNames();
  EXPECT_GE(names.size(), 45u);
  for (const auto& name : names) {
    auto model = LoadServiceModel(name);
    ASSERT_TRUE(model) << name << ": " << model.error().message;
    EXPECT_FALSE((*model)->operations().empty()) << name;
    EXPECT_FALSE((*model)->metadata().protocol.empty()) << name;
  }
}

TEST(ServiceModel, FindsOperationsInBothNameForms) {
  auto iam = LoadServiceModel("iam");
  ASSERT_TRUE(iam);
  ASSERT_NE((*iam)->FindOperation("ListUsers"), nullptr);
  EXPECT_EQ((*iam)->FindOperation("list-users"), (*iam)->FindOperation("ListUsers"));
  EXPECT_EQ((*iam)->FindOperation("GetAccountAuthorizationDetails")->paginator->result_keys.size(), 4u);
  auto rds = LoadServiceModel("rds");
  ASSERT_TRUE(rds);
  EXPECT_NE((*rds)->FindOperation("describe-db-instances"), nullptr);
}

TEST(ServiceModel, SuggestsCloseOperationNames) {
  auto iam = LoadServiceModel("iam");
  ASSERT_TRUE(iam);
  auto s = (*iam)->SuggestOperations("ListUser");
  ASSERT_FALSE(s.empty());
  EXPECT_EQ(s.front(), "ListUsers");
}

TEST(ServiceModel, UnknownServiceSuggests) {
  auto m = LoadServiceModel("iamm");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kNotFound);
  EXPECT_NE(m.error().message.find("iam"), std::string::npos);
}

TEST(ServiceModel, AliasesResolve) {
  auto m = LoadServiceModel("elasticloadbalancing");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)->name(), "elb");
}

TEST(ServiceModel, ResolvesShapeTraits) {
  auto s3 = LoadServiceModel("s3");
  ASSERT_TRUE(s3);
  const Operation* op = (*s3)->FindOperation("GetBucketPolicy");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->http_method, "GET");
  EXPECT_EQ(op->request_uri, "/{Bucket}?policy");
  const Member* bucket = op->input->FindMember("Bucket");
  ASSERT_NE(bucket, nullptr);
  EXPECT_EQ(bucket->ref.location, "uri");
  EXPECT_EQ(op->output->payload, "Policy");
  auto ec2 = LoadServiceModel("ec2");
  ASSERT_TRUE(ec2);
  const Operation* di = (*ec2)->FindOperation("DescribeInstances");
  const Member* ids = di->input->FindMember("InstanceIds");
  ASSERT_NE(ids, nullptr);
  EXPECT_EQ(ids->ref.location_name, "InstanceId");
}

TEST(ServiceModel, RejectsBrokenModels) {
  auto bad = ServiceModel::Compile("x", Json::parse(R"({"metadata": {}, "operations": {}, "shapes": {"A": {"type": "structure", "members": {"b": {"shape": "Missing"}}}}})"), Json::object());
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("Missing"), std::string::npos);
}

}  // namespace
}  // namespace cloudaudit::aws
