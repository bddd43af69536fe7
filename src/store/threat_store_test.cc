// Threat runs and alerts in the store (schema 4).
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "store/store.h"

namespace cloudaudit::store {
namespace {

namespace fs = std::filesystem;

class ThreatStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cloudaudit-threat-store-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

AlertRow Alert(const std::string& id, const std::string& time, const std::string& rule) {
  AlertRow a;
  a.alert_id = id;
  a.rule_id = rule;
  a.rule_title = "Title of " + rule;
  a.level = "high";
  a.tags = {"attack.defense_evasion", "attack.t1562.008"};
  a.event_time = time;
  a.event_id = "ev-" + id;
  a.event_name = "StopLogging";
  a.event_source = "cloudtrail.amazonaws.com";
  a.account_id = "111122223333";
  a.region = "us-east-1";
  a.principal = "arn:aws:iam::111122223333:user/alice";
  a.source_ip = "203.0.113.7";
  a.user_agent = "aws-cli/2";
  a.source = "logs/a.json.gz:16";
  a.record = R"({"eventID":"ev-)" + id + R"("})";
  return a;
}

TEST_F(ThreatStoreTest, RunsAndAlertsRoundTrip) {
  auto store = Store::Open(Path("t.db"));
  ASSERT_TRUE(store) << store.error().message;
  ThreatRun run;
  run.tool_version = "0.1.0";
  run.sources = Json::array({"logs/", "s3://b/AWSLogs/"});
  run.since = "2024-01-05T00:00:00Z";
  run.rules = 88;
  auto id = (*store)->BeginThreatRun(run);
  ASSERT_TRUE(id) << id.error().message;

  auto runs = (*store)->ListThreatRuns();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ(runs->at(0).status, "running");
  EXPECT_FALSE(runs->at(0).started_at.empty());
  EXPECT_TRUE(runs->at(0).ended_at.empty());

  std::vector<AlertRow> page1 = {Alert("b", "2024-01-05T10:02:00Z", "r.stop"), Alert("a", "2024-01-05T10:01:00Z", "r.stop")};
  std::vector<AlertRow> page2 = {Alert("c", "2024-01-05T10:01:00Z", "r.access_key")};
  page2[0].suppression = Json{{"rule", "r.*"}, {"owner", "sec"}};
  page2[0].source_ip.clear();
  ASSERT_TRUE((*store)->AddAlerts(*id, page1));
  ASSERT_TRUE((*store)->AddAlerts(*id, page2));
  ASSERT_TRUE((*store)->AddAlerts(*id, {}));
  // The same alert id again replaces the row.
  AlertRow again = Alert("a", "2024-01-05T10:01:00Z", "r.stop");
  again.level = "critical";
  ASSERT_TRUE((*store)->AddAlerts(*id, std::vector<AlertRow>{again}));

  run.status = "partial";
  run.records = 1000;
  run.malformed = 3;
  run.alerts = 2;
  ASSERT_TRUE((*store)->FinishThreatRun(*id, run));
  auto missing = (*store)->FinishThreatRun(*id + 100, run);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);

  store->reset();
  auto ro = Store::Open(Path("t.db"), /*read_only=*/true);
  ASSERT_TRUE(ro);
  runs = (*ro)->ListThreatRuns();
  ASSERT_TRUE(runs);
  ASSERT_EQ(runs->size(), 1u);
  const ThreatRun& r = runs->at(0);
  EXPECT_EQ(r.id, *id);
  EXPECT_EQ(r.status, "partial");
  EXPECT_FALSE(r.ended_at.empty());
  EXPECT_EQ(r.tool_version, "0.1.0");
  EXPECT_EQ(r.sources, Json::array({"logs/", "s3://b/AWSLogs/"}));
  EXPECT_EQ(r.since, "2024-01-05T00:00:00Z");
  EXPECT_EQ(r.until, "");
  EXPECT_EQ(r.rules, 88);
  EXPECT_EQ(r.records, 1000);
  EXPECT_EQ(r.malformed, 3);
  EXPECT_EQ(r.alerts, 2);

  auto alerts = (*ro)->ListAlerts(*id);
  ASSERT_TRUE(alerts) << alerts.error().message;
  ASSERT_EQ(alerts->size(), 3u);
  // By event time, then rule id.
  EXPECT_EQ(alerts->at(0).alert_id, "c");
  EXPECT_EQ(alerts->at(1).alert_id, "a");
  EXPECT_EQ(alerts->at(2).alert_id, "b");
  const AlertRow& a = alerts->at(1);
  EXPECT_EQ(a.run_id, *id);
  EXPECT_EQ(a.level, "critical");
  EXPECT_EQ(a.tags, (std::vector<std::string>{"attack.defense_evasion", "attack.t1562.008"}));
  EXPECT_EQ(a.rule_title, "Title of r.stop");
  EXPECT_EQ(a.event_id, "ev-a");
  EXPECT_EQ(a.event_name, "StopLogging");
  EXPECT_EQ(a.event_source, "cloudtrail.amazonaws.com");
  EXPECT_EQ(a.account_id, "111122223333");
  EXPECT_EQ(a.region, "us-east-1");
  EXPECT_EQ(a.principal, "arn:aws:iam::111122223333:user/alice");
  EXPECT_EQ(a.source_ip, "203.0.113.7");
  EXPECT_EQ(a.user_agent, "aws-cli/2");
  EXPECT_EQ(a.source, "logs/a.json.gz:16");
  EXPECT_EQ(a.record, R"({"eventID":"ev-a"})");
  EXPECT_TRUE(a.suppression.is_null());
  EXPECT_EQ(alerts->at(0).suppression, (Json{{"rule", "r.*"}, {"owner", "sec"}}));
  EXPECT_EQ(alerts->at(0).source_ip, "");
  EXPECT_TRUE((*ro)->ListAlerts(*id + 1)->empty());
}

TEST_F(ThreatStoreTest, AStoreOfSchema3GainsTheTables) {
  {
    auto store = Store::Open(Path("old.db"));
    ASSERT_TRUE(store);
  }
  // Back to schema 3, as a store written before threat detection.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(Path("old.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE alerts; DROP TABLE threat_runs; ALTER TABLE gaps DROP COLUMN members; "
                         "UPDATE schema_version SET version = 3",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    auto ro = Store::Open(Path("old.db"), /*read_only=*/true);
    ASSERT_TRUE(ro);
    auto runs = (*ro)->ListThreatRuns();
    ASSERT_TRUE(runs);
    EXPECT_TRUE(runs->empty());
    EXPECT_TRUE((*ro)->ListAlerts(1)->empty());
  }
  auto store = Store::Open(Path("old.db"));
  ASSERT_TRUE(store);
  auto id = (*store)->BeginThreatRun(ThreatRun{});
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE((*store)->AddAlerts(*id, std::vector<AlertRow>{Alert("x", "2024-01-05T10:00:00Z", "r")}));
  int64_t version = 0;
  ASSERT_TRUE((*store)->Query("SELECT version FROM schema_version", [&](const auto&, const std::vector<Json>& v) { version = v[0].get<int64_t>(); }));
  EXPECT_EQ(version, kSchemaVersion);
}

}  // namespace
}  // namespace cloudaudit::store
