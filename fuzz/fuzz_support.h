// Helpers shared by the libFuzzer harnesses: framing fuzz bytes as an HTTP
// response, the cheap invariants every parsed document must satisfy, and a
// check macro that stops the run with a message. Header-only on purpose: the
// same harness sources are compiled with clang + libFuzzer (fuzzing) and with
// g++ + fuzz/replay_main.cc (regression replay in the normal test suite).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "aws/http/transport.h"
#include "base/json.h"
#include "base/strings.h"

// A failed invariant is a bug in the code under test: print why and abort, so
// libFuzzer saves the input (crash-*) and the replay test fails.
#define FUZZ_CHECK(cond, what)                                                              \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: invariant violated: %s (%s)\n", __FILE__, __LINE__, what, \
                   #cond);                                                                  \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)

namespace cloudaudit::fuzz {

// Strict RFC 3629 UTF-8 (no overlongs, no surrogates, nothing above
// U+10FFFF): what nlohmann::json accepts in strings.
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

inline bool HasNonFiniteNumber(const Json& v) {
  if (v.is_number_float()) {
    return !std::isfinite(v.get<double>());
  }
  if (v.is_structured()) {
    for (const auto& item : v) {
      if (HasNonFiniteNumber(item)) return true;
    }
  }
  return false;
}

// Input layout of the response harnesses, after the selector byte:
//
//   [Name: value\n ...]\n   optional header block, ended by an empty line
//   body                    every byte after it
//
// The header block is taken only when every line before the first empty line
// has a ':' not in first position; otherwise the whole input is the body (so
// a raw XML/JSON document is a valid input too). Lines may end in "\r\n".
// Names are lower-cased, as the curl transport hands them over.
inline void SplitHeadersAndBody(std::string_view input, aws::HttpHeaders* headers, std::string* body) {
  aws::HttpHeaders parsed;
  size_t pos = 0;
  while (true) {
    const size_t nl = input.find('\n', pos);
    if (nl == std::string_view::npos) {
      *body = std::string(input);  // no empty line: all body
      return;
    }
    std::string_view line = input.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      *body = std::string(input);
      return;
    }
    parsed.emplace_back(ToLower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
  }
  *headers = std::move(parsed);
  *body = std::string(input.substr(pos));
}

// Invariants of a successfully parsed boto3-shaped output document: it is an
// object; both renderings work; and the AWS CLI rendering reads back as the
// same document whenever it can be JSON at all (valid UTF-8 strings, no
// NaN/Infinity, which Python's json.dumps writes too).
inline void CheckOutputDocument(const Json& doc) {
  FUZZ_CHECK(doc.is_object(), "a parsed response must be a JSON object");
  const std::string pretty = DumpPythonJson(doc);
  const std::string compact = DumpPythonJson(doc, -1);
  FUZZ_CHECK(!pretty.empty() && pretty.front() == '{' && pretty.back() == '}', "DumpPythonJson of an object");
  FUZZ_CHECK(!compact.empty() && compact.front() == '{' && compact.back() == '}', "compact DumpPythonJson");
  if (!IsValidUtf8(pretty) || HasNonFiniteNumber(doc)) return;
  auto back = ParseJson(pretty);
  FUZZ_CHECK(back.has_value(), "DumpPythonJson output must be valid JSON");
  FUZZ_CHECK(*back == doc, "DumpPythonJson output must read back as the same document");
}

}  // namespace cloudaudit::fuzz
