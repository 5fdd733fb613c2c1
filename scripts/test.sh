#!/usr/bin/env bash
# The README's second command: build (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
ctest --preset release
