# SPDX-License-Identifier: Apache-2.0
"""lmhead.pack / lmhead.unpack: TT's TILE_LAYOUT host buffers, byte for byte."""
import operator

from . import _arrays
from . import _lmhead


def pack(array, dtype="bfloat4_b"):
    """The bytes `ttnn.from_torch(array, dtype=dtype, layout=TILE_LAYOUT)` puts in its host
    buffer: a uint8 numpy array of tiles (576 bytes each for bfloat4_b).

    `array` has rank >= 2 ([..., rows, cols]; each [rows, cols] slice is padded to whole 32x32
    tiles) and holds float32 or bfloat16 (torch.bfloat16, or numpy uint16 bit patterns).
    `dtype` is "bfloat4_b", "bfloat8_b", "bfloat16" or "float32" (or "bfp4_b", ...).
    """
    values, _ = _arrays.host_array(array, "array")
    return _lmhead.pack(values, dtype)


def unpack(buffer, shape, dtype="bfloat4_b", out_dtype="float32"):
    """The inverse of pack with TT's host unpacker: the logical values of `shape`, padding
    dropped, as float32, or as uint16 bfloat16 bit patterns with out_dtype="bfloat16"."""
    if out_dtype not in ("float32", "bfloat16"):
        raise ValueError(f"out_dtype {out_dtype!r} is unknown; use 'float32' or 'bfloat16'")
    dims = [operator.index(dim) for dim in shape]
    data = _arrays.byte_array(buffer, "buffer")
    return _lmhead.unpack(data, dims, dtype, out_dtype == "bfloat16")


def tile_bytes(dtype):
    """Bytes of one 32x32 tile: 576 (bfloat4_b), 1088 (bfloat8_b), 2048, 4096."""
    return _lmhead.tile_bytes(dtype)


def tiled_bytes(shape, dtype="bfloat4_b"):
    """Bytes of TT's host buffer for a tensor of `shape`."""
    return _lmhead.tiled_bytes(dtype, [operator.index(dim) for dim in shape])
