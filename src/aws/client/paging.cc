#include "aws/client/paging.h"

#include <algorithm>
#include <cstdlib>
#include <functional>

#include <fmt/format.h>

#include "base/strings.h"

namespace cloudaudit::aws {

namespace {

const Json* SearchSimple(const Json& doc, std::string_view expr) {
  const Json* cur = &doc;
  for (const auto& raw : Split(expr, '.')) {
    std::string segment(Trim(raw));
    std::optional<long> index;
    if (size_t bracket = segment.find('['); bracket != std::string::npos) {
      index = std::strtol(segment.c_str() + bracket + 1, nullptr, 10);
      segment.resize(bracket);
    }
    if (!segment.empty()) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(segment);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    }
    if (index) {
      if (!cur->is_array() || cur->empty()) return nullptr;
      long n = static_cast<long>(cur->size());
      long i = *index < 0 ? n + *index : *index;
      if (i < 0 || i >= n) return nullptr;
      cur = &(*cur)[static_cast<size_t>(i)];
    }
  }
  return cur->is_null() ? nullptr : cur;
}

// JMESPath truthiness: false, null, "", [] and {} are false.
bool Truthy(const Json* v) {
  if (v == nullptr || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_string() || v->is_array() || v->is_object()) return !v->empty();
  return true;
}

}  // namespace

const Json* SearchPath(const Json& doc, std::string_view expression) {
  size_t start = 0;
  while (true) {
    size_t bar = expression.find("||", start);
    std::string_view alt = expression.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    const Json* v = SearchSimple(doc, Trim(alt));
    if (Truthy(v) || bar == std::string_view::npos) return v;
    start = bar + 2;
  }
}

void SetPath(Json& doc, std::string_view expression, Json value) {
  Json* cur = &doc;
  auto parts = Split(expression, '.');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    Json& next = (*cur)[parts[i]];
    if (!next.is_object()) next = Json::object();
    cur = &next;
  }
  (*cur)[parts.back()] = std::move(value);
}

PageCursor::PageCursor(const Paginator& paginator, Json first_params)
    : paginator_(paginator), params_(std::move(first_params)) {
  if (!params_.is_object()) params_ = Json::object();
}

Result<std::optional<Json>> PageCursor::Next(const Json& page) {
  if (!paginator_.more_results.empty() && !Truthy(SearchPath(page, paginator_.more_results))) return std::nullopt;
  Json tokens = Json::object();
  bool any = false;
  for (size_t i = 0; i < paginator_.output_tokens.size() && i < paginator_.input_tokens.size(); ++i) {
    const Json* t = SearchPath(page, paginator_.output_tokens[i]);
    if (Truthy(t)) {
      tokens[paginator_.input_tokens[i]] = *t;
      any = true;
    } else {
      tokens[paginator_.input_tokens[i]] = nullptr;
    }
  }
  if (!any) return std::nullopt;
  if (previous_tokens_ && *previous_tokens_ == tokens) {
    return MakeError(ErrorCode::kAwsService,
                     fmt::format("the same pagination token was received twice: {}", DumpPythonJson(tokens, -1)));
  }
  for (auto it = tokens.begin(); it != tokens.end(); ++it) {
    if (!it.value().is_null() && it.value() != "None") {
      params_[it.key()] = it.value();
    } else {
      params_.erase(it.key());
    }
  }
  previous_tokens_ = tokens;
  return std::optional<Json>(params_);
}

void PageMerger::Add(const Json& page) {
  if (first_) {
    for (const auto& key : paginator_.non_aggregate_keys) {
      const Json* v = SearchPath(page, key);
      SetPath(non_aggregate_, key, v != nullptr ? *v : Json());
    }
    first_ = false;
  }
  for (const auto& key : paginator_.result_keys) {
    const Json* value = SearchPath(page, key);
    if (value == nullptr) continue;
    Json* existing = const_cast<Json*>(SearchPath(result_, key));
    if (existing == nullptr) {
      SetPath(result_, key, *value);
      continue;
    }
    if (value->is_array() && existing->is_array()) {
      for (const auto& item : *value) existing->push_back(item);
    } else if (value->is_string() && existing->is_string()) {
      *existing = existing->get<std::string>() + value->get<std::string>();
    } else if (value->is_number_integer() && existing->is_number_integer()) {
      *existing = existing->get<int64_t>() + value->get<int64_t>();
    } else if (value->is_number() && existing->is_number()) {
      *existing = existing->get<double>() + value->get<double>();
    }
  }
}

Json PageMerger::Finish() {
  // botocore's merge_dicts: nested objects merge, other values overwrite.
  // A result-key list is never overwritten: in botocore the non-aggregate
  // copy *is* the first page's list object, which the merge extended.
  std::function<void(Json&, const Json&, const std::string&)> merge = [&](Json& into, const Json& from,
                                                                          const std::string& prefix) {
    for (auto it = from.begin(); it != from.end(); ++it) {
      std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
      bool is_result_list = it.value().is_array() &&
                            std::find(paginator_.result_keys.begin(), paginator_.result_keys.end(), path) !=
                                paginator_.result_keys.end() &&
                            into.contains(it.key());
      if (is_result_list) continue;
      if (it.value().is_object() && into.contains(it.key()) && into[it.key()].is_object()) {
        merge(into[it.key()], it.value(), path);
      } else {
        into[it.key()] = it.value();
      }
    }
  };
  merge(result_, non_aggregate_, "");
  return std::move(result_);
}

}  // namespace cloudaudit::aws
