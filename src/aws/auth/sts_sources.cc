// Sources that exchange something for temporary credentials through AWS:
// sts AssumeRole (role_arn + source_profile/credential_source), sts
// AssumeRoleWithWebIdentity, and sso GetRoleCredentials.

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "aws/auth/credential_sources.h"
#include "aws/auth/credential_sources_internal.h"
#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

using internal::CredentialsError;
using internal::PlainValue;

// A role chain longer than this is certainly a mistake; the limit keeps a
// hostile config file from exhausting the stack.
constexpr size_t kMaxRoleChain = 64;

std::string QuotedList(const std::vector<std::string>& names) {
  std::vector<std::string> quoted;
  for (const std::string& n : names) quoted.push_back("\"" + n + "\"");
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

// {"Credentials": {"AccessKeyId", "SecretAccessKey", "SessionToken",
// "Expiration"}, "AssumedRoleUser": {"Arn": ...}} from both STS operations.
Result<Credentials> CredentialsFromSts(const Json& response, const char* method, const std::string& what) {
  auto it = response.is_object() ? response.find("Credentials") : response.end();
  if (!response.is_object() || it == response.end() || !it->is_object()) {
    return CredentialsError(fmt::format("{}: the response has no Credentials", what));
  }
  const Json& c = *it;
  Credentials creds;
  creds.source = method;
  for (auto [key, field] : {std::pair{"AccessKeyId", &creds.access_key_id},
                            std::pair{"SecretAccessKey", &creds.secret_access_key},
                            std::pair{"SessionToken", &creds.session_token}}) {
    auto value = internal::JsonString(c, key);
    if (!value) return CredentialsError(fmt::format("{}: the response has no Credentials.{}", what, key));
    *field = *value;
  }
  auto expiration = c.find("Expiration");
  if (expiration == c.end()) return CredentialsError(fmt::format("{}: the response has no Credentials.Expiration", what));
  CA_TRY(creds.expiration, internal::ParseExpirationJson(*expiration, what));
  // arn:aws:sts::123456789012:assumed-role/name/session
  if (auto user = response.find("AssumedRoleUser"); user != response.end()) {
    if (auto arn = internal::JsonString(*user, "Arn")) {
      auto parts = Split(*arn, ':');
      if (parts.size() > 4) creds.account_id = parts[4];
    }
  }
  return creds;
}

bool HasStaticKeys(const ConfigSection& profile) {
  return HasKey(profile, "aws_access_key_id") || HasKey(profile, "aws_secret_access_key");
}

bool HasAssumeRoleKeys(const ConfigSection& profile) {
  // A profile with web_identity_token_file belongs to the web identity source
  // even though it has a role_arn.
  return HasKey(profile, "role_arn") && !HasKey(profile, "web_identity_token_file");
}

// ---------------------------------------------------------------- assume-role

class AssumeRoleSource final : public CredentialSource {
 public:
  AssumeRoleSource(SourceContextPtr ctx, std::string profile) : ctx_(std::move(ctx)), profile_(std::move(profile)) {}
  const char* method() const override { return "assume-role"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    const ConfigSection* profile = ctx_->config->FindProfile(profile_);
    if (profile == nullptr || !HasAssumeRoleKeys(*profile)) {
      *not_found = fmt::format("profile \"{}\" has no role_arn", profile_);
      return nullptr;
    }
    visited_ = {profile_};
    return LoadViaAssumeRole(profile_);
  }

 private:
  struct RoleConfig {
    std::string role_arn;
    std::optional<std::string> source_profile;
    std::optional<std::string> credential_source;
    std::optional<std::string> external_id;
    std::optional<std::string> mfa_serial;
    std::optional<std::string> role_session_name;
    std::optional<int64_t> duration_seconds;
  };

  const ConfigSection& Profile(const std::string& name) const { return *ctx_->config->FindProfile(name); }

  Result<RoleConfig> GetRoleConfig(const std::string& name) {
    const ConfigSection& profile = Profile(name);
    std::string where = fmt::format("profile \"{}\"", name);
    RoleConfig rc;
    CA_TRY(auto role_arn, PlainValue(profile, "role_arn", where));
    rc.role_arn = role_arn.value_or("");
    CA_TRY(rc.source_profile, PlainValue(profile, "source_profile", where));
    CA_TRY(rc.credential_source, PlainValue(profile, "credential_source", where));
    CA_TRY(rc.external_id, PlainValue(profile, "external_id", where));
    CA_TRY(rc.mfa_serial, PlainValue(profile, "mfa_serial", where));
    CA_TRY(rc.role_session_name, PlainValue(profile, "role_session_name", where));
    CA_TRY(auto duration, PlainValue(profile, "duration_seconds", where));
    if (duration) {
      // botocore ignores a duration that is not an integer.
      std::string_view d = Trim(*duration);
      if (!d.empty() && d[0] == '+') d.remove_prefix(1);
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(d.data(), d.data() + d.size(), value);
      if (!d.empty() && ec == std::errc() && ptr == d.data() + d.size()) rc.duration_seconds = value;
    }
    if (rc.credential_source && rc.source_profile) {
      return CredentialsError(
          fmt::format("The profile \"{}\" contains both source_profile and credential_source.", name));
    }
    if (!rc.credential_source && !rc.source_profile) {
      return CredentialsError(fmt::format(
          "The profile \"{}\" has a role_arn but neither source_profile nor credential_source (partial "
          "credentials found in assume-role, missing: source_profile or credential_source)",
          name));
    }
    if (rc.credential_source) {
      const std::string& cs = *rc.credential_source;
      // Case-sensitive, as botocore's is_supported check is.
      if (cs != "Environment" && cs != "Ec2InstanceMetadata" && cs != "EcsContainer") {
        return CredentialsError(fmt::format(
            "The credential source \"{}\" referenced in profile \"{}\" is not valid (expected Environment, "
            "Ec2InstanceMetadata or EcsContainer).",
            cs, name));
      }
    } else {
      CA_TRY_STATUS(ValidateSourceProfile(name, *rc.source_profile));
    }
    return rc;
  }

  Status ValidateSourceProfile(const std::string& parent, const std::string& source) {
    const ConfigSection* profile = ctx_->config->FindProfile(source);
    if (profile == nullptr) {
      return CredentialsError(fmt::format(
          "The source_profile \"{}\" referenced in the profile \"{}\" does not exist.", source, parent));
    }
    if (std::find(visited_.begin(), visited_.end(), source) == visited_.end()) {
      if (visited_.size() >= kMaxRoleChain) {
        return CredentialsError(fmt::format("The chain of source_profile references starting at profile \"{}\" is "
                                            "longer than {} profiles.",
                                            visited_.front(), kMaxRoleChain));
      }
      return {};
    }
    // A profile may name itself as source_profile to combine its own static
    // keys with its role; any other repeat is a loop.
    if (source == parent && HasStaticKeys(*profile)) return {};
    return CredentialsError(fmt::format(
        "Infinite loop in credential configuration detected. Attempting to load from profile \"{}\" which has "
        "already been visited. Visited profiles: {}",
        source, QuotedList(visited_)));
  }

  Result<std::shared_ptr<CredentialsProvider>> SourceFromCredentialSource(const std::string& name,
                                                                          const std::string& credential_source) {
    SourcePtr source;
    if (credential_source == "Environment") {
      source = MakeEnvSource(ctx_);
    } else if (credential_source == "Ec2InstanceMetadata") {
      source = MakeInstanceMetadataSource(ctx_);
    } else {
      source = MakeContainerSource(ctx_);
    }
    std::string reason;
    CA_TRY(auto provider, source->Load(&reason));
    if (!provider) {
      return CredentialsError(fmt::format(
          "No credentials found in credential_source {} referenced in profile \"{}\" ({}: {})", credential_source,
          name, source->method(), reason));
    }
    return provider;
  }

  Result<std::shared_ptr<CredentialsProvider>> SourceFromProfile(const std::string& name) {
    const ConfigSection& profile = Profile(name);
    if (HasStaticKeys(profile) || !HasAssumeRoleKeys(profile)) {
      auto sources = MakeProfileSources(ctx_, name, /*use_env=*/false);
      std::vector<std::string> looked;
      CA_TRY(auto provider, LoadFirst(sources, &looked));
      if (!provider) {
        return CredentialsError(fmt::format("The source profile \"{}\" must have credentials (looked at: {}).",
                                            name, fmt::join(looked, "; ")));
      }
      return provider;
    }
    return LoadViaAssumeRole(name);
  }

  Result<std::shared_ptr<CredentialsProvider>> LoadViaAssumeRole(const std::string& name) {
    CA_TRY(RoleConfig rc, GetRoleConfig(name));
    std::shared_ptr<CredentialsProvider> source;
    if (rc.credential_source) {
      CA_TRY(source, SourceFromCredentialSource(name, *rc.credential_source));
    } else {
      visited_.push_back(*rc.source_profile);
      CA_TRY(source, SourceFromProfile(*rc.source_profile));
    }

    Json params = Json::object();
    params["RoleArn"] = rc.role_arn;
    params["RoleSessionName"] = rc.role_session_name.value_or("").empty() ? internal::DefaultRoleSessionName(*ctx_)
                                                                           : *rc.role_session_name;
    if (rc.external_id) params["ExternalId"] = *rc.external_id;
    if (rc.mfa_serial) params["SerialNumber"] = *rc.mfa_serial;
    if (rc.duration_seconds) params["DurationSeconds"] = *rc.duration_seconds;

    auto ctx = ctx_;
    std::string what = fmt::format("assume-role: sts AssumeRole of {} for profile \"{}\"", rc.role_arn, name);
    RefreshingCredentialsProvider::Fetch fetch = [ctx, source, params, mfa_serial = rc.mfa_serial,
                                                  what]() -> Result<Credentials> {
      Json call_params = params;
      if (mfa_serial) {
        if (!ctx->mfa_prompt) return CredentialsError(fmt::format("{}: no way to ask for the MFA code", what));
        auto code = ctx->mfa_prompt(fmt::format("Enter MFA code for {}: ", *mfa_serial));
        if (!code) return Fail(internal::WrapError(std::move(code).error(), what));
        call_params["TokenCode"] = std::string(Trim(*code));
      }
      auto source_creds = source->GetCredentials();
      if (!source_creds) return Fail(internal::WrapError(std::move(source_creds).error(), what));
      if (ctx->caller == nullptr) return CredentialsError(fmt::format("{}: no AWS caller is configured", what));
      auto response = ctx->caller->Call("sts", "AssumeRole", call_params, &*source_creds, ctx->region);
      if (!response) return Fail(internal::WrapError(std::move(response).error(), what));
      return CredentialsFromSts(*response, "assume-role", what);
    };
    if (rc.mfa_serial) fetch = FetchOnceForMfa(std::move(fetch));
    return std::make_shared<RefreshingCredentialsProvider>(method(), std::move(fetch), ctx_->clock);
  }

  SourceContextPtr ctx_;
  std::string profile_;
  std::vector<std::string> visited_;
};

// ---------------------------------------------------------------- web identity

class WebIdentitySource final : public CredentialSource {
 public:
  WebIdentitySource(SourceContextPtr ctx, std::string profile, bool use_env)
      : ctx_(std::move(ctx)), profile_(std::move(profile)), use_env_(use_env) {}
  const char* method() const override { return "assume-role-with-web-identity"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    CA_TRY(auto token_file, Setting("web_identity_token_file", "AWS_WEB_IDENTITY_TOKEN_FILE"));
    if (!token_file || token_file->empty()) {
      *not_found = use_env_ ? fmt::format("AWS_WEB_IDENTITY_TOKEN_FILE is not set and profile \"{}\" has no "
                                          "web_identity_token_file",
                                          profile_)
                            : fmt::format("profile \"{}\" has no web_identity_token_file", profile_);
      return nullptr;
    }
    CA_TRY(auto role_arn, Setting("role_arn", "AWS_ROLE_ARN"));
    if (!role_arn || role_arn->empty()) {
      return CredentialsError(
          "The provided profile or the current environment is configured to assume role with web identity but "
          "has no role ARN configured. Ensure that the profile has the role_arn configuration set or the "
          "AWS_ROLE_ARN env var is set.");
    }
    CA_TRY(auto session_name, Setting("role_session_name", "AWS_ROLE_SESSION_NAME"));
    Json params = Json::object();
    params["RoleArn"] = *role_arn;
    params["RoleSessionName"] =
        session_name.value_or("").empty() ? internal::DefaultRoleSessionName(*ctx_) : *session_name;
    auto ctx = ctx_;
    std::string what = fmt::format("assume-role-with-web-identity: sts AssumeRoleWithWebIdentity of {}", *role_arn);
    auto fetch = [ctx, params, path = *token_file, what]() -> Result<Credentials> {
      // Read on every fetch: Kubernetes rotates projected tokens.
      auto token = ctx->fs->ReadFile(path);
      if (!token) {
        return CredentialsError(fmt::format("{}: cannot read the web identity token file: {}", what,
                                            token.error().message));
      }
      Json call_params = params;
      call_params["WebIdentityToken"] = *token;
      if (ctx->caller == nullptr) return CredentialsError(fmt::format("{}: no AWS caller is configured", what));
      // Unsigned: the token is the proof of identity.
      auto response = ctx->caller->Call("sts", "AssumeRoleWithWebIdentity", call_params, nullptr, ctx->region);
      if (!response) return Fail(internal::WrapError(std::move(response).error(), what));
      return CredentialsFromSts(*response, "assume-role-with-web-identity", what);
    };
    return std::make_shared<RefreshingCredentialsProvider>(method(), fetch, ctx_->clock);
  }

 private:
  // Each setting on its own: the environment variable (unless --profile was
  // given), else the profile. botocore mixes them the same way.
  Result<std::optional<std::string>> Setting(const char* key, const char* env_name) const {
    if (use_env_) {
      if (auto v = ctx_->env.Get(env_name)) return std::optional<std::string>(*v);
    }
    const ConfigSection* profile = ctx_->config->FindProfile(profile_);
    if (profile == nullptr) return std::optional<std::string>();
    return PlainValue(*profile, key, fmt::format("profile \"{}\"", profile_));
  }

  SourceContextPtr ctx_;
  std::string profile_;
  bool use_env_;
};

// ---------------------------------------------------------------- SSO

struct SsoConfig {
  std::string start_url;
  std::string region;
  std::string account_id;
  std::string role_name;
  std::optional<std::string> session_name;  // sso_session; legacy profiles have none
};

// The cached token "aws sso login" wrote: ~/.aws/sso/cache/<sha1>.json keyed by
// the sso-session name, or by the start URL for legacy profiles.
Result<std::string> LoadSsoAccessToken(const SourceContext& ctx, const SsoConfig& sso, const std::string& profile) {
  const std::string& key_source = sso.session_name ? *sso.session_name : sso.start_url;
  std::string path = ctx.sso_cache_dir + "/" + internal::Sha1Hex(key_source) + ".json";
  std::string login = fmt::format("run \"aws sso login --profile {}\"", profile);
  auto text = ctx.fs->ReadFile(path);
  if (!text) {
    return CredentialsError(fmt::format("sso: Error loading SSO Token: Token for {} does not exist ({}); {}",
                                        key_source, path, login));
  }
  auto doc = ParseJson(*text);
  auto token = doc ? internal::JsonString(*doc, "accessToken") : std::nullopt;
  auto expires_at = doc ? internal::JsonString(*doc, "expiresAt") : std::nullopt;
  if (!token || !expires_at) {
    return CredentialsError(fmt::format("sso: Error loading SSO Token: Token for {} is invalid ({}); {}", key_source,
                                        path, login));
  }
  CA_TRY(int64_t expires, internal::ParseExpirationText(*expires_at, "sso: the cached token's expiresAt"));
  if (expires <= ctx.clock()) {
    return CredentialsError(fmt::format("sso: the SSO session for {} expired at {}; {} to refresh it", key_source,
                                        *expires_at, login));
  }
  return *token;
}

class SsoSource final : public CredentialSource {
 public:
  SsoSource(SourceContextPtr ctx, std::string profile) : ctx_(std::move(ctx)), profile_(std::move(profile)) {}
  const char* method() const override { return "sso"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    const ConfigSection* profile = ctx_->config->FindProfile(profile_);
    if (profile == nullptr || (!HasKey(*profile, "sso_role_name") && !HasKey(*profile, "sso_account_id"))) {
      *not_found = fmt::format("profile \"{}\" has no sso_account_id or sso_role_name", profile_);
      return nullptr;
    }
    CA_TRY(SsoConfig sso, Resolve(*profile));
    auto ctx = ctx_;
    auto fetch = [ctx, sso, profile = profile_]() -> Result<Credentials> {
      CA_TRY(std::string token, LoadSsoAccessToken(*ctx, sso, profile));
      std::string what = fmt::format("sso: sso GetRoleCredentials of role {} in account {} for profile \"{}\"",
                                     sso.role_name, sso.account_id, profile);
      if (ctx->caller == nullptr) return CredentialsError(fmt::format("{}: no AWS caller is configured", what));
      Json params = Json::object();
      params["roleName"] = sso.role_name;
      params["accountId"] = sso.account_id;
      params["accessToken"] = token;
      auto response = ctx->caller->Call("sso", "GetRoleCredentials", params, nullptr, sso.region);
      if (!response) {
        Error e = internal::WrapError(std::move(response).error(), what);
        if (e.aws_code == "UnauthorizedException") {
          e.message = fmt::format(
              "{}: The SSO session associated with this profile has expired or is otherwise invalid. To refresh "
              "this SSO session run \"aws sso login --profile {}\".",
              what, profile);
        }
        return Fail(std::move(e));
      }
      auto rc = response->is_object() ? response->find("roleCredentials") : response->end();
      if (!response->is_object() || rc == response->end() || !rc->is_object()) {
        return CredentialsError(fmt::format("{}: the response has no roleCredentials", what));
      }
      Credentials creds;
      creds.source = "sso";
      creds.account_id = sso.account_id;
      for (auto [key, field] : {std::pair{"accessKeyId", &creds.access_key_id},
                                std::pair{"secretAccessKey", &creds.secret_access_key},
                                std::pair{"sessionToken", &creds.session_token}}) {
        auto value = internal::JsonString(*rc, key);
        if (!value) return CredentialsError(fmt::format("{}: the response has no roleCredentials.{}", what, key));
        *field = *value;
      }
      auto expiration = rc->find("expiration");
      if (expiration == rc->end() || !expiration->is_number()) {
        return CredentialsError(fmt::format("{}: the response has no numeric roleCredentials.expiration", what));
      }
      // Epoch milliseconds.
      double ms = expiration->get<double>();
      if (!(ms > 0 && ms < 1e16)) return CredentialsError(fmt::format("{}: roleCredentials.expiration is out of range", what));
      creds.expiration = static_cast<int64_t>(ms / 1000);
      return creds;
    };
    return std::make_shared<RefreshingCredentialsProvider>(method(), fetch, ctx_->clock);
  }

 private:
  Result<SsoConfig> Resolve(const ConfigSection& profile) const {
    std::string where = fmt::format("profile \"{}\"", profile_);
    ConfigSection merged = profile;
    std::vector<std::string> required = {"sso_role_name", "sso_account_id", "sso_start_url", "sso_region"};
    CA_TRY(auto session_name, PlainValue(profile, "sso_session", where));
    if (session_name) {
      auto it = ctx_->config->sso_sessions.find(*session_name);
      if (it == ctx_->config->sso_sessions.end()) {
        return CredentialsError(fmt::format("The specified sso-session does not exist: \"{}\" (referenced by {})",
                                            *session_name, where));
      }
      for (const auto& [key, value] : it->second) {
        auto mine = merged.find(key);
        if (mine != merged.end() && (mine->second.text != value.text ||
                                     mine->second.is_subsection != value.is_subsection ||
                                     mine->second.subsection != value.subsection)) {
          // Only sso_* values are shown; anything else could be a secret.
          bool show = key.rfind("sso_", 0) == 0;
          return CredentialsError(fmt::format("The value for {} is inconsistent between profile ({}) and "
                                              "sso-session ({}).",
                                              key, show ? mine->second.text : "...", show ? value.text : "..."));
        }
        merged[key] = value;
      }
      required.push_back("sso_session");
    }
    std::vector<std::string> missing;
    for (const std::string& key : required)
      if (!HasKey(merged, key)) missing.push_back(key);
    if (!missing.empty()) {
      return CredentialsError(fmt::format("The profile \"{}\" is configured to use SSO but is missing required "
                                          "configuration: {}",
                                          profile_, fmt::join(missing, ", ")));
    }
    SsoConfig sso;
    CA_TRY(auto start_url, PlainValue(merged, "sso_start_url", where));
    CA_TRY(auto region, PlainValue(merged, "sso_region", where));
    CA_TRY(auto account, PlainValue(merged, "sso_account_id", where));
    CA_TRY(auto role, PlainValue(merged, "sso_role_name", where));
    sso.start_url = *start_url;
    sso.region = *region;
    sso.account_id = *account;
    sso.role_name = *role;
    sso.session_name = session_name;
    return sso;
  }

  SourceContextPtr ctx_;
  std::string profile_;
};

}  // namespace

SourcePtr MakeAssumeRoleSource(SourceContextPtr ctx, std::string profile) {
  return std::make_unique<AssumeRoleSource>(std::move(ctx), std::move(profile));
}
SourcePtr MakeWebIdentitySource(SourceContextPtr ctx, std::string profile, bool use_env) {
  return std::make_unique<WebIdentitySource>(std::move(ctx), std::move(profile), use_env);
}
SourcePtr MakeSsoSource(SourceContextPtr ctx, std::string profile) {
  return std::make_unique<SsoSource>(std::move(ctx), std::move(profile));
}

}  // namespace cloudaudit::aws
