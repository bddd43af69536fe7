#include "rules/sql_functions.h"

#include <sqlite3.h>

#include <arpa/inet.h>

#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/time.h"
#include "policy/sql_functions.h"
#include "rules/filter_pattern.h"

namespace cloudaudit::rules {

namespace {

std::optional<std::string_view> TextArg(sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) return std::nullopt;
  const unsigned char* t = sqlite3_value_text(v);
  if (t == nullptr) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_value_bytes(v)));
}

std::optional<int64_t> EpochArg(sqlite3_value* v) {
  auto text = TextArg(v);
  if (!text || text->empty()) return std::nullopt;
  auto ts = ParseTimestamp(*text);
  if (!ts) return std::nullopt;  // "N/A", "no_information" (credential report) and the like
  return ts->epoch_seconds;
}

void ScanAccountId(sqlite3_context* ctx, int, sqlite3_value**);
void ScanRegions(sqlite3_context* ctx, int, sqlite3_value**);

const EvalContext* Clock(sqlite3_context* ctx) { return static_cast<const EvalContext*>(sqlite3_user_data(ctx)); }

// Floor division, so "23 hours ago" is 0 days and "1 hour ahead" is -1.
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

void EvalTime(sqlite3_context* ctx, int, sqlite3_value**) {
  std::string s = FormatIso8601Utc(Clock(ctx)->now_epoch);
  sqlite3_result_text(ctx, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void ScanAccountId(sqlite3_context* ctx, int, sqlite3_value**) {
  const std::string& s = Clock(ctx)->account_id;
  sqlite3_result_text(ctx, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

void ScanRegions(sqlite3_context* ctx, int, sqlite3_value**) {
  const std::string& s = Clock(ctx)->regions_json;
  sqlite3_result_text(ctx, s.c_str(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}

template <int64_t kUnit, bool kSince>
void AgeFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto epoch = EpochArg(argv[0]);
  if (!epoch) return sqlite3_result_null(ctx);
  int64_t delta = kSince ? Clock(ctx)->now_epoch - *epoch : *epoch - Clock(ctx)->now_epoch;
  sqlite3_result_int64(ctx, FloorDiv(delta, kUnit));
}

// An IPv4 or IPv6 network: 16 bytes (IPv4 mapped into the low 4) + prefix.
struct Network {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  int prefix = 0;  // within its family: 0..32 or 0..128
};

std::optional<Network> ParseNetwork(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::string host(text);
  int prefix = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    host = std::string(text.substr(0, slash));
    std::string_view p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + (c - '0');
    }
  }
  Network n;
  if (inet_pton(AF_INET, host.c_str(), n.addr.data() + 12) == 1) {
    if (prefix < 0) prefix = 32;
    if (prefix > 32) return std::nullopt;
  } else if (inet_pton(AF_INET6, host.c_str(), n.addr.data()) == 1) {
    n.v6 = true;
    if (prefix < 0) prefix = 128;
    if (prefix > 128) return std::nullopt;
  } else {
    return std::nullopt;
  }
  n.prefix = prefix;
  return n;
}

// Whether the first `bits` bits of the two (family-relative) addresses match.
bool PrefixMatches(const Network& a, const Network& b, int bits) {
  int offset = a.v6 ? 0 : 12;
  for (int i = 0; i < bits; ++i) {
    int byte = offset + i / 8, bit = 7 - i % 8;
    if (((a.addr[byte] >> bit) & 1) != ((b.addr[byte] >> bit) & 1)) return false;
  }
  return true;
}

bool Contains(const Network& outer, const Network& inner) {
  return outer.v6 == inner.v6 && inner.prefix >= outer.prefix && PrefixMatches(outer, inner, outer.prefix);
}

bool IsPrivate(const Network& n) {
  static const char* kPrivate[] = {"10.0.0.0/8",     "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                                   "127.0.0.0/8",    "169.254.0.0/16", "fc00::/7",      "fe80::/10",
                                   "::1/128"};
  for (const char* p : kPrivate)
    if (Contains(*ParseNetwork(p), n)) return true;
  return false;
}

void CidrContains(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto a = TextArg(argv[0]), b = TextArg(argv[1]);
  if (!a || !b) return sqlite3_result_null(ctx);
  auto outer = ParseNetwork(*a), inner = ParseNetwork(*b);
  if (!outer || !inner) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, Contains(*outer, *inner) ? 1 : 0);
}

// filter_pattern_covers(filter, reference): 1 when the CloudWatch Logs
// filter pattern catches every event the reference pattern describes, 0 when
// not, NULL when either is not a JSON filter pattern (rules/filter_pattern.h).
void FilterPatternCoversFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto filter = TextArg(argv[0]);
  auto reference = TextArg(argv[1]);
  if (!filter || !reference) return sqlite3_result_null(ctx);
  auto covers = FilterPatternCovers(*filter, *reference);
  if (!covers) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, *covers ? 1 : 0);
}

void CidrIsWorld(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto a = TextArg(argv[0]);
  if (!a) return sqlite3_result_null(ctx);
  auto n = ParseNetwork(*a);
  if (!n) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, n->prefix == 0 ? 1 : 0);
}

void CidrIsPrivate(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto a = TextArg(argv[0]);
  if (!a) return sqlite3_result_null(ctx);
  auto n = ParseNetwork(*a);
  if (!n) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, IsPrivate(*n) ? 1 : 0);
}

void CidrPrefixLength(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto a = TextArg(argv[0]);
  if (!a) return sqlite3_result_null(ctx);
  auto n = ParseNetwork(*a);
  if (!n) return sqlite3_result_null(ctx);
  sqlite3_result_int(ctx, n->prefix);
}

// Port bounds: NULL or -1 (protocol "-1", all traffic) mean "every port".
struct PortRange {
  int64_t lo = 0, hi = 65535;
};
PortRange ReadRange(sqlite3_value* from, sqlite3_value* to) {
  PortRange r;
  bool all = sqlite3_value_type(from) == SQLITE_NULL || sqlite3_value_int64(from) < 0 ||
             sqlite3_value_type(to) == SQLITE_NULL || sqlite3_value_int64(to) < 0;
  if (!all) {
    r.lo = sqlite3_value_int64(from);
    r.hi = sqlite3_value_int64(to);
  }
  return r;
}

void PortRangeIncludes(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[2]) == SQLITE_NULL) return sqlite3_result_null(ctx);
  PortRange r = ReadRange(argv[0], argv[1]);
  int64_t port = sqlite3_value_int64(argv[2]);
  sqlite3_result_int(ctx, port >= r.lo && port <= r.hi ? 1 : 0);
}

void PortRangeOverlaps(sqlite3_context* ctx, int, sqlite3_value** argv) {
  PortRange a = ReadRange(argv[0], argv[1]), b = ReadRange(argv[2], argv[3]);
  sqlite3_result_int(ctx, a.lo <= b.hi && b.lo <= a.hi ? 1 : 0);
}

// arn:partition:service:region:account:resource (the resource may hold ':').
void ArnPart(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto arn = TextArg(argv[0]);
  auto part = TextArg(argv[1]);
  if (!arn || !part || arn->substr(0, 4) != "arn:") return sqlite3_result_null(ctx);
  std::array<std::string_view, 6> f;
  std::string_view rest = *arn;
  for (int i = 0; i < 5; ++i) {
    size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return sqlite3_result_null(ctx);
    f[static_cast<size_t>(i)] = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  f[5] = rest;
  std::string_view out;
  bool found = true;
  if (*part == "partition") out = f[1];
  else if (*part == "service") out = f[2];
  else if (*part == "region") out = f[3];
  else if (*part == "account") out = f[4];
  else if (*part == "resource") out = f[5];
  else if (*part == "resource_type" || *part == "resource_id") {
    // "user/path/alice", "instance/i-1", "key:..."; no separator: no type.
    size_t sep = f[5].find_first_of("/:");
    if (*part == "resource_type") out = sep == std::string_view::npos ? std::string_view() : f[5].substr(0, sep);
    else out = sep == std::string_view::npos ? f[5] : f[5].substr(f[5].find_last_of("/:") + 1);
  } else {
    found = false;
  }
  if (!found) {
    sqlite3_result_error(ctx, "arn_part: part must be partition, service, region, account, resource, resource_type or resource_id", -1);
    return;
  }
  sqlite3_result_text(ctx, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

void MaskId(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto text = TextArg(argv[0]);
  if (!text) return sqlite3_result_null(ctx);
  std::string out;
  if (text->size() <= 8) out = std::string(text->size(), '*');
  else out = std::string(text->substr(0, 4)) + "\xE2\x80\xA6" + std::string(text->substr(text->size() - 4));
  sqlite3_result_text(ctx, out.c_str(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

struct FunctionDef {
  const char* name;
  int args;
  void (*fn)(sqlite3_context*, int, sqlite3_value**);
  bool uses_clock;
};

}  // namespace

Status RegisterSqlFunctions(sqlite3* db, const EvalContext* clock) {
  static const FunctionDef kFunctions[] = {
      {"eval_time", 0, EvalTime, true},
      {"scan_account_id", 0, ScanAccountId, true},
      {"scan_regions", 0, ScanRegions, true},
      {"days_since", 1, AgeFunction<86400, true>, true},
      {"days_until", 1, AgeFunction<86400, false>, true},
      {"hours_since", 1, AgeFunction<3600, true>, true},
      {"cidr_contains", 2, CidrContains, false},
      {"cidr_is_world", 1, CidrIsWorld, false},
      {"cidr_is_private", 1, CidrIsPrivate, false},
      {"cidr_prefix_length", 1, CidrPrefixLength, false},
      {"port_range_includes", 3, PortRangeIncludes, false},
      {"port_range_overlaps", 4, PortRangeOverlaps, false},
      {"arn_part", 2, ArnPart, false},
      {"mask_id", 1, MaskId, false},
      {"filter_pattern_covers", 2, FilterPatternCoversFn, false},
  };
  for (const auto& f : kFunctions) {
    // Clock functions are constant within one evaluation; still deterministic
    // for SQLite's purposes (same inputs, same connection, same answer).
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
    void* data = f.uses_clock ? const_cast<EvalContext*>(clock) : nullptr;
    if (sqlite3_create_function_v2(db, f.name, f.args, flags, data, f.fn, nullptr, nullptr, nullptr) != SQLITE_OK)
      return MakeError(ErrorCode::kInternal, std::string("cannot register SQL function ") + f.name + ": " + sqlite3_errmsg(db));
  }
  CA_TRY_STATUS(policy::RegisterPolicyFunctions(db));
  return {};
}

}  // namespace cloudaudit::rules
