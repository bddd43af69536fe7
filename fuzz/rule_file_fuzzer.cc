// libFuzzer harness for the files users write for the rule engine: rule
// files, framework files and suppression files (src/rules). Any bytes must
// parse or fail with kParse naming the file and a line >= 1 — no crash, no
// hang, no unbounded memory (anchors and aliases expand into a budget, see
// collect/yaml_json.h). The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>

#include "rules/engine.h"
#include "rules/rule.h"

namespace {

template <typename T>
void CheckFailure(const cloudaudit::Result<T>& parsed) {
  if (parsed) return;
  const auto& e = parsed.error();
  if (e.code != cloudaudit::ErrorCode::kParse) __builtin_trap();
  // One problem carries file and line; a list of problems says them in the message.
  if (e.file.empty() ? e.message.find("fuzz.yaml:") == std::string::npos : (e.file != "fuzz.yaml" || e.line < 1)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cloudaudit::rules;
  if (size == 0) return 0;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto rule = ParseRuleYaml(text, "fuzz.yaml");
      CheckFailure(rule);
      if (rule && rule->id.empty()) __builtin_trap();
      break;
    }
    case 1: CheckFailure(ParseFrameworkYaml(text, "fuzz.yaml")); break;
    default: CheckFailure(ParseSuppressionsYaml(text, "fuzz.yaml")); break;
  }
  return 0;
}
