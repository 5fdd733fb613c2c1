#!/usr/bin/env bash
# The README's second command: build (if needed) and run the whole test suite:
# the C++ tests (ctest), the Python tests (pytest), then each fuzzer for a
# bounded time (libFuzzer; FUZZ_SECONDS, default 15 s each).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
ctest --preset release

export LMHEAD_BIN="$PWD/build/release/tools/lmhead/lmhead"
python3 -m pytest -q tests/python
# The Python package, built into build/release/python for Debian's python3 (it has torch).
PYTHONPATH="$PWD/build/release/python" /usr/bin/python3 -m pytest -q python/tests

scripts/fuzz.sh "${FUZZ_SECONDS:-15}"
