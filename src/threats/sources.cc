#include "threats/sources.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "aws/client/client.h"
#include "aws/client/retry.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::threats {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kDay = 86400;

bool AllDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool ValidDate(int y, int m, int d) { return y >= 1970 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m); }

int64_t EpochOfDate(int y, int m, int d) { return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * kDay; }

// "YYYYMMDDTHHmmZ" as CloudTrail names files.
std::optional<int64_t> ParseNameTime(std::string_view s) {
  if (s.size() != 14 || s[8] != 'T' || s[13] != 'Z') return std::nullopt;
  if (!AllDigits(s.substr(0, 8), 8) || !AllDigits(s.substr(9, 4), 4)) return std::nullopt;
  int y = ToInt(s.substr(0, 4)), mo = ToInt(s.substr(4, 2)), d = ToInt(s.substr(6, 2));
  int h = ToInt(s.substr(9, 2)), mi = ToInt(s.substr(11, 2));
  if (!ValidDate(y, mo, d) || h > 23 || mi > 59) return std::nullopt;
  return EpochOfDate(y, mo, d) + h * 3600 + mi * 60;
}

// "YYYYMMDDTHHmmZ" of an epoch time (minute precision, floored).
std::string NameTime(int64_t t) {
  std::string iso = FormatIso8601Utc(t);  // 2024-05-01T10:00:00Z
  return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2) + "T" + iso.substr(11, 2) + iso.substr(14, 2) + "Z";
}

// "YYYY/MM/DD/" of an epoch time.
std::string DayPath(int64_t t) {
  std::string iso = FormatIso8601Utc(t);
  return iso.substr(0, 4) + "/" + iso.substr(5, 2) + "/" + iso.substr(8, 2) + "/";
}

int64_t FloorDay(int64_t t) { return t >= 0 ? t - t % kDay : t - ((t % kDay) + kDay) % kDay; }

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsLogFileName(std::string_view name) {
  std::string lower = ToLower(name);
  return EndsWith(lower, ".json") || EndsWith(lower, ".json.gz");
}

bool IsAccountId(std::string_view s) { return AllDigits(s, 12); }

bool IsOrgId(std::string_view s) {
  if (s.size() < 12 || s.substr(0, 2) != "o-") return false;
  for (char c : s.substr(2))
    if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Index of the "CloudTrail" segment followed by a region, or npos.
size_t CloudTrailSegment(const std::vector<std::string_view>& segs) {
  for (size_t i = segs.size(); i-- > 0;)
    if (segs[i] == "CloudTrail" && i + 1 < segs.size()) return i;
  return std::string_view::npos;
}

}  // namespace

Result<int64_t> ParseTimeBound(std::string_view text, int64_t now, bool end_of_day) {
  std::string t(Trim(text));
  if (t.size() >= 2 && std::isdigit(static_cast<unsigned char>(t[0])) && std::isalpha(static_cast<unsigned char>(t.back())) &&
      t.find_first_not_of("0123456789") == t.size() - 1) {
    int64_t unit = 0;
    switch (t.back()) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = kDay; break;
      case 'w': unit = 7 * kDay; break;
      default: break;
    }
    if (unit > 0 && t.size() <= 10) return now - std::stoll(t.substr(0, t.size() - 1)) * unit;
  }
  if (t.size() == 10 && t[4] == '-' && t[7] == '-') {
    auto day = ParseTimestamp(t + "T00:00:00Z");
    if (day) return day->epoch_seconds + (end_of_day ? kDay - 1 : 0);
  }
  auto ts = ParseTimestamp(t);
  if (!ts || t.size() < 10 || !std::isdigit(static_cast<unsigned char>(t[0])) || t.find('-') == std::string::npos)
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("`{}` is not a time: use ISO-8601 (2024-05-01T10:00:00Z), a date (2024-05-01) or an age "
                                 "(90d, 12h, 30m)",
                                 text));
  return ts->epoch_seconds;
}

LogName ParseLogName(std::string_view path) {
  LogName out;
  auto segs = Segments(path);
  if (segs.empty()) return out;
  std::string_view name = segs.back();
  out.log_file = IsLogFileName(name);
  out.digest = name.find("_CloudTrail-Digest_") != std::string_view::npos;
  for (size_t i = 0; i + 1 < segs.size(); ++i)
    if (segs[i] == "CloudTrail-Digest") out.digest = true;
  // <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
  auto parts = Split(name, '_');
  if (parts.size() >= 5 && parts[1] == "CloudTrail") {
    if (auto t = ParseNameTime(parts[3])) {
      out.delivered = *t;
      out.account = parts[0];
      out.region = parts[2];
    }
  }
  // .../CloudTrail/<region>/YYYY/MM/DD/<file>
  size_t ct = CloudTrailSegment(segs);
  if (ct != std::string_view::npos && ct + 5 < segs.size() && AllDigits(segs[ct + 2], 4) && AllDigits(segs[ct + 3], 2) &&
      AllDigits(segs[ct + 4], 2)) {
    int y = ToInt(segs[ct + 2]), m = ToInt(segs[ct + 3]), d = ToInt(segs[ct + 4]);
    if (ValidDate(y, m, d)) out.day = EpochOfDate(y, m, d);
  }
  return out;
}

std::optional<std::pair<int64_t, int64_t>> DirectorySpan(std::string_view path) {
  auto segs = Segments(path);
  size_t ct = CloudTrailSegment(segs);
  if (ct == std::string_view::npos) return std::nullopt;
  size_t below = segs.size() - (ct + 2);  // segments after the region
  if (below < 1 || below > 3) return std::nullopt;
  if (!AllDigits(segs[ct + 2], 4)) return std::nullopt;
  int y = ToInt(segs[ct + 2]);
  if (y < 1970 || y > 9999) return std::nullopt;
  if (below == 1) return std::make_pair(EpochOfDate(y, 1, 1), EpochOfDate(y + 1, 1, 1));
  if (!AllDigits(segs[ct + 3], 2)) return std::nullopt;
  int m = ToInt(segs[ct + 3]);
  if (m < 1 || m > 12) return std::nullopt;
  if (below == 2) return std::make_pair(EpochOfDate(y, m, 1), m == 12 ? EpochOfDate(y + 1, 1, 1) : EpochOfDate(y, m + 1, 1));
  if (!AllDigits(segs[ct + 4], 2)) return std::nullopt;
  int d = ToInt(segs[ct + 4]);
  if (!ValidDate(y, m, d)) return std::nullopt;
  return std::make_pair(EpochOfDate(y, m, d), EpochOfDate(y, m, d) + kDay);
}

bool DeliveryMayHold(int64_t from, int64_t to, const TimeWindow& window, const PruneMargins& margins) {
  // Delivered in [from, to): records from from - delivery margin up to to + clock skew.
  return window.Overlaps(from - margins.delivery_margin_seconds, to + margins.clock_skew_seconds);
}

bool LogMayHold(const LogName& name, const TimeWindow& window, const PruneMargins& margins) {
  if (name.delivered) return DeliveryMayHold(*name.delivered, *name.delivered + 60, window, margins);
  if (name.day) return DeliveryMayHold(*name.day, *name.day + kDay, window, margins);
  return true;
}

Result<SourceSpec> ParseSourceSpec(std::string_view text) {
  SourceSpec spec;
  spec.text = std::string(text);
  if (text == "lookup-events") {
    spec.kind = SourceSpec::Kind::kLookupEvents;
    return spec;
  }
  if (text.substr(0, 5) == "s3://") {
    std::string_view rest = text.substr(5);
    size_t slash = rest.find('/');
    spec.kind = SourceSpec::Kind::kS3;
    spec.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) spec.prefix = std::string(rest.substr(slash + 1));
    if (spec.bucket.empty())
      return MakeError(ErrorCode::kInvalidArgument, fmt::format("`{}`: an S3 source is s3://BUCKET[/PREFIX]", text));
    return spec;
  }
  if (text.empty()) return MakeError(ErrorCode::kInvalidArgument, "an empty source");
  spec.path = std::string(text);
  return spec;
}

void SkipCounts::Add(const SkipCounts& o) {
  digests += o.digests;
  non_log += o.non_log;
  pruned += o.pruned;
  if (first_digest.empty()) first_digest = o.first_digest;
  if (first_non_log.empty()) first_non_log = o.first_non_log;
}

Status EnumerateLocal(const std::string& root, const TimeWindow& window, const PruneMargins& margins,
                      const std::function<void(const std::string& path)>& on_file,
                      const std::function<void(const std::string& where, const std::string& why)>& on_problem,
                      SkipCounts* skipped) {
  std::error_code ec;
  auto status = fs::status(root, ec);
  if (ec || !fs::exists(status))
    return MakeError(ErrorCode::kNotFound, fmt::format("no such file or folder: {}", root));
  if (!fs::is_directory(status)) {
    on_file(root);  // named explicitly: always read
    return {};
  }
  // Folders in name order so that the files come in a stable order.
  std::vector<fs::path> stack = {fs::path(root)};
  while (!stack.empty()) {
    fs::path dir = std::move(stack.back());
    stack.pop_back();
    std::vector<fs::directory_entry> entries;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      on_problem(dir.string(), "cannot list the folder: " + ec.message());
      continue;
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) {
        on_problem(dir.string(), "cannot list the folder: " + ec.message());
        break;
      }
      entries.push_back(*it);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.path() < b.path(); });
    std::vector<fs::path> subdirs;
    for (const auto& e : entries) {
      const std::string path = e.path().string();
      std::error_code type_ec;
      if (e.is_directory(type_ec)) {
        if (e.path().filename() == "CloudTrail-Digest") {
          ++skipped->digests;
          if (skipped->first_digest.empty()) skipped->first_digest = path;
          continue;
        }
        if (auto span = DirectorySpan(path); span && !DeliveryMayHold(span->first, span->second, window, margins)) {
          ++skipped->pruned;
          continue;
        }
        subdirs.push_back(e.path());
        continue;
      }
      if (!e.is_regular_file(type_ec)) continue;
      LogName name = ParseLogName(path);
      if (name.digest) {
        ++skipped->digests;
        if (skipped->first_digest.empty()) skipped->first_digest = path;
      } else if (!name.log_file) {
        ++skipped->non_log;
        if (skipped->first_non_log.empty()) skipped->first_non_log = path;
      } else if (!LogMayHold(name, window, margins)) {
        ++skipped->pruned;
      } else {
        on_file(path);
      }
    }
    // Depth first, in name order.
    for (auto it2 = subdirs.rbegin(); it2 != subdirs.rend(); ++it2) stack.push_back(std::move(*it2));
  }
  return {};
}

// --- S3 ---------------------------------------------------------------------

Result<std::vector<std::string>> S3Lister::ListChildren(const std::string& bucket, const std::string& prefix) {
  std::vector<std::string> out;
  Json params = {{"Bucket", bucket}, {"Delimiter", "/"}};
  if (!prefix.empty()) params["Prefix"] = prefix;
  CA_TRY_STATUS(client_.Paginate("s3", "ListObjectsV2", params, "", [&](const Json& page) {
    if (auto it = page.find("CommonPrefixes"); it != page.end() && it->is_array())
      for (const auto& cp : *it)
        if (cp.contains("Prefix") && cp["Prefix"].is_string()) out.push_back(cp["Prefix"].get<std::string>());
    return true;
  }));
  return out;
}

void S3Lister::AddRegionUnits(const std::string& bucket, const std::string& region_prefix, const std::string& below,
                              std::vector<S3ListUnit>* out) {
  std::optional<int64_t> upper;
  if (window_.until) upper = *window_.until + margins_.delivery_margin_seconds;
  if (!window_.since) {
    out->push_back(S3ListUnit{bucket, region_prefix + below, "", false, upper});
    return;
  }
  // Keys under a day folder are <account>_CloudTrail_<region>_<time>_...:
  // StartAfter skips those delivered before the window's start.
  auto segs = Segments(region_prefix);
  const std::string region(segs.back());
  const std::string account(segs.size() >= 3 ? segs[segs.size() - 3] : std::string_view());
  const int64_t lower = *window_.since - margins_.clock_skew_seconds;
  const int64_t last = upper ? std::min(*upper, now_ + kDay) : now_ + margins_.clock_skew_seconds;
  for (int64_t day = FloorDay(lower); day <= last; day += kDay) {
    const std::string day_path = DayPath(day);
    if (day_path.compare(0, below.size(), below) != 0) continue;  // outside the year/month/day the prefix names
    S3ListUnit unit{bucket, region_prefix + day_path, "", false, upper};
    if (day == FloorDay(lower) && IsAccountId(account))
      unit.start_after = unit.prefix + account + "_CloudTrail_" + region + "_" + NameTime(lower - lower % 60);
    out->push_back(std::move(unit));
  }
}

Status S3Lister::Expand(const std::string& bucket, const std::string& prefix, int depth, std::vector<S3ListUnit>* out,
                        const std::function<void(const std::string&)>& on_note) {
  if (depth > 8) return {};
  auto segs = Segments(prefix);
  size_t logs = std::string_view::npos;
  for (size_t i = segs.size(); i-- > 0;)
    if (segs[i] == "AWSLogs") {
      logs = i;
      break;
    }
  const std::string where = "s3://" + bucket + "/" + prefix;
  if (logs == std::string_view::npos) {
    CA_TRY(auto children, ListChildren(bucket, prefix));
    if (std::find(children.begin(), children.end(), prefix + "AWSLogs/") != children.end())
      return Expand(bucket, prefix + "AWSLogs/", depth + 1, out, on_note);
    on_note(fmt::format("{}: no AWSLogs/ folder below; every key is listed", where));
    out->push_back(S3ListUnit{bucket, prefix, "", false, std::nullopt});
    return {};
  }
  std::vector<std::string_view> rest(segs.begin() + static_cast<std::ptrdiff_t>(logs) + 1, segs.end());
  size_t at = 0;
  if (at < rest.size() && IsOrgId(rest[at])) ++at;
  if (at == rest.size()) {
    // AWSLogs/ or AWSLogs/<org-id>/: accounts (and organizations) below.
    CA_TRY(auto children, ListChildren(bucket, prefix));
    for (const auto& child : children) {
      auto child_segs = Segments(child);
      std::string_view name = child_segs.empty() ? std::string_view() : child_segs.back();
      if (IsAccountId(name) || (at == 0 && IsOrgId(name))) {
        CA_TRY_STATUS(Expand(bucket, child, depth + 1, out, on_note));
      } else {
        on_note(fmt::format("s3://{}/{}: not an account or organization folder; skipped", bucket, child));
      }
    }
    return {};
  }
  if (!IsAccountId(rest[at])) {
    on_note(fmt::format("{}: not the CloudTrail layout below AWSLogs/; every key is listed", where));
    out->push_back(S3ListUnit{bucket, prefix, "", false, std::nullopt});
    return {};
  }
  ++at;
  if (at == rest.size()) return Expand(bucket, prefix + "CloudTrail/", depth + 1, out, on_note);
  if (rest[at] != "CloudTrail") {
    on_note(fmt::format("{}: holds no CloudTrail log files (only CloudTrail/ is read); skipped", where));
    return {};
  }
  ++at;
  if (at == rest.size()) {
    CA_TRY(auto regions, ListChildren(bucket, prefix));
    for (const auto& region_prefix : regions) AddRegionUnits(bucket, region_prefix, "", out);
    return {};
  }
  // .../CloudTrail/<region>/[YYYY/[MM/[DD/]]]: rest[at] is the region.
  const size_t region_index = logs + 1 + at;
  std::string region_prefix, below;
  for (size_t i = 0; i < segs.size(); ++i) (i <= region_index ? region_prefix : below) += std::string(segs[i]) + "/";
  if (segs.size() - region_index - 1 > 3) {
    out->push_back(S3ListUnit{bucket, prefix, "", false, std::nullopt});
    return {};
  }
  AddRegionUnits(bucket, region_prefix, below, out);
  return {};
}

Result<std::vector<S3ListUnit>> S3Lister::Plan(const std::string& bucket, const std::string& prefix,
                                               const std::function<void(const std::string&)>& on_note) {
  std::vector<S3ListUnit> out;
  if (IsLogFileName(prefix)) {
    out.push_back(S3ListUnit{bucket, prefix, "", true, std::nullopt});
    return out;
  }
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  const std::function<void(const std::string&)> note = on_note ? on_note : [](const std::string&) {};
  CA_TRY_STATUS(Expand(bucket, p, 0, &out, note));
  if (out.empty()) note(fmt::format("s3://{}/{}: no CloudTrail log folder in the time window", bucket, p));
  return out;
}

Status S3Lister::List(const S3ListUnit& unit, const std::function<void(const S3Object&)>& on_object, SkipCounts* skipped) {
  if (unit.exact) {
    on_object(S3Object{unit.bucket, unit.prefix, -1});
    return {};
  }
  Json params = {{"Bucket", unit.bucket}};
  if (!unit.prefix.empty()) params["Prefix"] = unit.prefix;
  if (!unit.start_after.empty()) params["StartAfter"] = unit.start_after;
  return client_.Paginate("s3", "ListObjectsV2", params, "", [&](const Json& page) {
    auto it = page.find("Contents");
    if (it == page.end() || !it->is_array()) return true;
    for (const auto& obj : *it) {
      if (!obj.contains("Key") || !obj["Key"].is_string()) continue;
      const std::string& key = obj["Key"].get_ref<const std::string&>();
      LogName name = ParseLogName(key);
      if (name.digest) {
        ++skipped->digests;
        if (skipped->first_digest.empty()) skipped->first_digest = "s3://" + unit.bucket + "/" + key;
        continue;
      }
      if (!name.log_file) {
        ++skipped->non_log;
        if (skipped->first_non_log.empty()) skipped->first_non_log = "s3://" + unit.bucket + "/" + key;
        continue;
      }
      // Under a region or day prefix keys sort by delivery time.
      if (unit.stop_after && name.delivered && *name.delivered > *unit.stop_after) return false;
      if (!LogMayHold(name, window_, margins_)) {
        ++skipped->pruned;
        continue;
      }
      int64_t size = obj.contains("Size") && obj["Size"].is_number_integer() ? obj["Size"].get<int64_t>() : -1;
      on_object(S3Object{unit.bucket, key, size});
    }
    return true;
  });
}

// --- LookupEvents -----------------------------------------------------------

RequestSpacer::RequestSpacer(aws::RetryClock& clock, double per_second)
    : clock_(clock), interval_(per_second > 0 ? 1.0 / per_second : 0) {}

void RequestSpacer::Wait() {
  double wait = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    double now = clock_.NowSeconds();
    double at = next_ ? std::max(now, *next_) : now;
    wait = at - now;
    next_ = at + interval_;
  }
  if (wait > 0) clock_.SleepSeconds(wait);
}

Result<std::vector<std::string>> EnabledRegions(aws::AwsClient& client) {
  CA_TRY(Json answer, client.Call("ec2", "DescribeRegions", Json::object()));
  std::vector<std::string> out;
  if (auto it = answer.find("Regions"); it != answer.end() && it->is_array())
    for (const auto& r : *it)
      if (r.contains("RegionName") && r["RegionName"].is_string()) out.push_back(r["RegionName"].get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

Status LookupEvents(aws::AwsClient& client, const std::string& region, const TimeWindow& window, RequestSpacer& spacer,
                    const std::function<void(std::string_view record)>& on_event, int* pages) {
  Json params = {{"MaxResults", 50}};
  if (window.since) params["StartTime"] = FormatIso8601Utc(*window.since);
  if (window.until) params["EndTime"] = FormatIso8601Utc(*window.until);
  // Paged by hand: the spacer must run before every request.
  for (int page_no = 0; page_no < client.config().max_pages; ++page_no) {
    spacer.Wait();
    CA_TRY(Json page, client.Call("cloudtrail", "LookupEvents", params, region));
    if (pages != nullptr) ++*pages;
    if (auto it = page.find("Events"); it != page.end() && it->is_array())
      for (const auto& ev : *it)
        if (auto text = ev.find("CloudTrailEvent"); text != ev.end() && text->is_string())
          on_event(text->get_ref<const std::string&>());
    auto token = page.find("NextToken");
    if (token == page.end() || !token->is_string() || token->get_ref<const std::string&>().empty()) return {};
    params["NextToken"] = *token;
  }
  return MakeError(ErrorCode::kAwsService, fmt::format("LookupEvents in {}: stopped after {} pages (safety cap)", region,
                                                       client.config().max_pages));
}

}  // namespace cloudaudit::threats
