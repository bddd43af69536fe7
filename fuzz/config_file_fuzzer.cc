// libFuzzer harness for the AWS shared config/credentials file parser: any
// byte string must either parse or yield a kParse error with a line number,
// without crashing, hanging or reading out of bounds. Each input is also fed
// through the profile-map builders, which split section headers like shlex.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aws/auth/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cloudaudit::aws;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first byte picks the parser options so every mode gets coverage.
  ConfigParseOptions options;
  if (!text.empty()) {
    options.strip_inline_comments = (text[0] & 1) != 0;
    options.allow_duplicates = (text[0] & 2) != 0;
  }
  auto parsed = ParseConfigFile(text, "fuzz-config", options);
  if (!parsed) {
    if (parsed.error().line < 0) __builtin_trap();
    return 0;
  }
  SharedConfig shared;
  IniFile copy = *parsed;
  AddConfigFile(shared, std::move(*parsed));
  AddCredentialsFile(shared, std::move(copy));
  for (const auto& [name, profile] : shared.profiles) {
    (void)GetString(profile, "region");
    (void)shared.FindProfile(name);
  }
  return 0;
}
