// Threat hunting over CloudTrail: reads every source (local files and
// folders, S3 prefixes, LookupEvents), evaluates each record in the time
// window against a rule set on a bounded pool of workers, and returns the
// alerts — one per (rule, record) — sorted by event time, then rule id.
//
// Memory stays flat in the records read: each worker holds one file's
// decompression buffer and one record at a time; only alerts (with their
// record as evidence) and a bounded list of notices are kept.
//
// Noise control, in this order:
//  - records outside the window are dropped (counted);
//  - unless include_service_activity, calls AWS services make on the
//    customer's behalf are dropped before matching (IsServiceActivity in
//    cloudtrail_record.h);
//  - alerts matching a suppression (rule pattern on the rule id, resource
//    pattern on the principal ARN or any resources[].ARN of the record) are
//    kept, marked with the suppression, and do not count as alerts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "rules/engine.h"
#include "store/store.h"
#include "threats/cloudtrail_reader.h"
#include "threats/cloudtrail_record.h"
#include "threats/sources.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace cloudaudit::aws {
class AwsClient;
class RetryClock;
}  // namespace cloudaudit::aws

namespace cloudaudit::threats {

// What an alert says about the rule that raised it.
struct RuleInfo {
  std::string id, title;
  std::string level;  // informational | low | medium | high | critical
  std::vector<std::string> tags;
};

// A rule set as the hunt sees it (the Sigma engine behind an adapter, or a
// test double).
class RecordMatcher {
 public:
  virtual ~RecordMatcher() = default;
  virtual const std::vector<RuleInfo>& rules() const = 0;
  // Clears *out, then appends the indexes (into rules()) of the rules
  // `record` matches. Called from several threads at once: must be
  // thread-safe.
  virtual void Match(simdjson::dom::element record, std::vector<size_t>* out) const = 0;
};

class SigmaRuleSet;  // sigma.h

// The Sigma engine as a RecordMatcher. `rules` must outlive it.
class SigmaMatcher : public RecordMatcher {
 public:
  explicit SigmaMatcher(const SigmaRuleSet& rules);
  const std::vector<RuleInfo>& rules() const override { return infos_; }
  void Match(simdjson::dom::element record, std::vector<size_t>* out) const override;

 private:
  const SigmaRuleSet& rules_;
  std::vector<RuleInfo> infos_;
};

struct HuntProgress {
  uint64_t files = 0;             // files and objects read so far
  uint64_t compressed_bytes = 0;  // bytes read from them
  uint64_t bytes = 0;             // decompressed
  uint64_t records = 0;
  uint64_t alerts = 0;
  double seconds = 0;
};

struct HuntOptions {
  TimeWindow window;
  PruneMargins margins;
  ReaderLimits limits;
  int concurrency = 4;
  bool include_service_activity = false;
  std::vector<rules::Suppression> suppressions;
  int64_t now_epoch = 0;  // suppression expiry and open windows; 0: the real clock
  // For s3:// and lookup-events sources.
  aws::AwsClient* client = nullptr;
  std::vector<std::string> lookup_regions;  // empty: the client's region
  aws::RetryClock* clock = nullptr;         // LookupEvents spacing; null: real time
  double lookup_requests_per_second = 2.0;
  size_t max_notices = 1000;   // kept in the result (all are counted)
  size_t notices_per_file = 20;
  // Called about four times a second from a helper thread while the hunt runs.
  std::function<void(const HuntProgress&)> on_progress;
};

struct HuntStats {
  uint64_t files = 0;              // files and S3 objects read
  uint64_t compressed_bytes = 0;
  uint64_t bytes = 0;              // decompressed JSON scanned
  uint64_t records = 0;            // records read (well-formed or not)
  uint64_t evaluated = 0;          // in the window and evaluated
  uint64_t outside_window = 0;
  uint64_t service_activity = 0;   // dropped by the built-in suppression
  uint64_t malformed_records = 0;  // not JSON, not an object, no usable eventTime, too large
  uint64_t malformed_files = 0;    // files with a fatal problem (bad gzip, truncated, not a log)
  uint64_t failed_objects = 0;     // S3 objects that could not be downloaded
  uint64_t lookup_pages = 0;
  uint64_t alerts = 0;             // unsuppressed
  uint64_t suppressed = 0;
  SkipCounts skipped;              // files not opened
  double seconds = 0;
};

// A problem found on the way: where (path:offset, s3://..., a source) and why.
struct Notice {
  std::string where;
  std::string what;
};

struct HuntResult {
  std::vector<store::AlertRow> alerts;  // suppressed ones included, sorted
  HuntStats stats;
  std::vector<Notice> notices;          // the first max_notices, sorted
  uint64_t notices_total = 0;
  std::vector<Error> source_errors;     // sources that could not be read at all
  std::vector<rules::Suppression> expired;
  // complete: everything read; partial: some sources, objects or listings
  // failed (see notices and source_errors).
  std::string status = "complete";
};

// Runs the hunt. Errors (returned, nothing read): a local source that does
// not exist (kNotFound), an s3:// or lookup-events source without a client
// (kInvalidArgument). Everything else is reported in the result.
Result<HuntResult> Hunt(const std::vector<SourceSpec>& sources, const RecordMatcher& matcher, const HuntOptions& options);

// Writes alerts to the store `page_size` at a time, one transaction a page.
Status SaveAlerts(store::Store& store, int64_t run_id, const std::vector<store::AlertRow>& alerts, size_t page_size = 1000);

}  // namespace cloudaudit::threats
