// Small string helpers shared by every library (no AWS knowledge here).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cloudaudit {

std::string ToLower(std::string_view s);
std::string_view Trim(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
bool IEquals(std::string_view a, std::string_view b);

// RFC 3986 percent-encoding as SigV4 and AWS query strings need: unreserved
// characters (A-Z a-z 0-9 - _ . ~) stay; '/' stays when keep_slash.
std::string UriEncode(std::string_view s, bool keep_slash = false);
// The same, also keeping every character of `extra_safe` as written.
std::string UriEncodeKeeping(std::string_view s, std::string_view extra_safe);
// Decodes %XX (and '+' as space when plus_is_space). Invalid escapes stay as-is.
std::string UriDecode(std::string_view s, bool plus_is_space = false);

std::string HexEncode(std::string_view bytes);
std::string Base64Encode(std::string_view bytes);
// Returns false on invalid input (characters outside the alphabet, bad padding).
bool Base64Decode(std::string_view text, std::string* out);

// "ListUsers" -> "list-users", as the AWS CLI names operations (handles
// acronyms: "DescribeDBInstances" -> "describe-db-instances").
std::string CamelToKebab(std::string_view name);

// Levenshtein distance, for "did you mean" suggestions.
size_t EditDistance(std::string_view a, std::string_view b);

// Whether `pattern`, where `*` is any run of characters, matches all of
// `text`. Other pattern characters match a text character when
// `same(pattern_char, text_char)` (case folding, `?`, ...). Linear space,
// backtracking only to the last `*`.
template <typename CharMatch>
bool WildcardMatch(std::string_view pattern, std::string_view text, CharMatch same) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && same(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace cloudaudit
