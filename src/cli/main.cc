// cloudaudit command line: argument parsing and output only; all the work is
// in the libraries under src/.
//
// Exit codes (the AWS CLI's, so scripts can treat both alike):
//   0    success
//   252  bad command line or parameters
//   253  configuration or credentials problem
//   254  AWS returned an error (access denied, not found, throttled...)
//   255  anything else (network, malformed response, internal)
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "aws/client/cli_input.h"
#include "aws/client/cli_output.h"
#include "aws/client/read_only.h"
#include "aws/client/session.h"
#include "aws/model/model.h"

namespace {

using cloudaudit::Error;
using cloudaudit::ErrorCode;

constexpr int kExitUsage = 252;
constexpr int kExitConfig = 253;
constexpr int kExitService = 254;
constexpr int kExitOther = 255;

int ExitCodeFor(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kReadOnly: return kExitUsage;
    case ErrorCode::kCredentials: return kExitConfig;
    case ErrorCode::kAwsService:
    case ErrorCode::kNotConfigured: return kExitService;
    default: return e.file.empty() ? kExitOther : kExitConfig;
  }
}

int ReportError(const Error& e) {
  std::cerr << "\n" << cloudaudit::aws::DescribeAwsError(e) << "\n";
  return ExitCodeFor(e);
}

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
  const cloudaudit::aws::Operation* op = (*model)->FindOperation(operation);
  if (op == nullptr) {
    std::string msg = "unknown operation \"" + operation + "\" for service " + (*model)->name();
    auto suggestions = (*model)->SuggestOperations(operation);
    if (!suggestions.empty()) {
      msg += "; did you mean ";
      for (size_t i = 0; i < suggestions.size(); ++i) msg += (i ? ", " : "") + suggestions[i];
      msg += "?";
    }
    std::cerr << msg << "\n";
    return kExitUsage;
  }
  auto call_params = cloudaudit::aws::BuildCliParams(*op, input, params);
  if (!call_params) return ReportError(call_params.error());
  auto session = cloudaudit::aws::OpenSession(flags.Overrides());
  if (!session) return ReportError(session.error());
  auto& client = *session->client;
  auto result = all_pages ? client.CallAllPages((*model)->name(), op->name, *call_params)
                          : client.Call((*model)->name(), op->name, *call_params);
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  if (*aws) return RunAws(aws_flags, service, operation, input, params, all_pages);
  if (*whoami) return RunWhoami(whoami_flags);
  if (*services) {
    for (const auto& name : cloudaudit::aws::EmbeddedServiceNames()) std::cout << name << "\n";
    return 0;
  }
  if (*operations) return RunOperations(ops_service);
  return kExitUsage;
}
