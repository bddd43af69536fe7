// CloudWatch Logs JSON filter patterns (`{ ($.eventName = CreateTrail) ||
// ($.eventName = DeleteTrail) }`), as far as the CIS monitoring rules need
// them: parsed into an AND/OR tree of comparisons, and compared with another
// pattern — does a metric filter catch every event a reference pattern
// (CIS's) describes?
//
// Comparisons are atoms: `$.a.b = value` (also !=, <, <=, >, >=), `$.a IS
// NULL|TRUE|FALSE`, `$.a NOT EXISTS`, `$.a EXISTS`. && binds tighter than ||,
// as in CloudWatch Logs and C; parentheses group. Values are compared as text
// (quotes removed); a `*` in a filter's `=` value matches any run of
// characters. There is no negation operator in the syntax (`!=` is an atom
// of its own), so both sides are monotone in their atoms, and "the filter
// catches every event of the reference" holds when every conjunction of the
// reference's disjunctive normal form makes the filter true. Relations
// between atoms beyond equality and wildcards (numbers, = against !=) are not
// used: the answer can be "no" for an exotic filter that does cover the
// reference, never "yes" for one that does not.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cloudaudit::rules {

// 1: every event matching `reference` matches `filter`; 0: some do not;
// nullopt: one of them is not a JSON filter pattern this parser reads, or the
// reference expands to more than 4,096 conjunctions.
std::optional<bool> FilterPatternCovers(std::string_view filter, std::string_view reference);

// Whether `pattern` parses; the reason when it does not.
std::optional<std::string> FilterPatternError(std::string_view pattern);

}  // namespace cloudaudit::rules
