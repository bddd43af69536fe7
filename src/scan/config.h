// The scan configuration file (YAML): everything a team keeps between runs —
// AWS settings, regions and services, rule selection and parameters,
// suppressions, frameworks, outputs and the CI gate. Command-line flags
// override it. Format and search order: docs/configuration.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "rules/engine.h"

namespace cloudaudit::scan {

struct ScanConfig {
  std::string file;  // where it was read; empty when there was no file

  // aws:
  std::optional<std::string> profile, region, endpoint_url, ca_bundle;
  // collect:
  std::vector<std::string> regions, services, exclude_services;
  std::optional<int> concurrency;
  // store file (db:), evaluation threads (threads:)
  std::optional<std::string> db;
  std::optional<int> threads;
  // rules:
  std::vector<std::string> rule_dirs;
  std::optional<bool> builtin;
  std::vector<std::string> rule_ids, rule_services, rule_tags;
  std::optional<std::string> min_severity;
  std::optional<bool> include_legacy;
  rules::ParamOverrides params;
  // frameworks: posture shown in the summary and reports (also selects no rules)
  std::vector<std::string> frameworks;
  // suppressions: inline list; suppressions_file: more from a file
  std::vector<rules::Suppression> suppressions;
  std::optional<std::string> suppressions_file;
  // output:
  std::vector<std::string> formats;
  std::optional<std::string> out_dir;
  std::optional<std::string> fail_on;  // severity
  std::optional<bool> include_passed;
};

// Parses a configuration file's text. Every problem (unknown key, wrong type,
// bad value) is reported as "file:line: message", all of them, sorted.
// Relative paths in it (db, rules.dirs, suppressions_file, output.dir) are
// resolved against the file's directory.
Result<ScanConfig> ParseScanConfig(const std::string& text, const std::string& file);
Result<ScanConfig> LoadScanConfig(const std::string& path);

// The first existing file of: ./cloudaudit.yaml, ./.cloudaudit.yaml,
// $XDG_CONFIG_HOME/cloudaudit/config.yaml (default ~/.config/...).
std::optional<std::string> FindScanConfig();

}  // namespace cloudaudit::scan
