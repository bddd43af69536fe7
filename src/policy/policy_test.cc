#include "policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "base/strings.h"

namespace cloudaudit::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Policy MustParse(const std::string& text) {
  auto p = ParsePolicy(text);
  EXPECT_TRUE(p) << text << "\n" << (p ? "" : p.error().message);
  return p ? *p : Policy{};
}

// A policy of one statement.
std::string One(const std::string& statement) {
  return R"({"Version": "2012-10-17", "Statement": [)" + statement + "]}";
}

// A public-read statement with the given condition block (JSON object text).
std::string PublicWith(const std::string& condition) {
  return One(R"({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::b/*", "Condition": )" +
             condition + "}");
}

// --- Parsing ---------------------------------------------------------------------

TEST(ParsePolicy, NormalisesStatementAndValueForms) {
  Policy p = MustParse(R"({"Version": "2012-10-17", "Id": "x", "Statement": {
      "Sid": "One", "Effect": "Allow", "Principal": {"AWS": "111122223333", "Service": ["a.amazonaws.com"]},
      "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
      "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:PrincipalOrgPaths": "o-1/*"},
                    "Bool": {"aws:SecureTransport": true}, "NumericLessThan": {"s3:TlsVersion": 1.2}}}})");
  EXPECT_EQ(p.version, "2012-10-17");
  EXPECT_EQ(p.id, "x");
  ASSERT_EQ(p.statements.size(), 1u);
  const Statement& s = p.statements[0];
  EXPECT_EQ(s.sid, "One");
  EXPECT_EQ(s.effect, Effect::kAllow);
  EXPECT_TRUE(s.has_principal);
  EXPECT_THAT(s.principal.aws, ElementsAre("111122223333"));
  EXPECT_THAT(s.principal.service, ElementsAre("a.amazonaws.com"));
  EXPECT_THAT(s.actions, ElementsAre("s3:GetObject"));
  EXPECT_THAT(s.resources, ElementsAre("arn:aws:s3:::b/*"));
  ASSERT_EQ(s.conditions.size(), 3u);
  EXPECT_EQ(s.conditions[0].base_op, "stringlike");
  EXPECT_TRUE(s.conditions[0].if_exists);
  EXPECT_EQ(s.conditions[0].qualifier, SetQualifier::kForAnyValue);
  EXPECT_EQ(s.conditions[0].key_lower, "aws:principalorgpaths");
  EXPECT_THAT(s.conditions[1].values, ElementsAre("true"));
  EXPECT_EQ(s.conditions[1].base_op, "bool");
  EXPECT_THAT(s.conditions[2].values, ElementsAre("1.2"));
}

TEST(ParsePolicy, ReadsUrlEncodedDoubleEncodedAndPaddedText) {
  const std::string doc = One(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})");
  for (const std::string& text :
       {UriEncode(doc), "  \n" + doc + "\n", "\xEF\xBB\xBF" + doc, Json(doc).dump(), "  " + UriEncode(doc) + " "}) {
    auto p = ParsePolicy(text);
    ASSERT_TRUE(p) << text << ": " << p.error().message;
    ASSERT_EQ(p->statements.size(), 1u);
    EXPECT_THAT(p->statements[0].actions, ElementsAre("s3:*"));
  }
  // What IAM's GetPolicyVersion returns, verbatim.
  auto iam = ParsePolicy(
      "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A"
      "%22%2C%22Resource%22%3A%22%2A%22%7D%5D%7D");
  ASSERT_TRUE(iam) << iam.error().message;
  EXPECT_TRUE(GrantsFullAdmin(*iam));
}

TEST(ParsePolicy, AcceptsLenientSpellings) {
  // Element names in another case, principal account as a number, empty lists.
  Policy p = MustParse(R"({"statement": [{"effect": "allow", "principal": {"aws": 111122223333},
                           "action": [], "resource": []}]})");
  ASSERT_EQ(p.statements.size(), 1u);
  EXPECT_EQ(p.statements[0].effect, Effect::kAllow);
  EXPECT_THAT(p.statements[0].principal.aws, ElementsAre("111122223333"));
  EXPECT_THAT(MustParse(R"({"Statement": []})").statements, IsEmpty());
}

struct MalformedCase {
  const char* name;
  std::string text;
  const char* message;
};

TEST(ParsePolicy, RejectsMalformedDocumentsWithClearMessages) {
  const std::vector<MalformedCase> cases = {
      {"empty", "", "empty policy"},
      {"blank", "  \n ", "empty policy"},
      {"not json", "not json", "not valid JSON"},
      {"truncated", R"({"Statement": [)", "not valid JSON"},
      {"url-encoded garbage", "%7Bnope", "not valid JSON"},
      {"string without json", R"("just text")", "JSON string that does not hold valid JSON"},
      {"array", "[]", "must be a JSON object"},
      {"number", "5", "must be a JSON object"},
      {"no statement", R"({"Version": "2012-10-17"})", "no Statement"},
      {"statement number", R"({"Statement": 5})", "Statement must be an object or an array"},
      {"statement entry", R"({"Statement": [1]})", "Statement[0] must be an object"},
      {"version type", R"({"Version": 2012, "Statement": []})", "Version must be a string"},
      {"sid type", One(R"({"Sid": 1, "Effect": "Allow", "Action": "*"})"), "Statement[0].Sid must be a string"},
      {"no effect", One(R"({"Action": "*"})"), "Statement[0] has no Effect"},
      {"bad effect", One(R"({"Effect": "Maybe", "Action": "*"})"), "Effect must be \"Allow\" or \"Deny\""},
      {"no action", One(R"({"Effect": "Allow", "Resource": "*"})"), "neither Action nor NotAction"},
      {"both actions", One(R"({"Effect": "Allow", "Action": "*", "NotAction": "s3:*"})"), "both Action and NotAction"},
      {"action type", One(R"({"Effect": "Allow", "Action": 5})"), "Action must be a string or an array of strings"},
      {"action element", One(R"({"Effect": "Allow", "Action": ["s3:*", 1]})"),
       "Statement[0].Action[1] must be a string"},
      {"both resources", One(R"({"Effect": "Allow", "Action": "*", "Resource": "*", "NotResource": "*"})"),
       "both Resource and NotResource"},
      {"principal string", One(R"({"Effect": "Allow", "Principal": "arn:aws:iam::1:root", "Action": "*"})"),
       "Principal must be \"*\""},
      {"principal type", One(R"({"Effect": "Allow", "Principal": {"Bogus": "x"}, "Action": "*"})"),
       "unknown principal type \"Bogus\""},
      {"principal value", One(R"({"Effect": "Allow", "Principal": {"AWS": {"a": 1}}, "Action": "*"})"),
       "Principal.AWS must be a string"},
      {"both principals", One(R"({"Effect": "Allow", "Principal": "*", "NotPrincipal": "*", "Action": "*"})"),
       "both Principal and NotPrincipal"},
      {"condition type", One(R"({"Effect": "Allow", "Action": "*", "Condition": "x"})"), "Condition must be an object"},
      {"condition block", One(R"({"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": "x"}})"),
       "Condition.StringEquals must be an object of keys"},
      {"condition value", One(R"({"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": {"a": 1}}}})"),
       "Condition.StringEquals.k must be a string, number or boolean"},
      {"condition null", One(R"({"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": [null]}}})"),
       "Condition.StringEquals.k[0] must be a string, number or boolean"},
  };
  for (const auto& c : cases) {
    auto p = ParsePolicy(c.text);
    ASSERT_FALSE(p) << c.name;
    EXPECT_EQ(p.error().code, ErrorCode::kParse) << c.name;
    EXPECT_THAT(p.error().message, HasSubstr(c.message)) << c.name;
  }
}

TEST(ParsePolicy, ParsesJsonObjects) {
  auto p = ParsePolicyJson(Json::parse(One(R"({"Effect": "Deny", "Action": "*"})")));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->statements[0].effect, Effect::kDeny);
  EXPECT_FALSE(ParsePolicyJson(Json::array()));
}

TEST(NormalizedJson, WritesEveryValueAsAnArray) {
  Policy p = MustParse(R"({"Version": "2012-10-17", "Statement": {"Sid": "S", "Effect": "allow",
      "Principal": {"aws": "111122223333"}, "NotAction": "iam:*", "Resource": "*",
      "Condition": {"Bool": {"aws:SecureTransport": false}}}})");
  EXPECT_EQ(NormalizedJson(p).dump(),
            R"({"Version":"2012-10-17","Statement":[{"Sid":"S","Effect":"Allow","Principal":{"AWS":["111122223333"]},)"
            R"("NotAction":["iam:*"],"Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":["false"]}}}]})");
  Policy star = MustParse(One(R"({"Effect": "Deny", "NotPrincipal": "*", "Action": "*"})"));
  EXPECT_EQ(NormalizedJson(star).dump(),
            R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":["*"]},"Action":["*"]}]})");
  Policy open = MustParse(One(R"({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})"));
  EXPECT_EQ(NormalizedJson(open)["Statement"][0]["Principal"], Json::parse(R"({"AWS": ["*"]})"));
  EXPECT_TRUE(IsPublic(MustParse(NormalizedJson(open).dump())).is_public);
  // Normalising is idempotent.
  EXPECT_EQ(NormalizedJson(MustParse(NormalizedJson(p).dump())), NormalizedJson(p));
}

// --- Matching --------------------------------------------------------------------

struct MatchCase {
  const char* pattern;
  const char* value;
  bool matches;
};

TEST(ActionMatches, WildcardsAndCase) {
  const std::vector<MatchCase> cases = {
      {"s3:GetObject", "s3:GetObject", true},
      {"s3:GetObject", "S3:getobject", true},
      {"S3:GETOBJECT", "s3:GetObject", true},
      {"s3:Get*", "s3:GetObject", true},
      {"s3:Get*", "s3:GetBucketPolicy", true},
      {"s3:Get*", "s3:PutObject", false},
      {"s3:*Object", "s3:GetObject", true},
      {"s3:*Object", "s3:GetObjectAcl", false},
      {"s3:*Object*", "s3:GetObjectAcl", true},
      {"s3:Get?bject", "s3:GetObject", true},
      {"s3:Get?bject", "s3:GetObbject", false},
      {"s3:?", "s3:", false},
      {"*", "ec2:RunInstances", true},
      {"*:*", "ec2:RunInstances", true},
      {"s3:*", "s3express:CreateSession", false},
      {"s3*", "s3express:CreateSession", true},
      {"iam:PassRole", "iam:PassRoles", false},
      {"iam:*Role*", "iam:PassRole", true},
      {"", "", true},
      {"", "s3:GetObject", false},
  };
  for (const auto& c : cases) EXPECT_EQ(ActionMatches(c.pattern, c.value), c.matches) << c.pattern << " ~ " << c.value;
}

TEST(ResourceMatches, CaseSensitiveWithPolicyVariables) {
  const std::vector<MatchCase> cases = {
      {"arn:aws:s3:::b/*", "arn:aws:s3:::b/key", true},
      {"arn:aws:s3:::b/*", "arn:aws:s3:::B/key", false},
      {"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
      {"arn:aws:s3:::b*", "arn:aws:s3:::b", true},
      {"arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/x", true},
      {"arn:aws:s3:::b/${*}", "arn:aws:s3:::b/*", true},
      {"arn:aws:s3:::b/${*}", "arn:aws:s3:::b/key", false},
      {"arn:aws:s3:::b/${?}", "arn:aws:s3:::b/?", true},
      {"arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/alice/x", true},
      {"arn:aws:s3:::b/${aws:username", "arn:aws:s3:::b/${aws:username", true},
  };
  for (const auto& c : cases)
    EXPECT_EQ(ResourceMatches(c.pattern, c.value), c.matches) << c.pattern << " ~ " << c.value;
}

// --- Public access ---------------------------------------------------------------

struct PublicCase {
  const char* name;
  std::string policy;
  bool is_public;
};

TEST(IsPublic, PrincipalForms) {
  const std::vector<PublicCase> cases = {
      {"star", One(R"({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"})"), true},
      {"aws star", One(R"({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject"})"), true},
      {"aws star array", One(R"({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "s3:GetObject"})"), true},
      {"star among accounts",
       One(R"({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "*"]}, "Action": "*"})"),
       true},
      {"wildcard account",
       One(R"({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::*:root"}, "Action": "sts:AssumeRole"})"), true},
      {"wildcard within an account",
       One(R"({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/*"}, "Action": "*"})"), false},
      {"wildcard account id", One(R"({"Effect": "Allow", "Principal": {"AWS": "1111*"}, "Action": "*"})"), true},
      {"one account",
       One(R"({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "*"})"), false},
      {"bare account", One(R"({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "*"})"), false},
      {"service",
       One(R"({"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject"})"),
       false},
      {"federated",
       One(R"({"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::111122223333:saml-provider/x"}, "Action": "sts:AssumeRoleWithSAML"})"),
       false},
      {"canonical user",
       One(R"({"Effect": "Allow", "Principal": {"CanonicalUser": "79a59df9"}, "Action": "s3:GetObject"})"), false},
      {"identity policy", One(R"({"Effect": "Allow", "Action": "*", "Resource": "*"})"), false},
      {"deny star", One(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*"})"), false},
      {"allow not principal",
       One(R"({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/x"}, "Action": "s3:GetObject"})"),
       true},
      {"allow not principal star", One(R"({"Effect": "Allow", "NotPrincipal": "*", "Action": "s3:GetObject"})"), false},
      {"empty statements", R"({"Statement": []})", false},
  };
  for (const auto& c : cases) EXPECT_EQ(IsPublic(MustParse(c.policy)).is_public, c.is_public) << c.name;
}

TEST(IsPublic, ConditionsThatRestrictAndThatDoNot) {
  const std::vector<PublicCase> cases = {
      // Network.
      {"vpce", PublicWith(R"({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})"), false},
      {"vpce list", PublicWith(R"({"StringEquals": {"aws:SourceVpce": ["vpce-1", "vpce-2"]}})"), false},
      {"vpce like star", PublicWith(R"({"StringLike": {"aws:SourceVpce": "*"}})"), true},
      {"vpce like prefix", PublicWith(R"({"StringLike": {"aws:SourceVpce": "vpce-*"}})"), true},
      {"vpce like concrete", PublicWith(R"({"StringLike": {"aws:SourceVpce": "vpce-1a2b3c4d"}})"), false},
      {"vpc if exists", PublicWith(R"({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}})"), true},
      {"vpc for all values", PublicWith(R"({"ForAllValues:StringEquals": {"aws:SourceVpc": "vpc-1"}})"), true},
      {"vpc null check", PublicWith(R"({"Null": {"aws:SourceVpce": "false"}})"), true},
      {"ip world", PublicWith(R"({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})"), true},
      {"ip world v6", PublicWith(R"({"IpAddress": {"aws:SourceIp": "::/0"}})"), true},
      {"ip private", PublicWith(R"({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})"), false},
      {"ip host", PublicWith(R"({"IpAddress": {"aws:SourceIp": "203.0.113.7"}})"), false},
      {"ip v6 range", PublicWith(R"({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}})"), false},
      {"ip v6 wide", PublicWith(R"({"IpAddress": {"aws:SourceIp": "2000::/3"}})"), true},
      {"ip one of world", PublicWith(R"({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}})"), true},
      {"ip halves", PublicWith(R"({"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}})"), true},
      {"ip malformed", PublicWith(R"({"IpAddress": {"aws:SourceIp": "10.0.0.0/99"}})"), true},
      {"ip not address", PublicWith(R"({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}})"), true},
      {"ip if exists", PublicWith(R"({"IpAddressIfExists": {"aws:SourceIp": "10.0.0.0/8"}})"), true},
      {"vpc source ip", PublicWith(R"({"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/16"}})"), true},
      // Organizations and accounts.
      {"org id", PublicWith(R"({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})"), false},
      {"org id ignore case", PublicWith(R"({"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "o-abc123"}})"), false},
      {"org id like any", PublicWith(R"({"StringLike": {"aws:PrincipalOrgID": "o-*"}})"), true},
      {"org paths", PublicWith(R"({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/*"}})"), false},
      {"org paths any org", PublicWith(R"({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "*/r-ab12/*"}})"), true},
      {"org id for all values", PublicWith(R"({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})"),
       true},
      {"source account", PublicWith(R"({"StringEquals": {"aws:SourceAccount": "111122223333"}})"), false},
      {"source account key case", PublicWith(R"({"StringEquals": {"AWS:SOURCEACCOUNT": "111122223333"}})"), false},
      {"operator case", PublicWith(R"({"stringequals": {"aws:sourceaccount": "111122223333"}})"), false},
      {"source account for any value",
       PublicWith(R"({"ForAnyValue:StringEquals": {"aws:SourceAccount": "111122223333"}})"), false},
      {"source account literal star", PublicWith(R"({"StringEquals": {"aws:SourceAccount": "*"}})"), false},
      {"source account like star", PublicWith(R"({"StringLike": {"aws:SourceAccount": "*"}})"), true},
      {"source account not equals", PublicWith(R"({"StringNotEquals": {"aws:SourceAccount": "111122223333"}})"), true},
      {"principal account", PublicWith(R"({"StringEquals": {"aws:PrincipalAccount": ["111122223333"]}})"), false},
      {"source owner", PublicWith(R"({"StringEquals": {"AWS:SourceOwner": "111122223333"}})"), false},
      {"kms caller account",
       PublicWith(
           R"({"StringEquals": {"kms:CallerAccount": "111122223333", "kms:ViaService": "ec2.us-east-1.amazonaws.com"}})"),
       false},
      {"kms via service only", PublicWith(R"({"StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}})"),
       true},
      {"called via", PublicWith(R"({"ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}})"), true},
      {"resource account", PublicWith(R"({"StringEquals": {"aws:ResourceAccount": "111122223333"}})"), true},
      {"access point account", PublicWith(R"({"StringEquals": {"s3:DataAccessPointAccount": "111122223333"}})"), false},
      // ARNs.
      {"source arn trail", PublicWith(R"({"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:111122223333:trail/*"}})"),
       false},
      {"source arn bucket", PublicWith(R"({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::my-bucket"}})"), false},
      {"source arn any bucket", PublicWith(R"({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}})"), true},
      {"source arn any account", PublicWith(R"({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:*:topic"}})"), true},
      {"source arn short", PublicWith(R"({"ArnLike": {"aws:SourceArn": "arn:aws:*"}})"), true},
      {"principal arn any account", PublicWith(R"({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}})"),
       true},
      {"principal arn account", PublicWith(R"({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:*"}})"),
       false},
      {"principal arn string like", PublicWith(R"({"StringLike": {"aws:PrincipalArn": "arn:aws:iam::1111*"}})"), true},
      {"principal arn string equals wildcard",
       PublicWith(R"({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}})"), false},
      {"arn operator on account key", PublicWith(R"({"ArnEquals": {"aws:SourceAccount": "111122223333"}})"), true},
      // Identity and caller-controlled keys.
      {"user name", PublicWith(R"({"StringEquals": {"aws:username": "alice"}})"), true},
      {"user id", PublicWith(R"({"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})"), false},
      {"user id any", PublicWith(R"({"StringLike": {"aws:userid": "*:alice"}})"), true},
      {"user id anonymous", PublicWith(R"({"StringEquals": {"aws:userid": "anonymous"}})"), true},
      {"secure transport", PublicWith(R"({"Bool": {"aws:SecureTransport": "true"}})"), true},
      {"referer", PublicWith(R"({"StringLike": {"aws:Referer": "https://example.com/*"}})"), true},
      {"principal tag", PublicWith(R"({"StringEquals": {"aws:PrincipalTag/team": "ops"}})"), true},
      {"external id", PublicWith(R"({"StringEquals": {"sts:ExternalId": "secret"}})"), true},
      {"mfa", PublicWith(R"({"Bool": {"aws:MultiFactorAuthPresent": "true"}})"), true},
      {"sns endpoint", PublicWith(R"({"StringEquals": {"sns:Endpoint": "arn:aws:sqs:us-east-1:111122223333:q"}})"),
       false},
      {"sns endpoint pattern", PublicWith(R"({"StringLike": {"sns:Endpoint": "*@example.com"}})"), true},
      {"efs mount target", PublicWith(R"({"Bool": {"elasticfilesystem:AccessedViaMountTarget": "true"}})"), false},
      {"efs mount target false", PublicWith(R"({"Bool": {"elasticfilesystem:AccessedViaMountTarget": false}})"), true},
      // Several clauses: one restricting one is enough (they are ANDed).
      {"secure transport and vpc",
       PublicWith(R"({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceVpc": "vpc-1"}})"), false},
      {"two non-restricting",
       PublicWith(R"({"Bool": {"aws:SecureTransport": "true"}, "StringLike": {"aws:SourceVpc": "*"}})"), true},
  };
  for (const auto& c : cases) EXPECT_EQ(IsPublic(MustParse(c.policy)).is_public, c.is_public) << c.name;
}

std::string AllowAndDeny(const std::string& deny) {
  return R"({"Statement": [{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::b/*"}, )" +
         deny + "]}";
}

TEST(IsPublic, DenyStatementsThatFenceAPublicAllow) {
  const std::vector<PublicCase> cases = {
      {"deny outside org",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})"),
       false},
      {"deny outside org if exists", AllowAndDeny(R"({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "*",
                        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}})"),
       false},
      {"deny outside vpce",
       AllowAndDeny(
           R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                        "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}})"),
       false},
      {"deny outside ip range", AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                        "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}})"),
       false},
      {"deny for any value", AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                        "Condition": {"ForAnyValue:StringNotLike": {"aws:PrincipalOrgPaths": "o-abc123/*"}}})"),
       true},
      {"deny covers fewer actions",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})"),
       true},
      {"deny covers other resources",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::other/*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})"),
       true},
      {"deny not action",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "NotAction": "s3:PutObject", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})"),
       false},
      {"deny not action excluding the grant",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "NotAction": "s3:Get*", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}})"),
       true},
      {"deny insecure transport only",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}})"),
       true},
      {"deny with an extra non-restricting clause",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-1"}, "Bool": {"aws:SecureTransport": "false"}}})"),
       true},
      {"unconditional deny of everything", AllowAndDeny(R"({"Effect": "Deny", "Principal": "*", "Action": "*"})"),
       false},
      {"deny everyone but a role",
       AllowAndDeny(R"({"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/reader"},
                        "Action": "s3:*", "Resource": "*"})"),
       false},
      {"deny a named principal",
       AllowAndDeny(R"({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:role/x"}, "Action": "*"})"),
       true},
  };
  for (const auto& c : cases) EXPECT_EQ(IsPublic(MustParse(c.policy)).is_public, c.is_public) << c.name;
  PublicOptions no_guards;
  no_guards.honour_deny_guards = false;
  EXPECT_TRUE(IsPublic(MustParse(cases[0].policy), no_guards).is_public);
}

TEST(IsPublic, ReportsTheResponsibleStatements) {
  Policy p = MustParse(R"({"Statement": [
      {"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectVersion"]},
      {"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
       "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}},
      {"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "NotAction": "s3:Delete*"}]})");
  PublicResult r = IsPublic(p);
  ASSERT_TRUE(r.is_public);
  ASSERT_EQ(r.statements.size(), 2u);
  EXPECT_EQ(r.statements[0].index, 0u);
  EXPECT_EQ(r.statements[0].sid, "Read");
  EXPECT_THAT(r.statements[0].actions, ElementsAre("s3:GetObject", "s3:GetObjectVersion"));
  EXPECT_FALSE(r.statements[0].not_action);
  EXPECT_EQ(r.statements[1].index, 2u);
  EXPECT_EQ(r.statements[1].sid, "");
  EXPECT_TRUE(r.statements[1].not_action);
  EXPECT_TRUE(r.statements[1].via_not_principal);
}

TEST(IsPublic, WideRangeLimitsAreOptions) {
  Policy p = MustParse(PublicWith(R"({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})"));
  PublicOptions strict;
  strict.min_ipv4_prefix = 16;
  EXPECT_TRUE(IsPublic(p, strict).is_public);
  EXPECT_FALSE(IsPublic(p).is_public);
}

// --- Principals ------------------------------------------------------------------

TEST(AccountOfPrincipal, ExtractsAccountIds) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"123456789012", "123456789012"},
      {"arn:aws:iam::123456789012:root", "123456789012"},
      {"arn:aws:iam::123456789012:role/x", "123456789012"},
      {"arn:aws:iam::123456789012:user/path/alice", "123456789012"},
      {"arn:aws:sts::123456789012:assumed-role/r/session", "123456789012"},
      {"arn:aws-cn:iam::123456789012:root", "123456789012"},
      {"arn:aws:cloudtrail:us-east-1:123456789012:trail/t", "123456789012"},
      {"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1", ""},
      {"arn:aws:s3:::bucket", ""},
      {"AROAEXAMPLEID", ""},
      {"*", ""},
      {"12345678901", ""},
      {"1234567890123", ""},
      {"cloudtrail.amazonaws.com", ""},
  };
  for (const auto& [value, account] : cases) EXPECT_EQ(AccountOfPrincipal(value), account) << value;
}

TEST(GrantedPrincipals, CollectsAllowedPrincipalsSortedAndUnique) {
  Policy p = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222233334444:role/b", "111122223333",
                                                "arn:aws:iam::222233334444:root", "AROAEXAMPLEID"]},
       "Action": "s3:GetObject"},
      {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"],
                                        "Federated": "cognito-identity.amazonaws.com"},
       "Action": "sts:AssumeRole"},
      {"Effect": "Allow", "Principal": {"CanonicalUser": "79a59df9"}, "Action": "s3:GetObject"},
      {"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "*"}]})");
  Grantees g = GrantedPrincipals(p);
  EXPECT_FALSE(g.everyone);
  EXPECT_THAT(g.accounts, ElementsAre("111122223333", "222233334444"));
  EXPECT_THAT(g.aws, ElementsAre("111122223333", "AROAEXAMPLEID", "arn:aws:iam::222233334444:role/b",
                                 "arn:aws:iam::222233334444:root"));
  EXPECT_THAT(g.services, ElementsAre("ec2.amazonaws.com", "lambda.amazonaws.com"));
  EXPECT_THAT(g.federated, ElementsAre("cognito-identity.amazonaws.com"));
  EXPECT_THAT(g.canonical_users, ElementsAre("79a59df9"));
}

TEST(GrantedPrincipals, TakesAccountsFromConditionsOfWildcardAndServicePrincipals) {
  Policy p = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "SNS:Publish",
       "Condition": {"StringEquals": {"AWS:SourceOwner": "111122223333"}}},
      {"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "lambda:InvokeFunction",
       "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}, "StringEquals": {"aws:SourceAccount": "444455556666"}}},
      {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
       "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:777788889999:trail/t"}}},
      {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222233334444:root"}, "Action": "s3:GetObject",
       "Condition": {"StringEquals": {"aws:SourceAccount": "555555555555"}}}]})");
  Grantees g = GrantedPrincipals(p);
  EXPECT_TRUE(g.everyone);
  EXPECT_THAT(GrantedPrincipals(MustParse(One(R"({"Effect": "Allow", "Action": "*",
                  "Principal": {"AWS": "arn:aws:iam::333344445555:role/*"}})")))
                  .accounts,
              ElementsAre("333344445555"));
  EXPECT_THAT(g.accounts, ElementsAre("111122223333", "222233334444", "444455556666", "777788889999"));
}

TEST(ExternalAccounts, LeavesOutOwnAndTrustedAccounts) {
  Policy p = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::222233334444:role/r",
                                                "333344445555"]}, "Action": "s3:GetObject"}]})");
  ExternalAccess a = ExternalAccounts(p, "111122223333", {"333344445555"});
  EXPECT_THAT(a.accounts, ElementsAre("222233334444"));
  EXPECT_FALSE(a.is_public);
  EXPECT_THAT(ExternalAccounts(p, "999999999999").accounts,
              ElementsAre("111122223333", "222233334444", "333344445555"));
}

TEST(ExternalAccounts, AcceptsOwnAndTrustedAccountsAsArns) {
  Policy p = MustParse(R"({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
      "Principal": {"AWS": ["111122223333", "arn:aws:iam::222233334444:role/r", "333344445555"]}}]})");
  EXPECT_THAT(ExternalAccounts(p, "arn:aws:iam::111122223333:root", {"arn:aws:iam::333344445555:root"}).accounts,
              ElementsAre("222233334444"));
}

TEST(ExternalAccounts, ReportsPublicAccessSeparately) {
  Policy open = MustParse(One(R"({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"})"));
  ExternalAccess a = ExternalAccounts(open, "111122223333");
  EXPECT_TRUE(a.is_public);
  EXPECT_THAT(a.accounts, IsEmpty());
  Policy fenced = MustParse(PublicWith(R"({"StringEquals": {"aws:PrincipalOrgID": "o-1"}})"));
  EXPECT_FALSE(ExternalAccounts(fenced, "111122223333").is_public);
}

// --- Allows ------------------------------------------------------------------------

struct AllowsCase {
  const char* name;
  std::string policy;
  const char* action;
  const char* resource;
  Access expected;
};

TEST(Allows, ActionsResourcesDenyAndConditions) {
  const std::string get_star = One(R"({"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"})");
  const std::string object_suffix = One(R"({"Effect": "Allow", "Action": "s3:*Object", "Resource": "*"})");
  const std::string question = One(R"({"Effect": "Allow", "Action": "s3:Get?bject", "Resource": "*"})");
  const std::string upper = One(R"({"Effect": "Allow", "Action": "S3:GETOBJECT", "Resource": "*"})");
  const std::string not_iam = One(R"({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"})");
  const std::string bucket = One(R"({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})");
  const std::string not_secret =
      One(R"({"Effect": "Allow", "Action": "s3:*", "NotResource": ["arn:aws:s3:::secret", "arn:aws:s3:::secret/*"]})");
  const std::string deny_delete = R"({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"}]})";
  const std::string deny_http = R"({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]})";
  const std::string mfa = One(R"({"Effect": "Allow", "Action": "iam:*", "Resource": "*",
                                  "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})");
  const std::string region_only = R"({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"},
      {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}]})";
  const std::string home = One(R"({"Effect": "Allow", "Action": "s3:GetObject",
                                   "Resource": "arn:aws:s3:::home/${aws:username}/*"})");
  const std::string partition_all = One(R"({"Effect": "Allow", "Action": "ec2:*", "Resource": "arn:aws:*:*:*:*"})");
  const std::string trust =
      One(R"({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})");
  const std::string deny_secret = R"({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"}]})";
  const std::string deny_other_bucket = R"({"Statement": [
      {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
      {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"}]})";
  const std::string deny_not_resource = R"({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/*"}]})";

  const std::vector<AllowsCase> cases = {
      {"prefix wildcard", get_star, "s3:GetObject", "*", Access::kAllowed},
      {"prefix wildcard other", get_star, "s3:PutObject", "*", Access::kNotAllowed},
      {"suffix wildcard", object_suffix, "s3:PutObject", "*", Access::kAllowed},
      {"suffix wildcard other", object_suffix, "s3:GetObjectAcl", "*", Access::kNotAllowed},
      {"single character", question, "s3:GetObject", "*", Access::kAllowed},
      {"case-insensitive pattern", upper, "s3:GetObject", "*", Access::kAllowed},
      {"case-insensitive query", get_star, "S3:GETOBJECT", "*", Access::kAllowed},
      {"not action allows others", not_iam, "s3:GetObject", "*", Access::kAllowed},
      {"not action excludes", not_iam, "iam:CreateUser", "*", Access::kNotAllowed},
      {"not action excludes case", not_iam, "IAM:CreateUser", "*", Access::kNotAllowed},
      {"resource match", bucket, "s3:GetObject", "arn:aws:s3:::b/key", Access::kAllowed},
      {"resource other bucket", bucket, "s3:GetObject", "arn:aws:s3:::c/key", Access::kNotAllowed},
      {"resource case-sensitive", bucket, "s3:GetObject", "arn:aws:s3:::B/key", Access::kNotAllowed},
      {"resource not all", bucket, "s3:GetObject", "*", Access::kNotAllowed},
      {"resource query wildcard covered", bucket, "s3:GetObject", "arn:aws:s3:::b/logs/*", Access::kAllowed},
      {"not resource elsewhere", not_secret, "s3:GetObject", "arn:aws:s3:::public/x", Access::kAllowed},
      {"not resource excluded", not_secret, "s3:GetObject", "arn:aws:s3:::secret/x", Access::kNotAllowed},
      {"not resource not all", not_secret, "s3:GetObject", "*", Access::kNotAllowed},
      {"deny overrides", deny_delete, "s3:DeleteBucket", "*", Access::kNotAllowed},
      {"deny leaves others", deny_delete, "s3:GetObject", "*", Access::kAllowed},
      {"deny blocks all of service", deny_delete, "s3:*", "*", Access::kNotAllowed},
      {"conditional deny", deny_http, "s3:GetObject", "*", Access::kAllowedWithConditions},
      {"conditional allow", mfa, "iam:CreateUser", "*", Access::kAllowedWithConditions},
      {"deny not action", region_only, "ec2:RunInstances", "*", Access::kNotAllowed},
      {"deny not action spares", region_only, "iam:ListUsers", "*", Access::kAllowed},
      {"query service wildcard", get_star, "s3:*", "*", Access::kNotAllowed},
      {"query service wildcard covered", deny_http, "s3:*", "*", Access::kAllowedWithConditions},
      {"query get wildcard covered", get_star, "s3:Get*", "*", Access::kAllowed},
      {"query everything", get_star, "*", "*", Access::kNotAllowed},
      {"policy variable", home, "s3:GetObject", "arn:aws:s3:::home/alice/notes", Access::kAllowedWithConditions},
      {"policy variable other prefix", home, "s3:GetObject", "arn:aws:s3:::work/alice/x", Access::kNotAllowed},
      {"partition wildcard is all", partition_all, "ec2:RunInstances", "*", Access::kAllowed},
      {"no resource element", trust, "sts:AssumeRole", "*", Access::kAllowed},
      {"trust other action", trust, "sts:AssumeRoleWithWebIdentity", "*", Access::kNotAllowed},
      {"deny part of all resources", deny_secret, "s3:GetObject", "*", Access::kNotAllowed},
      {"deny other resource", deny_secret, "s3:GetObject", "arn:aws:s3:::public/x", Access::kAllowed},
      {"deny denied resource", deny_secret, "s3:GetObject", "arn:aws:s3:::secret/x", Access::kNotAllowed},
      {"deny other bucket spares", deny_other_bucket, "s3:GetObject", "arn:aws:s3:::b/k", Access::kAllowed},
      {"deny not resource spares", deny_not_resource, "s3:GetObject", "arn:aws:s3:::b/k", Access::kAllowed},
      {"deny not resource blocks", deny_not_resource, "s3:GetObject", "arn:aws:s3:::c/k", Access::kNotAllowed},
      {"nothing", R"({"Statement": []})", "s3:GetObject", "*", Access::kNotAllowed},
  };
  for (const auto& c : cases) EXPECT_EQ(Allows(MustParse(c.policy), c.action, c.resource), c.expected) << c.name;
  EXPECT_EQ(Allows(MustParse(get_star), "s3:GetObject"), Access::kAllowed) << "resource defaults to *";
}

TEST(Allows, DenyReachesOnlyThePrincipalsItNames) {
  auto policy = [](const std::string& allow_principal, const std::string& deny_principal) {
    return R"({"Statement": [{"Effect": "Allow", "Principal": )" + allow_principal +
           R"(, "Action": "s3:GetObject", "Resource": "*"}, {"Effect": "Deny", )" + deny_principal +
           R"(, "Action": "s3:*", "Resource": "*"}]})";
  };
  const std::string a = R"({"AWS": "arn:aws:iam::111122223333:root"})";
  const std::vector<AllowsCase> cases = {
      {"same principal", policy(a, R"("Principal": {"AWS": "arn:aws:iam::111122223333:root"})"), "s3:GetObject", "*",
       Access::kNotAllowed},
      {"same account other spelling", policy(a, R"("Principal": {"AWS": "111122223333"})"), "s3:GetObject", "*",
       Access::kNotAllowed},
      {"other principal", policy(a, R"("Principal": {"AWS": "222233334444"})"), "s3:GetObject", "*", Access::kAllowed},
      {"everyone denied", policy(a, R"("Principal": "*")"), "s3:GetObject", "*", Access::kNotAllowed},
      {"some of everyone denied", policy(R"("*")", R"("Principal": {"AWS": "222233334444"})"), "s3:GetObject", "*",
       Access::kAllowedWithConditions},
      {"not principal excepts the grantee", policy(a, R"("NotPrincipal": {"AWS": "111122223333"})"), "s3:GetObject",
       "*", Access::kAllowed},
      {"not principal excepts another", policy(a, R"("NotPrincipal": {"AWS": "222233334444"})"), "s3:GetObject", "*",
       Access::kNotAllowed},
  };
  for (const auto& c : cases) EXPECT_EQ(Allows(MustParse(c.policy), c.action, c.resource), c.expected) << c.name;
}

// --- Admin, wildcards, transport, condition keys ------------------------------------

struct BoolCase {
  const char* name;
  std::string policy;
  bool expected;
};

TEST(GrantsFullAdmin, OnlyUnconditionalStarOnStar) {
  const std::vector<BoolCase> cases = {
      {"star", One(R"({"Effect": "Allow", "Action": "*", "Resource": "*"})"), true},
      {"star colon star", One(R"({"Effect": "Allow", "Action": "*:*", "Resource": "*"})"), true},
      {"arrays", One(R"({"Effect": "Allow", "Action": ["s3:GetObject", "*"], "Resource": ["arn:aws:*:*:*:*"]})"), true},
      {"arn star", One(R"({"Effect": "Allow", "Action": "*", "Resource": "arn:*"})"), true},
      {"empty not action", One(R"({"Effect": "Allow", "NotAction": [], "Resource": "*"})"), true},
      {"not action", One(R"({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})"), false},
      {"service star", One(R"({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})"), false},
      {"one bucket", One(R"({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::*"})"), false},
      {"not resource", One(R"({"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"})"), false},
      {"conditional", One(R"({"Effect": "Allow", "Action": "*", "Resource": "*",
                              "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})"),
       false},
      {"deny", One(R"({"Effect": "Deny", "Action": "*", "Resource": "*"})"), false},
  };
  for (const auto& c : cases) EXPECT_EQ(GrantsFullAdmin(MustParse(c.policy)), c.expected) << c.name;
}

TEST(ServiceWildcards, ListsWildcardActionsOnAllResources) {
  Policy p = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Action": ["s3:*", "iam:Get*", "ec2:DescribeInstances", "S3:*"], "Resource": "*"},
      {"Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:111122223333:key/k"},
      {"Effect": "Allow", "Action": "*"},
      {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}]})");
  EXPECT_THAT(ServiceWildcards(p), ElementsAre("*", "iam:Get*", "s3:*"));
  EXPECT_THAT(ServiceWildcards(MustParse(One(R"({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})"))),
              IsEmpty());
}

TEST(DeniesInsecureTransport, RecognisesTheDenyStatement) {
  auto deny = [](const std::string& principal, const std::string& action, const std::string& condition) {
    return R"({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:*"},
        {"Effect": "Deny", "Principal": )" +
           principal + R"(, "Action": )" + action +
           R"(, "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": )" + condition + "}]}";
  };
  const std::string http = R"({"Bool": {"aws:SecureTransport": "false"}})";
  const std::vector<BoolCase> cases = {
      {"standard", deny(R"("*")", R"("s3:*")", http), true},
      {"aws star", deny(R"({"AWS": "*"})", R"("s3:*")", http), true},
      {"all actions", deny(R"("*")", R"("*")", http), true},
      {"action list", deny(R"("*")", R"(["s3:GetObject", "s3:*"])", http), true},
      {"if exists", deny(R"("*")", R"("s3:*")", R"({"BoolIfExists": {"aws:SecureTransport": "false"}})"), true},
      {"boolean value", deny(R"("*")", R"("s3:*")", R"({"Bool": {"aws:SecureTransport": false}})"), true},
      {"key case", deny(R"("*")", R"("s3:*")", R"({"bool": {"AWS:SECURETRANSPORT": "False"}})"), true},
      {"some actions", deny(R"("*")", R"("s3:GetObject")", http), false},
      {"get wildcard", deny(R"("*")", R"("s3:Get*")", http), false},
      {"one principal", deny(R"({"AWS": "111122223333"})", R"("s3:*")", http), false},
      {"true value", deny(R"("*")", R"("s3:*")", R"({"Bool": {"aws:SecureTransport": "true"}})"), false},
      {"narrowed",
       deny(R"("*")", R"("s3:*")",
            R"({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:SourceVpce": "vpce-1"}})"),
       false},
      {"tls version only", deny(R"("*")", R"("s3:*")", R"({"NumericLessThan": {"s3:TlsVersion": 1.2}})"), false},
      {"allow secure only", One(R"({"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                                    "Condition": {"Bool": {"aws:SecureTransport": "true"}}})"),
       false},
  };
  for (const auto& c : cases) EXPECT_EQ(DeniesInsecureTransport(MustParse(c.policy)), c.expected) << c.name;
}

TEST(HasConditionKey, MatchesKeysCaseInsensitively) {
  Policy p = MustParse(R"({"Statement": [
      {"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-1"}}},
      {"Effect": "Deny", "Action": "*", "Condition": {"StringNotEquals": {"aws:PrincipalTag/Team": "ops"}}}]})");
  EXPECT_TRUE(HasConditionKey(p, "aws:SourceVpc"));
  EXPECT_TRUE(HasConditionKey(p, "aws:sourcevpc"));
  EXPECT_TRUE(HasConditionKey(p, "AWS:SOURCEVPC"));
  EXPECT_TRUE(HasConditionKey(p, "aws:PrincipalTag/*"));
  EXPECT_TRUE(HasConditionKey(p, "aws:principaltag/team"));
  EXPECT_FALSE(HasConditionKey(p, "aws:SourceVpce"));
  EXPECT_FALSE(HasConditionKey(p, "aws:SourceIp"));
  EXPECT_FALSE(HasConditionKey(MustParse(One(R"({"Effect": "Allow", "Action": "*"})")), "aws:SourceVpc"));
}

// --- Examples from the AWS documentation --------------------------------------------

TEST(AwsExamples, PublicReadWebsiteBucketIsPublic) {
  Policy p = MustParse(R"({
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
                   "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::Bucket-Name/*"]}]})");
  PublicResult r = IsPublic(p);
  ASSERT_TRUE(r.is_public);
  ASSERT_EQ(r.statements.size(), 1u);
  EXPECT_EQ(r.statements[0].sid, "PublicReadGetObject");
  EXPECT_THAT(r.statements[0].actions, ElementsAre("s3:GetObject"));
  EXPECT_EQ(Allows(p, "s3:GetObject", "arn:aws:s3:::Bucket-Name/index.html"), Access::kAllowed);
  EXPECT_EQ(Allows(p, "s3:PutObject", "arn:aws:s3:::Bucket-Name/index.html"), Access::kNotAllowed);
  EXPECT_FALSE(DeniesInsecureTransport(p));
}

TEST(AwsExamples, CloudTrailBucketPolicyIsNotPublic) {
  Policy p = MustParse(R"({
    "Version": "2012-10-17",
    "Statement": [
      {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
       "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
       "Resource": "arn:aws:s3:::amzn-s3-demo-bucket",
       "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/trailName"}}},
      {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow",
       "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
       "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/AWSLogs/111122223333/*",
       "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                      "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111122223333:trail/trailName"}}}]})");
  EXPECT_FALSE(IsPublic(p).is_public);
  EXPECT_THAT(GrantedPrincipals(p).services, ElementsAre("cloudtrail.amazonaws.com"));
  EXPECT_THAT(ExternalAccounts(p, "111122223333").accounts, IsEmpty());
  EXPECT_THAT(ExternalAccounts(p, "999999999999").accounts, ElementsAre("111122223333"));
  EXPECT_TRUE(HasConditionKey(p, "aws:SourceArn"));
  EXPECT_EQ(Allows(p, "s3:PutObject", "arn:aws:s3:::amzn-s3-demo-bucket/AWSLogs/111122223333/x"),
            Access::kAllowedWithConditions);
}

TEST(AwsExamples, CrossAccountRoleTrustListsTheExternalAccount) {
  Policy p = MustParse(R"({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                   "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]})");
  EXPECT_FALSE(IsPublic(p).is_public);
  EXPECT_THAT(GrantedPrincipals(p).accounts, ElementsAre("444455556666"));
  EXPECT_THAT(ExternalAccounts(p, "111122223333").accounts, ElementsAre("444455556666"));
  EXPECT_THAT(ExternalAccounts(p, "111122223333", {"444455556666"}).accounts, IsEmpty());
  EXPECT_EQ(Allows(p, "sts:AssumeRole"), Access::kAllowedWithConditions);
}

TEST(AwsExamples, VpcEndpointOnlyBucketIsNotPublic) {
  Policy p = MustParse(R"({
    "Version": "2012-10-17", "Id": "Policy1415115909152",
    "Statement": [{"Sid": "Access-to-specific-VPCE-only", "Principal": "*", "Action": "s3:*", "Effect": "Deny",
                   "Resource": ["arn:aws:s3:::awsexamplebucket1", "arn:aws:s3:::awsexamplebucket1/*"],
                   "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}]})");
  EXPECT_FALSE(IsPublic(p).is_public);
  EXPECT_FALSE(DeniesInsecureTransport(p));
  EXPECT_TRUE(HasConditionKey(p, "aws:sourcevpce"));
}

TEST(AwsExamples, DefaultTopicAndKeyPolicies) {
  // SNS's default topic policy: everyone, limited to the owner's account.
  Policy topic = MustParse(R"({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
      "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
      "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                 "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
      "Resource": "arn:aws:sns:us-east-1:111122223333:t",
      "Condition": {"StringEquals": {"AWS:SourceOwner": "111122223333"}}}]})");
  EXPECT_FALSE(IsPublic(topic).is_public);
  EXPECT_THAT(GrantedPrincipals(topic).accounts, ElementsAre("111122223333"));
  EXPECT_THAT(ExternalAccounts(topic, "111122223333").accounts, IsEmpty());
  // KMS's default key policy: the account's root.
  Policy key = MustParse(R"({"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
      "Sid": "Enable IAM User Permissions", "Effect": "Allow",
      "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*", "Resource": "*"}]})");
  EXPECT_FALSE(IsPublic(key).is_public);
  EXPECT_FALSE(GrantsFullAdmin(key));
  EXPECT_THAT(ServiceWildcards(key), ElementsAre("kms:*"));
  EXPECT_EQ(Allows(key, "kms:Decrypt"), Access::kAllowed);
  // An SQS queue policy letting one SNS topic send.
  Policy queue = MustParse(R"({"Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
      "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-2:123456789012:MyQueue",
      "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:us-east-2:123456789012:MyTopic"}}}]})");
  EXPECT_FALSE(IsPublic(queue).is_public);
  EXPECT_THAT(GrantedPrincipals(queue).services, ElementsAre("sns.amazonaws.com"));
  EXPECT_THAT(ExternalAccounts(queue, "123456789012").accounts, IsEmpty());
}

TEST(AwsExamples, OrganizationWideBucketAccessIsNotPublic) {
  Policy p = MustParse(R"({"Version": "2012-10-17", "Statement": [{"Sid": "AllowGetObject",
      "Principal": {"AWS": "*"}, "Effect": "Allow", "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/*",
      "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-aa111bb222"]}}}]})");
  EXPECT_FALSE(IsPublic(p).is_public);
  EXPECT_THAT(ExternalAccounts(p, "111122223333").accounts, IsEmpty());
}

// Mutated documents must parse or fail cleanly, and every analysis of what
// parses must run (under the sanitizers of the dev build) without incident.
TEST(Robustness, MutatedDocumentsNeverCrash) {
  const std::string seed = R"({"Version": "2012-10-17", "Statement": [
      {"Sid": "A", "Effect": "Allow", "Principal": {"AWS": ["*", "arn:aws:iam::111122223333:root"]},
       "Action": ["s3:Get*", "s3:?ut*"], "Resource": ["arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b"],
       "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:*:*:111122223333:*"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}},
      {"Effect": "Deny", "NotPrincipal": {"Service": "x.amazonaws.com"}, "NotAction": "*:*", "NotResource": "arn:*",
       "Condition": {"ForAllValues:StringNotLikeIfExists": {"aws:PrincipalOrgPaths": ["o-1/*", "?"]}}}]})";
  const std::string alphabet = "{}[]\":,*?$ -/aAsS0%";
  std::mt19937 rng(12345);
  int parsed = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string doc = seed;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % doc.size();
      switch (rng() % 3) {
        case 0:
          doc[pos] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          doc.erase(pos, 1 + rng() % 8);
          break;
        default:
          doc.insert(pos, 1, alphabet[rng() % alphabet.size()]);
      }
      if (doc.empty()) doc = "{";
    }
    auto p = ParsePolicy(doc);
    if (!p) {
      EXPECT_EQ(p.error().code, ErrorCode::kParse);
      EXPECT_FALSE(p.error().message.empty());
      continue;
    }
    ++parsed;
    (void)IsPublic(*p);
    (void)GrantedPrincipals(*p);
    (void)ExternalAccounts(*p, "111122223333", {"222233334444"});
    (void)Allows(*p, "s3:GetObject");
    (void)Allows(*p, "s3:*", "arn:aws:s3:::b/*");
    (void)GrantsFullAdmin(*p);
    (void)ServiceWildcards(*p);
    (void)DeniesInsecureTransport(*p);
    (void)HasConditionKey(*p, "aws:*");
    EXPECT_TRUE(ParsePolicyJson(NormalizedJson(*p))) << doc;
  }
  EXPECT_GT(parsed, 100) << parsed;
}

}  // namespace
}  // namespace cloudaudit::policy
