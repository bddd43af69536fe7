#include "collect/collector.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "aws/client/endpoints.h"
#include "aws/client/paging.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::collect {

namespace {

// Finds the items at a dotted path; a list met on the way is flattened
// ("Reservations.Instances" gives every instance of every reservation).
const Json* FindItems(const Json& page, const std::string& path, Json* storage) {
  if (path.find('.') == std::string::npos) return FindPath(page, path);
  std::vector<const Json*> current = {&page};
  for (const auto& part : Split(path, '.')) {
    std::vector<const Json*> next;
    for (const Json* node : current) {
      std::vector<const Json*> expanded;
      if (node->is_array()) {
        for (const auto& x : *node) expanded.push_back(&x);
      } else {
        expanded.push_back(node);
      }
      for (const Json* e : expanded) {
        if (!e->is_object()) continue;
        auto it = e->find(part);
        if (it != e->end() && !it->is_null()) next.push_back(&*it);
      }
    }
    current = std::move(next);
  }
  if (current.size() == 1 && !current.front()->is_array()) return current.front();
  *storage = Json::array();
  for (const Json* node : current) {
    if (node->is_array()) {
      for (const auto& x : *node) storage->push_back(x);
    } else {
      storage->push_back(*node);
    }
  }
  return storage;
}

struct Task {
  const ResourceSpec* spec;
  std::string region;  // the region calls go to
  bool global;
};

// The threads of a collection and what they run: tasks (resource type x
// region) and the enrichment jobs of the pages those tasks list. Every
// thread makes at most one request at a time, so `--concurrency` threads
// bound the requests in flight. Jobs come before new tasks: they finish the
// pages already in memory. A task waiting for its page's jobs runs jobs
// (its own or others') meanwhile, never a new task, so each running task
// holds one page at most.
class WorkQueue {
 public:
  explicit WorkQueue(std::deque<Task> tasks) : tasks_(std::move(tasks)) {}

  // A thread's life: jobs and tasks until none is left (or Stop()).
  void Work(const std::function<void(const Task&)>& run_task) {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return !jobs_.empty() || (!tasks_.empty() && !stopped_) || running_ == 0; });
      if (!jobs_.empty()) {
        RunOneJob(lock);
      } else if (!tasks_.empty() && !stopped_) {
        Task task = std::move(tasks_.front());
        tasks_.pop_front();
        ++running_;
        lock.unlock();
        run_task(task);
        lock.lock();
        --running_;
        cv_.notify_all();
      } else {
        return;  // nothing queued, nothing running: no job can appear any more
      }
    }
  }

  // Runs `jobs` on the pool, this thread included; returns when all are done.
  void RunAll(std::vector<std::function<void()>> jobs) {
    if (jobs.empty()) return;
    Batch batch{jobs.size()};
    std::unique_lock<std::mutex> lock(mu_);
    for (auto& fn : jobs) jobs_.push_back({std::move(fn), &batch});
    cv_.notify_all();
    while (batch.pending > 0) {
      if (!jobs_.empty()) {
        RunOneJob(lock);
      } else {
        cv_.wait(lock, [&] { return batch.pending == 0 || !jobs_.empty(); });
      }
    }
  }

  // No new task starts; running ones finish their current page.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }

 private:
  struct Batch {
    size_t pending;
  };
  struct Job {
    std::function<void()> fn;
    Batch* batch;
  };

  // Caller holds `lock`; released while the job runs.
  void RunOneJob(std::unique_lock<std::mutex>& lock) {
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job.fn();
    lock.lock();
    if (--job.batch->pending == 0) cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  std::deque<Job> jobs_;
  int running_ = 0;
  bool stopped_ = false;
};

// Whether an enrichment's parameters read a member that an earlier
// enrichment of the spec sets ("{Location}" after `into: Location`): such
// items are enriched one call after the other, the others call by call.
bool EnrichmentsChain(const ResourceSpec& spec) {
  std::set<std::string> set_before;
  bool reads = false;
  std::function<void(const Json&)> walk = [&](const Json& node) {
    if (node.is_string()) {
      const std::string& text = node.get_ref<const std::string&>();
      for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open + 1)) {
        size_t close = text.find('}', open);
        if (close == std::string::npos) break;
        std::string name = text.substr(open + 1, close - open - 1);
        name = name.substr(0, name.find_first_of(".|"));
        if (set_before.count(name) > 0) reads = true;
      }
    } else if (node.is_structured()) {
      for (const auto& child : node) walk(child);
    }
  };
  for (const auto& e : spec.enrich) {
    walk(e.call.params);
    if (reads) return true;
    set_before.insert(e.into);
  }
  return false;
}

// Per-operation call statistics for the store.
class CallCounter {
 public:
  // `calls` is the number of requests (pages) the call made.
  void Record(const std::string& service, const std::string& op, const std::string& region, bool ok, int64_t ms,
              int64_t calls = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& s = stats_[{service, op, region}];
    s.service = service;
    s.operation = op;
    s.region = region;
    s.calls += calls;
    if (!ok) ++s.errors;
    s.elapsed_ms += ms;
  }
  std::vector<store::ApiCallStat> All() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<store::ApiCallStat> out;
    for (const auto& [k, v] : stats_) out.push_back(v);
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, store::ApiCallStat> stats_;
};

class Collector {
 public:
  Collector(aws::AwsClient& client, store::Store& store, const CollectOptions& options, int64_t scan_id)
      : client_(client), store_(store), options_(options), scan_id_(scan_id) {}

  std::map<std::string, std::string> context;  // account_id, partition (region added per task)
  WorkQueue* work = nullptr;

  // One call; with all_pages every page (merged like CallAllPages), each
  // page counted as one API call.
  Result<Json> Invoke(const Call& call, const Json& params, const std::string& region) {
    auto start = std::chrono::steady_clock::now();
    auto model = aws::LoadServiceModel(call.service);
    const aws::Operation* op = model ? (*model)->FindOperation(call.operation) : nullptr;
    Result<Json> result = MakeError(ErrorCode::kInternal, "not called");
    int64_t requests = 1;
    if (call.all_pages && op != nullptr && op->paginator) {
      aws::PageMerger merger(*op->paginator);
      int64_t pages = 0;
      Status paged = client_.Paginate(call.service, call.operation, params, region, [&](const Json& page) {
        ++pages;
        merger.Add(page);
        return true;
      });
      if (paged) {
        result = merger.Finish();
      } else {
        result = tl::unexpected(paged.error());
      }
      requests = pages + (paged ? 0 : 1);  // a failed page was a request too
    } else {
      result = client_.Call(call.service, call.operation, params, region);
    }
    int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    calls_.Record(call.service, call.operation, region,
                  result.has_value() || result.error().code == ErrorCode::kNotConfigured, ms, requests);
    return result;
  }

  // `members`: the document members the failed call would have filled
  // (empty: the whole resource or listing).
  void RecordGap(const ResourceSpec& spec, const Call& call, const std::string& region, const std::string& resource,
                 const Error& error, std::vector<std::string> members = {}) {
    store::Gap gap;
    gap.type = spec.table;
    gap.service = call.service;
    gap.operation = call.operation;
    gap.region = region;
    gap.resource = resource;
    gap.error_code = !error.aws_code.empty() ? error.aws_code : std::string(ErrorCodeName(error.code));
    gap.message = error.message;
    gap.members = std::move(members);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++gaps_by_code_[gap.error_code];
      ++gaps_;
    }
    if (auto s = store_.AddGap(scan_id_, gap); !s) SetFatal(s.error());
  }

  bool Failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return fatal_.has_value();
  }

  void SetFatal(const Error& e) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fatal_) fatal_ = e;
  }

  // Builds the row of one item after its enrichments.
  store::ResourceRow MakeRow(const ResourceSpec& spec, Json item, const std::string& region,
                             const std::map<std::string, std::string>& ctx) {
    store::ResourceRow row;
    row.type = spec.table;
    row.account_id = ctx.at("account_id");
    row.region = spec.scope == Scope::kGlobal ? "global" : region;
    row.id = ExpandTemplate(spec.id_template, item, ctx);
    row.arn = spec.arn_template.empty() ? "" : ExpandTemplate(spec.arn_template, item, ctx);
    row.name = spec.name_template.empty() ? "" : ExpandTemplate(spec.name_template, item, ctx);
    if (!spec.tags_path.empty()) {
      if (const Json* tags = FindPath(item, spec.tags_path); tags != nullptr) {
        if (tags->is_array()) {
          Json map = Json::object();
          // [{Key, Value}], [{key, value}] or KMS's [{TagKey, TagValue}].
          for (const auto& t : *tags) {
            if (!t.is_object()) continue;
            for (const auto& [k, v] : {std::pair<const char*, const char*>{"Key", "Value"}, {"key", "value"}, {"TagKey", "TagValue"}}) {
              if (t.contains(k) && t[k].is_string()) {
                map[t[k].get<std::string>()] = t.contains(v) ? t[v] : Json();
                break;
              }
            }
          }
          row.tags = std::move(map);
        } else if (tags->is_object()) {
          row.tags = *tags;
        }
      }
    }
    row.data = std::move(item);
    return row;
  }

  // How a per-resource gap names its resource: the ARN that the resource's
  // findings carry (so the engine can match them exactly), else its id.
  static std::string GapResource(const ResourceSpec& spec, const Json& item, const std::map<std::string, std::string>& ctx) {
    if (!spec.arn_template.empty()) {
      std::string missing;
      std::string arn = ExpandTemplate(spec.arn_template, item, ctx, &missing);
      if (missing.empty() && !arn.empty()) return arn;
    }
    return ExpandTemplate(spec.id_template, item, ctx);
  }

  // What one enrichment call gives: a value to store (JSON null for "not
  // configured"), or nothing when it failed (a gap, recorded).
  std::optional<Json> EnrichOne(const ResourceSpec& spec, const Enrichment& e, const Json& item,
                                const std::string& region, const std::map<std::string, std::string>& ctx,
                                const std::string& resource_id) {
    std::string missing;
    Json params = ExpandParams(e.call.params, item, ctx, &missing);
    if (!missing.empty()) {
      Error err;
      err.code = ErrorCode::kInvalidArgument;
      err.message = fmt::format("item has no \"{}\" to call {} with", missing, e.call.operation);
      RecordGap(spec, e.call, region, resource_id, err, {e.into});
      return std::nullopt;
    }
    if (e.builtin == "service_last_accessed") return ServiceLastAccessed(spec, e, params, region, resource_id);
    auto result = Invoke(e.call, params, region);
    if (!result) {
      if (result.error().code == ErrorCode::kNotConfigured) return Json(nullptr);  // a fact: not configured
      RecordGap(spec, e.call, region, resource_id, result.error(), {e.into});
      return std::nullopt;
    }
    const Json* value = FindPath(*result, e.result);
    return value != nullptr ? *value : Json();
  }

  // IAM service last accessed details of one principal (the enrichment
  // builtin service_last_accessed): start a report job with `e.call`
  // (GenerateServiceLastAccessedDetails), poll GetServiceLastAccessedDetails
  // until the job is COMPLETED — pausing report_poll_ms, doubling up to 5 s,
  // for report_job_timeout_ms at most — then read every page (Marker). The
  // value is the ServicesLastAccessed list; a failed call, a FAILED job, a
  // timeout or an answer that makes no sense is a gap, never an empty list.
  std::optional<Json> ServiceLastAccessed(const ResourceSpec& spec, const Enrichment& e, const Json& params,
                                          const std::string& region, const std::string& resource_id) {
    const Call get{e.call.service, "GetServiceLastAccessedDetails", Json::object(), false};
    auto gap = [&](const Call& call, Error error) {
      RecordGap(spec, call, region, resource_id, error, {e.into});
      return std::optional<Json>();
    };
    auto problem = [](ErrorCode code, std::string message) {
      Error err;
      err.code = code;
      err.message = std::move(message);
      return err;
    };
    auto started = Invoke(e.call, params, region);
    if (!started) return gap(e.call, started.error());
    const std::string job = started->value("JobId", "");
    if (job.empty()) return gap(e.call, problem(ErrorCode::kParse, "the answer carries no JobId"));

    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::milliseconds(options_.report_job_timeout_ms);
    auto pause = std::chrono::milliseconds(std::max<int64_t>(1, options_.report_poll_ms));
    Json page;
    while (true) {
      if (Failed()) return std::nullopt;  // the store cannot be written: stop
      auto polled = Invoke(get, Json{{"JobId", job}}, region);
      if (!polled) return gap(get, polled.error());
      const std::string status = polled->value("JobStatus", "");
      if (status == "COMPLETED") {
        page = std::move(*polled);
        break;
      }
      if (status == "FAILED") {
        const Json details = polled->contains("Error") && (*polled)["Error"].is_object() ? (*polled)["Error"] : Json::object();
        Error failed = problem(ErrorCode::kAwsService, fmt::format("report job {} failed: {}", job,
                                                                   details.value("Message", "IAM gave no reason")));
        failed.aws_code = details.value("Code", "JobFailed");
        return gap(get, failed);
      }
      if (status != "IN_PROGRESS")
        return gap(get, problem(ErrorCode::kParse, fmt::format("report job {} has JobStatus \"{}\"", job, status)));
      if (Clock::now() + pause > deadline)
        return gap(get, problem(ErrorCode::kTimeout, fmt::format("report job {} was still IN_PROGRESS after {} s", job,
                                                                 options_.report_job_timeout_ms / 1000.0)));
      std::this_thread::sleep_for(pause);
      pause = std::min<std::chrono::milliseconds>(pause * 2, std::chrono::seconds(5));
    }
    Json services = Json::array();
    std::set<std::string> markers;  // a marker seen twice would page forever
    while (true) {
      if (const Json* list = FindPath(page, "ServicesLastAccessed"); list != nullptr && list->is_array())
        for (const auto& service : *list) services.push_back(service);
      const std::string marker = page.value("IsTruncated", false) ? page.value("Marker", "") : "";
      if (marker.empty()) break;
      if (!markers.insert(marker).second)
        return gap(get, problem(ErrorCode::kParse, fmt::format("report job {} repeats page marker {}", job, marker)));
      auto next = Invoke(get, Json{{"JobId", job}, {"Marker", marker}}, region);
      if (!next) return gap(get, next.error());
      if (next->value("JobStatus", "") != "COMPLETED")
        return gap(get, problem(ErrorCode::kParse, fmt::format("a later page of report job {} is not COMPLETED", job)));
      page = std::move(*next);
    }
    return services;
  }

  // Every enrichment of one item, in order (for specs whose calls read what
  // earlier ones stored).
  void Enrich(const ResourceSpec& spec, Json& item, const std::string& region,
              const std::map<std::string, std::string>& ctx, const std::string& resource_id) {
    for (const auto& e : spec.enrich) {
      if (auto value = EnrichOne(spec, e, item, region, ctx, resource_id)) item[e.into] = std::move(*value);
    }
  }

  // The enrichments of a page's items, on the work queue: one job per
  // (item, call), results stored into the items in spec order once all are
  // done, so documents do not depend on the order calls complete in.
  void EnrichPage(const ResourceSpec& spec, std::vector<Json>& items, const std::string& region,
                  const std::map<std::string, std::string>& ctx) {
    if (spec.enrich.empty() || items.empty()) return;
    std::vector<std::string> ids;  // what a gap names: the ARN a finding will carry, else the id
    ids.reserve(items.size());
    for (const Json& item : items) ids.push_back(GapResource(spec, item, ctx));
    std::vector<std::function<void()>> jobs;
    if (EnrichmentsChain(spec)) {
      for (size_t i = 0; i < items.size(); ++i) {
        jobs.push_back([&, i] {
          if (!Failed()) Enrich(spec, items[i], region, ctx, ids[i]);
        });
      }
      work->RunAll(std::move(jobs));
      return;
    }
    const size_t n = spec.enrich.size();
    std::vector<std::optional<Json>> values(items.size() * n);
    jobs.reserve(values.size());
    for (size_t i = 0; i < items.size(); ++i) {
      for (size_t k = 0; k < n; ++k) {
        jobs.push_back([&, i, k] {
          if (!Failed()) values[i * n + k] = EnrichOne(spec, spec.enrich[k], items[i], region, ctx, ids[i]);
        });
      }
    }
    work->RunAll(std::move(jobs));
    for (size_t i = 0; i < items.size(); ++i) {
      for (size_t k = 0; k < n; ++k) {
        if (auto& value = values[i * n + k]) items[i][spec.enrich[k].into] = std::move(*value);
      }
    }
  }

  void RunTask(const Task& task) {
    const ResourceSpec& spec = *task.spec;
    std::map<std::string, std::string> ctx = context;
    ctx["region"] = task.region;
    if (!spec.list.builtin.empty()) {
      RunBuiltin(task, ctx);
      return;
    }
    std::string missing;
    Json params = ExpandParams(spec.list.call.params, Json::object(), ctx, &missing);
    auto handle_page = [&](const Json& page) {
      if (Failed()) return;
      Json flattened;
      const Json* items = FindItems(page, spec.list.items, &flattened);
      if (items == nullptr || items->is_null()) return;
      std::vector<Json> page_items;
      auto add = [&](const Json& raw) {
        if (!spec.list.item_name.empty() && !raw.is_object()) {
          Json item = Json::object();
          item[spec.list.item_name] = raw;
          page_items.push_back(std::move(item));
        } else if (raw.is_object()) {
          page_items.push_back(raw);
        }
      };
      if (spec.list.singleton) {
        add(*items);
      } else if (items->is_array()) {
        for (const auto& raw : *items) add(raw);
      }
      EnrichPage(spec, page_items, task.region, ctx);
      std::vector<store::ResourceRow> rows;
      rows.reserve(page_items.size());
      for (Json& item : page_items) rows.push_back(MakeRow(spec, std::move(item), task.region, ctx));
      if (!rows.empty()) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          resources_per_type_[spec.table] += static_cast<int64_t>(rows.size());
        }
        if (auto s = store_.AddResources(scan_id_, rows); !s) SetFatal(s.error());
      }
    };
    auto start = std::chrono::steady_clock::now();
    Status listed;
    if (spec.list.shared) {
      auto result = SharedCall(spec.list.call, params, task.region);
      if (result) {
        handle_page(*result);
      } else if (result.error().code != ErrorCode::kNotConfigured) {
        listed = tl::unexpected(result.error());
      }
    } else if (spec.list.singleton) {
      auto result = Invoke(spec.list.call, params, task.region);
      if (result) {
        handle_page(*result);
      } else if (result.error().code != ErrorCode::kNotConfigured) {
        listed = tl::unexpected(result.error());
      }
    } else if (std::string token = UnmodelledPageToken(spec.list.call); !token.empty()) {
      listed = ListFollowingToken(spec.list.call, params, task.region, token, handle_page);
    } else {
      int64_t pages = 0;
      listed = client_.Paginate(spec.list.call.service, spec.list.call.operation, params, task.region,
                                [&](const Json& page) {
                                  ++pages;
                                  handle_page(page);
                                  return !Failed();  // the store cannot be written: stop paging
                                });
      int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      // A failed page was a request too.
      calls_.Record(spec.list.call.service, spec.list.call.operation, task.region, listed.has_value(), ms,
                    pages + (listed.has_value() ? 0 : 1));
    }
    if (!listed) RecordGap(spec, spec.list.call, task.region, "", listed.error());
  }

  void RunBuiltin(const Task& task, const std::map<std::string, std::string>& ctx);

  // Some listings page with a token that botocore gives no paginator for
  // (s3control ListAccessPoints: NextToken in and out), so the AWS CLI and
  // Paginate make one call and a large account would be listed partly with
  // no gap. The token member, when the operation has no paginator and its
  // input and output both have it; "" otherwise.
  static std::string UnmodelledPageToken(const Call& call) {
    auto model = aws::LoadServiceModel(call.service);
    const aws::Operation* op = model ? (*model)->FindOperation(call.operation) : nullptr;
    if (op == nullptr || op->paginator || op->input == nullptr || op->output == nullptr) return "";
    // Not WAFv2's NextMarker: its List* operations return one on the last
    // page too (boto/boto3#3715), which would read as more pages.
    for (const char* token : {"NextToken", "nextToken"})
      if (op->input->FindMember(token) != nullptr && op->output->FindMember(token) != nullptr) return token;
    return "";
  }

  // Lists page by page, passing the response's `token` back until it is
  // empty. A token seen twice, or more pages than the client's cap, is an
  // error (a gap), never a silent stop.
  Status ListFollowingToken(const Call& call, const Json& params, const std::string& region, const std::string& token,
                            const std::function<void(const Json&)>& handle_page) {
    Json current = params.is_object() ? params : Json::object();
    std::set<std::string> seen;
    constexpr int kMaxPages = 10000;
    for (int page_no = 0;; ++page_no) {
      if (page_no >= kMaxPages)
        return MakeError(ErrorCode::kAwsService, fmt::format("{}: stopped after {} pages", call.operation, kMaxPages));
      auto start = std::chrono::steady_clock::now();
      Result<Json> page = client_.Call(call.service, call.operation, current, region);
      int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
      calls_.Record(call.service, call.operation, region, page.has_value(), ms, 1);
      if (!page) {
        if (page.error().code == ErrorCode::kNotConfigured && page_no == 0) return {};
        return tl::unexpected(page.error());
      }
      handle_page(*page);
      if (Failed()) return {};  // the store cannot be written: stop paging
      const Json* next = page->is_object() && page->contains(token) ? &(*page)[token] : nullptr;
      if (next == nullptr || !next->is_string() || next->get_ref<const std::string&>().empty()) return {};
      if (!seen.insert(next->get<std::string>()).second)
        return MakeError(ErrorCode::kAwsService, fmt::format("{}: the service returned the same {} twice", call.operation, token));
      current[token] = *next;
    }
  }

  // One call per (call, params, region) per scan, shared by every resource
  // type that lists from it; concurrent askers wait for the first.
  Result<Json> SharedCall(const Call& call, const Json& params, const std::string& region) {
    std::string key = fmt::format("{}|{}|{}|{}", call.service, call.operation, region, params.dump());
    std::shared_future<Result<Json>> future;
    std::promise<Result<Json>> promise;
    bool owner = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = shared_calls_.find(key);
      if (it == shared_calls_.end()) {
        future = promise.get_future().share();
        shared_calls_.emplace(key, future);
        owner = true;
      } else {
        future = it->second;
      }
    }
    if (owner) {
      Call all = call;
      all.all_pages = true;
      promise.set_value(Invoke(all, params, region));
    }
    return future.get();
  }
  std::map<std::string, std::shared_future<Result<Json>>> shared_calls_;

  CallCounter calls_;
  std::mutex mu_;
  std::map<std::string, int64_t> resources_per_type_;
  std::map<std::string, int64_t> gaps_by_code_;
  int64_t gaps_ = 0;
  std::optional<Error> fatal_;

 private:
  aws::AwsClient& client_;
  store::Store& store_;
  const CollectOptions& options_;
  int64_t scan_id_;
};

// IAM credential report: generate, poll until ready, download, parse CSV.
void Collector::RunBuiltin(const Task& task, const std::map<std::string, std::string>& ctx) {
  const ResourceSpec& spec = *task.spec;
  Call generate{"iam", "GenerateCredentialReport", Json::object(), false};
  Call get{"iam", "GetCredentialReport", Json::object(), false};
  Result<Json> report = MakeError(ErrorCode::kInternal, "not fetched");
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto state = Invoke(generate, Json::object(), task.region);
    if (!state) {
      RecordGap(spec, generate, task.region, "", state.error());
      return;
    }
    if (state->value("State", "") == "COMPLETE") {
      report = Invoke(get, Json::object(), task.region);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(attempt < 5 ? 200 : 1000));
  }
  if (!report) {
    Error e = report.error();
    if (e.code == ErrorCode::kInternal) e.message = "the credential report was not ready after 20 attempts";
    RecordGap(spec, get, task.region, "", e);
    return;
  }
  std::string csv;
  if (!Base64Decode(report->value("Content", ""), &csv)) {
    Error e;
    e.code = ErrorCode::kParse;
    e.message = "credential report content is not valid base64";
    RecordGap(spec, get, task.region, "", e);
    return;
  }
  auto lines = Split(csv, '\n');
  if (lines.empty()) return;
  auto header = Split(std::string(Trim(lines[0])), ',');
  std::vector<store::ResourceRow> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string line(Trim(lines[i]));
    if (line.empty()) continue;
    auto fields = Split(line, ',');
    Json item = Json::object();
    for (size_t f = 0; f < header.size() && f < fields.size(); ++f) {
      // "N/A", "not_supported" and "no_information" are kept as written;
      // booleans become JSON booleans for easy SQL.
      const std::string& v = fields[f];
      if (v == "true" || v == "false") item[header[f]] = v == "true";
      else item[header[f]] = v;
    }
    item["GeneratedTime"] = report->value("GeneratedTime", "");
    rows.push_back(MakeRow(spec, std::move(item), task.region, ctx));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    resources_per_type_[spec.table] += static_cast<int64_t>(rows.size());
  }
  if (auto s = store_.AddResources(scan_id_, rows); !s) SetFatal(s.error());
}

}  // namespace

std::vector<store::ViewSpec> ViewsForSpecs(const SpecSet& specs) {
  std::vector<store::ViewSpec> out;
  for (const auto& r : specs.resources) {
    store::ViewSpec v;
    v.table = r.table;
    for (const auto& c : r.columns) {
      store::ViewColumn col;
      col.name = c.name;
      col.json_path = SqlPath(c.path);
      switch (c.type) {
        case ColumnType::kJson: col.sql_type = "JSON"; break;
        case ColumnType::kBoolean: col.sql_type = "BOOLEAN"; break;
        case ColumnType::kInteger: col.sql_type = "INTEGER"; break;
        case ColumnType::kReal: col.sql_type = "REAL"; break;
        default: col.sql_type = "TEXT";
      }
      v.columns.push_back(std::move(col));
    }
    out.push_back(std::move(v));
  }
  return out;
}

Result<CollectSummary> Collect(aws::AwsClient& client, store::Store& store, const SpecSet& specs,
                               const CollectOptions& options) {
  auto started = std::chrono::steady_clock::now();
  CollectSummary summary;
  store::ScanInfo info;
  info.tool_version = options.tool_version;
  CA_TRY(summary.scan_id, store.BeginScan(info));
  Collector collector(client, store, options, summary.scan_id);

  std::string home_region = client.config().region.empty() ? "us-east-1" : client.config().region;
  // Who are we? The account id goes into every row and ARN.
  auto identity = collector.Invoke(Call{"sts", "GetCallerIdentity", Json::object(), false}, Json::object(), home_region);
  summary.account_id = identity ? identity->value("Account", "") : "";
  summary.partition = aws::PartitionOfRegion(home_region);
  if (!identity) {
    ResourceSpec pseudo;
    pseudo.table = "aws_account";
    collector.RecordGap(pseudo, Call{"sts", "GetCallerIdentity", Json::object(), false}, home_region, "", identity.error());
  }

  // Regions: explicit, or every region enabled for the account.
  summary.regions = options.regions;
  if (summary.regions.empty()) {
    auto regions = collector.Invoke(Call{"ec2", "DescribeRegions", Json::object(), false}, Json::object(), home_region);
    if (regions && regions->contains("Regions")) {
      for (const auto& r : (*regions)["Regions"]) {
        std::string opt_in = r.value("OptInStatus", "opt-in-not-required");
        if (opt_in == "not-opted-in") continue;  // not enabled: skipped, not an error
        summary.regions.push_back(r.value("RegionName", ""));
      }
    } else {
      ResourceSpec pseudo;
      pseudo.table = "aws_region";
      if (!regions) collector.RecordGap(pseudo, Call{"ec2", "DescribeRegions", Json::object(), false}, home_region, "", regions.error());
      summary.regions.push_back(home_region);
    }
  }
  std::sort(summary.regions.begin(), summary.regions.end());
  collector.context = {{"account_id", summary.account_id}, {"partition", summary.partition}};

  std::deque<Task> tasks;
  for (const auto& spec : specs.resources) {
    if (!options.services.empty() && !options.services.count(spec.service)) continue;
    if (options.exclude_services.count(spec.service)) continue;
    if (spec.scope == Scope::kGlobal) {
      tasks.push_back({&spec, spec.list.region.empty() ? home_region : spec.list.region, true});
    } else {
      for (const auto& region : summary.regions) tasks.push_back({&spec, region, false});
    }
  }
  const size_t total = tasks.size();
  std::atomic<size_t> done{0};
  WorkQueue work(std::move(tasks));
  collector.work = &work;
  auto run_task = [&](const Task& task) {
    collector.RunTask(task);
    // Once the store cannot be written, every further call is wasted.
    if (collector.Failed()) work.Stop();
    size_t n = ++done;
    if (options.on_progress) options.on_progress(n, total, task.spec->table + " " + (task.global ? "global" : task.region));
  };
  // `concurrency` threads run the tasks and the enrichment calls of their
  // pages: as many requests in flight at most.
  std::vector<std::thread> threads;
  const int n_threads = total == 0 ? 0 : std::max(1, options.concurrency);
  for (int i = 0; i < n_threads; ++i) threads.emplace_back([&] { work.Work(run_task); });
  for (auto& t : threads) t.join();

  if (collector.fatal_) return Fail(*collector.fatal_);
  CA_TRY_STATUS(store.AddApiStats(summary.scan_id, collector.calls_.All()));
  summary.resources_per_type = collector.resources_per_type_;
  summary.gaps_by_code = collector.gaps_by_code_;
  summary.gaps = collector.gaps_;
  auto stats = client.stats();
  summary.api_calls = stats.attempts;
  summary.logical_calls = stats.calls;
  summary.status = summary.gaps == 0 ? "complete" : "partial";
  CA_TRY_STATUS(store.FinishScan(summary.scan_id, summary.status, summary.account_id, summary.regions));
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace cloudaudit::collect
