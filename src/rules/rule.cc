#include "rules/rule.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "collect/collector.h"
#include "collect/yaml_json.h"
#include "rules/embedded_rules.h"
#include "rules/sql_functions.h"
#include "store/store.h"

namespace cloudaudit::rules {

namespace {

int Line(const YAML::Node& n) { return n.Mark().line + 1; }

using collect::YamlToJson;


// Reads a scalar or a list of scalars as strings.
std::vector<std::string> StringList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) {
    out.push_back(n.Scalar());
  } else if (n.IsSequence()) {
    for (const auto& item : n)
      if (item.IsScalar()) out.push_back(item.Scalar());
  }
  return out;
}

std::string Scalar(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : ""; }

const std::set<std::string>& KnownRuleKeys() {
  static const std::set<std::string> k = {"id",     "title",      "description", "service",      "resource",
                                          "severity", "pillars",  "tags",        "legacy",       "aliases",
                                          "compliance", "params", "depends",     "query",        "remediation",
                                          "references", "tests"};
  return k;
}

const std::set<std::string>& KnownPillars() {
  static const std::set<std::string> k = {"security",    "reliability", "cost", "operational-excellence",
                                          "performance", "sustainability"};
  return k;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kInformational: return "informational";
    case Severity::kLow: return "low";
    case Severity::kMedium: return "medium";
    case Severity::kHigh: return "high";
    case Severity::kCritical: return "critical";
  }
  return "medium";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  for (Severity s : {Severity::kInformational, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical})
    if (SeverityName(s) == name) return s;
  if (name == "info") return Severity::kInformational;
  return std::nullopt;
}

Json Rule::Document() const {
  Json d = Json::object();
  d["id"] = id;
  d["title"] = title;
  d["description"] = description;
  d["service"] = service;
  d["resource"] = resource_table;
  d["severity"] = SeverityName(severity);
  d["pillars"] = pillars;
  d["tags"] = tags;
  d["legacy"] = legacy;
  d["aliases"] = aliases;
  Json comp = Json::object();
  for (const auto& [fw, ids] : compliance) comp[fw] = ids;
  d["compliance"] = comp;
  Json params_doc = Json::object();
  for (const auto& p : params) params_doc[p.name] = {{"default", p.default_value}, {"description", p.description}};
  d["params"] = params_doc;
  d["remediation"] = {{"console", remediation.console},
                      {"cli", remediation.cli},
                      {"terraform", remediation.terraform},
                      {"cloudformation", remediation.cloudformation},
                      {"prevent", remediation.prevent}};
  d["references"] = references;
  d["builtin"] = builtin;
  return d;
}

const Control* Framework::Find(const std::string& control_id) const {
  for (const auto& c : controls)
    if (c.id == control_id) return &c;
  return nullptr;
}

const Rule* RuleSet::Find(const std::string& rule_id) const {
  for (const auto& r : rules)
    if (r.id == rule_id) return &r;
  return nullptr;
}

const Framework* RuleSet::FindFramework(const std::string& framework_id) const {
  for (const auto& f : frameworks)
    if (f.id == framework_id) return &f;
  return nullptr;
}

Result<Rule> ParseRuleYaml(const std::string& text, const std::string& file) {
  Rule r;
  r.file = file;
  std::vector<Error> problems;
  auto problem = [&](int line, std::string msg) { problems.push_back(DataFileError(file, line, std::move(msg))); };
  try {
    YAML::Node root = YAML::Load(text);
    size_t budget = collect::kYamlMaxValues;  // for the whole file
    if (!root.IsMap()) return Fail(DataFileError(file, 1, "a rule file is a YAML map (see docs/rules.md)"));
    for (const auto& kv : root) {
      std::string key = kv.first.as<std::string>();
      if (!KnownRuleKeys().count(key)) problem(Line(kv.first), fmt::format("unknown key `{}`", key));
    }
    auto required = [&](const char* key) -> std::string {
      std::string v = Scalar(root[key]);
      if (v.empty()) problem(root[key] ? Line(root[key]) : 1, fmt::format("`{}` is required", key));
      return v;
    };
    r.id = required("id");
    if (root["id"]) r.line = Line(root["id"]);
    static const std::regex kId("^[a-z0-9_]+(\\.[a-z0-9_]+){2,}$");
    if (!r.id.empty() && !std::regex_match(r.id, kId))
      problem(r.line, fmt::format("id `{}` must be dotted lower-case words, e.g. aws.iam.root_account_mfa_disabled", r.id));
    r.title = required("title");
    r.description = required("description");
    r.service = required("service");
    r.resource_table = required("resource");
    r.resource_line = root["resource"] ? Line(root["resource"]) : r.line;
    std::string sev = required("severity");
    if (!sev.empty()) {
      if (auto s = ParseSeverity(sev)) r.severity = *s;
      else problem(Line(root["severity"]), fmt::format("severity `{}` must be informational, low, medium, high or critical", sev));
    }
    r.pillars = StringList(root["pillars"]);
    if (r.pillars.empty()) problem(root["pillars"] ? Line(root["pillars"]) : r.line, "`pillars` needs at least one pillar");
    for (const auto& p : r.pillars)
      if (!KnownPillars().count(p))
        problem(Line(root["pillars"]), fmt::format("unknown pillar `{}` (security, reliability, cost, operational-excellence, performance, sustainability)", p));
    r.tags = StringList(root["tags"]);
    r.aliases = StringList(root["aliases"]);
    r.references = StringList(root["references"]);
    r.depends = StringList(root["depends"]);
    if (root["legacy"]) {
      std::string l = Scalar(root["legacy"]);
      if (l != "true" && l != "false") problem(Line(root["legacy"]), "`legacy` is true or false");
      r.legacy = l == "true";
    }
    if (const auto& comp = root["compliance"]) {
      if (!comp.IsMap()) {
        problem(Line(comp), "`compliance` maps a framework id to a list of control ids");
      } else {
        for (const auto& kv : comp) r.compliance[kv.first.as<std::string>()] = StringList(kv.second);
      }
    }
    if (const auto& params = root["params"]) {
      if (!params.IsMap()) {
        problem(Line(params), "`params` maps a parameter name to {default, description}");
      } else {
        for (const auto& kv : params) {
          Param p;
          p.name = kv.first.as<std::string>();
          static const std::regex kName("^[a-z][a-z0-9_]*$");
          if (!std::regex_match(p.name, kName)) problem(Line(kv.first), fmt::format("parameter name `{}` must be snake_case", p.name));
          if (!kv.second.IsMap() || !kv.second["default"]) {
            problem(Line(kv.second), fmt::format("parameter `{}` needs a `default`", p.name));
          } else {
            p.default_value = YamlToJson(kv.second["default"], &budget);
            p.description = Scalar(kv.second["description"]);
            if (p.description.empty()) problem(Line(kv.second), fmt::format("parameter `{}` needs a `description`", p.name));
          }
          r.params.push_back(std::move(p));
        }
      }
    }
    r.query = required("query");
    if (root["query"]) r.query_line = Line(root["query"]);
    if (const auto& rem = root["remediation"]; rem && rem.IsMap()) {
      r.remediation.console = Scalar(rem["console"]);
      r.remediation.cli = Scalar(rem["cli"]);
      r.remediation.terraform = Scalar(rem["terraform"]);
      r.remediation.cloudformation = Scalar(rem["cloudformation"]);
      r.remediation.prevent = Scalar(rem["prevent"]);
      for (const auto& kv : rem) {
        static const std::set<std::string> kKeys = {"console", "cli", "terraform", "cloudformation", "prevent"};
        if (!kKeys.count(kv.first.as<std::string>())) problem(Line(kv.first), fmt::format("unknown remediation key `{}`", kv.first.as<std::string>()));
      }
      if (r.remediation.console.empty()) problem(Line(rem), "remediation needs `console` steps");
      if (r.remediation.cli.empty() && r.remediation.terraform.empty() && r.remediation.cloudformation.empty())
        problem(Line(rem), "remediation needs at least one of `cli`, `terraform`, `cloudformation`");
    } else {
      problem(root["remediation"] ? Line(root["remediation"]) : r.line, "`remediation` is required (console, cli, terraform/cloudformation, prevent)");
    }
    if (const auto& tests = root["tests"]; tests && tests.IsSequence()) {
      for (const auto& t : tests) {
        RuleTest test;
        test.line = Line(t);
        if (!t.IsMap()) {
          problem(test.line, "a test is a map with name, resources, expect");
          continue;
        }
        test.name = Scalar(t["name"]);
        if (test.name.empty()) problem(test.line, "a test needs a `name`");
        test.now = Scalar(t["now"]);
        if (t["params"]) test.params = YamlToJson(t["params"], &budget);
        if (t["resources"]) test.resources = YamlToJson(t["resources"], &budget);
        if (t["gaps"]) test.gaps = YamlToJson(t["gaps"], &budget);
        if (t["regions"]) test.regions = YamlToJson(t["regions"], &budget);
        if (!test.regions.is_array()) problem(test.line, "test `regions` is a list of region names");
        if (!test.resources.is_object()) problem(test.line, "test `resources` maps a table to a list of rows");
        if (!test.gaps.is_array()) problem(test.line, "test `gaps` is a list");
        if (!test.params.is_object()) problem(test.line, "test `params` is a map");
        if (!t["expect"] || !t["expect"].IsMap() || t["expect"].size() == 0) {
          problem(test.line, "a test needs `expect`: resource -> status");
        } else {
          for (const auto& kv : t["expect"]) test.expect.emplace_back(kv.first.as<std::string>(), Scalar(kv.second));
        }
        r.tests.push_back(std::move(test));
      }
    } else if (root["tests"]) {
      problem(Line(root["tests"]), "`tests` is a list of fixtures");
    }
  } catch (const YAML::Exception& e) {
    return Fail(DataFileError(file, e.mark.line + 1, std::string("YAML: ") + e.msg));
  }
  if (!problems.empty()) {
    Error first = problems.front();
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p.ToString();
    first.message = all;
    first.file.clear();  // the combined message carries the locations
    first.line = 0;
    return Fail(std::move(first));
  }
  return r;
}

Result<Framework> ParseFrameworkYaml(const std::string& text, const std::string& file) {
  Framework f;
  f.file = file;
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || !root["id"] || !root["controls"] || !root["controls"].IsSequence())
      return Fail(DataFileError(file, 1, "a framework file needs `id`, `title` and a `controls` list"));
    f.id = Scalar(root["id"]);
    f.title = Scalar(root["title"]);
    f.version = Scalar(root["version"]);
    f.url = Scalar(root["url"]);
    std::set<std::string> seen;
    for (const auto& c : root["controls"]) {
      Control control;
      control.id = Scalar(c["id"]);
      control.title = Scalar(c["title"]);
      control.section = Scalar(c["section"]);
      control.manual = Scalar(c["manual"]) == "true";
      if (control.id.empty() || control.title.empty())
        return Fail(DataFileError(file, Line(c), "a control needs `id` and `title`"));
      if (!seen.insert(control.id).second) return Fail(DataFileError(file, Line(c), fmt::format("control `{}` is listed twice", control.id)));
      f.controls.push_back(std::move(control));
    }
  } catch (const YAML::Exception& e) {
    return Fail(DataFileError(file, e.mark.line + 1, std::string("YAML: ") + e.msg));
  }
  return f;
}

std::vector<std::string> TablesReferenced(const std::string& sql, const collect::SpecSet& specs) {
  std::set<std::string> out;
  static const std::regex kWord("aws_[A-Za-z0-9_]+");
  for (auto it = std::sregex_iterator(sql.begin(), sql.end(), kWord); it != std::sregex_iterator(); ++it) {
    std::string w = it->str();
    if (specs.Find(w) != nullptr) out.insert(w);
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> TemplatePlaceholders(const std::string& tpl) {
  std::vector<std::string> out;
  static const std::regex kPlaceholder("\\{([a-z_][a-z0-9_]*)\\}");
  for (auto it = std::sregex_iterator(tpl.begin(), tpl.end(), kPlaceholder); it != std::sregex_iterator(); ++it)
    out.push_back((*it)[1].str());
  return out;
}

std::string FillTemplate(const std::string& tpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < tpl.size()) {
    if (tpl[i] == '{') {
      size_t close = tpl.find('}', i);
      if (close != std::string::npos) {
        auto it = values.find(tpl.substr(i + 1, close - i - 1));
        if (it != values.end()) {
          const std::string& v = it->second;
          bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_./:@=,+-", c) != nullptr;
          });
          if (plain) {
            out += v;
          } else {
            out += '\'';
            for (char c : v) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
            out += '\'';
          }
          i = close + 1;
          continue;
        }
      }
    }
    out += tpl[i++];
  }
  return out;
}

namespace {

struct SourceFile {
  std::string name;  // for messages
  std::string text;
  bool builtin = false;
};

// Checks one rule against the schema: the SQL compiles, returns the
// contract's columns, uses only declared parameters, and the CLI template
// names only returned columns.
void ValidateRuleSql(sqlite3* db, const Rule& r, const collect::SpecSet& specs, std::vector<Error>& problems) {
  auto problem = [&](int line, std::string msg) { problems.push_back(DataFileError(r.file, line, std::move(msg))); };
  if (specs.Find(r.resource_table) == nullptr)
    problem(r.resource_line, fmt::format("resource table `{}` does not exist (see `cloudaudit tables`)", r.resource_table));
  for (const auto& d : r.depends)
    if (specs.Find(d) == nullptr) problem(r.line, fmt::format("depends on unknown table `{}`", d));
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, r.query.c_str(), static_cast<int>(r.query.size()), &stmt, &tail) != SQLITE_OK) {
    problem(r.query_line, fmt::format("query does not compile: {}", sqlite3_errmsg(db)));
    return;
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
  if (stmt == nullptr) {
    problem(r.query_line, "query is empty");
    return;
  }
  if (tail != nullptr && std::string_view(tail).find_first_not_of(" \t\r\n;") != std::string_view::npos)
    problem(r.query_line, "query must be a single statement");
  if (!sqlite3_stmt_readonly(stmt)) problem(r.query_line, "query must be read-only (SELECT or WITH)");
  std::set<std::string> columns;
  for (int i = 0; i < sqlite3_column_count(stmt); ++i) columns.insert(sqlite3_column_name(stmt, i));
  for (const char* needed : {"resource", "status", "reason", "region", "account_id"})
    if (!columns.count(needed)) problem(r.query_line, fmt::format("query must return a `{}` column", needed));
  std::set<std::string> declared;
  for (const auto& p : r.params) declared.insert(p.name);
  std::set<std::string> used;
  for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); ++i) {
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    if (name == nullptr || (name[0] != ':' && name[0] != '@' && name[0] != '$')) {
      problem(r.query_line, "use named parameters (:name), not `?`");
      continue;
    }
    std::string n = name + 1;
    used.insert(n);
    if (!declared.count(n)) problem(r.query_line, fmt::format("query uses parameter :{} that `params` does not declare", n));
  }
  for (const auto& p : r.params)
    if (!used.count(p.name)) problem(r.query_line, fmt::format("parameter `{}` is declared but the query does not use it", p.name));
  for (const auto& ph : TemplatePlaceholders(r.remediation.cli))
    if (!columns.count(ph)) problem(r.line, fmt::format("remediation.cli uses {{{}}} but the query returns no `{}` column", ph, ph));
}

void ValidateRule(const Rule& r, const std::map<std::string, const Framework*>& frameworks, std::vector<Error>& problems) {
  auto problem = [&](int line, std::string msg) { problems.push_back(DataFileError(r.file, line, std::move(msg))); };
  for (const auto& [fw, ids] : r.compliance) {
    auto it = frameworks.find(fw);
    if (it == frameworks.end()) {
      problem(r.line, fmt::format("compliance refers to unknown framework `{}`", fw));
      continue;
    }
    for (const auto& id : ids)
      if (it->second->Find(id) == nullptr) problem(r.line, fmt::format("framework `{}` has no control `{}`", fw, id));
  }
  bool has_alarm = false, has_ok = false;
  for (const auto& t : r.tests)
    for (const auto& [res, status] : t.expect) {
      has_alarm |= status == "alarm";
      has_ok |= status == "ok";
      if (status != "ok" && status != "alarm" && status != "skip" && status != "error")
        problem(t.line, fmt::format("test `{}` expects status `{}` (ok, alarm, skip, error)", t.name, status));
    }
  if (!has_alarm || !has_ok) problem(r.line, "a rule needs fixtures with at least one `alarm` and one `ok` expectation");
  if (r.references.empty()) problem(r.line, "a rule needs at least one reference (AWS documentation)");
}

void CollectFiles(const std::filesystem::path& dir, std::vector<std::filesystem::path>& out) {
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file() && (it->path().extension() == ".yaml" || it->path().extension() == ".yml")) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
}

bool LooksLikeFramework(const std::string& text) {
  // Framework files have a top-level `controls:` key and no `query:`.
  return text.find("\ncontrols:") != std::string::npos || text.rfind("controls:", 0) == 0;
}

}  // namespace

Result<RuleSet> LoadRules(const LoadOptions& options, const collect::SpecSet& specs) {
  std::vector<SourceFile> sources;
  if (options.builtin)
    for (const auto& e : EmbeddedRules()) sources.push_back({std::string("<builtin>/") + e.name, e.text, true});
  for (const auto& dir : options.rule_dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return MakeError(ErrorCode::kNotFound, fmt::format("rules directory {} does not exist", dir));
    std::vector<std::filesystem::path> files;
    CollectFiles(dir, files);
    for (const auto& f : files) sources.push_back({f.string(), ReadFile(f), false});
  }

  RuleSet set;
  std::vector<Error> problems;
  for (const auto& src : sources) {
    if (LooksLikeFramework(src.text)) {
      auto fw = ParseFrameworkYaml(src.text, src.name);
      if (!fw) {
        problems.push_back(fw.error());
        continue;
      }
      if (const Framework* prev = set.FindFramework(fw->id)) {
        problems.push_back(DataFileError(src.name, 1, fmt::format("framework `{}` is already defined in {}", fw->id, prev->file)));
        continue;
      }
      set.frameworks.push_back(std::move(*fw));
      continue;
    }
    auto rule = ParseRuleYaml(src.text, src.name);
    if (!rule) {
      problems.push_back(rule.error());
      continue;
    }
    rule->builtin = src.builtin;
    if (const Rule* prev = set.Find(rule->id)) {
      problems.push_back(DataFileError(src.name, rule->line, fmt::format("rule `{}` is already defined in {}:{}", rule->id, prev->file, prev->line)));
      continue;
    }
    set.rules.push_back(std::move(*rule));
  }

  std::map<std::string, const Framework*> frameworks;
  for (const auto& f : set.frameworks) frameworks[f.id] = &f;

  // One in-memory store with every view and function compiles all queries.
  CA_TRY(auto scratch, store::Store::Open(":memory:"));
  CA_TRY_STATUS(scratch->CreateScanViews(0, collect::ViewsForSpecs(specs)));
  EvalContext clock;
  CA_TRY_STATUS(RegisterSqlFunctions(scratch->handle(), &clock));
  for (const auto& r : set.rules) {
    ValidateRule(r, frameworks, problems);
    ValidateRuleSql(scratch->handle(), r, specs, problems);
  }

  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Error& a, const Error& b) { return std::tie(a.file, a.line) < std::tie(b.file, b.line); });
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p.ToString();
    return MakeError(ErrorCode::kParse, fmt::format("{} problem{} in the rules:\n{}", problems.size(), problems.size() == 1 ? "" : "s", all));
  }
  std::sort(set.rules.begin(), set.rules.end(), [](const Rule& a, const Rule& b) { return a.id < b.id; });
  return set;
}

}  // namespace cloudaudit::rules
