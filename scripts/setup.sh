#!/usr/bin/env bash
# The README's first command: install dependencies, build, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
echo
echo "== lmhead demo (DeepSeek-V3 head on an emulated 4x8 Wormhole Galaxy) =="
build/release/tools/lmhead/lmhead demo --work-dir build/demo
