#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the planner goldens in this folder from an independent Python restatement of the spec.

Why a second implementation: the goldens must not be our C++ output dumped and compared with
itself. This script follows shared/spec/ttnn-lmhead.md section by section, in the shape of TT's
own Python (lm_head.py, config_helpers.py, work_split.cpp), and shares no code with src/planner.
The hand-checked numbers of the seed's 4x8 example are asserted below before anything is written.

Each golden is {"case": <planner inputs>, "expected": <subset of `lmhead plan --json`>} or
{"case": ..., "error_contains": [substrings of the error message]}. planner_golden_test.cc plans
each case and checks that every key present in "expected" matches.

Usage: python3 tests/golden/plans/make_plan_goldens.py [--check]
(rewrites the *.json files here; with --check, exits 1 if any differs from what it would write,
which ctest runs as plan_goldens_fresh_test)
"""
import argparse
import json
import math
import os

TILE_SIZE = 32
MAX_BATCH_SIZE = 32  # USERS_PER_ROW in V4: the same value.
SEQ_LEN_CHUNK_SIZE = 1024
BF16_TILE, BFP4_TILE = 2048, 576

# spec section 2: (core grid x, y), DRAM banks, worker L1 bytes.
DEVICES = {
    "wormhole_b0-galaxy": ((8, 8), 12, 1499136),
    "wormhole_b0-galaxy-col": ((7, 10), 12, 1499136),
    "wormhole_b0-n300": ((8, 7), 12, 1499136),
    "wormhole_b0-n150": ((8, 8), 12, 1499136),
    "blackhole-p150": ((13, 10), 8, 1572864),
    "blackhole-p150-harvested": ((11, 10), 8, 1572864),
}
LOFI = {"math_fidelity": "LoFi", "math_approx_mode": False, "fp32_dest_acc_en": False,
        "packer_l1_acc": True, "dst_full_sync_en": False}
DRAM_INTERLEAVED = {"memory_layout": "INTERLEAVED", "buffer_type": "DRAM", "shard_spec": None}
L1_WIDTH_SHARDED = {"memory_layout": "WIDTH_SHARDED", "buffer_type": "L1", "shard_spec": None}


class TTError(Exception):
    """What TT's code raises; the args are substrings the planner's message must contain."""


def divup(a, b):
    return (a + b - 1) // b


def roundup(a, b):
    return divup(a, b) * b


def even_int_div(a, b, where):
    if a % b != 0:
        raise TTError(where, f"{a} % {b} = {a % b}")
    return a // b


def find_all_divisors(n):  # section 3.2
    large = []
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            yield d
            large.append(n // d)
    yield from reversed(large)


def find_largest_divisor(n, max_divisor=8):
    found = [d for d in find_all_divisors(n) if d <= max_divisor]
    return max(found) if found else 1


def act_counts(width, max_num_cores):  # section 3.3
    return {d for d in find_all_divisors(divup(width, TILE_SIZE)) if d <= max_num_cores}


def num_cores_to_corerangeset(target, gx, gy):  # section 3.6, work_split.cpp
    assert target <= gx * gy
    ranges, left, y = [], target, 0
    if left > gx:
        rows = left // gx
        ranges.append([[0, y], [gx - 1, y + rows - 1]])
        left -= rows * gx
        y += rows
    if left > 0:
        ranges.append([[0, y], [left - 1, y]])
    return ranges


def sharded(h, w, ranges, buffer_type="L1"):
    return {"memory_layout": "WIDTH_SHARDED", "buffer_type": buffer_type,
            "shard_spec": {"grid": ranges, "shape": [h, w], "orientation": "ROW_MAJOR"}}


def mesh_scatter(rows, cols, from_row, invoked):  # section 3.12
    transfers = []
    if invoked:
        if not 0 <= from_row < rows:
            raise TTError("mesh_scatter", f"assert 0 <= from_row < {rows}")
        for r in range(rows):
            if r != from_row:
                for c in range(cols):
                    transfers.append({"sender": [from_row, c], "receiver": [r, c],
                                      "hops": abs(r - from_row)})
    return {"mesh_shape": [rows, cols], "scatter_idx": [from_row, None], "invoked": invoked,
            "transfers": transfers}


def decode_config(H, V, D, grid, compat):  # section 3.9, plus the seed's intended checks
    gx, gy = grid
    maxc = gx * gy
    tt = compat != "seed"
    in_c = max(act_counts(H, maxc))
    if tt:
        out_c = max(act_counts(even_int_div(V, D, "even_int_div(vocab_size, num_devices)"), maxc))
        assert H % in_c == 0
        per_device_hidden = even_int_div(H, D, "even_int_div(hidden_size, num_devices)")
        if per_device_hidden % out_c != 0:
            raise TTError("decode_model_config", f"{per_device_hidden} % {out_c} = "
                          f"{per_device_hidden % out_c}", "quirk 1")
        in_w = roundup(H // in_c, TILE_SIZE)
        out_w = roundup(even_int_div(V // D, out_c, "_get_decode_activation_memory_config"),
                        TILE_SIZE)
    else:
        out_c = max(act_counts(V // D, maxc))
        in_w = divup(H, TILE_SIZE) // in_c * TILE_SIZE
        out_w = divup(V // D, TILE_SIZE) // out_c * TILE_SIZE
    kt, nt = divup(H, TILE_SIZE), divup(V // D, TILE_SIZE)
    assert kt % in_c == 0 and nt % out_c == 0  # get_dram_sharded_matmul_config
    return {
        "input_num_cores": in_c,
        "output_num_cores": out_c,
        "input_memory_config": sharded(32, in_w, num_cores_to_corerangeset(in_c, gx, gy)),
        "output_memory_config": sharded(32, out_w, num_cores_to_corerangeset(out_c, gx, gy)),
        "linear": {
            "program_config": {
                "type": "MatmulMultiCoreReuseMultiCastDRAMShardedProgramConfig",
                "in0_block_w": find_largest_divisor(kt // in_c),
                "per_core_M": divup(MAX_BATCH_SIZE, TILE_SIZE),
                "per_core_N": nt // out_c,
                "fused_activation": None},
            "memory_config": L1_WIDTH_SHARDED,
            "compute_kernel_config": LOFI},
        "all_gather": {"cluster_axis": 1, "dim": -1, "memory_config": DRAM_INTERLEAVED,
                       "topology": "Linear"},
        "deallocate_input": compat != "tt-v4",
    }


def prefill_config(H, V, D, grid, S, compat):  # sections 3.10-3.11
    gx, gy = grid
    if S > SEQ_LEN_CHUNK_SIZE and S % SEQ_LEN_CHUNK_SIZE != 0:
        if compat != "seed":
            raise TTError("forward_prefill", f"even_int_div({S}, 1024)")
        S = roundup(S, SEQ_LEN_CHUNK_SIZE)  # The seed pads as TT's tests do.
    chunked = S > SEQ_LEN_CHUNK_SIZE
    pc_seq_len = min(S, SEQ_LEN_CHUNK_SIZE) if compat == "tt-v4" else S
    per_core_M = divup(pc_seq_len, TILE_SIZE * gy)
    per_core_N = divup(even_int_div(V, D, "_get_prefill_pc"), TILE_SIZE * gx)
    in0_block_w = find_largest_divisor(divup(H, TILE_SIZE))
    l1 = (2 * per_core_M * in0_block_w * BF16_TILE + 2 * per_core_N * in0_block_w * BFP4_TILE +
          per_core_M * per_core_N * BF16_TILE)
    return {
        "max_rows": SEQ_LEN_CHUNK_SIZE,
        "padded_seq_len": S,
        "chunked": chunked,
        "num_chunks": S // SEQ_LEN_CHUNK_SIZE if chunked else 1,
        "input_memory_config": DRAM_INTERLEAVED,
        "output_memory_config": DRAM_INTERLEAVED,
        "linear": {
            "program_config": {
                "type": "MatmulMultiCoreReuseMultiCastProgramConfig",
                "compute_with_storage_grid_size": [gx, gy],
                "in0_block_w": in0_block_w,
                "out_subblock_h": 1,
                "out_subblock_w": find_largest_divisor(per_core_N, 1),
                "per_core_M": per_core_M,
                "per_core_N": per_core_N,
                "transpose_mcast": False,
                "fused_activation": None,
                "fuse_batch": False},
            "memory_config": DRAM_INTERLEAVED,
            "compute_kernel_config": LOFI},
        "l1_estimate": {"total_bytes": l1},
    }


def weights(H, V, D, banks):  # sections 3.5 and 3.13
    n = V // D
    shard_w = roundup(divup(n, banks), TILE_SIZE)
    return {"dtype": "bfloat4_b", "layout": "TILE", "per_device_shape": [H, n],
            "padded_shape": [roundup(H, TILE_SIZE), roundup(n, TILE_SIZE)],
            "memory_config": sharded(H, shard_w, [[[0, 0], [banks - 1, 0]]], "DRAM")}


def plan(case):
    H, V = case["hidden_size"], case["vocab_size"]
    rows, cols = case["mesh"]
    D = rows * cols
    grid, banks, _ = DEVICES[case["device"]]
    compat, mode, row = case["compat"], case["mode"], case["input_row_idx"]
    out = {"compat": compat, "mode": mode,
           "model": {"hidden_size": H, "vocab_size": V},
           "mesh": {"shape": [rows, cols], "num_devices": D, "core_grid": list(grid),
                    "dram_grid": [banks, 1]}}
    if compat == "seed" and V % D != 0:
        raise TTError("vocab_size", "is not divisible")
    if mode in ("decode", "both"):
        decode = decode_config(H, V, D, grid, compat)
        decode["mesh_scatter"] = mesh_scatter(rows, cols, row, compat != "tt-v3")
        out["decode"] = decode
    if mode in ("prefill", "both"):
        prefill = prefill_config(H, V, D, grid, case["seq_len"], compat)
        prefill["seq_len"] = case["seq_len"]
        prefill["mesh_scatter"] = mesh_scatter(rows, cols, row, True)
        out["prefill"] = prefill
    out["weights"] = weights(H, V, D, banks)
    return out


def case(name, model, mesh, device, compat, mode="both", seq_len=1024, input_row_idx=0):
    H, V = {"deepseek-v3": (7168, 129280), "llama3-70b": (8192, 128256),
            "qwen2.5-72b": (8192, 152064), "tt-test-4096": (7168, 4096)}[model]
    return name, {"model": model, "hidden_size": H, "vocab_size": V, "mesh": list(mesh),
                  "device": device, "compat": compat, "mode": mode, "seq_len": seq_len,
                  "input_row_idx": input_row_idx}


CASES = [
    case("deepseek_v3_4x8_galaxy_seed", "deepseek-v3", (4, 8), "wormhole_b0-galaxy", "seed"),
    case("deepseek_v3_4x8_galaxy_tt_v3_s2048_row3", "deepseek-v3", (4, 8), "wormhole_b0-galaxy",
         "tt-v3", seq_len=2048, input_row_idx=3),
    case("deepseek_v3_4x8_galaxy_tt_v4_s2048_row3", "deepseek-v3", (4, 8), "wormhole_b0-galaxy",
         "tt-v4", seq_len=2048, input_row_idx=3),
    case("deepseek_v3_8x4_galaxy_seed_decode_row7", "deepseek-v3", (8, 4), "wormhole_b0-galaxy",
         "seed", mode="decode", input_row_idx=7),
    case("deepseek_v3_4x8_galaxy_col_seed", "deepseek-v3", (4, 8), "wormhole_b0-galaxy-col",
         "seed", seq_len=8192),
    case("deepseek_v3_1x8_n300_seed", "deepseek-v3", (1, 8), "wormhole_b0-n300", "seed"),
    case("deepseek_v3_1x8_n300_tt_v3", "deepseek-v3", (1, 8), "wormhole_b0-n300", "tt-v3"),
    case("deepseek_v3_1x1_n150_seed_s128", "deepseek-v3", (1, 1), "wormhole_b0-n150", "seed",
         seq_len=128),
    case("deepseek_v3_2x8_galaxy_seed_s3000", "deepseek-v3", (2, 8), "wormhole_b0-galaxy",
         "seed", seq_len=3000, input_row_idx=1),
    case("deepseek_v3_4x8_p150_seed", "deepseek-v3", (4, 8), "blackhole-p150", "seed"),
    case("deepseek_v3_4x8_p150_tt_v4", "deepseek-v3", (4, 8), "blackhole-p150", "tt-v4"),
    case("deepseek_v3_4x8_p150_harvested_tt_v4_s4096", "deepseek-v3", (4, 8),
         "blackhole-p150-harvested", "tt-v4", seq_len=4096),
    case("deepseek_v3_4x8_galaxy_tt_v3_s1500", "deepseek-v3", (4, 8), "wormhole_b0-galaxy",
         "tt-v3", mode="prefill", seq_len=1500),
    case("tt_test_vocab_4096_4x8_galaxy_tt_v3", "tt-test-4096", (4, 8), "wormhole_b0-galaxy",
         "tt-v3", seq_len=2048, input_row_idx=3),
    case("llama3_70b_4x8_galaxy_seed", "llama3-70b", (4, 8), "wormhole_b0-galaxy", "seed"),
    case("llama3_70b_4x8_galaxy_tt_v3", "llama3-70b", (4, 8), "wormhole_b0-galaxy", "tt-v3"),
    case("qwen2_5_72b_4x8_galaxy_tt_v3", "qwen2.5-72b", (4, 8), "wormhole_b0-galaxy", "tt-v3"),
]


def check_seed_example():
    """The seed's Example instantiation, typed in by hand from shared/seed/LMHead_ops.md."""
    out = plan(dict(CASES[0][1]))
    decode, prefill, w = out["decode"], out["prefill"], out["weights"]
    assert w["per_device_shape"] == [7168, 4040]
    assert w["memory_config"]["shard_spec"]["shape"] == [7168, 352]
    assert decode["input_num_cores"] == 56 and decode["output_num_cores"] == 1
    pc = decode["linear"]["program_config"]
    assert (pc["in0_block_w"], pc["per_core_N"]) == (4, 127)
    assert decode["input_memory_config"]["shard_spec"]["shape"] == [32, 128]
    assert decode["input_memory_config"]["shard_spec"]["grid"] == [[[0, 0], [7, 6]]]
    assert decode["output_memory_config"]["shard_spec"]["shape"] == [32, 4064]
    assert decode["output_memory_config"]["shard_spec"]["grid"] == [[[0, 0], [0, 0]]]
    pc = prefill["linear"]["program_config"]
    assert (pc["in0_block_w"], pc["per_core_M"], pc["per_core_N"], pc["out_subblock_w"]) == \
        (8, 4, 16, 1)
    assert prefill["l1_estimate"]["total_bytes"] == 409600  # spec section 4.2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    check = parser.parse_args().check
    check_seed_example()
    here = os.path.dirname(os.path.abspath(__file__))
    stale = []
    for name, inputs in CASES:
        try:
            golden = {"case": inputs, "expected": plan(inputs)}
        except TTError as error:
            golden = {"case": inputs, "error_contains": list(error.args)}
        text = json.dumps(golden, indent=1) + "\n"
        path = os.path.join(here, name + ".json")
        if check:
            with open(path) as f:
                if f.read() != text:
                    stale.append(path)
        else:
            with open(path, "w") as f:
                f.write(text)
    if stale:
        print("stale goldens (rerun make_plan_goldens.py):\n  " + "\n  ".join(stale))
        return 1
    print(f"{'checked' if check else 'wrote'} {len(CASES)} goldens in {here}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
