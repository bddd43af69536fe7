#include "aws/http/transport.h"

#include <algorithm>

#include "base/strings.h"

namespace cloudaudit::aws {

std::string HttpRequest::Url() const {
  std::string url = scheme + "://" + host + path;
  if (!query.empty()) url += "?" + query;
  return url;
}

const std::string* HttpRequest::FindHeader(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return &v;
  return nullptr;
}

void HttpRequest::SetHeader(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (IEquals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

void HttpRequest::RemoveHeader(std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(), [&](const auto& kv) { return IEquals(kv.first, name); }),
                headers.end());
}

const std::string* HttpResponse::FindHeader(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return &v;
  return nullptr;
}

}  // namespace cloudaudit::aws
