# SPDX-License-Identifier: Apache-2.0
"""`lmhead bench --json` at full DeepSeek-V3 size: the case fields and the ratios they imply.

Timings are not asserted (tests never time anything); what is checked is that every case
carries the issue's fields and that the bytes, flops, ratios and roofline are the ones computed
here by hand from DeepSeek-V3's shape and the in-run limits the case reports.
"""
import json
import os

import pytest

from lmhead_cli import expect_rejected_before_work, lmhead

HIDDEN, VOCAB, DEVICES = 7168, 129280, 32
TILE_BYTES = 576  # a bfloat4_b tile: 64 exponent bytes + 512 bytes of codes


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("bench")


@pytest.fixture(scope="module")
def cases(work):
    done = lmhead("bench", "--mode", "decode", "--m", "1,3", "--numerics", "fp32",
                  "--repetitions", "1", "--json", "--work-dir", work)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_case_has_the_issue_fields(cases):
    assert [c["m"] for c in cases] == [1, 3]
    for c in cases:
        for key in ("mode", "numerics", "median_ms", "min_ms", "weight_bytes", "flops", "gbps",
                    "tflops", "read_bw_gbps", "amx_peak_tflops", "ratio_to_read_bw",
                    "ratio_to_amx_peak", "avx512_bf16_peak_tflops", "ratio_to_avx512_bf16_peak",
                    "fp32_fma_peak_tflops", "ratio_to_fp32_fma_peak", "roofline_compute",
                    "ratio_to_compute_peak", "roofline_ms", "ratio_to_roofline"):
            assert key in c, key
        assert c["mode"] == "decode" and c["numerics"] == "fp32"
        assert c["kernels"].startswith("matmul/bfp4b/fp32/")
        assert c["threads"] >= 1
        assert 0 < c["min_ms"] <= c["median_ms"]


def test_bytes_and_flops_are_the_whole_head(cases):
    # Each device holds V / D = 4040 columns, padded to 127 tile columns, over 224 tile rows.
    tiles_per_device = (HIDDEN // 32) * -(-(VOCAB // DEVICES) // 32)
    for c in cases:
        assert c["weight_bytes"] == DEVICES * tiles_per_device * TILE_BYTES
        assert c["flops"] == 2 * c["m"] * HIDDEN * VOCAB


# The compute limit of the kernels in use: AMX, else vdpbf16ps, else fp32 FMAs (each probe
# reports 0 where the kernels may not use it).
def compute_peak(c):
    for key, name in (("amx_peak_tflops", "AMX"), ("avx512_bf16_peak_tflops", "vdpbf16ps"),
                      ("fp32_fma_peak_tflops", "fp32 FMA")):
        if c[key] > 0:
            return c[key], name
    return 0.0, "fp32 FMA"


def expect_ratios_and_roofline(c):
    seconds = c["median_ms"] / 1e3
    assert c["gbps"] == pytest.approx(c["weight_bytes"] / seconds / 1e9, rel=1e-9)
    assert c["tflops"] == pytest.approx(c["flops"] / seconds / 1e12, rel=1e-9)
    assert c["ratio_to_read_bw"] == pytest.approx(c["gbps"] / c["read_bw_gbps"], rel=1e-9)
    peak, name = compute_peak(c)
    assert c["roofline_compute"] == name
    assert c["ratio_to_compute_peak"] == pytest.approx(c["tflops"] / peak if peak else 0, rel=1e-9)
    floor_ms = c["weight_bytes"] / (c["read_bw_gbps"] * 1e9) * 1e3
    if peak > 0:
        floor_ms = max(floor_ms, c["flops"] / (peak * 1e12) * 1e3)
    assert c["roofline_ms"] == pytest.approx(floor_ms, rel=1e-9)
    assert c["ratio_to_roofline"] == pytest.approx(floor_ms / c["median_ms"], rel=1e-9)


def test_ratios_and_roofline_follow_from_the_limits(cases):
    for c in cases:
        expect_ratios_and_roofline(c)


def test_a_capped_run_is_measured_against_its_kernels_limit(work):
    # Below AVX512-BF16 the kernels run fp32 FMAs: the vdpbf16ps and AMX peaks stay 0 and the
    # roofline takes the FMA peak.
    if "avx512" not in lmhead("info").stdout.split("cpu features for kernels:")[1].split()[0]:
        pytest.skip("needs AVX-512")
    done = lmhead("bench", "--mode", "decode", "--m", "32", "--numerics", "fp32",
                  "--repetitions", "1", "--json", "--work-dir", work,
                  env=dict(os.environ, LMHEAD_KERNELS="avx512f"))
    assert done.returncode == 0, done.stderr
    [case] = json.loads(done.stdout)
    assert case["kernels"] == "matmul/bfp4b/fp32/avx512"
    assert case["amx_peak_tflops"] == 0 and case["avx512_bf16_peak_tflops"] == 0
    assert case["fp32_fma_peak_tflops"] > 0
    expect_ratios_and_roofline(case)


def test_onednn_runs_on_the_thread_count_given(work):
    if "oneDNN baseline" not in lmhead("info").stdout:
        pytest.skip("built without oneDNN")
    done = lmhead("bench", "--mode", "prefill", "--seq-len", "16", "--numerics", "fp32",
                  "--prefill-repetitions", "1", "--threads", "1", "--compare", "onednn", "--json",
                  "--work-dir", work)
    assert done.returncode == 0, done.stderr
    [case] = json.loads(done.stdout)
    assert case["threads"] == 1
    assert case["onednn_ms"] > 0
    if case["onednn_threads"] == 0:
        pytest.skip("oneDNN built without OpenMP: its thread count is not known")
    assert case["onednn_threads"] == 1


@pytest.mark.parametrize("args, words", [
    (["--m", "0"], ["--m", "'0'", "1..32"]),
    (["--m", "2,x"], ["'x'"]),
    (["--numerics", "fp64"], ["fp64"]),
    # An empty list once ran no decode case (--m) or nothing at all (--numerics).
    (["--m", ","], ["--m", "','", "no decode row count"]),
    (["--numerics", ","], ["--numerics", "no numerics"]),
    # Each of these once crashed (no timed call to take a median of) or spawned
    # threads until the process had no more.
    (["--repetitions", "0"], ["--repetitions", "0"]),
    (["--prefill-repetitions", "-2"], ["--prefill-repetitions", "-2"]),
    (["--seq-len", "0"], ["--seq-len", "0"]),
    (["--threads", "100000"], ["--threads", "100000", "1024"]),
    (["--threads", "-1"], ["--threads", "-1"]),
])
def test_bad_flags_exit_1_naming_the_value(tmp_path, args, words):
    expect_rejected_before_work("bench", tmp_path / "unused", args, words)
