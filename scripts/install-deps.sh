#!/usr/bin/env bash
# Installs the Debian packages cloudaudit needs to build and test. Idempotent:
# does nothing (and needs no network) when everything is already installed.
set -euo pipefail

PACKAGES=(
  # toolchain helpers
  cmake ninja-build pkg-config ccache mold python3
  # AWS API models (embedded at build time)
  python3-botocore
  # libraries
  libcurl4-openssl-dev libssl-dev zlib1g-dev nlohmann-json3-dev libpugixml-dev libfmt-dev
  libexpected-dev libcli11-dev libsqlite3-dev libyaml-cpp-dev libsimdjson-dev libre2-dev libyaml-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libcpp-httplib-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
