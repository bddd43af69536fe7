#include "aws/auth/url.h"

#include <arpa/inet.h>

#include <cstring>

#include <fmt/format.h>

namespace cloudaudit::aws {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace

Result<ParsedUrl> ParseHttpUrl(std::string_view url) {
  auto invalid = [&](std::string_view why) {
    return MakeError(ErrorCode::kInvalidArgument, fmt::format("invalid URL \"{}\": {}", url, why));
  };
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return invalid("control character or space");
  }
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return invalid("expected scheme://host");
  ParsedUrl out;
  out.scheme = Lower(url.substr(0, colon));
  if (out.scheme != "http" && out.scheme != "https") return invalid("only http and https are supported");
  std::string_view rest = url.substr(colon + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t netloc_end = rest.find_first_of("/?");
  std::string_view netloc = rest.substr(0, netloc_end);
  std::string_view tail = netloc_end == std::string_view::npos ? std::string_view() : rest.substr(netloc_end);
  if (size_t at = netloc.rfind('@'); at != std::string_view::npos) netloc = netloc.substr(at + 1);
  std::string_view hostname = netloc;
  std::string_view port;
  if (!netloc.empty() && netloc[0] == '[') {
    size_t close = netloc.find(']');
    if (close == std::string_view::npos) return invalid("unterminated IPv6 address");
    hostname = netloc.substr(1, close - 1);
    std::string_view after = netloc.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return invalid("unexpected text after the IPv6 address");
      port = after.substr(1);
    }
  } else if (size_t c = netloc.rfind(':'); c != std::string_view::npos) {
    hostname = netloc.substr(0, c);
    port = netloc.substr(c + 1);
  }
  if (hostname.empty()) return invalid("no host");
  for (char c : port)
    if (c < '0' || c > '9') return invalid("bad port");
  if (port.size() > 5) return invalid("bad port");
  out.hostname = Lower(hostname);
  bool ipv6 = out.hostname.find(':') != std::string::npos;
  out.host = ipv6 ? "[" + out.hostname + "]" : out.hostname;
  if (!port.empty()) out.host += ":" + std::string(port);
  size_t q = tail.find('?');
  out.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(tail.substr(q + 1));
  return out;
}

bool IsLoopbackAddress(std::string_view hostname) {
  std::string h(hostname);
  unsigned char buf[16];
  if (inet_pton(AF_INET, h.c_str(), buf) == 1) return buf[0] == 127;
  if (inet_pton(AF_INET6, h.c_str(), buf) == 1) {
    static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(buf, kLoopback, 16) == 0;
  }
  return false;
}

}  // namespace cloudaudit::aws
