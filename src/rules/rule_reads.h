// What a rule's query reads of the inventory: per table, the top-level
// members of the resource documents behind the columns it uses. The engine
// applies a collection gap tied to members (a failed per-resource call, see
// store::Gap::members) only to the rules that read one of them, so a denied
// GetBucketPolicyStatus skips the public-policy rules of that bucket but not
// its versioning rule (docs/rules.md, "Collection gaps").
//
// The analysis errs on the side of reading more: whatever it cannot
// attribute counts as reading the whole document, which makes the rule skip
// the resource as before.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "collect/spec.h"

namespace cloudaudit::rules {

struct TableReads {
  bool everything = false;        // the whole document, or reads that cannot be attributed
  std::set<std::string> members;  // top-level members of `data`
};

struct RuleReads {
  std::map<std::string, TableReads> tables;  // tables not listed are not read
  // Whether the rule reads any of `members` of `table` (true when it reads
  // the whole document; false when it does not read the table).
  bool Reads(const std::string& table, const std::vector<std::string>& members) const;
};

// Analyses `query` over `tables` (spec tables; others are ignored). SQLite's
// authorizer reports every column the query reads when it is prepared on
// empty tables of the same shape (columns behind `*`, CTEs and subqueries
// included). A typed column stands for the first member of its path
// (`policy_is_public` → PolicyStatus), `tags` for the spec's tags member,
// `id`/`arn`/`name` for the members their templates use, `account_id` and
// `region` for none. `data` counts member by member where the query reads
// it through a literal path:
//   json_extract(data, '$.M...'[, '$.N...'...]), json_type / json_array_length /
//   json_each / json_tree(data, '$.M...'), data -> '$.M...', data ->> 'M'
// (qualified or not; jsonb_ variants too): those mentions are renamed to a
// column of their own before preparing, so that a read SQLite still reports
// of `data` (a mention without a path, `*` over the table) reads it whole.
// A NATURAL join, or a query that does not prepare, reads every table whole;
// `declared` tables (a rule's `depends:`) the query shows no read of too.
RuleReads AnalyzeReads(const std::string& query, const std::vector<std::string>& tables, const collect::SpecSet& specs,
                       const std::vector<std::string>& declared = {});

}  // namespace cloudaudit::rules
