#include "rules/rule_reads.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "base/strings.h"
#include "rules/sql_functions.h"

namespace cloudaudit::rules {

namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string QuoteIdent(const std::string& name) {
  std::string out = "\"";
  for (char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Just enough of SQLite's lexer to find how `data` is used: identifiers
// (bare or quoted), string literals, numbers, operators; comments skipped.
struct Token {
  enum class Kind { kIdent, kString, kNumber, kOp, kParam };
  Kind kind;
  std::string text;         // identifiers unquoted, strings unescaped
  size_t pos = 0, len = 0;  // where it is in the query
};

std::vector<Token> Tokenize(const std::string& sql) {
  std::vector<Token> out;
  const size_t n = sql.size();
  size_t i = 0;
  auto quoted = [&](char close, Token::Kind kind) {
    std::string text;
    const size_t start = i++;
    while (i < n) {
      if (sql[i] == close) {
        if (close != ']' && i + 1 < n && sql[i + 1] == close) {  // doubled: an escaped quote
          text += close;
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      text += sql[i++];
    }
    out.push_back({kind, std::move(text), start, i - start});
  };
  while (i < n) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {
      while (i < n && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string::npos ? n : end + 2;
    } else if (c == '\'') {
      quoted('\'', Token::Kind::kString);
    } else if (c == '"') {
      quoted('"', Token::Kind::kIdent);
    } else if (c == '`') {
      quoted('`', Token::Kind::kIdent);
    } else if (c == '[') {
      quoted(']', Token::Kind::kIdent);
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
      size_t start = i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_' || sql[i] == '$' ||
                       static_cast<unsigned char>(sql[i]) >= 0x80))
        ++i;
      out.push_back({Token::Kind::kIdent, sql.substr(start, i - start), start, i - start});
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i;
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '.')) ++i;
      out.push_back({Token::Kind::kNumber, sql.substr(start, i - start), start, i - start});
    } else if (c == ':' || c == '@' || c == '$' || c == '?') {
      size_t start = i++;
      while (i < n && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) ++i;
      out.push_back({Token::Kind::kParam, sql.substr(start, i - start), start, i - start});
    } else {
      static const char* kLong[] = {"->>", "->", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>"};
      std::string op(1, c);
      for (const char* l : kLong) {
        if (sql.compare(i, std::char_traits<char>::length(l), l) == 0) {
          op = l;
          break;
        }
      }
      const size_t start = i;
      i += op.size();
      out.push_back({Token::Kind::kOp, std::move(op), start, i - start});
    }
  }
  return out;
}

bool IsOp(const Token& t, std::string_view op) { return t.kind == Token::Kind::kOp && t.text == op; }
bool IsWord(const Token& t, std::string_view word) { return t.kind == Token::Kind::kIdent && Lower(t.text) == word; }

// The first member a JSON path reads: '$.A.B' and '$.A[0]' read A,
// '$."a b".c' reads "a b". Empty for the root ('$', '$[0]') or what is not a
// path.
std::string FirstMember(const std::string& path) {
  if (path.size() < 3 || path.compare(0, 2, "$.") != 0) return "";
  if (path[2] == '"') {
    size_t close = path.find('"', 3);
    return close == std::string::npos ? "" : path.substr(3, close - 3);
  }
  size_t end = path.find_first_of(".[", 2);
  return path.substr(2, end == std::string::npos ? std::string::npos : end - 2);
}

// How the query mentions the `data` column.
struct DataUses {
  std::set<std::string> members;  // read through literal paths
  std::vector<size_t> by_path;    // the tokens of those mentions
};

DataUses ScanDataUses(const std::vector<Token>& t) {
  // Functions whose first argument is the document and the next ones paths.
  static const std::set<std::string> kOnePath = {"json_type", "json_array_length", "json_each",
                                                 "json_tree", "jsonb_each",        "jsonb_tree"};
  static const std::set<std::string> kManyPaths = {"json_extract", "jsonb_extract"};
  DataUses uses;
  const size_t n = t.size();
  for (size_t i = 0; i < n; ++i) {
    if (!IsWord(t[i], "data")) continue;
    // A qualified column: s.data.
    const size_t first = i >= 2 && IsOp(t[i - 1], ".") && t[i - 2].kind == Token::Kind::kIdent ? i - 2 : i;
    // data -> '$.M...' / data ->> 'M'
    if (i + 2 < n && (IsOp(t[i + 1], "->") || IsOp(t[i + 1], "->>")) && t[i + 2].kind == Token::Kind::kString) {
      const std::string& p = t[i + 2].text;
      std::string member = !p.empty() && p[0] == '$' ? FirstMember(p) : p;
      if (!member.empty()) {
        uses.members.insert(member);
        uses.by_path.push_back(i);
      }
      continue;
    }
    // f(data, '$.M...' ...)
    if (first >= 2 && IsOp(t[first - 1], "(") && t[first - 2].kind == Token::Kind::kIdent) {
      const std::string fn = Lower(t[first - 2].text);
      const bool many = kManyPaths.count(fn) > 0;
      if (many || kOnePath.count(fn) > 0) {
        std::vector<std::string> found;
        bool ok = true;
        size_t j = i + 1;
        while (j + 1 < n && IsOp(t[j], ",") && t[j + 1].kind == Token::Kind::kString) {
          std::string member = FirstMember(t[j + 1].text);
          if (member.empty()) ok = false;
          found.push_back(std::move(member));
          j += 2;
          if (!many) break;
        }
        if (ok && !found.empty() && j < n && IsOp(t[j], ")")) {
          uses.members.insert(found.begin(), found.end());
          uses.by_path.push_back(i);
        }
      }
    }
    // Any other mention (passed whole, aliased, compared...) stays `data`,
    // which SQLite then reports as read.
  }
  return uses;
}

// The first member each placeholder of a template reads ("{Provider.Url}" → Provider).
void TemplateMembers(const std::string& tpl, std::set<std::string>& out) {
  static const std::set<std::string> kContext = {"region", "account_id", "partition"};
  for (size_t open = tpl.find('{'); open != std::string::npos; open = tpl.find('{', open + 1)) {
    size_t close = tpl.find('}', open);
    if (close == std::string::npos) break;
    std::string name = tpl.substr(open + 1, close - open - 1);
    name = name.substr(0, name.find_first_of(".|"));
    if (!name.empty() && !kContext.count(name) && name.rfind("time:", 0) != 0) out.insert(name);
  }
}

struct Authorized {
  std::map<std::string, std::set<std::string>> reads;  // table -> columns (lower case)
};

int RecordReads(void* state, int action, const char* table, const char* column, const char*, const char*) {
  if (action == SQLITE_READ && table != nullptr && column != nullptr)
    static_cast<Authorized*>(state)->reads[Lower(table)].insert(Lower(column));
  return SQLITE_OK;
}

// Stands for `data` where the query reads it through a literal path, so that
// SQLite's report of `data` itself means a read of the whole document (a
// mention without a path, `*` over the table...).
constexpr const char* kDataByPath = "cloudaudit_data_by_path";

// The columns `query` reads of each table, from SQLite itself; nullopt when
// it does not prepare.
std::optional<Authorized> ColumnsRead(const std::string& query,
                                      const std::vector<const collect::ResourceSpec*>& specs) {
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    sqlite3_close(raw);
    return std::nullopt;
  }
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db(raw, sqlite3_close);
  static const EvalContext kNoClock;  // functions are prepared, never run
  if (!RegisterSqlFunctions(raw, &kNoClock)) return std::nullopt;
  for (const auto* spec : specs) {
    std::string columns = fmt::format("account_id, region, id, arn, name, tags, data, {}", kDataByPath);
    for (const auto& c : spec->columns) columns += ", " + QuoteIdent(c.name);
    std::string ddl = fmt::format("CREATE TABLE {}({})", QuoteIdent(spec->table), columns);
    if (sqlite3_exec(raw, ddl.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) return std::nullopt;
  }
  Authorized seen;
  sqlite3_set_authorizer(raw, RecordReads, &seen);
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v2(raw, query.c_str(), static_cast<int>(query.size()), &st, nullptr);
  sqlite3_finalize(st);
  sqlite3_set_authorizer(raw, nullptr, nullptr);
  if (rc != SQLITE_OK) return std::nullopt;
  return seen;
}

}  // namespace

bool RuleReads::Reads(const std::string& table, const std::vector<std::string>& members) const {
  auto it = tables.find(table);
  if (it == tables.end()) return false;
  if (it->second.everything) return true;
  return std::any_of(members.begin(), members.end(),
                     [&](const std::string& m) { return it->second.members.count(m) > 0; });
}

RuleReads AnalyzeReads(const std::string& query, const std::vector<std::string>& tables, const collect::SpecSet& specs,
                       const std::vector<std::string>& declared) {
  std::vector<const collect::ResourceSpec*> used;
  for (const auto& table : tables) {
    const collect::ResourceSpec* spec = specs.Find(table);
    if (spec != nullptr && std::find(used.begin(), used.end(), spec) == used.end()) used.push_back(spec);
  }
  RuleReads out;
  const std::vector<Token> tokens = Tokenize(query);
  const DataUses data = ScanDataUses(tokens);
  std::string rewritten = query;
  for (auto i = data.by_path.rbegin(); i != data.by_path.rend(); ++i)
    rewritten.replace(tokens[*i].pos, tokens[*i].len, kDataByPath);
  const std::optional<Authorized> columns = ColumnsRead(rewritten, used);
  // The columns NATURAL and USING joins compare are not reported by SQLite's
  // authorizer: a NATURAL join reads every table whole, the columns a USING
  // list names count for every table that has them.
  const bool natural = std::any_of(tokens.begin(), tokens.end(), [](const Token& t) { return IsWord(t, "natural"); });
  std::set<std::string> joined_on;
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (!IsWord(tokens[i], "using") || !IsOp(tokens[i + 1], "(")) continue;
    for (size_t j = i + 2; j < tokens.size() && !IsOp(tokens[j], ")"); ++j)
      if (tokens[j].kind == Token::Kind::kIdent) joined_on.insert(Lower(tokens[j].text));
  }
  for (const auto* spec : used) {
    if (!columns) {
      out.tables[spec->table].everything = true;  // the query does not prepare here: assume the worst
      continue;
    }
    std::set<std::string> read;
    if (auto it = columns->reads.find(spec->table); it != columns->reads.end()) read = it->second;
    bool reported = !read.empty();
    for (const std::string& column : joined_on) {
      const bool has = column == "data" || column == "tags" || column == "id" || column == "arn" || column == "name" ||
                       std::any_of(spec->columns.begin(), spec->columns.end(),
                                   [&](const collect::Column& c) { return Lower(c.name) == column; });
      if (has) read.insert(column);
    }
    if (!reported && read.empty()) {
      if (std::find(declared.begin(), declared.end(), spec->table) != declared.end())
        out.tables[spec->table].everything = true;
      continue;
    }
    TableReads& reads = out.tables[spec->table];
    if (natural) {
      reads.everything = true;
      continue;
    }
    for (const std::string& column : read) {
      // count(*) reads no column; account and region come from the scan.
      if (column.empty() || column == "account_id" || column == "region" || column == "rowid") continue;
      if (column == "data") {
        reads.everything = true;
      } else if (column == kDataByPath) {
        reads.members.insert(data.members.begin(), data.members.end());
      } else if (column == "tags") {
        if (!spec->tags_path.empty()) reads.members.insert(Split(spec->tags_path, '.').front());
      } else if (column == "id") {
        TemplateMembers(spec->id_template, reads.members);
      } else if (column == "arn") {
        TemplateMembers(spec->arn_template, reads.members);
      } else if (column == "name") {
        TemplateMembers(spec->name_template, reads.members);
      } else {
        auto c = std::find_if(spec->columns.begin(), spec->columns.end(),
                              [&](const collect::Column& x) { return Lower(x.name) == column; });
        if (c != spec->columns.end())
          reads.members.insert(Split(c->path, '.').front());
        else
          reads.everything = true;  // not a column we know of: assume the worst
      }
    }
  }
  return out;
}

}  // namespace cloudaudit::rules
