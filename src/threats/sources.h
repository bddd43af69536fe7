// Where CloudTrail records come from: local files and folders, S3 prefixes
// and the LookupEvents API; and what the CloudTrail delivery layout tells
// about a file's time before it is opened.
//
// CloudTrail writes `AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/
// <account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<unique>.json.gz`, the time
// being when the file was delivered; a file holds records written before
// then. A file delivered at T is taken to hold records in
// [T - delivery_margin, T + clock_skew]; files whose span misses the time
// window are skipped unopened (every record is still checked on eventTime).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {
class AwsClient;
class RetryClock;
}  // namespace cloudaudit::aws

namespace cloudaudit::threats {

// Inclusive bounds in epoch seconds; nullopt: open.
struct TimeWindow {
  std::optional<int64_t> since, until;
  bool Contains(int64_t t) const { return (!since || t >= *since) && (!until || t <= *until); }
  // [from, to] meets the window.
  bool Overlaps(int64_t from, int64_t to) const { return (!since || to >= *since) && (!until || from <= *until); }
};

// Parses a time for --since/--until: ISO-8601 ("2024-05-01T10:00:00Z"), a
// date ("2024-05-01", midnight UTC; `end_of_day` makes it 23:59:59), or an
// age before `now` ("90d", "12h", "30m", "45s", "2w").
Result<int64_t> ParseTimeBound(std::string_view text, int64_t now, bool end_of_day);

struct PruneMargins {
  int64_t clock_skew_seconds = 15 * 60;     // records a little after their file's time
  int64_t delivery_margin_seconds = 60 * 60;  // records delivered this long after they happened
};

// What a path or key says about a CloudTrail file.
struct LogName {
  bool digest = false;    // CloudTrail-Digest (integrity files, no records)
  bool log_file = false;  // named *.json or *.json.gz
  std::string account, region;  // from the file name, when it has CloudTrail's form
  std::optional<int64_t> delivered;  // file name time (epoch seconds)
  std::optional<int64_t> day;        // YYYY/MM/DD of the CloudTrail path (midnight UTC)
};
LogName ParseLogName(std::string_view path);

// The delivery times a directory covers when it is a year, month or day
// folder under CloudTrail/<region>/: [from, to) in epoch seconds.
std::optional<std::pair<int64_t, int64_t>> DirectorySpan(std::string_view path);

// Whether files delivered in [from, to) may hold records in the window.
bool DeliveryMayHold(int64_t from, int64_t to, const TimeWindow& window, const PruneMargins& margins);
// The same for one file (true when its name tells nothing).
bool LogMayHold(const LogName& name, const TimeWindow& window, const PruneMargins& margins);

// One SOURCE argument of `cloudaudit threats`.
struct SourceSpec {
  enum class Kind { kLocal, kS3, kLookupEvents };
  Kind kind = Kind::kLocal;
  std::string text;            // as given
  std::string path;            // kLocal
  std::string bucket, prefix;  // kS3 (prefix may be empty)
};
// "lookup-events" -> kLookupEvents; "s3://bucket[/prefix]" -> kS3; anything
// else is a local path. kInvalidArgument for an S3 URL without a bucket.
Result<SourceSpec> ParseSourceSpec(std::string_view text);

// Files skipped while enumerating, by reason, with one example each.
struct SkipCounts {
  uint64_t digests = 0, non_log = 0, pruned = 0;
  std::string first_digest, first_non_log;
  void Add(const SkipCounts& other);
};

// Walks `root` (a file or a folder, recursively, following the CloudTrail
// layout to skip whole day folders outside the window) and calls `on_file`
// for each log file that may hold records in the window. A file given
// directly is always read. kNotFound when `root` does not exist; unreadable
// subfolders are reported through `on_problem` and skipped.
Status EnumerateLocal(const std::string& root, const TimeWindow& window, const PruneMargins& margins,
                      const std::function<void(const std::string& path)>& on_file,
                      const std::function<void(const std::string& where, const std::string& why)>& on_problem,
                      SkipCounts* skipped);

// --- S3 ---------------------------------------------------------------------

// One listing to make: every key under `prefix` after `start_after`, with
// keys delivered after `stop_after` (when set) ending it early; keys sort by
// delivery time under a day or region prefix.
struct S3ListUnit {
  std::string bucket, prefix, start_after;
  bool exact = false;  // `prefix` is one object's key, read without listing
  std::optional<int64_t> stop_after;  // a key delivered later than this ends the listing
};

struct S3Object {
  std::string bucket, key;
  int64_t size = 0;
};

// Plans and runs the listings of one s3://bucket/prefix source.
class S3Lister {
 public:
  S3Lister(aws::AwsClient& client, TimeWindow window, PruneMargins margins, int64_t now)
      : client_(client), window_(window), margins_(margins), now_(now) {}

  // Expands `prefix` along the CloudTrail layout with delimiter listings
  // (organization -> accounts -> regions), down to one unit per region and
  // day in the window (or per region when the window has no start). A
  // prefix without AWSLogs below it is listed whole. A prefix naming one
  // .json/.json.gz key gives that key. Errors of AWS are returned as they
  // are; `on_note` (may be empty) hears about levels skipped.
  Result<std::vector<S3ListUnit>> Plan(const std::string& bucket, const std::string& prefix,
                                       const std::function<void(const std::string&)>& on_note);

  // Lists one unit (paginated), calling `on_object` for every log object that
  // may hold the window; digests and non-log keys are counted in `skipped`.
  Status List(const S3ListUnit& unit, const std::function<void(const S3Object&)>& on_object, SkipCounts* skipped);

 private:
  Result<std::vector<std::string>> ListChildren(const std::string& bucket, const std::string& prefix);
  Status Expand(const std::string& bucket, const std::string& prefix, int depth, std::vector<S3ListUnit>* out,
                const std::function<void(const std::string&)>& on_note);
  void AddRegionUnits(const std::string& bucket, const std::string& region_prefix, const std::string& below,
                      std::vector<S3ListUnit>* out);

  aws::AwsClient& client_;
  TimeWindow window_;
  PruneMargins margins_;
  int64_t now_;
};

// --- LookupEvents -----------------------------------------------------------

// Spaces requests to at most `per_second` on `clock` (LookupEvents allows 2
// requests per second per account and region). Thread-safe.
class RequestSpacer {
 public:
  RequestSpacer(aws::RetryClock& clock, double per_second);
  // Sleeps on the clock until the next request may go.
  void Wait();

 private:
  aws::RetryClock& clock_;
  const double interval_;
  std::mutex mu_;
  std::optional<double> next_;  // earliest time of the next request
};

// The regions enabled for the account (ec2 DescribeRegions), sorted.
Result<std::vector<std::string>> EnabledRegions(aws::AwsClient& client);

// Pages through LookupEvents in `region` for the window (the API keeps 90
// days of management events), waiting on `spacer` before each request, and
// calls `on_event` with each event's CloudTrailEvent text. Stops at the
// first error (returned; events already delivered stay delivered).
Status LookupEvents(aws::AwsClient& client, const std::string& region, const TimeWindow& window, RequestSpacer& spacer,
                    const std::function<void(std::string_view record)>& on_event, int* pages);

}  // namespace cloudaudit::threats
