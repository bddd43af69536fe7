// Rules as data: the model of a rule file (docs/rules.md), the compliance
// framework files, and the loader that validates them all — schema, SQL that
// compiles against the inventory's views, parameters, template placeholders,
// framework references — reporting every problem with file:line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "collect/spec.h"

namespace cloudaudit::rules {

enum class Severity { kInformational, kLow, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);
std::optional<Severity> ParseSeverity(std::string_view name);

struct Param {
  std::string name;
  Json default_value;
  std::string description;
};

struct Remediation {
  std::string console, cli, terraform, cloudformation, prevent;
};

// A fixture: inventory rows (table -> rows) and gaps, and the status each
// resource must get.
struct RuleTest {
  std::string name;
  int line = 0;
  std::string now;            // evaluation time, ISO-8601
  Json params = Json::object();
  Json resources = Json::object();
  Json gaps = Json::array();
  Json regions = Json::array({"us-east-1"});  // scan_regions()
  std::vector<std::pair<std::string, std::string>> expect;  // resource, status
};

struct Rule {
  std::string id, title, description, service, resource_table;
  Severity severity = Severity::kMedium;
  std::vector<std::string> pillars, tags, aliases, references, depends;
  bool legacy = false;
  std::map<std::string, std::vector<std::string>> compliance;  // framework -> control ids
  std::vector<Param> params;
  std::string query;
  Remediation remediation;
  std::vector<RuleTest> tests;
  std::string file;  // where it was declared
  int line = 1;
  int query_line = 0;
  int resource_line = 0;
  bool builtin = false;

  // The metadata as JSON (no query, no tests): stored with each scan's
  // findings so reports need nothing but the store.
  Json Document() const;
};

struct Control {
  std::string id, title, section;
  bool manual = false;
};

struct Framework {
  std::string id, title, version, url;
  std::vector<Control> controls;
  std::string file;
  const Control* Find(const std::string& id) const;
};

struct RuleSet {
  std::vector<Rule> rules;
  std::vector<Framework> frameworks;
  const Rule* Find(const std::string& id) const;
  const Framework* FindFramework(const std::string& id) const;
};

struct LoadOptions {
  bool builtin = true;                 // the rules and frameworks compiled into the binary
  std::vector<std::string> rule_dirs;  // user directories (rules and frameworks/*.yaml)
};

// Loads and validates everything; on any problem returns an error whose
// message lists every problem, one "file:line: message" per line.
Result<RuleSet> LoadRules(const LoadOptions& options, const collect::SpecSet& specs);

// Parses one rule file (exposed for tests and fuzzing); structural checks only.
Result<Rule> ParseRuleYaml(const std::string& text, const std::string& file);
Result<Framework> ParseFrameworkYaml(const std::string& text, const std::string& file);

// The tables a query reads: words of the form aws_... that name a spec table.
std::vector<std::string> TablesReferenced(const std::string& sql, const collect::SpecSet& specs);

// Fills "{column}" placeholders from a row; values are shell-quoted when
// they hold anything but [A-Za-z0-9_./:@=,+-]. Unknown placeholders stay.
std::string FillTemplate(const std::string& tpl, const std::map<std::string, std::string>& values);
std::vector<std::string> TemplatePlaceholders(const std::string& tpl);

}  // namespace cloudaudit::rules
