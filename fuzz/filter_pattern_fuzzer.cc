// libFuzzer harness for the CloudWatch Logs filter-pattern comparison
// (src/rules/filter_pattern.h): metric filter patterns come from the scanned
// account, so any text. Input: a filter, optionally `\n#--reference--\n` and a
// reference. No crash, no hang (nesting and the reference's expansion are
// bounded), and a pattern that parses covers itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "rules/filter_pattern.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cloudaudit::rules;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kSeparator = "\n#--reference--\n";
  std::string_view filter = text, reference = text;
  if (auto at = text.find(kSeparator); at != std::string_view::npos) {
    filter = text.substr(0, at);
    reference = text.substr(at + kSeparator.size());
  }
  (void)FilterPatternCovers(filter, reference);
  const bool parses = !FilterPatternError(filter).has_value();
  auto self = FilterPatternCovers(filter, filter);
  if (!parses && self.has_value()) __builtin_trap();
  if (self.has_value() && !*self) __builtin_trap();  // every pattern covers itself
  return 0;
}
