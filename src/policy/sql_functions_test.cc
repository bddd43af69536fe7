#include "policy/sql_functions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"

namespace cloudaudit::policy {
namespace {

using ::testing::HasSubstr;

// The outcome of a one-value SELECT: its text (nullopt for NULL), or the error.
struct Outcome {
  bool ok = false;
  std::optional<std::string> value;
  std::string error;
};

class PolicySqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(sqlite3_open(":memory:", &db_), SQLITE_OK);
    auto status = RegisterPolicyFunctions(db_);
    ASSERT_TRUE(status) << status.error().ToString();
  }
  void TearDown() override { sqlite3_close(db_); }

  // Runs `sql` with the given text parameters (?1, ?2, ...; nullopt binds NULL).
  Outcome Run(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    Outcome out;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      out.error = sqlite3_errmsg(db_);
      return out;
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int index = static_cast<int>(i + 1);
      if (params[i]) {
        sqlite3_bind_text(stmt, index, params[i]->c_str(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, index);
      }
    }
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      out.ok = true;
      if (sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        out.value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    } else {
      out.error = sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return out;
  }

  // The value of a SELECT that must succeed and not be NULL.
  std::string Value(const std::string& sql, const std::vector<std::optional<std::string>>& params = {}) {
    Outcome o = Run(sql, params);
    EXPECT_TRUE(o.ok) << sql << ": " << o.error;
    EXPECT_TRUE(o.value.has_value()) << sql << " gave NULL";
    return o.value.value_or("<NULL>");
  }

  sqlite3* db_ = nullptr;
};

const std::string kPublicBucket = R"({"Version": "2012-10-17", "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject"],
     "Resource": "arn:aws:s3:::site/*"},
    {"Sid": "DenyHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::site", "arn:aws:s3:::site/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::222233334444:root", "111122223333"],
                                      "Service": "logging.s3.amazonaws.com"},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::site/logs/*"}]})";

const std::string kAdmin =
    R"({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})";

const std::string kIdentity = R"({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:*", "iam:Get*", "ec2:DescribeInstances"], "Resource": "*"},
    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}},
    {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]})";

struct SqlCase {
  const char* sql;
  std::vector<std::optional<std::string>> params;
  const char* expected;
};

TEST_F(PolicySqlTest, FunctionsAnswerAsDocumented) {
  const std::vector<SqlCase> cases = {
      {"SELECT policy_is_public(?1)", {kPublicBucket}, "1"},
      {"SELECT policy_is_public(?1)", {kAdmin}, "0"},
      {"SELECT policy_public_statements(?1)",
       {kPublicBucket},
       R"([{"index":0,"sid":"PublicRead","actions":["s3:GetObject"],"not_action":false,"not_principal":false}])"},
      {"SELECT policy_public_statements(?1)", {kAdmin}, "[]"},
      {"SELECT policy_allows(?1, 's3:GetObject')", {kIdentity}, "1"},
      {"SELECT policy_allows(?1, 's3:DeleteBucket')", {kIdentity}, "0"},
      {"SELECT policy_allows(?1, 'iam:GetUser', 'arn:aws:iam::111122223333:user/a')", {kIdentity}, "1"},
      {"SELECT policy_allows(?1, 'iam:CreateUser')", {kIdentity}, "0"},
      {"SELECT policy_allows(?1, 'kms:Decrypt')", {kIdentity}, "0"},
      {"SELECT policy_allows_conditionally(?1, 'kms:Decrypt')", {kIdentity}, "1"},
      {"SELECT policy_allows_conditionally(?1, 's3:GetObject')", {kIdentity}, "1"},
      {"SELECT policy_allows_conditionally(?1, 's3:DeleteBucket')", {kIdentity}, "0"},
      {"SELECT policy_allows(?1, 's3:GetObject', 'arn:aws:s3:::site/index.html')", {kPublicBucket}, "0"},
      {"SELECT policy_allows_conditionally(?1, 's3:GetObject', 'arn:aws:s3:::site/index.html')", {kPublicBucket}, "1"},
      {"SELECT policy_grants_admin(?1)", {kAdmin}, "1"},
      {"SELECT policy_grants_admin(?1)", {kIdentity}, "0"},
      {"SELECT policy_wildcard_actions(?1)", {kIdentity}, R"(["iam:Get*","s3:*"])"},
      {"SELECT policy_wildcard_actions(?1)", {kAdmin}, R"(["*"])"},
      {"SELECT policy_wildcard_actions(?1)", {kPublicBucket}, "[]"},
      {"SELECT policy_principal_accounts(?1)", {kPublicBucket}, R"(["111122223333","222233334444"])"},
      {"SELECT policy_principal_accounts(?1)", {kAdmin}, "[]"},
      {"SELECT policy_external_accounts(?1, '111122223333')", {kPublicBucket}, R"(["*","222233334444"])"},
      {"SELECT policy_external_accounts(?1, '111122223333', '[\"222233334444\"]')", {kPublicBucket}, R"(["*"])"},
      {"SELECT policy_external_accounts(?1, '111122223333', NULL)", {kPublicBucket}, R"(["*","222233334444"])"},
      {"SELECT policy_external_accounts(?1, '999999999999', '[222233334444]')",
       {kPublicBucket},
       R"(["*","111122223333"])"},
      {"SELECT policy_external_accounts(?1, '111122223333')", {kAdmin}, "[]"},
      {"SELECT policy_denies_insecure_transport(?1)", {kPublicBucket}, "1"},
      {"SELECT policy_denies_insecure_transport(?1)", {kAdmin}, "0"},
      {"SELECT policy_has_condition_key(?1, 'AWS:SecureTransport')", {kPublicBucket}, "1"},
      {"SELECT policy_has_condition_key(?1, 'aws:SourceVpce')", {kPublicBucket}, "0"},
      {"SELECT policy_service_principals(?1)", {kPublicBucket}, R"(["logging.s3.amazonaws.com"])"},
      {"SELECT policy_service_principals(?1)", {kAdmin}, "[]"},
      {"SELECT policy_normalize(?1)",
       {kAdmin},
       R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["*"],"Resource":["*"]}]})"},
      // URL-encoded input, as IAM returns policy documents.
      {"SELECT policy_grants_admin(?1)", {UriEncode(kAdmin)}, "1"},
      {"SELECT policy_is_public(?1)", {UriEncode(kPublicBucket)}, "1"},
      // Results compose with SQLite's JSON functions.
      {"SELECT json_array_length(policy_external_accounts(?1, '111122223333'))", {kPublicBucket}, "2"},
      {"SELECT group_concat(value, ',') FROM json_each(policy_public_statements(?1), '$[0].actions')",
       {kPublicBucket},
       "s3:GetObject"},
  };
  for (const auto& c : cases) EXPECT_EQ(Value(c.sql, c.params), c.expected) << c.sql;
}

TEST_F(PolicySqlTest, NullArgumentsGiveNull) {
  const std::vector<std::string> queries = {
      "SELECT policy_is_public(NULL)",
      "SELECT policy_public_statements(NULL)",
      "SELECT policy_allows(NULL, 's3:GetObject')",
      "SELECT policy_allows(NULL, 's3:GetObject', '*')",
      "SELECT policy_allows_conditionally(NULL, 's3:GetObject')",
      "SELECT policy_grants_admin(NULL)",
      "SELECT policy_wildcard_actions(NULL)",
      "SELECT policy_principal_accounts(NULL)",
      "SELECT policy_external_accounts(NULL, '111122223333')",
      "SELECT policy_external_accounts(NULL, '111122223333', '[]')",
      "SELECT policy_denies_insecure_transport(NULL)",
      "SELECT policy_has_condition_key(NULL, 'aws:SourceVpc')",
      "SELECT policy_service_principals(NULL)",
      "SELECT policy_normalize(NULL)",
      // A NULL required argument besides the policy.
      "SELECT policy_allows('" + kAdmin + "', NULL)",
      "SELECT policy_allows('" + kAdmin + "', 's3:GetObject', NULL)",
      "SELECT policy_external_accounts('" + kAdmin + "', NULL)",
      "SELECT policy_has_condition_key('" + kAdmin + "', NULL)",
  };
  for (const auto& sql : queries) {
    Outcome o = Run(sql);
    EXPECT_TRUE(o.ok) << sql << ": " << o.error;
    EXPECT_FALSE(o.value.has_value()) << sql << " gave " << o.value.value_or("");
  }
}

TEST_F(PolicySqlTest, MalformedPoliciesRaiseErrorsNamingTheFunction) {
  const std::vector<std::string> functions = {
      "policy_is_public(?1)",
      "policy_public_statements(?1)",
      "policy_allows(?1, 's3:GetObject')",
      "policy_allows_conditionally(?1, 's3:GetObject', '*')",
      "policy_grants_admin(?1)",
      "policy_wildcard_actions(?1)",
      "policy_principal_accounts(?1)",
      "policy_external_accounts(?1, '111122223333')",
      "policy_denies_insecure_transport(?1)",
      "policy_has_condition_key(?1, 'aws:SourceVpc')",
      "policy_service_principals(?1)",
      "policy_normalize(?1)",
  };
  for (const auto& f : functions) {
    std::string name = f.substr(0, f.find('('));
    Outcome o = Run("SELECT " + f, {std::string("{\"Statement\": [")});
    EXPECT_FALSE(o.ok) << f;
    EXPECT_THAT(o.error, HasSubstr(name + ": malformed policy: policy is not valid JSON")) << f;
    o = Run("SELECT " + f, {std::string(R"({"Statement": [{"Effect": "Allow"}]})")});
    EXPECT_FALSE(o.ok) << f;
    EXPECT_THAT(o.error, HasSubstr(name + ": malformed policy: Statement[0] has neither Action nor NotAction")) << f;
  }
  // Non-text values are read as text, and are not policies.
  Outcome o = Run("SELECT policy_is_public(42)");
  EXPECT_FALSE(o.ok);
  EXPECT_THAT(o.error, HasSubstr("policy_is_public: malformed policy: a policy must be a JSON object"));
}

TEST_F(PolicySqlTest, MalformedTrustedAccountsRaiseAnError) {
  for (const char* trusted : {"not json", R"({"a": 1})", R"([["x"]])", R"([true])"}) {
    Outcome o = Run("SELECT policy_external_accounts(?1, '111122223333', ?2)", {kPublicBucket, std::string(trusted)});
    EXPECT_FALSE(o.ok) << trusted;
    EXPECT_THAT(o.error, HasSubstr("policy_external_accounts: trusted accounts must be a JSON array")) << trusted;
  }
  EXPECT_EQ(Value("SELECT policy_external_accounts(?1, '111122223333', '\"222233334444\"')", {kPublicBucket}),
            R"(["*"])");
}

TEST_F(PolicySqlTest, WrongArgumentCountsAreRejected) {
  for (const char* sql : {"SELECT policy_is_public()", "SELECT policy_allows('{}')",
                          "SELECT policy_allows('{}', 'a', 'b', 'c')", "SELECT policy_external_accounts('{}')"}) {
    Outcome o = Run(sql);
    EXPECT_FALSE(o.ok) << sql;
    EXPECT_THAT(o.error, HasSubstr("wrong number of arguments")) << sql;
  }
}

TEST_F(PolicySqlTest, WorksOverTablesViewsAndIndexes) {
  ASSERT_EQ(sqlite3_exec(db_, "CREATE TABLE t(name TEXT, policy TEXT)", nullptr, nullptr, nullptr), SQLITE_OK);
  const std::vector<std::pair<std::string, std::optional<std::string>>> rows = {
      {"public", kPublicBucket}, {"admin", kAdmin}, {"identity", kIdentity}, {"none", std::nullopt}};
  for (const auto& [name, policy] : rows) {
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db_, "INSERT INTO t VALUES (?1, ?2)", -1, &stmt, nullptr), SQLITE_OK);
    sqlite3_bind_text(stmt, 1, name.c_str(), -1, SQLITE_TRANSIENT);
    if (policy) sqlite3_bind_text(stmt, 2, policy->c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }
  EXPECT_EQ(Value("SELECT group_concat(name, ',') FROM t WHERE policy_is_public(policy)"), "public");
  EXPECT_EQ(Value("SELECT group_concat(name, ',') FROM (SELECT name FROM t WHERE policy_allows(policy, 's3:GetObject') "
                  "ORDER BY name)"),
            "admin,identity");
  EXPECT_EQ(Value("SELECT count(*) FROM t WHERE policy_grants_admin(policy) IS NULL"), "1");
  // Deterministic: usable in an index expression. Innocuous: usable from a
  // view even with trusted_schema off.
  ASSERT_EQ(sqlite3_exec(db_, "CREATE INDEX t_public ON t(policy_is_public(policy))", nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(db_);
  ASSERT_EQ(
      sqlite3_exec(db_,
                   "PRAGMA trusted_schema = OFF; CREATE VIEW v AS SELECT name, policy_grants_admin(policy) AS admin "
                   "FROM t",
                   nullptr, nullptr, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(db_);
  EXPECT_EQ(Value("SELECT name FROM v WHERE admin = 1"), "admin");
}

TEST(RegisterPolicyFunctions, RefusesANullDatabase) {
  auto status = RegisterPolicyFunctions(nullptr);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInternal);
}

}  // namespace
}  // namespace cloudaudit::policy
