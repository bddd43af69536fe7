// Sources that ask a local metadata endpoint over HTTP: the ECS/EKS container
// credentials endpoint and the EC2 instance metadata service (IMDS).

#include <cctype>

#include <fmt/format.h>

#include "aws/auth/credential_sources.h"
#include "aws/auth/credential_sources_internal.h"
#include "aws/auth/url.h"
#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

using internal::CredentialsError;

// A short, single-line excerpt of an error body for messages. Dropped when it
// echoes `secret` (a server might reflect the Authorization header).
std::string BodyExcerpt(std::string_view body, std::string_view secret) {
  if (!secret.empty() && body.find(secret) != std::string_view::npos) return "(response body withheld)";
  std::string out;
  for (char c : body.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
  if (body.size() > 200) out += "...";
  return std::string(Trim(out));
}

// Keeps RFC 3986 path characters (unreserved, sub-delims, ':' and '@') so a
// role name such as "my+role@x" is sent as written, and escapes the rest.
std::string EncodePathSegment(std::string_view segment) { return UriEncodeKeeping(segment, "!$&'()*+,;=:@"); }

// ---------------------------------------------------------------- container

constexpr const char* kContainerRelativeUri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr const char* kContainerFullUri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr const char* kContainerToken = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr const char* kContainerTokenFile = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr int64_t kContainerTimeoutMs = 2000;
constexpr int kContainerAttempts = 3;
constexpr int64_t kContainerRetrySleepMs = 1000;

// botocore's allow list: the ECS and EKS Pod Identity agents and loopback.
bool IsAllowedContainerHost(const std::string& hostname) {
  return IsLoopbackAddress(hostname) || hostname == "169.254.170.2" || hostname == "169.254.170.23" ||
         hostname == "fd00:ec2::23" || hostname == "localhost";
}

class ContainerSource final : public CredentialSource {
 public:
  explicit ContainerSource(SourceContextPtr ctx) : ctx_(std::move(ctx)) {}
  const char* method() const override { return "container-role"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    auto relative = ctx_->env.Get(kContainerRelativeUri);
    auto full = ctx_->env.Get(kContainerFullUri);
    if (!relative && !full) {
      *not_found = fmt::format("{} and {} are not set", kContainerRelativeUri, kContainerFullUri);
      return nullptr;
    }
    std::string url = relative ? "http://169.254.170.2" + *relative : *full;
    auto ctx = ctx_;
    auto fetch = [ctx, url] { return Fetch(*ctx, url); };
    CA_TRY(Credentials first, fetch());
    return std::make_shared<RefreshingCredentialsProvider>(method(), fetch, ctx_->clock, std::move(first));
  }

 private:
  // The token is read on every fetch: EKS rotates the token file.
  static Result<std::optional<std::string>> AuthorizationToken(const SourceContext& ctx) {
    std::optional<std::string> token;
    if (auto path = ctx.env.Get(kContainerTokenFile)) {
      auto text = ctx.fs->ReadFile(*path);
      if (!text) {
        return CredentialsError(fmt::format("container-role: cannot read {} {}: {}", kContainerTokenFile, *path,
                                            text.error().message));
      }
      token = std::move(*text);
    } else if (auto value = ctx.env.Get(kContainerToken)) {
      token = std::move(*value);
    }
    if (token && token->find_first_of("\r\n") != std::string::npos) {
      return CredentialsError("container-role: the authorization token is not a legal header value (it contains "
                              "a line break)");
    }
    return token;
  }

  static Result<Credentials> Fetch(const SourceContext& ctx, const std::string& url) {
    auto parsed = ParseHttpUrl(url);
    if (!parsed) return CredentialsError(fmt::format("container-role: {}", parsed.error().message));
    if (!IsAllowedContainerHost(parsed->hostname)) {
      return CredentialsError(fmt::format(
          "container-role: unsupported host '{}'. Can only retrieve metadata from a loopback address or one of "
          "these hosts: 169.254.170.2, 169.254.170.23, fd00:ec2::23, localhost",
          parsed->hostname));
    }
    if (ctx.transport == nullptr) return CredentialsError("container-role: no HTTP transport is configured");
    CA_TRY(auto token, AuthorizationToken(ctx));
    HttpRequest request;
    request.method = "GET";
    request.scheme = parsed->scheme;
    request.host = parsed->host;
    request.path = parsed->path.empty() ? "/" : parsed->path;
    request.query = parsed->query;
    request.SetHeader("Accept", "application/json");
    if (token) request.SetHeader("Authorization", *token);
    HttpOptions options;
    options.connect_timeout_ms = kContainerTimeoutMs;
    options.read_timeout_ms = kContainerTimeoutMs;
    options.max_response_bytes = 1 << 20;

    std::string last_problem;
    std::optional<Json> doc;
    for (int attempt = 0; attempt < kContainerAttempts && !doc; ++attempt) {
      if (attempt > 0 && ctx.sleep) ctx.sleep(kContainerRetrySleepMs);
      auto response = ctx.transport->Send(request, options);
      if (!response) {
        last_problem = response.error().message;
        continue;
      }
      if (response->status != 200) {
        std::string excerpt = BodyExcerpt(response->body, token.value_or(""));
        last_problem = fmt::format("HTTP {}{}{}", response->status, excerpt.empty() ? "" : ": ", excerpt);
        continue;
      }
      auto json = ParseJson(response->body);
      if (!json || !json->is_object()) {
        last_problem = "the response is not a JSON object";
        continue;
      }
      doc = std::move(*json);
    }
    if (!doc) {
      // The query is left out: it is the part of a URL most likely to carry a secret.
      return CredentialsError(fmt::format("container-role: no credentials from {}://{}{} after {} attempts: {}",
                                          parsed->scheme, parsed->host, request.path, kContainerAttempts,
                                          last_problem));
    }
    Credentials creds;
    creds.source = "container-role";
    for (auto [key, field] : {std::pair{"AccessKeyId", &creds.access_key_id},
                              std::pair{"SecretAccessKey", &creds.secret_access_key},
                              std::pair{"Token", &creds.session_token}}) {
      auto value = internal::JsonString(*doc, key);
      if (!value) return CredentialsError(fmt::format("container-role: the response has no {}", key));
      *field = *value;
    }
    auto expiration = doc->find("Expiration");
    if (expiration == doc->end()) return CredentialsError("container-role: the response has no Expiration");
    CA_TRY(creds.expiration, internal::ParseExpirationJson(*expiration, "container-role"));
    creds.account_id = internal::JsonString(*doc, "AccountId").value_or("");
    return creds;
  }

  SourceContextPtr ctx_;
};

// ---------------------------------------------------------------- IMDS

constexpr const char* kImdsTokenPath = "latest/api/token";
constexpr const char* kImdsCredentialsPath = "latest/meta-data/iam/security-credentials/";
constexpr const char* kImdsTokenTtlSeconds = "21600";
// botocore's ec2_credential_refresh_window (the advisory window).
constexpr int64_t kImdsRefreshWindowSeconds = 15 * 60;

class ImdsClient {
 public:
  explicit ImdsClient(const SourceContext& ctx) : ctx_(ctx) {
    options_.connect_timeout_ms = ctx.imds.timeout_ms;
    options_.read_timeout_ms = ctx.imds.timeout_ms;
    options_.max_response_bytes = 1 << 20;
  }

  // Credentials, or nullopt with the reason (botocore returns {} and the
  // chain moves on for every IMDS failure).
  std::optional<Credentials> FetchCredentials(std::string* reason) {
    auto base = ParseHttpUrl(ctx_.imds.endpoint);
    if (!base) {
      *reason = base.error().message;
      return std::nullopt;
    }
    base_ = *base;
    bool bad_request = false;
    std::optional<std::string> token = FetchToken(&bad_request);
    if (bad_request) {
      *reason = "the token request was rejected (HTTP 400)";
      return std::nullopt;
    }
    if (!token && ctx_.imds.v1_disabled) {
      *reason = "no IMDSv2 token and the IMDSv1 fallback is disabled (ec2_metadata_v1_disabled)";
      return std::nullopt;
    }
    auto listing = Get(kImdsCredentialsPath, token, /*want_json=*/false, reason);
    if (!listing) return std::nullopt;
    std::string role(Trim(listing->substr(0, listing->find('\n'))));
    auto body = Get(std::string(kImdsCredentialsPath) + EncodePathSegment(role), token, /*want_json=*/true, reason);
    if (!body) return std::nullopt;
    auto doc = ParseJson(*body);  // Get() checked it parses
    Credentials creds;
    creds.source = "iam-role";
    for (auto [key, field] : {std::pair{"AccessKeyId", &creds.access_key_id},
                              std::pair{"SecretAccessKey", &creds.secret_access_key},
                              std::pair{"Token", &creds.session_token}}) {
      auto value = internal::JsonString(*doc, key);
      if (!value) {
        // IMDS answers 200 with {"Code": ..., "Message": ...} when, e.g.,
        // the role does not trust EC2.
        auto code = internal::JsonString(*doc, "Code");
        auto message = internal::JsonString(*doc, "Message");
        *reason = code ? fmt::format("role \"{}\": {}: {}", role, *code, message.value_or(""))
                       : fmt::format("role \"{}\": the response has no {}", role, key);
        return std::nullopt;
      }
      *field = *value;
    }
    auto expiration = internal::JsonString(*doc, "Expiration");
    if (!expiration) {
      *reason = fmt::format("role \"{}\": the response has no Expiration", role);
      return std::nullopt;
    }
    auto expires = internal::ParseExpirationText(*expiration, "iam-role");
    if (!expires) {
      *reason = expires.error().message;
      return std::nullopt;
    }
    creds.expiration = ExtendForStaticStability(*expires);
    return creds;
  }

 private:
  HttpRequest Request(const std::string& method, std::string_view path) const {
    HttpRequest request;
    request.method = method;
    request.scheme = base_.scheme;
    request.host = base_.host;
    std::string sep = (!base_.path.empty() && base_.path.back() == '/') ? "" : "/";
    request.path = base_.path + sep + std::string(path);
    return request;
  }

  std::optional<std::string> FetchToken(bool* bad_request) {
    HttpRequest request = Request("PUT", kImdsTokenPath);
    request.SetHeader("x-aws-ec2-metadata-token-ttl-seconds", kImdsTokenTtlSeconds);
    for (int attempt = 0; attempt < ctx_.imds.num_attempts; ++attempt) {
      auto response = ctx_.transport->Send(request, options_);
      if (!response) {
        // A read timeout means an old IMDS or a hop limit: fall back to v1 at
        // once. Connection errors are retried.
        if (response.error().code == ErrorCode::kTimeout) return std::nullopt;
        continue;
      }
      if (response->status == 200) return response->body;
      if (response->status == 403 || response->status == 404 || response->status == 405) return std::nullopt;
      if (response->status == 400) {
        *bad_request = true;
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  // GET with botocore's retry rule: network errors, non-200 and empty bodies
  // (and, for credentials, invalid JSON) use up an attempt.
  std::optional<std::string> Get(const std::string& path, const std::optional<std::string>& token, bool want_json,
                                 std::string* reason) {
    HttpRequest request = Request("GET", path);
    if (token) request.SetHeader("x-aws-ec2-metadata-token", *token);
    *reason = "no attempts were allowed (metadata_service_num_attempts is 0)";
    for (int attempt = 0; attempt < ctx_.imds.num_attempts; ++attempt) {
      auto response = ctx_.transport->Send(request, options_);
      if (!response) {
        *reason = response.error().message;
        continue;
      }
      if (response->status != 200) {
        *reason = fmt::format("HTTP {} for /{}", response->status, path);
        continue;
      }
      if (response->body.empty()) {
        *reason = fmt::format("empty response for /{}", path);
        continue;
      }
      if (want_json) {
        auto doc = ParseJson(response->body);
        if (!doc || !doc->is_object()) {
          *reason = fmt::format("invalid JSON for /{}", path);
          continue;
        }
      }
      return response->body;
    }
    return std::nullopt;
  }

  // botocore's static stability: credentials that IMDS hands out already
  // (nearly) expired, e.g. during an IMDS outage, are used for another
  // 17-25 minutes instead of failing every call.
  int64_t ExtendForStaticStability(int64_t expiration) const {
    int64_t jitter = ctx_.random ? ctx_.random(120, 600) : 120;
    int64_t interval = kImdsRefreshWindowSeconds + jitter;
    int64_t now = ctx_.clock();
    return now >= expiration - interval ? now + interval : expiration;
  }

  const SourceContext& ctx_;
  HttpOptions options_;
  ParsedUrl base_;
};

class InstanceMetadataSource final : public CredentialSource {
 public:
  explicit InstanceMetadataSource(SourceContextPtr ctx) : ctx_(std::move(ctx)) {}
  const char* method() const override { return "iam-role"; }

  Result<std::shared_ptr<CredentialsProvider>> Load(std::string* not_found) override {
    if (ctx_->imds.disabled) {
      *not_found = "disabled by AWS_EC2_METADATA_DISABLED";
      return nullptr;
    }
    if (ctx_->transport == nullptr) {
      *not_found = "no HTTP transport is configured";
      return nullptr;
    }
    std::string reason;
    auto first = ImdsClient(*ctx_).FetchCredentials(&reason);
    if (!first) {
      *not_found = fmt::format("{}: {}", ctx_->imds.endpoint, reason);
      return nullptr;
    }
    auto ctx = ctx_;
    auto fetch = [ctx]() -> Result<Credentials> {
      std::string why;
      auto creds = ImdsClient(*ctx).FetchCredentials(&why);
      if (!creds) return CredentialsError(fmt::format("iam-role: refreshing from {} failed: {}", ctx->imds.endpoint, why));
      return *creds;
    };
    return std::make_shared<RefreshingCredentialsProvider>(method(), fetch, ctx_->clock, std::move(*first));
  }

 private:
  SourceContextPtr ctx_;
};

}  // namespace

SourcePtr MakeContainerSource(SourceContextPtr ctx) { return std::make_unique<ContainerSource>(std::move(ctx)); }
SourcePtr MakeInstanceMetadataSource(SourceContextPtr ctx) {
  return std::make_unique<InstanceMetadataSource>(std::move(ctx));
}

}  // namespace cloudaudit::aws
