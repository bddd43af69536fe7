// libFuzzer harness for the resource-spec loader (YAML -> ResourceSpec ->
// validation against the AWS models): any bytes must parse or give a kParse
// error with file and line, and validation must never crash, whatever the
// spec names (unknown services, operations, paths, templates).
#include <cstddef>
#include <cstdint>
#include <string>

#include "collect/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cloudaudit::collect;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseSpecYaml(text, "fuzz.yaml");
  if (!parsed) {
    if (parsed.error().file != "fuzz.yaml" || parsed.error().line < 1) __builtin_trap();
    return 0;
  }
  for (const auto& e : ValidateSpecs(*parsed))
    if (e.file != "fuzz.yaml") __builtin_trap();
  // Templates of the parsed specs against a fixed item and context.
  cloudaudit::Json item = {{"Name", "x"}, {"List", cloudaudit::Json::array({1, 2})}};
  std::map<std::string, std::string> ctx = {{"region", "us-east-1"}, {"account_id", "123456789012"}};
  for (const auto& r : *parsed) {
    std::string missing;
    (void)ExpandTemplate(r.id_template, item, ctx, &missing);
    (void)ExpandParams(r.list.call.params, item, ctx, &missing);
    for (const auto& c : r.columns) (void)SqlPath(c.path);
  }
  return 0;
}
