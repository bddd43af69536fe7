// cloudaudit command line: argument parsing only; all work is in the libraries.
#include <cstdio>

#include "aws/model/model.h"

int main() {
  for (const auto& name : cloudaudit::aws::EmbeddedServiceNames()) std::printf("%s\n", name.c_str());
  return 0;
}
