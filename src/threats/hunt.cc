#include "threats/hunt.h"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include <fmt/format.h>
#include <simdjson.h>

#include "aws/client/client.h"
#include "aws/client/retry.h"
#include "base/time.h"
#include "threats/sigma.h"

namespace cloudaudit::threats {

static_assert(kRecordPadding >= simdjson::SIMDJSON_PADDING, "records are parsed in place");

namespace {

using Clock = std::chrono::steady_clock;

bool Glob(const std::string& pattern, const std::string& text) { return fnmatch(pattern.c_str(), text.c_str(), 0) == 0; }

struct PendingAlert {
  int64_t epoch = 0;
  store::AlertRow row;
};

// --- Work queue -------------------------------------------------------------

struct Task {
  enum class Kind { kFile, kS3List, kS3Object, kLookup };
  Kind kind = Kind::kFile;
  std::string path;  // kFile; region for kLookup
  S3ListUnit unit;
  S3Object object;
};

// Files and objects go first, listings after: a worker lists more only when
// no download is waiting, which bounds what the queue holds.
class TaskQueue {
 public:
  explicit TaskQueue(size_t limit) : limit_(limit) {}

  // From the producer: waits while many files are already waiting.
  void PushWait(Task task) {
    std::unique_lock<std::mutex> lock(mu_);
    space_.wait(lock, [&] { return urgent_.size() < limit_; });
    Add(std::move(task));
  }
  // From workers (never waits: a worker waiting on workers could deadlock).
  void Push(Task task) {
    std::lock_guard<std::mutex> lock(mu_);
    Add(std::move(task));
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    ready_.notify_all();
  }
  std::optional<Task> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    ready_.wait(lock, [&] { return !urgent_.empty() || !later_.empty() || (closed_ && active_ == 0); });
    if (urgent_.empty() && later_.empty()) return std::nullopt;
    auto& lane = !urgent_.empty() ? urgent_ : later_;
    Task t = std::move(lane.front());
    lane.pop_front();
    ++active_;
    space_.notify_one();
    return t;
  }
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
    if (active_ == 0) ready_.notify_all();
  }

 private:
  void Add(Task task) {
    (task.kind == Task::Kind::kFile || task.kind == Task::Kind::kS3Object ? urgent_ : later_).push_back(std::move(task));
    ready_.notify_one();
  }

  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<Task> urgent_, later_;
  size_t active_ = 0;
  size_t limit_;
  bool closed_ = false;
};

// --- Shared state -----------------------------------------------------------

struct Shared {
  const RecordMatcher& matcher;
  const HuntOptions& options;
  std::vector<const rules::Suppression*> active_suppressions;
  TaskQueue& queue;
  S3Lister* lister = nullptr;
  std::map<std::string, std::unique_ptr<RequestSpacer>> spacers;
  std::atomic<uint64_t> files{0}, compressed_bytes{0}, bytes{0}, records{0}, alerts{0};
  std::atomic<bool> partial{false};
  std::mutex errors_mu;
  std::vector<Error> source_errors;
};

// --- Worker -----------------------------------------------------------------

class Worker {
 public:
  explicit Worker(Shared& shared) : shared_(shared), opts_(shared.options) {}

  void Run() {
    while (auto task = shared_.queue.Pop()) {
      switch (task->kind) {
        case Task::Kind::kFile: ReadLocalFile(task->path); break;
        case Task::Kind::kS3List: ListS3(task->unit); break;
        case Task::Kind::kS3Object: ReadS3Object(task->object); break;
        case Task::Kind::kLookup: Lookup(task->path); break;
      }
      FlushProgress();
      shared_.queue.Done();
    }
  }

  std::vector<PendingAlert>& alerts() { return alerts_; }
  std::vector<Notice>& notices() { return notices_; }
  uint64_t notices_total() const { return notices_total_; }
  HuntStats& stats() { return stats_; }

 private:
  void Note(std::string where, std::string what) {
    ++notices_total_;
    if (notices_.size() < opts_.max_notices) notices_.push_back(Notice{std::move(where), std::move(what)});
  }

  // A notice about the file being read, at most notices_per_file of them.
  void FileNote(uint64_t offset, bool compressed, const std::string& what) {
    ++file_notices_;
    if (file_notices_ > opts_.notices_per_file) {
      ++notices_total_;
      return;
    }
    // Compressed-stream problems name their compressed offset themselves.
    Note(compressed ? where_ : fmt::format("{}:{}", where_, offset), what);
  }

  void FlushProgress() {
    shared_.records.fetch_add(pending_records_, std::memory_order_relaxed);
    pending_records_ = 0;
  }

  class FileSink : public RecordSink {
   public:
    explicit FileSink(Worker& w) : w_(w) {}
    void OnRecord(const RawRecord& r) override { w_.Evaluate(r.text, true, r.offset, true); }
    void OnProblem(const ReadProblem& p) override {
      if (p.fatal) fatal_ = true;
      w_.FileNote(p.offset, p.compressed, p.why);
    }
    bool fatal_ = false;

   private:
    Worker& w_;
  };

  void ReadStream(ByteSource& in, const std::string& where) {
    where_ = where;
    file_notices_ = 0;
    FileSink sink(*this);
    ReadStats st = ReadCloudTrailLog(in, opts_.limits, sink);
    ++stats_.files;
    stats_.compressed_bytes += st.compressed_bytes;
    stats_.bytes += st.bytes;
    stats_.malformed_records += st.bad_records;
    stats_.records += st.bad_records;
    pending_records_ += st.bad_records;
    if (sink.fatal_) ++stats_.malformed_files;
    if (file_notices_ > opts_.notices_per_file)
      Note(where, fmt::format("{} more problems in this file not listed", file_notices_ - opts_.notices_per_file));
    shared_.files.fetch_add(1, std::memory_order_relaxed);
    shared_.compressed_bytes.fetch_add(st.compressed_bytes, std::memory_order_relaxed);
    shared_.bytes.fetch_add(st.bytes, std::memory_order_relaxed);
  }

  void ReadLocalFile(const std::string& path) {
    auto in = FileByteSource::Open(path);
    if (!in) {
      Note(path, in.error().message);
      ++stats_.malformed_files;
      shared_.partial = true;
      return;
    }
    ReadStream(**in, path);
  }

  void ListS3(const S3ListUnit& unit) {
    SkipCounts skipped;
    auto listed = shared_.lister->List(
        unit,
        [&](const S3Object& object) {
          Task t;
          t.kind = Task::Kind::kS3Object;
          t.object = object;
          shared_.queue.Push(std::move(t));
        },
        &skipped);
    stats_.skipped.Add(skipped);
    if (!listed) {
      Note("s3://" + unit.bucket + "/" + unit.prefix, "listing failed: " + listed.error().ToString());
      shared_.partial = true;
    }
  }

  void ReadS3Object(const S3Object& object) {
    const std::string where = "s3://" + object.bucket + "/" + object.key;
    if (object.size >= 0 && static_cast<uint64_t>(object.size) > opts_.limits.max_file_bytes) {
      Note(where, fmt::format("the object is {} bytes, over the {} byte limit; skipped", object.size, opts_.limits.max_file_bytes));
      ++stats_.malformed_files;
      return;
    }
    auto got = opts_.client->Call("s3", "GetObject", Json{{"Bucket", object.bucket}, {"Key", object.key}});
    if (!got) {
      Note(where, "download failed: " + got.error().ToString());
      ++stats_.failed_objects;
      shared_.partial = true;
      return;
    }
    auto body = got->find("Body");
    if (body == got->end() || !body->is_string()) {
      Note(where, "the response has no body");
      ++stats_.failed_objects;
      shared_.partial = true;
      return;
    }
    MemoryByteSource in(body->get_ref<const std::string&>());
    ReadStream(in, where);
  }

  void Lookup(const std::string& region) {
    where_ = "lookup-events:" + region;
    int pages = 0;
    auto& spacer = *shared_.spacers.at(region);
    auto done = LookupEvents(*opts_.client, region, opts_.window, spacer,
                             [&](std::string_view record) {
                               ++stats_.records;
                               ++pending_records_;
                               Evaluate(record, false, 0, false);
                             },
                             &pages);
    stats_.lookup_pages += static_cast<uint64_t>(pages);
    if (!done) {
      shared_.partial = true;
      if (pages == 0) {
        std::lock_guard<std::mutex> lock(shared_.errors_mu);
        shared_.source_errors.push_back(done.error());
      }
      Note(where_, fmt::format("LookupEvents failed after {} pages: {}", pages, done.error().ToString()));
    }
  }

  void BadRecord(bool with_offset, uint64_t offset, const std::string& why) {
    ++stats_.malformed_records;
    if (with_offset) {
      FileNote(offset, false, why);
    } else {
      Note(where_, why);
    }
  }

  // One record: parse, check, filter, match, raise alerts.
  void Evaluate(std::string_view text, bool padded, uint64_t offset, bool from_file) {
    if (from_file) {
      ++stats_.records;
      if (++pending_records_ >= 4096) FlushProgress();
    }
    simdjson::dom::element doc;
    std::string_view time_text;
    auto epoch = CheckRecord(parser_, text, padded, &doc, &time_text);
    if (!epoch) {
      BadRecord(from_file, offset, epoch.error().message);
      return;
    }
    if (!opts_.window.Contains(*epoch)) {
      ++stats_.outside_window;
      return;
    }
    if (!opts_.include_service_activity && IsServiceActivity(doc)) {
      ++stats_.service_activity;
      return;
    }
    ++stats_.evaluated;
    shared_.matcher.Match(doc, &matches_);
    if (matches_.empty()) return;
    std::sort(matches_.begin(), matches_.end());
    matches_.erase(std::unique(matches_.begin(), matches_.end()), matches_.end());

    // The evidence: the record as it was written, whitespace removed.
    const std::string compact = CompactRecord(text);
    const RecordFields fields = ExtractFields(doc, !shared_.active_suppressions.empty());
    const std::string source = from_file ? fmt::format("{}:{}", where_, offset) : where_;
    const auto& infos = shared_.matcher.rules();
    for (size_t index : matches_) {
      if (index >= infos.size()) continue;
      const RuleInfo& rule = infos[index];
      PendingAlert a;
      a.epoch = *epoch;
      store::AlertRow& row = a.row;
      row.alert_id = AlertId(rule.id, fields.event_id, compact);
      row.rule_id = rule.id;
      row.rule_title = rule.title;
      row.level = rule.level;
      row.tags = rule.tags;
      row.event_time = std::string(time_text);
      row.event_id = fields.event_id;
      row.event_name = fields.event_name;
      row.event_source = fields.event_source;
      row.account_id = fields.account_id;
      row.region = fields.region;
      row.principal = fields.principal;
      row.source_ip = fields.source_ip;
      row.user_agent = fields.user_agent;
      row.source = source;
      row.record = compact;
      for (const rules::Suppression* s : shared_.active_suppressions) {
        if (!Glob(s->rule, row.rule_id)) continue;
        bool hit = Glob(s->resource, row.principal);
        for (size_t i = 0; !hit && i < fields.resource_arns.size(); ++i) hit = Glob(s->resource, fields.resource_arns[i]);
        if (hit) {
          row.suppression = s->ToJson();
          break;
        }
      }
      if (row.suppression.is_null()) {
        ++stats_.alerts;
        shared_.alerts.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++stats_.suppressed;
      }
      alerts_.push_back(std::move(a));
    }
  }

  Shared& shared_;
  const HuntOptions& opts_;
  simdjson::dom::parser parser_;
  std::vector<size_t> matches_;
  std::vector<PendingAlert> alerts_;
  std::vector<Notice> notices_;
  uint64_t notices_total_ = 0;
  HuntStats stats_;
  std::string where_;
  size_t file_notices_ = 0;
  uint64_t pending_records_ = 0;
};

// "path:offset" splits into the path and a number, so that offsets of one
// file sort numerically.
std::pair<std::string_view, uint64_t> SplitWhere(std::string_view where) {
  size_t colon = where.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == where.size()) return {where, 0};
  uint64_t offset = 0;
  for (char c : where.substr(colon + 1)) {
    if (c < '0' || c > '9') return {where, 0};
    offset = offset * 10 + static_cast<uint64_t>(c - '0');
  }
  return {where.substr(0, colon), offset};
}

bool NoticeBefore(const Notice& a, const Notice& b) { return SplitWhere(a.where) < SplitWhere(b.where); }

void MergeStats(HuntStats& into, const HuntStats& s) {
  into.files += s.files;
  into.compressed_bytes += s.compressed_bytes;
  into.bytes += s.bytes;
  into.records += s.records;
  into.evaluated += s.evaluated;
  into.outside_window += s.outside_window;
  into.service_activity += s.service_activity;
  into.malformed_records += s.malformed_records;
  into.malformed_files += s.malformed_files;
  into.failed_objects += s.failed_objects;
  into.lookup_pages += s.lookup_pages;
  into.alerts += s.alerts;
  into.suppressed += s.suppressed;
  into.skipped.Add(s.skipped);
}

}  // namespace

SigmaMatcher::SigmaMatcher(const SigmaRuleSet& rules) : rules_(rules) {
  for (const auto& r : rules.rules()) infos_.push_back(RuleInfo{r.id, r.title, r.level, r.tags});
}

void SigmaMatcher::Match(simdjson::dom::element record, std::vector<size_t>* out) const {
  rules_.Match(record, out);
}

Result<HuntResult> Hunt(const std::vector<SourceSpec>& sources, const RecordMatcher& matcher, const HuntOptions& options) {
  const auto started = Clock::now();
  const int64_t now = options.now_epoch > 0 ? options.now_epoch : NowEpochSeconds();
  for (const auto& s : sources) {
    if (s.kind == SourceSpec::Kind::kLocal) {
      std::error_code ec;
      if (!std::filesystem::exists(s.path, ec)) return MakeError(ErrorCode::kNotFound, fmt::format("no such file or folder: {}", s.path));
    } else if (options.client == nullptr) {
      return MakeError(ErrorCode::kInvalidArgument, fmt::format("{}: reading from AWS needs an AWS session", s.text));
    }
  }

  HuntResult result;
  const int workers_n = std::max(1, options.concurrency);
  TaskQueue queue(static_cast<size_t>(workers_n) * 4);
  Shared shared{matcher, options, {}, queue};
  for (const auto& s : options.suppressions) {
    if (!s.expires.empty()) {
      // A date suppresses through the end of that day (UTC), as in `evaluate`.
      auto until = ParseTimestamp(s.expires.size() == 10 ? s.expires + "T23:59:59Z" : s.expires);
      if (!until || until->epoch_seconds < now) {
        result.expired.push_back(s);
        continue;
      }
    }
    shared.active_suppressions.push_back(&s);
  }
  std::optional<S3Lister> lister;
  if (options.client != nullptr) {
    lister.emplace(*options.client, options.window, options.margins, now);
    shared.lister = &*lister;
  }
  std::vector<std::string> regions = options.lookup_regions;
  if (regions.empty() && options.client != nullptr) regions.push_back(options.client->config().region);
  aws::RetryClock& clock = options.clock != nullptr ? *options.clock : aws::RetryClock::Real();
  for (const auto& r : regions) shared.spacers[r] = std::make_unique<RequestSpacer>(clock, options.lookup_requests_per_second);

  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<std::thread> threads;
  for (int i = 0; i < workers_n; ++i) {
    workers.push_back(std::make_unique<Worker>(shared));
    threads.emplace_back([w = workers.back().get()] { w->Run(); });
  }
  std::mutex progress_mu;
  std::condition_variable progress_cv;
  bool finished = false;
  std::thread progress;
  if (options.on_progress) {
    progress = std::thread([&] {
      std::unique_lock<std::mutex> lock(progress_mu);
      while (!progress_cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return finished; })) {
        HuntProgress p;
        p.files = shared.files.load();
        p.compressed_bytes = shared.compressed_bytes.load();
        p.bytes = shared.bytes.load();
        p.records = shared.records.load();
        p.alerts = shared.alerts.load();
        p.seconds = std::chrono::duration<double>(Clock::now() - started).count();
        options.on_progress(p);
      }
    });
  }

  // Produce: files as the folders are walked, S3 listings once planned.
  std::vector<Notice> producer_notices;
  SkipCounts local_skipped;
  for (const auto& s : sources) {
    switch (s.kind) {
      case SourceSpec::Kind::kLocal: {
        auto walked = EnumerateLocal(
            s.path, options.window, options.margins,
            [&](const std::string& path) {
              Task t;
              t.kind = Task::Kind::kFile;
              t.path = path;
              queue.PushWait(std::move(t));
            },
            [&](const std::string& where, const std::string& why) {
              producer_notices.push_back(Notice{where, why});
              shared.partial = true;
            },
            &local_skipped);
        if (!walked) {
          std::lock_guard<std::mutex> lock(shared.errors_mu);
          shared.source_errors.push_back(walked.error());
        }
        break;
      }
      case SourceSpec::Kind::kS3: {
        auto units = lister->Plan(s.bucket, s.prefix, [&](const std::string& note) { producer_notices.push_back(Notice{s.text, note}); });
        if (!units) {
          producer_notices.push_back(Notice{s.text, "cannot list: " + units.error().ToString()});
          std::lock_guard<std::mutex> lock(shared.errors_mu);
          shared.source_errors.push_back(units.error());
          shared.partial = true;
          break;
        }
        for (auto& unit : *units) {
          Task t;
          t.kind = Task::Kind::kS3List;
          t.unit = std::move(unit);
          queue.Push(std::move(t));
        }
        break;
      }
      case SourceSpec::Kind::kLookupEvents:
        for (const auto& r : regions) {
          Task t;
          t.kind = Task::Kind::kLookup;
          t.path = r;
          queue.Push(std::move(t));
        }
        break;
    }
  }
  queue.Close();
  for (auto& t : threads) t.join();
  if (progress.joinable()) {
    {
      std::lock_guard<std::mutex> lock(progress_mu);
      finished = true;
    }
    progress_cv.notify_all();
    progress.join();
  }

  // Merge, then order: by event time, rule, alert id, source.
  std::vector<PendingAlert> pending;
  result.stats.skipped = local_skipped;
  result.notices = std::move(producer_notices);
  result.notices_total = result.notices.size();
  for (auto& w : workers) {
    MergeStats(result.stats, w->stats());
    for (auto& a : w->alerts()) pending.push_back(std::move(a));
    for (auto& n : w->notices()) result.notices.push_back(std::move(n));
    result.notices_total += w->notices_total();
  }
  std::sort(pending.begin(), pending.end(), [](const PendingAlert& a, const PendingAlert& b) {
    if (a.epoch != b.epoch) return a.epoch < b.epoch;
    if (a.row.rule_id != b.row.rule_id) return a.row.rule_id < b.row.rule_id;
    if (a.row.alert_id != b.row.alert_id) return a.row.alert_id < b.row.alert_id;
    return a.row.source < b.row.source;
  });
  // The same record read twice (an organization trail and an account trail,
  // two overlapping sources) raises one alert.
  result.stats.alerts = result.stats.suppressed = 0;
  for (auto& a : pending) {
    if (!result.alerts.empty() && result.alerts.back().alert_id == a.row.alert_id) continue;
    (a.row.suppression.is_null() ? result.stats.alerts : result.stats.suppressed) += 1;
    result.alerts.push_back(std::move(a.row));
  }
  std::stable_sort(result.notices.begin(), result.notices.end(), NoticeBefore);
  if (result.notices.size() > options.max_notices) result.notices.resize(options.max_notices);
  result.source_errors = std::move(shared.source_errors);
  if (shared.partial || !result.source_errors.empty()) result.status = "partial";
  result.stats.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

Status SaveAlerts(store::Store& store, int64_t run_id, const std::vector<store::AlertRow>& alerts, size_t page_size) {
  page_size = std::max<size_t>(page_size, 1);
  for (size_t start = 0; start < alerts.size(); start += page_size) {
    CA_TRY_STATUS(store.AddAlerts(run_id, std::span<const store::AlertRow>(alerts).subspan(start, std::min(page_size, alerts.size() - start))));
  }
  return {};
}

}  // namespace cloudaudit::threats
