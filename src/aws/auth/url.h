// Splitting the few URLs credential providers use (IMDS and container
// endpoints from environment variables) into HttpRequest parts.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace cloudaudit::aws {

struct ParsedUrl {
  std::string scheme;    // lower-cased: "http" or "https"
  std::string hostname;  // lower-cased, IPv6 without brackets (Python's urlsplit().hostname)
  std::string host;      // for HttpRequest::host: "[fd00:ec2::254]:8080", "localhost"
  std::string path;      // as written; may be empty
  std::string query;     // without '?'
};

// Accepts http and https URLs with a non-empty host; a fragment is dropped.
// kInvalidArgument otherwise.
Result<ParsedUrl> ParseHttpUrl(std::string_view url);

// True for 127.0.0.0/8 and ::1 literals (Python's ip_address(h).is_loopback).
bool IsLoopbackAddress(std::string_view hostname);

}  // namespace cloudaudit::aws
