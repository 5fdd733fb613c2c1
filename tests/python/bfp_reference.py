# SPDX-License-Identifier: Apache-2.0
"""Independent numpy reference of TT's host bfp packing (shared/spec/tt-numerics.md §2.2, §3.1).

Written from the spec text alone, in float64, so that tests can check what lmhead writes
without trusting any of lmhead's own code.
"""
import numpy as np

BFP4_BITS = 3  # bfloat4_b: sign + 3-bit magnitude
BFP8_BITS = 7  # bfloat8_b: sign + 7-bit magnitude


def quantize_groups(x: np.ndarray, bits: int) -> np.ndarray:
    """Quantises float32 `x` [..., n] (n % 16 == 0) in groups of 16 along the last axis.

    Returns the decoded values as float64: shared exponent = max raw fp32 exponent of the
    group; significands aligned by a truncating right shift, then rounded to nearest even on
    the aligned window, saturated (no exponent bump); zero/denormal inputs give 0.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    assert x.shape[-1] % 16 == 0
    groups = x.reshape(-1, 16)
    word = groups.view(np.uint32).astype(np.int64)
    exponent = (word >> 23) & 0xFF
    shared = exponent.max(axis=1, keepdims=True)
    mantissa = (word & 0x7FFFFF) | 0x800000
    align = shared - exponent
    mantissa = np.where(align >= 32, 0, mantissa >> np.minimum(align, 31))
    shift = 24 - bits
    rem = mantissa & ((1 << shift) - 1)
    q = mantissa >> shift
    half = 1 << (shift - 1)
    q = q + ((rem > half) | ((rem == half) & ((q & 1) == 1)))
    q = np.minimum(q, (1 << bits) - 1)
    q = np.where(exponent == 0, 0, q)
    value = np.ldexp(q.astype(np.float64), (shared - 127 - (bits - 1)).astype(np.int32))
    value = np.where((word >> 31) == 1, -value, value)
    return value.reshape(x.shape)


def device_slice_reference(w: np.ndarray, device: int, num_devices: int, bits: int,
                           padded_vocab: int | None = None) -> np.ndarray:
    """The dequantised [H, V/D] slice TT puts on `device`: columns [k V/D, (k+1) V/D) of W^T.

    `w` is the checkpoint head [V, H] as float32 (bf16/f16 already widened exactly). Columns at or
    above V (vocabulary padding) are zero; the slice is padded to whole tiles with zeros before
    quantising, as TTNN's tilize does, and the padding is dropped again.
    """
    vocab, hidden = w.shape
    total = padded_vocab or vocab
    assert total % num_devices == 0
    cols = total // num_devices
    padded_cols = -(-cols // 32) * 32
    wt = np.zeros((hidden, padded_cols), dtype=np.float32)
    first = device * cols
    real = max(0, min(cols, vocab - first))
    wt[:, :real] = w[first:first + real, :].T
    return quantize_groups(wt, bits)[:, :cols]


def float32_to_bfloat16_bits(x: np.ndarray) -> np.ndarray:
    """Round-to-nearest-even float32 -> bfloat16 bit patterns (finite inputs)."""
    word = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (word + 0x7FFF + ((word >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bfloat16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)
