#include "policy/policy.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <exception>
#include <set>
#include <utility>

#include "base/strings.h"

namespace cloudaudit::policy {
namespace {

// --- Parsing -----------------------------------------------------------------

tl::unexpected<Error> ParseError(std::string message) { return MakeError(ErrorCode::kParse, std::move(message)); }

std::string_view TypeName(const Json& v) { return v.type_name(); }

// A JSON string, or array of strings.
Result<std::vector<std::string>> StringList(const Json& v, const std::string& where) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array())
    return ParseError(fmt::format("{} must be a string or an array of strings, not {}", where, TypeName(v)));
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return ParseError(fmt::format("{}[{}] must be a string, not {}", where, i, TypeName(v[i])));
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

// Principal values: strings, and (leniently) account ids written as numbers.
Result<std::vector<std::string>> PrincipalValues(const Json& v, const std::string& where) {
  auto one = [&](const Json& x, const std::string& at) -> Result<std::string> {
    if (x.is_string()) return x.get<std::string>();
    if (x.is_number_unsigned()) return x.dump();
    return ParseError(fmt::format("{} must be a string, not {}", at, TypeName(x)));
  };
  std::vector<std::string> out;
  if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      CA_TRY(auto s, one(v[i], fmt::format("{}[{}]", where, i)));
      out.push_back(std::move(s));
    }
    return out;
  }
  CA_TRY(auto s, one(v, where));
  out.push_back(std::move(s));
  return out;
}

Result<PrincipalSet> ParsePrincipal(const Json& v, const std::string& where) {
  PrincipalSet p;
  if (v.is_string()) {
    if (v.get<std::string>() != "*")
      return ParseError(fmt::format("{} must be \"*\" or an object such as {{\"AWS\": ...}}, not \"{}\"", where,
                                    v.get<std::string>()));
    p.wildcard = true;
    return p;
  }
  if (!v.is_object()) return ParseError(fmt::format("{} must be \"*\" or an object, not {}", where, TypeName(v)));
  for (const auto& [type, values] : v.items()) {
    std::string at = fmt::format("{}.{}", where, type);
    CA_TRY(auto list, PrincipalValues(values, at));
    std::string t = ToLower(type);
    std::vector<std::string>* dest = nullptr;
    if (t == "aws") {
      dest = &p.aws;
    } else if (t == "service") {
      dest = &p.service;
    } else if (t == "federated") {
      dest = &p.federated;
    } else if (t == "canonicaluser") {
      dest = &p.canonical_user;
    } else {
      return ParseError(fmt::format(
          "{}: unknown principal type \"{}\" (expected AWS, Service, Federated or CanonicalUser)", where, type));
    }
    dest->insert(dest->end(), list.begin(), list.end());
  }
  return p;
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

Result<std::string> ConditionValue(const Json& x, const std::string& at) {
  if (x.is_string()) return x.get<std::string>();
  if (x.is_boolean()) return std::string(x.get<bool>() ? "true" : "false");
  if (x.is_number()) return x.dump();
  return ParseError(fmt::format("{} must be a string, number or boolean, not {}", at, TypeName(x)));
}

Result<std::vector<ConditionClause>> ParseCondition(const Json& v, const std::string& where) {
  if (!v.is_object()) return ParseError(fmt::format("{} must be an object, not {}", where, TypeName(v)));
  std::vector<ConditionClause> out;
  for (const auto& [op, block] : v.items()) {
    std::string at_op = fmt::format("{}.{}", where, op);
    if (!block.is_object())
      return ParseError(fmt::format("{} must be an object of keys, not {}", at_op, TypeName(block)));
    std::string lower = ToLower(op);
    SetQualifier qualifier = SetQualifier::kNone;
    if (StartsWith(lower, "foranyvalue:")) {
      qualifier = SetQualifier::kForAnyValue;
      lower.erase(0, std::string_view("foranyvalue:").size());
    } else if (StartsWith(lower, "forallvalues:")) {
      qualifier = SetQualifier::kForAllValues;
      lower.erase(0, std::string_view("forallvalues:").size());
    }
    bool if_exists = false;
    if (EndsWith(lower, "ifexists")) {
      if_exists = true;
      lower.erase(lower.size() - std::string_view("ifexists").size());
    }
    if (lower.empty()) return ParseError(fmt::format("{}: empty condition operator", at_op));
    for (const auto& [key, values] : block.items()) {
      std::string at = fmt::format("{}.{}", at_op, key);
      ConditionClause c;
      c.op = op;
      c.base_op = lower;
      c.if_exists = if_exists;
      c.qualifier = qualifier;
      c.key = key;
      c.key_lower = ToLower(key);
      if (values.is_array()) {
        for (size_t i = 0; i < values.size(); ++i) {
          CA_TRY(auto s, ConditionValue(values[i], fmt::format("{}[{}]", at, i)));
          c.values.push_back(std::move(s));
        }
      } else {
        CA_TRY(auto s, ConditionValue(values, at));
        c.values.push_back(std::move(s));
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

// The member of `object` whose name equals `name` case-insensitively (IAM
// element names are case-sensitive, but documents written by hand or by
// tools sometimes are not; reading them is harmless). nullptr when absent.
const Json* Member(const Json& object, std::string_view name) {
  auto exact = object.find(std::string(name));
  if (exact != object.end()) return &*exact;
  for (auto it = object.begin(); it != object.end(); ++it)
    if (IEquals(it.key(), name)) return &it.value();
  return nullptr;
}

Result<Statement> ParseStatement(const Json& s, size_t index) {
  std::string where = fmt::format("Statement[{}]", index);
  if (!s.is_object()) return ParseError(fmt::format("{} must be an object, not {}", where, TypeName(s)));
  Statement st;
  st.index = index;
  if (const Json* sid = Member(s, "Sid")) {
    if (!sid->is_string()) return ParseError(fmt::format("{}.Sid must be a string, not {}", where, TypeName(*sid)));
    st.sid = sid->get<std::string>();
  }
  const Json* effect = Member(s, "Effect");
  if (!effect) return ParseError(fmt::format("{} has no Effect", where));
  if (!effect->is_string())
    return ParseError(fmt::format("{}.Effect must be a string, not {}", where, TypeName(*effect)));
  if (IEquals(effect->get<std::string>(), "Allow")) {
    st.effect = Effect::kAllow;
  } else if (IEquals(effect->get<std::string>(), "Deny")) {
    st.effect = Effect::kDeny;
  } else {
    return ParseError(
        fmt::format("{}.Effect must be \"Allow\" or \"Deny\", not \"{}\"", where, effect->get<std::string>()));
  }

  const Json* principal = Member(s, "Principal");
  const Json* not_principal = Member(s, "NotPrincipal");
  if (principal && not_principal) return ParseError(fmt::format("{} has both Principal and NotPrincipal", where));
  if (principal || not_principal) {
    st.has_principal = principal != nullptr;
    st.has_not_principal = not_principal != nullptr;
    CA_TRY(st.principal, ParsePrincipal(principal ? *principal : *not_principal,
                                        where + (principal ? ".Principal" : ".NotPrincipal")));
  }

  const Json* action = Member(s, "Action");
  const Json* not_action = Member(s, "NotAction");
  if (action && not_action) return ParseError(fmt::format("{} has both Action and NotAction", where));
  if (!action && !not_action) return ParseError(fmt::format("{} has neither Action nor NotAction", where));
  st.not_action = not_action != nullptr;
  CA_TRY(st.actions, StringList(action ? *action : *not_action, where + (action ? ".Action" : ".NotAction")));

  const Json* resource = Member(s, "Resource");
  const Json* not_resource = Member(s, "NotResource");
  if (resource && not_resource) return ParseError(fmt::format("{} has both Resource and NotResource", where));
  if (resource || not_resource) {
    st.has_resource = true;
    st.not_resource = not_resource != nullptr;
    CA_TRY(st.resources,
           StringList(resource ? *resource : *not_resource, where + (resource ? ".Resource" : ".NotResource")));
  }

  if (const Json* condition = Member(s, "Condition")) {
    CA_TRY(st.conditions, ParseCondition(*condition, where + ".Condition"));
  }
  return st;
}

Result<Policy> ParseDocument(const Json& doc) {
  if (!doc.is_object()) return ParseError(fmt::format("a policy must be a JSON object, not {}", TypeName(doc)));
  Policy p;
  if (const Json* version = Member(doc, "Version")) {
    if (!version->is_string()) return ParseError(fmt::format("Version must be a string, not {}", TypeName(*version)));
    p.version = version->get<std::string>();
  }
  if (const Json* id = Member(doc, "Id")) {
    if (!id->is_string()) return ParseError(fmt::format("Id must be a string, not {}", TypeName(*id)));
    p.id = id->get<std::string>();
  }
  const Json* statements = Member(doc, "Statement");
  if (!statements) return ParseError("policy has no Statement");
  if (statements->is_object()) {
    CA_TRY(auto st, ParseStatement(*statements, 0));
    p.statements.push_back(std::move(st));
  } else if (statements->is_array()) {
    for (size_t i = 0; i < statements->size(); ++i) {
      CA_TRY(auto st, ParseStatement((*statements)[i], i));
      p.statements.push_back(std::move(st));
    }
  } else {
    return ParseError(fmt::format("Statement must be an object or an array, not {}", TypeName(*statements)));
  }
  return p;
}

// --- Wildcard patterns ---------------------------------------------------------
//
// Patterns are compiled to tokens so that a literal '*' (the policy variable
// ${*}) differs from the wildcard. Queries may hold wildcards too: "covers"
// asks whether every string of the query is matched by the pattern, "overlaps"
// whether some string is matched by both.

enum class TokenKind : uint8_t { kChar, kOne, kStar };
struct Token {
  TokenKind kind;
  char c;
};
using Tokens = std::vector<Token>;

// `fold` lower-cases (actions). `variables` reads ${...} policy variables
// (resources): ${*} ${?} ${$} are literal characters, any other variable
// stands for a value of the request context and becomes '*', with
// *has_variables set.
Tokens Compile(std::string_view s, bool fold, bool variables = false, bool* has_variables = nullptr) {
  Tokens out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (variables && c == '$' && i + 1 < s.size() && s[i + 1] == '{') {
      size_t end = s.find('}', i + 2);
      if (end != std::string_view::npos) {
        std::string_view name = s.substr(i + 2, end - i - 2);
        if (name == "*" || name == "?" || name == "$") {
          out.push_back({TokenKind::kChar, name[0]});
        } else {
          if (out.empty() || out.back().kind != TokenKind::kStar) out.push_back({TokenKind::kStar, 0});
          if (has_variables) *has_variables = true;
        }
        i = end;
        continue;
      }
    }
    if (c == '*') {
      if (out.empty() || out.back().kind != TokenKind::kStar) out.push_back({TokenKind::kStar, 0});
    } else if (c == '?') {
      out.push_back({TokenKind::kOne, 0});
    } else {
      out.push_back({TokenKind::kChar, fold ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c});
    }
  }
  return out;
}

// A plain string, wildcards included, as tokens.
Tokens Literal(std::string_view s, bool fold) {
  Tokens out;
  out.reserve(s.size());
  for (char c : s)
    out.push_back({TokenKind::kChar, fold ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c});
  return out;
}

// Every string matched by `q` is matched by `p`. Exact when `q` is a plain
// string; with wildcards in `q` it is sound (never claims coverage that does
// not hold) and misses only contrived cases like "a*?" vs "a?*".
bool Covers(const Tokens& p, const Tokens& q) {
  const size_t np = p.size(), nq = q.size();
  std::vector<char> next(nq + 1, 0), cur(nq + 1, 0);
  next[nq] = 1;  // row np: only the empty rest of q is covered
  for (size_t i = np; i-- > 0;) {
    for (size_t j = nq + 1; j-- > 0;) {
      bool v = false;
      switch (p[i].kind) {
        case TokenKind::kStar:
          v = next[j] || (j < nq && cur[j + 1]);
          break;
        case TokenKind::kOne:
          v = j < nq && q[j].kind != TokenKind::kStar && next[j + 1];
          break;
        case TokenKind::kChar:
          v = j < nq && q[j].kind == TokenKind::kChar && q[j].c == p[i].c && next[j + 1];
          break;
      }
      cur[j] = v;
    }
    std::swap(next, cur);
  }
  return next[0];
}

// Some string is matched by both `a` and `b`.
bool Overlaps(const Tokens& a, const Tokens& b) {
  const size_t na = a.size(), nb = b.size();
  std::vector<char> next(nb + 1, 0), cur(nb + 1, 0);
  // Row na: a is exhausted; b's rest must be able to produce "" (stars only).
  next[nb] = 1;
  for (size_t j = nb; j-- > 0;) next[j] = b[j].kind == TokenKind::kStar && next[j + 1];
  for (size_t i = na; i-- > 0;) {
    for (size_t j = nb + 1; j-- > 0;) {
      bool v = false;
      if (a[i].kind == TokenKind::kStar) {
        v = next[j] || (j < nb && cur[j + 1]);
      } else if (j < nb && b[j].kind == TokenKind::kStar) {
        v = cur[j + 1] || next[j];
      } else if (j < nb) {
        bool compatible = a[i].kind == TokenKind::kOne || b[j].kind == TokenKind::kOne || a[i].c == b[j].c;
        v = compatible && next[j + 1];
      }
      cur[j] = v;
    }
    std::swap(next, cur);
  }
  return next[0];
}

bool HasWildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

bool OnlyStars(std::string_view s) { return !s.empty() && s.find_first_not_of('*') == std::string_view::npos; }

// "*" or "*:*": every action of every service.
bool IsAllActions(std::string_view a) {
  if (OnlyStars(a)) return true;
  size_t colon = a.find(':');
  return colon != std::string_view::npos && OnlyStars(a.substr(0, colon)) && OnlyStars(a.substr(colon + 1));
}

// "*", "s3:*", "*:*": every action of one service (or of all).
bool IsAllOfService(std::string_view a) {
  if (OnlyStars(a)) return true;
  size_t colon = a.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view service = a.substr(0, colon);
  return (OnlyStars(service) || !HasWildcard(service)) && OnlyStars(a.substr(colon + 1));
}

// "*", "arn:*", "arn:aws:*", "arn:aws:*:*:*:*": every resource (of a
// partition). Every ARN has at least five colons, so a star-and-colon tail
// with at most as many colons as follow the partition matches them all.
bool IsAllResources(std::string_view r) {
  if (OnlyStars(r)) return true;
  if (!StartsWith(r, "arn:")) return false;
  std::string_view rest = r.substr(4);
  auto star_tail = [](std::string_view t, size_t max_colons) {
    return !t.empty() && t.find_first_not_of("*:") == std::string_view::npos && t.find('*') != std::string_view::npos &&
           static_cast<size_t>(std::count(t.begin(), t.end(), ':')) <= max_colons;
  };
  if (star_tail(rest, 4)) return true;
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view partition = rest.substr(0, colon);
  return !HasWildcard(partition) && star_tail(rest.substr(colon + 1), 3);
}

// --- Statement relations ---------------------------------------------------------

// Does `st` apply to every action of the query?
bool CoversActions(const Statement& st, const Tokens& q) {
  if (!st.not_action) {
    return std::any_of(st.actions.begin(), st.actions.end(),
                       [&](const std::string& a) { return Covers(Compile(a, true), q); });
  }
  return std::none_of(st.actions.begin(), st.actions.end(),
                      [&](const std::string& a) { return Overlaps(Compile(a, true), q); });
}

// Does `st` apply to some action of the query?
bool TouchesActions(const Statement& st, const Tokens& q) {
  if (!st.not_action) {
    return std::any_of(st.actions.begin(), st.actions.end(),
                       [&](const std::string& a) { return Overlaps(Compile(a, true), q); });
  }
  return std::none_of(st.actions.begin(), st.actions.end(),
                      [&](const std::string& a) { return Covers(Compile(a, true), q); });
}

// Does `st` apply to every resource of the query? Sets *context when it does
// only through a policy variable (depends on who asks).
bool CoversResources(const Statement& st, const Tokens& q, bool query_all, bool* context) {
  if (!st.has_resource) return true;
  if (!st.not_resource) {
    bool via_variable = false;
    for (const auto& r : st.resources) {
      if (IsAllResources(r)) return true;
      if (query_all) continue;
      bool vars = false;
      if (Covers(Compile(r, false, true, &vars), q)) {
        if (!vars) return true;
        via_variable = true;
      }
    }
    if (via_variable) *context = true;
    return via_variable;
  }
  return std::none_of(st.resources.begin(), st.resources.end(),
                      [&](const std::string& r) { return Overlaps(Compile(r, false, true), q); });
}

// Does `st` apply to some resource of the query? (*context as above.)
bool TouchesResources(const Statement& st, const Tokens& q, bool* context) {
  if (!st.has_resource) return true;
  if (!st.not_resource) {
    bool via_variable = false;
    for (const auto& r : st.resources) {
      bool vars = false;
      if (Overlaps(Compile(r, false, true, &vars), q)) {
        if (!vars) return true;
        via_variable = true;
      }
    }
    if (via_variable) *context = true;
    return via_variable;
  }
  return std::none_of(st.resources.begin(), st.resources.end(), [&](const std::string& r) {
    bool vars = false;
    Tokens t = Compile(r, false, true, &vars);
    return !vars && (IsAllResources(r) || Covers(t, q));
  });
}

// Statement `deny` applies to every action `allow` grants.
bool DenyCoversAllowActions(const Statement& deny, const Statement& allow) {
  if (allow.not_action) {
    if (deny.not_action) return deny.actions.empty();
    return std::any_of(deny.actions.begin(), deny.actions.end(), [](const std::string& a) { return IsAllActions(a); });
  }
  return std::all_of(allow.actions.begin(), allow.actions.end(),
                     [&](const std::string& a) { return CoversActions(deny, Compile(a, true)); });
}

bool AppliesToAllResources(const Statement& st) {
  if (!st.has_resource) return true;
  if (st.not_resource) return st.resources.empty();
  return std::any_of(st.resources.begin(), st.resources.end(), [](const std::string& r) { return IsAllResources(r); });
}

// Statement `deny` applies to every resource `allow` grants.
bool DenyCoversAllowResources(const Statement& deny, const Statement& allow) {
  if (!deny.has_resource) return true;
  if (!allow.has_resource || allow.not_resource) return AppliesToAllResources(deny);
  for (const auto& r : allow.resources) {
    Tokens q = Compile(r, false, true);
    bool covered = false;
    if (!deny.not_resource) {
      covered = std::any_of(deny.resources.begin(), deny.resources.end(), [&](const std::string& d) {
        bool vars = false;
        Tokens t = Compile(d, false, true, &vars);
        return IsAllResources(d) || (!vars && Covers(t, q));
      });
    } else {
      covered = std::none_of(deny.resources.begin(), deny.resources.end(),
                             [&](const std::string& d) { return Overlaps(Compile(d, false, true), q); });
    }
    if (!covered) return false;
  }
  return true;
}

// --- Principals ------------------------------------------------------------------

bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The six fields of an ARN (the last keeps its colons); fewer when it has
// fewer colons.
std::vector<std::string_view> ArnFields(std::string_view arn) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (out.size() < 5) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) break;
    out.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  out.push_back(arn.substr(start));
  return out;
}

// A comparable identity for a principal value: account roots in either
// spelling compare equal.
std::vector<std::string> PrincipalKeys(const PrincipalSet& p) {
  std::vector<std::string> keys;
  for (const auto& a : p.aws) {
    auto f = ArnFields(a);
    if (IsAccountId(a)) {
      keys.push_back("account:" + a);
    } else if (f.size() == 6 && f[0] == "arn" && f[2] == "iam" && IsAccountId(f[4]) && f[5] == "root") {
      keys.push_back("account:" + std::string(f[4]));
    } else {
      keys.push_back("aws:" + a);
    }
  }
  for (const auto& s : p.service) keys.push_back("service:" + ToLower(s));
  for (const auto& s : p.federated) keys.push_back("federated:" + s);
  for (const auto& s : p.canonical_user) keys.push_back("canonical:" + s);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

// "*", "arn:aws:iam::*:root", "1111*": a wildcard that leaves the account
// open. IAM accepts only "*", but a partial wildcard is read as what it
// would admit, not ignored; "arn:aws:iam::111122223333:role/*" stays within
// its account.
bool AwsValueIsEveryone(std::string_view v) {
  if (!HasWildcard(v)) return false;
  auto f = ArnFields(v);
  return !(f.size() == 6 && f[0] == "arn" && IsAccountId(f[4]));
}

enum class Reach { kNone, kPartial, kFull };

// How much of the principals `allow` grants does `deny` apply to?
Reach DenyReach(const Statement& deny, const Statement& allow) {
  if (!deny.has_principal && !deny.has_not_principal) return Reach::kFull;  // identity policy
  if (deny.has_principal && deny.principal.IsEveryone()) return Reach::kFull;
  bool allow_listed = allow.has_principal && !allow.principal.IsEveryone();
  if (!allow_listed) return deny.has_not_principal && deny.principal.IsEveryone() ? Reach::kNone : Reach::kPartial;
  auto allowed = PrincipalKeys(allow.principal);
  auto listed = PrincipalKeys(deny.principal);
  size_t in_list = static_cast<size_t>(std::count_if(allowed.begin(), allowed.end(), [&](const std::string& k) {
    return std::binary_search(listed.begin(), listed.end(), k);
  }));
  if (deny.has_principal) {
    if (in_list == 0) return Reach::kNone;
    return in_list == allowed.size() ? Reach::kFull : Reach::kPartial;
  }
  // NotPrincipal: the deny applies to everyone not listed.
  if (deny.principal.IsEveryone() || in_list == allowed.size()) return Reach::kNone;
  return in_list == 0 ? Reach::kFull : Reach::kPartial;
}

// --- Restricting conditions --------------------------------------------------------

enum class KeyKind {
  kExact,     // an id that only its owner can present: account, org, VPC, endpoint
  kOrgPath,   // o-xxx/r-xxx/ou-xxx/...: restricts when the org id is concrete
  kArn,       // restricts when the ARN's account (or, without one, its resource) is concrete
  kUserId,    // AIDA.../AROA...:session: restricts when the unique id is concrete
  kSourceIp,  // IpAddress with ranges narrower than the options' limits
  kBoolTrue,  // Bool "true" restricts
};

struct RestrictingKey {
  std::string_view key;  // lower case
  KeyKind kind;
  bool account_valued;  // values (or ARN account fields) name accounts
};

// Keys that restrict WHO can use a statement, each only the caller's owner or
// AWS can set. Deliberately absent (see docs/policy-analysis.md): aws:username
// (names repeat across accounts), aws:ResourceAccount/ResourceOrgID/
// ResourceOrgPaths (in a resource policy the resource is always the policy's
// own), aws:CalledVia*, kms:ViaService, aws:ViaAWSService,
// aws:PrincipalIsAWSService (any account's principal can call through a
// service), aws:VpcSourceIp (private ranges repeat in every VPC), sts:ExternalId
// (not a secret), aws:Referer and aws:UserAgent (set by the caller),
// aws:PrincipalTag/* (set by the principal's owner), aws:PrincipalType,
// aws:SecureTransport, aws:MultiFactorAuthPresent.
constexpr RestrictingKey kRestrictingKeys[] = {
    {"aws:sourceaccount", KeyKind::kExact, true},
    {"aws:sourceowner", KeyKind::kExact, true},
    {"aws:principalaccount", KeyKind::kExact, true},
    {"kms:calleraccount", KeyKind::kExact, true},
    {"s3:dataaccesspointaccount", KeyKind::kExact, true},
    {"aws:vpceaccount", KeyKind::kExact, true},
    {"aws:principalorgid", KeyKind::kExact, false},
    {"aws:sourceorgid", KeyKind::kExact, false},
    {"aws:vpceorgid", KeyKind::kExact, false},
    {"aws:sourcevpc", KeyKind::kExact, false},
    {"aws:sourcevpce", KeyKind::kExact, false},
    {"sns:endpoint", KeyKind::kExact, false},
    {"aws:principalorgpaths", KeyKind::kOrgPath, false},
    {"aws:sourceorgpaths", KeyKind::kOrgPath, false},
    {"aws:vpceorgpaths", KeyKind::kOrgPath, false},
    {"aws:sourcearn", KeyKind::kArn, true},
    {"aws:principalarn", KeyKind::kArn, true},
    {"s3:dataaccesspointarn", KeyKind::kArn, true},
    {"aws:sourcevpcarn", KeyKind::kArn, true},
    {"aws:userid", KeyKind::kUserId, false},
    {"aws:sourceip", KeyKind::kSourceIp, false},
    {"elasticfilesystem:accessedviamounttarget", KeyKind::kBoolTrue, false},
};

const RestrictingKey* FindRestrictingKey(std::string_view key_lower) {
  for (const auto& k : kRestrictingKeys)
    if (k.key == key_lower) return &k;
  return nullptr;
}

bool ArnValueRestricts(std::string_view v) {
  auto f = ArnFields(v);
  if (f.size() < 6) return !HasWildcard(v);
  if (!f[4].empty()) return !HasWildcard(f[4]);
  return !f[5].empty() && !HasWildcard(f[5]);  // S3 buckets: names are global
}

// Would a caller outside the intended set fail to match `value`?
bool ValueRestricts(KeyKind kind, std::string_view value, bool wildcards) {
  if (kind == KeyKind::kUserId) {
    // Anonymous callers have aws:userid "anonymous": naming it admits anyone.
    std::string_view id = value.substr(0, value.find(':'));
    if (IEquals(id, "anonymous")) return false;
    return !wildcards || (!id.empty() && !HasWildcard(id));
  }
  if (!wildcards) return true;  // a literal value matches only itself
  switch (kind) {
    case KeyKind::kExact:
      return !HasWildcard(value);
    case KeyKind::kOrgPath: {
      std::string_view org = value.substr(0, value.find('/'));
      return !org.empty() && !HasWildcard(org);
    }
    case KeyKind::kArn:
      return ArnValueRestricts(value);
    default:
      return false;
  }
}

bool NarrowCidr(std::string_view value, const PublicOptions& options) {
  value = Trim(value);
  size_t slash = value.find('/');
  std::string address(value.substr(0, slash));
  bool v6 = address.find(':') != std::string::npos;
  int max = v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = value.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    prefix = std::stoi(std::string(digits));
    if (prefix > max) return false;
  }
  unsigned char buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), buf) != 1) return false;
  return prefix > 0 && prefix >= (v6 ? options.min_ipv6_prefix : options.min_ipv4_prefix);
}

bool IsStringOrArnOp(std::string_view op, const RestrictingKey& key, bool negated, bool* wildcards) {
  static constexpr std::array<std::string_view, 5> kPositive = {"stringequals", "stringequalsignorecase", "stringlike",
                                                                "arnequals", "arnlike"};
  static constexpr std::array<std::string_view, 5> kNegated = {"stringnotequals", "stringnotequalsignorecase",
                                                               "stringnotlike", "arnnotequals", "arnnotlike"};
  const auto& ops = negated ? kNegated : kPositive;
  for (std::string_view o : ops) {
    if (o != op) continue;
    bool arn_op = StartsWith(o, "arn");
    if (arn_op && key.kind != KeyKind::kArn) return false;
    // ArnEquals and ArnLike both take wildcards, per field.
    *wildcards = arn_op || EndsWith(o, "like");
    return true;
  }
  return false;
}

// An Allow condition clause that limits who can use the statement to callers
// the policy owner controls.
bool Restricts(const ConditionClause& c, const PublicOptions& options) {
  const RestrictingKey* key = FindRestrictingKey(c.key_lower);
  if (!key) return false;
  // IfExists: callers without the key pass. ForAllValues: true when the key
  // is absent (an anonymous caller has no aws:PrincipalOrgID, for one).
  if (c.if_exists || c.qualifier == SetQualifier::kForAllValues) return false;
  switch (key->kind) {
    case KeyKind::kSourceIp:
      return c.base_op == "ipaddress" && std::all_of(c.values.begin(), c.values.end(),
                                                     [&](const std::string& v) { return NarrowCidr(v, options); });
    case KeyKind::kBoolTrue:
      return c.base_op == "bool" && !c.values.empty() &&
             std::all_of(c.values.begin(), c.values.end(), [](const std::string& v) { return IEquals(v, "true"); });
    default: {
      bool wildcards = false;
      if (!IsStringOrArnOp(c.base_op, *key, false, &wildcards)) return false;
      return std::all_of(c.values.begin(), c.values.end(),
                         [&](const std::string& v) { return ValueRestricts(key->kind, v, wildcards); });
    }
  }
}

// A Deny condition clause that holds for every caller outside the intended
// set (StringNotEquals aws:PrincipalOrgID o-ours, NotIpAddress ours, ...).
// IfExists is fine here (a caller without the key is denied); ForAnyValue is
// not (false when the key is absent).
bool RestrictsNegated(const ConditionClause& c, const PublicOptions& options) {
  const RestrictingKey* key = FindRestrictingKey(c.key_lower);
  if (!key || c.qualifier == SetQualifier::kForAnyValue) return false;
  switch (key->kind) {
    case KeyKind::kSourceIp:
      return c.base_op == "notipaddress" && std::all_of(c.values.begin(), c.values.end(),
                                                        [&](const std::string& v) { return NarrowCidr(v, options); });
    case KeyKind::kBoolTrue:
      return false;
    default: {
      bool wildcards = false;
      if (!IsStringOrArnOp(c.base_op, *key, true, &wildcards)) return false;
      return std::all_of(c.values.begin(), c.values.end(),
                         [&](const std::string& v) { return ValueRestricts(key->kind, v, wildcards); });
    }
  }
}

// Does the public Allow `allow` lose its public reach because of `deny`?
bool DenyFences(const Statement& deny, const Statement& allow, const PublicOptions& options) {
  bool everyone = deny.has_principal && deny.principal.IsEveryone();
  bool all_but_listed = deny.has_not_principal && !deny.principal.IsEveryone();
  if (!everyone && !all_but_listed) return false;
  if (!std::all_of(deny.conditions.begin(), deny.conditions.end(),
                   [&](const ConditionClause& c) { return RestrictsNegated(c, options); }))
    return false;
  return DenyCoversAllowActions(deny, allow) && DenyCoversAllowResources(deny, allow);
}

// Accounts named by a statement's conditions (aws:SourceAccount "1111...",
// aws:SourceArn "arn:aws:...:1111...:..."), for wildcard and service principals.
void ConditionAccounts(const Statement& st, std::set<std::string>* accounts) {
  for (const auto& c : st.conditions) {
    const RestrictingKey* key = FindRestrictingKey(c.key_lower);
    if (!key || !key->account_valued || c.qualifier == SetQualifier::kForAllValues) continue;
    bool wildcards = false;
    if (!IsStringOrArnOp(c.base_op, *key, false, &wildcards)) continue;
    for (const auto& v : c.values) {
      std::string account = AccountOfPrincipal(v);
      if (!account.empty()) accounts->insert(std::move(account));
    }
  }
}

std::vector<std::string> SortedUniqueIgnoringCase(const std::vector<std::string>& in) {
  std::vector<std::pair<std::string, std::string>> keyed;
  for (const auto& s : in) keyed.emplace_back(ToLower(s), s);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < keyed.size(); ++i)
    if (i == 0 || keyed[i].first != keyed[i - 1].first) out.push_back(keyed[i].second);
  return out;
}

// "*" becomes {"AWS": ["*"]}, which IAM documents as equivalent, so that
// $.Principal.AWS always finds AWS principals in the canonical form.
Json PrincipalJson(const PrincipalSet& p) {
  Json out = Json::object();
  std::vector<std::string> aws = p.aws;
  if (p.wildcard && std::find(aws.begin(), aws.end(), "*") == aws.end()) aws.insert(aws.begin(), "*");
  if (!aws.empty()) out["AWS"] = aws;
  if (!p.service.empty()) out["Service"] = p.service;
  if (!p.federated.empty()) out["Federated"] = p.federated;
  if (!p.canonical_user.empty()) out["CanonicalUser"] = p.canonical_user;
  return out;
}

}  // namespace

bool PrincipalSet::IsEveryone() const {
  return wildcard || std::any_of(aws.begin(), aws.end(), [](const std::string& a) { return AwsValueIsEveryone(a); });
}

Result<Policy> ParsePolicyJson(const Json& document) {
  try {
    return ParseDocument(document);
  } catch (const std::exception& e) {
    return ParseError(fmt::format("malformed policy: {}", e.what()));
  }
}

Result<Policy> ParsePolicy(std::string_view text) {
  try {
    std::string_view t = Trim(text);
    if (StartsWith(t, "\xEF\xBB\xBF")) t = Trim(t.substr(3));  // UTF-8 byte order mark
    if (t.empty()) return ParseError("empty policy document");
    std::string decoded;
    if (t.front() != '{' && t.front() != '"' && t.find('%') != std::string_view::npos) {
      decoded = UriDecode(t);
      t = Trim(decoded);
    }
    auto json = ParseJson(t);
    if (!json) return ParseError("policy is not valid JSON: " + json.error().message);
    if (json->is_string()) {  // a policy serialized into a JSON string
      std::string inner = json->get<std::string>();
      auto again = ParseJson(Trim(inner));
      if (!again) return ParseError("policy is a JSON string that does not hold valid JSON: " + again.error().message);
      return ParseDocument(*again);
    }
    return ParseDocument(*json);
  } catch (const std::exception& e) {
    return ParseError(fmt::format("malformed policy: {}", e.what()));
  }
}

Json NormalizedJson(const Policy& policy) {
  Json out = Json::object();
  if (!policy.version.empty()) out["Version"] = policy.version;
  if (!policy.id.empty()) out["Id"] = policy.id;
  Json statements = Json::array();
  for (const auto& st : policy.statements) {
    Json s = Json::object();
    if (!st.sid.empty()) s["Sid"] = st.sid;
    s["Effect"] = st.effect == Effect::kAllow ? "Allow" : "Deny";
    if (st.has_principal) s["Principal"] = PrincipalJson(st.principal);
    if (st.has_not_principal) s["NotPrincipal"] = PrincipalJson(st.principal);
    s[st.not_action ? "NotAction" : "Action"] = st.actions;
    if (st.has_resource) s[st.not_resource ? "NotResource" : "Resource"] = st.resources;
    if (!st.conditions.empty()) {
      Json condition = Json::object();
      for (const auto& c : st.conditions) condition[c.op][c.key] = c.values;
      s["Condition"] = std::move(condition);
    }
    statements.push_back(std::move(s));
  }
  out["Statement"] = std::move(statements);
  return out;
}

bool ActionMatches(std::string_view pattern, std::string_view action) {
  return Covers(Compile(pattern, true), Literal(action, true));
}

bool ResourceMatches(std::string_view pattern, std::string_view resource) {
  return Covers(Compile(pattern, false, true), Literal(resource, false));
}

PublicResult IsPublic(const Policy& policy, const PublicOptions& options) {
  PublicResult result;
  for (const auto& st : policy.statements) {
    if (st.effect != Effect::kAllow) continue;
    bool everyone = st.has_principal && st.principal.IsEveryone();
    bool via_not_principal = st.has_not_principal && !st.principal.IsEveryone();
    if (!everyone && !via_not_principal) continue;
    if (std::any_of(st.conditions.begin(), st.conditions.end(),
                    [&](const ConditionClause& c) { return Restricts(c, options); }))
      continue;
    if (options.honour_deny_guards &&
        std::any_of(policy.statements.begin(), policy.statements.end(),
                    [&](const Statement& d) { return d.effect == Effect::kDeny && DenyFences(d, st, options); }))
      continue;
    result.statements.push_back(PublicStatement{st.index, st.sid, st.not_action, st.actions, via_not_principal});
  }
  result.is_public = !result.statements.empty();
  return result;
}

std::string AccountOfPrincipal(std::string_view value) {
  value = Trim(value);
  if (IsAccountId(value)) return std::string(value);
  if (!StartsWith(value, "arn:")) return "";
  auto f = ArnFields(value);
  if (f.size() == 6 && IsAccountId(f[4])) return std::string(f[4]);
  return "";
}

Grantees GrantedPrincipals(const Policy& policy) {
  Grantees g;
  std::set<std::string> accounts, aws, services, federated, canonical;
  for (const auto& st : policy.statements) {
    if (st.effect != Effect::kAllow) continue;
    if (st.has_not_principal) {
      if (!st.principal.IsEveryone()) g.everyone = true;
      ConditionAccounts(st, &accounts);
      continue;
    }
    if (!st.has_principal) continue;
    const PrincipalSet& p = st.principal;
    if (p.wildcard) g.everyone = true;
    for (const auto& a : p.aws) {
      if (AwsValueIsEveryone(a)) {
        g.everyone = true;
        continue;
      }
      aws.insert(a);
      std::string account = AccountOfPrincipal(a);
      if (!account.empty()) accounts.insert(std::move(account));
    }
    services.insert(p.service.begin(), p.service.end());
    federated.insert(p.federated.begin(), p.federated.end());
    canonical.insert(p.canonical_user.begin(), p.canonical_user.end());
    if (p.IsEveryone() || !p.service.empty()) ConditionAccounts(st, &accounts);
  }
  g.accounts.assign(accounts.begin(), accounts.end());
  g.aws.assign(aws.begin(), aws.end());
  g.services.assign(services.begin(), services.end());
  g.federated.assign(federated.begin(), federated.end());
  g.canonical_users.assign(canonical.begin(), canonical.end());
  return g;
}

ExternalAccess ExternalAccounts(const Policy& policy, std::string_view own_account,
                                const std::vector<std::string>& trusted_accounts) {
  // Own and trusted accounts may be given as ids or as ARNs naming them.
  auto account_of = [](std::string_view v) {
    std::string account = AccountOfPrincipal(v);
    return account.empty() ? std::string(Trim(v)) : account;
  };
  std::set<std::string> excluded = {account_of(own_account)};
  for (const auto& t : trusted_accounts) excluded.insert(account_of(t));
  ExternalAccess out;
  for (auto& account : GrantedPrincipals(policy).accounts)
    if (!excluded.count(account)) out.accounts.push_back(std::move(account));
  out.is_public = IsPublic(policy).is_public;
  return out;
}

Access Allows(const Policy& policy, std::string_view action, std::string_view resource) {
  const Tokens qa = Compile(action, true);
  const Tokens qr = Compile(resource, false);
  const bool query_all = IsAllResources(resource);
  Access best = Access::kNotAllowed;
  for (const auto& allow : policy.statements) {
    if (allow.effect != Effect::kAllow || !CoversActions(allow, qa)) continue;
    bool context = false;
    if (!CoversResources(allow, qr, query_all, &context)) continue;
    Access access = allow.IsConditional() || context ? Access::kAllowedWithConditions : Access::kAllowed;
    for (const auto& deny : policy.statements) {
      if (deny.effect != Effect::kDeny || !TouchesActions(deny, qa)) continue;
      bool deny_context = false;
      if (!TouchesResources(deny, qr, &deny_context)) continue;
      Reach reach = DenyReach(deny, allow);
      if (reach == Reach::kNone) continue;
      if (reach == Reach::kFull && !deny.IsConditional() && !deny_context) {
        access = Access::kNotAllowed;
        break;
      }
      access = std::min(access, Access::kAllowedWithConditions);
    }
    best = std::max(best, access);
  }
  return best;
}

bool GrantsFullAdmin(const Policy& policy) {
  return std::any_of(policy.statements.begin(), policy.statements.end(), [](const Statement& st) {
    if (st.effect != Effect::kAllow || st.IsConditional() || !AppliesToAllResources(st)) return false;
    if (st.not_action) return st.actions.empty();
    return std::any_of(st.actions.begin(), st.actions.end(), [](const std::string& a) { return IsAllActions(a); });
  });
}

std::vector<std::string> ServiceWildcards(const Policy& policy) {
  std::vector<std::string> found;
  for (const auto& st : policy.statements) {
    if (st.effect != Effect::kAllow || st.not_action || !AppliesToAllResources(st)) continue;
    for (const auto& a : st.actions)
      if (HasWildcard(a)) found.push_back(a);
  }
  return SortedUniqueIgnoringCase(found);
}

bool DeniesInsecureTransport(const Policy& policy) {
  return std::any_of(policy.statements.begin(), policy.statements.end(), [](const Statement& st) {
    if (st.effect != Effect::kDeny || !st.has_principal || !st.principal.IsEveryone()) return false;
    if (st.not_action || st.not_resource) return false;
    if (std::none_of(st.actions.begin(), st.actions.end(), [](const std::string& a) { return IsAllOfService(a); }))
      return false;
    if (st.conditions.size() != 1) return false;
    const ConditionClause& c = st.conditions[0];
    return c.base_op == "bool" && c.qualifier == SetQualifier::kNone && c.key_lower == "aws:securetransport" &&
           std::any_of(c.values.begin(), c.values.end(), [](const std::string& v) { return IEquals(v, "false"); });
  });
}

bool HasConditionKey(const Policy& policy, std::string_view key) {
  const Tokens pattern = Compile(key, true);
  for (const auto& st : policy.statements)
    for (const auto& c : st.conditions)
      if (Covers(pattern, Literal(c.key_lower, true))) return true;
  return false;
}

}  // namespace cloudaudit::policy
