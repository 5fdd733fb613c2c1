# SPDX-License-Identifier: Apache-2.0
"""lmhead.synth / convert / read_manifest / unquantized_logits on small checkpoints."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lmhead
from conftest import HIDDEN, MESH, VOCAB, read_safetensors, reference_dequantized


def test_synth_writes_a_readable_checkpoint(tmp_path):
    report = lmhead.synth(tmp_path, 64, 512, dtype="float32", seed=3)
    assert report["tensor_name"] == "lm_head.weight"
    assert report["files"][-1] == "config.json"
    assert report["head_bytes"] == 64 * 512 * 4
    weight = read_safetensors(tmp_path / report["head_file"], "lm_head.weight")
    assert weight.shape == (512, 64) and np.isfinite(weight).all() and weight.std() > 0
    again = tmp_path / "again"
    lmhead.synth(again, 64, 512, dtype="float32", seed=3)
    np.testing.assert_array_equal(read_safetensors(again / report["head_file"],
                                                   "lm_head.weight"), weight)


def test_convert_reports_progress_and_writes_tt_tiles(checkpoint, head_weight, tmp_path):
    states = []
    report = lmhead.convert(checkpoint, tmp_path, mesh=(2, 4), progress=states.append)
    assert report["num_devices"] == 8 and report["shards_written"] == 8
    assert states and states[-1]["units_done"] == states[-1]["units_total"]
    done = [state["units_done"] for state in states]
    assert done == sorted(done)
    manifest = lmhead.read_manifest(tmp_path)
    assert manifest["mesh"]["rows"] == 2 and manifest["mesh"]["cols"] == 4
    np.testing.assert_array_equal(lmhead.dequantize(tmp_path),
                                  reference_dequantized(head_weight, 8))
    rerun = lmhead.convert(checkpoint, tmp_path, mesh=(2, 4))
    assert rerun["shards_reused"] == 8


def test_progress_exceptions_reach_the_caller(checkpoint, tmp_path):
    calls = []

    def progress(state):
        calls.append(state)
        raise KeyError("stop")

    with pytest.raises(KeyError, match="stop"):
        lmhead.convert(checkpoint, tmp_path, mesh=MESH, progress=progress)
    assert len(calls) == 1  # Later calls are skipped once one has raised.
    with pytest.raises(TypeError):
        lmhead.convert(checkpoint, tmp_path, mesh=MESH, progress="not callable")


def test_pad_vocab(tmp_path):
    lmhead.synth(tmp_path / "ckpt", 64, 1001, seed=1)  # 1001 % 8 != 0
    with pytest.raises(ValueError, match="pad"):
        lmhead.convert(tmp_path / "ckpt", tmp_path / "weights", mesh=(1, 8))
    report = lmhead.convert(tmp_path / "ckpt", tmp_path / "weights", mesh=(1, 8),
                            pad_vocab=True)
    padded = 1001 + report["pad_vocab_cols"]
    assert report["pad_vocab_cols"] > 0 and padded % 8 == 0
    assert lmhead.read_manifest(tmp_path / "weights")["model"]["vocab_size"] == padded
    assert lmhead.dequantize(tmp_path / "weights").shape == (1001, 64)


def test_unquantized_logits_are_torch_linear(checkpoint, head_weight):
    x = torch.randn(1, 1, 5, HIDDEN)
    got = lmhead.unquantized_logits(checkpoint, x)
    assert isinstance(got, torch.Tensor) and got.shape == (1, 1, 5, VOCAB)
    expected = F.linear(x.double(), torch.from_numpy(head_weight).double())
    # fp32 accumulation over H terms: |error| <= H * 2^-24 * sum |x w| (see test_lm_head.py).
    bound = HIDDEN * 2.0**-24 * F.linear(x.double().abs(), torch.from_numpy(head_weight).double()
                                         .abs())
    assert ((got.double() - expected).abs() <= bound).all()


def test_convert_errors(checkpoint, tmp_path):
    with pytest.raises(OSError):
        lmhead.convert(tmp_path / "missing", tmp_path / "out", mesh=MESH)
    with pytest.raises(OSError, match="lm_head.weight"):
        lmhead.convert(checkpoint, tmp_path / "out", mesh=MESH, tensor="no.such.tensor")
    with pytest.raises(ValueError):
        lmhead.convert(checkpoint, tmp_path / "out", mesh=(3, 1))  # 4096 % 3 != 0
    with pytest.raises(ValueError):
        lmhead.synth(tmp_path / "s", 64, 512, dtype="int8")
    with pytest.raises(ValueError):
        lmhead.synth(tmp_path / "s", 0, 512)
    with pytest.raises(OSError):
        lmhead.read_manifest(tmp_path / "missing")
