#include "aws/auth/sigv4.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>
#include <vector>

#include "base/crypto.h"
#include "base/strings.h"
#include "base/time.h"

namespace cloudaudit::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr int64_t kMaxExpiresSeconds = 7 * 24 * 3600;
// 9999-12-31T23:59:59Z: later times would not fit the 8-digit scope date.
constexpr int64_t kMaxSigningEpoch = 253402300799;

// Headers that proxies or HTTP stacks may add or rewrite after signing; the
// same list as botocore's SIGNED_HEADERS_BLACKLIST, plus Authorization, which
// signing replaces.
constexpr std::array<std::string_view, 5> kUnsignedHeaders = {"authorization", "expect", "transfer-encoding",
                                                              "user-agent", "x-amzn-trace-id"};

// ASCII only on purpose: <cctype> depends on the C locale, and SigV4 is
// defined on bytes.
char LowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool IEqualsAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

bool ILessAscii(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(LowerAscii(a[i]));
    const auto y = static_cast<unsigned char>(LowerAscii(b[i]));
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

void AppendLower(std::string_view s, std::string* out) {
  for (char c : s) out->push_back(LowerAscii(c));
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == '~';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendPercentEncoded(unsigned char c, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out->push_back('%');
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

// RFC 3986 encoding as SigV4 defines it (unreserved characters stay, every
// other byte becomes %XX with upper-case hex). Appends instead of returning
// so the canonical request is built in one buffer.
void AppendUriEncoded(std::string_view s, bool keep_slash, std::string* out) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out->push_back(ch);
    } else {
      AppendPercentEncoded(c, out);
    }
  }
}

// Decodes %XX escapes and encodes the result again, in one pass: query
// parameters arrive encoded by whoever built the URL (maybe with lower-case
// hex, maybe leaving some reserved characters raw), and SigV4 wants exactly
// one canonical encoding. '+' stays a literal plus: SigV4 encodes spaces as
// %20, never '+'.
void AppendReencoded(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 && HexDigitValue(s[i + 2]) >= 0) {
      c = static_cast<unsigned char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2]));
      i += 2;
    }
    if (IsUnreserved(c)) {
      out->push_back(static_cast<char>(c));
    } else {
      AppendPercentEncoded(c, out);
    }
  }
}

void AppendPathPart(std::string_view part, bool encode, std::string* out) {
  if (encode) {
    AppendUriEncoded(part, /*keep_slash=*/true, out);
  } else {
    out->append(part);
  }
}

// Canonical URI. With `normalize`, removes empty, "." and ".." segments the
// way botocore's remove_dot_segments does (AWS services also collapse "//"),
// keeping a trailing slash. With `encode`, the path (already encoded by the
// client) is encoded once more: the "double encoding" every service but S3
// expects.
void AppendCanonicalUri(std::string_view path, bool normalize, bool encode, std::string* out) {
  if (path.empty()) {
    out->push_back('/');
    return;
  }
  // Most paths have nothing to normalize; skip splitting them.
  const bool trivial =
      path.front() == '/' && path.find("//") == std::string_view::npos && path.find("/.") == std::string_view::npos;
  if (!normalize || trivial) {
    AppendPathPart(path, encode, out);
    return;
  }
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  const size_t begin = out->size();
  if (path.front() == '/') out->push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out->push_back('/');
    AppendPathPart(segments[i], encode, out);
  }
  if (path.back() == '/' && !segments.empty()) out->push_back('/');
  if (out->size() == begin) out->push_back('/');
}

// One "key=value" in canonical encoding; the key length is kept because
// sorting is by key first, and "a" < "a-b" although "a=" > "a-b=".
struct CanonicalParam {
  std::string key_value;
  size_t key_size = 0;
  std::string_view key() const { return std::string_view(key_value).substr(0, key_size); }
  std::string_view value() const { return std::string_view(key_value).substr(key_size + 1); }
};

// Canonical query string: every parameter re-encoded, "key" without '='
// becomes "key=", sorted by encoded key then encoded value (byte order).
void AppendCanonicalQuery(std::string_view query, std::string* out) {
  if (query.empty()) return;
  std::vector<CanonicalParam> params;
  params.reserve(static_cast<size_t>(std::count(query.begin(), query.end(), '&')) + 1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view piece = query.substr(start, end - start);
    start = end + 1;
    if (piece.empty()) continue;
    const size_t eq = piece.find('=');
    CanonicalParam param;
    param.key_value.reserve(piece.size() + 8);
    AppendReencoded(piece.substr(0, eq), &param.key_value);
    param.key_size = param.key_value.size();
    param.key_value.push_back('=');
    if (eq != std::string_view::npos) AppendReencoded(piece.substr(eq + 1), &param.key_value);
    params.push_back(std::move(param));
  }
  std::sort(params.begin(), params.end(), [](const CanonicalParam& a, const CanonicalParam& b) {
    const int by_key = a.key().compare(b.key());
    return by_key != 0 ? by_key < 0 : a.value() < b.value();
  });
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out->push_back('&');
    out->append(params[i].key_value);
  }
}

// Header value as SigV4 canonicalizes it: trimmed, and every run of
// whitespace (including the line breaks of folded multi-line values)
// collapsed into one space.
void AppendCanonicalHeaderValue(std::string_view value, std::string* out) {
  // Appends word by word: values such as session tokens are long, and
  // per-byte appends dominated the signing time.
  size_t i = 0;
  bool first = true;
  while (i < value.size()) {
    while (i < value.size() && IsSpace(value[i])) ++i;
    if (i == value.size()) break;
    size_t end = i;
    while (end < value.size() && !IsSpace(value[end])) ++end;
    if (!first) out->push_back(' ');
    out->append(value.substr(i, end - i));
    first = false;
    i = end;
  }
}

bool IsUnsignedHeader(std::string_view name) {
  return name.empty() || std::any_of(kUnsignedHeaders.begin(), kUnsignedHeaders.end(),
                                     [&](std::string_view h) { return IEqualsAscii(name, h); });
}

struct CanonicalHeaders {
  std::string lines;           // "name:value\n" per signed header
  std::string signed_headers;  // "host;x-amz-date"
};

// The signer's view: every header of the request except kUnsignedHeaders,
// grouped case-insensitively; repeated headers keep their order and are
// joined with ','. Sorts pointers, so no header is copied.
CanonicalHeaders CanonicalizeAllHeaders(const HttpHeaders& headers) {
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(headers.size());
  for (const auto& header : headers) {
    if (!IsUnsignedHeader(header.first)) sorted.push_back(&header);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return ILessAscii(a->first, b->first); });
  CanonicalHeaders result;
  size_t value_bytes = 0;
  for (const auto* header : sorted) value_bytes += header->first.size() + header->second.size() + 2;
  result.lines.reserve(value_bytes);
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && IEqualsAscii(sorted[j]->first, sorted[i]->first)) ++j;
    AppendLower(sorted[i]->first, &result.lines);
    result.lines.push_back(':');
    for (size_t k = i; k < j; ++k) {
      if (k > i) result.lines.push_back(',');
      AppendCanonicalHeaderValue(sorted[k]->second, &result.lines);
    }
    result.lines.push_back('\n');
    if (!result.signed_headers.empty()) result.signed_headers.push_back(';');
    AppendLower(sorted[i]->first, &result.signed_headers);
    i = j;
  }
  return result;
}

std::string AssembleCanonicalRequest(const HttpRequest& request, std::string_view query, bool normalize_path,
                                     bool encode_path, const CanonicalHeaders& headers, std::string_view payload_hash) {
  std::string out;
  out.reserve(request.method.size() + request.path.size() * 3 + query.size() * 2 + headers.lines.size() +
              headers.signed_headers.size() + payload_hash.size() + 16);
  out.append(request.method);
  out.push_back('\n');
  AppendCanonicalUri(request.path, normalize_path, encode_path, &out);
  out.push_back('\n');
  AppendCanonicalQuery(query, &out);
  out.push_back('\n');
  out.append(headers.lines);
  out.push_back('\n');
  out.append(headers.signed_headers);
  out.push_back('\n');
  out.append(payload_hash);
  return out;
}

// "20150830/us-east-1/iam/aws4_request"
std::string CredentialScope(std::string_view amz_date, std::string_view region, std::string_view service) {
  std::string scope;
  scope.reserve(8 + region.size() + service.size() + kScopeTerminator.size() + 3);
  scope.append(amz_date.substr(0, 8)).append("/").append(region).append("/").append(service).append("/");
  scope.append(kScopeTerminator);
  return scope;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope, std::string_view canonical_request) {
  std::string sts;
  sts.reserve(kAlgorithm.size() + amz_date.size() + scope.size() + 64 + 3);
  sts.append(kAlgorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  sts.append(Sha256Hex(canonical_request));
  return sts;
}

std::string DeriveSigningKey(std::string_view secret_access_key, std::string_view date, std::string_view region,
                             std::string_view service) {
  std::string secret;
  secret.reserve(4 + secret_access_key.size());
  secret.append("AWS4").append(secret_access_key);
  std::string key = HmacSha256(secret, date);
  // The prefixed copy of the secret should not linger in freed heap memory.
  OPENSSL_cleanse(secret.data(), secret.size());
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  return HmacSha256(key, kScopeTerminator);
}

// Deriving the signing key is four of the five HMACs of a signature, and
// the key only changes with the secret, the day, the region and the
// service. Each thread keeps its recent keys (AWS SDKs cache them too), so a
// scan cycling through regions and services rarely derives one. Entries are
// matched on the SHA-256 of the secret: the secret itself is not copied.
class SigningKeyCache {
 public:
  // The reference is valid until the next call on the same thread.
  const std::string& Get(std::string_view secret_access_key, std::string_view date, std::string_view region,
                         std::string_view service) {
    const std::string secret_digest = Sha256(secret_access_key);
    for (const Entry& entry : entries_) {
      if (!entry.key.empty() && entry.date == date && entry.region == region && entry.service == service &&
          CRYPTO_memcmp(entry.secret_digest.data(), secret_digest.data(), secret_digest.size()) == 0) {
        return entry.key;
      }
    }
    Entry& entry = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    OPENSSL_cleanse(entry.key.data(), entry.key.size());
    entry.secret_digest = secret_digest;
    entry.date = std::string(date);
    entry.region = std::string(region);
    entry.service = std::string(service);
    entry.key = DeriveSigningKey(secret_access_key, date, region, service);
    return entry.key;
  }

 private:
  struct Entry {
    std::string secret_digest;  // 32 raw bytes; empty key means unused
    std::string date, region, service;
    std::string key;
    ~Entry() { OPENSSL_cleanse(key.data(), key.size()); }
  };
  std::array<Entry, 16> entries_;
  size_t next_ = 0;
};

std::string ComputeSignature(std::string_view secret_access_key, std::string_view amz_date, std::string_view region,
                             std::string_view service, std::string_view string_to_sign) {
  thread_local SigningKeyCache cache;
  const std::string& key = cache.Get(secret_access_key, amz_date.substr(0, 8), region, service);
  return HexEncode(HmacSha256(key, string_to_sign));
}

// Region, service and key id are joined with '/' into the credential scope
// and end up in a comma-separated header: they must not contain separators.
bool IsScopeComponent(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return c > ' ' && c < 0x7f && c != '/' && c != ',' && c != ';' && c != '=';
  });
}

Status ValidateSigningInputs(const HttpRequest& request, const Credentials& credentials, const SigningParams& params) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return MakeError(ErrorCode::kCredentials,
                     "cannot sign the request: the credentials have no access key id or no secret access key");
  }
  if (!IsScopeComponent(credentials.access_key_id)) {
    return MakeError(ErrorCode::kCredentials,
                     "cannot sign the request: the access key id contains spaces, '/', ',', ';', '=' or "
                     "non-ASCII characters");
  }
  if (!IsScopeComponent(params.region)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot sign the request: the signing region is empty or contains spaces, '/', ',', ';', "
                     "'=' or non-ASCII characters");
  }
  if (!IsScopeComponent(params.service)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot sign the request: the signing service is empty or contains spaces, '/', ',', ';', "
                     "'=' or non-ASCII characters");
  }
  if (params.time_epoch < 0 || params.time_epoch > kMaxSigningEpoch) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "cannot sign the request: signing time " + std::to_string(params.time_epoch) + " is outside years 1970..9999");
  }
  if (request.host.empty() && request.FindHeader("host") == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot sign the request: it has no host");
  }
  return {};
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Host is always signed, so it must be sent exactly as signed; HTTP clients
// (curl included) omit the default port, and so does the value added here.
void EnsureHostHeader(HttpRequest& request) {
  if (request.FindHeader("host") != nullptr) return;
  std::string_view host = request.host;
  if (IEqualsAscii(request.scheme, "https") && EndsWith(host, ":443")) {
    host.remove_suffix(4);
  } else if (IEqualsAscii(request.scheme, "http") && EndsWith(host, ":80")) {
    host.remove_suffix(3);
  }
  request.headers.emplace_back("Host", std::string(host));
}

void AppendQueryParam(std::string_view key, std::string_view value, std::string* query) {
  if (!query->empty()) query->push_back('&');
  query->append(key);
  query->push_back('=');
  AppendUriEncoded(value, /*keep_slash=*/false, query);
}

}  // namespace

SigningParams S3SigningParams(std::string region, int64_t time_epoch) {
  SigningParams params;
  params.region = std::move(region);
  params.service = "s3";
  params.time_epoch = time_epoch;
  params.normalize_path = false;
  params.double_encode_path = false;
  params.add_content_sha256_header = true;
  return params;
}

Result<SigningProducts> SignRequest(HttpRequest& request, const Credentials& credentials, const SigningParams& params) {
  CA_TRY_STATUS(ValidateSigningInputs(request, credentials, params));
  const std::string amz_date = FormatAmzDate(params.time_epoch);
  const std::string scope = CredentialScope(amz_date, params.region, params.service);
  const bool has_token = !credentials.session_token.empty();

  EnsureHostHeader(request);
  request.RemoveHeader("Authorization");
  request.SetHeader("X-Amz-Date", amz_date);
  if (has_token) {
    if (params.sign_session_token) {
      request.SetHeader("X-Amz-Security-Token", credentials.session_token);
    } else {
      request.RemoveHeader("X-Amz-Security-Token");
    }
  }
  std::string payload_hash = params.unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(request.body);
  if (params.add_content_sha256_header) request.SetHeader("X-Amz-Content-Sha256", payload_hash);

  const CanonicalHeaders headers = CanonicalizeAllHeaders(request.headers);
  SigningProducts products;
  products.canonical_request = AssembleCanonicalRequest(request, request.query, params.normalize_path,
                                                        params.double_encode_path, headers, payload_hash);
  products.string_to_sign = StringToSign(amz_date, scope, products.canonical_request);
  products.signature =
      ComputeSignature(credentials.secret_access_key, amz_date, params.region, params.service, products.string_to_sign);

  std::string authorization;
  authorization.reserve(kAlgorithm.size() + credentials.access_key_id.size() + scope.size() +
                        headers.signed_headers.size() + products.signature.size() + 40);
  authorization.append(kAlgorithm).append(" Credential=").append(credentials.access_key_id).append("/");
  authorization.append(scope).append(", SignedHeaders=").append(headers.signed_headers);
  authorization.append(", Signature=").append(products.signature);
  request.headers.emplace_back("Authorization", std::move(authorization));
  if (has_token && !params.sign_session_token) {
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  return products;
}

Result<SigningProducts> PresignRequest(HttpRequest& request, const Credentials& credentials,
                                       const SigningParams& params) {
  CA_TRY_STATUS(ValidateSigningInputs(request, credentials, params));
  if (params.expires_seconds < 1 || params.expires_seconds > kMaxExpiresSeconds) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot presign the request: expiry of " +
                                                      std::to_string(params.expires_seconds) +
                                                      " seconds is outside 1..604800 (7 days)");
  }
  const std::string amz_date = FormatAmzDate(params.time_epoch);
  const std::string scope = CredentialScope(amz_date, params.region, params.service);
  const bool has_token = !credentials.session_token.empty();

  EnsureHostHeader(request);
  request.RemoveHeader("Authorization");
  const CanonicalHeaders headers = CanonicalizeAllHeaders(request.headers);

  std::string credential;
  credential.reserve(credentials.access_key_id.size() + 1 + scope.size());
  credential.append(credentials.access_key_id).append("/").append(scope);
  std::string query;
  query.reserve(request.query.size() + 256 + credentials.session_token.size() * 3 / 2);
  query.append(request.query);
  AppendQueryParam("X-Amz-Algorithm", kAlgorithm, &query);
  AppendQueryParam("X-Amz-Credential", credential, &query);
  AppendQueryParam("X-Amz-Date", amz_date, &query);
  AppendQueryParam("X-Amz-SignedHeaders", headers.signed_headers, &query);
  AppendQueryParam("X-Amz-Expires", std::to_string(params.expires_seconds), &query);
  if (has_token && params.sign_session_token) {
    AppendQueryParam("X-Amz-Security-Token", credentials.session_token, &query);
  }

  const std::string payload_hash = params.unsigned_payload ? std::string(kUnsignedPayload) : Sha256Hex(request.body);
  SigningProducts products;
  products.canonical_request =
      AssembleCanonicalRequest(request, query, params.normalize_path, params.double_encode_path, headers, payload_hash);
  products.string_to_sign = StringToSign(amz_date, scope, products.canonical_request);
  products.signature =
      ComputeSignature(credentials.secret_access_key, amz_date, params.region, params.service, products.string_to_sign);

  if (has_token && !params.sign_session_token) {
    AppendQueryParam("X-Amz-Security-Token", credentials.session_token, &query);
  }
  AppendQueryParam("X-Amz-Signature", products.signature, &query);
  request.query = std::move(query);
  return products;
}

// ---------------------------------------------------------------------------
// Verification (fake AWS endpoints).

namespace {

tl::unexpected<Error> VerifyError(ErrorCode code, std::string_view aws_code, int http_status, std::string message) {
  Error e;
  e.code = code;
  e.message = std::move(message);
  e.aws_code = std::string(aws_code);
  e.http_status = http_status;
  return tl::unexpected<Error>(std::move(e));
}

tl::unexpected<Error> IncompleteSignature(std::string message) {
  return VerifyError(ErrorCode::kInvalidArgument, "IncompleteSignature", 400, std::move(message));
}

struct ParsedAuthorization {
  std::string_view access_key_id;
  std::string_view date;  // yyyymmdd
  std::string_view region;
  std::string_view service;
  std::string_view signed_headers;
  std::string_view signature;
};

// RFC 9110 token characters, lower case only: SigV4 lists header names
// lower-cased.
bool IsLowerTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Parts are separated by one '/' (key ids and scope parts cannot contain it).
std::vector<std::string_view> SplitView(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool SignedHeadersWellFormed(std::string_view list) {
  std::string_view previous;
  bool first = true;
  for (std::string_view name : SplitView(list, ';')) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), IsLowerTokenChar)) return false;
    if (!first && !(previous < name)) return false;
    previous = name;
    first = false;
  }
  return true;
}

bool ListContains(std::string_view list, std::string_view name) {
  for (std::string_view entry : SplitView(list, ';')) {
    if (entry == name) return true;
  }
  return false;
}

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=<64 hex>". Messages name the
// faulty component but never echo values: the header carries the signature.
Result<ParsedAuthorization> ParseAuthorization(std::string_view value) {
  value = Trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm) {
    return IncompleteSignature("Authorization header does not start with AWS4-HMAC-SHA256");
  }
  std::string_view rest = value.substr(kAlgorithm.size());
  if (rest.empty() || !IsSpace(rest.front())) {
    return IncompleteSignature(
        "Authorization header has nothing after AWS4-HMAC-SHA256 (expected Credential=..., "
        "SignedHeaders=..., Signature=...)");
  }
  std::string_view credential, signed_headers, signature;
  bool has_credential = false, has_signed_headers = false, has_signature = false;
  for (std::string_view part : SplitView(rest, ',')) {
    part = Trim(part);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return IncompleteSignature(
          "Authorization header has a component without '=' (expected Credential=..., "
          "SignedHeaders=..., Signature=...)");
    }
    const std::string_view name = part.substr(0, eq);
    std::string_view* slot = nullptr;
    bool* seen = nullptr;
    if (name == "Credential") {
      slot = &credential;
      seen = &has_credential;
    } else if (name == "SignedHeaders") {
      slot = &signed_headers;
      seen = &has_signed_headers;
    } else if (name == "Signature") {
      slot = &signature;
      seen = &has_signature;
    } else {
      return IncompleteSignature(
          "Authorization header has an unknown component (expected only Credential, SignedHeaders, Signature)");
    }
    if (*seen) return IncompleteSignature("Authorization header repeats " + std::string(name));
    *seen = true;
    *slot = part.substr(eq + 1);
  }
  if (!has_credential) return IncompleteSignature("Authorization header has no Credential");
  if (!has_signed_headers) return IncompleteSignature("Authorization header has no SignedHeaders");
  if (!has_signature) return IncompleteSignature("Authorization header has no Signature");

  const std::vector<std::string_view> scope = SplitView(credential, '/');
  if (scope.size() != 5 || scope[0].empty() || scope[1].size() != 8 || !IsDigits(scope[1]) || scope[2].empty() ||
      scope[3].empty() || scope[4] != kScopeTerminator) {
    return IncompleteSignature(
        "Authorization Credential is not <access key id>/<yyyymmdd>/<region>/<service>/aws4_request");
  }
  if (!SignedHeadersWellFormed(signed_headers)) {
    return IncompleteSignature(
        "Authorization SignedHeaders is not a ';'-separated, sorted list of distinct lower-case header names");
  }
  if (signature.size() != 64 || !IsLowerHex(signature)) {
    return IncompleteSignature("Authorization Signature is not 64 lower-case hex digits");
  }
  return ParsedAuthorization{scope[0], scope[1], scope[2], scope[3], signed_headers, signature};
}

bool WellFormedAmzDate(std::string_view d) {
  return d.size() == 16 && IsDigits(d.substr(0, 8)) && d[8] == 'T' && IsDigits(d.substr(9, 6)) && d[15] == 'Z';
}

size_t CountHeaders(const HttpHeaders& headers, std::string_view name) {
  return static_cast<size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return IEqualsAscii(h.first, name); }));
}

// The verifier's view of the headers: exactly the ones SignedHeaders lists.
Result<CanonicalHeaders> CanonicalizeListedHeaders(const HttpHeaders& headers, std::string_view signed_headers) {
  CanonicalHeaders result;
  result.signed_headers = std::string(signed_headers);
  for (std::string_view name : SplitView(signed_headers, ';')) {
    result.lines.append(name);
    result.lines.push_back(':');
    bool found = false;
    for (const auto& header : headers) {
      if (!IEqualsAscii(header.first, name)) continue;
      if (found) result.lines.push_back(',');
      AppendCanonicalHeaderValue(header.second, &result.lines);
      found = true;
    }
    if (!found) {
      return IncompleteSignature("signed header \"" + std::string(name) + "\" is not in the request");
    }
    result.lines.push_back('\n');
  }
  return result;
}

}  // namespace

Status VerifySignedRequest(const HttpRequest& request, const Credentials& credentials, bool s3_style) {
  const std::string* authorization = request.FindHeader("authorization");
  if (authorization == nullptr) {
    std::string message = "request has no Authorization header";
    if (request.query.find("X-Amz-Signature=") != std::string::npos) {
      message += " (presigned query-string requests are not supported by VerifySignedRequest)";
    }
    return VerifyError(ErrorCode::kInvalidArgument, "MissingAuthenticationToken", 403, std::move(message));
  }
  if (CountHeaders(request.headers, "authorization") > 1) {
    return IncompleteSignature("request has more than one Authorization header");
  }
  CA_TRY(const ParsedAuthorization auth, ParseAuthorization(*authorization));

  if (auth.access_key_id != credentials.access_key_id) {
    return VerifyError(ErrorCode::kCredentials, s3_style ? "InvalidAccessKeyId" : "InvalidClientTokenId", 403,
                       "the access key id in the Authorization Credential is not the one of the expected "
                       "credentials");
  }
  const std::string* amz_date = request.FindHeader("x-amz-date");
  if (amz_date == nullptr || CountHeaders(request.headers, "x-amz-date") > 1 || !WellFormedAmzDate(*amz_date)) {
    return IncompleteSignature("request needs exactly one X-Amz-Date header of the form yyyymmddThhmmssZ");
  }
  if (std::string_view(*amz_date).substr(0, 8) != auth.date) {
    return VerifyError(ErrorCode::kCredentials, "SignatureDoesNotMatch", 403,
                       "date in the Authorization Credential (" + std::string(auth.date) +
                           ") is not the date of X-Amz-Date (" + amz_date->substr(0, 8) + ")");
  }
  if (!ListContains(auth.signed_headers, "host") || !ListContains(auth.signed_headers, "x-amz-date")) {
    return IncompleteSignature("SignedHeaders must include host and x-amz-date");
  }

  // Session token: temporary credentials need it (signed or not), long-term
  // ones must not carry one.
  const std::string* token = request.FindHeader("x-amz-security-token");
  const std::string_view token_error_code = s3_style ? "InvalidToken" : "InvalidClientTokenId";
  if (credentials.session_token.empty()) {
    if (token != nullptr) {
      return VerifyError(ErrorCode::kCredentials, token_error_code, 403,
                         "request carries X-Amz-Security-Token but the expected credentials have no session token");
    }
  } else if (token == nullptr) {
    return VerifyError(ErrorCode::kCredentials, token_error_code, 403,
                       "request has no X-Amz-Security-Token but the expected credentials are temporary");
  } else if (CountHeaders(request.headers, "x-amz-security-token") > 1 || *token != credentials.session_token) {
    return VerifyError(ErrorCode::kCredentials, token_error_code, 403,
                       "X-Amz-Security-Token is not the session token of the expected credentials");
  }

  // Payload hash: X-Amz-Content-Sha256 when present (S3 requires it), else
  // the body's hash.
  std::string payload_hash;
  const std::string* content_sha256 = request.FindHeader("x-amz-content-sha256");
  if (content_sha256 == nullptr) {
    if (s3_style) {
      return VerifyError(ErrorCode::kInvalidArgument, "InvalidRequest", 400,
                         "S3 requests need an X-Amz-Content-Sha256 header");
    }
    payload_hash = Sha256Hex(request.body);
  } else {
    const std::string_view claimed = Trim(*content_sha256);
    if (claimed == kUnsignedPayload) {
      payload_hash = std::string(claimed);
    } else if (claimed.size() == 64 && IsLowerHex(claimed)) {
      payload_hash = Sha256Hex(request.body);
      if (claimed != payload_hash) {
        return VerifyError(ErrorCode::kInvalidArgument, "XAmzContentSHA256Mismatch", 400,
                           "X-Amz-Content-Sha256 is not the SHA-256 of the body");
      }
    } else {
      return VerifyError(ErrorCode::kInvalidArgument, "InvalidArgument", 400,
                         "X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or 64 lower-case hex digits");
    }
    if (s3_style && !ListContains(auth.signed_headers, "x-amz-content-sha256")) {
      return IncompleteSignature("S3 requests must sign x-amz-content-sha256");
    }
  }

  CA_TRY(const CanonicalHeaders headers, CanonicalizeListedHeaders(request.headers, auth.signed_headers));
  const std::string canonical_request =
      AssembleCanonicalRequest(request, request.query, !s3_style, !s3_style, headers, payload_hash);
  const std::string scope = CredentialScope(*amz_date, auth.region, auth.service);
  const std::string string_to_sign = StringToSign(*amz_date, scope, canonical_request);
  const std::string expected =
      ComputeSignature(credentials.secret_access_key, *amz_date, auth.region, auth.service, string_to_sign);
  if (CRYPTO_memcmp(expected.data(), auth.signature.data(), expected.size()) != 0) {
    // The string to sign holds only the date, scope and canonical request
    // hash: safe to show, and what a client's debug log can be compared to.
    std::string shown = string_to_sign;
    std::string::size_type pos = 0;
    while ((pos = shown.find('\n', pos)) != std::string::npos) shown.replace(pos, 1, "\\n");
    auto error = VerifyError(ErrorCode::kCredentials, "SignatureDoesNotMatch", 403,
                             "the request signature does not match: the request changed after signing or was "
                             "signed with another secret key (signed headers " +
                                 std::string(auth.signed_headers) + ", string to sign \"" + shown + "\")");
    error.value().region = std::string(auth.region);
    error.value().service = std::string(auth.service);
    return error;
  }
  return {};
}

}  // namespace cloudaudit::aws
