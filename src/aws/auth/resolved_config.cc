#include "aws/auth/resolved_config.h"

#include <charconv>

#include <fmt/format.h>

#include "aws/auth/url.h"
#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

const ConfigSection& EmptySection() {
  static const ConfigSection empty;
  return empty;
}

std::string ConfigPath(const Environment& env, const char* env_name, const char* default_path) {
  std::string path = env.Get(env_name).value_or(default_path);
  return ExpandUser(ExpandVars(path, env), env);
}

// Reads and parses one file: nullopt when it does not exist or cannot be read
// (botocore's ConfigNotFound, and configparser silently skipping unreadable
// files), an error when it is malformed.
Result<std::optional<IniFile>> LoadIni(const FileSystem& fs, const std::string& path,
                                       const ConfigParseOptions& options, std::vector<std::string>* problems) {
  auto text = fs.ReadFile(path);
  if (!text) {
    if (text.error().code != ErrorCode::kNotFound) problems->push_back(text.error().message);
    return std::optional<IniFile>();
  }
  CA_TRY(IniFile ini, ParseConfigFile(*text, path, options));
  return std::optional<IniFile>(std::move(ini));
}

// Python's int(): surrounding whitespace, an optional sign, decimal digits.
Result<int64_t> ParsePythonInt(std::string_view name, std::string_view text) {
  std::string_view t = Trim(text);
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
    return MakeError(ErrorCode::kInvalidArgument, fmt::format("{} must be an integer, got \"{}\"", name, text));
  }
  return value;
}

bool IsTrue(const std::optional<std::string>& value) { return value && ToLower(*value) == "true"; }

}  // namespace

Result<ResolvedConfig> ResolvedConfig::Load(const ConfigOverrides& overrides, Environment env,
                                            std::shared_ptr<const FileSystem> fs,
                                            const ConfigParseOptions& parse_options) {
  ResolvedConfig rc;
  rc.overrides_ = overrides;
  rc.env_ = std::move(env);
  rc.fs_ = fs ? std::move(fs) : RealFileSystem();
  rc.config_file_path_ = ConfigPath(rc.env_, "AWS_CONFIG_FILE", "~/.aws/config");
  rc.credentials_file_path_ = ConfigPath(rc.env_, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");

  auto shared = std::make_shared<SharedConfig>();
  CA_TRY(auto config_ini, LoadIni(*rc.fs_, rc.config_file_path_, parse_options, &rc.read_problems_));
  if (config_ini) {
    shared->config_file_found = true;
    AddConfigFile(*shared, std::move(*config_ini));
  }
  CA_TRY(auto credentials_ini, LoadIni(*rc.fs_, rc.credentials_file_path_, parse_options, &rc.read_problems_));
  if (credentials_ini) {
    shared->credentials_file_found = true;
    AddCredentialsFile(*shared, std::move(*credentials_ini));
  }
  rc.shared_ = std::move(shared);

  bool explicit_profile = true;
  if (overrides.profile) {
    rc.profile_name_ = *overrides.profile;
    rc.profile_from_flag_ = true;
  } else if (auto p = rc.env_.Get("AWS_PROFILE")) {
    rc.profile_name_ = *p;
  } else if (auto d = rc.env_.Get("AWS_DEFAULT_PROFILE")) {
    rc.profile_name_ = *d;
  } else {
    rc.profile_name_ = "default";
    explicit_profile = false;
  }
  if (explicit_profile && rc.shared_->FindProfile(rc.profile_name_) == nullptr) {
    return MakeError(ErrorCode::kNotFound,
                     fmt::format("The config profile ({}) could not be found in {} or {}", rc.profile_name_,
                                 rc.config_file_path_, rc.credentials_file_path_));
  }
  return rc;
}

const ConfigSection& ResolvedConfig::profile() const {
  const ConfigSection* p = shared_->FindProfile(profile_name_);
  return p != nullptr ? *p : EmptySection();
}

std::optional<std::string> ResolvedConfig::ProfileString(std::string_view key) const {
  return GetString(profile(), key);
}

std::optional<std::string> ResolvedConfig::EnvOrProfile(std::string_view env_name, std::string_view key) const {
  if (auto v = env_.Get(env_name)) return v;
  return ProfileString(key);
}

std::optional<std::string> ResolvedConfig::Region() const {
  if (overrides_.region) return overrides_.region;
  if (auto v = env_.Get("AWS_REGION")) return v;
  return EnvOrProfile("AWS_DEFAULT_REGION", "region");
}

std::optional<std::string> ResolvedConfig::CaBundle() const {
  if (overrides_.ca_bundle) return overrides_.ca_bundle;
  return EnvOrProfile("AWS_CA_BUNDLE", "ca_bundle");
}

std::string ResolvedConfig::EndpointServiceKey(std::string_view service_id) {
  std::string key = ToLower(service_id);
  for (char& c : key)
    if (c == ' ' || c == '-') c = '_';
  return key;
}

Result<std::optional<std::string>> ResolvedConfig::EndpointUrl(std::string_view service_id) const {
  using Out = std::optional<std::string>;
  if (overrides_.endpoint_url) return Out(overrides_.endpoint_url);
  if (IsTrue(EnvOrProfile("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "ignore_configured_endpoint_urls"))) return Out();
  std::string key = EndpointServiceKey(service_id);
  std::string env_name = "AWS_ENDPOINT_URL_" + key;
  for (char& c : env_name)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  // Empty values fall through, as botocore tests them for truthiness.
  if (auto v = env_.Get(env_name); v && !v->empty()) return Out(v);
  if (auto v = env_.Get("AWS_ENDPOINT_URL"); v && !v->empty()) return Out(v);
  if (auto services_name = ProfileString("services")) {
    auto it = shared_->services.find(*services_name);
    if (it == shared_->services.end() || it->second.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("The profile \"{}\" is configured to use the services section \"{}\" but "
                                   "[services {}] does not exist in {}",
                                   profile_name_, *services_name, *services_name, config_file_path_));
    }
    auto svc = it->second.find(key);
    if (svc != it->second.end() && svc->second.is_subsection) {
      auto url = svc->second.subsection.find("endpoint_url");
      if (url != svc->second.subsection.end() && !url->second.empty()) return Out(url->second);
    }
  }
  if (auto v = ProfileString("endpoint_url"); v && !v->empty()) return Out(v);
  return Out();
}

Result<std::string> ResolvedConfig::RetryMode() const {
  std::string mode = EnvOrProfile("AWS_RETRY_MODE", "retry_mode").value_or("standard");
  if (mode != "legacy" && mode != "standard" && mode != "adaptive") {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid retry_mode \"{}\": expected legacy, standard or adaptive", mode));
  }
  return mode;
}

Result<int> ResolvedConfig::MaxAttempts() const {
  auto text = EnvOrProfile("AWS_MAX_ATTEMPTS", "max_attempts");
  if (!text) return 3;
  CA_TRY(int64_t value, ParsePythonInt("max_attempts", *text));
  if (value < 1 || value > 1000) {
    return MakeError(ErrorCode::kInvalidArgument, fmt::format("max_attempts must be between 1 and 1000, got {}", value));
  }
  return static_cast<int>(value);
}

Result<std::string> ResolvedConfig::StsRegionalEndpoints() const {
  std::string value = EnvOrProfile("AWS_STS_REGIONAL_ENDPOINTS", "sts_regional_endpoints").value_or("regional");
  if (value != "legacy" && value != "regional") {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid sts_regional_endpoints \"{}\": expected legacy or regional", value));
  }
  return value;
}

Result<ImdsSettings> ResolvedConfig::Imds() const {
  ImdsSettings s;
  s.disabled = IsTrue(env_.Get("AWS_EC2_METADATA_DISABLED"));
  std::string mode = "ipv4";
  if (auto m = EnvOrProfile("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ec2_metadata_service_endpoint_mode")) {
    mode = ToLower(*m);
    if (mode != "ipv4" && mode != "ipv6") {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("invalid ec2_metadata_service_endpoint_mode \"{}\": expected ipv4 or ipv6", *m));
    }
  } else if (IsTrue(EnvOrProfile("AWS_IMDS_USE_IPV6", "imds_use_ipv6"))) {
    mode = "ipv6";
  }
  auto custom = EnvOrProfile("AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint");
  if (custom && !custom->empty()) {
    s.endpoint = *custom;
  } else {
    s.endpoint = mode == "ipv6" ? "http://[fd00:ec2::254]/" : "http://169.254.169.254/";
  }
  if (auto parsed = ParseHttpUrl(s.endpoint); !parsed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("invalid EC2 metadata service endpoint: {}", parsed.error().message));
  }
  if (auto t = EnvOrProfile("AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout")) {
    CA_TRY(int64_t seconds, ParsePythonInt("metadata_service_timeout", *t));
    if (seconds < 0 || seconds > 3600) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("metadata_service_timeout must be between 0 and 3600 seconds, got {}", seconds));
    }
    s.timeout_ms = seconds * 1000;
  }
  if (auto n = EnvOrProfile("AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts")) {
    CA_TRY(int64_t attempts, ParsePythonInt("metadata_service_num_attempts", *n));
    if (attempts < 0 || attempts > 100) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("metadata_service_num_attempts must be between 0 and 100, got {}", attempts));
    }
    s.num_attempts = static_cast<int>(attempts);
  }
  s.v1_disabled = IsTrue(EnvOrProfile("AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled"));
  return s;
}

}  // namespace cloudaudit::aws
