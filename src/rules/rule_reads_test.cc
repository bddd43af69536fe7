#include "rules/rule_reads.h"

#include <gtest/gtest.h>

#include "rules/rule.h"

namespace cloudaudit::rules {
namespace {

const collect::SpecSet& Specs() {
  static const collect::SpecSet specs = [] {
    auto s = collect::LoadSpecs();
    EXPECT_TRUE(s) << s.error().ToString();
    return s ? *s : collect::SpecSet{};
  }();
  return specs;
}

const Rule& Builtin(const std::string& id) {
  static const RuleSet rules = [] {
    auto r = LoadRules(LoadOptions{}, Specs());
    EXPECT_TRUE(r) << r.error().message;
    return r ? std::move(*r) : RuleSet{};
  }();
  for (const auto& r : rules.rules)
    if (r.id == id) return r;
  ADD_FAILURE() << "no built-in rule " << id;
  static const Rule none;
  return none;
}

RuleReads Analyze(const std::string& sql, const std::vector<std::string>& declared = {}) {
  return AnalyzeReads(sql, TablesReferenced(sql, Specs()), Specs(), declared);
}

RuleReads AnalyzeRule(const Rule& rule) {
  std::vector<std::string> tables = TablesReferenced(rule.query, Specs());
  tables.push_back(rule.resource_table);
  return AnalyzeReads(rule.query, tables, Specs(), rule.depends);
}

std::set<std::string> Members(const RuleReads& reads, const std::string& table) {
  auto it = reads.tables.find(table);
  EXPECT_NE(it, reads.tables.end()) << table << " is not read";
  if (it == reads.tables.end()) return {};
  EXPECT_FALSE(it->second.everything) << table << " is read whole";
  return it->second.members;
}

bool ReadsWhole(const RuleReads& reads, const std::string& table) {
  auto it = reads.tables.find(table);
  return it != reads.tables.end() && it->second.everything;
}

// The two rules of docs/rules.md's example: the versioning rule reads the
// bucket's region and versioning (through columns and json_type(data, ...)),
// the public-policy rule its policy, S3's verdict and Block Public Access.
TEST(RuleReads, BuiltinS3RulesReadTheMembersTheyUse) {
  auto versioning = AnalyzeRule(Builtin("aws.s3.bucket_versioning_disabled"));
  EXPECT_EQ(Members(versioning, "aws_s3_bucket"), (std::set<std::string>{"Name", "Region", "Versioning"}));
  EXPECT_FALSE(versioning.Reads("aws_s3_bucket", {"PolicyStatus"}));
  EXPECT_TRUE(versioning.Reads("aws_s3_bucket", {"Versioning"}));

  auto pub = AnalyzeRule(Builtin("aws.s3.bucket_policy_public"));
  std::set<std::string> members = Members(pub, "aws_s3_bucket");
  for (const char* m : {"Policy", "PolicyStatus", "PublicAccessBlock", "Region"}) EXPECT_TRUE(members.count(m)) << m;
  EXPECT_FALSE(members.count("Versioning"));
  EXPECT_TRUE(pub.Reads("aws_s3_bucket", {"PolicyStatus"}));
  // A table read only for an aggregate over its columns counts too.
  EXPECT_TRUE(pub.Reads("aws_s3control_account_public_access_block", {"RestrictPublicBuckets"}));
  EXPECT_FALSE(pub.Reads("aws_iam_user", {"AccessKeys"}));  // not read at all
}

TEST(RuleReads, IdentityColumnsStandForTheMembersTheirTemplatesUse) {
  auto r = Analyze("SELECT arn, tags FROM aws_s3_bucket");
  EXPECT_EQ(Members(r, "aws_s3_bucket"), (std::set<std::string>{"Name", "TagSet"}));  // arn:...:{Name}; tags: TagSet
  auto scope_only = Analyze("SELECT account_id, region, count(*) FROM aws_s3_bucket GROUP BY 1, 2");
  EXPECT_TRUE(Members(scope_only, "aws_s3_bucket").empty());
  auto oidc = Analyze("SELECT name FROM aws_iam_oidc_provider");
  EXPECT_EQ(Members(oidc, "aws_iam_oidc_provider"), (std::set<std::string>{"Provider"}));  // {Provider.Url}
}

TEST(RuleReads, DataWithLiteralPathsCountsMemberByMember) {
  auto r = Analyze(R"(SELECT s.arn,
      json_extract(s.data, '$.Versioning.Status', '$."Odd Key"[0]') AS a,  -- a comment naming data wholesale
      json_type(data, '$.Logging') AS b, data ->> 'Acl' AS c, s.data -> '$.Website.IndexDocument' AS d,
      (SELECT count(*) FROM json_each(s.data, '$.LifecycleRules')) AS e,
      'the data of ' || name AS f
    FROM aws_s3_bucket s)");
  EXPECT_EQ(Members(r, "aws_s3_bucket"),
            (std::set<std::string>{"Name", "Versioning", "Odd Key", "Logging", "Acl", "Website", "LifecycleRules"}));
}

TEST(RuleReads, DataReadWholeOrUnattributableIsEverything) {
  for (const char* sql : {
           "SELECT arn, data FROM aws_s3_bucket",                                       // the document itself
           "SELECT arn FROM aws_s3_bucket WHERE data LIKE '%Enabled%'",                 // compared whole
           "SELECT arn, policy_normalize(json_extract(data, '$')) FROM aws_s3_bucket",  // the root
           "SELECT arn, json_extract(data, '$.' || 'Policy') FROM aws_s3_bucket",       // a computed path
           "SELECT * FROM aws_s3_bucket",                                               // every column
           "SELECT b.* FROM aws_s3_bucket b",
           "WITH d AS (SELECT arn, data AS doc FROM aws_s3_bucket) SELECT json_extract(doc, '$.Acl') FROM d",
           "SELECT a.arn FROM aws_s3_bucket a NATURAL JOIN aws_s3_bucket b",
           "SELECT a.arn FROM aws_s3_bucket a JOIN aws_s3_bucket b USING (data)",
           "WITH u AS (SELECT * FROM aws_s3_bucket) SELECT arn, json_extract(data, '$.Acl') FROM u",
       })
    EXPECT_TRUE(ReadsWhole(Analyze(sql), "aws_s3_bucket")) << sql;
  // A query that does not prepare tells nothing: everything.
  EXPECT_TRUE(ReadsWhole(Analyze("SELECT arn FROM aws_s3_bucket WHERE no_such_column = 1"), "aws_s3_bucket"));
  // A declared dependency the query does not show is read whole; an
  // undeclared table that is not read is not read.
  auto declared = AnalyzeReads("SELECT 1", {"aws_ec2_image", "aws_s3_bucket"}, Specs(), {"aws_ec2_image"});
  EXPECT_TRUE(ReadsWhole(declared, "aws_ec2_image"));
  EXPECT_EQ(declared.tables.count("aws_s3_bucket"), 0u);
}

TEST(RuleReads, StarsOverCommonTableExpressionsAreTheirColumns) {
  auto r = Analyze(R"(WITH b AS MATERIALIZED (SELECT arn, versioning_status FROM aws_s3_bucket),
                          c(x) AS (SELECT acl_grants FROM aws_s3_bucket)
                     SELECT b.*, c.* FROM b, c)");
  EXPECT_EQ(Members(r, "aws_s3_bucket"), (std::set<std::string>{"Name", "Versioning", "Acl"}));
  EXPECT_TRUE(ReadsWhole(Analyze("WITH b AS (SELECT s.* FROM aws_s3_bucket s) SELECT b.arn FROM b"), "aws_s3_bucket"));
  // SELECT * over a CTE reads what the CTE reads.
  auto star =
      Analyze("WITH u AS (SELECT arn, json_type(data, '$.Logging') AS l FROM aws_s3_bucket) SELECT *, 1 FROM u");
  EXPECT_EQ(Members(star, "aws_s3_bucket"), (std::set<std::string>{"Name", "Logging"}));
}

TEST(RuleReads, ProductsAndCountsAreNotStars) {
  auto r = Analyze(
      "SELECT arn, count(*) * 2 AS n, json_array_length(data, '$.Encryption.Rules') * 10 FROM aws_s3_bucket GROUP BY "
      "arn");
  EXPECT_EQ(Members(r, "aws_s3_bucket"), (std::set<std::string>{"Name", "Encryption"}));
}

}  // namespace
}  // namespace cloudaudit::rules
