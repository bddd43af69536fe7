#include "scan/config.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "collect/yaml_json.h"
#include "report/formats.h"

namespace cloudaudit::scan {

namespace {

namespace fs = std::filesystem;

class Parser {
 public:
  Parser(std::string file, std::string base_dir) : file_(std::move(file)), base_dir_(std::move(base_dir)) {}

  size_t yaml_budget = collect::kYamlMaxValues;  // values YamlToJson may still produce for this file

  void Problem(const YAML::Node& at, const std::string& message) {
    problems_.emplace_back(at.Mark().line + 1, fmt::format("{}:{}: {}", file_, at.Mark().line + 1, message));
  }

  // Rejects keys outside `allowed`, naming the allowed ones.
  bool CheckKeys(const YAML::Node& map, const std::string& where, const std::set<std::string>& allowed) {
    if (!map.IsMap()) {
      Problem(map, fmt::format("`{}` must be a map", where));
      return false;
    }
    for (const auto& kv : map) {
      std::string key = kv.first.Scalar();
      if (!allowed.count(key)) {
        std::string names;
        for (const auto& a : allowed) names += (names.empty() ? "" : ", ") + a;
        Problem(kv.first, fmt::format("unknown key `{}`{} (expected one of: {})", key, where.empty() ? "" : " in `" + where + "`", names));
      }
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& map, const char* key) {
    YAML::Node n = map[key];
    if (!n) return std::nullopt;
    if (!n.IsScalar() || n.Scalar().empty()) {
      Problem(n, fmt::format("`{}` must be a non-empty string", key));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> Path(const YAML::Node& map, const char* key) {
    auto s = String(map, key);
    if (!s) return s;
    fs::path p(*s);
    if (p.is_relative() && !base_dir_.empty()) p = fs::path(base_dir_) / p;
    return p.lexically_normal().string();
  }

  std::optional<bool> Bool(const YAML::Node& map, const char* key) {
    YAML::Node n = map[key];
    if (!n) return std::nullopt;
    if (n.IsScalar()) {
      std::string v = n.Scalar();
      if (v == "true") return true;
      if (v == "false") return false;
    }
    Problem(n, fmt::format("`{}` must be true or false", key));
    return std::nullopt;
  }

  std::optional<int> Int(const YAML::Node& map, const char* key, int lo, int hi) {
    YAML::Node n = map[key];
    if (!n) return std::nullopt;
    try {
      if (n.IsScalar()) {
        int v = n.as<int>();
        if (v >= lo && v <= hi) return v;
      }
    } catch (const YAML::Exception&) {
    }
    Problem(n, fmt::format("`{}` must be a whole number from {} to {}", key, lo, hi));
    return std::nullopt;
  }

  // A list of strings; a single string is taken as a one-item list.
  std::vector<std::string> Strings(const YAML::Node& map, const char* key, bool paths = false) {
    std::vector<std::string> out;
    YAML::Node n = map[key];
    if (!n) return out;
    auto add = [&](const YAML::Node& item) {
      if (!item.IsScalar() || item.Scalar().empty()) {
        Problem(item, fmt::format("`{}` must list non-empty strings", key));
        return;
      }
      std::string v = item.Scalar();
      if (paths && fs::path(v).is_relative() && !base_dir_.empty()) v = (fs::path(base_dir_) / v).lexically_normal().string();
      out.push_back(v);
    };
    if (n.IsSequence()) {
      for (const auto& item : n) add(item);
    } else if (n.IsScalar()) {
      add(n);
    } else {
      Problem(n, fmt::format("`{}` must be a list of strings", key));
    }
    return out;
  }

  std::optional<std::string> Severity(const YAML::Node& map, const char* key) {
    auto s = String(map, key);
    if (s && !rules::ParseSeverity(*s)) {
      Problem(map[key], fmt::format("`{}` must be one of informational, low, medium, high, critical (not `{}`)", key, *s));
      return std::nullopt;
    }
    return s;
  }

  Result<ScanConfig> Finish(ScanConfig config) {
    if (problems_.empty()) return config;
    std::stable_sort(problems_.begin(), problems_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string all;
    for (const auto& p : problems_) all += (all.empty() ? "" : "\n") + p.second;
    return MakeError(ErrorCode::kParse, all);
  }

  const std::string& file() const { return file_; }

 private:
  std::string file_, base_dir_;
  std::vector<std::pair<int, std::string>> problems_;
};

}  // namespace

Result<ScanConfig> ParseScanConfig(const std::string& text, const std::string& file) {
  ScanConfig config;
  config.file = file;
  std::string base_dir = fs::path(file).parent_path().string();
  Parser p(file, base_dir);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kParse, fmt::format("{}:{}: YAML: {}", file, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return config;  // an empty file configures nothing
  if (!p.CheckKeys(root, "", {"aws", "collect", "db", "threads", "rules", "frameworks", "suppressions", "suppressions_file", "output"}))
    return p.Finish(std::move(config));
  try {
    if (YAML::Node aws = root["aws"]; aws && p.CheckKeys(aws, "aws", {"profile", "region", "endpoint_url", "ca_bundle"})) {
      config.profile = p.String(aws, "profile");
      config.region = p.String(aws, "region");
      config.endpoint_url = p.String(aws, "endpoint_url");
      config.ca_bundle = p.Path(aws, "ca_bundle");
    }
    if (YAML::Node c = root["collect"]; c && p.CheckKeys(c, "collect", {"regions", "services", "exclude_services", "concurrency"})) {
      config.regions = p.Strings(c, "regions");
      config.services = p.Strings(c, "services");
      config.exclude_services = p.Strings(c, "exclude_services");
      config.concurrency = p.Int(c, "concurrency", 1, 256);
    }
    config.db = p.Path(root, "db");
    config.threads = p.Int(root, "threads", 1, 256);
    if (YAML::Node r = root["rules"];
        r && p.CheckKeys(r, "rules", {"dirs", "builtin", "select", "services", "tags", "severity", "legacy", "params"})) {
      config.rule_dirs = p.Strings(r, "dirs", /*paths=*/true);
      config.builtin = p.Bool(r, "builtin");
      config.rule_ids = p.Strings(r, "select");
      config.rule_services = p.Strings(r, "services");
      config.rule_tags = p.Strings(r, "tags");
      config.min_severity = p.Severity(r, "severity");
      config.include_legacy = p.Bool(r, "legacy");
      if (YAML::Node params = r["params"]) {
        if (!params.IsMap()) {
          p.Problem(params, "`params` must map parameter names (or rule.id.name) to values");
        } else {
          for (const auto& kv : params) {
            config.params[kv.first.Scalar()] = collect::YamlToJson(kv.second, &p.yaml_budget);
          }
        }
      }
    }
    config.frameworks = p.Strings(root, "frameworks");
    if (root["suppressions"]) {
      // The same shape as a suppressions file, so entries move between them.
      auto parsed = rules::ParseSuppressionsYaml(text, file);
      if (!parsed) {
        std::istringstream lines(parsed.error().message);
        for (std::string line; std::getline(lines, line);) p.Problem(root["suppressions"], line.substr(line.find(": ") + 2));
      } else {
        config.suppressions = std::move(*parsed);
      }
    }
    config.suppressions_file = p.Path(root, "suppressions_file");
    if (YAML::Node o = root["output"]; o && p.CheckKeys(o, "output", {"formats", "dir", "fail_on", "include_passed"})) {
      config.formats = p.Strings(o, "formats");
      for (const auto& f : config.formats)
        if (!report::ParseFormat(f)) p.Problem(o["formats"], fmt::format("unknown format `{}` (table, json, csv, ocsf, asff, sarif, junit, markdown, html)", f));
      config.out_dir = p.Path(o, "dir");
      config.fail_on = p.Severity(o, "fail_on");
      config.include_passed = p.Bool(o, "include_passed");
    }
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kParse, fmt::format("{}:{}: {}", file, e.mark.line + 1, e.msg));
  }
  return p.Finish(std::move(config));
}

Result<ScanConfig> LoadScanConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, fmt::format("cannot read configuration file {}", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScanConfig(ss.str(), path);
}

std::optional<std::string> FindScanConfig() {
  std::vector<fs::path> candidates = {"cloudaudit.yaml", ".cloudaudit.yaml"};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0')
    candidates.push_back(fs::path(xdg) / "cloudaudit" / "config.yaml");
  else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0')
    candidates.push_back(fs::path(home) / ".config" / "cloudaudit" / "config.yaml");
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c.string();
  }
  return std::nullopt;
}

}  // namespace cloudaudit::scan
