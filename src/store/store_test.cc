#include "store/store.h"

#include <sqlite3.h>

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

}  // namespace
}  // namespace cloudaudit::store
