#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace cloudaudit::store {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cloudaudit-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

ResourceRow Row(const std::string& id, Json data) {
  ResourceRow r;
  r.type = "aws_iam_user";
  r.account_id = "123456789012";
  r.region = "global";
  r.id = id;
  r.arn = "arn:aws:iam::123456789012:user/" + id;
  r.name = id;
  r.tags = Json{{"team", "x"}};
  r.data = std::move(data);
  return r;
}

int64_t CountWhere(Store& store, const std::string& sql) {
  int64_t n = -1;
  EXPECT_TRUE(store.Query(sql, [&](const auto&, const std::vector<Json>& v) { n = v[0].get<int64_t>(); })) << sql;
  return n;
}

TEST_F(StoreTest, RoundTripsScansResourcesAndViews) {
  auto store = Store::Open(Path("a.db"));
  ASSERT_TRUE(store) << store.error().ToString();
  auto scan = (*store)->BeginScan({});
  ASSERT_TRUE(scan);
  ASSERT_TRUE((*store)->AddResources(*scan, {Row("alice", Json{{"UserName", "alice"}, {"Age", 3}}),
                                             Row("bob", Json{{"UserName", "bob"}, {"Age", 5}})}));
  ASSERT_TRUE((*store)->AddGap(*scan, Gap{"aws_iam_user", "iam", "ListAccessKeys", "us-east-1", "bob", "AccessDenied", "denied"}));
  ASSERT_TRUE((*store)->FinishScan(*scan, "partial", "123456789012", {"us-east-1"}));
  ASSERT_TRUE((*store)->CreateScanViews(*scan, {ViewSpec{"aws_iam_user", {{"user_name", "TEXT", "$.UserName"}, {"age", "INTEGER", "$.Age"}}}}));
  std::vector<std::pair<std::string, int64_t>> got;
  ASSERT_TRUE((*store)->Query("SELECT user_name, age FROM aws_iam_user ORDER BY user_name",
                              [&](const auto&, const std::vector<Json>& v) { got.emplace_back(v[0], v[1]); }));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], std::make_pair(std::string("alice"), int64_t{3}));
  auto scans = (*store)->ListScans();
  ASSERT_TRUE(scans);
  ASSERT_EQ(scans->size(), 1u);
  EXPECT_EQ((*scans)[0].status, "partial");
  EXPECT_EQ((*scans)[0].regions, std::vector<std::string>{"us-east-1"});
}

TEST_F(StoreTest, GapsKeepTheMembersTheirCallWouldHaveFilled) {
  auto store = Store::Open(Path("a.db"));
  ASSERT_TRUE(store);
  auto scan = (*store)->BeginScan({});
  Gap member{"aws_s3_bucket", "s3", "GetBucketPolicyStatus", "us-east-1", "arn:aws:s3:::b", "AccessDenied", "", {"PolicyStatus"}};
  Gap listing{"aws_s3_bucket", "s3", "ListBuckets", "us-east-1", "", "AccessDenied", ""};
  ASSERT_TRUE((*store)->AddGap(*scan, member));
  ASSERT_TRUE((*store)->AddGap(*scan, listing));
  auto gaps = (*store)->ListGaps(*scan);
  ASSERT_TRUE(gaps);
  ASSERT_EQ(gaps->size(), 2u);
  EXPECT_EQ((*gaps)[0].members, std::vector<std::string>{"PolicyStatus"});
  EXPECT_TRUE((*gaps)[1].members.empty());
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM gaps WHERE members IS NULL"), 1);
}

// A store written before schema 5 has no gaps.members: opened read-only it
// is read as it is (its gaps concern whole resources); opened for writing it
// is migrated and its old gaps keep meaning the whole resource.
TEST_F(StoreTest, StoreOfSchemaFourStillOpens) {
  {
    auto store = Store::Open(Path("old.db"));
    ASSERT_TRUE(store);
    auto scan = (*store)->BeginScan({});
    ASSERT_TRUE((*store)->FinishScan(*scan, "partial", "123456789012", {"us-east-1"}));
  }
  {
    // Take the file back to schema 4 as that version wrote it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Path("old.db").c_str(), &db), SQLITE_OK);
    for (const char* sql : {"ALTER TABLE gaps DROP COLUMN members", "UPDATE schema_version SET version = 4",
                            "DROP INDEX findings_alarm_by_id", "CREATE INDEX findings_by_id ON findings(finding_id, scan_id)",
                            "INSERT INTO gaps(scan_id, type, service, operation, region, resource, error_code, message) "
                            "VALUES (1, 'aws_s3_bucket', 's3', 'GetBucketVersioning', 'us-east-1', 'b', 'AccessDenied', 'old')"})
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  {
    auto reader = Store::Open(Path("old.db"), /*read_only=*/true);
    ASSERT_TRUE(reader) << reader.error().ToString();
    auto gaps = (*reader)->ListGaps(1);
    ASSERT_TRUE(gaps) << gaps.error().ToString();
    ASSERT_EQ(gaps->size(), 1u);
    EXPECT_EQ((*gaps)[0].resource, "b");
    EXPECT_TRUE((*gaps)[0].members.empty());
  }
  auto writer = Store::Open(Path("old.db"));
  ASSERT_TRUE(writer) << writer.error().ToString();
  EXPECT_EQ(CountWhere(**writer, "SELECT version FROM schema_version"), kSchemaVersion);
  // Schema 6: the finding-id index holds alarms only.
  EXPECT_EQ(CountWhere(**writer, "SELECT count(*) FROM sqlite_master WHERE name = 'findings_by_id'"), 0);
  EXPECT_EQ(CountWhere(**writer, "SELECT count(*) FROM sqlite_master WHERE name = 'findings_alarm_by_id' "
                                 "AND sql LIKE '%WHERE status = ''alarm''%'"), 1);
  ASSERT_TRUE((*writer)->AddGap(1, Gap{"aws_s3_bucket", "s3", "GetBucketAcl", "us-east-1", "b", "AccessDenied", "", {"Acl"}}));
  auto gaps = (*writer)->ListGaps(1);
  ASSERT_TRUE(gaps);
  ASSERT_EQ(gaps->size(), 2u);
  EXPECT_TRUE((*gaps)[0].members.empty());
  EXPECT_EQ((*gaps)[1].members, std::vector<std::string>{"Acl"});
}

TEST_F(StoreTest, QueryRefusesWrites) {
  auto store = Store::Open(Path("a.db"));
  ASSERT_TRUE(store);
  auto r = (*store)->Query("DELETE FROM scans", [](const auto&, const auto&) {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE((*store)->Query("SELECT * FROM nowhere", [](const auto&, const auto&) {}));
}

TEST_F(StoreTest, RefusesForeignAndCorruptFiles) {
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Path("other.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto foreign = Store::Open(Path("other.db"));
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("not a cloudaudit store"), std::string::npos);
  std::ofstream(Path("garbage.db")) << "this is not sqlite at all, just text that goes on and on";
  EXPECT_FALSE(Store::Open(Path("garbage.db")));
  EXPECT_FALSE(Store::Open(Path("missing.db"), /*read_only=*/true));
}

// The process that began the scan (this one) still runs: "running".
TEST_F(StoreTest, UnfinishedScanStaysRunningAndReadable) {
  {
    auto store = Store::Open(Path("a.db"));
    ASSERT_TRUE(store);
    auto scan = (*store)->BeginScan({});
    ASSERT_TRUE((*store)->AddResources(*scan, {Row("alice", Json{{"UserName", "alice"}})}));
    // No FinishScan: as after kill -9.
  }
  auto reader = Store::Open(Path("a.db"), /*read_only=*/true);
  ASSERT_TRUE(reader) << reader.error().ToString();
  auto scans = (*reader)->ListScans();
  ASSERT_TRUE(scans);
  ASSERT_EQ(scans->size(), 1u);
  EXPECT_EQ((*scans)[0].status, "running");
  EXPECT_EQ((*reader)->LatestScanId().value(), (*scans)[0].id);
}

// Kills the child on every way out of the test.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// A real kill -9 of the process writing a scan: a store opened before the
// kill reports the scan running, then incomplete; a reader sees incomplete
// (also through SQL on `scans`) without writing; a writer records it.
TEST_F(StoreTest, ScanOfAProcessKilledWithSigkillIsIncomplete) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  ChildGuard child;
  child.pid = ::fork();
  ASSERT_GE(child.pid, 0);
  if (child.pid == 0) {
    ::close(ready[0]);
    auto store = Store::Open(Path("a.db"));
    if (!store) ::_exit(2);
    auto scan = (*store)->BeginScan({});
    if (!scan || !(*store)->AddResources(*scan, {Row("alice", Json{{"UserName", "alice"}})})) ::_exit(3);
    char c = 'r';
    if (::write(ready[1], &c, 1) != 1) ::_exit(4);
    while (true) ::pause();  // "collecting" until killed
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);

  auto writer = Store::Open(Path("a.db"));
  ASSERT_TRUE(writer) << writer.error().ToString();
  auto before = (*writer)->ListScans();
  ASSERT_TRUE(before);
  ASSERT_EQ(before->size(), 1u);
  EXPECT_EQ((*before)[0].status, "running");
  EXPECT_EQ((*before)[0].process.pid, child.pid);
  EXPECT_FALSE(ProcessIsGone((*before)[0].process));

  ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
  // Killed but not reaped yet (a zombie): already gone.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ProcessIsGone((*before)[0].process);
    if (!gone) ::usleep(10'000);
  }
  EXPECT_TRUE(gone);
  int status = 0;
  ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
  child.pid = -1;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(ProcessIsGone((*before)[0].process));

  {
    auto reader = Store::Open(Path("a.db"), /*read_only=*/true);
    ASSERT_TRUE(reader) << reader.error().ToString();
    auto scans = (*reader)->ListScans();
    ASSERT_TRUE(scans);
    EXPECT_EQ((*scans)[0].status, "incomplete");
    EXPECT_EQ(CountWhere(**reader, "SELECT count(*) FROM scans WHERE status = 'incomplete'"), 1);
    EXPECT_EQ(CountWhere(**reader, "SELECT count(*) FROM main.scans WHERE status = 'running'"), 1);  // not written
    EXPECT_EQ(CountWhere(**reader, "SELECT count(*) FROM resources"), 1);
  }
  // The store opened before the kill notices it when listing, and records it.
  auto after = (*writer)->ListScans();
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)[0].status, "incomplete");
  EXPECT_EQ(CountWhere(**writer, "SELECT count(*) FROM main.scans WHERE status = 'incomplete'"), 1);
}

TEST_F(StoreTest, OpeningForWritingRecordsAbandonedScans) {
  {
    auto store = Store::Open(Path("a.db"));
    ASSERT_TRUE(store);
    ProcessRecord me = CurrentProcess();
    ScanInfo reused;  // our pid, but a process that started at another time
    reused.process = me;
    reused.process.started = me.started.empty() ? "" : me.started + "0";
    ScanInfo remote;  // another machine: cannot be told, stays running
    remote.process = {1, "some-other-host", ""};
    ScanInfo legacy;  // a scan of a store from before schema 3: no process
    ASSERT_TRUE((*store)->BeginScan(reused));
    ASSERT_TRUE((*store)->BeginScan(remote));
    auto legacy_id = (*store)->BeginScan(legacy);
    ASSERT_TRUE(legacy_id);
    ASSERT_TRUE((*store)->BeginScan({}));  // this process: running
    ASSERT_EQ(sqlite3_exec((*store)->handle(),
                           ("UPDATE scans SET pid = NULL, host = NULL, process_started = NULL WHERE id = " +
                            std::to_string(*legacy_id)).c_str(),
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
  }
  auto store = Store::Open(Path("a.db"));
  ASSERT_TRUE(store);
  std::vector<std::string> statuses;
  ASSERT_TRUE((*store)->Query("SELECT status FROM main.scans ORDER BY id",
                              [&](const auto&, const std::vector<Json>& v) { statuses.push_back(v[0]); }));
  const bool has_proc = !CurrentProcess().started.empty();
  EXPECT_EQ(statuses, (std::vector<std::string>{has_proc ? "incomplete" : "running", "running", "incomplete", "running"}));
  EXPECT_EQ(CurrentProcess().pid, static_cast<int64_t>(::getpid()));
}

}  // namespace
std::vector<FindingRow> Findings(const std::string& rule_id, int from, int count) {
  std::vector<FindingRow> out;
  for (int i = from; i < from + count; ++i) {
    FindingRow f;
    f.finding_id = rule_id + "/" + std::to_string(i);
    f.rule_id = rule_id;
    f.service = "s3";
    f.severity = "low";
    f.account_id = "123456789012";
    f.region = "global";
    f.resource = "arn:aws:s3:::b" + std::to_string(i);
    f.status = i % 2 == 0 ? "ok" : "alarm";
    f.reason = "r";
    out.push_back(std::move(f));
  }
  return out;
}

// An evaluation is stored as it runs: findings in bounded transactions, a
// rule's metadata only with or after its findings, the evaluations row
// running until Finish; given up unfinished, it says failed and its last,
// uncommitted findings are gone.
TEST_F(StoreTest, EvaluationWriterCommitsInBatchesAndMarksItsEnd) {
  auto store = Store::Open(Path("a.db"));
  ASSERT_TRUE(store) << store.error().ToString();
  auto scan = (*store)->BeginScan({});
  ASSERT_TRUE(scan);
  // A previous evaluation of rule a, and one of rule b that stays.
  EvaluationRecord previous;
  previous.started_at = previous.ended_at = "2026-01-01T00:00:00Z";
  previous.status = "complete";
  previous.rules = {{"a", Json{{"id", "a"}}}, {"b", Json{{"id", "b"}}}};
  auto old_findings = Findings("a", 0, 5);
  for (auto& f : Findings("b", 0, 3)) old_findings.push_back(std::move(f));
  ASSERT_TRUE((*store)->SaveEvaluation(*scan, previous, old_findings));

  auto reader = Store::Open(Path("a.db"), /*read_only=*/true);
  ASSERT_TRUE(reader);
  auto count = [&](const std::string& sql) { return CountWhere(**reader, sql); };
  {
    EvaluationRecord record;
    record.started_at = "2026-02-01T00:00:00Z";
    record.rules = {{"a", Json{{"id", "a"}}}};
    auto writer = (*store)->BeginEvaluation(*scan, record);
    ASSERT_TRUE(writer) << writer.error().ToString();
    EXPECT_EQ(count("SELECT count(*) FROM evaluations WHERE status = 'running' AND ended_at IS NULL"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM findings WHERE rule_id = 'a'"), 0);  // replaced...
    EXPECT_EQ(count("SELECT count(*) FROM scan_rules WHERE rule_id = 'a'"), 0);
    EXPECT_EQ(count("SELECT count(*) FROM findings WHERE rule_id = 'b'"), 3);  // ...others stay
    const int batch = static_cast<int>(kFindingsPerTransaction);
    ASSERT_TRUE((*writer)->AddFindings(Findings("a", 0, batch), "2026-02-01T00:00:01Z"));
    EXPECT_EQ(count("SELECT count(*) FROM findings WHERE rule_id = 'a'"), batch);  // committed
    ASSERT_TRUE((*writer)->AddFindings(Findings("a", batch, 10), "2026-02-01T00:00:02Z"));
    ASSERT_TRUE((*writer)->RuleDone("a", Json{{"id", "a"}}));
    EXPECT_EQ(count("SELECT count(*) FROM findings WHERE rule_id = 'a'"), batch);  // not yet
    EXPECT_EQ(count("SELECT count(*) FROM scan_rules WHERE rule_id = 'a'"), 0);
  }  // given up without Finish
  EXPECT_EQ(count("SELECT count(*) FROM evaluations WHERE status = 'failed' AND ended_at IS NOT NULL"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM scan_rules WHERE rule_id = 'a'"), 0);  // a is not claimed evaluated

  EvaluationRecord record;
  record.started_at = "2026-03-01T00:00:00Z";
  record.rules = {{"a", Json{{"id", "a"}}}};
  auto writer = (*store)->BeginEvaluation(*scan, record);
  ASSERT_TRUE(writer);
  ASSERT_TRUE((*writer)->AddFindings(Findings("a", 0, 4), "2026-03-01T00:00:01Z"));
  ASSERT_TRUE((*writer)->RemoveFindings("a"));  // the rule failed half-way
  ASSERT_TRUE((*writer)->AddFindings(Findings("a", 100, 1), "2026-03-01T00:00:02Z"));
  ASSERT_TRUE((*writer)->RuleDone("a", Json{{"id", "a"}}));
  ASSERT_TRUE((*writer)->Finish("errors", "2026-03-01T00:00:03Z"));
  EXPECT_FALSE((*writer)->AddFindings(Findings("a", 0, 1), "x"));
  writer->reset();
  EXPECT_EQ(count("SELECT count(*) FROM findings WHERE rule_id = 'a'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM scan_rules WHERE rule_id = 'a'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM evaluations WHERE status = 'errors' AND ended_at = '2026-03-01T00:00:03Z'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM findings WHERE rule_id = 'b'"), 3);
}

}  // namespace cloudaudit::store

namespace cloudaudit::store {
namespace {

// Schema 7 rebuilds the findings table keyed by (scan, rule, finding id): a
// store of schema 6 keeps every finding, and a finding stored twice for its
// rule is still replaced, not duplicated.
TEST_F(StoreTest, FindingsOfASchemaSixStoreSurviveTheRekey) {
  {
    auto store = Store::Open(Path("six.db"));
    ASSERT_TRUE(store);
    auto scan = (*store)->BeginScan({});
    ASSERT_TRUE(scan);
    EvaluationRecord record;
    record.started_at = record.ended_at = "2026-01-01T00:00:00Z";
    record.status = "complete";
    record.rules = {{"a", Json{{"id", "a"}}}, {"b", Json{{"id", "b"}}}};
    auto findings = Findings("a", 0, 50);
    for (auto& f : Findings("b", 0, 20)) findings.push_back(std::move(f));
    ASSERT_TRUE((*store)->SaveEvaluation(*scan, record, findings));
  }
  {
    // Back to the schema-6 table as that version created it.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(Path("six.db").c_str(), &db), SQLITE_OK);
    for (const char* sql : {"CREATE TABLE old AS SELECT * FROM findings", "DROP TABLE findings",
                            "CREATE TABLE findings(scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE, finding_id TEXT NOT NULL, "
                            "rule_id TEXT NOT NULL, service TEXT NOT NULL, severity TEXT NOT NULL, account_id TEXT NOT NULL, region TEXT NOT NULL, "
                            "resource TEXT NOT NULL, resource_name TEXT, status TEXT NOT NULL, reason TEXT NOT NULL, evidence TEXT, "
                            "remediation_cli TEXT, suppression TEXT, evaluated_at TEXT NOT NULL, PRIMARY KEY(scan_id, finding_id))",
                            "CREATE INDEX findings_by_rule ON findings(scan_id, rule_id)",
                            "CREATE INDEX findings_alarm_by_id ON findings(finding_id, scan_id) WHERE status = 'alarm'",
                            "INSERT INTO findings SELECT * FROM old", "DROP TABLE old", "UPDATE schema_version SET version = 6"})
      ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = Store::Open(Path("six.db"));
  ASSERT_TRUE(store) << store.error().ToString();
  EXPECT_EQ(CountWhere(**store, "SELECT version FROM schema_version"), kSchemaVersion);
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM findings"), 70);
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM findings WHERE rule_id = 'a' AND status = 'alarm'"), 25);
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM sqlite_master WHERE name = 'findings_by_rule' AND sql LIKE '%UNIQUE%rule_id, finding_id%'"), 1);
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM sqlite_master WHERE name = 'findings_alarm_by_id'"), 1);
  // The unique key still makes a second row of a finding replace the first.
  EvaluationRecord again;
  again.started_at = "2026-02-01T00:00:00Z";
  again.rules = {{"b", Json{{"id", "b"}}}};
  auto writer = (*store)->BeginEvaluation(1, again);
  ASSERT_TRUE(writer) << writer.error().ToString();
  auto twice = Findings("b", 0, 4);
  ASSERT_TRUE((*writer)->AddFindings(twice, "2026-02-01T00:00:01Z"));
  for (auto& f : twice) f.status = "error";
  ASSERT_TRUE((*writer)->AddFindings(twice, "2026-02-01T00:00:02Z"));
  ASSERT_TRUE((*writer)->RuleDone("b", Json{{"id", "b"}}));
  ASSERT_TRUE((*writer)->Finish("complete", "2026-02-01T00:00:03Z"));
  writer->reset();  // it holds the store until it goes
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM findings WHERE rule_id = 'b'"), 4);
  EXPECT_EQ(CountWhere(**store, "SELECT count(*) FROM findings WHERE rule_id = 'b' AND status = 'error'"), 4);
}

}  // namespace
}  // namespace cloudaudit::store
