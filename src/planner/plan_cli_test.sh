#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CLI tests of `lmhead plan`: fixtures plan or fail with a clear message; bad input exits 1 with a
# message and never crashes. Usage: plan_cli_test.sh LMHEAD_BINARY REPO_ROOT
set -uo pipefail
LMHEAD=$1
FIXTURES=$2/tests/fixtures/configs
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect RC PATTERN ARGS...: runs `lmhead plan ARGS`, checks the exit code and that stdout+stderr
# contains PATTERN (a fixed string).
expect() {
  local want_rc=$1 pattern=$2
  shift 2
  "$LMHEAD" plan "$@" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  cat "$TMP/out" "$TMP/err" >"$TMP/all"
  if [[ $rc -ne $want_rc ]]; then
    fail "lmhead plan $* exited $rc, want $want_rc"; sed 's/^/  | /' "$TMP/all" | head -5; return
  fi
  if ! grep -qF -- "$pattern" "$TMP/all"; then
    fail "lmhead plan $* output lacks '$pattern'"; sed 's/^/  | /' "$TMP/all" | head -5
  fi
  if [[ $want_rc -ne 0 && ! -s "$TMP/err" ]]; then fail "lmhead plan $* failed silently"; fi
}

# The seed's example and the prefill config for seq 1024.
expect 0 "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig(in0_block_w=4, per_core_M=1, per_core_N=127"
expect 0 "in0_block_w=8, out_subblock_h=1, out_subblock_w=1, per_core_M=4, per_core_N=16"
expect 0 "[7168, 352] on 12 banks" --model deepseek-v3 --mesh 4x8 --device wormhole_b0-galaxy
expect 0 "total: 24 transfers, 48 hops" --input-row-idx 3

# --json parses and holds the example's numbers.
"$LMHEAD" plan --json >"$TMP/plan.json" || fail "--json exited $?"
python3 - "$TMP/plan.json" <<'PY' || fail "--json content"
import json, sys
plan = json.load(open(sys.argv[1]))
d, p, w = plan["decode"], plan["prefill"], plan["weights"]
assert w["per_device_shape"] == [7168, 4040], w["per_device_shape"]
assert w["memory_config"]["shard_spec"]["shape"] == [7168, 352]
assert (d["input_num_cores"], d["output_num_cores"]) == (56, 1)
assert d["linear"]["program_config"]["in0_block_w"] == 4
assert d["input_memory_config"]["shard_spec"]["grid"] == [[[0, 0], [7, 6]]]
assert p["linear"]["program_config"]["per_core_M"] == 4
assert len(d["mesh_scatter"]["transfers"]) == 24
PY

# HuggingFace config.json fixtures.
expect 0 "in0_block_w=4, per_core_M=1, per_core_N=127" --config "$FIXTURES/deepseek_v3_config.json"
expect 0 "output_num_cores       63" --config "$FIXTURES/llama3_70b_config.json"
expect 1 "256 % 63 = 4" --config "$FIXTURES/llama3_70b_config.json" --compat tt-v3
expect 0 "per_core_N=149" --config "$FIXTURES/qwen2_5_72b_config.json" --compat tt-v3
expect 1 "has no \"hidden_size\"" --config "$FIXTURES/gpt2_config.json"
expect 1 "under \"text_config\"" --config "$FIXTURES/multimodal_text_config.json"
expect 1 "is not valid JSON" --config "$FIXTURES/broken_truncated.json"
expect 1 "not a positive integer" --config "$FIXTURES/broken_hidden_size_string.json"
expect 1 "not a positive integer" --config "$FIXTURES/broken_vocab_size_negative.json"
expect 1 "has no \"vocab_size\"" --config "$FIXTURES/broken_missing_vocab_size.json"
expect 1 "does not exist" --config "$FIXTURES/no_such_config.json"
expect 1 "pad vocab to 129312" --config "$FIXTURES/odd_vocab_129281_config.json"
expect 0 "Example instantiation" --config "$FIXTURES/odd_vocab_129281_config.json" --mesh 1x1 \
  --device wormhole_b0-n150

# Compat modes: TT's failures, named and explained.
expect 1 "896 % 5 = 1" --mesh 1x8 --device wormhole_b0-n300 --compat tt-v3
expect 1 "224 % 127 = 97" --device blackhole-p150 --compat tt-v4
expect 1 "even_int_div(1500, 1024)" --compat tt-v3 --seq-len 1500
expect 0 "zero-padded by 476 rows to 2048" --seq-len 1572
expect 0 "beyond max L1 size" --compat tt-v3 --mode prefill --seq-len 8192
expect 0 "tt-v3 decode does not call mesh_scatter" --compat tt-v3 --mode decode

# Bad input: exit 1 with a message, never a crash.
expect 1 "[ParseMeshShape]" --mesh 4x
expect 1 "[ParseMeshShape]" --mesh 0x8
expect 1 "[ParseMeshShape]" --mesh 99999999999999999999x1
expect 1 "[ParseMeshShape]" --mesh ""
expect 1 "unknown device 'foo'" --device foo
expect 1 "prefill seq_len is -5" --seq-len -5
expect 1 "prefill seq_len is 0" --seq-len 0
expect 1 "seq-len" --seq-len abc
expect 1 "assert 0 <= from_row < 4" --input-row-idx 4
expect 1 "assert 0 <= from_row < 4" --input-row-idx -1 --mode prefill
expect 1 "assert 0 <= from_row < 1" --mesh 1x8 --input-row-idx 1
expect 1 "[ParseCoreGrid]" --core-grid 0x8
expect 1 "--dram-banks -1 is negative" --dram-banks -1
expect 1 "unknown mode 'train'" --mode train
expect 1 "unknown compat mode 'tt-v9'" --compat tt-v9
expect 1 "unknown model 'gpt5'" --model gpt5
expect 1 "excludes" --model deepseek-v3 --config "$FIXTURES/deepseek_v3_config.json"
expect 1 "input_num_cores override is 100" --input-num-cores 100
expect 0 "7x10 core grid" --core-grid 7x10
expect 0 "8 DRAM banks" --dram-banks 8

if [[ $failures -ne 0 ]]; then
  echo "$failures CLI check(s) failed"
  exit 1
fi
echo "all lmhead plan CLI checks passed"
