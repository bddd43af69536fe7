#include "testing/test_paths.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace cloudaudit::testing {

std::string SourceDir() {
  const char* dir = std::getenv("CLOUDAUDIT_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

std::string SharedDir() {
  const char* dir = std::getenv("CLOUDAUDIT_SHARED_DIR");
  return dir != nullptr ? dir : SourceDir() + "/../shared";
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return {};
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cloudaudit::testing
