// Sources that read only the environment, files and local processes.

#include "aws/auth/credential_sources.h"

#include <openssl/evp.h>

#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "aws/auth/credential_sources_internal.h"
#include "aws/auth/process.h"
#include "aws/auth/shell_split.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::aws {

namespace internal {

std::optional<std::string> JsonString(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

Result<int64_t> ParseExpirationText(std::string_view text, std::string_view what) {
  // Older AWS CLI v2 releases wrote SSO cache times as
  // "2020-06-17T10:18:08UTC", which dateutil reads; base's parser wants "Z".
  std::string normalized(Trim(text));
  if (normalized.size() > 3 && normalized.compare(normalized.size() - 3, 3, "UTC") == 0 &&
      std::isdigit(static_cast<unsigned char>(normalized[normalized.size() - 4]))) {
    normalized.replace(normalized.size() - 3, 3, "Z");
  }
  auto ts = ParseTimestamp(normalized);
  if (!ts) return CredentialsError(fmt::format("{}: invalid expiration time: {}", what, ts.error().message));
  return ts->epoch_seconds;
}

Result<int64_t> ParseExpirationJson(const Json& value, std::string_view what) {
  if (value.is_string()) return ParseExpirationText(value.get<std::string>(), what);
  if (value.is_number()) {
    double seconds = value.get<double>();
    if (std::isfinite(seconds) && std::fabs(seconds) < 1e13) return static_cast<int64_t>(std::floor(seconds));
  }
  return CredentialsError(fmt::format("{}: the expiration time is neither a timestamp nor a number", what));
}

Error WrapError(Error error, std::string_view context) {
  error.message = fmt::format("{}: {}", context, error.message);
  error.code = ErrorCode::kCredentials;
  return error;
}

Result<std::optional<std::string>> PlainValue(const ConfigSection& section, std::string_view key,
                                              std::string_view where) {
  auto it = section.find(std::string(key));
  if (it == section.end()) return std::optional<std::string>();
  if (it->second.is_subsection) {
    return CredentialsError(fmt::format("{}: \"{}\" must be a single value, not indented settings", where, key));
  }
  return std::optional<std::string>(it->second.text);
}

std::string DefaultRoleSessionName(const SourceContext& ctx) {
  return fmt::format("cloudaudit-session-{}", ctx.clock());
}

std::string Sha1Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), len));
}

}  // namespace internal

namespace {

using internal::CredentialsError;
using internal::PlainValue;

// ---------------------------------------------------------------- env

class EnvSource final : public CredentialSource {
 public:
  explicit EnvSource(SourceContextPtr ctx) : ctx_(std::move(ctx)) {}
  const char* method() const override { return "env"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    if (ctx_->env.Get("AWS_ACCESS_KEY_ID").value_or("").empty()) {
      *not_found = "AWS_ACCESS_KEY_ID is not set";
      return nullptr;
    }
    CA_TRY(Credentials creds, Read(*ctx_, /*require_expiry=*/false));
    if (!creds.expiration) return std::make_shared<StaticCredentialsProvider>(std::move(creds));
    // Expiring environment credentials are re-read on refresh; an unchanged
    // environment then reports that they expired, as botocore does.
    auto ctx = ctx_;
    return std::make_shared<RefreshingCredentialsProvider>(
        method(), [ctx] { return Read(*ctx, /*require_expiry=*/true); }, ctx_->clock, std::move(creds));
  }

 private:
  static Result<Credentials> Read(const SourceContext& ctx, bool require_expiry) {
    auto get = [&](const char* name) { return ctx.env.Get(name).value_or(""); };
    Credentials creds;
    creds.source = "env";
    creds.access_key_id = get("AWS_ACCESS_KEY_ID");
    if (creds.access_key_id.empty()) {
      return CredentialsError("Partial credentials found in env, missing: AWS_ACCESS_KEY_ID");
    }
    creds.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
    if (creds.secret_access_key.empty()) {
      return CredentialsError("Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY");
    }
    creds.session_token = get("AWS_SECURITY_TOKEN");
    if (creds.session_token.empty()) creds.session_token = get("AWS_SESSION_TOKEN");
    std::string expiry = get("AWS_CREDENTIAL_EXPIRATION");
    if (!expiry.empty()) {
      CA_TRY(creds.expiration, internal::ParseExpirationText(expiry, "AWS_CREDENTIAL_EXPIRATION"));
    } else if (require_expiry) {
      return CredentialsError("Partial credentials found in env, missing: AWS_CREDENTIAL_EXPIRATION");
    }
    creds.account_id = get("AWS_ACCOUNT_ID");
    return creds;
  }

  SourceContextPtr ctx_;
};

// ---------------------------------------------------------------- static keys in a file section

// aws_access_key_id / aws_secret_access_key / aws_session_token (or the older
// aws_security_token, which wins when both are present, as in botocore).
Result<std::shared_ptr<CredentialsProvider>> StaticKeysFromSection(const ConfigSection& section,
                                                                   const std::string& where, const char* method) {
  CA_TRY(auto access_key, PlainValue(section, "aws_access_key_id", where));
  CA_TRY(auto secret_key, PlainValue(section, "aws_secret_access_key", where));
  if (!secret_key) {
    return CredentialsError(
        fmt::format("Partial credentials found in {} ({}), missing: aws_secret_access_key", method, where));
  }
  // botocore would sign with an empty key and let AWS reject it; saying so
  // here is clearer and still stops the chain.
  if (access_key->empty() || secret_key->empty()) {
    return CredentialsError(fmt::format("{}: aws_access_key_id or aws_secret_access_key is empty", where));
  }
  Credentials creds;
  creds.source = method;
  creds.access_key_id = *access_key;
  creds.secret_access_key = *secret_key;
  for (const char* key : {"aws_security_token", "aws_session_token"}) {
    CA_TRY(auto token, PlainValue(section, key, where));
    if (token) {
      creds.session_token = *token;
      break;
    }
  }
  CA_TRY(auto account, PlainValue(section, "aws_account_id", where));
  creds.account_id = account.value_or("");
  return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(std::move(creds)));
}

class SharedCredentialsFileSource final : public CredentialSource {
 public:
  SharedCredentialsFileSource(SourceContextPtr ctx, std::string profile)
      : ctx_(std::move(ctx)), profile_(std::move(profile)) {}
  const char* method() const override { return "shared-credentials-file"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    const std::string& path = ctx_->credentials_file_path;
    if (!ctx_->config->credentials_file_found) {
      *not_found = fmt::format("{} is missing or unreadable", path);
      return nullptr;
    }
    const IniSection* section = ctx_->config->credentials_file.Find(profile_);
    if (section == nullptr) {
      *not_found = fmt::format("{} has no [{}] section", path, profile_);
      return nullptr;
    }
    if (!HasKey(section->values, "aws_access_key_id")) {
      *not_found = fmt::format("[{}] in {} has no aws_access_key_id", profile_, path);
      return nullptr;
    }
    return StaticKeysFromSection(section->values, fmt::format("[{}] in {}", profile_, path), method());
  }

 private:
  SourceContextPtr ctx_;
  std::string profile_;
};

class ConfigFileSource final : public CredentialSource {
 public:
  ConfigFileSource(SourceContextPtr ctx, std::string profile) : ctx_(std::move(ctx)), profile_(std::move(profile)) {}
  const char* method() const override { return "config-file"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    const std::string& path = ctx_->config_file_path;
    if (!ctx_->config->config_file_found) {
      *not_found = fmt::format("{} is missing or unreadable", path);
      return nullptr;
    }
    auto it = ctx_->config->config_file_profiles.find(profile_);
    if (it == ctx_->config->config_file_profiles.end()) {
      *not_found = fmt::format("{} has no profile \"{}\"", path, profile_);
      return nullptr;
    }
    if (!HasKey(it->second, "aws_access_key_id")) {
      *not_found = fmt::format("profile \"{}\" in {} has no aws_access_key_id", profile_, path);
      return nullptr;
    }
    return StaticKeysFromSection(it->second, fmt::format("profile \"{}\" in {}", profile_, path), method());
  }

 private:
  SourceContextPtr ctx_;
  std::string profile_;
};

// ---------------------------------------------------------------- credential_process

// Never quotes stdout (it holds the secret); stderr is the program's own
// diagnostics and is what botocore reports.
Result<Credentials> RunCredentialProcess(const std::string& command, const std::string& profile,
                                         const std::string& profile_account_id) {
  std::string what = fmt::format("credential_process of profile \"{}\"", profile);
  auto argv = ShellSplit(command);
  if (!argv) return CredentialsError(fmt::format("{}: cannot split the command: {}", what, argv.error().message));
  if (argv->empty()) return CredentialsError(fmt::format("{}: the command is empty", what));
  auto out = RunProcess(*argv);
  if (!out) return CredentialsError(fmt::format("{}: {}", what, out.error().message));
  if (out->killed_by_signal) {
    return CredentialsError(fmt::format("{}: \"{}\" was killed by signal {}", what, (*argv)[0], out->signal));
  }
  if (out->exit_code != 0) {
    std::string err(Trim(out->stderr_data));
    if (err.size() > 2000) err = err.substr(0, 2000) + "...";
    return CredentialsError(fmt::format("{}: \"{}\" exited with status {}{}{}", what, (*argv)[0], out->exit_code,
                                        err.empty() ? "" : ": ", err));
  }
  auto parsed = ParseJson(out->stdout_data);
  if (!parsed || !parsed->is_object()) {
    return CredentialsError(fmt::format("{}: the output is not a JSON object", what));
  }
  const Json& doc = *parsed;
  auto version = doc.find("Version");
  if (version == doc.end() || !version->is_number() || version->get<double>() != 1.0) {
    std::string shown = version == doc.end() ? "<Version key not provided>" : version->dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    return CredentialsError(fmt::format(
        "{}: unsupported version '{}' for credential process provider, supported versions: 1", what, shown));
  }
  Credentials creds;
  creds.source = "custom-process";
  for (auto [key, field] : {std::pair{"AccessKeyId", &creds.access_key_id},
                            std::pair{"SecretAccessKey", &creds.secret_access_key}}) {
    auto value = internal::JsonString(doc, key);
    if (!value) return CredentialsError(fmt::format("{}: missing required key in response: '{}'", what, key));
    *field = *value;
  }
  creds.session_token = internal::JsonString(doc, "SessionToken").value_or("");
  if (auto expiration = doc.find("Expiration"); expiration != doc.end() && !expiration->is_null()) {
    CA_TRY(creds.expiration, internal::ParseExpirationJson(*expiration, what));
  }
  creds.account_id = internal::JsonString(doc, "AccountId").value_or(profile_account_id);
  return creds;
}

class ProcessSource final : public CredentialSource {
 public:
  ProcessSource(SourceContextPtr ctx, std::string profile) : ctx_(std::move(ctx)), profile_(std::move(profile)) {}
  const char* method() const override { return "custom-process"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    const ConfigSection* section = ctx_->config->FindProfile(profile_);
    std::string where = fmt::format("profile \"{}\"", profile_);
    std::optional<std::string> command;
    std::optional<std::string> account;
    if (section != nullptr) {
      CA_TRY(command, PlainValue(*section, "credential_process", where));
      CA_TRY(account, PlainValue(*section, "aws_account_id", where));
    }
    if (!command) {
      *not_found = fmt::format("profile \"{}\" has no credential_process", profile_);
      return nullptr;
    }
    auto fetch = [command = *command, profile = profile_, account = account.value_or("")] {
      return RunCredentialProcess(command, profile, account);
    };
    CA_TRY(Credentials first, fetch());
    if (!first.expiration) return std::make_shared<StaticCredentialsProvider>(std::move(first));
    return std::make_shared<RefreshingCredentialsProvider>(method(), fetch, ctx_->clock, std::move(first));
  }

 private:
  SourceContextPtr ctx_;
  std::string profile_;
};

// ---------------------------------------------------------------- legacy files

std::vector<std::string_view> SplitAnyNewline(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n' || text[i] == '\r') {
      lines.push_back(text.substr(start, i - start));
      if (i + 1 < text.size() && text[i] == '\r' && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  return lines;
}

class Ec2CredentialFileSource final : public CredentialSource {
 public:
  explicit Ec2CredentialFileSource(SourceContextPtr ctx) : ctx_(std::move(ctx)) {}
  const char* method() const override { return "ec2-credentials-file"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    auto name = ctx_->env.Get("AWS_CREDENTIAL_FILE");
    if (!name) {
      *not_found = "AWS_CREDENTIAL_FILE is not set";
      return nullptr;
    }
    std::string path = ExpandUser(*name, ctx_->env);
    auto text = ctx_->fs->ReadFile(path);
    if (!text) {
      return CredentialsError(fmt::format("The specified config file ({}) could not be found: {}", path,
                                          text.error().message));
    }
    std::map<std::string, std::string> values;
    for (std::string_view line : SplitAnyNewline(*text)) {
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) continue;
      values[std::string(Trim(line.substr(0, eq)))] = std::string(Trim(line.substr(eq + 1)));
    }
    auto access = values.find("AWSAccessKeyId");
    if (access == values.end()) {
      *not_found = fmt::format("AWS_CREDENTIAL_FILE {} has no AWSAccessKeyId", path);
      return nullptr;
    }
    auto secret = values.find("AWSSecretKey");
    if (secret == values.end()) {
      return CredentialsError(fmt::format("AWS_CREDENTIAL_FILE {} has AWSAccessKeyId but no AWSSecretKey", path));
    }
    Credentials creds;
    creds.source = method();
    creds.access_key_id = access->second;
    creds.secret_access_key = secret->second;
    return std::make_shared<StaticCredentialsProvider>(std::move(creds));
  }

 private:
  SourceContextPtr ctx_;
};

class BotoConfigSource final : public CredentialSource {
 public:
  explicit BotoConfigSource(SourceContextPtr ctx) : ctx_(std::move(ctx)) {}
  const char* method() const override { return "boto-config"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    std::vector<std::string> locations;
    if (auto boto = ctx_->env.Get("BOTO_CONFIG")) {
      locations.push_back(*boto);
    } else {
      locations = {"/etc/boto.cfg", "~/.boto"};
    }
    for (const std::string& location : locations) {
      std::string path = ExpandUser(ExpandVars(location, ctx_->env), ctx_->env);
      auto text = ctx_->fs->ReadFile(path);
      if (!text) continue;
      // A malformed boto config stops the chain, as it does in the AWS CLI.
      CA_TRY(IniFile ini, ParseConfigFile(*text, path));
      const IniSection* section = ini.Find("Credentials");
      if (section == nullptr || !HasKey(section->values, "aws_access_key_id")) continue;
      CA_TRY(auto access_key, PlainValue(section->values, "aws_access_key_id", path));
      CA_TRY(auto secret_key, PlainValue(section->values, "aws_secret_access_key", path));
      if (!secret_key) {
        return CredentialsError(
            fmt::format("Partial credentials found in boto-config ({}), missing: aws_secret_access_key", path));
      }
      Credentials creds;
      creds.source = method();
      creds.access_key_id = *access_key;
      creds.secret_access_key = *secret_key;
      return std::make_shared<StaticCredentialsProvider>(std::move(creds));
    }
    *not_found = fmt::format("no [Credentials] in {}", fmt::join(locations, " or "));
    return nullptr;
  }

 private:
  SourceContextPtr ctx_;
};

}  // namespace

SourcePtr MakeEnvSource(SourceContextPtr ctx) { return std::make_unique<EnvSource>(std::move(ctx)); }
SourcePtr MakeSharedCredentialsFileSource(SourceContextPtr ctx, std::string profile) {
  return std::make_unique<SharedCredentialsFileSource>(std::move(ctx), std::move(profile));
}
SourcePtr MakeConfigFileSource(SourceContextPtr ctx, std::string profile) {
  return std::make_unique<ConfigFileSource>(std::move(ctx), std::move(profile));
}
SourcePtr MakeProcessSource(SourceContextPtr ctx, std::string profile) {
  return std::make_unique<ProcessSource>(std::move(ctx), std::move(profile));
}
SourcePtr MakeEc2CredentialFileSource(SourceContextPtr ctx) {
  return std::make_unique<Ec2CredentialFileSource>(std::move(ctx));
}
SourcePtr MakeBotoConfigSource(SourceContextPtr ctx) { return std::make_unique<BotoConfigSource>(std::move(ctx)); }

std::vector<SourcePtr> MakeProfileSources(const SourceContextPtr& ctx, const std::string& profile, bool use_env) {
  std::vector<SourcePtr> sources;
  sources.push_back(MakeWebIdentitySource(ctx, profile, use_env));
  sources.push_back(MakeSsoSource(ctx, profile));
  sources.push_back(MakeSharedCredentialsFileSource(ctx, profile));
  sources.push_back(MakeProcessSource(ctx, profile));
  sources.push_back(MakeConfigFileSource(ctx, profile));
  return sources;
}

Result<std::shared_ptr<CredentialsProvider>> LoadFirst(std::vector<SourcePtr>& sources,
                                                       std::vector<std::string>* not_found) {
  for (SourcePtr& source : sources) {
    std::string reason;
    CA_TRY(auto provider, source->Load(&reason));
    if (provider) return provider;
    not_found->push_back(fmt::format("{}: {}", source->method(), reason));
  }
  return std::shared_ptr<CredentialsProvider>();
}

}  // namespace cloudaudit::aws
