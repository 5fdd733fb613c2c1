# SPDX-License-Identifier: Apache-2.0
"""lmhead.synth / lmhead.convert / lmhead.dequantize: checkpoints and converted weights."""
import json

import numpy as np

from . import _arrays
from . import _lmhead
from .planning import DEFAULT_DEVICE

_SAFETENSORS_DTYPES = {"bfloat16": "BF16", "bf16": "BF16", "float16": "F16", "f16": "F16",
                       "float32": "F32", "f32": "F32"}


def synth(out_dir, hidden_size, vocab_size, *, dtype="bfloat16", seed=0, tied_embedding=False,
          num_shards=1, num_threads=0):
    """Writes a small HuggingFace-style checkpoint (config.json + safetensors) whose head
    [vocab_size, hidden_size] looks trained; every value is a pure function of (seed, row, col).
    Returns the report as a dict (tensor_name, head_file, files, head_bytes, seconds)."""
    if dtype not in _SAFETENSORS_DTYPES:
        raise ValueError(f"dtype {dtype!r} is not a head dtype; use one of "
                         f"{sorted(_SAFETENSORS_DTYPES)}")
    return _lmhead.synth(str(out_dir), hidden_size, vocab_size, _SAFETENSORS_DTYPES[dtype], seed,
                         tied_embedding, num_shards, num_threads)


def convert(checkpoint_dir, out_dir, mesh=(4, 8), device=DEFAULT_DEVICE, *, tensor=None,
            dtype="bfloat4_b", pad_vocab=False, num_threads=0, progress=None):
    """Converts a checkpoint's head into per-device shard files + manifest.json for `mesh` of
    `device`s (TT's DRAM width-sharded bfloat4_b layout). `progress(state)` receives dicts
    (units_done, units_total, num_devices, devices_reused, bytes_written) as pieces finish;
    an exception it raises is re-raised when the conversion has finished. Returns the report
    as a dict."""
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable, not {type(progress).__name__}")
    return _lmhead.convert(str(checkpoint_dir), str(out_dir), _arrays.mesh_text(mesh), device,
                           tensor or "", dtype, pad_vocab, num_threads, progress)


def read_manifest(weights_dir):
    """The manifest.json of a converted weights directory, validated, as a dict."""
    return json.loads(_lmhead.read_manifest(str(weights_dir)))


def dequantize(weights_dir):
    """The converted head as TT holds it, dequantised with TT's host unpacker: float32
    [vocab_size, hidden_size] (nn.Linear's weight layout), device slices side by side,
    vocabulary padding dropped. Every shard's checksums are verified."""
    manifest = read_manifest(weights_dir)
    slices = [_lmhead.dequantize_device(str(weights_dir), device)
              for device in range(manifest["mesh"]["num_devices"])]
    weight = np.concatenate(slices, axis=1)[:, :manifest["model"]["valid_vocab_size"]]
    return np.ascontiguousarray(weight.T)
