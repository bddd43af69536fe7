// Where test data lives. Tests run from the source tree (CTest sets
// CLOUDAUDIT_SOURCE_DIR); the shared test vectors are beside the repository
// in ../shared (never copied into it).
#pragma once

#include <string>

namespace cloudaudit::testing {

std::string SourceDir();   // the repository root
std::string SharedDir();   // ../shared relative to the repository root
std::string ReadFileOrDie(const std::string& path);

}  // namespace cloudaudit::testing
