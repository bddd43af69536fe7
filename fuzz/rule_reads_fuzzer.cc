// libFuzzer harness for the analysis of what a rule's query reads
// (src/rules/rule_reads.h): a small SQL lexer over any text, a rewrite of
// the `data` mentions it recognises, and SQLite preparing the result on
// empty tables. Any bytes must give an answer without crashing; the answer
// only names tables it was given, and a table read whole or member by member
// answers Reads() consistently.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "rules/rule.h"
#include "rules/rule_reads.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cloudaudit;
  static const collect::SpecSet specs = [] {
    auto loaded = collect::LoadSpecs();
    if (!loaded) __builtin_trap();
    return *loaded;
  }();
  std::string query(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> tables = rules::TablesReferenced(query, specs);
  tables.push_back("aws_s3_bucket");
  rules::RuleReads reads = rules::AnalyzeReads(query, tables, specs, {"aws_s3_bucket"});
  for (const auto& [table, r] : reads.tables) {
    if (std::find(tables.begin(), tables.end(), table) == tables.end()) __builtin_trap();
    if (r.everything && !reads.Reads(table, {"AnyMember"})) __builtin_trap();
    for (const auto& m : r.members)
      if (!reads.Reads(table, {m})) __builtin_trap();
  }
  if (reads.Reads("aws_no_such_table", {"X"})) __builtin_trap();
  return 0;
}
