# SPDX-License-Identifier: Apache-2.0
"""Bad input raises the documented exception (ValueError / TypeError / OSError / RuntimeError),
never crashes, and leaks nothing; comp_pcc's edge cases follow TT's comp_pcc."""
import shutil

import numpy as np
import pytest
import torch

import lmhead
from conftest import HIDDEN, VOCAB


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def test_load_errors(weights, tmp_path):
    with pytest.raises(OSError):
        lmhead.LMHead.load(tmp_path / "missing")
    with pytest.raises(ValueError, match="fp32"):
        lmhead.LMHead.load(weights, numerics="hifi4")
    with pytest.raises(ValueError):
        lmhead.LMHead.load(weights, compat="tt-v9")
    broken = tmp_path / "broken"
    shutil.copytree(weights, broken)
    (broken / "manifest.json").write_text("{ not json")
    with pytest.raises(RuntimeError, match="Corruption"):
        lmhead.LMHead.load(broken)
    truncated = tmp_path / "truncated"
    shutil.copytree(weights, truncated)
    with open(truncated / "device_005.shard", "r+b") as shard:
        shard.truncate(4096)
    with pytest.raises(RuntimeError, match="device_005"):
        lmhead.LMHead.load(truncated, verify_checksums=True)


BAD_ACTIVATIONS = [
    (np.zeros((4, HIDDEN + 1), np.float32), ValueError, "hidden_size"),
    (np.zeros((33, HIDDEN), np.float32), ValueError, "33"),
    (np.zeros((0, HIDDEN), np.float32), ValueError, ""),
    (np.zeros((2, 4, HIDDEN), np.float32), ValueError, "leading"),
    (np.zeros((4, HIDDEN)), TypeError, "float64"),
    (np.zeros((4, HIDDEN), np.int32), TypeError, "int32"),
    (torch.zeros(4, HIDDEN, dtype=torch.float16), TypeError, "float16"),
    (np.full((4, HIDDEN), np.nan, np.float32), ValueError, "NaN|nan"),
    ("text", TypeError, ""),
]


@pytest.mark.parametrize("x,error,match", BAD_ACTIVATIONS)
def test_bad_activations_raise(fp32_head, x, error, match):
    with pytest.raises(error, match=match):
        fp32_head.decode(x)


def test_reduction_errors(fp32_head):
    x = np.ones((2, HIDDEN), np.float32)
    with pytest.raises(ValueError):
        fp32_head.topk(x, 0)
    with pytest.raises(ValueError):
        fp32_head.topk(x, 5000)
    with pytest.raises(ValueError, match="mode"):
        fp32_head.argmax(x, mode="train")
    with pytest.raises(ValueError, match="reduction"):
        fp32_head.forward(x, reduction="softmax")


def test_nonfinite_inputs_are_refused_unless_allowed(fp32_head):
    x = np.ones((2, HIDDEN), np.float32)
    x[1, 17] = np.inf
    with pytest.raises(ValueError, match="17"):
        fp32_head.decode(x)
    logits = fp32_head.decode(x, allow_nonfinite=True)
    assert logits.shape == (2, VOCAB) and np.isfinite(logits[0]).all()


def test_no_leaks_on_good_or_bad_calls(fp32_head, weights):
    good = np.ones((32, HIDDEN), np.float32)
    bad = np.zeros((4, HIDDEN + 1), np.float32)

    def round_of_calls():
        for _ in range(20):
            fp32_head.decode(good)  # 512 KiB of logits each: leaked, they would show.
            with pytest.raises(ValueError):
                fp32_head.decode(bad)
            with pytest.raises(OSError):
                lmhead.LMHead.load(weights.parent / "missing")
            with pytest.raises(ValueError):
                lmhead.unpack(b"\0" * 100, (32, 32))

    round_of_calls()  # Warm up allocators and caches.
    before = rss_bytes()
    for _ in range(10):
        round_of_calls()
    assert rss_bytes() - before < 16 << 20


def test_comp_pcc_edge_cases_follow_tt():
    rng = np.random.default_rng(5)
    a = rng.standard_normal(1000).astype(np.float32)
    b = (a + 0.1 * rng.standard_normal(1000)).astype(np.float32)
    passing, value = lmhead.comp_pcc(a, b)
    assert value == pytest.approx(np.corrcoef(a.astype(np.float64), b)[0, 1], abs=1e-12)
    assert passing == (value >= 0.99)
    nan = np.full(8, np.nan, np.float32)
    assert lmhead.comp_pcc(nan, nan) == (True, 1.0)
    assert lmhead.comp_pcc(nan, a[:8]) == (False, 0.0)
    assert lmhead.comp_pcc(np.zeros(8, np.float32), a[:8]) == (False, 0.0)
    assert lmhead.comp_pcc(a, a.copy()) == (True, 1.0)
    with_inf = a.copy()
    with_inf[3] = np.inf  # Counted as 0.
    cleaned = a.astype(np.float64)
    cleaned[3] = 0
    assert lmhead.comp_pcc(with_inf, b)[1] == pytest.approx(np.corrcoef(cleaned, b)[0, 1],
                                                           abs=1e-12)
    # A bfloat16 golden rounds the calculated tensor to bfloat16 first.
    golden = torch.from_numpy(a).to(torch.bfloat16)
    rounded = torch.from_numpy(b).to(torch.bfloat16).double().numpy()
    assert lmhead.comp_pcc(golden, torch.from_numpy(b))[1] == pytest.approx(
        np.corrcoef(golden.double().numpy(), rounded)[0, 1], abs=1e-12)
    with pytest.raises(ValueError, match="same size"):
        lmhead.comp_pcc(a, b[:10])
