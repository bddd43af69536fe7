#include "collect/spec.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "aws/client/read_only.h"
#include "aws/model/model.h"
#include "collect/embedded_specs.h"
#include "collect/yaml_json.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::collect {

namespace {


std::optional<ColumnType> ParseColumnType(const std::string& s) {
  static const std::pair<const char*, ColumnType> kTypes[] = {
      {"text", ColumnType::kText}, {"integer", ColumnType::kInteger}, {"real", ColumnType::kReal},
      {"boolean", ColumnType::kBoolean}, {"timestamp", ColumnType::kTimestamp}, {"json", ColumnType::kJson}};
  for (const auto& [n, t] : kTypes)
    if (s == n) return t;
  return std::nullopt;
}

int Line(const YAML::Node& n) { return n.Mark().line + 1; }

// Enrichment builtins and the call each starts with (what the spec's
// `params` are checked against and the policy grants).
const std::map<std::string, std::pair<std::string, std::string>>& EnrichmentBuiltins() {
  static const std::map<std::string, std::pair<std::string, std::string>> kBuiltins = {
      {"service_last_accessed", {"iam", "GenerateServiceLastAccessedDetails"}},
  };
  return kBuiltins;
}

// Reads a call ("operation", "service", "params", "all_pages").
Call ParseCall(const YAML::Node& node, const std::string& service, size_t* budget) {
  Call c;
  c.service = node["service"] ? node["service"].as<std::string>() : service;
  c.operation = node["operation"] ? node["operation"].as<std::string>() : "";
  if (node["params"]) c.params = YamlToJson(node["params"], budget);
  if (node["all_pages"]) c.all_pages = node["all_pages"].as<bool>();
  return c;
}

}  // namespace

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kText: return "text";
    case ColumnType::kInteger: return "integer";
    case ColumnType::kReal: return "real";
    case ColumnType::kBoolean: return "boolean";
    case ColumnType::kTimestamp: return "timestamp";
    case ColumnType::kJson: return "json";
  }
  return "text";
}

std::string SqlPath(const std::string& dotted) {
  // "A.0.b" -> $.A[0].b (SQLite's JSON path syntax for list indexes).
  std::string out = "$";
  for (const auto& part : Split(dotted, '.')) {
    if (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      out += "[" + part + "]";
    } else if (std::all_of(part.begin(), part.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; })) {
      out += "." + part;
    } else {
      out += ".\"" + part + "\"";
    }
  }
  return out;
}

const ResourceSpec* SpecSet::Find(const std::string& table) const {
  for (const auto& r : resources)
    if (r.table == table) return &r;
  return nullptr;
}

Result<std::vector<ResourceSpec>> ParseSpecYaml(const std::string& text, const std::string& file) {
  std::vector<ResourceSpec> out;
  try {
    YAML::Node root = YAML::Load(text);
    size_t budget = kYamlMaxValues;  // for the whole file
    if (!root.IsMap() || !root["service"] || !root["resources"] || !root["resources"].IsSequence())
      return Fail(DataFileError(file, 1, "a spec file needs `service:` and a `resources:` list"));
    std::string service = root["service"].as<std::string>();
    for (const auto& r : root["resources"]) {
      ResourceSpec spec;
      spec.service = service;
      spec.file = file;
      spec.line = Line(r);
      auto need = [&](const char* key) -> Status {
        if (!r[key]) return Fail(DataFileError(file, Line(r), fmt::format("resource is missing `{}`", key)));
        return {};
      };
      CA_TRY_STATUS(need("table"));
      CA_TRY_STATUS(need("description"));
      CA_TRY_STATUS(need("list"));
      spec.table = r["table"].as<std::string>();
      spec.description = r["description"].as<std::string>();
      std::string scope = r["scope"] ? r["scope"].as<std::string>() : "regional";
      if (scope != "global" && scope != "regional")
        return Fail(DataFileError(file, Line(r["scope"]), fmt::format("scope must be global or regional, not \"{}\"", scope)));
      spec.scope = scope == "global" ? Scope::kGlobal : Scope::kRegional;
      const YAML::Node list = r["list"];
      spec.list.call = ParseCall(list, service, &budget);
      spec.list.items = list["items"] ? list["items"].as<std::string>() : "";
      spec.list.item_name = list["item_name"] ? list["item_name"].as<std::string>() : "";
      spec.list.singleton = list["singleton"] ? list["singleton"].as<bool>() : false;
      spec.list.builtin = list["builtin"] ? list["builtin"].as<std::string>() : "";
      spec.list.shared = list["shared"] ? list["shared"].as<bool>() : false;
      spec.list.region = list["region"] ? list["region"].as<std::string>() : "";
      if (r["enrich"]) {
        for (const auto& e : r["enrich"]) {
          Enrichment en;
          en.call = ParseCall(e, service, &budget);
          en.result = e["result"] ? e["result"].as<std::string>() : "";
          en.into = e["into"] ? e["into"].as<std::string>() : "";
          if (en.into.empty()) return Fail(DataFileError(file, Line(e), "enrichment needs `into`"));
          en.builtin = e["builtin"] ? e["builtin"].as<std::string>() : "";
          if (!en.builtin.empty()) {
            auto b = EnrichmentBuiltins().find(en.builtin);
            if (b == EnrichmentBuiltins().end())
              return Fail(DataFileError(file, Line(e), fmt::format("unknown enrichment builtin \"{}\"", en.builtin)));
            if (en.call.operation.empty()) {
              en.call.service = b->second.first;
              en.call.operation = b->second.second;
            }
          }
          spec.enrich.push_back(std::move(en));
        }
      }
      if (r["identity"]) {
        const YAML::Node id = r["identity"];
        spec.id_template = id["id"] ? id["id"].as<std::string>() : "";
        spec.arn_template = id["arn"] ? id["arn"].as<std::string>() : "";
        spec.name_template = id["name"] ? id["name"].as<std::string>() : "";
      }
      if (spec.id_template.empty()) spec.id_template = spec.arn_template;
      spec.tags_path = r["tags"] ? r["tags"].as<std::string>() : "";
      if (r["columns"]) {
        for (const auto& c : r["columns"]) {
          Column col;
          if (!c["name"] || !c["path"])
            return Fail(DataFileError(file, Line(c), "a column needs `name` and `path`"));
          col.name = c["name"].as<std::string>();
          col.path = c["path"].as<std::string>();
          col.description = c["description"] ? c["description"].as<std::string>() : "";
          std::string type = c["type"] ? c["type"].as<std::string>() : "text";
          auto t = ParseColumnType(type);
          if (!t) return Fail(DataFileError(file, Line(c), fmt::format("unknown column type \"{}\" (text, integer, real, boolean, timestamp, json)", type)));
          col.type = *t;
          spec.columns.push_back(std::move(col));
        }
      }
      out.push_back(std::move(spec));
    }
  } catch (const YAML::Exception& e) {
    return Fail(DataFileError(file, e.mark.line + 1, "invalid YAML: " + e.msg));
  }
  return out;
}

namespace {

// Walks a dotted path through an output shape (and enrichment results).
bool PathExistsInShape(const aws::Shape* shape, const std::string& dotted) {
  if (dotted.empty()) return true;
  for (const auto& part : Split(dotted, '.')) {
    if (shape == nullptr) return false;
    // A list index ("Items.0.Id") steps into the list's member.
    if (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      if (shape->type != aws::ShapeType::kList) return false;
      shape = shape->member.shape;
      continue;
    }
    while (shape->type == aws::ShapeType::kList) shape = shape->member.shape;
    if (shape->type == aws::ShapeType::kMap || shape->document) return true;  // keys are data, not model
    if (shape->type != aws::ShapeType::kStructure) return false;
    const aws::Member* m = shape->FindMember(part);
    if (m == nullptr) return false;
    shape = m->ref.shape;
  }
  return true;
}

const aws::Shape* ShapeAt(const aws::Shape* shape, const std::string& dotted) {
  for (const auto& part : Split(dotted, '.')) {
    if (part.empty()) continue;
    while (shape != nullptr && shape->type == aws::ShapeType::kList) shape = shape->member.shape;
    if (shape == nullptr || shape->type != aws::ShapeType::kStructure) return nullptr;
    const aws::Member* m = shape->FindMember(part);
    if (m == nullptr) return nullptr;
    shape = m->ref.shape;
  }
  while (shape != nullptr && shape->type == aws::ShapeType::kList) shape = shape->member.shape;
  return shape;
}

void ValidateCall(const ResourceSpec& spec, const Call& call, const std::string& result_path,
                  std::vector<Error>* errors, const aws::Shape** result_shape) {
  auto model = aws::LoadServiceModel(call.service);
  if (!model) {
    errors->push_back(DataFileError(spec.file, spec.line, fmt::format("{}: {}", spec.table, model.error().message)));
    return;
  }
  const aws::Operation* op = (*model)->FindOperation(call.operation);
  if (op == nullptr || op->name != call.operation) {
    errors->push_back(DataFileError(spec.file, spec.line, fmt::format("{}: {} has no operation \"{}\"", spec.table, call.service, call.operation)));
    return;
  }
  if (!aws::IsReadOnlyOperation((*model)->name(), op->name))
    errors->push_back(DataFileError(spec.file, spec.line, fmt::format("{}: {} {} is not a read-only operation", spec.table, call.service, call.operation)));
  if (call.params.is_object()) {
    for (auto it = call.params.begin(); it != call.params.end(); ++it)
      if (op->input == nullptr || op->input->FindMember(it.key()) == nullptr)
        errors->push_back(DataFileError(spec.file, spec.line, fmt::format("{}: {} has no parameter \"{}\"", spec.table, call.operation, it.key())));
  }
  if (!PathExistsInShape(op->output, result_path))
    errors->push_back(DataFileError(spec.file, spec.line, fmt::format("{}: \"{}\" is not in the output of {} {}", spec.table, result_path, call.service, call.operation)));
  if (result_shape != nullptr) *result_shape = ShapeAt(op->output, result_path);
}

}  // namespace

std::vector<Error> ValidateSpecs(const std::vector<ResourceSpec>& specs) {
  std::vector<Error> errors;
  std::set<std::string> tables;
  static const std::regex kIdent("^[a-z][a-z0-9_]*$");
  static const std::set<std::string> kBuiltins = {"credential_report"};
  for (const auto& spec : specs) {
    if (!std::regex_match(spec.table, kIdent) || spec.table.rfind("aws_", 0) != 0)
      errors.push_back(DataFileError(spec.file, spec.line, fmt::format("table name \"{}\" must look like aws_service_thing", spec.table)));
    if (!tables.insert(spec.table).second)
      errors.push_back(DataFileError(spec.file, spec.line, fmt::format("table {} is declared twice", spec.table)));
    if (spec.id_template.empty())
      errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: identity needs `id` or `arn`", spec.table)));
    const aws::Shape* item_shape = nullptr;
    if (!spec.list.builtin.empty()) {
      if (!kBuiltins.count(spec.list.builtin))
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: unknown builtin collector \"{}\"", spec.table, spec.list.builtin)));
    } else {
      ValidateCall(spec, spec.list.call, spec.list.items, &errors, &item_shape);
    }
    std::set<std::string> enriched;
    if (!spec.list.item_name.empty()) enriched.insert(spec.list.item_name);
    for (const auto& e : spec.enrich) {
      ValidateCall(spec, e.call, e.result, &errors, nullptr);
      enriched.insert(e.into);
      if (e.builtin.empty()) continue;
      auto b = EnrichmentBuiltins().find(e.builtin);
      if (b == EnrichmentBuiltins().end())
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: unknown enrichment builtin \"{}\"", spec.table, e.builtin)));
      else if (e.call.service != b->second.first || e.call.operation != b->second.second)
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: enrichment builtin {} calls {} {}, not {} {}", spec.table,
                                                                         e.builtin, b->second.first, b->second.second,
                                                                         e.call.service, e.call.operation)));
      else if (!e.result.empty())
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: enrichment builtin {} takes no `result`", spec.table, e.builtin)));
    }
    std::set<std::string> names = {"account_id", "region", "id", "arn", "name", "tags", "data"};
    for (const auto& c : spec.columns) {
      if (!std::regex_match(c.name, kIdent))
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: column name \"{}\" must be snake_case", spec.table, c.name)));
      if (!names.insert(c.name).second)
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: column {} is declared twice (or shadows an identity column)", spec.table, c.name)));
      std::string first = Split(c.path, '.').front();
      if (item_shape != nullptr && !enriched.count(first) && !PathExistsInShape(item_shape, c.path))
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: column {} path \"{}\" is not in the item shape", spec.table, c.name, c.path)));
      if (c.description.empty())
        errors.push_back(DataFileError(spec.file, spec.line, fmt::format("{}: column {} has no description", spec.table, c.name)));
    }
  }
  return errors;
}

Result<SpecSet> LoadSpecs(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;  // name, text
  if (dir.empty()) {
    for (const auto& f : EmbeddedSpecs()) files.emplace_back(std::string("resources/aws/") + f.name, std::string(f.text));
  } else {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() != ".yaml") continue;
      std::ifstream in(entry.path());
      std::stringstream ss;
      ss << in.rdbuf();
      files.emplace_back(entry.path().string(), ss.str());
    }
    if (ec) return MakeError(ErrorCode::kIo, fmt::format("cannot read spec directory {}: {}", dir, ec.message()));
    std::sort(files.begin(), files.end());
  }
  SpecSet set;
  std::vector<Error> errors;
  for (const auto& [name, text] : files) {
    auto parsed = ParseSpecYaml(text, name);
    if (!parsed) {
      errors.push_back(parsed.error());
      continue;
    }
    for (auto& r : *parsed) set.resources.push_back(std::move(r));
  }
  for (auto& e : ValidateSpecs(set.resources)) errors.push_back(std::move(e));
  if (!errors.empty()) {
    std::string msg = fmt::format("{} problem(s) in resource specs:", errors.size());
    for (const auto& e : errors) msg += "\n  " + e.ToString();
    return MakeError(ErrorCode::kParse, msg);
  }
  return set;
}

const Json* FindPath(const Json& doc, const std::string& dotted) {
  const Json* cur = &doc;
  if (dotted.empty()) return cur;
  for (const auto& part : Split(dotted, '.')) {
    if (cur->is_array() && !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit)) {
      size_t index = std::stoul(part);
      if (index >= cur->size()) return nullptr;
      cur = &(*cur)[index];
      continue;
    }
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

namespace {

// "{time:-14d}" -> ISO-8601 UTC time relative to now.
std::optional<std::string> RelativeTime(const std::string& key) {
  if (key.rfind("time:", 0) != 0) return std::nullopt;
  std::string spec = key.substr(5);
  int64_t now = NowEpochSeconds();
  if (spec.empty() || spec == "now") return FormatIso8601Utc(now);
  char unit = spec.back();
  int64_t n = std::strtoll(spec.substr(0, spec.size() - 1).c_str(), nullptr, 10);
  int64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : unit == 'd' ? 86400 : 0;
  if (scale == 0) return std::nullopt;
  return FormatIso8601Utc(now + n * scale);
}

}  // namespace

std::string ExpandTemplate(const std::string& tpl, const Json& item, const std::map<std::string, std::string>& context,
                           std::string* missing) {
  std::string out;
  size_t i = 0;
  while (i < tpl.size()) {
    size_t open = tpl.find('{', i);
    if (open == std::string::npos) {
      out += tpl.substr(i);
      break;
    }
    out += tpl.substr(i, open - i);
    size_t close = tpl.find('}', open);
    if (close == std::string::npos) {
      out += tpl.substr(open);
      break;
    }
    std::string key = tpl.substr(open + 1, close - open - 1);
    // "{QueueUrl|after_last:/}": the text after the last '/' (names from URLs and ARNs).
    std::string after_last;
    if (size_t bar = key.find("|after_last:"); bar != std::string::npos) {
      after_last = key.substr(bar + 12);
      key.resize(bar);
    }
    std::string value;
    bool found = true;
    if (auto c = context.find(key); c != context.end()) {
      value = c->second;
    } else if (auto t = RelativeTime(key)) {
      value = *t;
    } else if (const Json* v = FindPath(item, key); v != nullptr && !v->is_null()) {
      value = v->is_string() ? v->get<std::string>() : v->dump();
    } else {
      found = false;
      if (missing != nullptr && missing->empty()) *missing = key;
    }
    if (found && !after_last.empty()) {
      size_t pos = value.rfind(after_last);
      if (pos != std::string::npos) value = value.substr(pos + after_last.size());
    }
    out += value;
    i = close + 1;
  }
  return out;
}

Json ExpandParams(const Json& params, const Json& item, const std::map<std::string, std::string>& context,
                  std::string* missing) {
  if (params.is_string()) {
    const std::string& s = params.get_ref<const std::string&>();
    // A whole-value placeholder keeps the value's JSON type ("{MaxItems}" -> 5).
    if (s.size() > 2 && s.front() == '{' && s.back() == '}' && s.find('{', 1) == std::string::npos) {
      std::string key = s.substr(1, s.size() - 2);
      if (auto c = context.find(key); c != context.end()) return c->second;
      if (auto t = RelativeTime(key)) return *t;
      if (const Json* v = FindPath(item, key); v != nullptr && !v->is_null()) return *v;
      if (missing != nullptr && missing->empty()) *missing = key;
      return Json();
    }
    return ExpandTemplate(s, item, context, missing);
  }
  if (params.is_object()) {
    Json out = Json::object();
    for (auto it = params.begin(); it != params.end(); ++it) out[it.key()] = ExpandParams(it.value(), item, context, missing);
    return out;
  }
  if (params.is_array()) {
    Json out = Json::array();
    for (const auto& v : params) out.push_back(ExpandParams(v, item, context, missing));
    return out;
  }
  return params;
}

}  // namespace cloudaudit::collect
