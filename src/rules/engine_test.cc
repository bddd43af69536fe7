#include "rules/engine.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "base/time.h"
#include "collect/collector.h"
#include "rules/sql_functions.h"

namespace cloudaudit::rules {
namespace {

collect::SpecSet Specs() {
  auto specs = collect::LoadSpecs();
  EXPECT_TRUE(specs) << specs.error().ToString();
  return *specs;
}

const collect::SpecSet& SharedSpecs() {
  static const collect::SpecSet specs = Specs();
  return specs;
}

constexpr const char* kRule = R"(id: custom.s3.bucket_versioning
title: S3 buckets keep object versions
description: Versioning lets deletes be undone.
service: s3
resource: aws_s3_bucket
severity: low
pillars: [reliability]
params:
  exempt:
    default: []
    description: Bucket names that need no versioning.
query: |
  SELECT arn AS resource, name AS resource_name, region, account_id,
         CASE WHEN name IN (SELECT value FROM json_each(:exempt)) OR versioning_status = 'Enabled' THEN 'ok' ELSE 'alarm' END AS status,
         'bucket ' || name AS reason, name AS bucket
  FROM aws_s3_bucket
remediation:
  console: Enable versioning.
  cli: aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled
references: [https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html]
tests:
  - name: one of each
    resources:
      aws_s3_bucket:
        - {id: good, arn: "arn:aws:s3:::good", name: good, data: {Name: good, Versioning: {Status: Enabled}}}
        - {id: bad, arn: "arn:aws:s3:::bad", name: bad, data: {Name: bad}}
    expect:
      "arn:aws:s3:::good": ok
      "arn:aws:s3:::bad": alarm
  - name: exempted by a parameter
    params: {exempt: [bad]}
    resources:
      aws_s3_bucket:
        - {id: bad, arn: "arn:aws:s3:::bad", name: bad, data: {Name: bad}}
    expect:
      "arn:aws:s3:::bad": ok
)";

// A scratch store with one scan holding `rows`, views and functions ready.
struct Scratch {
  std::unique_ptr<store::Store> store;
  int64_t scan = 0;
  EvalContext clock;
  explicit Scratch(const std::vector<store::ResourceRow>& rows, const std::string& now = "2026-06-01T00:00:00Z") {
    store = std::move(*store::Store::Open(":memory:"));
    store::ScanInfo info;
    info.account_id = "123456789012";
    info.started_at = now;
    info.tool_version = "test";
    scan = *store->BeginScan(info);
    EXPECT_TRUE(store->AddResources(scan, rows));
    EXPECT_TRUE(store->CreateScanViews(scan, collect::ViewsForSpecs(SharedSpecs())));
    clock.now_epoch = ParseTimestamp(now)->epoch_seconds;
    EXPECT_TRUE(RegisterSqlFunctions(store->handle(), &clock));
  }
  Json One(const std::string& sql) {
    Json out;
    auto st = store->Query(sql, [&](const auto&, const std::vector<Json>& v) { out = v[0]; });
    EXPECT_TRUE(st) << (st ? "" : st.error().ToString());
    return out;
  }
};

store::ResourceRow Bucket(const std::string& name, bool versioned) {
  store::ResourceRow r;
  r.type = "aws_s3_bucket";
  r.account_id = "123456789012";
  r.region = "global";
  r.id = name;
  r.arn = "arn:aws:s3:::" + name;
  r.name = name;
  r.data = {{"Name", name}};
  if (versioned) r.data["Versioning"] = {{"Status", "Enabled"}};
  return r;
}

TEST(RuleParse, ReportsEveryProblemWithLines) {
  auto r = ParseRuleYaml("id: Bad Id\ntitle: x\nseverity: huge\nbogus: 1\n", "bad.yaml");
  ASSERT_FALSE(r);
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("bad.yaml:1:"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:3: severity `huge`"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:4: unknown key `bogus`"), std::string::npos) << m;
  EXPECT_NE(m.find("`query` is required"), std::string::npos) << m;
}

// Nine lines of anchors expand to 10^9 values: the conversion stops at the
// value budget with the line of the fixture that expands, in well under a
// second, instead of eating the machine's memory.
std::string AliasBomb(const std::string& prefix, const std::string& use_at) {
  std::string text = prefix + "x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 8; ++i) {
    text += fmt::format("x{0}: &a{0} [", i);
    for (int j = 0; j < 10; ++j) text += fmt::format("{}*a{}", j ? ", " : "", i - 1);
    text += "]\n";
  }
  return text + use_at;
}

TEST(RuleParse, AliasBombInAFixtureStopsAtTheBudget) {
  const std::string text = AliasBomb("id: custom.x.y\n",
                                     "tests:\n  - name: t\n    resources:\n      aws_s3_bucket:\n"
                                     "        - {id: b, data: {v: *a8}}\n    expect: {b: ok}\n");
  auto r = ParseRuleYaml(text, "bomb.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, "bomb.yaml");
  EXPECT_EQ(r.error().line, 14) << r.error().message;  // the fixture's resources, which use *a8
  EXPECT_NE(r.error().message.find("expands to more than 1000000 values"), std::string::npos) << r.error().message;
}

TEST(RuleParse, TheBudgetIsPerFileNotPerFixture) {
  // Each fixture alone stays under the budget (10^5 values), twelve together do not.
  std::string tests = "tests:\n";
  for (int i = 0; i < 12; ++i) tests += fmt::format("  - {{name: t{}, resources: {{aws_s3_bucket: [{{id: b, data: *a4}}]}}, expect: {{b: ok}}}}\n", i);
  auto r = ParseRuleYaml(AliasBomb("id: custom.x.y\n", tests), "wide.yaml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("expands to more than"), std::string::npos) << r.error().message;
}

TEST(RuleParse, YamlSyntaxErrorHasLine) {
  auto r = ParseRuleYaml("id: a.b.c\ntitle: [unclosed\n", "broken.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().file, "broken.yaml");
  EXPECT_GT(r.error().line, 0);
}

TEST(RuleRun, StatusesParamsAndCliTemplate) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  ASSERT_TRUE(rule) << rule.error().ToString();
  Scratch s({Bucket("good", true), Bucket("bad bucket", false)});
  auto found = RunRule(s.store->handle(), *rule, {}, {}, SharedSpecs(), "123456789012");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2u);
  std::map<std::string, store::FindingRow> by;
  for (auto& f : *found) by[f.resource] = f;
  EXPECT_EQ(by["arn:aws:s3:::good"].status, "ok");
  EXPECT_EQ(by["arn:aws:s3:::good"].remediation_cli, "");
  EXPECT_EQ(by["arn:aws:s3:::bad bucket"].status, "alarm");
  // Values with spaces are shell-quoted.
  EXPECT_EQ(by["arn:aws:s3:::bad bucket"].remediation_cli,
            "aws s3api put-bucket-versioning --bucket 'bad bucket' --versioning-configuration Status=Enabled");
  EXPECT_EQ(by["arn:aws:s3:::good"].finding_id, FindingId(rule->id, "123456789012", "global", "arn:aws:s3:::good"));
  auto exempt = RunRule(s.store->handle(), *rule, {{"custom.s3.bucket_versioning.exempt", Json::array({"bad bucket"})}}, {},
                        SharedSpecs(), "123456789012");
  for (auto& f : *exempt) EXPECT_EQ(f.status, "ok") << f.resource;
}

TEST(RuleRun, ListingGapTurnsRowsIntoSkipAndAddsARow) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  Scratch s({Bucket("good", true)});
  store::Gap gap{"aws_s3_bucket", "s3", "ListBuckets", "us-east-1", "", "AccessDenied", "denied by an SCP"};
  auto found = RunRule(s.store->handle(), *rule, {}, {gap}, SharedSpecs(), "123456789012");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2u);
  for (const auto& f : *found) {
    EXPECT_EQ(f.status, "skip") << f.resource;
    EXPECT_NE(f.reason.find("s3:ListBuckets failed in us-east-1: AccessDenied"), std::string::npos) << f.reason;
  }
}

TEST(RuleRun, ResourceGapSkipsOnlyThatResource) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  Scratch s({Bucket("good", true), Bucket("other", true)});
  store::Gap gap{"aws_s3_bucket", "s3", "GetBucketVersioning", "us-east-1", "good", "AccessDenied", ""};
  auto found = RunRule(s.store->handle(), *rule, {}, {gap}, SharedSpecs(), "123456789012");
  std::map<std::string, std::string> st;
  for (auto& f : *found) st[f.resource] = f.status;
  EXPECT_EQ(st["arn:aws:s3:::good"], "skip");
  EXPECT_EQ(st["arn:aws:s3:::other"], "ok");
  // Gaps of tables the rule does not read change nothing.
  store::Gap other{"aws_iam_user", "iam", "ListUsers", "us-east-1", "", "AccessDenied", ""};
  found = RunRule(s.store->handle(), *rule, {}, {other}, SharedSpecs(), "123456789012");
  EXPECT_EQ(found->size(), 2u);
}

// A gap tied to members (a failed per-resource call) skips a resource only
// in the rules that read one of those members.
TEST(RuleRun, ResourceGapSkipsOnlyTheRulesReadingItsMembers) {
  auto specs = SharedSpecs();
  auto rules = LoadRules(LoadOptions{}, specs);
  ASSERT_TRUE(rules) << rules.error().message;
  const Rule* versioning = rules->Find("aws.s3.bucket_versioning_disabled");
  const Rule* pub = rules->Find("aws.s3.bucket_policy_public");
  ASSERT_TRUE(versioning && pub);
  auto bucket = [](const std::string& name, bool versioned) {
    store::ResourceRow r = Bucket(name, versioned);
    r.data["Region"] = "eu-west-1";
    r.data["Policy"] = R"({"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::)" + name + R"(/*"}]})";
    r.data["PublicAccessBlock"] = {{"RestrictPublicBuckets", false}};
    if (!versioned) r.data["Versioning"] = Json::object();
    return r;
  };
  Scratch s({bucket("denied", false), bucket("other", true)});
  // As the collector records it: GetBucketPolicyStatus was denied for one
  // bucket, whose PolicyStatus member is therefore absent.
  store::Gap denied{"aws_s3_bucket", "s3", "GetBucketPolicyStatus", "us-east-1", "arn:aws:s3:::denied", "AccessDenied",
                    "not authorized", {"PolicyStatus"}};
  auto statuses = [&](const Rule& rule, const store::Gap& gap) {
    auto found = RunRule(s.store->handle(), rule, {}, {gap}, specs, "123456789012");
    EXPECT_TRUE(found) << found.error().ToString();
    std::map<std::string, std::string> st;
    if (found)
      for (auto& f : *found) st[f.resource] = f.status + (f.status == "skip" ? ": " + f.reason : "");
    return st;
  };
  auto p = statuses(*pub, denied);
  EXPECT_EQ(p["arn:aws:s3:::denied"].substr(0, 4), "skip") << p["arn:aws:s3:::denied"];
  EXPECT_NE(p["arn:aws:s3:::denied"].find("s3:GetBucketPolicyStatus failed in us-east-1 for arn:aws:s3:::denied: AccessDenied"),
            std::string::npos);
  EXPECT_EQ(p["arn:aws:s3:::other"], "alarm");
  auto v = statuses(*versioning, denied);
  EXPECT_EQ(v["arn:aws:s3:::denied"], "alarm");  // evaluated: versioning was read
  EXPECT_EQ(v["arn:aws:s3:::other"], "ok");

  // A rule that reads the document wholesale cannot tell: it skips.
  auto whole = ParseRuleYaml(kRule, "t.yaml");
  ASSERT_TRUE(whole);
  whole->query = R"(SELECT arn AS resource, region, account_id,
      CASE WHEN data LIKE '%"Enabled"%' THEN 'ok' ELSE 'alarm' END AS status, 'bucket ' || name AS reason
    FROM aws_s3_bucket)";
  auto w = statuses(*whole, denied);
  EXPECT_EQ(w["arn:aws:s3:::denied"].substr(0, 4), "skip");
  EXPECT_EQ(w["arn:aws:s3:::other"], "ok");

  // Gaps without members (listings, stores before schema 5) concern every rule.
  store::Gap old = denied;
  old.members.clear();
  old.resource = "denied";  // older collections named the id
  EXPECT_EQ(statuses(*versioning, old)["arn:aws:s3:::denied"].substr(0, 4), "skip");
}

TEST(RuleRun, RuntimeErrorBecomesAnErrorFinding) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  rule->query = "SELECT 'x' AS resource, 'global' AS region, '1' AS account_id, 'ok' AS status, arn_part('arn:aws:s3:::b', 'nope') AS reason";
  Scratch s({});
  auto found = RunRule(s.store->handle(), *rule, {}, {}, SharedSpecs(), "123456789012");
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].status, "error");
  EXPECT_EQ((*found)[0].resource, "rule:custom.s3.bucket_versioning");
}

TEST(RuleRun, InvalidStatusIsAnError) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  rule->query = "SELECT 'x' AS resource, 'global' AS region, '1' AS account_id, 'pass' AS status, 'r' AS reason";
  Scratch s({});
  auto found = RunRule(s.store->handle(), *rule, {}, {}, SharedSpecs(), "123456789012");
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].status, "error");
}

TEST(Fixtures, PassAndFailAreReported) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  ASSERT_TRUE(rule);
  auto report = RunRuleTests({&*rule}, SharedSpecs());
  EXPECT_EQ(report.tests, 2u);
  EXPECT_TRUE(report.failures.empty()) << report.failures[0].message;
  rule->tests[0].expect[0].second = "alarm";  // wrong on purpose
  report = RunRuleTests({&*rule}, SharedSpecs());
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].message.find("expected alarm for arn:aws:s3:::good, got ok"), std::string::npos);
}

// A store file with one scan of `buckets` (name -> versioned), for Evaluate.
class EvaluateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("cloudaudit-evaluate-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store.db").string();
    auto store = store::Store::Open(path_);
    ASSERT_TRUE(store) << store.error().ToString();
    store::ScanInfo info;
    info.account_id = "123456789012";
    info.started_at = "2026-06-01T00:00:00Z";
    info.tool_version = "test";
    scan_ = *(*store)->BeginScan(info);
    std::vector<store::ResourceRow> rows;
    for (int i = 0; i < 40; ++i) rows.push_back(Bucket("b" + std::to_string(i), i % 4 == 0));
    ASSERT_TRUE((*store)->AddResources(scan_, rows));
    ASSERT_TRUE((*store)->FinishScan(scan_, "complete", "123456789012", {"us-east-1"}));
    // Two rules over the same buckets: versioning (10 ok, 30 alarm) and one
    // that is all ok.
    auto versioning = ParseRuleYaml(kRule, "t.yaml");
    ASSERT_TRUE(versioning) << versioning.error().ToString();
    rules_.rules.push_back(*versioning);
    Rule named = *versioning;
    named.id = "custom.s3.bucket_named";
    named.query = "SELECT arn AS resource, region, account_id, 'ok' AS status, 'named ' || name AS reason FROM aws_s3_bucket";
    named.remediation.cli.clear();
    rules_.rules.push_back(named);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Stored findings: "rule status" -> count, and the number of evaluations.
  std::map<std::string, int64_t> Stored(int64_t* evaluations = nullptr) {
    auto store = store::Store::Open(path_, /*read_only=*/true);
    EXPECT_TRUE(store) << store.error().ToString();
    std::map<std::string, int64_t> out;
    EXPECT_TRUE((*store)->Query(
        "SELECT rule_id || ' ' || status || CASE WHEN suppression IS NULL THEN '' ELSE ' suppressed' END, count(*) "
        "FROM findings GROUP BY 1",
        [&](const auto&, const std::vector<Json>& v) { out[v[0].get<std::string>()] = v[1].get<int64_t>(); }));
    if (evaluations != nullptr) {
      EXPECT_TRUE((*store)->Query("SELECT count(*) FROM evaluations WHERE status = 'complete' AND ended_at IS NOT NULL",
                                  [&](const auto&, const std::vector<Json>& v) { *evaluations = v[0].get<int64_t>(); }));
    }
    return out;
  }

  std::filesystem::path dir_;
  std::string path_;
  int64_t scan_ = 0;
  RuleSet rules_;
};

TEST_F(EvaluateTest, StreamsFindingsAndCountsThem) {
  EvalOptions options;
  options.threads = 2;
  options.suppressions = {Suppression{"custom.s3.bucket_versioning", "arn:aws:s3:::b1?", "legacy", "team", "", "s.yaml", 1},
                          Suppression{"*", "*", "expired", "team", "2020-01-01", "s.yaml", 2}};
  auto summary = Evaluate(path_, scan_, rules_, SharedSpecs(), options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->rules, 2u);
  // b10..b19 are suppressed; of them b12 and b16 are versioned (ok: never suppressed).
  EXPECT_EQ(summary->suppressed, 8u);
  EXPECT_EQ(summary->by_status["alarm"], 22u);
  EXPECT_EQ(summary->by_status["ok"], 50u);
  EXPECT_EQ(summary->alarms_by_severity["low"], 22u);
  ASSERT_EQ(summary->expired.size(), 1u);
  EXPECT_EQ(summary->rule_seconds.size(), 2u);
  int64_t evaluations = 0;
  auto stored = Stored(&evaluations);
  EXPECT_EQ(stored["custom.s3.bucket_versioning alarm"], 22);
  EXPECT_EQ(stored["custom.s3.bucket_versioning alarm suppressed"], 8);
  EXPECT_EQ(stored["custom.s3.bucket_versioning ok"], 10);
  EXPECT_EQ(stored["custom.s3.bucket_named ok"], 40);
  EXPECT_EQ(evaluations, 1);
}

TEST_F(EvaluateTest, ReEvaluationReplacesOnlyTheEvaluatedRules) {
  ASSERT_TRUE(Evaluate(path_, scan_, rules_, SharedSpecs(), EvalOptions{}));
  // The named rule now says alarm; re-evaluate only it.
  rules_.rules[1].query = "SELECT arn AS resource, region, account_id, 'alarm' AS status, 'r' AS reason FROM aws_s3_bucket";
  EvalOptions options;
  options.selection.ids = {"custom.s3.bucket_named"};
  auto summary = Evaluate(path_, scan_, rules_, SharedSpecs(), options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->by_status["alarm"], 40u);
  EXPECT_EQ(summary->by_status.count("ok"), 0u);
  int64_t evaluations = 0;
  auto stored = Stored(&evaluations);
  EXPECT_EQ(stored["custom.s3.bucket_versioning alarm"], 30);  // untouched
  EXPECT_EQ(stored["custom.s3.bucket_named alarm"], 40);
  EXPECT_EQ(stored.count("custom.s3.bucket_named ok"), 0u);
  EXPECT_EQ(evaluations, 2);
}

// Rules with more rows than one chunk (1024): a resource returned again with
// a worse status replaces the row already written, one returned again with
// the same status is dropped, and the counts say what the store holds.
TEST_F(EvaluateTest, DuplicatesAcrossChunksKeepTheWorstStatus) {
  Rule& dup = rules_.rules[1];
  dup.query = R"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3200)
    SELECT 'r' || CASE WHEN i <= 2500 THEN i ELSE i - 2500 END AS resource, 'global' AS region, '123456789012' AS account_id,
           CASE WHEN i BETWEEN 2501 AND 3000 THEN 'alarm' ELSE 'ok' END AS status, 'n ' || i AS reason FROM n)";
  EvalOptions options;
  options.selection.ids = {dup.id};
  auto summary = Evaluate(path_, scan_, rules_, SharedSpecs(), options);
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->by_status["alarm"], 500u);
  EXPECT_EQ(summary->by_status["ok"], 2000u);
  auto stored = Stored();
  EXPECT_EQ(stored["custom.s3.bucket_named alarm"], 500);
  EXPECT_EQ(stored["custom.s3.bucket_named ok"], 2000);
  auto store = store::Store::Open(path_, /*read_only=*/true);
  ASSERT_TRUE(store);
  std::map<std::string, std::string> reasons;
  ASSERT_TRUE((*store)->Query("SELECT resource, reason FROM findings WHERE resource IN ('r1', 'r600')",
                              [&](const auto&, const std::vector<Json>& v) { reasons[v[0].get<std::string>()] = v[1].get<std::string>(); }));
  EXPECT_EQ(reasons["r1"], "n 2501");   // the alarm replaced the ok written before
  EXPECT_EQ(reasons["r600"], "n 600");  // the second ok was dropped
  // The same as RunRule merges them in memory.
  ASSERT_TRUE((*store)->CreateScanViews(scan_, collect::ViewsForSpecs(SharedSpecs())));
  auto found = RunRule((*store)->handle(), dup, {}, {}, SharedSpecs(), "123456789012");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2500u);
  EXPECT_EQ(std::count_if(found->begin(), found->end(), [](const auto& f) { return f.status == "alarm"; }), 500);
}

// A query that fails after some chunks were written leaves one error finding
// for the rule, and only that is counted.
TEST_F(EvaluateTest, QueryFailingHalfWayLeavesOneErrorFinding) {
  Rule& failing = rules_.rules[1];
  failing.query = R"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
    SELECT 'r' || i AS resource, 'global' AS region, '123456789012' AS account_id, 'ok' AS status,
           CASE WHEN i < 2500 THEN 'fine' ELSE arn_part('arn:aws:s3:::b', 'nope') END AS reason FROM n)";
  auto summary = Evaluate(path_, scan_, rules_, SharedSpecs(), EvalOptions{});
  ASSERT_TRUE(summary) << summary.error().ToString();
  EXPECT_EQ(summary->by_status["error"], 1u);
  EXPECT_EQ(summary->by_status["ok"], 10u);  // the versioning rule's
  ASSERT_EQ(summary->rule_errors.size(), 1u);
  EXPECT_NE(summary->rule_errors[0].find("custom.s3.bucket_named: the rule's query failed"), std::string::npos)
      << summary->rule_errors[0];
  auto stored = Stored();
  EXPECT_EQ(stored["custom.s3.bucket_named error"], 1);
  EXPECT_EQ(stored.count("custom.s3.bucket_named ok"), 0u);
}

// The evaluation process is killed (-9) after its first rule: its
// evaluations row stays `running`, and no rule it did not store completely
// looks evaluated (no metadata); evaluating again repairs the scan.
TEST_F(EvaluateTest, KilledEvaluationStaysRunningAndClaimsNoRule) {
  ASSERT_TRUE(Evaluate(path_, scan_, rules_, SharedSpecs(), EvalOptions{}));
  rules_.rules[0].query = "SELECT arn AS resource, region, account_id, 'skip' AS status, 'r' AS reason FROM aws_s3_bucket";
  rules_.rules[1].query = rules_.rules[0].query;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    EvalOptions options;
    options.threads = 1;
    options.on_progress = [&](size_t done, size_t) {
      if (done != 1) return;
      char c = 'r';
      if (::write(ready[1], &c, 1) != 1) ::_exit(4);
      while (true) ::pause();  // killed here, mid-evaluation
    };
    (void)Evaluate(path_, scan_, rules_, SharedSpecs(), options);
    ::_exit(3);
  }
  ::close(ready[1]);
  char c = 0;
  const bool signalled = ::read(ready[0], &c, 1) == 1;
  ::close(ready[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(signalled) << "the child did not reach the first rule: exit " << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

  auto store = store::Store::Open(path_, /*read_only=*/true);
  ASSERT_TRUE(store) << store.error().ToString();
  std::vector<std::string> statuses;
  ASSERT_TRUE((*store)->Query("SELECT status FROM evaluations ORDER BY id",
                              [&](const auto&, const std::vector<Json>& v) { statuses.push_back(v[0].get<std::string>()); }));
  EXPECT_EQ(statuses, (std::vector<std::string>{"complete", "running"}));
  // Every rule with metadata has all its findings (40 buckets each).
  std::vector<std::pair<std::string, int64_t>> claimed;
  ASSERT_TRUE((*store)->Query(
      "SELECT r.rule_id, (SELECT count(*) FROM findings f WHERE f.scan_id = r.scan_id AND f.rule_id = r.rule_id) FROM scan_rules r",
      [&](const auto&, const std::vector<Json>& v) { claimed.emplace_back(v[0].get<std::string>(), v[1].get<int64_t>()); }));
  for (const auto& [rule, n] : claimed) EXPECT_EQ(n, 40) << rule;
  store->reset();

  auto again = Evaluate(path_, scan_, rules_, SharedSpecs(), EvalOptions{});
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Stored()["custom.s3.bucket_named skip"], 40);
  EXPECT_EQ(Stored()["custom.s3.bucket_versioning skip"], 40);
}

TEST(Suppressions, ParseAndValidate) {
  auto s = ParseSuppressionsYaml(R"(suppressions:
  - {rule: "aws.s3.*", resource: "arn:aws:s3:::logs-*", reason: write-once, owner: team, expires: 2027-01-31}
  - {rule: x, resource: y}
  - {rule: x, resource: y, reason: r, owner: o, expires: soon}
)", "s.yaml");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("s.yaml:3: a suppression needs `reason`"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("s.yaml:4: `expires` must be a date"), std::string::npos) << s.error().message;
}

TEST(Selection, BySeverityServiceAndPattern) {
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  Selection s;
  EXPECT_TRUE(s.Matches(*rule));
  s.min_severity = Severity::kHigh;
  EXPECT_FALSE(s.Matches(*rule));
  s = Selection{};
  s.ids = {"custom.s3.*"};
  EXPECT_TRUE(s.Matches(*rule));
  s.services = {"iam"};
  EXPECT_FALSE(s.Matches(*rule));
}

TEST(Posture, ControlStatuses) {
  RuleSet set;
  auto rule = ParseRuleYaml(kRule, "t.yaml");
  rule->compliance["fw"] = {"1", "3"};
  set.rules.push_back(*rule);
  Framework fw;
  fw.id = "fw";
  fw.controls = {{"1", "versioned", "", false}, {"2", "reviewed", "", true}, {"3", "also", "", false}, {"4", "unmapped", "", false}};
  std::vector<store::FindingRow> findings(1);
  findings[0].rule_id = rule->id;
  findings[0].status = "alarm";
  auto p = ComputePosture(fw, set, {rule->id}, findings);
  EXPECT_EQ(p.controls[0].status, "fail");
  EXPECT_EQ(p.controls[1].status, "manual");
  EXPECT_EQ(p.controls[3].status, "manual");
  EXPECT_EQ(p.fail, 2u);
  findings[0].suppression = Json{{"reason", "accepted"}};
  p = ComputePosture(fw, set, {rule->id}, findings);
  EXPECT_EQ(p.controls[0].status, "pass");
  EXPECT_DOUBLE_EQ(p.percent, 100.0);
  p = ComputePosture(fw, set, {rule->id}, {});
  EXPECT_EQ(p.controls[0].status, "not_applicable");
  p = ComputePosture(fw, set, {}, {});
  EXPECT_EQ(p.controls[0].status, "unknown");
}

TEST(Template, QuotesAndPlaceholders) {
  EXPECT_EQ(FillTemplate("x {a} {b} {missing}", {{"a", "plain-1"}, {"b", "it's"}}), "x plain-1 'it'\\''s' {missing}");
  EXPECT_EQ(TemplatePlaceholders("{a} and {b_c}"), (std::vector<std::string>{"a", "b_c"}));
}

TEST(SqlFunctions, TimeCidrPortsArn) {
  Scratch s({});
  EXPECT_EQ(s.One("SELECT eval_time()"), "2026-06-01T00:00:00Z");
  EXPECT_EQ(s.One("SELECT days_since('2026-05-01T12:00:00Z')"), 30);
  EXPECT_EQ(s.One("SELECT days_since('2026-05-31T23:00:00+00:00')"), 0);
  EXPECT_EQ(s.One("SELECT days_until('2026-06-11T00:00:00Z')"), 10);
  EXPECT_EQ(s.One("SELECT days_since('N/A')"), nullptr);
  EXPECT_EQ(s.One("SELECT hours_since('2026-05-31T21:30:00Z')"), 2);
  EXPECT_EQ(s.One("SELECT cidr_contains('10.0.0.0/8', '10.1.2.3')"), 1);
  EXPECT_EQ(s.One("SELECT cidr_contains('10.0.0.0/8', '11.0.0.0/24')"), 0);
  EXPECT_EQ(s.One("SELECT cidr_contains('10.0.0.0/16', '10.0.0.0/8')"), 0);
  EXPECT_EQ(s.One("SELECT cidr_contains('2001:db8::/32', '2001:db8:1::/48')"), 1);
  EXPECT_EQ(s.One("SELECT cidr_contains('0.0.0.0/0', '::/0')"), 0);
  EXPECT_EQ(s.One("SELECT cidr_is_world('0.0.0.0/0') + cidr_is_world('::/0')"), 2);
  EXPECT_EQ(s.One("SELECT cidr_is_world('10.0.0.0/8')"), 0);
  EXPECT_EQ(s.One("SELECT cidr_is_private('192.168.1.0/24')"), 1);
  EXPECT_EQ(s.One("SELECT cidr_is_private('8.8.8.8/32')"), 0);
  EXPECT_EQ(s.One("SELECT cidr_is_private('10.0.0.0/7')"), 0);
  EXPECT_EQ(s.One("SELECT cidr_prefix_length('10.0.0.0/33')"), nullptr);
  EXPECT_EQ(s.One("SELECT cidr_prefix_length('fe80::1')"), 128);
  EXPECT_EQ(s.One("SELECT port_range_includes(20, 25, 22)"), 1);
  EXPECT_EQ(s.One("SELECT port_range_includes(80, 80, 22)"), 0);
  EXPECT_EQ(s.One("SELECT port_range_includes(-1, -1, 3389)"), 1);
  EXPECT_EQ(s.One("SELECT port_range_includes(NULL, NULL, 3389)"), 1);
  EXPECT_EQ(s.One("SELECT port_range_overlaps(1000, 2000, 1999, 3000)"), 1);
  EXPECT_EQ(s.One("SELECT port_range_overlaps(1000, 2000, 2001, 3000)"), 0);
  EXPECT_EQ(s.One("SELECT arn_part('arn:aws:iam::123456789012:user/path/alice', 'account')"), "123456789012");
  EXPECT_EQ(s.One("SELECT arn_part('arn:aws:iam::123456789012:user/path/alice', 'resource_type')"), "user");
  EXPECT_EQ(s.One("SELECT arn_part('arn:aws:iam::123456789012:user/path/alice', 'resource_id')"), "alice");
  EXPECT_EQ(s.One("SELECT arn_part('arn:aws:s3:::bucket', 'resource_id')"), "bucket");
  EXPECT_EQ(s.One("SELECT arn_part('arn:aws:s3:::bucket', 'region')"), "");
  EXPECT_EQ(s.One("SELECT arn_part('not-an-arn', 'account')"), nullptr);
  EXPECT_EQ(s.One("SELECT mask_id('AKIAIOSFODNN7EXAMPLE')"), "AKIA\xE2\x80\xA6MPLE");
  EXPECT_EQ(s.One("SELECT policy_is_public('{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"*\"}]}')"), 1);
}

}  // namespace
}  // namespace cloudaudit::rules
