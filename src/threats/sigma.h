// The native Sigma engine of threat detection: loads Sigma rules (YAML) for
// `logsource: {product: aws, service: cloudtrail}`, compiles their detections
// once, and matches CloudTrail records (one simdjson DOM object per record)
// against all of them. docs/threats.md lists the supported Sigma features,
// the field mapping and what is rejected and why.
//
// Contract for callers (threat sources, the rule-pack tests):
// - SigmaRuleSet::Load is all-or-nothing: on any problem it returns one error
//   whose message lists EVERY problem, one "file:line: message" per line,
//   sorted by file and line. Rules for other log sources are not errors: they
//   are skipped and listed in skipped() with the reason.
// - Match is const and touches no shared mutable state: one SigmaRuleSet may
//   be used from many threads at once (each with its own simdjson parser and
//   output vector).
// - Rule indexes are positions in rules(), which is sorted by rule id.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

// simdjson.h is large; callers that match records include it themselves.
namespace simdjson::dom {
class element;
}

namespace cloudaudit::threats {

namespace internal {
struct Detection;  // the compiled detection (sigma_compile.h)
}

struct SigmaRule {
  std::string id, title, description, status, level, author, date, modified;
  std::vector<std::string> tags, falsepositives, references;
  std::string product, service, category;  // logsource, as written
  std::string file;  // where it was read ("<builtin>/sigma/aws/cloudtrail/x.yml" for the built-in pack)
  int line = 1;      // line of `title` (else 1)
  bool builtin = false;
  // Non-empty when the rule is for another log source (not aws/cloudtrail):
  // its detection is neither validated nor compiled and Load skips it.
  std::string skip_reason;
  // The compiled detection; null for skipped rules. Shared and immutable.
  std::shared_ptr<const internal::Detection> detection;
};

struct SigmaLoadOptions {
  bool builtin = true;             // the pack under rules/sigma/ compiled into the binary
  std::vector<std::string> paths;  // rule files, or directories searched recursively for *.yml/*.yaml
                                   // (directories named `tests` are skipped: the pack's test records)
  // Values of `%name%` placeholders for the `expand` modifier (name without
  // the percent signs). A rule that expands an undefined placeholder fails to
  // load.
  std::map<std::string, std::vector<std::string>> placeholders;
};

class SigmaRuleSet {
 public:
  SigmaRuleSet();
  ~SigmaRuleSet();
  SigmaRuleSet(SigmaRuleSet&&) noexcept;
  SigmaRuleSet& operator=(SigmaRuleSet&&) noexcept;

  // Loads the built-in pack and/or the given paths. Duplicate rule ids are
  // errors. See the contract above.
  static Result<SigmaRuleSet> Load(const SigmaLoadOptions& options);

  // Builds a set from already parsed rules (skipped ones are moved to
  // skipped()); duplicate ids are errors.
  static Result<SigmaRuleSet> FromRules(std::vector<SigmaRule> rules);

  // Parses and compiles one rule file holding exactly one YAML document (a
  // multi-document file is an error). Uses options.placeholders only. On
  // error, the Error has file and line and a message saying why; a rule for
  // another log source is not an error (see SigmaRule::skip_reason).
  static Result<SigmaRule> Parse(const std::string& yaml_text, const std::string& file,
                                 const SigmaLoadOptions& options = {});

  const std::vector<SigmaRule>& rules() const { return rules_; }
  const std::vector<SigmaRule>& skipped() const { return skipped_; }
  const SigmaRule* Find(std::string_view id) const;

  // Clears *out, then appends the indexes (into rules()) of the rules that
  // match `record`, ascending. `record` is one CloudTrail record (a JSON
  // object; anything else matches only rules whose condition is true for an
  // empty record, e.g. `not selection`).
  void Match(simdjson::dom::element record, std::vector<size_t>* out) const;

  // Convenience for tests and tools: parses `record_json` (one JSON object)
  // and returns the ids of the matching rules, in rules() order.
  Result<std::vector<std::string>> MatchJson(std::string_view record_json) const;

 private:
  struct Index;
  static Result<SigmaRuleSet> Build(std::vector<SigmaRule> rules, std::vector<Error> problems);
  std::vector<SigmaRule> rules_;
  std::vector<SigmaRule> skipped_;
  std::unique_ptr<Index> index_;  // eventName/eventSource pre-filter
};

}  // namespace cloudaudit::threats
