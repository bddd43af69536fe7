#include "policy/sql_functions.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "policy/policy.h"

namespace cloudaudit::policy {
namespace {

// The last few policies parsed on a connection. A rule typically asks
// several questions of the same document in one row (policy_is_public in
// WHERE, policy_public_statements in the evidence), and JSON parsing is
// most of the cost of each. SQLite runs one statement of a connection at a
// time (and serializes a shared connection), so no lock is needed.
class PolicyCache {
 public:
  struct Entry {
    size_t hash = 0;
    std::string text;
    std::shared_ptr<const Policy> policy;  // null when the text is malformed
    std::string error;
  };

  const Entry& Get(std::string_view text) {
    size_t hash = std::hash<std::string_view>{}(text);
    for (size_t i = 0; i < entries_.size(); ++i) {
      if (entries_[i].hash != hash || entries_[i].text != text) continue;
      if (i > 0)
        std::rotate(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(i),
                    entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      return entries_.front();
    }
    Entry entry{hash, std::string(text), nullptr, ""};
    auto parsed = ParsePolicy(text);
    if (parsed) {
      entry.policy = std::make_shared<const Policy>(std::move(*parsed));
    } else {
      entry.error = std::move(parsed.error().message);
    }
    if (entries_.size() == kCapacity) entries_.pop_back();
    entries_.insert(entries_.begin(), std::move(entry));
    return entries_.front();
  }

 private:
  static constexpr size_t kCapacity = 8;
  std::vector<Entry> entries_;  // most recently used first
};

// User data of each registered function.
struct FunctionData {
  const char* name;  // the SQL name, for error messages
  std::shared_ptr<PolicyCache> cache;
};

FunctionData& Data(sqlite3_context* ctx) { return *static_cast<FunctionData*>(sqlite3_user_data(ctx)); }

void ResultError(sqlite3_context* ctx, std::string_view message) {
  std::string text = fmt::format("{}: {}", Data(ctx).name, message);
  sqlite3_result_error(ctx, text.c_str(), static_cast<int>(text.size()));
}

// Text of a required argument; nullopt (result set to NULL) when it is NULL.
std::optional<std::string_view> TextArg(sqlite3_context* ctx, sqlite3_value* v) {
  if (sqlite3_value_type(v) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return std::nullopt;
  }
  const unsigned char* text = sqlite3_value_text(v);
  if (!text) {
    sqlite3_result_error_nomem(ctx);
    return std::nullopt;
  }
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_value_bytes(v)));
}

// The parsed policy argument; null when the result is already set (NULL for
// a NULL policy, an error for a malformed one).
std::shared_ptr<const Policy> PolicyArg(sqlite3_context* ctx, sqlite3_value* v) {
  auto text = TextArg(ctx, v);
  if (!text) return nullptr;
  const PolicyCache::Entry& entry = Data(ctx).cache->Get(*text);
  if (!entry.policy) ResultError(ctx, "malformed policy: " + entry.error);
  return entry.policy;
}

void ResultBool(sqlite3_context* ctx, bool value) { sqlite3_result_int(ctx, value ? 1 : 0); }

void ResultJson(sqlite3_context* ctx, const Json& value) {
  // Invalid UTF-8 cannot come from parsed JSON text, but replace rather than
  // throw should a caller's document hold some.
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  sqlite3_result_text(ctx, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
}

void IsPublicFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultBool(ctx, IsPublic(*policy).is_public);
}

void PublicStatementsFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  Json out = Json::array();
  for (const auto& s : IsPublic(*policy).statements) {
    Json j = Json::object();
    j["index"] = s.index;
    j["sid"] = s.sid.empty() ? Json(nullptr) : Json(s.sid);
    j["actions"] = s.actions;
    j["not_action"] = s.not_action;
    j["not_principal"] = s.via_not_principal;
    out.push_back(std::move(j));
  }
  ResultJson(ctx, out);
}

// policy_allows(p, action [, resource]) and policy_allows_conditionally.
template <bool kConditionally>
void AllowsFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  auto action = TextArg(ctx, argv[1]);
  if (!action) return;
  std::string_view resource = "*";
  if (argc > 2) {
    auto r = TextArg(ctx, argv[2]);
    if (!r) return;
    resource = *r;
  }
  Access access = Allows(*policy, *action, resource);
  ResultBool(ctx, kConditionally ? access != Access::kNotAllowed : access == Access::kAllowed);
}

void GrantsAdminFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultBool(ctx, GrantsFullAdmin(*policy));
}

void WildcardActionsFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultJson(ctx, Json(ServiceWildcards(*policy)));
}

void PrincipalAccountsFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultJson(ctx, Json(GrantedPrincipals(*policy).accounts));
}

void ServicePrincipalsFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultJson(ctx, Json(GrantedPrincipals(*policy).services));
}

// The trusted accounts argument: a JSON array of account ids (strings or
// numbers), a single id, or NULL for none.
std::optional<std::vector<std::string>> TrustedArg(sqlite3_context* ctx, sqlite3_value* v) {
  std::vector<std::string> out;
  if (sqlite3_value_type(v) == SQLITE_NULL) return out;
  auto text = TextArg(ctx, v);
  if (!text) return std::nullopt;
  auto json = ParseJson(*text);
  auto bad = [&] {
    ResultError(ctx, "trusted accounts must be a JSON array of account ids, e.g. '[\"111122223333\"]'");
    return std::nullopt;
  };
  if (!json) return bad();
  auto one = [&](const Json& x) {
    if (x.is_string()) {
      out.push_back(x.get<std::string>());
    } else if (x.is_number_unsigned()) {
      out.push_back(x.dump());
    } else {
      return false;
    }
    return true;
  };
  if (json->is_array()) {
    for (const auto& x : *json)
      if (!one(x)) return bad();
  } else if (!one(*json)) {
    return bad();
  }
  return out;
}

void ExternalAccountsFn(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  auto own = TextArg(ctx, argv[1]);
  if (!own) return;
  std::vector<std::string> trusted;
  if (argc > 2) {
    auto t = TrustedArg(ctx, argv[2]);
    if (!t) return;
    trusted = std::move(*t);
  }
  ExternalAccess access = ExternalAccounts(*policy, *own, trusted);
  std::vector<std::string> out = std::move(access.accounts);
  if (access.is_public) out.insert(out.begin(), "*");  // "*" sorts before digits
  ResultJson(ctx, Json(out));
}

void DeniesInsecureTransportFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultBool(ctx, DeniesInsecureTransport(*policy));
}

void HasConditionKeyFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  auto key = TextArg(ctx, argv[1]);
  if (!key) return;
  ResultBool(ctx, HasConditionKey(*policy, *key));
}

void NormalizeFn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto policy = PolicyArg(ctx, argv[0]);
  if (!policy) return;
  ResultJson(ctx, NormalizedJson(*policy));
}

using SqlFunction = void (*)(sqlite3_context*, int, sqlite3_value**);

// No exception may unwind into SQLite's C frames.
template <SqlFunction kImpl>
void Guarded(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  try {
    kImpl(ctx, argc, argv);
  } catch (const std::bad_alloc&) {
    sqlite3_result_error_nomem(ctx);
  } catch (const std::exception& e) {
    ResultError(ctx, std::string("internal error: ") + e.what());
  }
}

struct FunctionDef {
  const char* name;
  int args;
  SqlFunction fn;
};

constexpr FunctionDef kFunctions[] = {
    {"policy_is_public", 1, Guarded<IsPublicFn>},
    {"policy_public_statements", 1, Guarded<PublicStatementsFn>},
    {"policy_allows", 2, Guarded<AllowsFn<false>>},
    {"policy_allows", 3, Guarded<AllowsFn<false>>},
    {"policy_allows_conditionally", 2, Guarded<AllowsFn<true>>},
    {"policy_allows_conditionally", 3, Guarded<AllowsFn<true>>},
    {"policy_grants_admin", 1, Guarded<GrantsAdminFn>},
    {"policy_wildcard_actions", 1, Guarded<WildcardActionsFn>},
    {"policy_principal_accounts", 1, Guarded<PrincipalAccountsFn>},
    {"policy_external_accounts", 2, Guarded<ExternalAccountsFn>},
    {"policy_external_accounts", 3, Guarded<ExternalAccountsFn>},
    {"policy_denies_insecure_transport", 1, Guarded<DeniesInsecureTransportFn>},
    {"policy_has_condition_key", 2, Guarded<HasConditionKeyFn>},
    {"policy_service_principals", 1, Guarded<ServicePrincipalsFn>},
    {"policy_normalize", 1, Guarded<NormalizeFn>},
};

}  // namespace

Status RegisterPolicyFunctions(sqlite3* db) {
  if (!db) return MakeError(ErrorCode::kInternal, "RegisterPolicyFunctions: no database");
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  auto cache = std::make_shared<PolicyCache>();
  auto destroy = [](void* data) { delete static_cast<FunctionData*>(data); };
  for (const auto& f : kFunctions) {
    // SQLite owns the user data from here on, and calls `destroy` when the
    // function is replaced, the connection closes, or registration fails.
    auto* data = new FunctionData{f.name, cache};
    int rc = sqlite3_create_function_v2(db, f.name, f.args, kFlags, data, f.fn, nullptr, nullptr, destroy);
    if (rc != SQLITE_OK)
      return MakeError(ErrorCode::kInternal,
                       fmt::format("registering SQL function {}: {}", f.name, sqlite3_errmsg(db)));
  }
  return {};
}

}  // namespace cloudaudit::policy
