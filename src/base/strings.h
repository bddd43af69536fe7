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

}  // namespace cloudaudit
