// Compiles a rule's `detection:` map: selections (maps, lists of maps,
// keyword lists), field names with modifiers, values; reports every problem
// with its line. The condition parser is in sigma_condition.cc.
#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "threats/sigma_compile.h"
#include "threats/sigma_yaml.h"

namespace cloudaudit::threats::internal {

void CompileContext::Problem(int line, std::string message) {
  problems.push_back(DataFileError(file, line, std::move(message)));
}

namespace {

int Line(const YamlNode& n) { return n.line; }

// ---- modifiers -------------------------------------------------------------

enum class Mod {
  kContains, kStartsWith, kEndsWith, kAll, kRe, kReI, kReM, kReS, kCidr, kBase64, kBase64Offset,
  kUtf16Le, kUtf16Be, kUtf16, kWindash, kExists, kLt, kLte, kGt, kGte, kFieldRef, kCased, kExpand, kNeq,
};

struct ModInfo {
  const char* name;
  Mod mod;
};
constexpr ModInfo kMods[] = {
    {"contains", Mod::kContains}, {"startswith", Mod::kStartsWith}, {"endswith", Mod::kEndsWith},
    {"all", Mod::kAll},           {"re", Mod::kRe},                 {"i", Mod::kReI},
    {"ignorecase", Mod::kReI},    {"m", Mod::kReM},                 {"multiline", Mod::kReM},
    {"s", Mod::kReS},             {"dotall", Mod::kReS},            {"cidr", Mod::kCidr},
    {"base64", Mod::kBase64},     {"base64offset", Mod::kBase64Offset}, {"utf16le", Mod::kUtf16Le},
    {"wide", Mod::kUtf16Le},      {"utf16be", Mod::kUtf16Be},       {"utf16", Mod::kUtf16},
    {"windash", Mod::kWindash},   {"exists", Mod::kExists},         {"lt", Mod::kLt},
    {"lte", Mod::kLte},           {"gt", Mod::kGt},                 {"gte", Mod::kGte},
    {"fieldref", Mod::kFieldRef}, {"cased", Mod::kCased},           {"expand", Mod::kExpand},
    {"neq", Mod::kNeq},
};

const char* ModName(Mod m) {
  for (const auto& i : kMods) {
    if (i.mod == m) return i.name;
  }
  return "?";
}

bool IsTimeModifier(std::string_view m) {
  return m == "minute" || m == "hour" || m == "day" || m == "week" || m == "month" || m == "year";
}

std::string Base64(std::string_view in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) | static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// UTF-8 to UTF-16 (LE or BE); invalid bytes become U+FFFD.
std::string Utf16(std::string_view in, bool big_endian, bool bom) {
  std::string out;
  auto unit = [&](uint16_t u) {
    if (big_endian) {
      out += static_cast<char>(u >> 8);
      out += static_cast<char>(u & 0xFF);
    } else {
      out += static_cast<char>(u & 0xFF);
      out += static_cast<char>(u >> 8);
    }
  };
  if (bom) unit(0xFEFF);
  for (size_t i = 0; i < in.size();) {
    const auto c = static_cast<unsigned char>(in[i]);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    if (c < 0x80) {
      cp = c;
    } else if (c >= 0xC2 && c <= 0xDF && i + 1 < in.size()) {
      cp = ((c & 0x1Fu) << 6) | (static_cast<unsigned char>(in[i + 1]) & 0x3Fu);
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF && i + 2 < in.size()) {
      cp = ((c & 0x0Fu) << 12) | ((static_cast<unsigned char>(in[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(in[i + 2]) & 0x3Fu);
      len = 3;
    } else if (c >= 0xF0 && c <= 0xF4 && i + 3 < in.size()) {
      cp = ((c & 0x07u) << 18) | ((static_cast<unsigned char>(in[i + 1]) & 0x3Fu) << 12) |
           ((static_cast<unsigned char>(in[i + 2]) & 0x3Fu) << 6) | (static_cast<unsigned char>(in[i + 3]) & 0x3Fu);
      len = 4;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(in[i + k]) & 0xC0) != 0x80) {
        cp = 0xFFFD;
        len = 1;
        break;
      }
    }
    if (cp >= 0x10000 && cp <= 0x10FFFF) {
      cp -= 0x10000;
      unit(static_cast<uint16_t>(0xD800 + (cp >> 10)));
      unit(static_cast<uint16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      unit(static_cast<uint16_t>(cp > 0xFFFF ? 0xFFFD : cp));
    }
    i += len;
  }
  return out;
}

std::vector<std::string> SplitPath(std::string_view field, bool* ok) {
  std::vector<std::string> path;
  *ok = true;
  size_t start = 0;
  while (true) {
    const size_t dot = field.find('.', start);
    const std::string_view part = field.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty()) *ok = false;
    path.emplace_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return path;
}

// Placeholders of `expand`: `%name%` is replaced by each of its values
// (cartesian product over several), `\%` is a plain percent sign.
bool ExpandPlaceholders(std::string_view value, CompileContext& ctx, int line, std::vector<std::string>* out) {
  std::vector<std::string> results(1);
  std::string pending;
  auto flush = [&] {
    for (auto& r : results) r += pending;
    pending.clear();
  };
  for (size_t i = 0; i < value.size();) {
    if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == '%') {
      pending += '%';
      i += 2;
      continue;
    }
    if (value[i] == '%') {
      const size_t close = value.find('%', i + 1);
      if (close != std::string_view::npos && close > i + 1) {
        const std::string name(value.substr(i + 1, close - i - 1));
        const std::vector<std::string>* defined = nullptr;
        if (ctx.placeholders != nullptr) {
          const auto it = ctx.placeholders->find(name);
          if (it != ctx.placeholders->end()) defined = &it->second;
        }
        if (defined == nullptr) {
          ctx.Problem(line, fmt::format("placeholder `%{}%` of `expand` has no values: define it in the placeholder "
                                        "options (docs/threats.md, \"expand\")",
                                        name));
          return false;
        }
        if (defined->empty()) {
          ctx.Problem(line, fmt::format("placeholder `%{}%` of `expand` is defined with no values", name));
          return false;
        }
        flush();
        if (results.size() * defined->size() > 10000) {
          ctx.Problem(line, "`expand` gives more than 10000 values");
          return false;
        }
        std::vector<std::string> next;
        for (const auto& r : results) {
          for (const auto& v : *defined) next.push_back(r + v);
        }
        results = std::move(next);
        i = close + 1;
        continue;
      }
    }
    pending += value[i];
    ++i;
  }
  flush();
  *out = std::move(results);
  return true;
}

struct ParsedKey {
  std::string field;
  std::vector<Mod> mods;
};

bool ParseKey(const std::string& key, int line, CompileContext& ctx, ParsedKey* out) {
  const size_t bar = key.find('|');
  out->field = key.substr(0, bar);
  bool ok = true;
  if (bar == std::string::npos) return true;
  size_t start = bar + 1;
  while (true) {
    const size_t next = key.find('|', start);
    const std::string name = key.substr(start, next == std::string::npos ? std::string::npos : next - start);
    const ModInfo* info = nullptr;
    for (const auto& m : kMods) {
      if (name == m.name) info = &m;
    }
    if (info != nullptr) {
      out->mods.push_back(info->mod);
    } else if (IsTimeModifier(name)) {
      ctx.Problem(line, fmt::format("`{}`: the time modifier `{}` is not supported", key, name));
      ok = false;
    } else if (name.empty()) {
      ctx.Problem(line, fmt::format("`{}`: empty modifier (`||` or a trailing `|`)", key));
      ok = false;
    } else {
      ctx.Problem(line, fmt::format("`{}`: unknown modifier `{}` (docs/threats.md lists the supported ones)", key, name));
      ok = false;
    }
    if (next == std::string::npos) break;
    start = next + 1;
  }
  return ok;
}

// A scalar or null from a YAML node; false for maps and lists.
bool ScalarValue(const YamlNode& n, std::optional<std::string>* out) {
  if (n.IsNull()) {
    *out = std::nullopt;
    return true;
  }
  if (!n.IsScalar()) return false;
  *out = n.scalar;
  return true;
}

bool ParseBool(const std::string& s, bool* out) {
  std::string l;
  for (char c : s) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (l == "true" || l == "yes") {
    *out = true;
    return true;
  }
  if (l == "false" || l == "no") {
    *out = false;
    return true;
  }
  return false;
}

bool ParseNumber(std::string_view s, double* out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

class ItemCompiler {
 public:
  ItemCompiler(CompileContext& ctx, const std::string& key, int line) : ctx_(ctx), key_(key), line_(line) {}

  bool Compile(const ParsedKey& pk, const std::vector<std::optional<std::string>>& values, bool keyword, FieldItem* item) {
    item->field = pk.field;
    item->line = line_;
    if (!keyword) {
      bool ok = true;
      item->path = SplitPath(pk.field, &ok);
      if (!ok) return Fail(fmt::format("`{}`: field name has an empty part (a leading, trailing or double `.`)", key_));
    }
    ValueMatcher& m = item->matcher;
    // Classify the modifiers.
    std::optional<Mod> type;  // re, cidr, exists, lt.., fieldref
    std::optional<Mod> position;
    bool re_i = false, re_m = false, re_s = false, windash = false, expand = false;
    std::vector<Mod> string_steps;  // in the written order: windash, positions, encodings
    for (size_t i = 0; i < pk.mods.size(); ++i) {
      const Mod mod = pk.mods[i];
      switch (mod) {
        case Mod::kAll:
          if (m.all) return Fail(fmt::format("`{}`: `all` is given twice", key_));
          m.all = true;
          break;
        case Mod::kCased:
          m.cased = true;
          break;
        case Mod::kNeq:
          m.negate = true;
          break;
        case Mod::kExpand:
          expand = true;
          break;
        case Mod::kContains:
        case Mod::kStartsWith:
        case Mod::kEndsWith:
          if (position) return Fail(fmt::format("`{}`: `{}` and `{}` cannot be combined", key_, ModName(*position), ModName(mod)));
          position = mod;
          string_steps.push_back(mod);
          break;
        case Mod::kWindash:
          windash = true;
          string_steps.push_back(mod);
          break;
        case Mod::kBase64:
        case Mod::kBase64Offset:
        case Mod::kUtf16Le:
        case Mod::kUtf16Be:
        case Mod::kUtf16:
          string_steps.push_back(mod);
          break;
        case Mod::kReI:
        case Mod::kReM:
        case Mod::kReS:
          if (type != Mod::kRe) return Fail(fmt::format("`{}`: `{}` is a sub-modifier of `re` and must follow it", key_, ModName(mod)));
          if (mod == Mod::kReI) re_i = true;
          if (mod == Mod::kReM) re_m = true;
          if (mod == Mod::kReS) re_s = true;
          break;
        case Mod::kRe:
        case Mod::kCidr:
        case Mod::kExists:
        case Mod::kLt:
        case Mod::kLte:
        case Mod::kGt:
        case Mod::kGte:
        case Mod::kFieldRef:
          if (type) return Fail(fmt::format("`{}`: `{}` and `{}` cannot be combined", key_, ModName(*type), ModName(mod)));
          type = mod;
          break;
      }
    }
    (void)windash;

    // Which companions each type modifier accepts.
    auto only = [&](std::initializer_list<Mod> allowed) -> bool {
      for (Mod mod : pk.mods) {
        if (mod == *type) continue;
        if (std::find(allowed.begin(), allowed.end(), mod) == allowed.end()) {
          return Fail(fmt::format("`{}`: `{}` cannot be combined with `{}`", key_, ModName(*type), ModName(mod)));
        }
      }
      return true;
    };
    if (keyword && type && *type != Mod::kRe) {
      return Fail(fmt::format("`{}`: `{}` needs a field name", key_, ModName(*type)));
    }
    if (keyword && m.negate) return Fail(fmt::format("`{}`: `neq` needs a field name", key_));

    const bool has_null = std::any_of(values.begin(), values.end(), [](const auto& v) { return !v.has_value(); });
    if (has_null) {
      if (type || expand ||
          std::any_of(string_steps.begin(), string_steps.end(), [](Mod s) { return s != Mod::kContains && s != Mod::kStartsWith && s != Mod::kEndsWith; })) {
        return Fail(fmt::format("`{}`: a null value (field absent or null) cannot take these modifiers", key_));
      }
      if (keyword) return Fail(fmt::format("`{}`: a keyword search cannot be null", key_));
      if (m.negate) return Fail(fmt::format("`{}`: `neq` with a null value: use `|exists: true` instead", key_));
    }
    if (!type) return CompileStrings(pk, values, keyword, position, expand, string_steps, &m);

    switch (*type) {
      case Mod::kRe: {
        if (!only({Mod::kAll, Mod::kReI, Mod::kReM, Mod::kReS})) return false;
        m.kind = ValueMatcher::Kind::kRegex;
        std::string flags;
        if (re_i) flags += 'i';
        if (re_m) flags += 'm';
        if (re_s) flags += 's';
        for (const auto& v : values) {
          if (!Budget(1)) return false;
          if (v->size() > kRegexMaxLength) {
            return Fail(fmt::format("`{}`: regular expression is longer than {} bytes", key_, kRegexMaxLength));
          }
          RE2::Options opts;
          opts.set_log_errors(false);
          opts.set_max_mem(kRegexMaxMem);
          const std::string text = flags.empty() ? *v : "(?" + flags + ")" + *v;
          auto re = std::make_shared<RE2>(text, opts);
          if (!re->ok()) {
            return Fail(fmt::format("`{}`: regular expression does not compile: {} (RE2 syntax: no backreferences, "
                                    "no lookaround)",
                                    key_, re->error()));
          }
          m.regexes.push_back(std::move(re));
        }
        return true;
      }
      case Mod::kCidr: {
        if (!only({Mod::kAll})) return false;
        m.kind = ValueMatcher::Kind::kCidr;
        for (const auto& v : values) {
          if (!Budget(1)) return false;
          IpNetwork net;
          std::string why;
          if (!ParseCidr(*v, &net, &why)) return Fail(fmt::format("`{}`: `{}` {}", key_, *v, why));
          m.networks.push_back(net);
        }
        return true;
      }
      case Mod::kExists: {
        if (!only({})) return false;
        m.kind = ValueMatcher::Kind::kExists;
        if (values.size() != 1 || !ParseBool(*values[0], &m.exists)) {
          return Fail(fmt::format("`{}`: `exists` takes one value, true or false", key_));
        }
        return true;
      }
      case Mod::kLt:
      case Mod::kLte:
      case Mod::kGt:
      case Mod::kGte: {
        if (!only({Mod::kAll})) return false;
        m.kind = ValueMatcher::Kind::kNumeric;
        m.num_op = *type == Mod::kLt ? NumOp::kLt : *type == Mod::kLte ? NumOp::kLte : *type == Mod::kGt ? NumOp::kGt : NumOp::kGte;
        for (const auto& v : values) {
          double d = 0;
          if (!ParseNumber(*v, &d)) return Fail(fmt::format("`{}`: `{}` is not a number", key_, *v));
          m.numbers.push_back(d);
        }
        return true;
      }
      case Mod::kFieldRef: {
        if (!only({Mod::kAll, Mod::kCased, Mod::kNeq, Mod::kContains, Mod::kStartsWith, Mod::kEndsWith})) return false;
        m.kind = ValueMatcher::Kind::kFieldRef;
        m.ref_mode = !position ? ValueMatcher::RefMode::kEquals
                     : *position == Mod::kContains ? ValueMatcher::RefMode::kContains
                     : *position == Mod::kStartsWith ? ValueMatcher::RefMode::kStartsWith
                                                     : ValueMatcher::RefMode::kEndsWith;
        for (const auto& v : values) {
          bool ok = true;
          auto path = SplitPath(*v, &ok);
          if (!ok) return Fail(fmt::format("`{}`: `{}` is not a field name", key_, *v));
          m.ref_paths.push_back(std::move(path));
        }
        return true;
      }
      default:
        break;
    }
    return Fail("internal: unhandled modifier");
  }

 private:
  // RE2 runs in linear time whatever the pattern; these bound what one
  // pattern may cost to compile and hold.
  static constexpr int64_t kRegexMaxMem = 8 << 20;
  static constexpr size_t kRegexMaxLength = 64 << 10;

  bool Fail(std::string message) {
    ctx_.Problem(line_, std::move(message));
    return false;
  }
  bool Budget(size_t n) {
    ctx_.values += n;
    if (ctx_.values > kMaxValuesPerRule) {
      return Fail(fmt::format("the detection has more than {} values (YAML aliases?)", kMaxValuesPerRule));
    }
    return true;
  }

  bool CompileStrings(const ParsedKey& pk, const std::vector<std::optional<std::string>>& values, bool keyword,
                      std::optional<Mod> position, bool expand, const std::vector<Mod>& steps, ValueMatcher* m) {
    (void)pk;
    m->kind = ValueMatcher::Kind::kPatterns;
    bool encoded = false;  // base64 output is case-sensitive
    for (const auto& v : values) {
      if (!v) {
        m->null_ok = true;
        if (m->all) m->null_in_all = true;
        continue;
      }
      std::vector<std::string> raw{*v};
      if (expand && !ExpandPlaceholders(*v, ctx_, line_, &raw)) return false;
      for (const auto& r : raw) {
        // Windash applies at parse time, wherever it was written: it only
        // changes how literal dashes match.
        const bool windash = std::find(steps.begin(), steps.end(), Mod::kWindash) != steps.end();
        std::vector<std::vector<Pattern::Part>> variants{ParseSigmaString(r, windash)};
        int utf16 = 0;  // 0 none, 1 le, 2 be, 3 with bom
        for (Mod step : steps) {
          switch (step) {
            case Mod::kContains:
            case Mod::kStartsWith:
            case Mod::kEndsWith:
              for (auto& parts : variants) {
                if (step != Mod::kEndsWith && (parts.empty() || !parts.back().star)) {
                  Pattern::Part star;
                  star.star = true;
                  parts.push_back(star);
                }
                if (step != Mod::kStartsWith && (parts.empty() || !parts.front().star)) {
                  Pattern::Part star;
                  star.star = true;
                  parts.insert(parts.begin(), star);
                }
              }
              break;
            case Mod::kUtf16Le:
              utf16 = 1;
              break;
            case Mod::kUtf16Be:
              utf16 = 2;
              break;
            case Mod::kUtf16:
              utf16 = 3;
              break;
            case Mod::kBase64:
            case Mod::kBase64Offset: {
              std::vector<std::vector<Pattern::Part>> next;
              for (const auto& parts : variants) {
                std::string plain;
                for (const auto& p : parts) {
                  if (p.star || p.token.kind != GlobToken::Kind::kLiteral) {
                    return Fail(fmt::format("`{}`: `{}` cannot encode wildcards or windash dashes (write "
                                            "`contains`/`startswith`/`endswith` after it; escape a literal * or ? "
                                            "with \\)",
                                            key_, ModName(step)));
                  }
                  plain += p.token.literal;
                }
                if (utf16 != 0) plain = Utf16(plain, utf16 == 2, utf16 == 3);
                auto literal = [](std::string s) {
                  Pattern::Part part;
                  part.token.literal = std::move(s);
                  return std::vector<Pattern::Part>{part};
                };
                if (step == Mod::kBase64) {
                  next.push_back(literal(Base64(plain)));
                } else {
                  // The value at offsets 0, 1 and 2 of a base64 stream: drop
                  // the characters that depend on the bytes around it.
                  static constexpr size_t kStart[3] = {0, 2, 3};
                  for (size_t shift = 0; shift < 3; ++shift) {
                    const std::string enc = Base64(std::string(shift, ' ') + plain);
                    const size_t rem = (plain.size() + shift) % 3;
                    const size_t cut = rem == 0 ? 0 : rem == 1 ? 3 : 2;
                    if (enc.size() < kStart[shift] + cut) continue;
                    std::string mid = enc.substr(kStart[shift], enc.size() - cut - kStart[shift]);
                    if (!mid.empty()) next.push_back(literal(std::move(mid)));
                  }
                }
              }
              variants = std::move(next);
              utf16 = -1;  // consumed
              encoded = true;
              break;
            }
            default:
              break;
          }
        }
        if (utf16 > 0) {
          return Fail(fmt::format("`{}`: `utf16le`/`utf16be`/`utf16`/`wide` must be followed by `base64` or "
                                  "`base64offset`",
                                  key_));
        }
        for (auto& parts : variants) {
          if (keyword && !position && !encoded) {
            // A plain keyword is searched anywhere in the record's values.
            if (parts.empty() || !parts.front().star) parts.insert(parts.begin(), Pattern::Part{true, {}});
            if (!parts.back().star) parts.push_back(Pattern::Part{true, {}});
          }
          if (!Budget(1)) return false;
          Pattern pattern = Pattern::Compile(parts, m->cased || encoded);
          if (!pattern.ok()) return Fail(fmt::format("`{}`: {}", key_, pattern.error()));
          m->patterns.push_back(std::move(pattern));
        }
      }
    }
    return true;
  }

  CompileContext& ctx_;
  const std::string key_;
  int line_;
};

// Values of a field item: one scalar/null, or a list of them.
bool ItemValues(const YamlNode& v, const std::string& key, CompileContext& ctx, std::vector<std::optional<std::string>>* out) {
  std::optional<std::string> one;
  if (ScalarValue(v, &one)) {
    out->push_back(std::move(one));
    return true;
  }
  if (v.IsSequence()) {
    if (v.size() == 0) {
      ctx.Problem(Line(v), fmt::format("`{}`: empty list of values", key));
      return false;
    }
    for (const auto& item : v.items) {
      const YamlNode& e = *item;
      if (!ScalarValue(e, &one)) {
        ctx.Problem(Line(e), fmt::format("`{}`: a value must be a string, number, boolean or null, not a {}", key,
                                         e.IsMap() ? "map" : "list"));
        return false;
      }
      out->push_back(std::move(one));
    }
    return true;
  }
  ctx.Problem(Line(v), fmt::format("`{}`: a value must be a string, number, boolean, null or a list of them, not a map", key));
  return false;
}

bool CompileMap(const YamlNode& map, CompileContext& ctx, ItemGroup* group) {
  bool ok = true;
  if (map.size() == 0) {
    ctx.Problem(Line(map), "empty map in a selection");
    return false;
  }
  for (const auto& [key_node, value] : map.pairs) {
    const int line = Line(*key_node);
    if (!key_node->IsScalar()) {
      ctx.Problem(line, "a field name must be a string");
      ok = false;
      continue;
    }
    const std::string key = key_node->scalar;
    ParsedKey pk;
    if (!ParseKey(key, line, ctx, &pk)) {
      ok = false;
      continue;
    }
    std::vector<std::optional<std::string>> values;
    if (!ItemValues(*value, key, ctx, &values)) {
      ok = false;
      continue;
    }
    FieldItem item;
    ItemCompiler c(ctx, key, line);
    if (!c.Compile(pk, values, pk.field.empty(), &item)) {
      ok = false;
      continue;
    }
    group->items.push_back(std::move(item));
  }
  return ok;
}

// Keyword search: strings directly under a selection.
bool CompileKeywords(const std::vector<std::optional<std::string>>& values, int line, CompileContext& ctx, ItemGroup* group) {
  ParsedKey pk;
  FieldItem item;
  ItemCompiler c(ctx, "keywords", line);
  for (const auto& v : values) {
    if (!v) {
      ctx.Problem(line, "a keyword search cannot be null");
      return false;
    }
  }
  if (!c.Compile(pk, values, true, &item)) return false;
  group->items.push_back(std::move(item));
  return true;
}

bool CompileSelection(const std::string& name, int line, const YamlNode& node, CompileContext& ctx, Selection* sel) {
  sel->name = name;
  sel->line = line;
  if (node.IsMap()) {
    ItemGroup g;
    if (!CompileMap(node, ctx, &g)) return false;
    sel->groups.push_back(std::move(g));
    return true;
  }
  if (node.IsSequence()) {
    if (node.size() == 0) {
      ctx.Problem(sel->line, fmt::format("selection `{}` is an empty list", name));
      return false;
    }
    bool ok = true;
    std::vector<std::optional<std::string>> keywords;
    int keyword_line = 0;
    for (const auto& item : node.items) {
      const YamlNode& e = *item;
      if (e.IsMap()) {
        ItemGroup g;
        if (CompileMap(e, ctx, &g)) sel->groups.push_back(std::move(g));
        else ok = false;
      } else if (e.IsScalar()) {
        if (keyword_line == 0) keyword_line = Line(e);
        keywords.emplace_back(e.scalar);
      } else {
        ctx.Problem(Line(e), fmt::format("selection `{}`: a list holds maps (OR) or keyword strings, not {}", name,
                                         e.IsNull() ? "null" : "lists"));
        ok = false;
      }
    }
    if (!keywords.empty()) {
      ItemGroup g;
      if (CompileKeywords(keywords, keyword_line, ctx, &g)) sel->groups.push_back(std::move(g));
      else ok = false;
    }
    return ok;
  }
  if (node.IsScalar()) {
    ItemGroup g;
    if (!CompileKeywords({node.scalar}, sel->line, ctx, &g)) return false;
    sel->groups.push_back(std::move(g));
    return true;
  }
  ctx.Problem(sel->line, fmt::format("selection `{}` is empty (null)", name));
  return false;
}

// ---- the eventName / eventSource pre-filter ---------------------------------

using NameSet = std::optional<std::set<std::string>>;  // nullopt: unconstrained

std::string LowerAscii(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

NameSet GroupConstraint(const ItemGroup& g, const std::string& field) {
  NameSet best;
  for (const auto& item : g.items) {
    const ValueMatcher& m = item.matcher;
    if (item.path.size() != 1 || item.path[0] != field || m.kind != ValueMatcher::Kind::kPatterns || m.negate ||
        m.null_ok || m.patterns.empty())
      continue;
    std::set<std::string> names;
    bool exact = true;
    for (const auto& p : m.patterns) {
      if (p.shape() != Pattern::Shape::kExact) exact = false;
      else names.insert(LowerAscii(p.literal()));
    }
    if (!exact) continue;
    if (!best || names.size() < best->size()) best = std::move(names);
  }
  return best;
}

NameSet Constraint(const CondNode& n, const std::vector<Selection>& sels, const std::string& field) {
  switch (n.op) {
    case CondNode::Op::kSelection: {
      std::set<std::string> all;
      for (const auto& g : sels[static_cast<size_t>(n.selection)].groups) {
        NameSet c = GroupConstraint(g, field);
        if (!c) return std::nullopt;
        all.insert(c->begin(), c->end());
      }
      return all;
    }
    case CondNode::Op::kAnd: {
      NameSet acc;
      for (const auto& c : n.children) {
        NameSet s = Constraint(c, sels, field);
        if (!s) continue;
        if (!acc) {
          acc = std::move(s);
        } else {
          std::set<std::string> both;
          std::set_intersection(acc->begin(), acc->end(), s->begin(), s->end(), std::inserter(both, both.end()));
          acc = std::move(both);
        }
      }
      return acc;
    }
    case CondNode::Op::kOr:
    case CondNode::Op::kAtLeast: {
      // At least one child must hold (kAtLeast needs >= 1).
      std::set<std::string> all;
      for (const auto& c : n.children) {
        NameSet s = Constraint(c, sels, field);
        if (!s) return std::nullopt;
        all.insert(s->begin(), s->end());
      }
      return all;
    }
    case CondNode::Op::kNot:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::shared_ptr<const Detection> CompileDetection(const YamlNode& detection, int detection_line, CompileContext& ctx) {
  const size_t before = ctx.problems.size();
  if (!detection.IsMap()) {
    ctx.Problem(detection_line, "`detection` must be a map of search identifiers and a `condition`");
    return nullptr;
  }
  auto d = std::make_shared<Detection>();
  const YamlNode* condition = nullptr;
  bool has_condition = false;
  int condition_line = Line(detection);
  std::set<std::string> names;
  for (const auto& [key_node, value] : detection.pairs) {
    const int line = Line(*key_node);
    if (!key_node->IsScalar()) {
      ctx.Problem(line, "a search identifier must be a string");
      continue;
    }
    const std::string name = key_node->scalar;
    if (name == "condition") {
      condition = value.get();
      has_condition = true;
      condition_line = line;
      continue;
    }
    if (name == "timeframe") {
      ctx.Problem(line, "`timeframe` (aggregation over a time window) is not supported: the engine matches one record "
                        "at a time");
      continue;
    }
    if (!names.insert(name).second) {
      ctx.Problem(line, fmt::format("search identifier `{}` is defined twice", name));
      continue;
    }
    Selection sel;
    if (CompileSelection(name, line, *value, ctx, &sel)) d->selections.push_back(std::move(sel));
    else d->selections.push_back(Selection{name, line, {}});  // keep the name for the condition check
  }
  if (!has_condition || condition == nullptr) {
    ctx.Problem(detection_line, "`detection` needs a `condition`");
    return nullptr;
  }
  std::vector<std::string> conditions;
  if (condition->IsScalar()) {
    conditions.push_back(condition->scalar);
  } else if (condition->IsSequence() && condition->size() > 0) {
    for (const auto& c : condition->items) {
      if (!c->IsScalar()) {
        ctx.Problem(Line(*c), "a condition must be a string");
        return nullptr;
      }
      conditions.push_back(c->scalar);
    }
  } else {
    ctx.Problem(condition_line, "`condition` must be a string or a list of strings");
    return nullptr;
  }
  d->condition.op = CondNode::Op::kOr;
  for (const auto& text : conditions) {
    CondNode node;
    if (ParseCondition(text, d->selections, condition_line, &node, ctx)) d->condition.children.push_back(std::move(node));
  }
  if (ctx.problems.size() != before) return nullptr;
  if (d->condition.children.size() == 1) {
    CondNode only = std::move(d->condition.children[0]);
    d->condition = std::move(only);
  }
  if (NameSet s = Constraint(d->condition, d->selections, "eventName")) {
    d->index = Detection::IndexKind::kEventName;
    d->index_values.assign(s->begin(), s->end());
  } else if (NameSet src = Constraint(d->condition, d->selections, "eventSource")) {
    d->index = Detection::IndexKind::kEventSource;
    d->index_values.assign(src->begin(), src->end());
  }
  return d;
}

}  // namespace cloudaudit::threats::internal
