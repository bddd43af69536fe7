#include "base/strings.h"

#include <cctype>

#include <gtest/gtest.h>

namespace cloudaudit {
namespace {

TEST(Strings, CamelToKebabMatchesBotocoreXformName) {
  EXPECT_EQ(CamelToKebab("ListUsers"), "list-users");
  EXPECT_EQ(CamelToKebab("DescribeDBInstances"), "describe-db-instances");
  EXPECT_EQ(CamelToKebab("GetBucketACL"), "get-bucket-acl");
  EXPECT_EQ(CamelToKebab("DescribeVpcEndpoints"), "describe-vpc-endpoints");
}

TEST(Strings, UriEncodeKeepsUnreserved) {
  EXPECT_EQ(UriEncode("a b/c~d-e_f.g"), "a%20b%2Fc~d-e_f.g");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("é"), "%C3%A9");
}

TEST(Strings, UriDecodeToleratesBadEscapes) {
  EXPECT_EQ(UriDecode("%7B%22a%22%7D"), "{\"a\"}");
  EXPECT_EQ(UriDecode("100%"), "100%");
  EXPECT_EQ(UriDecode("%zz"), "%zz");
  EXPECT_EQ(UriDecode("a+b", true), "a b");
}

TEST(Strings, Base64RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\x10", 3)}) {
    std::string decoded;
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &decoded));
    EXPECT_EQ(decoded, s);
  }
  std::string out;
  EXPECT_FALSE(Base64Decode("ab$d", &out));
  EXPECT_FALSE(Base64Decode("ab=d", &out));
}

TEST(Strings, EditDistance) {
  EXPECT_EQ(EditDistance("ListUsers", "ListUser"), 1u);
  EXPECT_EQ(EditDistance("abc", "abc"), 0u);
}

}  // namespace
}  // namespace cloudaudit

TEST(WildcardMatch, StarsBacktrackAndTheCharacterTestDecides) {
  auto exact = [](char p, char t) { return p == t; };
  EXPECT_TRUE(cloudaudit::WildcardMatch("*", "", exact));
  EXPECT_TRUE(cloudaudit::WildcardMatch("Delete*", "DeleteTrail", exact));
  EXPECT_TRUE(cloudaudit::WildcardMatch("*a*b", "xxaxxab", exact));
  EXPECT_FALSE(cloudaudit::WildcardMatch("*a*b", "xxaxxba", exact));
  EXPECT_FALSE(cloudaudit::WildcardMatch("Delete", "DeleteTrail", exact));
  EXPECT_FALSE(cloudaudit::WildcardMatch("delete*", "DeleteTrail", exact));
  auto folded = [](char p, char t) { return p == '?' || std::tolower(static_cast<unsigned char>(p)) == std::tolower(static_cast<unsigned char>(t)); };
  EXPECT_TRUE(cloudaudit::WildcardMatch("s3:get?bject*", "S3:GetObjectAcl", folded));
  EXPECT_FALSE(cloudaudit::WildcardMatch("s3:get?bject", "S3:GetObjectAcl", folded));
}
