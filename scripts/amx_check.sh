#!/usr/bin/env bash
# The AMX checks, for a borrowed AMX machine that cannot build: the AMX sets'
# tests, then kernel and whole-head benchmarks with the AMX sets and, capped
# below AMX in the same run, the vdpbf16ps sets they replace, and last the
# sets of AVX-512 without BF16 on an Intel core.
#
#   scripts/amx_check.sh pack       here, after scripts/build.sh: the binaries
#                                   and the shared libraries they load into
#                                   .dev/ (git ignores it; carry it over)
#   scripts/amx_check.sh run OUT    there: every step under a time limit, its
#                                   output line by line in OUT/log, so a run cut
#                                   short still leaves what it measured
set -euo pipefail
cd "$(dirname "$0")/.."

readonly BINARIES=(tools/lmhead/lmhead src/kernels/kernels_test src/kernels/amx_emulation_test
                   src/kernels/kernels_bench)

pack() {
  rm -rf .dev && mkdir -p .dev/bin .dev/lib
  for binary in "${BINARIES[@]}"; do
    cp "build/release/$binary" .dev/bin/
    # Every resolved library but the C library's own, which the host provides.
    ldd "build/release/$binary" | awk '$3 ~ /^\// {print $3}' |
      grep -Ev '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
      xargs -r cp -L -t .dev/lib/
  done
  du -sh .dev
}

run() {
  local out="$1" bin="$PWD/.dev/bin"
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/.dev/lib"
  local demo=/tmp/lmhead-demo
  {
    echo "== $(date -u) $(nproc) CPUs"
    grep -m1 'model name' /proc/cpuinfo || true
    "$bin/lmhead" info || true
    echo "== AMX sets' tests"
    timeout 240 "$bin/kernels_test" --gtest_brief=1 --gtest_filter='*amx*' || echo "FAILED: $?"
    timeout 120 "$bin/amx_emulation_test" --gtest_brief=1 || echo "FAILED: $?"
    echo "== kernels (one thread)"
    timeout 180 "$bin/kernels_bench" --benchmark_repetitions=3 \
      --benchmark_report_aggregates_only=true \
      --benchmark_filter='bfp4b/(fp32|tt-lofi)/(amx|avx512|avx512bf16)/(gemv/m:(1|8|32)$|gemm/m:256$)' ||
      echo "FAILED: $?"
    echo "== whole head, 2 threads: AMX sets, then capped at AVX-512"
    for level in amx avx512; do
      LMHEAD_KERNELS=$level timeout 300 "$bin/lmhead" bench --mode decode --m 1,8,32 \
        --threads 2 --repetitions 5 --work-dir "$demo" || echo "FAILED: $?"
    done
    timeout 300 "$bin/lmhead" bench --mode prefill --threads 2 --prefill-repetitions 1 \
      --compare onednn --work-dir "$demo" || echo "FAILED: $?"
    echo "== whole head, 2 threads, capped at AVX-512 without BF16 (Skylake-SP to Ice Lake)"
    LMHEAD_KERNELS=avx512f timeout 200 "$bin/lmhead" bench --mode decode --m 1,8,32 \
      --threads 2 --repetitions 3 --work-dir "$demo" || echo "FAILED: $?"
  } 2>&1 | stdbuf -oL tee "$out/log"
}

case "${1:-}" in
  pack) pack ;;
  run) run "${2:?usage: scripts/amx_check.sh run OUT}" ;;
  *) echo "usage: scripts/amx_check.sh pack | run OUT" >&2; exit 1 ;;
esac
