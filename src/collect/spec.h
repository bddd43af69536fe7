// Resource specs: collection declared as data (resources/aws/<service>.yaml).
// A spec names, per resource type, the operation that lists it, the calls
// that enrich each item, how its identity is formed and its typed columns.
// The same specs produce the SQLite views, `cloudaudit tables` and the
// least-privilege policy of `cloudaudit permissions`.
//
// Templates: "{Path.In.Item}" takes a value from the item (dotted path;
// a number indexes a list: "Items.0.Id"), "{region}", "{account_id}",
// "{partition}" from the scan context, "{time:-14d}" an ISO-8601 UTC time
// relative to now (s, m, h, d), and "{Path|after_last:/}" the text after the
// last "/" (any separator); e.g. "arn:{partition}:s3:::{Name}".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::collect {

enum class Scope { kGlobal, kRegional };
enum class ColumnType { kText, kInteger, kReal, kBoolean, kTimestamp, kJson };

struct Column {
  std::string name;
  ColumnType type = ColumnType::kText;
  std::string path;  // dotted path into the resource document
  std::string description;
};

struct Call {
  std::string service;    // defaults to the spec's service
  std::string operation;
  Json params = Json::object();  // values may be templates
  bool all_pages = true;
};

// How the items of a resource type are found.
struct Listing {
  Call call;
  std::string items;       // path to the list (or object for singletons) in the response;
                           // lists met on the way are flattened ("Reservations.Instances")
  std::string item_name;   // items are scalars (e.g. ListQueues' URLs): each becomes {item_name: value}
  bool singleton = false;  // the response (or `items`) is one resource, not a list
  std::string builtin;     // a named C++ collector instead of `call` (e.g. credential_report)
  // Several resource types read the same call (e.g. IAM users, roles,
  // groups and policies from one GetAccountAuthorizationDetails): the call
  // is made once per region and scan, all pages merged, and shared.
  bool shared = false;
  // Global types whose API lives in one region (CloudFront-scope WAF in
  // us-east-1): call there instead of the home region.
  std::string region;
};

// A per-item call whose result is stored into the item.
struct Enrichment {
  Call call;
  std::string result;  // path in the response; empty: the whole response
  std::string into;    // member of the item to set
  // A named C++ collector for calls that are not one request:
  // service_last_accessed starts an IAM report job with `call`
  // (GenerateServiceLastAccessedDetails, params {Arn}), polls
  // GetServiceLastAccessedDetails and stores every page's ServicesLastAccessed.
  std::string builtin;
};

struct ResourceSpec {
  std::string service;
  std::string table;
  std::string description;
  Scope scope = Scope::kRegional;
  Listing list;
  std::vector<Enrichment> enrich;
  std::string id_template;
  std::string arn_template;
  std::string name_template;
  std::string tags_path;  // list of {Key, Value} or a map
  std::vector<Column> columns;
  std::string file;  // where it was declared, for messages
  int line = 0;
};

struct SpecSet {
  std::vector<ResourceSpec> resources;
  const ResourceSpec* Find(const std::string& table) const;
};

// Loads every *.yaml in `dir`, or the specs built into the binary when `dir`
// is empty. Validates each against the AWS models (operations exist and are
// read-only, `items`/`result` paths exist in the output shapes, column types
// and names are sane, table names unique) and reports every problem with
// file:line, like a compiler.
Result<SpecSet> LoadSpecs(const std::string& dir = "");
// Parses one YAML document (exposed for tests and fuzzing).
Result<std::vector<ResourceSpec>> ParseSpecYaml(const std::string& text, const std::string& file);
// Validation alone; returns every problem found.
std::vector<Error> ValidateSpecs(const std::vector<ResourceSpec>& specs);

std::string_view ColumnTypeName(ColumnType type);
std::string SqlPath(const std::string& dotted);  // "A.B" -> "$.A.B" (quoted as needed)

// Template expansion; `missing` receives the first unresolved placeholder.
std::string ExpandTemplate(const std::string& tpl, const Json& item, const std::map<std::string, std::string>& context,
                           std::string* missing = nullptr);
Json ExpandParams(const Json& params, const Json& item, const std::map<std::string, std::string>& context,
                  std::string* missing);
const Json* FindPath(const Json& doc, const std::string& dotted);

}  // namespace cloudaudit::collect
