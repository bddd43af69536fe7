#include "store/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>

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

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

std::string BootId() {
  std::string id = ReadSmallFile("/proc/sys/kernel/random/boot_id");
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

// State (field 3) and start time (field 22) from /proc/<pid>/stat; the
// command name (field 2) is in parentheses and may hold spaces.
bool ProcStat(int64_t pid, char* state, std::string* start_ticks) {
  std::string stat = ReadSmallFile(fmt::format("/proc/{}/stat", pid));
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 3) *state = field.empty() ? '?' : field[0];
    if (i == 22) {
      *start_ticks = field;
      return true;
    }
  }
  return false;
}

}  // namespace

ProcessRecord CurrentProcess() {
  ProcessRecord p;
  p.pid = static_cast<int64_t>(::getpid());
  p.host = HostName();
  char state = 0;
  std::string ticks;
  std::string boot = BootId();
  if (!boot.empty() && ProcStat(p.pid, &state, &ticks)) p.started = boot + "/" + ticks;
  return p;
}

bool ProcessIsGone(const ProcessRecord& process) {
  if (process.pid <= 0) return true;                // written before scans recorded their process
  if (process.host != HostName()) return false;     // another machine: cannot tell
  std::string boot, ticks;
  if (size_t slash = process.started.find('/'); slash != std::string::npos) {
    boot = process.started.substr(0, slash);
    ticks = process.started.substr(slash + 1);
    if (boot != BootId()) return true;  // rebooted since
  }
  if (::kill(static_cast<pid_t>(process.pid), 0) != 0 && errno == ESRCH) return true;
  char state = 0;
  std::string now_ticks;
  if (!ProcStat(process.pid, &state, &now_ticks)) return false;  // no /proc: it exists, as far as we know
  if (state == 'Z' || state == 'X') return true;                 // killed, not yet reaped
  return !ticks.empty() && now_ticks != ticks;                   // the pid was reused
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, bool read_only) {
  // Memory statistics make every SQLite allocation take one process-wide
  // mutex, which the rule evaluator's threads then fight over. Only possible
  // before SQLite initializes (the first open); later it is a no-op.
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
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
  store->read_only_ = read_only;
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
    store->schema_version_ = v;
  }
  CA_TRY_STATUS(store->ReportAbandonedScans());
  return store;
}

Result<std::vector<int64_t>> Store::AbandonedScans() {
  const bool has_process = schema_version_ >= 3;
  Statement st(db_, has_process ? "SELECT id, pid, host, process_started FROM main.scans WHERE status = 'running'"
                                : "SELECT id FROM main.scans WHERE status = 'running'");
  if (!st.ok()) return Fail(SqliteError(db_, "reading running scans"));
  std::vector<int64_t> out;
  while (st.Step() == SQLITE_ROW) {
    ProcessRecord p;
    if (has_process) {
      p.pid = sqlite3_column_int64(st.get(), 1);
      p.host = ColumnText(st.get(), 2);
      p.started = ColumnText(st.get(), 3);
    }
    if (ProcessIsGone(p)) out.push_back(sqlite3_column_int64(st.get(), 0));
  }
  return out;
}

Status Store::ReportAbandonedScans() {
  CA_TRY(std::vector<int64_t> ids, AbandonedScans());
  if (ids.empty()) return {};
  if (!read_only_) {
    for (int64_t id : ids) {
      CA_TRY_STATUS(Exec(fmt::format("UPDATE main.scans SET status = 'incomplete' WHERE id = {} AND status = 'running'", id)));
    }
    return {};
  }
  // Read-only: a TEMP view named like the table shadows it for unqualified
  // names, with the same columns in the same order.
  std::string ids_sql;
  for (int64_t id : ids) ids_sql += (ids_sql.empty() ? "" : ",") + std::to_string(id);
  std::string columns;
  {
    Statement st(db_, "SELECT name FROM pragma_table_info('scans', 'main') ORDER BY cid");
    if (!st.ok()) return Fail(SqliteError(db_, "reading the scans table"));
    while (st.Step() == SQLITE_ROW) {
      std::string name = ColumnText(st.get(), 0);
      if (!columns.empty()) columns += ", ";
      columns += name == "status" ? fmt::format("CASE WHEN id IN ({}) THEN 'incomplete' ELSE status END AS status", ids_sql)
                                  : QuoteIdent(name);
    }
  }
  return Exec(fmt::format("DROP VIEW IF EXISTS temp.scans; CREATE TEMP VIEW scans AS SELECT {} FROM main.scans", columns));
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
      // 2: rule evaluation. Findings of a scan, with a snapshot of the rules
      // that produced them so reports need nothing but the store.
      R"sql(
      CREATE TABLE evaluations(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        tool_version TEXT NOT NULL,
        selection TEXT NOT NULL DEFAULT '{}',
        status TEXT NOT NULL);
      CREATE TABLE scan_rules(
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        rule_id TEXT NOT NULL,
        document TEXT NOT NULL,
        PRIMARY KEY(scan_id, rule_id));
      CREATE TABLE findings(
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        finding_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        service TEXT NOT NULL,
        severity TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        resource TEXT NOT NULL,
        resource_name TEXT,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT,
        remediation_cli TEXT,
        suppression TEXT,
        evaluated_at TEXT NOT NULL,
        PRIMARY KEY(scan_id, finding_id));
      CREATE INDEX findings_by_rule ON findings(scan_id, rule_id);
      CREATE INDEX findings_by_id ON findings(finding_id, scan_id);
      )sql",
      // 3: the process collecting a scan, so that a scan whose process died
      // (kill -9, crash) reads as incomplete rather than running forever.
      R"sql(
      ALTER TABLE scans ADD COLUMN pid INTEGER;
      ALTER TABLE scans ADD COLUMN host TEXT;
      ALTER TABLE scans ADD COLUMN process_started TEXT;
      )sql",
      // 4: threat detection. Runs of `cloudaudit threats` over CloudTrail
      // sources and the alerts they raised, each with its record as evidence.
      R"sql(
      CREATE TABLE threat_runs(
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        status TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        sources TEXT NOT NULL DEFAULT '[]',
        since TEXT,
        until TEXT,
        rules INTEGER NOT NULL DEFAULT 0,
        records INTEGER NOT NULL DEFAULT 0,
        malformed INTEGER NOT NULL DEFAULT 0,
        alerts INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE alerts(
        run_id INTEGER NOT NULL REFERENCES threat_runs(id) ON DELETE CASCADE,
        alert_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        rule_title TEXT NOT NULL,
        level TEXT NOT NULL,
        tags TEXT NOT NULL DEFAULT '[]',
        event_time TEXT NOT NULL,
        event_id TEXT,
        event_name TEXT,
        event_source TEXT,
        account_id TEXT,
        region TEXT,
        principal TEXT,
        source_ip TEXT,
        user_agent TEXT,
        source TEXT NOT NULL,
        record TEXT NOT NULL,
        suppression TEXT,
        PRIMARY KEY(run_id, alert_id));
      CREATE INDEX alerts_by_time ON alerts(run_id, event_time, rule_id);
      CREATE INDEX alerts_by_rule ON alerts(run_id, rule_id);
      )sql",
      // 5: a per-resource gap names the document members its failed call
      // would have filled (JSON array; NULL: the whole resource).
      R"sql(
      ALTER TABLE gaps ADD COLUMN members TEXT;
      )sql",
      // 6: the finding-id index serves only "first seen" of alarms, so it
      // holds only alarms. Keyed by a hash, every insert lands at a random
      // page: at 20 M findings (86 % passing) indexing them all doubled the
      // evaluation's disk writes (docs/performance.md, "Evaluation").
      R"sql(
      DROP INDEX IF EXISTS findings_by_id;
      CREATE INDEX IF NOT EXISTS findings_alarm_by_id ON findings(finding_id, scan_id) WHERE status = 'alarm';
      )sql",
      // 7: findings are unique per (scan, rule, finding id) instead of
      // (scan, finding id) — the same thing, a finding id hashes its rule —
      // so an evaluation's inserts land in the current rule's part of the
      // index, which stays in the page cache, instead of at random pages of
      // an index as large as the scan (docs/performance.md, "Evaluation").
      // The table is rebuilt: SQLite cannot change a primary key in place.
      R"sql(
      CREATE TABLE findings_v7(
        scan_id INTEGER NOT NULL REFERENCES scans(id) ON DELETE CASCADE,
        finding_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        service TEXT NOT NULL,
        severity TEXT NOT NULL,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        resource TEXT NOT NULL,
        resource_name TEXT,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        evidence TEXT,
        remediation_cli TEXT,
        suppression TEXT,
        evaluated_at TEXT NOT NULL);
      INSERT INTO findings_v7 SELECT scan_id, finding_id, rule_id, service, severity, account_id, region, resource,
        resource_name, status, reason, evidence, remediation_cli, suppression, evaluated_at FROM findings ORDER BY scan_id, rule_id;
      DROP TABLE findings;
      ALTER TABLE findings_v7 RENAME TO findings;
      CREATE UNIQUE INDEX findings_by_rule ON findings(scan_id, rule_id, finding_id);
      CREATE INDEX findings_alarm_by_id ON findings(finding_id, scan_id) WHERE status = 'alarm';
      )sql",
  };
  static_assert(std::size(kMigrations) == kSchemaVersion, "one migration per schema version");
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
               "INSERT INTO scans(account_id, partition, regions, started_at, tool_version, status, pid, host, "
               "process_started) VALUES (?,?,?,?,?,'running',?,?,?)");
  if (!st.ok()) return Fail(SqliteError(db_, "BeginScan"));
  const ProcessRecord process = info.process.pid > 0 ? info.process : CurrentProcess();
  st.Bind(1, info.account_id);
  st.Bind(2, info.partition.empty() ? std::string("aws") : info.partition);
  st.Bind(3, JoinRegions(info.regions));
  st.Bind(4, info.started_at.empty() ? FormatIso8601Utc(NowEpochSeconds()) : info.started_at);
  st.Bind(5, info.tool_version);
  st.Bind(6, process.pid);
  st.Bind(7, process.host);
  st.Bind(8, process.started);
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
  Statement st(db_, "INSERT INTO gaps(scan_id, type, service, operation, region, resource, error_code, message, members) "
                    "VALUES (?,?,?,?,?,?,?,?,?)");
  if (!st.ok()) return Fail(SqliteError(db_, "AddGap"));
  st.Bind(1, scan_id);
  st.Bind(2, gap.type);
  st.Bind(3, gap.service);
  st.Bind(4, gap.operation);
  st.Bind(5, gap.region);
  st.Bind(6, gap.resource);
  st.Bind(7, gap.error_code);
  st.Bind(8, gap.message);
  if (gap.members.empty()) st.BindNull(9);
  else st.Bind(9, Json(gap.members).dump());
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
  // Scans whose process died since the store was opened.
  CA_TRY(std::vector<int64_t> abandoned, AbandonedScans());
  if (!abandoned.empty() && !read_only_) CA_TRY_STATUS(ReportAbandonedScans());
  const bool has_process = schema_version_ >= 3;
  Statement st(db_, std::string("SELECT id, account_id, partition, regions, started_at, COALESCE(ended_at,''), tool_version, "
                                "status") +
                        (has_process ? ", COALESCE(pid, 0), COALESCE(host, ''), COALESCE(process_started, '')" : "") +
                        " FROM main.scans ORDER BY id");
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
    if (has_process) {
      s.process.pid = sqlite3_column_int64(st.get(), 8);
      s.process.host = ColumnText(st.get(), 9);
      s.process.started = ColumnText(st.get(), 10);
    }
    if (s.status == "running" && std::find(abandoned.begin(), abandoned.end(), s.id) != abandoned.end())
      s.status = "incomplete";
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

namespace {

// The SQL that creates one type's view or table (`schema`.`table`) over the
// scan's rows of `source`.resources.
std::string TypeTableSql(int64_t scan_id, const ViewSpec& v, bool materialize, const std::string& schema, const std::string& source) {
  std::string sql = fmt::format("DROP VIEW IF EXISTS {0}.{1}; DROP TABLE IF EXISTS {0}.{1}; CREATE {2} {0}.{1} AS "
                                "SELECT account_id, region, id, arn, name, tags, data",
                                schema, QuoteIdent(v.table), materialize ? "TABLE" : "VIEW");
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
  sql += fmt::format(" FROM {}.resources WHERE scan_id = {} AND type = {}", source, scan_id, QuoteLiteral(v.table));
  // Lookups by identity from correlated subqueries — `(SELECT ... FROM t
  // WHERE t.arn = outer.x)`, the common way rules follow a reference — never
  // get an automatic index (SQLite builds those only for join loops), so
  // without these they scan the table once per outer row.
  if (materialize)
    for (const char* column : {"arn", "id", "name"})
      sql += fmt::format("; CREATE INDEX {}.{} ON {}({})", schema, QuoteIdent(fmt::format("{}__by_{}", v.table, column)),
                         QuoteIdent(v.table), column);
  return sql;
}

}  // namespace

Status Store::CreateScanViews(int64_t scan_id, const std::vector<ViewSpec>& views, bool materialize) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& v : views) CA_TRY_STATUS(Exec(TypeTableSql(scan_id, v, materialize, "temp", "main")));
  return {};
}

Result<std::unique_ptr<Store>> Store::OpenScanCopy(const std::string& path, int64_t scan_id, const std::vector<ViewSpec>& views) {
  sqlite3* db = nullptr;
  // "": a private database in a temporary file, deleted when closed.
  if (sqlite3_open_v2("", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    Error e = SqliteError(db, "cannot open a scratch database");
    sqlite3_close(db);
    return Fail(std::move(e));
  }
  std::unique_ptr<Store> copy(new Store(db));
  copy->read_only_ = true;
  CA_TRY_STATUS(copy->Exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF"));  // scratch: nothing to recover
  {
    Statement attach(db, "ATTACH DATABASE ? AS inventory");
    if (!attach.ok()) return Fail(SqliteError(db, "cannot attach " + path));
    attach.Bind(1, path);
    if (attach.Step() != SQLITE_DONE) return Fail(SqliteError(db, "cannot attach " + path));
  }
  Status copied = copy->Exec("BEGIN");
  for (size_t i = 0; copied && i < views.size(); ++i) copied = copy->Exec(TypeTableSql(scan_id, views[i], true, "main", "inventory"));
  if (copied) copied = copy->Exec("COMMIT");
  if (!copied) {
    (void)copy->Exec("ROLLBACK");
    return Fail(copied.error());
  }
  CA_TRY_STATUS(copy->Exec("DETACH DATABASE inventory"));
  return copy;
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

Result<std::vector<Gap>> Store::ListGaps(int64_t scan_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // A store opened read-only may predate schema 5 (no `members`).
  const bool has_members = schema_version_ >= 5;
  Statement st(db_, fmt::format("SELECT type, service, operation, region, resource, error_code, message, {} FROM gaps "
                                "WHERE scan_id=? ORDER BY rowid",
                                has_members ? "members" : "NULL"));
  if (!st.ok()) return Fail(SqliteError(db_, "ListGaps"));
  st.Bind(1, scan_id);
  std::vector<Gap> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    Gap g;
    g.type = ColumnText(st.get(), 0);
    g.service = ColumnText(st.get(), 1);
    g.operation = ColumnText(st.get(), 2);
    g.region = ColumnText(st.get(), 3);
    g.resource = ColumnText(st.get(), 4);
    g.error_code = ColumnText(st.get(), 5);
    g.message = ColumnText(st.get(), 6);
    // Anything but a list of names reads as "the whole resource": the safe side.
    if (auto members = ParseJson(ColumnText(st.get(), 7)); members && members->is_array()) {
      for (const auto& m : *members) {
        if (!m.is_string()) {
          g.members.clear();
          break;
        }
        g.members.push_back(m.get<std::string>());
      }
    }
    out.push_back(std::move(g));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "ListGaps"));
  return out;
}

Result<std::unique_ptr<EvaluationWriter>> Store::BeginEvaluation(int64_t scan_id, const EvaluationRecord& record) {
  std::unique_ptr<EvaluationWriter> w(new EvaluationWriter(this, scan_id));
  w->store_lock_ = std::unique_lock<std::mutex>(mu_);
  {
    Statement cache(db_, "PRAGMA cache_size");
    w->saved_cache_size_ = cache.ok() && cache.Step() == SQLITE_ROW ? sqlite3_column_int64(cache.get(), 0) : 0;
  }
  if (w->saved_cache_size_ != 0) {
    CA_TRY_STATUS(Exec(fmt::format("PRAGMA cache_size = -{}", kEvaluationCacheKiB)));
  }
  CA_TRY_STATUS(w->Begin());
  {
    Statement ev(db_, "INSERT INTO evaluations(scan_id, started_at, tool_version, selection, status) VALUES (?,?,?,?,'running')");
    Statement del(db_, "DELETE FROM findings WHERE scan_id=? AND rule_id=?");
    Statement unsnap(db_, "DELETE FROM scan_rules WHERE scan_id=? AND rule_id=?");
    if (!ev.ok() || !del.ok() || !unsnap.ok()) return Fail(w->Abort("BeginEvaluation").error());
    ev.Bind(1, scan_id);
    ev.Bind(2, record.started_at);
    ev.Bind(3, record.tool_version);
    ev.Bind(4, record.selection.dump());
    if (ev.Step() != SQLITE_DONE) return Fail(w->Abort("BeginEvaluation").error());
    w->evaluation_id_ = sqlite3_last_insert_rowid(db_);
    for (const auto& [rule_id, doc] : record.rules) {
      for (Statement* st : {&del, &unsnap}) {
        st->Bind(1, scan_id);
        st->Bind(2, rule_id);
        if (st->Step() != SQLITE_DONE) return Fail(w->Abort("BeginEvaluation").error());
        st->Reset();
      }
    }
  }
  CA_TRY_STATUS(w->Commit());
  const std::string sql =
      "INSERT OR REPLACE INTO findings(scan_id, finding_id, rule_id, service, severity, account_id, region, resource, "
      "resource_name, status, reason, evidence, remediation_cli, suppression, evaluated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &w->insert_, nullptr) != SQLITE_OK)
    return Fail(w->Abort("BeginEvaluation").error());
  return w;
}

EvaluationWriter::~EvaluationWriter() {
  sqlite3_finalize(insert_);
  sqlite3* db = store_->db_;
  if (in_transaction_) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  if (evaluation_id_ != 0 && !finished_) {
    // Best effort: an evaluation given up after an error says so.
    sqlite3_exec(db,
                 fmt::format("UPDATE evaluations SET status = 'failed', ended_at = '{}' WHERE id = {}",
                             FormatIso8601Utc(NowEpochSeconds()), evaluation_id_)
                     .c_str(),
                 nullptr, nullptr, nullptr);
  }
  if (saved_cache_size_ != 0)
    sqlite3_exec(db, fmt::format("PRAGMA cache_size = {}", saved_cache_size_).c_str(), nullptr, nullptr, nullptr);
}

Status EvaluationWriter::Begin() {
  if (in_transaction_) return {};
  if (sqlite3_exec(store_->db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return Abort("SaveEvaluation");
  in_transaction_ = true;
  return {};
}

Status EvaluationWriter::Commit() {
  if (!in_transaction_) return {};
  if (sqlite3_exec(store_->db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return Abort("SaveEvaluation");
  in_transaction_ = false;
  pending_ = 0;
  return {};
}

Status EvaluationWriter::Abort(const std::string& what) {
  Error e = SqliteError(store_->db_, what);
  if (in_transaction_) sqlite3_exec(store_->db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_transaction_ = false;
  usable_ = false;
  return cloudaudit::Fail(std::move(e));
}

Status EvaluationWriter::AddFindings(const std::vector<FindingRow>& findings, const std::string& evaluated_at) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!usable_ || finished_) return MakeError(ErrorCode::kInternal, "AddFindings: the evaluation was finished or failed");
  CA_TRY_STATUS(Begin());
  sqlite3_stmt* st = insert_;
  auto text = [&](int i, const std::string& v) { sqlite3_bind_text(st, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC); };
  auto text_or_null = [&](int i, const std::string& v) {
    if (v.empty()) sqlite3_bind_null(st, i);
    else text(i, v);
  };
  for (const auto& f : findings) {
    // SQLITE_STATIC: every string outlives the step below.
    const std::string suppression = f.suppression.is_null() ? std::string() : f.suppression.dump();
    sqlite3_bind_int64(st, 1, scan_id_);
    text(2, f.finding_id);
    text(3, f.rule_id);
    text(4, f.service);
    text(5, f.severity);
    text(6, f.account_id);
    text(7, f.region);
    text(8, f.resource);
    text(9, f.resource_name);
    text(10, f.status);
    text(11, f.reason);
    text_or_null(12, f.evidence);
    text_or_null(13, f.remediation_cli);
    text_or_null(14, suppression);
    text(15, evaluated_at);
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return Abort("SaveEvaluation");
  }
  sqlite3_clear_bindings(st);
  pending_ += findings.size();
  // Bounded transactions keep the write-ahead log, and the cost of finding
  // pages in it, small.
  if (pending_ >= kFindingsPerTransaction) return Commit();
  return {};
}

Status EvaluationWriter::RemoveFindings(const std::string& rule_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!usable_ || finished_) return MakeError(ErrorCode::kInternal, "RemoveFindings: the evaluation was finished or failed");
  CA_TRY_STATUS(Begin());
  Statement del(store_->db_, "DELETE FROM findings WHERE scan_id=? AND rule_id=?");
  if (!del.ok()) return Abort("SaveEvaluation");
  del.Bind(1, scan_id_);
  del.Bind(2, rule_id);
  if (del.Step() != SQLITE_DONE) return Abort("SaveEvaluation");
  return {};
}

Status EvaluationWriter::RuleDone(const std::string& rule_id, const Json& document) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!usable_ || finished_) return MakeError(ErrorCode::kInternal, "RuleDone: the evaluation was finished or failed");
  // In the open transaction, or a later one than the rule's last findings.
  CA_TRY_STATUS(Begin());
  Statement snap(store_->db_, "INSERT OR REPLACE INTO scan_rules(scan_id, rule_id, document) VALUES (?,?,?)");
  if (!snap.ok()) return Abort("SaveEvaluation");
  snap.Bind(1, scan_id_);
  snap.Bind(2, rule_id);
  snap.Bind(3, document.dump());
  if (snap.Step() != SQLITE_DONE) return Abort("SaveEvaluation");
  return {};
}

Status EvaluationWriter::Finish(const std::string& status, const std::string& ended_at) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!usable_ || finished_) return MakeError(ErrorCode::kInternal, "Finish: the evaluation was finished or failed");
  CA_TRY_STATUS(Begin());
  Statement ev(store_->db_, "UPDATE evaluations SET ended_at = ?, status = ? WHERE id = ?");
  if (!ev.ok()) return Abort("SaveEvaluation");
  ev.Bind(1, ended_at);
  ev.Bind(2, status);
  ev.Bind(3, evaluation_id_);
  if (ev.Step() != SQLITE_DONE) return Abort("SaveEvaluation");
  CA_TRY_STATUS(Commit());
  finished_ = true;
  return {};
}

Status Store::SaveEvaluation(int64_t scan_id, const EvaluationRecord& record, const std::vector<FindingRow>& findings) {
  CA_TRY(auto writer, BeginEvaluation(scan_id, record));
  CA_TRY_STATUS(writer->AddFindings(findings, record.ended_at));
  for (const auto& [rule_id, doc] : record.rules) {
    CA_TRY_STATUS(writer->RuleDone(rule_id, doc));
  }
  return writer->Finish(record.status, record.ended_at);
}

Result<std::vector<FindingRow>> Store::ListFindings(int64_t scan_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT finding_id, rule_id, service, severity, account_id, region, resource, COALESCE(resource_name,''), status, reason, "
               "COALESCE(evidence,''), COALESCE(remediation_cli,''), suppression FROM findings WHERE scan_id=? ORDER BY rule_id, resource");
  if (!st.ok()) return Fail(SqliteError(db_, "ListFindings"));
  st.Bind(1, scan_id);
  std::vector<FindingRow> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    FindingRow f;
    f.finding_id = ColumnText(st.get(), 0);
    f.rule_id = ColumnText(st.get(), 1);
    f.service = ColumnText(st.get(), 2);
    f.severity = ColumnText(st.get(), 3);
    f.account_id = ColumnText(st.get(), 4);
    f.region = ColumnText(st.get(), 5);
    f.resource = ColumnText(st.get(), 6);
    f.resource_name = ColumnText(st.get(), 7);
    f.status = ColumnText(st.get(), 8);
    f.reason = ColumnText(st.get(), 9);
    f.evidence = ColumnText(st.get(), 10);
    f.remediation_cli = ColumnText(st.get(), 11);
    if (sqlite3_column_type(st.get(), 12) != SQLITE_NULL) {
      auto parsed = ParseJson(ColumnText(st.get(), 12));
      if (parsed) f.suppression = std::move(*parsed);
    }
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "ListFindings"));
  return out;
}

Result<std::vector<std::pair<std::string, Json>>> Store::ListScanRules(int64_t scan_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "SELECT rule_id, document FROM scan_rules WHERE scan_id=? ORDER BY rule_id");
  if (!st.ok()) return Fail(SqliteError(db_, "ListScanRules"));
  st.Bind(1, scan_id);
  std::vector<std::pair<std::string, Json>> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    auto doc = ParseJson(ColumnText(st.get(), 1));
    if (!doc) return MakeError(ErrorCode::kParse, "scan_rules holds a document that is not JSON: " + doc.error().message);
    out.emplace_back(ColumnText(st.get(), 0), std::move(*doc));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "ListScanRules"));
  return out;
}

Result<int64_t> Store::BeginThreatRun(const ThreatRun& run) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "INSERT INTO threat_runs(started_at, status, tool_version, sources, since, until, rules) "
               "VALUES (?,'running',?,?,?,?,?)");
  if (!st.ok()) return Fail(SqliteError(db_, "BeginThreatRun"));
  st.Bind(1, run.started_at.empty() ? FormatIso8601Utc(NowEpochSeconds()) : run.started_at);
  st.Bind(2, run.tool_version);
  st.Bind(3, run.sources.dump(-1, ' ', false, Json::error_handler_t::replace));
  if (run.since.empty()) st.BindNull(4);
  else st.Bind(4, run.since);
  if (run.until.empty()) st.BindNull(5);
  else st.Bind(5, run.until);
  st.Bind(6, run.rules);
  if (st.Step() != SQLITE_DONE) return Fail(SqliteError(db_, "BeginThreatRun"));
  return sqlite3_last_insert_rowid(db_);
}

Status Store::AddAlerts(int64_t run_id, std::span<const AlertRow> alerts) {
  if (alerts.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  return InsertBatch(db_, "AddAlerts",
                     "INSERT OR REPLACE INTO alerts(run_id, alert_id, rule_id, rule_title, level, tags, event_time, event_id, "
                     "event_name, event_source, account_id, region, principal, source_ip, user_agent, source, record, suppression) "
                     "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     alerts.size(), [&](Statement& st, size_t i) {
                       const AlertRow& a = alerts[i];
                       st.Bind(1, run_id);
                       st.Bind(2, a.alert_id);
                       st.Bind(3, a.rule_id);
                       st.Bind(4, a.rule_title);
                       st.Bind(5, a.level);
                       st.Bind(6, Json(a.tags).dump(-1, ' ', false, Json::error_handler_t::replace));
                       st.Bind(7, a.event_time);
                       st.Bind(8, a.event_id);
                       st.Bind(9, a.event_name);
                       st.Bind(10, a.event_source);
                       st.Bind(11, a.account_id);
                       st.Bind(12, a.region);
                       st.Bind(13, a.principal);
                       st.Bind(14, a.source_ip);
                       st.Bind(15, a.user_agent);
                       st.Bind(16, a.source);
                       st.Bind(17, a.record);
                       if (a.suppression.is_null()) st.BindNull(18);
                       else st.Bind(18, a.suppression.dump(-1, ' ', false, Json::error_handler_t::replace));
                     });
}

Status Store::FinishThreatRun(int64_t run_id, const ThreatRun& run) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_, "UPDATE threat_runs SET status=?, ended_at=?, rules=?, records=?, malformed=?, alerts=? WHERE id=?");
  if (!st.ok()) return Fail(SqliteError(db_, "FinishThreatRun"));
  st.Bind(1, run.status);
  st.Bind(2, run.ended_at.empty() ? FormatIso8601Utc(NowEpochSeconds()) : run.ended_at);
  st.Bind(3, run.rules);
  st.Bind(4, run.records);
  st.Bind(5, run.malformed);
  st.Bind(6, run.alerts);
  st.Bind(7, run_id);
  if (st.Step() != SQLITE_DONE) return Fail(SqliteError(db_, "FinishThreatRun"));
  if (sqlite3_changes(db_) == 0) return MakeError(ErrorCode::kNotFound, fmt::format("no threat run {}", run_id));
  return {};
}

Result<std::vector<ThreatRun>> Store::ListThreatRuns() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ThreatRun> out;
  if (schema_version_ < 4) return out;
  Statement st(db_,
               "SELECT id, started_at, COALESCE(ended_at,''), status, tool_version, sources, COALESCE(since,''), "
               "COALESCE(until,''), rules, records, malformed, alerts FROM threat_runs ORDER BY id");
  if (!st.ok()) return Fail(SqliteError(db_, "ListThreatRuns"));
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    ThreatRun r;
    r.id = sqlite3_column_int64(st.get(), 0);
    r.started_at = ColumnText(st.get(), 1);
    r.ended_at = ColumnText(st.get(), 2);
    r.status = ColumnText(st.get(), 3);
    r.tool_version = ColumnText(st.get(), 4);
    auto sources = ParseJson(ColumnText(st.get(), 5));
    if (sources) r.sources = std::move(*sources);
    r.since = ColumnText(st.get(), 6);
    r.until = ColumnText(st.get(), 7);
    r.rules = sqlite3_column_int64(st.get(), 8);
    r.records = sqlite3_column_int64(st.get(), 9);
    r.malformed = sqlite3_column_int64(st.get(), 10);
    r.alerts = sqlite3_column_int64(st.get(), 11);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "ListThreatRuns"));
  return out;
}

Result<std::vector<AlertRow>> Store::ListAlerts(int64_t run_id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AlertRow> out;
  if (schema_version_ < 4) return out;
  Statement st(db_,
               "SELECT alert_id, rule_id, rule_title, level, tags, event_time, COALESCE(event_id,''), COALESCE(event_name,''), "
               "COALESCE(event_source,''), COALESCE(account_id,''), COALESCE(region,''), COALESCE(principal,''), "
               "COALESCE(source_ip,''), COALESCE(user_agent,''), source, record, suppression FROM alerts WHERE run_id=? "
               "ORDER BY event_time, rule_id, alert_id");
  if (!st.ok()) return Fail(SqliteError(db_, "ListAlerts"));
  st.Bind(1, run_id);
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    AlertRow a;
    a.run_id = run_id;
    a.alert_id = ColumnText(st.get(), 0);
    a.rule_id = ColumnText(st.get(), 1);
    a.rule_title = ColumnText(st.get(), 2);
    a.level = ColumnText(st.get(), 3);
    if (auto tags = ParseJson(ColumnText(st.get(), 4)); tags && tags->is_array())
      for (const auto& t : *tags)
        if (t.is_string()) a.tags.push_back(t.get<std::string>());
    a.event_time = ColumnText(st.get(), 5);
    a.event_id = ColumnText(st.get(), 6);
    a.event_name = ColumnText(st.get(), 7);
    a.event_source = ColumnText(st.get(), 8);
    a.account_id = ColumnText(st.get(), 9);
    a.region = ColumnText(st.get(), 10);
    a.principal = ColumnText(st.get(), 11);
    a.source_ip = ColumnText(st.get(), 12);
    a.user_agent = ColumnText(st.get(), 13);
    a.source = ColumnText(st.get(), 14);
    a.record = ColumnText(st.get(), 15);
    if (sqlite3_column_type(st.get(), 16) != SQLITE_NULL) {
      auto parsed = ParseJson(ColumnText(st.get(), 16));
      if (parsed) a.suppression = std::move(*parsed);
    }
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "ListAlerts"));
  return out;
}

}  // namespace cloudaudit::store

namespace cloudaudit::store {

Result<std::vector<ApiCallStat>> Store::ListApiStats(int64_t scan_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Statement st(db_,
               "SELECT service, operation, region, sum(calls), sum(errors), sum(elapsed_ms) FROM api_calls WHERE scan_id=? "
               "GROUP BY service, operation, region ORDER BY service, operation, region");
  if (!st.ok()) return Fail(SqliteError(db_, "ListApiStats"));
  st.Bind(1, scan_id);
  std::vector<ApiCallStat> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) {
    ApiCallStat a;
    a.service = ColumnText(st.get(), 0);
    a.operation = ColumnText(st.get(), 1);
    a.region = ColumnText(st.get(), 2);
    a.calls = sqlite3_column_int64(st.get(), 3);
    a.errors = sqlite3_column_int64(st.get(), 4);
    a.elapsed_ms = sqlite3_column_int64(st.get(), 5);
    out.push_back(std::move(a));
  }
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "ListApiStats"));
  return out;
}

Result<int64_t> Store::PreviousEvaluatedScan(int64_t scan_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // Ordered by start time (then id): scans of one account may be collected
  // out of id order when stores are merged, never out of time order.
  Statement st(db_,
               "SELECT p.id FROM scans p JOIN scans s ON s.id = ?1 "
               "WHERE p.account_id = s.account_id AND p.id != s.id "
               "AND (p.started_at < s.started_at OR (p.started_at = s.started_at AND p.id < s.id)) "
               "AND EXISTS (SELECT 1 FROM evaluations e WHERE e.scan_id = p.id) "
               "ORDER BY p.started_at DESC, p.id DESC LIMIT 1");
  if (!st.ok()) return Fail(SqliteError(db_, "PreviousEvaluatedScan"));
  st.Bind(1, scan_id);
  int rc = st.Step();
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(st.get(), 0));
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "PreviousEvaluatedScan"));
  return int64_t{0};
}

Result<std::map<std::string, std::string>> Store::AlarmFirstSeen(int64_t scan_id) {
  std::lock_guard<std::mutex> lock(mu_);
  // findings_alarm_by_id (finding_id, scan_id) WHERE status = 'alarm' makes this
  // one index range per alarm.
  Statement st(db_,
               "SELECT f.finding_id, min(ps.started_at) FROM findings f "
               "JOIN scans s ON s.id = f.scan_id "
               "JOIN findings pf ON pf.finding_id = f.finding_id AND pf.status = 'alarm' "
               "JOIN scans ps ON ps.id = pf.scan_id AND ps.account_id = s.account_id AND ps.started_at <= s.started_at "
               "WHERE f.scan_id = ?1 AND f.status = 'alarm' GROUP BY f.finding_id");
  if (!st.ok()) return Fail(SqliteError(db_, "AlarmFirstSeen"));
  st.Bind(1, scan_id);
  std::map<std::string, std::string> out;
  int rc;
  while ((rc = st.Step()) == SQLITE_ROW) out.emplace(ColumnText(st.get(), 0), ColumnText(st.get(), 1));
  if (rc != SQLITE_DONE) return Fail(SqliteError(db_, "AlarmFirstSeen"));
  return out;
}

}  // namespace cloudaudit::store
