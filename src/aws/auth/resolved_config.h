// Resolved AWS settings: which profile is active and what region, endpoint,
// CA bundle, retry and metadata-service settings apply, with the precedence
// of the AWS CLI v2 (command-line flag > environment variable > profile in
// ~/.aws/config or ~/.aws/credentials > default).
//
// A ResolvedConfig is an immutable snapshot: Load() reads the environment and
// both files once. It is cheap to copy and safe to share between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/auth/config_file.h"
#include "aws/auth/environment.h"
#include "base/error.h"

namespace cloudaudit::aws {

// Values given on the command line; nullopt means "flag not given".
struct ConfigOverrides {
  std::optional<std::string> profile;       // --profile
  std::optional<std::string> region;        // --region
  std::optional<std::string> endpoint_url;  // --endpoint-url
  std::optional<std::string> ca_bundle;     // --ca-bundle
};

// How credential providers reach the EC2 instance metadata service (IMDS).
struct ImdsSettings {
  bool disabled = false;       // AWS_EC2_METADATA_DISABLED=true (case-insensitive)
  std::string endpoint;        // base URL, e.g. "http://169.254.169.254/"
  int64_t timeout_ms = 1000;   // metadata_service_timeout (seconds in the config)
  int num_attempts = 1;        // metadata_service_num_attempts
  bool v1_disabled = false;    // ec2_metadata_v1_disabled: no fallback without a token
};

class ResolvedConfig {
 public:
  // Reads AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (after $VAR and ~
  // expansion; defaults ~/.aws/config and ~/.aws/credentials) through `fs`.
  // Missing files are fine; a file that exists but cannot be read is treated
  // as empty like the AWS CLI does, and noted in read_problems(). Errors:
  // kParse (with file and line) for a malformed file; kNotFound when a
  // profile was named explicitly (flag or AWS_PROFILE / AWS_DEFAULT_PROFILE)
  // but exists in neither file -- even "default", as in the AWS CLI.
  static Result<ResolvedConfig> Load(const ConfigOverrides& overrides, Environment env,
                                     std::shared_ptr<const FileSystem> fs,
                                     const ConfigParseOptions& parse_options = {});

  // The active profile: --profile > AWS_PROFILE > AWS_DEFAULT_PROFILE > "default".
  const std::string& profile_name() const { return profile_name_; }
  // True when --profile was given: botocore then skips the environment
  // variable credentials (AWS_ACCESS_KEY_ID...) and AWS_WEB_IDENTITY_TOKEN_FILE.
  bool profile_from_flag() const { return profile_from_flag_; }
  // The active profile's merged settings (empty when the implicit "default"
  // profile does not exist).
  const ConfigSection& profile() const;
  std::optional<std::string> ProfileString(std::string_view key) const;

  const SharedConfig& shared_config() const { return *shared_; }
  std::shared_ptr<const SharedConfig> shared_config_ptr() const { return shared_; }
  const Environment& environment() const { return env_; }
  const std::shared_ptr<const FileSystem>& file_system() const { return fs_; }
  const std::string& config_file_path() const { return config_file_path_; }
  const std::string& credentials_file_path() const { return credentials_file_path_; }
  // "cannot open /home/u/.aws/config: Permission denied" and the like.
  const std::vector<std::string>& read_problems() const { return read_problems_; }

  // --region > AWS_REGION > AWS_DEFAULT_REGION > profile `region`; nullopt
  // when none is set. As in botocore a variable set to "" yields "".
  std::optional<std::string> Region() const;

  // --ca-bundle > AWS_CA_BUNDLE > profile `ca_bundle` (~ and $VAR are not
  // expanded, as in botocore).
  std::optional<std::string> CaBundle() const;

  // The endpoint URL configured for a service, or nullopt for the default
  // endpoint. `service_id` is the model's metadata.serviceId ("S3",
  // "Elastic Load Balancing v2", "API Gateway"). Order: --endpoint-url >
  // AWS_ENDPOINT_URL_<SERVICE_ID> > AWS_ENDPOINT_URL > `endpoint_url` in the
  // profile's [services name] section > profile `endpoint_url`; everything
  // but the flag is skipped when ignore_configured_endpoint_urls
  // (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or profile) is true. kInvalidArgument
  // when the profile names a services section that does not exist.
  Result<std::optional<std::string>> EndpointUrl(std::string_view service_id) const;

  // AWS_RETRY_MODE > profile `retry_mode` > "standard" (the AWS CLI v2
  // default); one of legacy, standard, adaptive, else kInvalidArgument.
  Result<std::string> RetryMode() const;
  // AWS_MAX_ATTEMPTS > profile `max_attempts` > 3 (AWS CLI v2); an integer >= 1.
  Result<int> MaxAttempts() const;
  // AWS_STS_REGIONAL_ENDPOINTS > profile `sts_regional_endpoints` >
  // "regional"; "legacy" or "regional". (The AWS CLI v2 always behaves as
  // "regional"; the setting is resolved for callers that honour it.)
  Result<std::string> StsRegionalEndpoints() const;

  // metadata_service_timeout, metadata_service_num_attempts,
  // ec2_metadata_service_endpoint(_mode), imds_use_ipv6,
  // ec2_metadata_v1_disabled (environment variable > profile > default).
  // kInvalidArgument for a non-integer number, an unknown endpoint mode or an
  // endpoint that is not an http(s) URL.
  Result<ImdsSettings> Imds() const;

  // Transforms a model serviceId the way botocore does for endpoint settings:
  // "Elastic Load Balancing v2" -> "elastic_load_balancing_v2".
  static std::string EndpointServiceKey(std::string_view service_id);

 private:
  // Environment variable first, then the profile.
  std::optional<std::string> EnvOrProfile(std::string_view env_name, std::string_view key) const;

  ConfigOverrides overrides_;
  Environment env_;
  std::shared_ptr<const FileSystem> fs_;
  std::shared_ptr<const SharedConfig> shared_;
  std::string profile_name_;
  bool profile_from_flag_ = false;
  std::string config_file_path_;
  std::string credentials_file_path_;
  std::vector<std::string> read_problems_;
};

}  // namespace cloudaudit::aws
