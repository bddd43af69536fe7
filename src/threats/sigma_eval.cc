// Evaluation of a compiled detection against one CloudTrail record (simdjson
// DOM). A field path walks objects by key; an array anywhere on the path, or
// at its end, fans out: the item holds when any element satisfies it. No
// allocation on the hot path.
#include <re2/re2.h>
#include <simdjson.h>
#include <string.h>

#include <charconv>

#include "threats/sigma_compile.h"

namespace cloudaudit::threats::internal {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool ScalarText(const element& e, NumberBuffer* buf, std::string_view* out) {
  switch (e.type()) {
    case element_type::STRING:
      return !e.get_string().get(*out);
    case element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) return false;
      auto r = std::to_chars(buf->data, buf->data + sizeof(buf->data), v);
      *out = std::string_view(buf->data, static_cast<size_t>(r.ptr - buf->data));
      return true;
    }
    case element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v)) return false;
      auto r = std::to_chars(buf->data, buf->data + sizeof(buf->data), v);
      *out = std::string_view(buf->data, static_cast<size_t>(r.ptr - buf->data));
      return true;
    }
    case element_type::DOUBLE: {
      double v = 0;
      if (e.get_double().get(v)) return false;
      auto r = std::to_chars(buf->data, buf->data + sizeof(buf->data), v);
      if (r.ec != std::errc()) return false;
      *out = std::string_view(buf->data, static_cast<size_t>(r.ptr - buf->data));
      return true;
    }
    case element_type::BOOL: {
      bool v = false;
      if (e.get_bool().get(v)) return false;
      *out = v ? "true" : "false";
      return true;
    }
    default:
      return false;
  }
}

namespace {

// Calls f(leaf) for each value the path reaches until f returns true;
// returns whether it did. *count gets the number of leaves visited.
template <typename F>
bool AnyLeaf(const element& e, const std::vector<std::string>& path, size_t i, F& f, int* count) {
  const element_type t = e.type();
  if (t == element_type::ARRAY) {
    simdjson::dom::array arr;
    if (e.get_array().get(arr)) return false;
    for (element child : arr) {
      if (AnyLeaf(child, path, i, f, count)) return true;
    }
    return false;
  }
  if (i == path.size()) {
    ++*count;
    return f(e);
  }
  if (t != element_type::OBJECT) return false;
  simdjson::dom::object obj;
  if (e.get_object().get(obj)) return false;
  element child;
  if (obj.at_key(path[i]).get(child)) return false;
  return AnyLeaf(child, path, i + 1, f, count);
}

// Every scalar value in the record (keyword search): objects' values and
// arrays' elements, recursively.
template <typename F>
bool AnyValue(const element& e, F& f) {
  switch (e.type()) {
    case element_type::ARRAY: {
      simdjson::dom::array arr;
      if (e.get_array().get(arr)) return false;
      for (element child : arr) {
        if (AnyValue(child, f)) return true;
      }
      return false;
    }
    case element_type::OBJECT: {
      simdjson::dom::object obj;
      if (e.get_object().get(obj)) return false;
      for (auto field : obj) {
        if (AnyValue(field.value, f)) return true;
      }
      return false;
    }
    case element_type::NULL_VALUE:
      return false;
    default:
      return f(e);
  }
}

bool NumberOf(const element& e, double* out) {
  switch (e.type()) {
    case element_type::INT64: {
      int64_t v = 0;
      if (e.get_int64().get(v)) return false;
      *out = static_cast<double>(v);
      return true;
    }
    case element_type::UINT64: {
      uint64_t v = 0;
      if (e.get_uint64().get(v)) return false;
      *out = static_cast<double>(v);
      return true;
    }
    case element_type::DOUBLE:
      return !e.get_double().get(*out);
    case element_type::STRING: {
      std::string_view s;
      if (e.get_string().get(s)) return false;
      if (!s.empty() && s.front() == '+') s.remove_prefix(1);
      if (s.empty()) return false;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
      return ec == std::errc() && ptr == s.data() + s.size();
    }
    default:
      return false;
  }
}

bool Compare(NumOp op, double a, double b) {
  switch (op) {
    case NumOp::kLt:
      return a < b;
    case NumOp::kLte:
      return a <= b;
    case NumOp::kGt:
      return a > b;
    case NumOp::kGte:
      return a >= b;
  }
  return false;
}

inline bool EqualFold(std::string_view a, std::string_view b, bool cased) {
  if (a.size() != b.size()) return false;
  if (cased) return a == b;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool RefCompare(ValueMatcher::RefMode mode, std::string_view a, std::string_view b, bool cased) {
  switch (mode) {
    case ValueMatcher::RefMode::kEquals:
      return EqualFold(a, b, cased);
    case ValueMatcher::RefMode::kStartsWith:
      return a.size() >= b.size() && EqualFold(a.substr(0, b.size()), b, cased);
    case ValueMatcher::RefMode::kEndsWith:
      return a.size() >= b.size() && EqualFold(a.substr(a.size() - b.size()), b, cased);
    case ValueMatcher::RefMode::kContains:
      return FindText(a, b, 0, cased) != std::string_view::npos;
  }
  return false;
}

// Does some reached value satisfy test(text)? Null leaves are counted in
// *nulls; non-scalar leaves never satisfy a text test.
template <typename T>
bool AnyText(const FieldItem& item, const element& record, T&& test, int* count, int* nulls) {
  NumberBuffer buf;
  auto f = [&](const element& e) {
    if (e.is_null()) {
      ++*nulls;
      return false;
    }
    std::string_view text;
    return ScalarText(e, &buf, &text) && test(text);
  };
  if (item.path.empty()) {
    *count = 1;  // a keyword search always has "a value": the record
    return AnyValue(record, f);
  }
  return AnyLeaf(record, item.path, 0, f, count);
}

// OR over values (AND with |all) of "some reached value matches value v".
template <typename T>
bool OverValues(const FieldItem& item, const element& record, size_t n, T&& value_matches) {
  const ValueMatcher& m = item.matcher;
  int count = 0, nulls = 0;
  if (!m.all) {
    const bool hit = AnyText(
        item, record,
        [&](std::string_view text) {
          for (size_t i = 0; i < n; ++i) {
            if (value_matches(i, text)) return true;
          }
          return false;
        },
        &count, &nulls);
    return hit || (m.null_ok && (count == 0 || nulls > 0));
  }
  for (size_t i = 0; i < n; ++i) {
    count = nulls = 0;
    if (!AnyText(
            item, record, [&](std::string_view text) { return value_matches(i, text); }, &count, &nulls))
      return false;
  }
  if (m.null_in_all) {
    count = nulls = 0;
    AnyText(
        item, record, [](std::string_view) { return false; }, &count, &nulls);
    return count == 0 || nulls > 0;
  }
  return true;
}

bool MatchKeywordText(const FieldItem& item, RecordContext& ctx) {
  const ValueMatcher& m = item.matcher;
  const std::string& text = ctx.KeywordText();
  for (const auto& p : m.patterns) {
    const bool hit = memmem(text.data(), text.size(), p.literal().data(), p.literal().size()) != nullptr;
    if (hit && !m.all) return true;
    if (!hit && m.all) return false;
  }
  return m.all;
}

bool MatchItem(const FieldItem& item, RecordContext& ctx) {
  if (item.keyword_text) return MatchKeywordText(item, ctx);
  const element& record = ctx.record();
  const ValueMatcher& m = item.matcher;
  switch (m.kind) {
    case ValueMatcher::Kind::kPatterns: {
      if (m.negate) {
        // neq: some (non-null) value equals none of the listed values.
        int count = 0, nulls = 0;
        return AnyText(
            item, record,
            [&](std::string_view text) {
              for (const auto& p : m.patterns) {
                if (p.Matches(text)) return false;
              }
              return true;
            },
            &count, &nulls);
      }
      return OverValues(item, record, m.patterns.size(),
                        [&](size_t i, std::string_view t) { return m.patterns[i].Matches(t); });
    }
    case ValueMatcher::Kind::kRegex:
      return OverValues(item, record, m.regexes.size(), [&](size_t i, std::string_view t) {
        return RE2::PartialMatch(re2::StringPiece(t.data(), t.size()), *m.regexes[i]);
      });
    case ValueMatcher::Kind::kCidr:
      return OverValues(item, record, m.networks.size(),
                        [&](size_t i, std::string_view t) { return m.networks[i].Contains(t); });
    case ValueMatcher::Kind::kNumeric: {
      auto matches = [&](size_t i) {
        int count = 0;
        auto f = [&](const element& e) {
          double v = 0;
          return NumberOf(e, &v) && Compare(m.num_op, v, m.numbers[i]);
        };
        return AnyLeaf(record, item.path, 0, f, &count);
      };
      for (size_t i = 0; i < m.numbers.size(); ++i) {
        const bool hit = matches(i);
        if (m.all && !hit) return false;
        if (!m.all && hit) return true;
      }
      return m.all;
    }
    case ValueMatcher::Kind::kExists: {
      int count = 0;
      auto f = [](const element&) { return true; };
      AnyLeaf(record, item.path, 0, f, &count);
      return (count > 0) == m.exists;
    }
    case ValueMatcher::Kind::kFieldRef: {
      auto ref_matches = [&](size_t i, std::string_view a) {
        NumberBuffer buf;
        int count = 0;
        auto f = [&](const element& e) {
          std::string_view b;
          if (!ScalarText(e, &buf, &b)) return false;
          const bool same = RefCompare(m.ref_mode, a, b, m.cased);
          return m.negate ? !same : same;
        };
        return AnyLeaf(record, m.ref_paths[i], 0, f, &count);
      };
      return OverValues(item, record, m.ref_paths.size(), ref_matches);
    }
  }
  return false;
}

bool MatchSelection(const Selection& s, RecordContext& record) {
  for (const auto& g : s.groups) {
    bool all = true;
    for (const auto& item : g.items) {
      if (!MatchItem(item, record)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

bool Eval(const CondNode& n, const Detection& d, RecordContext& record) {
  switch (n.op) {
    case CondNode::Op::kSelection:
      return MatchSelection(d.selections[static_cast<size_t>(n.selection)], record);
    case CondNode::Op::kAnd:
      for (const auto& c : n.children) {
        if (!Eval(c, d, record)) return false;
      }
      return true;
    case CondNode::Op::kOr:
      for (const auto& c : n.children) {
        if (Eval(c, d, record)) return true;
      }
      return false;
    case CondNode::Op::kNot:
      return !Eval(n.children[0], d, record);
    case CondNode::Op::kAtLeast: {
      int hits = 0;
      int left = static_cast<int>(n.children.size());
      for (const auto& c : n.children) {
        --left;
        if (Eval(c, d, record) && ++hits >= n.at_least) return true;
        if (hits + left < n.at_least) return false;
      }
      return false;
    }
  }
  return false;
}

}  // namespace

const std::string& RecordContext::KeywordText() {
  if (keyword_text_ != nullptr) return *keyword_text_;
  thread_local std::string text;
  text.clear();
  NumberBuffer buf;
  auto add = [&](const element& e) {
    std::string_view v;
    if (ScalarText(e, &buf, &v)) {
      const size_t start = text.size();
      text.resize(start + v.size() + 1);
      // Branch-free so that the compiler vectorizes it.
      char* out = text.data() + start;
      for (size_t i = 0; i < v.size(); ++i) {
        const auto c = static_cast<unsigned char>(v[i]);
        out[i] = static_cast<char>(c | (static_cast<unsigned char>(c - 'A') < 26 ? 0x20 : 0));
      }
      out[v.size()] = '\0';
    }
    return false;
  };
  AnyValue(record_, add);
  keyword_text_ = &text;
  return text;
}

bool EvaluateDetection(const Detection& d, RecordContext& record) { return Eval(d.condition, d, record); }

}  // namespace cloudaudit::threats::internal
