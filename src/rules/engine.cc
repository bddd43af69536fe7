#include "rules/engine.h"

#include <fnmatch.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "base/crypto.h"
#include "base/time.h"
#include "collect/collector.h"
#include "rules/rule_reads.h"
#include "rules/sql_functions.h"

namespace cloudaudit::rules {

namespace {

bool Glob(const std::string& pattern, const std::string& text) { return fnmatch(pattern.c_str(), text.c_str(), 0) == 0; }

int StatusRank(const std::string& s) {
  if (s == "alarm") return 3;
  if (s == "error") return 2;
  if (s == "skip") return 1;
  return 0;
}

std::string ColumnString(sqlite3_stmt* st, int i) {
  if (i < 0 || sqlite3_column_type(st, i) == SQLITE_NULL) return "";
  const unsigned char* t = sqlite3_column_text(st, i);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(st, i))) : "";
}

Status BindJson(sqlite3_stmt* st, int index, const Json& v) {
  int rc;
  if (v.is_null()) rc = sqlite3_bind_null(st, index);
  else if (v.is_boolean()) rc = sqlite3_bind_int(st, index, v.get<bool>() ? 1 : 0);
  else if (v.is_number_integer()) rc = sqlite3_bind_int64(st, index, v.get<int64_t>());
  else if (v.is_number()) rc = sqlite3_bind_double(st, index, v.get<double>());
  else if (v.is_string()) rc = sqlite3_bind_text(st, index, v.get_ref<const std::string&>().c_str(), -1, SQLITE_TRANSIENT);
  else rc = sqlite3_bind_text(st, index, v.dump().c_str(), -1, SQLITE_TRANSIENT);  // lists and maps as JSON text
  if (rc != SQLITE_OK) return MakeError(ErrorCode::kInternal, "cannot bind a rule parameter");
  return {};
}

// Whether a per-resource gap (recorded with the resource's id) concerns a
// finding's resource (an ARN or id): equal, or the ARN ends with ":id"/"/id".
bool GapNamesResource(const std::string& gap_resource, const std::string& resource) {
  if (gap_resource == resource) return true;
  if (resource.size() <= gap_resource.size()) return false;
  if (resource.compare(resource.size() - gap_resource.size(), gap_resource.size(), gap_resource) != 0) return false;
  char before = resource[resource.size() - gap_resource.size() - 1];
  return before == ':' || before == '/';
}

std::string GapReason(const store::Gap& g) {
  std::string msg = g.message;
  if (msg.size() > 300) msg = msg.substr(0, 300) + "…";
  return fmt::format("not evaluated: {}:{} failed in {}{}: {}{}{}", g.service, g.operation, g.region,
                     g.resource.empty() ? "" : " for " + g.resource, g.error_code, msg.empty() ? "" : " — ", msg);
}

int64_t ParseEpochOr(const std::string& text, int64_t fallback) {
  if (text.empty()) return fallback;
  auto ts = ParseTimestamp(text);
  return ts ? ts->epoch_seconds : fallback;
}

constexpr const char* kDefaultFixtureNow = "2026-06-01T00:00:00Z";
constexpr const char* kFixtureAccount = "123456789012";

}  // namespace

std::string FindingId(const std::string& rule_id, const std::string& account_id, const std::string& region,
                      const std::string& resource) {
  return Sha256Hex(rule_id + '\n' + account_id + '\n' + region + '\n' + resource).substr(0, 32);
}

Json Suppression::ToJson() const {
  Json j = {{"rule", rule}, {"resource", resource}, {"reason", reason}, {"owner", owner}};
  if (!expires.empty()) j["expires"] = expires;
  return j;
}

Result<std::vector<Suppression>> ParseSuppressionsYaml(const std::string& text, const std::string& file) {
  std::vector<Suppression> out;
  std::vector<std::string> problems;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["suppressions"] || !root["suppressions"].IsSequence())
      return MakeError(ErrorCode::kParse, fmt::format("{}:1: a suppressions file has a `suppressions:` list", file));
    for (const auto& n : root["suppressions"]) {
      Suppression s;
      s.file = file;
      s.line = n.Mark().line + 1;
      auto get = [&](const char* key) { return n[key] && n[key].IsScalar() ? n[key].Scalar() : std::string(); };
      s.rule = get("rule");
      s.resource = get("resource");
      s.reason = get("reason");
      s.owner = get("owner");
      s.expires = get("expires");
      for (const char* key : {"rule", "resource", "reason", "owner"})
        if (get(key).empty()) problems.push_back(fmt::format("{}:{}: a suppression needs `{}`", file, s.line, key));
      if (!s.expires.empty() && !ParseTimestamp(s.expires.size() == 10 ? s.expires + "T00:00:00Z" : s.expires))
        problems.push_back(fmt::format("{}:{}: `expires` must be a date (YYYY-MM-DD) or ISO-8601 time, not `{}`", file, s.line, s.expires));
      out.push_back(std::move(s));
    }
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kParse, fmt::format("{}:{}: YAML: {}", file, e.mark.line + 1, e.msg));
  }
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
    return MakeError(ErrorCode::kParse, all);
  }
  return out;
}

Result<std::vector<Suppression>> LoadSuppressions(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, fmt::format("cannot read suppressions file {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseSuppressionsYaml(ss.str(), path);
}

bool Selection::Matches(const Rule& r) const {
  if (!include_legacy && r.legacy) return false;
  if (min_severity && r.severity < *min_severity) return false;
  auto any = [](const std::vector<std::string>& wanted, auto&& pred) {
    return wanted.empty() || std::any_of(wanted.begin(), wanted.end(), pred);
  };
  if (!any(ids, [&](const std::string& p) { return Glob(p, r.id); })) return false;
  if (!any(services, [&](const std::string& s) { return s == r.service; })) return false;
  if (!any(tags, [&](const std::string& t) { return std::find(r.tags.begin(), r.tags.end(), t) != r.tags.end(); })) return false;
  if (!any(frameworks, [&](const std::string& f) { return r.compliance.count(f) > 0 && !r.compliance.at(f).empty(); })) return false;
  return true;
}

Json Selection::ToJson() const {
  Json j = Json::object();
  if (!ids.empty()) j["ids"] = ids;
  if (!services.empty()) j["services"] = services;
  if (!tags.empty()) j["tags"] = tags;
  if (!frameworks.empty()) j["frameworks"] = frameworks;
  if (min_severity) j["min_severity"] = SeverityName(*min_severity);
  if (!include_legacy) j["include_legacy"] = false;
  return j;
}

Result<std::pair<std::string, Json>> ParseParamAssignment(const std::string& text) {
  auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0)
    return MakeError(ErrorCode::kInvalidArgument, fmt::format("--param `{}`: use name=value or rule.id.name=value", text));
  std::string name = text.substr(0, eq), value = text.substr(eq + 1);
  auto parsed = ParseJson(value);
  return std::make_pair(name, parsed ? *parsed : Json(value));
}

namespace {

store::FindingRow MakeFinding(const Rule& rule, std::string resource, std::string region, std::string account, std::string status,
                              std::string reason) {
  store::FindingRow f;
  f.rule_id = rule.id;
  f.service = rule.service;
  f.severity = std::string(SeverityName(rule.severity));
  f.account_id = std::move(account);
  f.region = std::move(region);
  f.resource = std::move(resource);
  f.status = std::move(status);
  f.reason = std::move(reason);
  return f;
}

// The one finding that stands for a rule that could not run.
store::FindingRow RuleErrorFinding(const Rule& rule, const std::string& account_id, std::string reason) {
  store::FindingRow f = MakeFinding(rule, "rule:" + rule.id, "global", account_id, "error", std::move(reason));
  f.finding_id = FindingId(rule.id, f.account_id, f.region, f.resource);
  return f;
}

// Runs one rule and hands its findings to `sink` at most `chunk_rows` at a
// time, so that a rule over a million resources needs no more memory than a
// chunk: statuses checked, gaps applied, finding ids set; duplicates are NOT
// merged (the caller does). Returns the reason when the query does not
// compile or fails at run time — possibly after some chunks were handed over,
// which the caller then discards. An error from `sink` stops it and is returned.
Result<std::optional<std::string>> StreamRule(sqlite3* db, const Rule& rule, const ParamOverrides& overrides,
                                              const std::vector<store::Gap>& gaps, const collect::SpecSet& specs,
                                              const std::string& account_id, size_t chunk_rows,
                                              const std::function<Status(std::vector<store::FindingRow>&)>& sink) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, rule.query.c_str(), static_cast<int>(rule.query.size()), &raw, nullptr) != SQLITE_OK || raw == nullptr)
    return std::optional<std::string>(fmt::format("the rule's query does not compile: {}", sqlite3_errmsg(db)));
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
  for (const auto& p : rule.params) {
    const Json* value = &p.default_value;
    if (auto it = overrides.find(rule.id + "." + p.name); it != overrides.end()) value = &it->second;
    else if (auto it2 = overrides.find(p.name); it2 != overrides.end()) value = &it2->second;
    int index = sqlite3_bind_parameter_index(raw, (":" + p.name).c_str());
    if (index > 0) CA_TRY_STATUS(BindJson(raw, index, *value));
  }

  // Collection gaps of the tables the rule reads.
  std::vector<std::string> deps = TablesReferenced(rule.query, specs);
  deps.push_back(rule.resource_table);
  deps.insert(deps.end(), rule.depends.begin(), rule.depends.end());
  struct RuleGap {
    const store::Gap* gap;
    bool global;
    std::string reason;
  };
  std::vector<RuleGap> rule_gaps;
  std::optional<RuleReads> reads;  // what the query reads, worked out on the first gap tied to members
  for (const auto& g : gaps) {
    if (std::find(deps.begin(), deps.end(), g.type) == deps.end()) continue;
    // A failed per-resource call concerns only the rules reading a member it
    // would have filled; listings (and gaps of older stores) concern every rule.
    if (!g.resource.empty() && !g.members.empty()) {
      if (!reads) reads = AnalyzeReads(rule.query, deps, specs, rule.depends);
      if (!reads->Reads(g.type, g.members)) continue;
    }
    const collect::ResourceSpec* spec = specs.Find(g.type);
    rule_gaps.push_back({&g, spec != nullptr && spec->scope == collect::Scope::kGlobal, GapReason(g)});
  }
  // Gaps from `first` on; the last that applies gives the reason.
  auto apply_gaps = [&](store::FindingRow& f, size_t first) {
    for (size_t i = first; i < rule_gaps.size(); ++i) {
      const RuleGap& rg = rule_gaps[i];
      const store::Gap& g = *rg.gap;
      const bool applies = g.resource.empty() ? (rg.global || f.region == g.region || f.region == "global")
                                              : GapNamesResource(g.resource, f.resource);
      if (!applies) continue;
      f.status = "skip";
      f.reason = rg.reason;
      f.remediation_cli.clear();
    }
  };

  std::vector<store::FindingRow> chunk;
  auto emit = [&](store::FindingRow f) -> Status {
    f.finding_id = FindingId(rule.id, f.account_id, f.region, f.resource);
    chunk.push_back(std::move(f));
    if (chunk.size() < chunk_rows) return {};
    Status s = sink(chunk);
    chunk.clear();
    return s;
  };

  int n = sqlite3_column_count(raw);
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.emplace_back(sqlite3_column_name(raw, i));
  auto col = [&](const char* name) {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  };
  const int c_resource = col("resource"), c_status = col("status"), c_reason = col("reason"), c_region = col("region"),
            c_account = col("account_id"), c_name = col("resource_name"), c_evidence = col("evidence");
  int rc;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    store::FindingRow f = MakeFinding(rule, ColumnString(raw, c_resource), ColumnString(raw, c_region), ColumnString(raw, c_account),
                                      ColumnString(raw, c_status), ColumnString(raw, c_reason));
    f.resource_name = ColumnString(raw, c_name);
    f.evidence = ColumnString(raw, c_evidence);
    if (f.account_id.empty()) f.account_id = account_id;
    if (f.resource.empty()) {
      f.resource = "rule:" + rule.id;
      f.status = "error";
      f.reason = "the rule returned a row without a resource";
    } else if (f.status != "ok" && f.status != "alarm" && f.status != "skip" && f.status != "error") {
      f.reason = fmt::format("the rule returned status `{}` (not ok/alarm/skip/error): {}", f.status, f.reason);
      f.status = "error";
    }
    if (f.reason.empty()) f.reason = f.status == "ok" ? "passes" : "no reason given by the rule";
    if (!f.evidence.empty() && !ParseJson(f.evidence)) f.evidence = Json(f.evidence).dump();  // keep it valid JSON
    if (f.status == "alarm" && !rule.remediation.cli.empty()) {
      std::map<std::string, std::string> values;
      for (int i = 0; i < n; ++i) values[names[static_cast<size_t>(i)]] = ColumnString(raw, i);
      f.remediation_cli = FillTemplate(rule.remediation.cli, values);
    }
    apply_gaps(f, 0);
    CA_TRY_STATUS(emit(std::move(f)));
  }
  if (rc != SQLITE_DONE) return std::optional<std::string>(fmt::format("the rule's query failed: {}", sqlite3_errmsg(db)));

  // A failed listing says so even when nothing was listed (and the gaps
  // after it apply to that row too).
  for (size_t i = 0; i < rule_gaps.size(); ++i) {
    const store::Gap& g = *rule_gaps[i].gap;
    if (!g.resource.empty()) continue;
    const std::string region = rule_gaps[i].global ? "global" : g.region;
    store::FindingRow f = MakeFinding(rule, fmt::format("{}/{}", g.type, region), region, account_id, "skip", rule_gaps[i].reason);
    f.resource_name = fmt::format("all {} resources", g.type);
    apply_gaps(f, i + 1);
    CA_TRY_STATUS(emit(std::move(f)));
  }
  if (!chunk.empty()) CA_TRY_STATUS(sink(chunk));
  return std::optional<std::string>();
}

}  // namespace

Result<std::vector<store::FindingRow>> RunRule(sqlite3* db, const Rule& rule, const ParamOverrides& overrides,
                                               const std::vector<store::Gap>& gaps, const collect::SpecSet& specs,
                                               const std::string& account_id) {
  std::vector<store::FindingRow> rows;
  CA_TRY(std::optional<std::string> failure,
         StreamRule(db, rule, overrides, gaps, specs, account_id, 4096, [&](std::vector<store::FindingRow>& chunk) -> Status {
           for (auto& f : chunk) rows.push_back(std::move(f));
           return {};
         }));
  if (failure) return std::vector<store::FindingRow>{RuleErrorFinding(rule, account_id, std::move(*failure))};

  // One finding per resource: a rule that returns a resource twice keeps the
  // worst status (tests flag the duplicate).
  std::map<std::string, size_t> seen;
  std::vector<store::FindingRow> unique;
  for (auto& f : rows) {
    auto [it, inserted] = seen.emplace(f.finding_id, unique.size());
    if (inserted) unique.push_back(std::move(f));
    else if (StatusRank(f.status) > StatusRank(unique[it->second].status)) unique[it->second] = std::move(f);
  }
  return unique;
}

namespace {

// The suppressions still in force at `now`; expired ones go to `expired`.
std::vector<const Suppression*> ActiveSuppressions(const std::vector<Suppression>& suppressions, int64_t now,
                                                   std::vector<Suppression>& expired) {
  std::vector<const Suppression*> active;
  for (const auto& s : suppressions) {
    if (!s.expires.empty()) {
      // A date suppresses through the end of that day (UTC).
      int64_t until = s.expires.size() == 10 ? ParseEpochOr(s.expires + "T23:59:59Z", 0) : ParseEpochOr(s.expires, 0);
      if (until < now) {
        expired.push_back(s);
        continue;
      }
    }
    active.push_back(&s);
  }
  return active;
}

// The first active suppression that covers `f` (ok findings are never
// suppressed), as JSON; null when none does.
Json SuppressionFor(const store::FindingRow& f, const std::vector<const Suppression*>& active) {
  if (f.status == "ok") return Json();
  for (const Suppression* s : active)
    if (Glob(s->rule, f.rule_id) && Glob(s->resource, f.resource)) return s->ToJson();
  return Json();
}

constexpr const char* kStatusByRank[] = {"ok", "skip", "error", "alarm"};  // StatusRank's inverse

// One rule's findings on their way into the store during Evaluate, a chunk at
// a time: merges duplicates as RunRule does (the worst status wins; a row
// written earlier is replaced in the store), applies suppressions and keeps
// the rule's counts, which go into the summary only once the rule is done.
class RuleFindingsWriter {
 public:
  RuleFindingsWriter(const Rule& rule, store::EvaluationWriter& writer, const std::vector<const Suppression*>& active)
      : rule_(rule), writer_(writer), active_(active) {}

  Status Add(std::vector<store::FindingRow>& chunk) {
    std::vector<store::FindingRow> keep;
    keep.reserve(chunk.size());
    for (auto& f : chunk) {
      const int rank = StatusRank(f.status);
      auto [it, inserted] = seen_.try_emplace(f.finding_id, Seen{rank, false});
      if (!inserted) {
        if (rank <= it->second.rank) continue;
        Count(it->second, -1);
        it->second.rank = rank;
      }
      f.suppression = SuppressionFor(f, active_);
      it->second.suppressed = !f.suppression.is_null();
      Count(it->second, +1);
      if (inserted && f.status == "error" && f.resource.rfind("rule:", 0) == 0) errors_.push_back(rule_.id + ": " + f.reason);
      keep.push_back(std::move(f));
    }
    auto start = std::chrono::steady_clock::now();
    Status written = writer_.AddFindings(keep, FormatIso8601Utc(NowEpochSeconds()));
    write_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return written;
  }

  // The rule failed after some chunks: take them back, forget their counts.
  Status Discard() {
    seen_.clear();
    std::fill(std::begin(by_status_), std::end(by_status_), size_t{0});
    alarms_ = 0;
    suppressed_ = 0;
    errors_.clear();
    return writer_.RemoveFindings(rule_.id);
  }

  void AddTo(EvalSummary& summary, std::vector<std::string>& errors) const {
    for (int rank = 0; rank < 4; ++rank)
      if (by_status_[rank] > 0) summary.by_status[kStatusByRank[rank]] += by_status_[rank];
    if (alarms_ > 0) summary.alarms_by_severity[std::string(SeverityName(rule_.severity))] += alarms_;
    summary.suppressed += suppressed_;
    errors.insert(errors.end(), errors_.begin(), errors_.end());
  }
  double write_seconds() const { return write_seconds_; }

 private:
  struct Seen {
    int rank;
    bool suppressed;
  };
  void Count(const Seen& s, int delta) {
    if (s.suppressed) suppressed_ += static_cast<size_t>(delta);
    else by_status_[s.rank] += static_cast<size_t>(delta);
    if (!s.suppressed && s.rank == 3) alarms_ += static_cast<size_t>(delta);
  }

  const Rule& rule_;
  store::EvaluationWriter& writer_;
  const std::vector<const Suppression*>& active_;
  std::unordered_map<std::string, Seen> seen_;  // finding id -> what was written
  size_t by_status_[4] = {0, 0, 0, 0};          // unsuppressed, by rank
  size_t alarms_ = 0, suppressed_ = 0;
  std::vector<std::string> errors_;
  double write_seconds_ = 0;
};

}  // namespace

Result<EvalSummary> Evaluate(const std::string& db_path, int64_t scan_id, const RuleSet& rules, const collect::SpecSet& specs,
                             const EvalOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CA_TRY(auto store, store::Store::Open(db_path));
  CA_TRY(auto scans, store->ListScans());
  const store::ScanInfo* scan = nullptr;
  for (const auto& s : scans)
    if (s.id == scan_id) scan = &s;
  if (scan == nullptr) return MakeError(ErrorCode::kNotFound, fmt::format("{} holds no scan {}", db_path, scan_id));
  EvalContext clock;
  clock.now_epoch = options.as_of_epoch != 0 ? options.as_of_epoch : ParseEpochOr(scan->started_at, NowEpochSeconds());
  clock.account_id = scan->account_id;
  clock.regions_json = Json(scan->regions).dump();
  CA_TRY(auto gaps, store->ListGaps(scan_id));

  std::vector<const Rule*> selected;
  for (const auto& r : rules.rules)
    if (options.selection.Matches(r)) selected.push_back(&r);

  EvalSummary summary;
  summary.scan_id = scan_id;
  summary.rules = selected.size();
  store::EvaluationRecord record;
  record.started_at = FormatIso8601Utc(NowEpochSeconds());
  record.tool_version = options.tool_version;
  record.selection = options.selection.ToJson();
  for (const Rule* r : selected) record.rules.emplace_back(r->id, r->Document());
  const int64_t wall_now = options.wall_now_epoch != 0 ? options.wall_now_epoch : NowEpochSeconds();
  const std::vector<const Suppression*> active = ActiveSuppressions(options.suppressions, wall_now, summary.expired);

  // Findings stream into the store a chunk at a time as the rules run, so
  // memory does not grow with the inventory; the evaluations row says
  // running until the end (docs/rules.md, "Evaluation").
  constexpr size_t kChunkRows = 1024;
  CA_TRY(auto writer, store->BeginEvaluation(scan_id, record));

  // Workers: each queries its own copy of the scan's tables (Store::OpenScanCopy).
  std::vector<double> durations(selected.size());
  std::vector<std::pair<size_t, std::string>> rule_errors;  // (rule index, message)
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::mutex mu;  // guards summary, rule_errors, fatal
  std::optional<Error> fatal;
  auto set_fatal = [&](const Error& e) {
    std::lock_guard<std::mutex> lock(mu);
    if (!fatal) fatal = e;
    stop = true;
  };
  const auto views = collect::ViewsForSpecs(specs);
  auto since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  auto worker = [&]() {
    auto setup_start = std::chrono::steady_clock::now();
    auto conn = store::Store::OpenScanCopy(db_path, scan_id, views);
    Status ready = conn ? RegisterSqlFunctions((*conn)->handle(), &clock) : Status(tl::unexpected(conn.error()));
    if (!ready) return set_fatal(ready.error());
    {
      std::lock_guard<std::mutex> lock(mu);
      summary.setup_seconds = std::max(summary.setup_seconds, since(setup_start));
    }
    for (size_t i; !stop && (i = next.fetch_add(1)) < selected.size();) {
      const Rule& rule = *selected[i];
      auto rule_start = std::chrono::steady_clock::now();
      RuleFindingsWriter out(rule, *writer, active);
      auto sink = [&](std::vector<store::FindingRow>& chunk) { return out.Add(chunk); };
      auto failure = StreamRule((*conn)->handle(), rule, options.params, gaps, specs, scan->account_id, kChunkRows, sink);
      if (failure && *failure) {
        // One error finding stands for the rule, as RunRule returns it.
        std::vector<store::FindingRow> error{RuleErrorFinding(rule, scan->account_id, std::move(**failure))};
        Status replaced = out.Discard();
        if (replaced) replaced = out.Add(error);
        if (!replaced) failure = Result<std::optional<std::string>>(tl::unexpected(replaced.error()));
      }
      if (!failure) return set_fatal(failure.error());
      if (Status stored = writer->RuleDone(rule.id, record.rules[i].second); !stored) return set_fatal(stored.error());
      durations[i] = since(rule_start) - out.write_seconds();
      {
        std::lock_guard<std::mutex> lock(mu);
        std::vector<std::string> errors;
        out.AddTo(summary, errors);
        for (auto& e : errors) rule_errors.emplace_back(i, std::move(e));
        summary.write_seconds += out.write_seconds();
      }
      size_t d = ++done;
      if (options.on_progress) options.on_progress(d, selected.size());
    }
  };
  int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(selected.size())));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (fatal) return Fail(*fatal);  // the writer rolls back: the previous findings stay

  std::sort(rule_errors.begin(), rule_errors.end());  // in rule order, as selected
  for (auto& [index, message] : rule_errors) summary.rule_errors.push_back(std::move(message));
  for (size_t i = 0; i < selected.size(); ++i) summary.rule_seconds.emplace_back(selected[i]->id, durations[i]);
  std::sort(summary.rule_seconds.begin(), summary.rule_seconds.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  record.ended_at = FormatIso8601Utc(NowEpochSeconds());
  record.status = summary.rule_errors.empty() ? "complete" : "errors";
  auto commit_start = std::chrono::steady_clock::now();
  CA_TRY_STATUS(writer->Finish(record.status, record.ended_at));
  summary.write_seconds += since(commit_start);
  summary.seconds = since(started);
  return summary;
}

TestReport RunRuleTests(const std::vector<const Rule*>& rules, const collect::SpecSet& specs) {
  TestReport report;
  for (const Rule* rule : rules) {
    ++report.rules;
    // Only the views the rule reads: creating every view per fixture is slow.
    std::vector<std::string> tables = TablesReferenced(rule->query, specs);
    tables.push_back(rule->resource_table);
    tables.insert(tables.end(), rule->depends.begin(), rule->depends.end());
    std::vector<store::ViewSpec> views;
    for (auto& v : collect::ViewsForSpecs(specs))
      if (std::find(tables.begin(), tables.end(), v.table) != tables.end()) views.push_back(std::move(v));

    for (const auto& test : rule->tests) {
      ++report.tests;
      auto fail = [&](std::string message) {
        report.failures.push_back({rule->id, test.name, rule->file, test.line, std::move(message)});
      };
      auto store = store::Store::Open(":memory:");
      if (!store) {
        fail(store.error().ToString());
        continue;
      }
      store::ScanInfo info;
      info.account_id = kFixtureAccount;
      info.started_at = test.now.empty() ? kDefaultFixtureNow : test.now;
      info.tool_version = "fixture";
      auto scan_id = (*store)->BeginScan(info);
      if (!scan_id) {
        fail(scan_id.error().ToString());
        continue;
      }
      bool bad = false;
      std::vector<store::ResourceRow> rows;
      for (const auto& [table, list] : test.resources.items()) {
        const collect::ResourceSpec* spec = specs.Find(table);
        if (spec == nullptr || !list.is_array()) {
          fail(fmt::format("fixture table `{}` {}", table, spec == nullptr ? "does not exist" : "must be a list of rows"));
          bad = true;
          break;
        }
        for (const auto& r : list) {
          if (!r.is_object() || !r.contains("id") || !r.contains("data") || !r["data"].is_object()) {
            fail(fmt::format("a `{}` fixture row needs `id` and a `data` map", table));
            bad = true;
            break;
          }
          auto text = [&](const char* key, std::string def) {
            return r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : (r.contains(key) && !r[key].is_null() ? r[key].dump() : def);
          };
          store::ResourceRow row;
          row.type = table;
          row.id = text("id", "");
          row.arn = text("arn", "");
          row.name = text("name", "");
          row.region = text("region", spec->scope == collect::Scope::kGlobal ? "global" : "us-east-1");
          row.account_id = text("account_id", kFixtureAccount);
          row.tags = r.contains("tags") ? r["tags"] : Json();
          row.data = r["data"];
          rows.push_back(std::move(row));
        }
        if (bad) break;
      }
      if (bad) continue;
      std::vector<store::Gap> gaps;
      for (const auto& g : test.gaps) {
        store::Gap gap;
        auto text = [&](const char* key, std::string def) { return g.contains(key) && g[key].is_string() ? g[key].get<std::string>() : def; };
        gap.type = text("type", rule->resource_table);
        gap.service = text("service", rule->service);
        gap.operation = text("operation", "List");
        gap.region = text("region", "us-east-1");
        gap.resource = text("resource", "");
        gap.error_code = text("error_code", "AccessDenied");
        gap.message = text("message", "");
        if (g.contains("members") && g["members"].is_array())
          for (const auto& m : g["members"])
            if (m.is_string()) gap.members.push_back(m.get<std::string>());
        gaps.push_back(std::move(gap));
      }
      EvalContext clock;
      clock.now_epoch = ParseEpochOr(info.started_at, 0);
      clock.account_id = kFixtureAccount;
      clock.regions_json = test.regions.dump();
      Status ready = (*store)->AddResources(*scan_id, rows);
      if (ready) ready = (*store)->CreateScanViews(*scan_id, views);
      if (ready) ready = RegisterSqlFunctions((*store)->handle(), &clock);
      if (!ready) {
        fail(ready.error().ToString());
        continue;
      }
      ParamOverrides overrides;
      for (const auto& [k, v] : test.params.items()) {
        const std::string& name = k;  // clang < 16 cannot capture a structured binding
        if (std::none_of(rule->params.begin(), rule->params.end(), [&](const Param& p) { return p.name == name; }))
          fail(fmt::format("fixture sets parameter `{}` that the rule does not declare", k));
        overrides[k] = v;
      }
      auto found = RunRule((*store)->handle(), *rule, overrides, gaps, specs, kFixtureAccount);
      if (!found) {
        fail(found.error().ToString());
        continue;
      }
      // Duplicates were merged; detect them by counting raw resources.
      std::map<std::string, const store::FindingRow*> by_resource;
      for (const auto& f : *found) {
        if (by_resource.count(f.resource)) fail(fmt::format("resource {} is returned twice (in different regions or accounts?)", f.resource));
        by_resource[f.resource] = &f;
      }
      for (const auto& [resource, status] : test.expect) {
        auto it = by_resource.find(resource);
        if (it == by_resource.end()) {
          fail(fmt::format("expected {} for {}, but the rule returned no row for it", status, resource));
          continue;
        }
        if (it->second->status != status)
          fail(fmt::format("expected {} for {}, got {}: {}", status, resource, it->second->status, it->second->reason));
      }
      for (const auto& f : *found)
        if (std::none_of(test.expect.begin(), test.expect.end(), [&](const auto& e) { return e.first == f.resource; }))
          fail(fmt::format("unexpected row: {} is {}: {}", f.resource, f.status, f.reason));
    }
  }
  return report;
}

FrameworkPosture ComputePosture(const Framework& framework, const RuleSet& rules, const std::set<std::string>& evaluated,
                                const std::vector<store::FindingRow>& findings) {
  FrameworkPosture out;
  out.framework = &framework;
  std::map<std::string, std::vector<const store::FindingRow*>> by_rule;
  for (const auto& f : findings) by_rule[f.rule_id].push_back(&f);
  for (const auto& control : framework.controls) {
    ControlPosture cp;
    cp.control = &control;
    for (const auto& r : rules.rules) {
      auto it = r.compliance.find(framework.id);
      if (it != r.compliance.end() && std::find(it->second.begin(), it->second.end(), control.id) != it->second.end())
        cp.rules.push_back(r.id);
    }
    bool any_evaluated = false;
    for (const auto& id : cp.rules) {
      if (!evaluated.count(id)) continue;
      any_evaluated = true;
      for (const auto* f : by_rule[id]) {
        if (f->status == "alarm" && f->suppression.is_null()) ++cp.alarms;
        else if (f->status == "ok" || f->status == "alarm") ++cp.oks;  // a suppressed alarm is an accepted risk
        else ++cp.skips;
      }
    }
    if (control.manual || cp.rules.empty()) cp.status = "manual";
    else if (!any_evaluated) cp.status = "unknown";
    else if (cp.alarms > 0) cp.status = "fail";
    else if (cp.oks > 0) cp.status = "pass";
    else if (cp.skips > 0) cp.status = "unknown";
    else cp.status = "not_applicable";
    if (cp.status == "pass") ++out.pass;
    else if (cp.status == "fail") ++out.fail;
    else if (cp.status == "manual") ++out.manual;
    else if (cp.status == "unknown") ++out.unknown;
    else ++out.not_applicable;
    out.controls.push_back(std::move(cp));
  }
  out.percent = out.pass + out.fail == 0 ? 0 : 100.0 * static_cast<double>(out.pass) / static_cast<double>(out.pass + out.fail);
  return out;
}

}  // namespace cloudaudit::rules
