// A minimal YAML document tree for Sigma rules, built from libyaml's event
// parser. Why not yaml-cpp (used elsewhere in the project)? yaml-cpp 0.7
// loops forever on some 7-byte inputs (",a: K\n", found by
// sigma_rule_fuzzer) and recurses on nesting; libyaml's parser is an
// iterative state machine, fuzzed upstream, and this builder adds a nesting
// limit, refuses duplicate keys and aliases to unfinished nodes (so the tree
// has no cycles; aliases share nodes instead of copying them).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cloudaudit::threats::internal {

struct YamlNode {
  enum class Kind : uint8_t { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  int line = 1;        // 1-based line where the node starts
  std::string scalar;  // kScalar: the text, as written (numbers and booleans too)
  std::vector<std::shared_ptr<const YamlNode>> items;  // kSequence
  std::vector<std::pair<std::shared_ptr<const YamlNode>, std::shared_ptr<const YamlNode>>> pairs;  // kMap, in order

  bool IsNull() const { return kind == Kind::kNull; }
  bool IsScalar() const { return kind == Kind::kScalar; }
  bool IsSequence() const { return kind == Kind::kSequence; }
  bool IsMap() const { return kind == Kind::kMap; }
  size_t size() const { return kind == Kind::kMap ? pairs.size() : items.size(); }
  // The value of a scalar key in a map; null if absent (or not a map).
  const YamlNode* Get(std::string_view key) const;
  // The line of that key (the node's own line if absent).
  int KeyLine(std::string_view key) const;
};

// Nesting limit of YAML collections: a Sigma rule needs five levels.
inline constexpr int kMaxYamlDepth = 64;

struct YamlError {
  int line = 1;
  std::string message;
};

// Parses every document of `text` (null documents included, as null
// nodes). On a syntax error, an unknown alias, a duplicate key or too deep
// nesting: false and *error.
bool ParseYaml(std::string_view text, std::vector<std::shared_ptr<const YamlNode>>* docs, YamlError* error);

}  // namespace cloudaudit::threats::internal
