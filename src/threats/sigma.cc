// Sigma rule files → SigmaRule (metadata + compiled detection), rule sets
// (built-in pack + user paths, all-or-nothing), and matching with the
// eventName/eventSource pre-filter.
#include "threats/sigma.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "threats/embedded_sigma.h"
#include "threats/sigma_compile.h"
#include "threats/sigma_yaml.h"

namespace cloudaudit::threats {

using internal::CompileContext;
using internal::Detection;
using internal::YamlNode;

namespace {

// Problems about a key point at the key's own line (a value's line is
// where its content starts).
int KeyLine(const YamlNode& map, const char* key) { return map.KeyLine(key); }

std::string Lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return s;
}

void GetString(const YamlNode& root, const char* key, std::string* out, CompileContext& ctx) {
  const YamlNode* n = root.Get(key);
  if (n == nullptr || n->IsNull()) return;
  if (!n->IsScalar()) {
    ctx.Problem(KeyLine(root, key), fmt::format("`{}` must be a string", key));
    return;
  }
  *out = n->scalar;
}

void GetList(const YamlNode& root, const char* key, std::vector<std::string>* out, CompileContext& ctx) {
  const YamlNode* n = root.Get(key);
  if (n == nullptr || n->IsNull()) return;
  if (n->IsScalar()) {
    out->push_back(n->scalar);
    return;
  }
  if (!n->IsSequence()) {
    ctx.Problem(KeyLine(root, key), fmt::format("`{}` must be a list of strings", key));
    return;
  }
  for (const auto& e : n->items) {
    if (!e->IsScalar()) {
      ctx.Problem(e->line, fmt::format("`{}` must be a list of strings", key));
      return;
    }
    out->push_back(e->scalar);
  }
}

// Parses one file; problems go to ctx. Returns false when the file yields
// no rule.
bool ParseInto(const std::string& text, const std::string& file, CompileContext& ctx, SigmaRule* rule) {
  const size_t before = ctx.problems.size();
  {
    std::vector<std::shared_ptr<const YamlNode>> all;
    internal::YamlError yaml_error;
    if (!internal::ParseYaml(text, &all, &yaml_error)) {
      ctx.Problem(yaml_error.line, yaml_error.message);
      return false;
    }
    std::vector<std::shared_ptr<const YamlNode>> docs;
    for (auto& d : all) {
      if (!d->IsNull()) docs.push_back(d);
    }
    if (docs.empty()) {
      ctx.Problem(1, "the file holds no Sigma rule (empty YAML)");
      return false;
    }
    if (docs.size() > 1) {
      ctx.Problem(docs[1]->line, fmt::format("the file holds {} YAML documents; one rule per file (rule collections "
                                             "and `action: global` are not supported: split them into one file each)",
                                             docs.size()));
      return false;
    }
    const YamlNode& root = *docs[0];
    if (!root.IsMap()) {
      ctx.Problem(root.line, "a Sigma rule is a YAML map (title, id, logsource, detection, ...)");
      return false;
    }
    if (root.Get("correlation")) {
      ctx.Problem(KeyLine(root, "correlation"), "Sigma correlation rules are not supported: the engine matches one record "
                                             "at a time (docs/threats.md)");
      return false;
    }
    if (root.Get("action")) {
      ctx.Problem(KeyLine(root, "action"), "`action` (Sigma 1 rule collections) is not supported: one rule per file");
      return false;
    }
    if (root.Get("filter") && root.Get("rules")) {
      ctx.Problem(KeyLine(root, "filter"), "Sigma filters (meta filters) are not supported; use suppressions instead");
      return false;
    }
    rule->file = file;
    if (root.Get("title")) rule->line = KeyLine(root, "title");
    GetString(root, "title", &rule->title, ctx);
    GetString(root, "id", &rule->id, ctx);
    GetString(root, "description", &rule->description, ctx);
    GetString(root, "status", &rule->status, ctx);
    GetString(root, "level", &rule->level, ctx);
    GetString(root, "author", &rule->author, ctx);
    GetString(root, "date", &rule->date, ctx);
    GetString(root, "modified", &rule->modified, ctx);
    GetList(root, "tags", &rule->tags, ctx);
    GetList(root, "falsepositives", &rule->falsepositives, ctx);
    GetList(root, "references", &rule->references, ctx);
    if (rule->title.empty()) ctx.Problem(rule->line, "a rule needs a `title`");
    if (rule->id.empty()) ctx.Problem(rule->line, "a rule needs an `id` (alerts are keyed by it)");
    static const std::set<std::string> kLevels = {"informational", "low", "medium", "high", "critical"};
    if (rule->level.empty()) {
      rule->level = "medium";
    } else if (!kLevels.count(rule->level)) {
      ctx.Problem(KeyLine(root, "level"), fmt::format("`level: {}` is not one of informational, low, medium, high, critical",
                                                   rule->level));
    }
    static const std::set<std::string> kStatuses = {"stable", "test", "experimental", "deprecated", "unsupported"};
    if (!rule->status.empty() && !kStatuses.count(rule->status)) {
      ctx.Problem(KeyLine(root, "status"), fmt::format("`status: {}` is not one of stable, test, experimental, "
                                                    "deprecated, unsupported",
                                                    rule->status));
    }

    const YamlNode* logsource = root.Get("logsource");
    if (logsource == nullptr || !logsource->IsMap()) {
      ctx.Problem(logsource ? KeyLine(root, "logsource") : rule->line, "a rule needs a `logsource` map (product: aws, service: cloudtrail)");
      return false;
    }
    GetString(*logsource, "product", &rule->product, ctx);
    GetString(*logsource, "service", &rule->service, ctx);
    GetString(*logsource, "category", &rule->category, ctx);
    if (Lower(rule->product) != "aws" || Lower(rule->service) != "cloudtrail") {
      std::string what;
      for (const auto& [k, v] : {std::pair<const char*, std::string>{"product", rule->product},
                                 {"service", rule->service}, {"category", rule->category}}) {
        if (!v.empty()) what += fmt::format("{}{}: {}", what.empty() ? "" : ", ", k, v);
      }
      rule->skip_reason = fmt::format("logsource is {{{}}}, not {{product: aws, service: cloudtrail}}", what);
    } else if (rule->status == "unsupported") {
      rule->skip_reason = "status: unsupported";
    }
    if (!rule->skip_reason.empty()) return ctx.problems.size() == before;

    const YamlNode* detection = root.Get("detection");
    if (detection == nullptr) {
      ctx.Problem(rule->line, "a rule needs a `detection` map");
      return false;
    }
    rule->detection = internal::CompileDetection(*detection, KeyLine(root, "detection"), ctx);
  }
  return ctx.problems.size() == before && rule->detection != nullptr;
}

bool ReadFile(const std::filesystem::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return false;
  *out = ss.str();
  return true;
}

void SortProblems(std::vector<Error>& problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const Error& a, const Error& b) { return std::tie(a.file, a.line) < std::tie(b.file, b.line); });
}

Error JoinProblems(std::vector<Error> problems) {
  SortProblems(problems);
  std::string all;
  for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p.ToString();
  Error e;
  e.code = ErrorCode::kParse;
  e.message = fmt::format("{} problem{} in the Sigma rules:\n{}", problems.size(), problems.size() == 1 ? "" : "s", all);
  return e;
}

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct SigmaRuleSet::Index {
  using Buckets = std::unordered_map<std::string, std::vector<uint32_t>, TransparentHash, std::equal_to<>>;
  Buckets by_name, by_source;
  std::vector<uint32_t> name_rules, source_rules;  // every rule of each kind (records with odd types)
  std::vector<uint32_t> always;
};

SigmaRuleSet::SigmaRuleSet() : index_(std::make_unique<Index>()) {}
SigmaRuleSet::~SigmaRuleSet() = default;
SigmaRuleSet::SigmaRuleSet(SigmaRuleSet&&) noexcept = default;
SigmaRuleSet& SigmaRuleSet::operator=(SigmaRuleSet&&) noexcept = default;

Result<SigmaRule> SigmaRuleSet::Parse(const std::string& yaml_text, const std::string& file, const SigmaLoadOptions& options) {
  CompileContext ctx;
  ctx.file = file;
  ctx.placeholders = &options.placeholders;
  SigmaRule rule;
  const bool ok = ParseInto(yaml_text, file, ctx, &rule);
  if (!ctx.problems.empty()) {
    SortProblems(ctx.problems);
    Error first = ctx.problems[0];
    for (size_t i = 1; i < ctx.problems.size(); ++i) first.message += "\n" + ctx.problems[i].ToString();
    return Fail(std::move(first));
  }
  if (!ok && rule.skip_reason.empty()) return Fail(DataFileError(file, 1, "not a Sigma rule"));
  return rule;
}

Result<SigmaRuleSet> SigmaRuleSet::Load(const SigmaLoadOptions& options) {
  struct Source {
    std::string name, text;
    bool builtin;
  };
  std::vector<Source> sources;
  std::vector<Error> problems;
  if (options.builtin) {
    for (const auto& e : EmbeddedSigmaRules()) sources.push_back({std::string("<builtin>/") + e.name, e.text, true});
  }
  for (const auto& path : options.paths) {
    std::error_code ec;
    const std::filesystem::path p(path);
    if (std::filesystem::is_directory(p, ec)) {
      std::vector<std::filesystem::path> files;
      auto it = std::filesystem::recursive_directory_iterator(p, ec);
      if (ec) problems.push_back(DataFileError(path, 0, fmt::format("cannot read the directory: {}", ec.message())));
      for (; !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_directory() && it->path().filename() == "tests") {
          it.disable_recursion_pending();  // the pack's test records, not rules
          continue;
        }
        const auto ext = it->path().extension();
        if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        std::string text;
        if (!ReadFile(f, &text)) {
          problems.push_back(DataFileError(f.string(), 0, "cannot read the file"));
          continue;
        }
        sources.push_back({f.string(), std::move(text), false});
      }
    } else if (std::filesystem::is_regular_file(p, ec)) {
      std::string text;
      if (!ReadFile(p, &text)) {
        problems.push_back(DataFileError(path, 0, "cannot read the file"));
        continue;
      }
      sources.push_back({path, std::move(text), false});
    } else {
      problems.push_back(DataFileError(path, 0, "no such rule file or directory"));
    }
  }

  std::vector<SigmaRule> rules;
  for (const auto& src : sources) {
    CompileContext ctx;
    ctx.file = src.name;
    ctx.placeholders = &options.placeholders;
    SigmaRule rule;
    rule.builtin = src.builtin;
    const bool ok = ParseInto(src.text, src.name, ctx, &rule);
    for (auto& p : ctx.problems) problems.push_back(std::move(p));
    if (ok) rules.push_back(std::move(rule));
  }
  return Build(std::move(rules), std::move(problems));
}

Result<SigmaRuleSet> SigmaRuleSet::FromRules(std::vector<SigmaRule> rules) { return Build(std::move(rules), {}); }

Result<SigmaRuleSet> SigmaRuleSet::Build(std::vector<SigmaRule> rules, std::vector<Error> problems) {
  std::vector<SigmaRule> active, skipped;
  for (auto& r : rules) {
    if (!r.skip_reason.empty()) skipped.push_back(std::move(r));
    else if (r.detection == nullptr) problems.push_back(DataFileError(r.file, r.line, "the rule has no compiled detection"));
    else active.push_back(std::move(r));
  }
  std::stable_sort(active.begin(), active.end(), [](const SigmaRule& a, const SigmaRule& b) { return a.id < b.id; });
  for (size_t i = 1; i < active.size(); ++i) {
    if (active[i].id == active[i - 1].id) {
      problems.push_back(DataFileError(active[i].file, active[i].line,
                                       fmt::format("rule id `{}` is already used by {}:{}", active[i].id,
                                                   active[i - 1].file, active[i - 1].line)));
    }
  }
  if (!problems.empty()) return Fail(JoinProblems(std::move(problems)));
  SigmaRuleSet set;
  set.rules_ = std::move(active);
  set.skipped_ = std::move(skipped);
  Index& idx = *set.index_;
  for (size_t i = 0; i < set.rules_.size(); ++i) {
    const Detection& d = *set.rules_[i].detection;
    const auto n = static_cast<uint32_t>(i);
    switch (d.index) {
      case Detection::IndexKind::kEventName:
        idx.name_rules.push_back(n);
        for (const auto& v : d.index_values) idx.by_name[v].push_back(n);
        break;
      case Detection::IndexKind::kEventSource:
        idx.source_rules.push_back(n);
        for (const auto& v : d.index_values) idx.by_source[v].push_back(n);
        break;
      case Detection::IndexKind::kNone:
        idx.always.push_back(n);
        break;
    }
  }
  return set;
}

const SigmaRule* SigmaRuleSet::Find(std::string_view id) const {
  auto it = std::lower_bound(rules_.begin(), rules_.end(), id, [](const SigmaRule& r, std::string_view v) { return r.id < v; });
  return it != rules_.end() && it->id == id ? &*it : nullptr;
}

namespace {

// Candidates for one indexed field: a scalar value selects its bucket; null
// or absent selects none (those rules need the value); anything else (an
// array, an object) selects every rule of that kind.
template <typename Buckets>
const std::vector<uint32_t>* Candidates(const simdjson::dom::element& record, const char* field, const Buckets& buckets,
                                        const std::vector<uint32_t>& all) {
  simdjson::dom::object obj;
  if (record.get_object().get(obj)) return nullptr;
  simdjson::dom::element v;
  if (obj.at_key(field).get(v)) return nullptr;
  if (v.is_null()) return nullptr;
  internal::NumberBuffer buf;
  std::string_view text;
  if (!internal::ScalarText(v, &buf, &text)) return &all;
  char small[128];
  std::string big;
  std::string_view key;
  if (text.size() <= sizeof(small)) {
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      small[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    key = std::string_view(small, text.size());
  } else {
    big = Lower(std::string(text));
    key = big;
  }
  auto it = buckets.find(key);
  return it == buckets.end() ? nullptr : &it->second;
}

}  // namespace

void SigmaRuleSet::Match(simdjson::dom::element record, std::vector<size_t>* out) const {
  out->clear();
  if (rules_.empty()) return;
  const Index& idx = *index_;
  auto run = [&](const std::vector<uint32_t>* list) {
    if (list == nullptr) return;
    for (uint32_t i : *list) {
      if (internal::EvaluateDetection(*rules_[i].detection, record)) out->push_back(i);
    }
  };
  run(&idx.always);
  if (!idx.name_rules.empty()) run(Candidates(record, "eventName", idx.by_name, idx.name_rules));
  if (!idx.source_rules.empty()) run(Candidates(record, "eventSource", idx.by_source, idx.source_rules));
  std::sort(out->begin(), out->end());
}

Result<std::vector<std::string>> SigmaRuleSet::MatchJson(std::string_view record_json) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(record_json.data(), record_json.size()).get(doc); err) {
    return MakeError(ErrorCode::kParse, fmt::format("the record is not valid JSON: {}", simdjson::error_message(err)));
  }
  std::vector<size_t> hits;
  Match(doc, &hits);
  std::vector<std::string> ids;
  for (size_t i : hits) ids.push_back(rules_[i].id);
  return ids;
}

}  // namespace cloudaudit::threats
