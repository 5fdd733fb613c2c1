#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang and runs each for a bounded time.
# Usage: scripts/fuzz.sh [seconds per fuzzer, default 20]. Needs clang-14 and
# libclang-rt-14-dev (scripts/install_deps.sh). Exits non-zero on the first crash;
# the crashing input is left in build/fuzz/ (crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
cxx=${FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
if [[ -z "$cxx" ]]; then
  echo "[fuzz] clang++ not found; run scripts/install_deps.sh" >&2
  exit 1
fi
build=build/fuzz
cmake -S fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
fuzzers=(safetensors_fuzzer shard_file_fuzzer manifest_fuzzer)
cmake --build "$build" -j "$(nproc)" --target "${fuzzers[@]}" fuzz_seeds
"$build/fuzz_seeds" "$build/corpus"
root=$PWD
for fuzzer in "${fuzzers[@]}"; do
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  [[ "$fuzzer" != shard_file_fuzzer ]] && args+=(-dict="$root/fuzz/json.dict")
  log="$build/$fuzzer.log"
  echo "[fuzz] $fuzzer for ${seconds}s"
  rc=0
  (cd "$build" && "./$fuzzer" "${args[@]}" "corpus/${fuzzer%_fuzzer}") >"$log" 2>&1 || rc=$?
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
  if [[ $rc -ne 0 ]]; then
    tail -40 "$log" >&2
    echo "[fuzz] $fuzzer failed (exit $rc); log and crash input in $build" >&2
    exit "$rc"
  fi
done
echo "[fuzz] all fuzzers ran ${seconds}s each without a crash"
