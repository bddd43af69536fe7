// Internals of the Sigma engine: the compiled form of a rule's detection
// (value patterns, field items, selections, the condition tree), how YAML is
// compiled into it, and how it is evaluated against a simdjson record. Not a
// public API: only sigma.cc and the tests include it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace re2 {
class RE2;
}
namespace simdjson::dom {
class element;
}

namespace cloudaudit::threats::internal {

// ---- string patterns (Sigma wildcards) -------------------------------------

// One deterministic step of a wildcard segment: literal bytes, `?` (one
// UTF-8 character) or a windash position (- / en dash, em dash, horizontal bar).
struct GlobToken {
  enum class Kind : uint8_t { kLiteral, kAnyChar, kDash };
  Kind kind = Kind::kLiteral;
  std::string literal;  // kLiteral; ASCII-lowercased unless the pattern is cased
};

// A Sigma string value after escapes, wildcards and modifiers, matched
// against a whole field value. Literal-only shapes take fast paths; `*`-only
// globs match segment by segment (leftmost, linear-time search); patterns
// with `?` or windash dashes become an RE2 automaton, so no pattern can make
// matching worse than linear in the value. Case folding is ASCII-only in
// every shape.
class Pattern {
 public:
  enum class Shape : uint8_t { kAny, kExact, kPrefix, kSuffix, kContains, kPrefixSuffix, kGlob, kRegex };

  struct Part {
    bool star = false;  // `*`
    GlobToken token;    // when !star
  };
  // Check ok() afterwards: a kRegex pattern can fail to compile (too large,
  // invalid UTF-8), and error() says why.
  static Pattern Compile(const std::vector<Part>& parts, bool cased);

  bool Matches(std::string_view text) const;
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  Shape shape() const { return shape_; }
  bool cased() const { return cased_; }
  // For kExact: the literal (lowercased unless cased); used by the rule index.
  const std::string& literal() const { return literal_; }
  // Human-readable form, for tests and error messages.
  std::string Describe() const;

 private:
  bool MatchGlob(std::string_view text) const;

  Shape shape_ = Shape::kExact;
  bool cased_ = false;
  bool lead_star_ = false, trail_star_ = false;
  std::string literal_, literal2_;     // fast paths (literal2_: suffix of kPrefixSuffix)
  std::vector<std::string> segments_;  // kGlob: the literals between stars
  std::shared_ptr<const re2::RE2> re_;  // kRegex
  std::string error_;
};

// Case-insensitive (ASCII) or cased substring search, linear in the size
// of the haystack whatever the needle (two-way search on long inputs).
size_t FindText(std::string_view haystack, std::string_view needle, size_t from, bool cased);

// Parses a Sigma string: `*` and `?` are wildcards, `\*` `\?` `\\` escapes
// (a backslash before anything else is literal). `windash` turns every
// dash-like character into a kDash token.
std::vector<Pattern::Part> ParseSigmaString(std::string_view value, bool windash);

// ---- value matchers ---------------------------------------------------------

struct IpNetwork {
  bool v6 = false;
  uint8_t addr[16] = {};
  int prefix = 0;
  bool Contains(std::string_view ip) const;
};
// "10.0.0.0/8", "2001:db8::/32", or a bare address (a /32 or /128).
bool ParseCidr(std::string_view text, IpNetwork* out, std::string* why);

enum class NumOp : uint8_t { kLt, kLte, kGt, kGte };

// What one field item tests on the values the field path reaches.
struct ValueMatcher {
  enum class Kind : uint8_t { kPatterns, kRegex, kCidr, kNumeric, kExists, kFieldRef };
  Kind kind = Kind::kPatterns;
  bool all = false;      // |all: every value must be matched (by some element)
  bool negate = false;   // |neq: a value differs
  bool null_ok = false;  // a `null` value in the list: absent or null matches
  bool null_in_all = false;  // with |all, the null counts as one of the values
  std::vector<Pattern> patterns;
  std::vector<std::shared_ptr<const re2::RE2>> regexes;
  std::vector<IpNetwork> networks;
  NumOp num_op = NumOp::kLt;
  std::vector<double> numbers;
  bool exists = true;
  // kFieldRef: compare with the values of other fields.
  enum class RefMode : uint8_t { kEquals, kContains, kStartsWith, kEndsWith };
  RefMode ref_mode = RefMode::kEquals;
  bool cased = false;
  std::vector<std::vector<std::string>> ref_paths;
};

struct FieldItem {
  std::string field;               // as written ("" for a keyword search)
  std::vector<std::string> path;   // split on '.'
  ValueMatcher matcher;
  int line = 0;
};

// A map of field items (AND).
struct ItemGroup {
  std::vector<FieldItem> items;
};

// A named search identifier: a map (one group) or a list (OR of groups).
struct Selection {
  std::string name;
  int line = 0;
  std::vector<ItemGroup> groups;
};

// ---- condition ---------------------------------------------------------------

struct CondNode {
  enum class Op : uint8_t { kSelection, kAnd, kOr, kNot, kAtLeast };
  Op op = Op::kSelection;
  int selection = -1;  // kSelection
  int at_least = 1;    // kAtLeast: how many children must hold
  std::vector<CondNode> children;
};

struct Detection {
  std::vector<Selection> selections;
  CondNode condition;  // an OR over the condition list
  // Pre-filter: with kEventName (kEventSource) the rule can only match a
  // record whose eventName (eventSource), a scalar, ASCII-lowercased, is one
  // of index_values (which may be empty: then it never matches such a record).
  enum class IndexKind : uint8_t { kNone, kEventName, kEventSource };
  IndexKind index = IndexKind::kNone;
  std::vector<std::string> index_values;
};

// Nesting limit of conditions: deeper conditions are a load error rather
// than a risk to the stack.
inline constexpr int kMaxConditionDepth = 64;
// Budget of compiled values per rule (YAML aliases can multiply a small file).
inline constexpr size_t kMaxValuesPerRule = 100000;

struct CompileContext {
  std::string file;
  const std::map<std::string, std::vector<std::string>>* placeholders = nullptr;
  std::vector<Error> problems;  // every problem, file:line
  size_t values = 0;
  void Problem(int line, std::string message);
};

// Compiles `detection:` (whose key is at detection_line); problems go to ctx.problems. Returns null if any.
struct YamlNode;
std::shared_ptr<const Detection> CompileDetection(const YamlNode& detection, int detection_line, CompileContext& ctx);

// Parses a condition string against the selection names. `line` is where
// the condition is in the file.
bool ParseCondition(std::string_view text, const std::vector<Selection>& selections, int line, CondNode* out,
                    CompileContext& ctx);

// Evaluation.
bool EvaluateDetection(const Detection& d, const simdjson::dom::element& record);

// The string form of a scalar record value (strings as-is, numbers in
// decimal — shortest round-trip form for non-integers —, booleans
// true/false); false for null, objects and arrays. Numbers are written to buf.
struct NumberBuffer {
  char data[48];
};
bool ScalarText(const simdjson::dom::element& e, NumberBuffer* buf, std::string_view* out);

}  // namespace cloudaudit::threats::internal
