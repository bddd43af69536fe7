#include "aws/client/endpoints.h"

#include <gtest/gtest.h>

namespace cloudaudit::aws {
namespace {

struct Expected {
  std::string region;
  std::string host;
  std::string signing_region;
};

// What the AWS CLI v2 (Debian's awscli 2.9.19, its vendored botocore)
// addresses for `aws account get-alternate-contact`, taken from the request
// it signs (a before-send hook answered it, so nothing left the machine):
// a global service with one endpoint per partition, whatever the region.
TEST(Endpoints, AccountIsGlobalPerPartition) {
  for (const Expected& e : std::vector<Expected>{
           {"us-east-1", "account.us-east-1.amazonaws.com", "us-east-1"},
           {"eu-west-1", "account.us-east-1.amazonaws.com", "us-east-1"},
           {"ap-southeast-2", "account.us-east-1.amazonaws.com", "us-east-1"},
           {"cn-north-1", "account.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
           // endpoints.json has no entry in aws-us-gov: the partition's default pattern.
           {"us-gov-west-1", "account.us-gov-west-1.amazonaws.com", "us-gov-west-1"},
       }) {
    auto ep = ResolveEndpoint("account", "account", e.region, EndpointOptions{});
    ASSERT_TRUE(ep) << e.region << ": " << ep.error().message;
    EXPECT_EQ(ep->host, e.host) << e.region;
    EXPECT_EQ(ep->signing_region, e.signing_region) << e.region;
    EXPECT_EQ(ep->signing_name, "account") << e.region;
  }
}

// S3 Control is regional and signs as "s3"; the {AccountId}. host prefix is
// the client's (see client.cc), not the resolver's. Multi-Region Access
// Points are managed through us-west-2 like any other region's endpoint.
TEST(Endpoints, S3ControlIsRegionalAndSignsAsS3) {
  for (const std::string region : {"us-east-1", "us-west-2", "eu-west-1"}) {
    auto ep = ResolveEndpoint("s3-control", "s3", region, EndpointOptions{});
    ASSERT_TRUE(ep) << region << ": " << ep.error().message;
    EXPECT_EQ(ep->host, "s3-control." + region + ".amazonaws.com");
    EXPECT_EQ(ep->signing_region, region);
    EXPECT_EQ(ep->signing_name, "s3");
  }
}

}  // namespace
}  // namespace cloudaudit::aws
