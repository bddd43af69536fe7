#!/usr/bin/env bash
# The test job: installs what is missing, builds everything with the `ci`
# preset (optimized, -Werror) and runs the whole test suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset ci
cmake --build --preset ci -- -j2
ctest --preset ci "$@"
