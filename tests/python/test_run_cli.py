# SPDX-License-Identifier: Apache-2.0
"""`lmhead run` end to end against numpy: logits, top-k, logsumexp and bad input.

The expected logits are float64 numpy products of the bf16-rounded activations with the
bfloat4_b quantisation of the checkpoint computed by bfp_reference.py (written from the spec),
never by lmhead itself.
"""
import os
import pathlib

import numpy as np
import pytest
import json

from lmhead_cli import lmhead
from bfp_reference import (BFP4_BITS, bfloat16_bits_to_float32, device_slice_reference,
                           float32_to_bfloat16_bits)

HIDDEN, VOCAB, MESH = 256, 4096, (2, 4)




@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("run")
    ckpt, weights = root / "ckpt", root / "weights"
    assert lmhead("synth", "--hidden-size", HIDDEN, "--vocab-size", VOCAB, "--out", ckpt,
                  "--seed", 3).returncode == 0
    done = lmhead("convert", "--checkpoint", ckpt, "--mesh", f"{MESH[0]}x{MESH[1]}", "--out",
                  weights)
    assert done.returncode == 0, done.stderr
    w_bits = read_bf16_tensor(ckpt / "model.safetensors", "lm_head.weight")
    w = bfloat16_bits_to_float32(w_bits)  # [V, H] as stored: bf16 widened exactly
    devices = MESH[0] * MESH[1]
    wq = np.concatenate([device_slice_reference(w, d, devices, BFP4_BITS) for d in range(devices)],
                        axis=1).astype(np.float64)  # [H, V]
    return root, weights, wq


def read_bf16_tensor(path, name):
    """bf16 bit patterns of one tensor, read from the safetensors layout (numpy has no bf16)."""
    raw = pathlib.Path(path).read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    info = json.loads(raw[8:8 + header_len])[name]
    assert info["dtype"] == "BF16"
    begin, end = info["data_offsets"]
    data = raw[8 + header_len + begin:8 + header_len + end]
    return np.frombuffer(data, dtype="<u2").reshape(info["shape"])


def activations(rows, seed):
    x = np.random.default_rng(seed).standard_normal((rows, HIDDEN)).astype(np.float32)
    return x, bfloat16_bits_to_float32(float32_to_bfloat16_bits(x)).astype(np.float64)


@pytest.mark.parametrize("mode,rows", [("decode", 1), ("decode", 32), ("prefill", 100)])
def test_fp32_logits_match_numpy_float64(model, tmp_path, mode, rows):
    _, weights, wq = model
    x, x_bf16 = activations(rows, rows)
    np.save(tmp_path / "x.npy", x)
    done = lmhead("run", "--weights", weights, "--mode", mode, "--input", tmp_path / "x.npy",
                  "--output", tmp_path / "y.npy", "--numerics", "fp32", "--input-row-idx",
                  MESH[0] - 1)
    assert done.returncode == 0, done.stderr
    got = np.load(tmp_path / "y.npy")
    want = x_bf16 @ wq
    assert got.shape == (rows, VOCAB) and got.dtype == np.float32
    assert np.corrcoef(got.ravel(), want.ravel())[0, 1] >= 0.99999
    row_norms = np.linalg.norm(want, axis=1, keepdims=True)
    assert np.max(np.abs(got - want) / row_norms) < 1e-5


# Kernel caps ($LMHEAD_KERNELS): each level picks the best set this CPU allows below it, down
# to the scalar reference (src/kernels/cpu_features.h).
KERNEL_LEVELS = ["amx", "avx512", "avx512f", "avx2", "ref"]


def run_capped(weights, tmp_path, level, numerics, x):
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / f"y_{level}_{numerics}.npy"
    done = lmhead("run", "--weights", weights, "--mode", "decode", "--input", tmp_path / "x.npy",
                  "--output", out, "--numerics", numerics,
                  env=dict(os.environ, LMHEAD_KERNELS=level))
    assert done.returncode == 0, done.stderr
    return np.load(out)


@pytest.mark.parametrize("level", KERNEL_LEVELS)
def test_fp32_logits_match_numpy_float64_at_every_kernel_level(model, tmp_path, level):
    _, weights, wq = model
    x, x_bf16 = activations(5, 11)
    got = run_capped(weights, tmp_path, level, "fp32", x)
    want = x_bf16 @ wq
    row_norms = np.linalg.norm(want, axis=1, keepdims=True)
    assert np.max(np.abs(got - want) / row_norms) < 1e-5, level


def test_tt_lofi_logits_are_the_same_bits_at_every_kernel_level(model, tmp_path):
    # tt-lofi kernels promise the scalar reference's bits, whatever the instruction set.
    _, weights, _ = model
    x, _ = activations(5, 13)
    ref = run_capped(weights, tmp_path, "ref", "tt-lofi", x)
    for level in KERNEL_LEVELS[:-1]:
        got = run_capped(weights, tmp_path, level, "tt-lofi", x)
        assert np.array_equal(got.view(np.uint32), ref.view(np.uint32)), level


def test_avx2_cap_runs_the_avx2_sets():
    features = lmhead("info").stdout.splitlines()[0]
    if "avx2" not in features:
        pytest.skip(f"this CPU has no AVX2 ({features})")
    info = lmhead("info", env=dict(os.environ, LMHEAD_KERNELS="avx2")).stdout
    for name in ["matmul/bfp4b/fp32/avx2", "matmul/bfp4b/tt-lofi/avx2",
                 "matmul/bfp8b/fp32/avx2", "matmul/bfp8b/tt-lofi/avx2"]:
        assert name in info, info


@pytest.mark.parametrize("numerics", ["fp32", "tt-lofi"])
def test_a_set_that_promises_it_gives_a_row_the_same_bits_in_any_batch(model, tmp_path, numerics):
    # `lmhead info` marks the sets whose rows do not depend on the batch; for those, a row of
    # a 5-row decode step equals, bit for bit, the same row decoded alone.
    line = next(l for l in lmhead("info").stdout.splitlines() if f"bfp4_b {numerics} ->" in l)
    if "do not depend on the batch" not in line:
        pytest.skip(f"this CPU's set makes no such promise: {line.strip()}")
    _, weights, _ = model
    x, _ = activations(5, 17)
    batch = run_capped(weights, tmp_path, "amx", numerics, x)
    alone = run_capped(weights, tmp_path, "amx", numerics, x[2:3])
    assert np.array_equal(batch[2:3].view(np.uint32), alone.view(np.uint32))
    if numerics == "fp32":
        # fp32 has no K blocking of TT's to follow: prefill gives each row the decode's bits.
        np.save(tmp_path / "x.npy", x)
        done = lmhead("run", "--weights", weights, "--mode", "prefill", "--input",
                      tmp_path / "x.npy", "--output", tmp_path / "prefill.npy", "--numerics", "fp32")
        assert done.returncode == 0, done.stderr
        prefill = np.load(tmp_path / "prefill.npy")
        assert np.array_equal(prefill.view(np.uint32), batch.view(np.uint32))


def test_topk_and_logsumexp_match_the_full_logits(model, tmp_path):
    _, weights, _ = model
    x, _ = activations(7, 5)
    np.save(tmp_path / "x.npy", x)
    common = ["run", "--weights", weights, "--mode", "decode", "--input", tmp_path / "x.npy",
              "--numerics", "tt-lofi"]
    assert lmhead(*common, "--output", tmp_path / "y.npy").returncode == 0
    done = lmhead(*common, "--reduce", "topk:8", "--output", tmp_path / "ids.npy",
                  "--output-values", tmp_path / "vals.npy")
    assert done.returncode == 0, done.stderr
    assert lmhead(*common, "--reduce", "logsumexp", "--output", tmp_path / "lse.npy").returncode == 0
    logits = np.load(tmp_path / "y.npy")
    ids, vals = np.load(tmp_path / "ids.npy"), np.load(tmp_path / "vals.npy")
    assert ids.dtype == np.int64 and ids.shape == (7, 8)
    # Stable descending order: ties go to the smaller token id.
    want = np.argsort(-logits, axis=1, kind="stable")[:, :8]
    np.testing.assert_array_equal(ids, want)
    np.testing.assert_array_equal(vals, np.take_along_axis(logits, want, axis=1))
    lse = np.load(tmp_path / "lse.npy")
    np.testing.assert_allclose(lse, np.log(np.exp(logits.astype(np.float64)).sum(axis=1)),
                               rtol=1e-6)


@pytest.mark.parametrize("shape,dtype,fragment", [
    ((2, HIDDEN + 1), np.float32, "hidden_size=256"),
    ((33, HIDDEN), np.float32, "33 rows"),
    ((2, HIDDEN), np.float64, "<f8"),
    ((2, 1, 1, HIDDEN), np.float32, "expected [M, H]"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(model, tmp_path, shape, dtype, fragment):
    _, weights, _ = model
    np.save(tmp_path / "x.npy", np.ones(shape, dtype=dtype))
    done = lmhead("run", "--weights", weights, "--mode", "decode", "--input", tmp_path / "x.npy",
                  "--output", tmp_path / "y.npy")
    assert done.returncode == 1
    assert fragment in done.stderr
    assert not (tmp_path / "y.npy").exists()


def test_nan_input_is_reported_unless_allowed(model, tmp_path):
    _, weights, _ = model
    x = np.ones((2, HIDDEN), dtype=np.float32)
    x[1, 7] = np.nan
    np.save(tmp_path / "x.npy", x)
    args = ["run", "--weights", weights, "--mode", "decode", "--input", tmp_path / "x.npy",
            "--output", tmp_path / "y.npy"]
    done = lmhead(*args)
    assert done.returncode == 1 and "[1, 7]" in done.stderr
    assert lmhead(*args, "--allow-nonfinite").returncode == 0


def test_weights_for_another_mesh_are_rejected(model, tmp_path):
    _, weights, _ = model
    np.save(tmp_path / "x.npy", np.ones((1, HIDDEN), dtype=np.float32))
    done = lmhead("run", "--weights", weights, "--mode", "decode", "--input", tmp_path / "x.npy",
                  "--mesh", "4x8")
    assert done.returncode == 1
    assert "2x4" in done.stderr and "4x8" in done.stderr


def test_a_process_bound_to_one_cpu_runs_one_thread(model, tmp_path):
    # --threads 0 means one thread per CPU the process may run on (taskset, a cpuset, an MPI
    # launcher's binding), not one per CPU of the machine.
    cpu = min(os.sched_getaffinity(0))

    def bind():
        os.sched_setaffinity(0, {cpu})

    info = lmhead("info", preexec_fn=bind).stdout
    assert f"threads by default (--threads 0): 1, one per CPU this process may run on ({cpu})" \
        in info, info
    _, weights, _ = model
    x, _ = activations(2, 3)
    np.save(tmp_path / "x.npy", x)
    done = lmhead("run", "--weights", weights, "--mode", "decode", "--input", tmp_path / "x.npy",
                  "--output", tmp_path / "y.npy", "--json", preexec_fn=bind)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["threads"] == 1
