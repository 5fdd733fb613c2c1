# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the lmhead package tests: small checkpoints (H=256, V=4096) on a 4x8 mesh.

The references here never come from lmhead: checkpoints are read back with a few lines of
safetensors parsing, and dequantised weights come from tests/python/bfp_reference.py (numpy,
written from the spec).
"""
import json
import pathlib
import struct
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "python"))

import lmhead  # noqa: E402
from bfp_reference import BFP4_BITS, device_slice_reference  # noqa: E402

HIDDEN = 256
VOCAB = 4096
MESH = (4, 8)
SEED = 7


def read_safetensors(path, name):
    """Tensor `name` of a .safetensors file as float32 (BF16/F16 widened exactly)."""
    data = pathlib.Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    entry = json.loads(data[8:8 + header_len])[name]
    begin, end = (8 + header_len + offset for offset in entry["data_offsets"])
    raw = data[begin:end]
    if entry["dtype"] == "BF16":
        values = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
    elif entry["dtype"] == "F16":
        values = np.frombuffer(raw, np.float16).astype(np.float32)
    else:
        assert entry["dtype"] == "F32", entry["dtype"]
        values = np.frombuffer(raw, np.float32)
    return values.reshape(entry["shape"])


def write_checkpoint(directory, weight):
    """A HuggingFace-style checkpoint of an fp32 head [V, H]: config.json + model.safetensors."""
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weight = np.ascontiguousarray(weight, dtype=np.float32)
    vocab, hidden = weight.shape
    header = json.dumps({"lm_head.weight": {"dtype": "F32", "shape": [vocab, hidden],
                                            "data_offsets": [0, weight.nbytes]}}).encode()
    header += b" " * (-len(header) % 8)
    with open(directory / "model.safetensors", "wb") as file:
        file.write(struct.pack("<Q", len(header)) + header + weight.tobytes())
    config = {"hidden_size": hidden, "vocab_size": vocab, "tie_word_embeddings": False}
    (directory / "config.json").write_text(json.dumps(config))
    return directory


def reference_dequantized(weight, num_devices):
    """[V, H] float64: each device's [H, V/D] slice quantised to bfloat4_b as TT does."""
    slices = [device_slice_reference(weight, device, num_devices, BFP4_BITS)
              for device in range(num_devices)]
    return np.concatenate(slices, axis=1).T


def pcc(a, b):
    """Pearson correlation of two tensors in float64."""
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return float(np.corrcoef(a, b)[0, 1])


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("ckpt")
    lmhead.synth(path, HIDDEN, VOCAB, seed=SEED)
    return path


@pytest.fixture(scope="session")
def head_weight(checkpoint):
    """The checkpoint's head [V, H] as float32, read without lmhead."""
    return read_safetensors(checkpoint / "model.safetensors", "lm_head.weight")


@pytest.fixture(scope="session")
def weights(checkpoint, tmp_path_factory):
    path = tmp_path_factory.mktemp("weights")
    lmhead.convert(checkpoint, path, mesh=MESH)
    return path


@pytest.fixture(scope="session")
def fp32_head(weights):
    return lmhead.LMHead.load(weights, numerics="fp32")


@pytest.fixture(scope="session")
def lofi_head(weights):
    return lmhead.LMHead.load(weights, numerics="tt-lofi")
