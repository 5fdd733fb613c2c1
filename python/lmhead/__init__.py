# SPDX-License-Identifier: Apache-2.0
"""lmhead: Tenstorrent's DeepSeek-V3 LM head (planner, bfloat4_b tiles, emulated mesh) in Python.

For pytest suites that bring models up on TT hardware: plans identical to `lmhead plan --json`,
tiles byte-identical to ttnn.from_torch, and logits of the emulated mesh as a golden.

    import lmhead, torch
    head = lmhead.LMHead.load("weights/", numerics="tt-lofi")
    logits = head.decode(torch.randn(1, 1, 32, head.hidden_size))
    passing, pcc = lmhead.comp_pcc(logits, reference, 0.98)
"""
from ._lmhead import Reduction
from .formats import pack, tile_bytes, tiled_bytes, unpack
from .head import LMHead
from .planning import (device_presets, model_dims, model_presets, plan,
                       suggest_padded_vocab)
from .reference import comp_pcc, unquantized_logits
from .weights import convert, dequantize, read_manifest, synth

__version__ = "0.1.0"

__all__ = [
    "LMHead", "Reduction", "comp_pcc", "convert", "dequantize", "device_presets",
    "model_dims", "model_presets", "pack", "plan", "read_manifest", "suggest_padded_vocab",
    "synth", "tile_bytes", "tiled_bytes", "unpack", "unquantized_logits",
]
