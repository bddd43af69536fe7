// libFuzzer harness for the scan configuration file (cloudaudit.yaml,
// src/scan/config): any bytes must parse or fail with kParse and every
// problem as "fuzz.yaml:LINE: ..." — no crash, no hang, no unbounded memory.
#include <cstddef>
#include <cstdint>
#include <string>

#include "scan/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = cloudaudit::scan::ParseScanConfig(text, "/fuzz/fuzz.yaml");
  if (!parsed) {
    if (parsed.error().code != cloudaudit::ErrorCode::kParse) __builtin_trap();
    if (parsed.error().message.find("fuzz.yaml:") == std::string::npos) __builtin_trap();
  }
  return 0;
}
