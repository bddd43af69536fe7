// Hashes for request signing (OpenSSL underneath). Raw byte strings in and out.
#pragma once

#include <string>
#include <string_view>

namespace cloudaudit {

std::string Sha256(std::string_view data);                           // 32 raw bytes
std::string Sha256Hex(std::string_view data);                        // 64 hex chars
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Md5Base64(std::string_view data);                         // Content-MD5 value

}  // namespace cloudaudit
