// The collector: reads a whole account — every enabled region, every
// resource type of the specs — into the inventory store. Failed calls become
// collection gaps (service, operation, region, resource, error code) and the
// collection goes on. Items are written page by page, so memory does not
// grow with the size of the account: a task holds one page at a time while
// its items' enrichment calls run in parallel on the collection's threads.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aws/client/client.h"
#include "base/error.h"
#include "collect/spec.h"
#include "store/store.h"

namespace cloudaudit::collect {

struct CollectOptions {
  std::vector<std::string> regions;          // empty: every enabled region (ec2 DescribeRegions)
  std::set<std::string> services;            // empty: all
  std::set<std::string> exclude_services;
  // Threads, i.e. API requests in flight at most: they run the tasks
  // (resource type x region) and the per-item enrichment calls of the pages
  // those tasks list.
  int concurrency = 16;
  // IAM report jobs (service last accessed, one per user and role): the
  // longest wait for one job to complete before it becomes a gap, and the
  // first pause between polls (doubling up to 5 s). A waiting job holds one
  // of the `concurrency` threads but makes no request while it sleeps.
  int64_t report_job_timeout_ms = 120000;
  int64_t report_poll_ms = 250;
  std::string tool_version;
  // Progress callback (done, total, current task), called from worker threads.
  std::function<void(size_t done, size_t total, const std::string& task)> on_progress;
};

struct CollectSummary {
  int64_t scan_id = 0;
  std::string account_id;
  std::string partition;
  std::vector<std::string> regions;
  std::map<std::string, int64_t> resources_per_type;
  std::map<std::string, int64_t> gaps_by_code;
  int64_t gaps = 0;
  uint64_t api_calls = 0;     // HTTP requests, retries included
  uint64_t logical_calls = 0;
  double seconds = 0;
  std::string status;         // complete | partial
};

// Collects into `store` as a new scan. Errors only for problems that stop
// the whole collection (the store cannot be written); AWS failures are gaps.
Result<CollectSummary> Collect(aws::AwsClient& client, store::Store& store, const SpecSet& specs,
                               const CollectOptions& options);

// The views the store needs for the specs' typed columns.
std::vector<store::ViewSpec> ViewsForSpecs(const SpecSet& specs);

}  // namespace cloudaudit::collect
