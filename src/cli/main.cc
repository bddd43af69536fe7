// cloudaudit command line: argument parsing and output only; all the work is
// in the libraries under src/.
//
// Exit codes: see cli/common.h.
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "aws/client/cli_input.h"
#include "aws/client/cli_output.h"
#include "aws/client/read_only.h"
#include "aws/client/session.h"
#include "aws/model/model.h"
#include "collect/collector.h"
#include "collect/permissions.h"
#include "base/time.h"
#include "cli/common.h"
#include "cli/rules_commands.h"
#include "cli/threats_command.h"
#include "cli/scan_commands.h"
#include "collect/spec.h"
#include "rules/sql_functions.h"
#include "store/store.h"

#include <unistd.h>

namespace {

using cloudaudit::Error;
using cloudaudit::ErrorCode;

using cloudaudit::cli::kExitOther;
using cloudaudit::cli::kExitUsage;
using cloudaudit::cli::ReportError;

struct CommonAwsFlags {
  std::string profile, region, endpoint_url, ca_bundle;
  void Add(CLI::App* app) {
    app->add_option("--profile", profile, "Named profile from ~/.aws/config and ~/.aws/credentials");
    app->add_option("--region", region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the profile's)");
    app->add_option("--endpoint-url", endpoint_url, "Send every call to this URL instead of the AWS endpoint");
    app->add_option("--ca-bundle", ca_bundle, "CA certificate bundle for TLS verification");
  }
  cloudaudit::aws::ConfigOverrides Overrides() const {
    cloudaudit::aws::ConfigOverrides o;
    if (!profile.empty()) o.profile = profile;
    if (!region.empty()) o.region = region;
    if (!endpoint_url.empty()) o.endpoint_url = endpoint_url;
    if (!ca_bundle.empty()) o.ca_bundle = ca_bundle;
    return o;
  }
};

int RunAws(const CommonAwsFlags& flags, const std::string& service, const std::string& operation,
           const std::string& input, const std::vector<std::string>& params, bool all_pages) {
  auto model = cloudaudit::aws::LoadServiceModel(service);
  if (!model) return ReportError(model.error());
  auto op = (*model)->RequireOperation(operation);
  if (!op) return ReportError(op.error());
  auto call_params = cloudaudit::aws::BuildCliParams(**op, input, params);
  if (!call_params) return ReportError(call_params.error());
  auto session = cloudaudit::aws::OpenSession(flags.Overrides());
  if (!session) return ReportError(session.error());
  auto& client = *session->client;
  auto result = all_pages ? client.CallAllPages((*model)->name(), (*op)->name, *call_params)
                          : client.Call((*model)->name(), (*op)->name, *call_params);
  if (!result) return ReportError(result.error());
  std::cout << cloudaudit::aws::FormatLikeAwsCli(*result);
  return 0;
}

int RunWhoami(const CommonAwsFlags& flags) {
  auto session = cloudaudit::aws::OpenSession(flags.Overrides());
  if (!session) return ReportError(session.error());
  auto result = session->client->Call("sts", "GetCallerIdentity", cloudaudit::Json::object());
  if (!result) return ReportError(result.error());
  std::cout << cloudaudit::aws::FormatLikeAwsCli(*result);
  return 0;
}

int RunOperations(const std::string& service) {
  auto model = cloudaudit::aws::LoadServiceModel(service);
  if (!model) return ReportError(model.error());
  for (const auto& [name, op] : (*model)->operations()) {
    if (!cloudaudit::aws::IsReadOnlyOperation((*model)->name(), name)) continue;
    std::cout << name << (op.paginator ? "  (paginated)" : "") << "\n";
  }
  return 0;
}

struct CollectFlags {
  CommonAwsFlags aws;
  std::string out = "cloudaudit.db";
  std::vector<std::string> regions, services, exclude;
  std::string specs_dir;
  int concurrency = 16;
  bool quiet = false;
};

int RunCollect(const CollectFlags& flags) {
  auto specs = cloudaudit::collect::LoadSpecs(flags.specs_dir);
  if (!specs) return ReportError(specs.error());
  auto session = cloudaudit::aws::OpenSession(flags.aws.Overrides());
  if (!session) return ReportError(session.error());
  auto store = cloudaudit::store::Store::Open(flags.out);
  if (!store) return ReportError(store.error());
  cloudaudit::collect::CollectOptions options;
  options.regions = flags.regions;
  options.services = {flags.services.begin(), flags.services.end()};
  options.exclude_services = {flags.exclude.begin(), flags.exclude.end()};
  options.concurrency = flags.concurrency;
  options.tool_version = CLOUDAUDIT_VERSION;
  bool tty = isatty(STDERR_FILENO) != 0 && !flags.quiet;
  std::mutex progress_mu;
  if (tty) {
    options.on_progress = [&](size_t done, size_t total, const std::string& task) {
      std::lock_guard<std::mutex> lock(progress_mu);
      int width = 30;
      int filled = total == 0 ? width : static_cast<int>(width * done / total);
      std::fprintf(stderr, "\r[%s%s] %zu/%zu %-50.50s", std::string(filled, '#').c_str(),
                   std::string(width - filled, '.').c_str(), done, total, task.c_str());
      std::fflush(stderr);
    };
  }
  auto summary = cloudaudit::collect::Collect(*session->client, **store, *specs, options);
  if (tty) std::fprintf(stderr, "\n");
  if (!summary) return ReportError(summary.error());
  if (!flags.quiet) {
    std::cout << "Scan " << summary->scan_id << " of account " << summary->account_id << " (" << summary->partition
              << ", " << summary->regions.size() << " regions) -> " << flags.out << ": " << summary->status << "\n";
    int64_t total = 0;
    for (const auto& [type, n] : summary->resources_per_type) {
      std::cout << "  " << type << ": " << n << "\n";
      total += n;
    }
    std::cout << "Resources: " << total << ", API calls: " << summary->api_calls << ", time: " << summary->seconds
              << " s\n";
    if (summary->gaps > 0) {
      std::cout << "Collection gaps: " << summary->gaps << " (";
      bool first = true;
      for (const auto& [code, n] : summary->gaps_by_code) {
        std::cout << (first ? "" : ", ") << code << " " << n;
        first = false;
      }
      std::cout << "); see the gaps table\n";
    }
  }
  return 0;
}

int RunTables(const std::string& specs_dir, const std::string& name) {
  auto specs = cloudaudit::collect::LoadSpecs(specs_dir);
  if (!specs) return ReportError(specs.error());
  for (const auto& r : specs->resources) {
    if (!name.empty() && r.table != name) continue;
    if (name.empty()) {
      std::cout << r.table << "  " << r.description << "\n";
      continue;
    }
    std::cout << r.table << ": " << r.description << "\n"
              << "  service " << r.service << ", " << (r.scope == cloudaudit::collect::Scope::kGlobal ? "global" : "regional")
              << ", listed by " << (r.list.builtin.empty() ? r.list.call.operation : r.list.builtin) << "\n\n";
    std::printf("  %-28s %-10s %s\n", "column", "type", "description");
    std::printf("  %-28s %-10s %s\n", "account_id", "text", "Account the resource belongs to.");
    std::printf("  %-28s %-10s %s\n", "region", "text", "Region, or global.");
    std::printf("  %-28s %-10s %s\n", "id", "text", "Stable identifier within the type.");
    std::printf("  %-28s %-10s %s\n", "arn", "text", "ARN, when the resource has one.");
    std::printf("  %-28s %-10s %s\n", "name", "text", "Display name.");
    std::printf("  %-28s %-10s %s\n", "tags", "json", "Tags as a {key: value} object.");
    std::printf("  %-28s %-10s %s\n", "data", "json", "The whole document as collected.");
    for (const auto& c : r.columns)
      std::printf("  %-28s %-10s %s\n", c.name.c_str(), std::string(cloudaudit::collect::ColumnTypeName(c.type)).c_str(),
                  c.description.c_str());
    return 0;
  }
  if (!name.empty()) {
    std::cerr << "no table named " << name << "; run `cloudaudit tables` for the list\n";
    return kExitUsage;
  }
  return 0;
}

// policy: the least-privilege policy (JSON) on stdout; which actions the
// managed policies SecurityAudit / ViewOnlyAccess already grant on stderr.
// coverage: that table on stdout. supplement: the policy of the actions
// SecurityAudit does not grant, to attach beside it (summary on stderr).
int RunPermissions(const std::string& specs_dir, const std::string& format) {
  namespace collect = cloudaudit::collect;
  auto specs = collect::LoadSpecs(specs_dir);
  if (!specs) return ReportError(specs.error());
  auto managed = collect::LoadManagedPolicies();
  if (!managed) return ReportError(managed.error());
  const std::set<std::string> actions = collect::RequiredActions(*specs);
  const auto coverage = collect::ManagedPolicyCoverage(actions, *managed);
  if (format == "coverage") {
    std::cout << collect::CoverageReport(coverage, *managed);
  } else if (format == "supplement") {
    const std::string base = managed->policies.front().name;
    std::cout << cloudaudit::DumpPythonJson(
                     collect::PolicyForActions(collect::ActionsNotGrantedBy(coverage, base), "CloudauditBeyond" + base), 2)
              << "\n";
    std::cerr << collect::CoverageSummary(coverage, *managed) << "\n";
  } else {
    std::cout << cloudaudit::DumpPythonJson(collect::PolicyForActions(actions), 2) << "\n";
    std::cout.flush();
    std::cerr << "\nWhat the AWS managed policies already grant (approximate, see docs/collection.md):\n"
              << collect::CoverageReport(coverage, *managed);
  }
  return 0;
}

std::string CsvField(const cloudaudit::Json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump());
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

int RunQuery(const std::string& db, const std::string& sql, const std::string& format, int64_t scan, const std::string& specs_dir) {
  auto specs = cloudaudit::collect::LoadSpecs(specs_dir);
  if (!specs) return ReportError(specs.error());
  auto store = cloudaudit::store::Store::Open(db, /*read_only=*/true);
  if (!store) return ReportError(store.error());
  auto resolved = (*store)->ResolveScanId(scan);
  // A store with no scan (only threat runs, say) is still queryable: there
  // are just no per-type views. Asking for a scan that is not there is an error.
  if (!resolved && (scan != 0 || resolved.error().code != cloudaudit::ErrorCode::kNotFound)) return ReportError(resolved.error());
  const int64_t scan_id = resolved ? *resolved : 0;
  if (scan_id != 0)
    if (auto v = (*store)->CreateScanViews(scan_id, cloudaudit::collect::ViewsForSpecs(*specs)); !v) return ReportError(v.error());
  // The rule engine's functions, evaluated as of the scan's start.
  cloudaudit::rules::EvalContext clock;
  clock.now_epoch = cloudaudit::NowEpochSeconds();
  if (auto scans = (*store)->ListScans())
    for (const auto& s : *scans)
      if (s.id == scan_id) {
        if (auto ts = cloudaudit::ParseTimestamp(s.started_at)) clock.now_epoch = ts->epoch_seconds;
        clock.account_id = s.account_id;
        clock.regions_json = cloudaudit::Json(s.regions).dump();
      }
  if (auto v = cloudaudit::rules::RegisterSqlFunctions((*store)->handle(), &clock); !v) return ReportError(v.error());
  std::vector<std::string> names;
  std::vector<std::vector<cloudaudit::Json>> rows;
  cloudaudit::Json json_rows = cloudaudit::Json::array();
  auto status = (*store)->Query(sql, [&](const std::vector<std::string>& n, const std::vector<cloudaudit::Json>& values) {
    names = n;
    if (format == "json") {
      cloudaudit::Json row = cloudaudit::Json::object();
      for (size_t i = 0; i < n.size(); ++i) row[n[i]] = values[i];
      json_rows.push_back(std::move(row));
    } else if (format == "csv") {
      if (rows.empty() && names.size() && json_rows.empty()) {
        for (size_t i = 0; i < n.size(); ++i) std::cout << (i ? "," : "") << CsvField(n[i]);
        std::cout << "\n";
        json_rows.push_back(true);  // header written
      }
      for (size_t i = 0; i < values.size(); ++i) std::cout << (i ? "," : "") << CsvField(values[i]);
      std::cout << "\n";
    } else {
      rows.push_back(values);
    }
  });
  if (!status) return ReportError(status.error());
  if (format == "json") {
    std::cout << cloudaudit::DumpPythonJson(json_rows, 2) << "\n";
  } else if (format == "table") {
    std::vector<size_t> widths(names.size());
    auto text = [](const cloudaudit::Json& v) {
      std::string s = v.is_string() ? v.get<std::string>() : (v.is_null() ? "" : v.dump());
      return s.size() > 60 ? s.substr(0, 57) + "..." : s;
    };
    for (size_t i = 0; i < names.size(); ++i) widths[i] = names[i].size();
    for (const auto& r : rows)
      for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], text(r[i]).size());
    for (size_t i = 0; i < names.size(); ++i) std::printf("%s%-*s", i ? " | " : "", static_cast<int>(widths[i]), names[i].c_str());
    std::printf("\n");
    for (size_t i = 0; i < names.size(); ++i) std::printf("%s%s", i ? "-+-" : "", std::string(widths[i], '-').c_str());
    std::printf("\n");
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) std::printf("%s%-*s", i ? " | " : "", static_cast<int>(widths[i]), text(r[i]).c_str());
      std::printf("\n");
    }
    std::printf("(%zu rows)\n", rows.size());
  }
  return 0;
}

// JSON lines, one resource per line, for other tools (jq, Splunk, ...).
int RunExport(const std::string& db, int64_t scan, const std::string& out_path) {
  auto store = cloudaudit::store::Store::Open(db, /*read_only=*/true);
  if (!store) return ReportError(store.error());
  auto resolved = (*store)->ResolveScanId(scan);
  if (!resolved) return ReportError(resolved.error());
  const int64_t scan_id = *resolved;
  std::ofstream file;
  if (!out_path.empty() && out_path != "-") {
    file.open(out_path, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "cannot write " << out_path << "\n";
      return kExitOther;
    }
  }
  std::ostream& out = file.is_open() ? static_cast<std::ostream&>(file) : std::cout;
  int64_t rows = 0;
  auto status = (*store)->Query(
      "SELECT type, account_id, region, id, arn, name, tags, data FROM resources WHERE scan_id = " + std::to_string(scan_id) +
          " ORDER BY type, region, id",
      [&](const std::vector<std::string>&, const std::vector<cloudaudit::Json>& v) {
        cloudaudit::Json line = {{"scan_id", scan_id}, {"type", v[0]}, {"account_id", v[1]}, {"region", v[2]},
                                 {"id", v[3]},         {"arn", v[4]},  {"name", v[5]}};
        auto tags = v[6].is_string() ? cloudaudit::ParseJson(v[6].get<std::string>()) : cloudaudit::Result<cloudaudit::Json>(cloudaudit::Json());
        line["tags"] = tags ? *tags : cloudaudit::Json();
        auto data = cloudaudit::ParseJson(v[7].get<std::string>());
        line["data"] = data ? *data : cloudaudit::Json();
        out << line.dump(-1, ' ', false, cloudaudit::Json::error_handler_t::replace) << "\n";
        ++rows;
      });
  if (!status) return ReportError(status.error());
  if (file.is_open()) std::cerr << rows << " resources of scan " << scan_id << " written to " << out_path << "\n";
  return out.good() ? 0 : kExitOther;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cloudaudit: a fast, read-only AWS security posture scanner"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cloudaudit ") + CLOUDAUDIT_VERSION);

  CommonAwsFlags aws_flags;
  std::string service, operation, input;
  std::vector<std::string> params;
  bool all_pages = false;
  CLI::App* aws = app.add_subcommand("aws", "Call any read-only AWS API operation; prints what `aws ... --output json` prints");
  aws->add_option("service", service, "Service (botocore name: iam, ec2, s3, elbv2, ...)")->required();
  aws->add_option("operation", operation, "Operation (ListUsers or list-users)")->required();
  aws->add_option("--input", input, "Parameters as JSON, or @FILE");
  aws->add_option("--param", params, "Name=Value parameter (repeatable)");
  aws->add_flag("--all-pages", all_pages, "Follow pagination and merge pages as the AWS CLI does");
  aws_flags.Add(aws);

  CommonAwsFlags whoami_flags;
  CLI::App* whoami = app.add_subcommand("whoami", "Show the caller identity (sts GetCallerIdentity)");
  whoami_flags.Add(whoami);

  CLI::App* services = app.add_subcommand("services", "List the AWS services whose models are built in");
  std::string ops_service;
  CLI::App* operations = app.add_subcommand("operations", "List the read-only operations of a service");
  operations->add_option("service", ops_service, "Service")->required();

  CollectFlags collect_flags;
  CLI::App* collect = app.add_subcommand("collect", "Read the account's configuration into an inventory (SQLite)");
  collect_flags.aws.Add(collect);
  collect->add_option("--out", collect_flags.out, "Store file (created if missing; each collection adds a scan)");
  collect->add_option("--regions", collect_flags.regions, "Regions (default: every enabled region)")->delimiter(',');
  collect->add_option("--services", collect_flags.services, "Only these services")->delimiter(',');
  collect->add_option("--exclude-services", collect_flags.exclude, "Skip these services")->delimiter(',');
  collect->add_option("--concurrency", collect_flags.concurrency, "API requests in flight at most (threads listing and enriching)")->check(CLI::Range(1, 256));
  collect->add_option("--specs", collect_flags.specs_dir, "Resource spec directory (default: built-in specs)");
  collect->add_flag("--quiet", collect_flags.quiet, "No progress or summary");

  std::string tables_name, specs_dir;
  CLI::App* tables = app.add_subcommand("tables", "Document the inventory tables and their columns");
  tables->add_option("name", tables_name, "Table to describe");
  tables->add_option("--specs", specs_dir, "Resource spec directory");
  CLI::App* permissions = app.add_subcommand("permissions", "Print the least-privilege IAM policy for collection");
  permissions->add_option("--specs", specs_dir, "Resource spec directory");
  std::string permissions_format = "policy";
  permissions
      ->add_option("--format", permissions_format,
                   "policy: the IAM policy (JSON) on stdout, managed-policy coverage on stderr; coverage: the "
                   "coverage table on stdout; supplement: the policy of what SecurityAudit lacks")
      ->check(CLI::IsMember({"policy", "coverage", "supplement"}));

  std::string query_sql, query_db = "cloudaudit.db", query_format = "table";
  int64_t query_scan = 0;
  CLI::App* query = app.add_subcommand("query", "Run read-only SQL on the inventory (latest scan by default)");
  query->add_option("sql", query_sql, "SQL (SELECT ...)")->required();
  query->add_option("--db", query_db, "Store file");
  query->add_option("--scan", query_scan, "Scan id (default: the latest)");
  query->add_option("--format", query_format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  query->add_option("--specs", specs_dir, "Resource spec directory");

  std::string export_db = "cloudaudit.db", export_out;
  int64_t export_scan = 0;
  CLI::App* export_cmd = app.add_subcommand("export", "Write a scan's resources as JSON lines");
  export_cmd->add_option("--db", export_db, "Store file");
  export_cmd->add_option("--scan", export_scan, "Scan id (default: the latest)");
  export_cmd->add_option("--out", export_out, "Output file (default: standard output)");

  cloudaudit::cli::RuleCommands rule_commands(app);
  cloudaudit::cli::ThreatsCommand threats_command(app);
  cloudaudit::cli::ScanCommands scan_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  if (auto rc = rule_commands.Run()) return *rc;
  if (auto rc = threats_command.Run()) return *rc;
  if (auto rc = scan_commands.Run()) return *rc;
  if (*aws) return RunAws(aws_flags, service, operation, input, params, all_pages);
  if (*whoami) return RunWhoami(whoami_flags);
  if (*services) {
    for (const auto& name : cloudaudit::aws::EmbeddedServiceNames()) std::cout << name << "\n";
    return 0;
  }
  if (*operations) return RunOperations(ops_service);
  if (*collect) return RunCollect(collect_flags);
  if (*tables) return RunTables(specs_dir, tables_name);
  if (*permissions) return RunPermissions(specs_dir, permissions_format);
  if (*export_cmd) return RunExport(export_db, export_scan, export_out);
  if (*query) return RunQuery(query_db, query_sql, query_format, query_scan, specs_dir);
  return kExitUsage;
}
