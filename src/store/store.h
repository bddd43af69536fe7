// The inventory store: one SQLite file (WAL) holding scans, the resources
// of each scan (full JSON document plus identity columns), collection gaps
// and API call statistics. Several scans and accounts can live in one file.
//
// Thread safety: a Store serializes its own writes (one connection, one
// mutex); use one Store per process per file. A scan interrupted by kill -9
// leaves the file readable with the scan's status still "running", which
// readers report as incomplete.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

struct sqlite3;

namespace cloudaudit::store {

inline constexpr int kSchemaVersion = 1;

struct ScanInfo {
  int64_t id = 0;
  std::string account_id;
  std::string partition;
  std::vector<std::string> regions;
  std::string started_at;  // ISO-8601 UTC
  std::string ended_at;
  std::string tool_version;
  std::string status;  // running | complete | partial | failed
};

struct ResourceRow {
  std::string type;  // table name, e.g. aws_iam_user
  std::string account_id;
  std::string region;  // "global" for global resources
  std::string id;
  std::string arn;
  std::string name;
  Json tags;  // {"Key": "Value"} or null
  Json data;  // the full document
};

struct Gap {
  std::string type;  // resource table concerned
  std::string service;
  std::string operation;
  std::string region;
  std::string resource;  // resource id, empty for a whole listing
  std::string error_code;
  std::string message;
};

struct ApiCallStat {
  std::string service, operation, region;
  int64_t calls = 0, errors = 0;
  int64_t elapsed_ms = 0;
};

// A column of a per-resource-type view.
struct ViewColumn {
  std::string name;
  std::string sql_type;  // TEXT, INTEGER, REAL, JSON, BOOLEAN, TIMESTAMP
  std::string json_path;  // SQLite JSON path, e.g. $.UserName
};

struct ViewSpec {
  std::string table;
  std::vector<ViewColumn> columns;
};

class Store {
 public:
  // Opens or creates `path`, applying migrations. kParse for a file that is
  // not a cloudaudit store (or from a newer version), kIo when unreadable.
  static Result<std::unique_ptr<Store>> Open(const std::string& path, bool read_only = false);
  ~Store();

  Result<int64_t> BeginScan(const ScanInfo& info);
  Status FinishScan(int64_t scan_id, const std::string& status, const std::string& account_id,
                    const std::vector<std::string>& regions);
  // Inserts rows in one transaction (a page at a time keeps memory flat).
  Status AddResources(int64_t scan_id, const std::vector<ResourceRow>& rows);
  Status AddGap(int64_t scan_id, const Gap& gap);
  Status AddApiStats(int64_t scan_id, const std::vector<ApiCallStat>& stats);

  Result<std::vector<ScanInfo>> ListScans();
  // The newest scan id (complete or not); kNotFound when the store is empty.
  Result<int64_t> LatestScanId();
  // `requested` when positive, else the newest scan.
  Result<int64_t> ResolveScanId(int64_t requested) { return requested > 0 ? Result<int64_t>(requested) : LatestScanId(); }

  // Creates TEMP views, one per resource type, over the given scan's rows:
  // identity columns (account_id, region, id, arn, name, tags, data) then the
  // typed columns.
  Status CreateScanViews(int64_t scan_id, const std::vector<ViewSpec>& views);

  // Runs read-only SQL; calls on_row for each row with column names and
  // values as JSON scalars. Refuses statements that would write.
  Status Query(const std::string& sql,
               const std::function<void(const std::vector<std::string>& names, const std::vector<Json>& values)>& on_row);

  sqlite3* handle() { return db_; }

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  Status Migrate();

  sqlite3* db_ = nullptr;
  std::mutex mu_;
};

}  // namespace cloudaudit::store
