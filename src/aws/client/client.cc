#include "aws/client/client.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include <fmt/format.h>
#include <zlib.h>

#include "aws/auth/sigv4.h"
#include "aws/client/paging.h"
#include "aws/client/read_only.h"
#include "aws/client/retry.h"
#include "aws/protocol/protocol.h"
#include "base/crypto.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::aws {

namespace {

bool IsS3Style(const ServiceModel& model) { return model.name() == "s3" || model.name() == "s3control"; }

bool IsIpOrLocalhost(std::string_view host) {
  std::string_view name = host.substr(0, host.rfind(':') == std::string_view::npos || host.front() == '['
                                             ? host.size()
                                             : host.rfind(':'));
  if (name == "localhost" || (!name.empty() && name.front() == '[')) return true;
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

// Bucket names usable as a DNS label for virtual-hosted-style addressing.
bool IsDnsCompatibleBucket(std::string_view bucket, bool https) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  if (https && bucket.find('.') != std::string_view::npos) return false;  // TLS wildcard cannot match
  for (char c : bucket)
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      return false;
  return std::isalnum(static_cast<unsigned char>(bucket.front())) && std::isalnum(static_cast<unsigned char>(bucket.back()));
}

// Input customizations the AWS CLI applies (botocore handlers), so requests
// match what it sends.
Json CustomizeInput(const ServiceModel& model, const Operation& op, const Json& params, bool* encoding_auto_set) {
  Json out = params.is_object() ? params : Json::object();
  *encoding_auto_set = false;
  if (model.name() == "s3" &&
      (op.name == "ListObjects" || op.name == "ListObjectsV2" || op.name == "ListObjectVersions") &&
      !out.contains("EncodingType")) {
    out["EncodingType"] = "url";
    *encoding_auto_set = true;
  }
  if (model.name() == "route53" && op.input != nullptr) {
    // fix_route53_ids: "/hostedzone/Z123" -> "Z123".
    for (const auto& m : op.input->members) {
      const std::string& shape = m.ref.shape->name;
      if ((shape == "ResourceId" || shape == "DelegationSetId" || shape == "ChangeId") && out.contains(m.name) &&
          out[m.name].is_string()) {
        std::string v = out[m.name].get<std::string>();
        out[m.name] = v.substr(v.rfind('/') == std::string::npos ? 0 : v.rfind('/') + 1);
      }
    }
  }
  return out;
}

// The bucket's real region from an S3 redirect-style error, or "".
std::string S3RedirectRegion(const HttpResponse& response) {
  bool redirect_status = response.status == 301 || response.status == 307 || response.status == 400;
  if (!redirect_status) return {};
  if (const std::string* header = response.FindHeader("x-amz-bucket-region")) return *header;
  // <Error><Code>AuthorizationHeaderMalformed</Code><Region>eu-west-1</Region>...
  size_t open = response.body.find("<Region>");
  size_t close = response.body.find("</Region>");
  if (open != std::string::npos && close != std::string::npos && close > open + 8)
    return response.body.substr(open + 8, close - open - 8);
  return {};
}

Error WithContext(Error e, const ServiceModel& model, const Operation& op, const std::string& region) {
  if (e.service.empty()) e.service = model.name();
  if (e.operation.empty()) e.operation = op.name;
  if (e.region.empty()) e.region = region;
  return e;
}

}  // namespace

struct AwsClient::Prepared {
  HttpRequest request;
  std::string region;          // region the call is for
  std::string signing_region;
  std::string signing_name;
  std::string bucket;          // S3 bucket named by the call, if any
  Endpoint endpoint;
};

AwsClient::AwsClient(ClientConfig config, std::shared_ptr<HttpTransport> transport,
                     std::shared_ptr<CredentialsProvider> credentials)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      credentials_(std::move(credentials)),
      retry_(std::make_unique<RetryRegistry>(RetryOptions{.max_attempts = config_.max_attempts},
                                             config_.adaptive_rate_limit, config_.clock)) {}

AwsClient::~AwsClient() = default;

CallStats AwsClient::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<Json> AwsClient::Call(const std::string& service, const std::string& operation, const Json& params,
                             const std::string& region) {
  CA_TRY(auto model, LoadServiceModel(service));
  CA_TRY(const Operation* op, model->RequireOperation(operation));
  return Invoke(*model, *op, params, region.empty() ? config_.region : region, nullptr, false);
}

Result<Json> AwsClient::Call(const std::string& service, const std::string& operation, const Json& params,
                             const Credentials* credentials, const std::string& region) {
  CA_TRY(auto model, LoadServiceModel(service));
  CA_TRY(const Operation* op, model->RequireOperation(operation));
  return Invoke(*model, *op, params, region.empty() ? config_.region : region, credentials, credentials == nullptr);
}

Status AwsClient::Paginate(const std::string& service, const std::string& operation, const Json& params,
                           const std::string& region, const std::function<bool(const Json& page)>& on_page) {
  CA_TRY(auto model, LoadServiceModel(service));
  CA_TRY(const Operation* op, model->RequireOperation(operation));
  const std::string& call_region = region.empty() ? config_.region : region;
  if (!op->paginator) {
    CA_TRY(Json page, Invoke(*model, *op, params, call_region, nullptr, false));
    on_page(page);
    return {};
  }
  PageCursor cursor(*op->paginator, params.is_object() ? params : Json::object());
  Json current = params.is_object() ? params : Json::object();
  for (int page_no = 0;; ++page_no) {
    if (page_no >= config_.max_pages) {
      Error e;
      e.code = ErrorCode::kAwsService;
      e.message = fmt::format("stopped after {} pages (safety cap; raise max_pages if this account is that large)",
                              config_.max_pages);
      return Fail(WithContext(std::move(e), *model, *op, call_region));
    }
    CA_TRY(Json page, Invoke(*model, *op, current, call_region, nullptr, false));
    if (!on_page(page)) return {};
    auto next = cursor.Next(page);
    if (!next) return Fail(WithContext(std::move(next).error(), *model, *op, call_region));
    if (!next->has_value()) return {};
    current = std::move(**next);
  }
}

Result<Json> AwsClient::CallAllPages(const std::string& service, const std::string& operation, const Json& params,
                                     const std::string& region) {
  CA_TRY(auto model, LoadServiceModel(service));
  const Operation* op = model->FindOperation(operation);
  if (op == nullptr || !op->paginator) return Call(service, operation, params, region);
  PageMerger merger(*op->paginator);
  CA_TRY_STATUS(Paginate(service, operation, params, region, [&merger](const Json& page) {
    merger.Add(page);
    return true;
  }));
  return merger.Finish();
}

Result<Json> AwsClient::Invoke(const ServiceModel& model, const Operation& op, const Json& raw_params,
                               const std::string& region, const Credentials* override_credentials,
                               bool unsigned_call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.calls;
  }
  if (!IsReadOnlyOperation(model.name(), op.name)) {
    Error e;
    e.code = ErrorCode::kReadOnly;
    e.message = fmt::format("{} {} changes AWS resources; cloudaudit only makes read-only calls", model.name(), op.name);
    return Fail(WithContext(std::move(e), model, op, region));
  }
  bool encoding_auto_set = false;
  Json params = CustomizeInput(model, op, raw_params, &encoding_auto_set);
  if (auto valid = ValidateInput(op, params); !valid) return Fail(WithContext(std::move(valid).error(), model, op, region));

  std::string call_region = region;
  if (model.name() == "s3" && params.contains("Bucket") && params["Bucket"].is_string()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto known = bucket_regions_.find(params["Bucket"].get<std::string>());
    if (known != bucket_regions_.end()) call_region = known->second;
  }
  Result<HttpResponse> response = MakeError(ErrorCode::kInternal, "not sent");
  int attempts = 0;
  // S3 answers a request sent to the wrong region with a redirect naming the
  // bucket's region (301 PermanentRedirect, 400 AuthorizationHeaderMalformed,
  // x-amz-bucket-region); follow it once and remember the bucket's region.
  for (int redirects = 0;; ++redirects) {
    auto prepared = Prepare(model, op, params, call_region);
    if (!prepared) return Fail(WithContext(std::move(prepared).error(), model, op, call_region));
    response = SendWithRetries(model, op, *prepared, override_credentials, unsigned_call, &attempts);
    if (!response) return Fail(WithContext(std::move(response).error(), model, op, call_region));
    if (model.name() != "s3" || prepared->bucket.empty() || redirects >= 1 || response->status < 300) break;
    std::string new_region = S3RedirectRegion(*response);
    if (new_region.empty() || new_region == call_region) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      bucket_regions_[prepared->bucket] = new_region;
    }
    call_region = new_region;
  }
  if (response->status < 200 || response->status >= 300) {
    return Fail(WithContext(ParseErrorResponse(model, op, *response), model, op, call_region));
  }
  auto parsed = ParseResponse(model, op, *response);
  if (!parsed) {
    Error e = std::move(parsed).error();
    e.message = "malformed response: " + e.message;
    e.request_id = RequestIdOf(*response);
    e.http_status = response->status;
    return Fail(WithContext(std::move(e), model, op, call_region));
  }
  if (encoding_auto_set) DecodeS3ListObjectsKeys(op, *parsed);
  // The AWS CLI keeps ResponseMetadata when a result has a top-level
  // "Errors" key (formatter._remove_request_id), placed where botocore's
  // parser puts it: first for REST protocols, last otherwise.
  if (parsed->contains("Errors")) {
    if (auto meta = ResponseMetadata(model, *response, attempts - 1)) {
      const std::string& protocol = model.metadata().protocol;
      if (protocol == "rest-json" || protocol == "rest-xml") {
        Json reordered = Json::object();
        reordered["ResponseMetadata"] = std::move(*meta);
        for (auto it = parsed->begin(); it != parsed->end(); ++it) reordered[it.key()] = std::move(it.value());
        *parsed = std::move(reordered);
      } else {
        (*parsed)["ResponseMetadata"] = std::move(*meta);
      }
    }
  }
  return parsed;
}

Result<AwsClient::Prepared> AwsClient::Prepare(const ServiceModel& model, const Operation& op, const Json& params,
                                               const std::string& region) {
  Prepared prepared;
  prepared.region = region;
  if (model.name() == "s3" && params.contains("Bucket") && params["Bucket"].is_string())
    prepared.bucket = params["Bucket"].get<std::string>();
  EndpointOptions options = config_.endpoints;
  if (auto svc = config_.service_endpoint_urls.find(model.name()); svc != config_.service_endpoint_urls.end()) {
    options.endpoint_url = svc->second;
  } else if (config_.endpoint_url_for) {
    CA_TRY(std::optional<std::string> configured, config_.endpoint_url_for(model.metadata()));
    if (configured) options.endpoint_url = *configured;
  }
  auto endpoint = ResolveEndpoint(model.metadata().endpoint_prefix, model.metadata().signing_name, prepared.region, options);
  CA_TRY_STATUS(endpoint);
  prepared.endpoint = *endpoint;
  prepared.signing_region = endpoint->signing_region;
  prepared.signing_name = endpoint->signing_name;

  HttpRequest& req = prepared.request;
  req.scheme = endpoint->scheme;
  req.host = endpoint->host;
  req.path = endpoint->base_path.empty() ? "/" : endpoint->base_path;
  CA_TRY_STATUS(SerializeRequest(model, op, params, &req));
  // botocore's "conditional MD5": operations that require a checksum get the
  // Content-MD5 of their body, even an empty one (S3 Control's
  // ListMultiRegionAccessPoints is a GET that requires it).
  if (op.http_checksum_required && req.FindHeader("Content-MD5") == nullptr) req.SetHeader("Content-MD5", Md5Base64(req.body));

  // Host prefix ("{AccountId}.") from hostLabel members; not applicable to
  // IP-address or localhost endpoints.
  if (config_.inject_host_prefix && !op.host_prefix.empty() && !IsIpOrLocalhost(req.host)) {
    std::string prefix = op.host_prefix;
    for (const auto& m : op.input->members) {
      if (!m.ref.host_label || !params.contains(m.name)) continue;
      std::string label = "{" + m.name + "}";
      for (size_t pos; (pos = prefix.find(label)) != std::string::npos;)
        prefix.replace(pos, label.size(), params[m.name].get<std::string>());
    }
    req.host = prefix + req.host;
  }
  // S3 virtual-hosted-style addressing: move the bucket from the path to the host.
  if (!prepared.bucket.empty()) {
    bool virtual_host = config_.s3_addressing_style == "virtual" ||
                        (config_.s3_addressing_style == "auto" && !IsIpOrLocalhost(req.host) &&
                         IsDnsCompatibleBucket(prepared.bucket, req.scheme == "https"));
    std::string bucket_path = (endpoint->base_path.empty() ? "" : endpoint->base_path) + "/" + UriEncode(prepared.bucket);
    if (virtual_host && req.path.rfind(bucket_path, 0) == 0) {
      std::string rest = req.path.substr(bucket_path.size());
      req.path = rest.empty() ? "/" : rest;
      if (!endpoint->base_path.empty()) req.path = endpoint->base_path + req.path;
      req.host = prepared.bucket + "." + req.host;
    }
  }
  req.SetHeader("User-Agent", "cloudaudit/0.1");
  if (model.name() == "apigateway") req.SetHeader("Accept", "application/json");

  return prepared;
}

Result<HttpResponse> AwsClient::SendWithRetries(const ServiceModel& model, const Operation& op,
                                                const Prepared& prepared, const Credentials* override_credentials,
                                                bool unsigned_call, int* attempts) {
  RetryStrategy& strategy = retry_->Strategy(model.name(), prepared.region);
  RateLimiter* limiter = retry_->Limiter(model.name(), prepared.region);
  CallRetryState call;
  while (true) {
    HttpRequest request = prepared.request;
    if (!unsigned_call) {
      Credentials credentials;
      if (override_credentials != nullptr) {
        credentials = *override_credentials;
      } else if (credentials_ != nullptr) {
        CA_TRY(credentials, credentials_->GetCredentials());
      } else {
        return MakeError(ErrorCode::kCredentials, "no credentials provider configured");
      }
      int64_t now = config_.now_epoch ? config_.now_epoch() : NowEpochSeconds();
      SigningParams params;
      if (IsS3Style(model)) {
        params = S3SigningParams(prepared.signing_region, now);
        params.service = prepared.signing_name;
      } else {
        params.region = prepared.signing_region;
        params.service = prepared.signing_name;
        params.time_epoch = now;
      }
      CA_TRY_STATUS(SignRequest(request, credentials, params));
    }
    if (limiter != nullptr) limiter->Acquire();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.attempts;
    }
    auto response = transport_->Send(request, config_.http);
    AttemptOutcome outcome;
    if (!response) {
      outcome = AttemptOutcome::TransportError(response.error().code);
    } else if (response->status >= 200 && response->status < 300) {
      outcome = AttemptOutcome::Response(response->status);
      // DynamoDB sends a CRC32 of the body; a mismatch means corruption in
      // transit, which botocore retries.
      if (const std::string* crc = response->FindHeader("x-amz-crc32"); crc != nullptr && model.name() == "dynamodb") {
        uLong actual = crc32(0L, reinterpret_cast<const Bytef*>(response->body.data()),
                             static_cast<uInt>(response->body.size()));
        outcome.checksum_mismatch = std::to_string(actual) != Trim(*crc);
      }
    } else {
      Error error = ParseErrorResponse(model, op, *response);
      ModeledRetry modeled = ModeledRetry::kNone;
      if (const Shape* shape = model.FindErrorShape(error.aws_code); shape != nullptr && shape->retryable)
        modeled = shape->retryable_throttling ? ModeledRetry::kThrottling : ModeledRetry::kTransient;
      outcome = AttemptOutcome::Response(response->status, error.aws_code, modeled);
    }
    if (limiter != nullptr) limiter->OnResponse(IsThrottlingOutcome(outcome));
    RetryDecision decision = strategy.OnAttempt(call, outcome);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (decision.throttled) ++stats_.throttled;
      if (decision.retry) ++stats_.retries;
      if (!decision.retry && !outcome.Succeeded()) ++stats_.errors;
    }
    *attempts = call.attempts;
    if (decision.retry) {
      retry_->clock().SleepSeconds(decision.delay_seconds);
      continue;
    }
    if (outcome.checksum_mismatch) {
      return MakeError(ErrorCode::kNetwork, fmt::format("response body does not match its x-amz-crc32 checksum "
                                                        "(gave up after {} attempts)", call.attempts));
    }
    if (!response) {
      Error e = std::move(response).error();
      if (call.attempts > 1) e.message += fmt::format(" (gave up after {} attempts)", call.attempts);
      return Fail(std::move(e));
    }
    return response;
  }
}

}  // namespace cloudaudit::aws
