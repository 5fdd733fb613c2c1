#!/usr/bin/env bash
# Full-size DeepSeek-V3 head (129280 x 7168): `lmhead synth` (bf16, 1.85 GB), then `lmhead convert`
# for a 4x8 Wormhole galaxy (first run, then a re-run that reuses every shard), then
# `lmhead inspect` (verifies every checksum). Prints wall time, CPU use and peak RSS of each
# step from GNU time -v.
# Usage: bench/convert_full.sh [MESH=4x8] [FORMAT=bfp4_b]
#   LMHEAD_BIN=path/to/lmhead (default build/release/tools/lmhead/lmhead)
#   WORK_DIR=dir (default a fresh /tmp dir, removed at the end unless KEEP=1; needs ~2.5 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
mesh=${1:-4x8}
format=${2:-bfp4_b}
lmhead=${LMHEAD_BIN:-build/release/tools/lmhead/lmhead}
if [[ ! -x "$lmhead" ]]; then
  echo "[convert_full] $lmhead not found: run scripts/build.sh or set LMHEAD_BIN" >&2
  exit 1
fi
if [[ ! -x /usr/bin/time ]]; then
  echo "[convert_full] GNU time missing: run scripts/install_deps.sh" >&2
  exit 1
fi
work=${WORK_DIR:-$(mktemp -d /tmp/lmhead_convert_full.XXXXXX)}
mkdir -p "$work"
[[ "${KEEP:-0}" == 1 ]] || trap 'rm -rf "$work"' EXIT

results=()
# measure NAME CMD...: runs CMD under GNU time and records "NAME wall cpu rss".
measure() {
  local name=$1
  shift
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$work/$name.out"
  local wall cpu rss
  wall=$(grep "Elapsed (wall clock)" "$work/$name.time" | awk '{print $NF}')
  cpu=$(grep "Percent of CPU" "$work/$name.time" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/$name.time" | awk '{printf "%.0f", $NF / 1024}')
  results+=("$(printf '%-16s %10s %6s %10s MB' "$name" "$wall" "$cpu" "$rss")")
  sed 's/^/  /' "$work/$name.out"
}

echo "[convert_full] $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, work dir $work"
measure synth "$lmhead" synth --model deepseek-v3 --dtype bf16 --seed 1 --out "$work/ckpt"
measure convert "$lmhead" convert --checkpoint "$work/ckpt" --mesh "$mesh" --format "$format" \
  --out "$work/weights" --quiet
measure convert_rerun "$lmhead" convert --checkpoint "$work/ckpt" --mesh "$mesh" \
  --format "$format" --out "$work/weights" --quiet
measure inspect "$lmhead" inspect "$work/weights"
echo
printf '%-16s %10s %6s %13s\n' step wall cpu "peak RSS"
printf '%s\n' "${results[@]}"
echo "(the source is in the page cache after synth: convert times exclude reading it from disk)"
