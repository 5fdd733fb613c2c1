#!/usr/bin/env bash
# The README's first command: install dependencies, build, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_deps.sh
scripts/build.sh
echo
echo "== lmhead plan --model deepseek-v3 --mesh 4x8 --device wormhole_b0-galaxy =="
build/release/tools/lmhead/lmhead plan --model deepseek-v3 --mesh 4x8 --device wormhole_b0-galaxy
