# SPDX-License-Identifier: Apache-2.0
"""lmhead.pack / unpack: byte-identical to TT's golden buffers, round trips, and errors."""
import numpy as np
import pytest
import torch

import lmhead
from bfp_reference import BFP4_BITS, BFP8_BITS, quantize_groups
from conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "tt_bfp"
SHORT = {"bfloat4_b": "bfp4_b", "bfloat8_b": "bfp8_b"}


def golden_matrix(name):
    return np.load(GOLDEN / f"{name}_bits.npy").view(np.float32)


def tilize(matrix):
    """TT's TILE_LAYOUT order of a [rows, cols] matrix (multiples of 32): row-major tiles, each
    as faces 0..3 (top-left, top-right, bottom-left, bottom-right), each face row-major."""
    rows, cols = matrix.shape
    tiles = matrix.reshape(rows // 32, 2, 16, cols // 32, 2, 16)
    return tiles.transpose(0, 3, 1, 4, 2, 5).reshape(-1)


@pytest.mark.parametrize("name", ["finite", "special"])
@pytest.mark.parametrize("dtype", ["bfloat4_b", "bfloat8_b"])
def test_pack_is_byte_identical_to_tt(name, dtype):
    golden = np.load(GOLDEN / f"{name}_{SHORT[dtype]}.npy")
    matrix = golden_matrix(name)
    packed = lmhead.pack(matrix, dtype=dtype)
    assert packed.dtype == np.uint8
    assert packed.tobytes() == golden.tobytes()
    assert lmhead.pack(torch.from_numpy(matrix), dtype).tobytes() == golden.tobytes()


@pytest.mark.parametrize("dtype,bits", [("bfloat4_b", BFP4_BITS), ("bfloat8_b", BFP8_BITS)])
def test_unpack_of_tt_bytes_is_the_spec_quantisation(dtype, bits):
    matrix = golden_matrix("finite")
    golden = np.load(GOLDEN / f"finite_{SHORT[dtype]}.npy")
    values = lmhead.unpack(golden.tobytes(), matrix.shape, dtype)
    assert values.dtype == np.float32 and values.shape == matrix.shape
    np.testing.assert_array_equal(values, quantize_groups(matrix, bits))
    bits16 = lmhead.unpack(golden, matrix.shape, dtype, out_dtype="bfloat16")
    np.testing.assert_array_equal((bits16.astype(np.uint32) << 16).view(np.float32), values)


def test_float32_and_bfloat16_tiles_are_tt_order():
    matrix = np.random.default_rng(0).standard_normal((64, 96), dtype=np.float32)
    assert lmhead.pack(matrix, "float32").tobytes() == tilize(matrix).tobytes()
    as_bf16 = torch.from_numpy(matrix).to(torch.bfloat16)  # torch's round to nearest even.
    bits = as_bf16.view(torch.int16).numpy().view(np.uint16)
    assert lmhead.pack(matrix, "bfloat16").tobytes() == tilize(bits).tobytes()
    assert lmhead.pack(as_bf16, "bfloat16").tobytes() == tilize(bits).tobytes()


@pytest.mark.parametrize("shape", [(1, 1), (33, 65), (2, 3, 40, 50), (32, 7168)])
def test_round_trips_with_padding(shape):
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape, dtype=np.float32)
    packed = lmhead.pack(x, "float32")
    rows, cols = shape[-2:]
    batch = int(np.prod(shape[:-2]))
    tiles = batch * -(-rows // 32) * -(-cols // 32)
    assert packed.size == tiles * lmhead.tile_bytes("float32") == lmhead.tiled_bytes(shape,
                                                                                   "float32")
    np.testing.assert_array_equal(lmhead.unpack(packed, shape, "float32"), x)
    for dtype, bits in (("bfloat4_b", BFP4_BITS), ("bfloat8_b", BFP8_BITS)):
        # Quantised values (groups of 16 along each padded row) come back exactly.
        padded = np.zeros(shape[:-1] + (-(-cols // 32) * 32,), np.float32)
        padded[..., :cols] = x
        quantized = quantize_groups(padded, bits)[..., :cols].astype(np.float32)
        np.testing.assert_array_equal(lmhead.unpack(lmhead.pack(x, dtype), shape, dtype),
                                      quantized)
        np.testing.assert_array_equal(
            lmhead.unpack(lmhead.pack(quantized, dtype), shape, dtype), quantized)


def test_tile_sizes():
    assert [lmhead.tile_bytes(d) for d in ("bfloat4_b", "bfloat8_b", "bfloat16", "float32")] == \
        [576, 1088, 2048, 4096]
    assert lmhead.tiled_bytes((33, 65)) == 2 * 3 * 576


def test_bad_pack_and_unpack_arguments_raise():
    with pytest.raises(ValueError, match="rank"):
        lmhead.pack(np.zeros(32, np.float32))
    with pytest.raises(ValueError, match="unknown tile format"):
        lmhead.pack(np.zeros((32, 32), np.float32), "bfloat2")
    with pytest.raises(TypeError, match="float64"):
        lmhead.pack(np.zeros((32, 32)))
    with pytest.raises(TypeError, match="int32"):
        lmhead.pack(torch.zeros(32, 32, dtype=torch.int32))
    with pytest.raises(ValueError, match="needs 576"):
        lmhead.unpack(b"\0" * 575, (32, 32))
    with pytest.raises(ValueError, match="dimension"):
        lmhead.unpack(b"", (0, 32))
    with pytest.raises(ValueError, match="out_dtype"):
        lmhead.unpack(b"\0" * 576, (32, 32), out_dtype="float16")
    with pytest.raises(TypeError):
        lmhead.unpack(12, (32, 32))
    with pytest.raises(ValueError, match="needs"):  # A shape far too large never allocates.
        lmhead.unpack(b"\0" * 576, (1 << 22, 1 << 22))
