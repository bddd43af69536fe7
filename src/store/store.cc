#include "store/store.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "base/time.h"

namespace cloudaudit::store {

namespace {

Error SqliteError(sqlite3* db, const std::string& what) {
  Error e;
  e.code = ErrorCode::kIo;
  e.message = fmt::format("{}: {}", what, db != nullptr ? sqlite3_errmsg(db) : "out of memory");
  return e;
}

// RAII prepared statement.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  sqlite3_stmt* get() { return stmt_; }
  void Bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

// Inserts `count` rows through one prepared statement in one transaction,
// rolled back whole on any failure. `bind(st, i)` binds row i.
Status InsertBatch(sqlite3* db, const char* what, const std::string& sql, size_t count,
                   const std::function<void(Statement&, size_t)>& bind) {
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return Fail(SqliteError(db, what));
  auto fail = [&]() {
    Error e = SqliteError(db, what);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return Fail(std::move(e));
  };
  {
    Statement st(db, sql);
    if (!st.ok()) return fail();
    for (size_t i = 0; i < count; ++i) {
      bind(st, i);
      if (st.Step() != SQLITE_DONE) return fail();
      st.Reset();
    }
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail();
  return {};
}

std::string JoinRegions(const std::vector<std::string>& regions) {
  Json arr = Json::array();
  for (const auto& r : regions) arr.push_back(r);
  return arr.dump();
}

std::vector<std::string> SplitRegions(const std::string& text) {
  std::vector<std::string> out;
  auto parsed = ParseJson(text);
  if (parsed && parsed->is_array())
    for (const auto& r : *parsed)
      if (r.is_string()) out.push_back(r.get<std::string>());
  return out;
}

std::string ColumnText(sqlite3_stmt* stmt, int i) {
  const unsigned char* t = sqlite3_column_text(stmt, i);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

// Identifiers come from spec files validated by the loader; quote anyway.
std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string QuoteLiteral(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_FULLMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Error e = SqliteError(db, "cannot open " + path);
    sqlite3_close(db);
    return Fail(std::move(e));
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Store> store(new Store(db));
  if (!read_only) {
    CA_TRY_STATUS(store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
    CA_TRY_STATUS(store->Migrate());
  } else {
    // Validate that this is a store we understand.
    Statement st(db, "SELECT version FROM schema_version");
    if (!st.ok() || st.Step() != SQLITE_ROW)
      return MakeError(ErrorCode::kParse, path + " is not a cloudaudit store (no schema_version table)");
    int64_t v = sqlite3_column_int64(st.get(), 0);
    if (v > kSchemaVersion)
      return MakeError(ErrorCode::kParse, fmt::format("{} has schema version {}, newer than this cloudaudit ({})", path, v, kSchemaVersion));
  }
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Status Store::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return MakeError(ErrorCode::kIo, "SQLite: " + msg);
  }
  return {};
}

Status Store::Migrate() {
  // Each migration moves the schema from version i to i+1; applied in order
  // inside a transaction, so a crash leaves the previous version intact.
  static const char* kMigrations[] = {
      R"sql(
      CREATE TABLE scans(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id TEXT NOT NULL DEFAULT '',
        partition TEXT NOT NULL DEFAULT 'aws',
        regions TEXT NOT NULL DEFAULT '[]',
        started_at TEXT NOT NULL,
        ended_at TEXT,
        tool_version TEXT NOT NULL,
        status TEXT NOT NULL);
      CREATE TABLE resources(
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        id TEXT NOT NULL,
        arn TEXT,
        name TEXT,
        tags TEXT,
        data TEXT NOT NULL,
        PRIMARY KEY(scan_id, type, account_id, region, id));
      CREATE TABLE gaps(
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        type TEXT NOT NULL,
        service TEXT NOT NULL,
        operation TEXT NOT NULL,
        region TEXT NOT NULL,
        resource TEXT NOT NULL DEFAULT '',
        error_code TEXT NOT NULL,
        message TEXT NOT NULL);
      CREATE INDEX gaps_by_scan_type ON gaps(scan_id, type);
      CREATE TABLE api_calls(
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        service TEXT NOT NULL,
        operation TEXT NOT NULL,
        region TEXT NOT NULL,
        calls INTEGER NOT NULL,
        errors INTEGER NOT NULL,
        elapsed_ms INTEGER NOT NULL);
      )sql",
  };
  CA_TRY_STATUS(Exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
  int64_t version = 0;
  {
    Statement st(db_, "SELECT version FROM schema_version");
    if (!st.ok()) return Fail(SqliteError(db_, "reading schema version"));
    if (st.Step() == SQLITE_ROW) {
      version = sqlite3_column_int64(st.get(), 0);
    } else {
      // A fresh file, or a SQLite file that is not ours.
      Statement tables(db_, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name NOT IN ('schema_version','sqlite_sequence')");
      if (tables.ok() && tables.Step() == SQLITE_ROW && sqlite3_column_int64(tables.get(), 0) > 0)
        return MakeError(ErrorCode::kParse, "this SQLite file is not a cloudaudit store");
      CA_TRY_STATUS(Exec("INSERT INTO schema_version(version) VALUES (0)"));
    }
  }
  if (version > kSchemaVersion)
    return MakeError(ErrorCode::kParse, fmt::format("store schema version {} is newer than this cloudaudit ({})", version, kSchemaVersion));
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    CA_TRY_STATUS(Exec("BEGIN IMMEDIATE"));
    auto applied = Exec(kMigrations[v]);
    if (applied) applied = Exec(fmt::format("UPDATE schema_version SET version = {}", v + 1));
    if (!applied) {
      (void)Exec("ROLLBACK");
      return applied;
    }
    CA_TRY_STATUS(Exec("COMMIT"));
  }
  return {};
}

Result<int64_t> Store::BeginScan(const ScanInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT INTO scans(account_id, partition, regions, started_at, tool_version, status) VALUES (?,?,?,?,?,'running')");
  if (!st.ok()) return Fail(SqliteError(db_, "BeginScan"));
  st.Bind(1, info.account_id);
  st.Bind(2, info.partition.empty() ? std::string("aws") : info.partition);
  st.Bind(3, JoinRegions(info.regions));
  st.Bind(4, info.started_at.empty() ? FormatIso8601Utc(NowEpochSeconds()) : info.started_at);
  st.Bind(5, info.tool_version);
  if (st.Step() != SQLITE_DONE) return Fail(SqliteError(db_, "BeginScan"));
  return sqlite3_last_insert_rowid(db_);
}

Status Store::FinishScan(int64_t scan_id, const std::string& status, const std::string& account_id,
                         const std::vector<std::string>& regions) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "UPDATE scans SET status=?, ended_at=?, account_id=?, regions=? WHERE id=?");
  if (!st.ok()) return Fail(SqliteError(db_, "FinishScan"));
  st.Bind(1, status);
  st.Bind(2, FormatIso8601Utc(NowEpochSeconds()));
  st.Bind(3, account_id);
  st.Bind(4, JoinRegions(regions));
  st.Bind(5, scan_id);
  if (st.Step() != SQLITE_DONE) return Fail(SqliteError(db_, "FinishScan"));
  return {};
}

Status Store::AddResources(int64_t scan_id, const std::vector<ResourceRow>& rows) {
  if (rows.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  return InsertBatch(db_, "AddResources",
                     "INSERT OR REPLACE INTO resources(scan_id, type, account_id, region, id, arn, name, tags, data) "
                     "VALUES (?,?,?,?,?,?,?,?,?)",
                     rows.size(), [&](Statement& st, size_t i) {
                       const ResourceRow& r = rows[i];
                       st.Bind(1, scan_id);
                       st.Bind(2, r.type);
                       st.Bind(3, r.account_id);
                       st.Bind(4, r.region);
                       st.Bind(5, r.id);
                       st.Bind(6, r.arn);
                       st.Bind(7, r.name);
                       if (r.tags.is_null()) st.BindNull(8);
                       else st.Bind(8, r.tags.dump(-1, ' ', false, Json::error_handler_t::replace));
                       st.Bind(9, r.data.dump(-1, ' ', false, Json::error_handler_t::replace));
                     });
}

Status Store::AddGap(int64_t scan_id, const Gap& gap) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "INSERT INTO gaps(scan_id, type, service, operation, region, resource, error_code, message) VALUES (?,?,?,?,?,?,?,?)");
  if (!st.ok()) return Fail(SqliteError(db_, "AddGap"));
  st.Bind(1, scan_id);
  st.Bind(2, gap.type);
  st.Bind(3, gap.service);
  st.Bind(4, gap.operation);
  st.Bind(5, gap.region);
  st.Bind(6, gap.resource);
  st.Bind(7, gap.error_code);
  st.Bind(8, gap.message);
  if (st.Step() != SQLITE_DONE) return Fail(SqliteError(db_, "AddGap"));
  return {};
}

Status Store::AddApiStats(int64_t scan_id, const std::vector<ApiCallStat>& stats) {
  std::lock_guard<std::mutex> lock(mu_);
  return InsertBatch(db_, "AddApiStats",
                     "INSERT INTO api_calls(scan_id, service, operation, region, calls, errors, elapsed_ms) "
                     "VALUES (?,?,?,?,?,?,?)",
                     stats.size(), [&](Statement& st, size_t i) {
                       const ApiCallStat& s = stats[i];
                       st.Bind(1, scan_id);
                       st.Bind(2, s.service);
                       st.Bind(3, s.operation);
                       st.Bind(4, s.region);
                       st.Bind(5, s.calls);
                       st.Bind(6, s.errors);
                       st.Bind(7, s.elapsed_ms);
                     });
}

Result<std::vector<ScanInfo>> Store::ListScans() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "SELECT id, account_id, partition, regions, started_at, COALESCE(ended_at,''), tool_version, status FROM scans ORDER BY id");
  if (!st.ok()) return Fail(SqliteError(db_, "ListScans"));
  std::vector<ScanInfo> out;
  while (st.Step() == SQLITE_ROW) {
    ScanInfo s;
    s.id = sqlite3_column_int64(st.get(), 0);
    s.account_id = ColumnText(st.get(), 1);
    s.partition = ColumnText(st.get(), 2);
    s.regions = SplitRegions(ColumnText(st.get(), 3));
    s.started_at = ColumnText(st.get(), 4);
    s.ended_at = ColumnText(st.get(), 5);
    s.tool_version = ColumnText(st.get(), 6);
    s.status = ColumnText(st.get(), 7);
    out.push_back(std::move(s));
  }
  return out;
}

Result<int64_t> Store::LatestScanId() {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "SELECT max(id) FROM scans");
  if (!st.ok() || st.Step() != SQLITE_ROW || sqlite3_column_type(st.get(), 0) == SQLITE_NULL)
    return MakeError(ErrorCode::kNotFound, "the store holds no scan yet: run `cloudaudit collect` first");
  return sqlite3_column_int64(st.get(), 0);
}

Status Store::CreateScanViews(int64_t scan_id, const std::vector<ViewSpec>& views) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& v : views) {
    std::string sql = fmt::format("DROP VIEW IF EXISTS temp.{0}; CREATE TEMP VIEW {0} AS SELECT account_id, region, id, arn, name, tags, data",
                                  QuoteIdent(v.table));
    for (const auto& c : v.columns) {
      std::string expr = fmt::format("json_extract(data, {})", QuoteLiteral(c.json_path));
      // JSON columns: objects and arrays come back as JSON text, scalars as SQL values.
      // Booleans: JSON true/false, and the "true"/"false" strings some APIs
      // return (SNS and SQS attributes), become 1/0.
      if (c.sql_type == "BOOLEAN")
        expr = fmt::format("CASE lower(json_extract(data, {0})) WHEN 'true' THEN 1 WHEN 'false' THEN 0 "
                           "ELSE CAST(json_extract(data, {0}) AS INTEGER) END",
                           QuoteLiteral(c.json_path));
      sql += fmt::format(", {} AS {}", expr, QuoteIdent(c.name));
    }
    sql += fmt::format(" FROM resources WHERE scan_id = {} AND type = {}", scan_id, QuoteLiteral(v.table));
    CA_TRY_STATUS(Exec(sql));
  }
  return {};
}

Status Store::Query(const std::string& sql,
                    const std::function<void(const std::vector<std::string>&, const std::vector<Json>&)>& on_row) {
  std::lock_guard<std::mutex> lock(mu_);
  const char* tail = sql.c_str();
  const char* end = sql.c_str() + sql.size();
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, tail, static_cast<int>(end - tail), &raw, &tail) != SQLITE_OK) {
      Error e = SqliteError(db_, "query");
      e.code = ErrorCode::kInvalidArgument;
      return Fail(std::move(e));
    }
    if (raw == nullptr) break;  // trailing whitespace or comment
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    if (!sqlite3_stmt_readonly(raw))
      return MakeError(ErrorCode::kInvalidArgument, "only read-only SQL is allowed (SELECT, WITH, read-only PRAGMA)");
    int n = sqlite3_column_count(raw);
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) names.emplace_back(sqlite3_column_name(raw, i));
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      std::vector<Json> values;
      for (int i = 0; i < n; ++i) {
        switch (sqlite3_column_type(raw, i)) {
          case SQLITE_INTEGER: values.emplace_back(static_cast<int64_t>(sqlite3_column_int64(raw, i))); break;
          case SQLITE_FLOAT: values.emplace_back(sqlite3_column_double(raw, i)); break;
          case SQLITE_NULL: values.emplace_back(nullptr); break;
          default: values.emplace_back(ColumnText(raw, i));
        }
      }
      on_row(names, values);
    }
    if (rc != SQLITE_DONE) {
      Error e = SqliteError(db_, "query");
      e.code = ErrorCode::kInvalidArgument;
      return Fail(std::move(e));
    }
  }
  return {};
}

}  // namespace cloudaudit::store
