// The inventory store: one SQLite file (WAL) holding scans, the resources
// of each scan (full JSON document plus identity columns), collection gaps
// and API call statistics. Several scans and accounts can live in one file.
//
// Thread safety: a Store serializes its own writes (one connection, one
// mutex); use one Store per process per file.
//
// A scan records the process collecting it (pid, host, start identity). A
// scan interrupted by kill -9, a crash or a power loss stays "running" in the
// file; Open and ListScans report it as "incomplete" once its process is
// known to be gone (same host, no such process any more), and a store opened
// for writing persists that. A read-only store shows it through a TEMP view
// named `scans` that shadows the table, so SQL on `scans` agrees.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cloudaudit::store {

inline constexpr int kSchemaVersion = 7;

// The process that writes a scan. `started` tells a live process from a
// later one that got the same pid: "<boot id>/<start time in clock ticks>"
// on Linux, empty elsewhere.
struct ProcessRecord {
  int64_t pid = 0;
  std::string host;
  std::string started;
};
ProcessRecord CurrentProcess();
// True when `process` is known to have ended: no process recorded (scans
// written before schema 3), the machine rebooted, no such pid, a zombie, or
// the pid now belongs to a later process. False while it runs, and when it
// cannot be told (another host).
bool ProcessIsGone(const ProcessRecord& process);

struct ScanInfo {
  int64_t id = 0;
  std::string account_id;
  std::string partition;
  std::vector<std::string> regions;
  std::string started_at;  // ISO-8601 UTC
  std::string ended_at;
  std::string tool_version;
  // running | complete | partial | failed | incomplete (its process ended
  // without finishing it)
  std::string status;
  ProcessRecord process;  // BeginScan: pid 0 records the calling process
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
  std::string resource;  // the resource's ARN (its id when it has none), empty for a whole listing
  std::string error_code;
  std::string message;
  // The top-level members of the resource's document the failed call would
  // have filled (an enrichment's `into`), so that rules not reading them
  // still evaluate the resource. Empty: the whole resource (listings, and
  // gaps of stores before schema version 5).
  std::vector<std::string> members;
};

struct ApiCallStat {
  std::string service, operation, region;
  int64_t calls = 0, errors = 0;
  int64_t elapsed_ms = 0;
};

// One result of one rule for one resource (see src/rules).
struct FindingRow {
  std::string finding_id;  // stable: hash of rule id, account, region, resource
  std::string rule_id, service, severity;
  std::string account_id, region, resource, resource_name;
  std::string status;  // ok | alarm | skip | error
  std::string reason;
  std::string evidence;         // JSON text, may be empty
  std::string remediation_cli;  // filled-in CLI commands for alarms
  Json suppression;             // null, or the suppression that applies
};

// One threat-detection alert: a Sigma rule that matched one CloudTrail
// record (src/threats). Alerts belong to a threat run, not to a scan.
struct AlertRow {
  std::string alert_id;  // stable: hash of rule id and the record's eventID
  int64_t run_id = 0;
  std::string rule_id, rule_title;
  std::string level;              // informational | low | medium | high | critical
  std::vector<std::string> tags;  // Sigma tags, e.g. attack.persistence, attack.t1098
  std::string event_time;         // the record's eventTime (ISO-8601)
  std::string event_id, event_name, event_source;
  std::string account_id, region;  // recipientAccountId, awsRegion
  std::string principal;           // userIdentity.arn (or its type when there is none)
  std::string source_ip, user_agent;
  std::string source;   // where the record was read: file path + offset, s3://..., lookup-events
  std::string record;   // the matched CloudTrail record, JSON text (evidence)
  Json suppression;     // null, or the suppression that applies
};

// One `cloudaudit threats` run over some CloudTrail sources.
struct ThreatRun {
  int64_t id = 0;
  std::string started_at, ended_at, status;  // running | complete | partial | failed
  std::string tool_version;
  Json sources = Json::array();  // what was read, as given
  std::string since, until;      // time window, ISO-8601 (empty: open)
  int64_t rules = 0, records = 0, malformed = 0, alerts = 0;
};

// The result of evaluating a set of rules over one scan.
struct EvaluationRecord {
  std::string started_at, ended_at, tool_version, status;
  Json selection = Json::object();
  std::vector<std::pair<std::string, Json>> rules;  // rule id -> metadata document
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

class Store;

inline constexpr int64_t kEvaluationCacheKiB = 256 * 1024;
inline constexpr size_t kFindingsPerTransaction = 65536;

// Writes one evaluation of a scan as it runs (Store::BeginEvaluation), so the
// findings never need to be in memory all at once. The store then shows:
//   - an `evaluations` row, `running` from Begin, `complete` or `errors` once
//     Finish ran, `failed` when the writer is destroyed unfinished after an
//     error; a process killed mid-way leaves it `running`;
//   - the findings, committed kFindingsPerTransaction at a time (a reader may
//     see some rules' findings before the evaluation completes);
//   - a rule's `scan_rules` row (what marks it evaluated) only together with
//     or after its last finding: a rule cut short by a crash has findings but
//     no metadata, so compliance treats it as not evaluated, never as passing.
// Why not one transaction: at a million resources (20 M findings) SQLite spent
// half its time looking pages up in the ever-growing write-ahead log
// (sqlite3WalFindFrame); see docs/performance.md.
// It holds the store's mutex until finished or destroyed: other calls on the
// Store wait meanwhile. Create and destroy it on one thread; the other
// methods may be called from any thread. While open the connection's page
// cache is kEvaluationCacheKiB: finding ids are hashes, so the two indexes on
// them take each insert at a random place, and with SQLite's default 2 MiB
// cache nearly every insert reads and writes back a page (100k resources: 56 s
// of CPU instead of 24 s).
class EvaluationWriter {
 public:
  ~EvaluationWriter();
  EvaluationWriter(const EvaluationWriter&) = delete;
  EvaluationWriter& operator=(const EvaluationWriter&) = delete;

  // Inserts findings; `evaluated_at` stamps them. A finding whose id was
  // already added replaces it.
  Status AddFindings(const std::vector<FindingRow>& findings, const std::string& evaluated_at);
  // Takes back the findings of `rule_id` added so far (a rule that failed
  // half-way).
  Status RemoveFindings(const std::string& rule_id);
  // All of `rule_id`'s findings were added: stores its metadata document.
  Status RuleDone(const std::string& rule_id, const Json& document);
  // Sets the evaluations row's end time and status (`complete`, `errors`)
  // and commits. After any error the writer is unusable.
  Status Finish(const std::string& status, const std::string& ended_at);

 private:
  friend class Store;
  EvaluationWriter(Store* store, int64_t scan_id) : store_(store), scan_id_(scan_id) {}
  Status Begin();                          // a write transaction, unless one is open
  Status Commit();
  Status Abort(const std::string& what);  // rolls back, returns the SQLite error

  Store* store_;
  int64_t scan_id_;
  int64_t evaluation_id_ = 0;
  std::unique_lock<std::mutex> store_lock_;  // the Store's mutex, held while open
  std::mutex mu_;
  sqlite3_stmt* insert_ = nullptr;
  int64_t saved_cache_size_ = 0;  // PRAGMA cache_size to restore
  bool in_transaction_ = false;
  bool usable_ = true;
  bool finished_ = false;
  size_t pending_ = 0;  // findings in the open transaction
};

class Store {
 public:
  // Opens or creates `path`, applying migrations. kParse for a file that is
  // not a cloudaudit store (or from a newer version), kIo when unreadable.
  // Running scans whose process is gone read as incomplete from then on
  // (persisted unless read_only).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, bool read_only = false);
  ~Store();

  Result<int64_t> BeginScan(const ScanInfo& info);
  Status FinishScan(int64_t scan_id, const std::string& status, const std::string& account_id,
                    const std::vector<std::string>& regions);
  // Inserts rows in one transaction (a page at a time keeps memory flat).
  Status AddResources(int64_t scan_id, const std::vector<ResourceRow>& rows);
  Status AddGap(int64_t scan_id, const Gap& gap);
  Status AddApiStats(int64_t scan_id, const std::vector<ApiCallStat>& stats);

  // Every scan, oldest first; a running scan whose process is gone is
  // reported (and, unless read-only, recorded) as incomplete.
  Result<std::vector<ScanInfo>> ListScans();
  // The newest scan id (complete or not); kNotFound when the store is empty.
  Result<int64_t> LatestScanId();
  // `requested` when positive, else the newest scan.
  Result<int64_t> ResolveScanId(int64_t requested) { return requested > 0 ? Result<int64_t>(requested) : LatestScanId(); }

  // Creates TEMP views, one per resource type, over the given scan's rows:
  // identity columns (account_id, region, id, arn, name, tags, data) then the
  // typed columns.
  // `materialize`: TEMP tables instead of views — the JSON is extracted once
  // and SQLite can build automatic indexes for joins between types (the rule
  // evaluator's choice: joins of views are nested loops over json_extract),
  // with indexes on arn, id and name for lookups from correlated subqueries.
  Status CreateScanViews(int64_t scan_id, const std::vector<ViewSpec>& views, bool materialize = false);

  // A private copy of one scan's per-type tables (materialized and indexed
  // as above) in a scratch database in a temporary file, deleted on close;
  // the store file at `path` is read once and detached. Its queries hold no
  // lock on the store, so while they run the store's write-ahead log can be
  // checkpointed and restarted (SQL functions such as json_each belong to
  // the main database: over the store they would pin it). The rule
  // evaluator's worker connections.
  static Result<std::unique_ptr<Store>> OpenScanCopy(const std::string& path, int64_t scan_id, const std::vector<ViewSpec>& views);

  // Runs read-only SQL; calls on_row for each row with column names and
  // values as JSON scalars. Refuses statements that would write.
  Status Query(const std::string& sql,
               const std::function<void(const std::vector<std::string>& names, const std::vector<Json>& values)>& on_row);

  Result<std::vector<Gap>> ListGaps(int64_t scan_id);
  // Starts writing an evaluation of `scan_id` (see EvaluationWriter): in one
  // transaction, inserts its `running` evaluations row (record's start time,
  // tool version, selection) and deletes the scan's findings and metadata of
  // record.rules (other rules' stay).
  Result<std::unique_ptr<EvaluationWriter>> BeginEvaluation(int64_t scan_id, const EvaluationRecord& record);
  // The same in one call, for findings already in memory.
  Status SaveEvaluation(int64_t scan_id, const EvaluationRecord& record, const std::vector<FindingRow>& findings);
  // Findings of a scan (all rules), ordered by rule and resource.
  Result<std::vector<FindingRow>> ListFindings(int64_t scan_id);
  // Rule metadata stored with a scan's findings.
  Result<std::vector<std::pair<std::string, Json>>> ListScanRules(int64_t scan_id);

  Result<std::vector<ApiCallStat>> ListApiStats(int64_t scan_id);

  // History across scans of the same account (reports, `diff`).
  // The newest evaluated scan of the same account that started before
  // `scan_id`; 0 when there is none.
  Result<int64_t> PreviousEvaluatedScan(int64_t scan_id);
  // For each finding that is an alarm in `scan_id`: the start time of the
  // earliest scan of the same account, up to this one, where it was an alarm.
  Result<std::map<std::string, std::string>> AlarmFirstSeen(int64_t scan_id);

  // Threat detection (src/threats): a run over CloudTrail sources and its
  // alerts. BeginThreatRun records it as running (started_at defaults to
  // now); AddAlerts inserts a batch in one transaction (call it a page at a
  // time; an alert id already in the run is replaced); FinishThreatRun sets
  // the status, end time and counters (rules, records, malformed, alerts).
  Result<int64_t> BeginThreatRun(const ThreatRun& run);
  Status AddAlerts(int64_t run_id, std::span<const AlertRow> alerts);
  Status FinishThreatRun(int64_t run_id, const ThreatRun& run);
  // Every threat run, oldest first (none in a store older than schema 4).
  Result<std::vector<ThreatRun>> ListThreatRuns();
  // A run's alerts by event time, then rule id and alert id.
  Result<std::vector<AlertRow>> ListAlerts(int64_t run_id);

  sqlite3* handle() { return db_; }

 private:
  friend class EvaluationWriter;
  explicit Store(sqlite3* db) : db_(db) {}
  Status Exec(const std::string& sql);
  Status Migrate();
  // Running scans whose process is gone. Caller holds mu_ (or is Open).
  Result<std::vector<int64_t>> AbandonedScans();
  // Records them as incomplete, or (read-only) shows them so via a TEMP view.
  Status ReportAbandonedScans();

  sqlite3* db_ = nullptr;
  bool read_only_ = false;
  int64_t schema_version_ = kSchemaVersion;
  std::mutex mu_;
};

}  // namespace cloudaudit::store
