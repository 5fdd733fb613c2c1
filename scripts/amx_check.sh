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
#
# A/B of kernel changes, for a host whose limits drift between runs (one moved
# by 2x within minutes): after pack, build each variant of the AMX kernel
# files as its own kernels_bench, then run them all interleaved.
#   scripts/amx_check.sh variant NAME [FLAG...]
#                                   here: src/kernels/amx/{fp32,lofi}_amx.cc as
#                                   the working tree has them, compiled with the
#                                   release flags plus FLAGs (e.g. -DSOME_MACRO,
#                                   or -I DIR holding other versions of their
#                                   headers), linked as .dev/bin/kernels_bench_NAME
#   scripts/amx_check.sh revision NAME REV
#                                   here: kernels_bench of git revision REV (a
#                                   baseline for a change that spans files),
#                                   built in a temporary worktree, as
#                                   .dev/bin/kernels_bench_NAME
#   scripts/amx_check.sh ab OUT [FILTER]
#                                   there: kernels_bench and every variant, in
#                                   turn, for two rounds; medians in OUT/ab
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

# The release build's own commands for the AMX kernel objects and the
# kernels_bench link, rewritten to use this variant's objects.
variant() {
  local name="$1" build="$PWD/build/release"
  shift
  [[ -d .dev/bin ]] || { echo "amx_check.sh: run 'scripts/amx_check.sh pack' first" >&2; exit 1; }
  local dir
  dir="$(mktemp -d)"
  trap "rm -rf '$dir'" EXIT  # expanded now: dir is local
  cp "$build/src/kernels/liblmhead_kernels.a" "$dir/"
  local commands
  commands="$(ninja -C "$build" -t commands src/kernels/kernels_bench)"
  for file in fp32_amx lofi_amx; do
    local compile
    compile="$(grep -F -- "-c $PWD/src/kernels/amx/$file.cc" <<<"$commands")"
    compile="${compile/ -MD -MT * -MF * -o * -c / -o $dir/$file.cc.o -c }"
    (cd "$build" && eval "$compile $*")
  done
  (cd "$dir" && ar r liblmhead_kernels.a fp32_amx.cc.o lofi_amx.cc.o)
  local link
  link="$(grep -F -- "-o src/kernels/kernels_bench " <<<"$commands")"
  link="${link//src\/kernels\/liblmhead_kernels.a/$dir/liblmhead_kernels.a}"
  link="${link/-o src\/kernels\/kernels_bench /-o $PWD/.dev/bin/kernels_bench_$name }"
  (cd "$build" && eval "$link")
  echo ".dev/bin/kernels_bench_$name"
}

revision() {
  local name="$1" rev="$2"
  [[ -d .dev/bin ]] || { echo "amx_check.sh: run 'scripts/amx_check.sh pack' first" >&2; exit 1; }
  local dir
  dir="$(mktemp -d)"
  trap "git worktree remove --force '$dir/tree' 2>/dev/null; rm -rf '$dir'" EXIT
  git worktree add --detach "$dir/tree" "$rev" >/dev/null
  cmake -S "$dir/tree" --preset release >/dev/null
  cmake --build "$dir/tree/build/release" --target kernels_bench -j "$(nproc)" >/dev/null
  cp "$dir/tree/build/release/src/kernels/kernels_bench" ".dev/bin/kernels_bench_$name"
  echo ".dev/bin/kernels_bench_$name"
}

ab() {
  local out="$1" filter="${2:-bfp4b/(fp32|tt-lofi)/amx/(gemv/m:(8|32)$|gemm/m:256$)}"
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/.dev/lib"
  {
    for round in 1 2; do
      for bench in .dev/bin/kernels_bench .dev/bin/kernels_bench_*; do
        [[ -x "$bench" ]] || continue
        echo "== $(basename "$bench") round $round"
        timeout 120 "$bench" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
          --benchmark_filter="$filter" 2>/dev/null | grep median || echo "FAILED: $?"
      done
    done
  } 2>&1 | stdbuf -oL tee "$out/ab"
}

case "${1:-}" in
  pack) pack ;;
  run) run "${2:?usage: scripts/amx_check.sh run OUT}" ;;
  variant) shift; variant "${1:?usage: scripts/amx_check.sh variant NAME [FLAG...]}" "${@:2}" ;;
  revision) revision "${2:?usage: scripts/amx_check.sh revision NAME REV}" \
                     "${3:?usage: scripts/amx_check.sh revision NAME REV}" ;;
  ab) ab "${2:?usage: scripts/amx_check.sh ab OUT [FILTER]}" "${3:-}" ;;
  *) echo "usage: scripts/amx_check.sh pack | run OUT | variant NAME [FLAG...] |" \
          "revision NAME REV | ab OUT [FILTER]" >&2
     exit 1 ;;
esac
