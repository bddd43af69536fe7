// Pagination from botocore's paginators-1.json: computing the next request
// from a page (output tokens, more_results, repeated-token detection) and
// merging pages the way botocore's PageIterator.build_full_result does, which
// is what the AWS CLI prints for a paginated command.
#pragma once

#include <optional>
#include <string_view>

#include "aws/model/model.h"
#include "base/error.h"
#include "base/json.h"

namespace cloudaudit::aws {

// The small JMESPath subset paginators use: "A.B", "A[-1].B", "X || Y".
// Returns nullptr when absent or null.
const Json* SearchPath(const Json& doc, std::string_view expression);
// Sets a dotted path, creating objects on the way ("A.B" = value).
void SetPath(Json& doc, std::string_view expression, Json value);

class PageCursor {
 public:
  PageCursor(const Paginator& paginator, Json first_params);
  // Parameters for the next request, or nullopt when `page` was the last.
  // Errors when the service returns the same token twice (a loop).
  Result<std::optional<Json>> Next(const Json& page);

 private:
  const Paginator& paginator_;
  Json params_;
  std::optional<Json> previous_tokens_;
};

class PageMerger {
 public:
  explicit PageMerger(const Paginator& paginator) : paginator_(paginator) {}
  void Add(const Json& page);
  // The merged document: result keys concatenated over pages, then the
  // non-aggregate keys of the first page.
  Json Finish();

 private:
  const Paginator& paginator_;
  Json result_ = Json::object();
  Json non_aggregate_ = Json::object();
  bool first_ = true;
};

}  // namespace cloudaudit::aws
