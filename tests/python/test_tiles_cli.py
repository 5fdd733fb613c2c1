# SPDX-License-Identifier: Apache-2.0
"""`lmhead tiles pack|unpack` end to end: TT golden bytes, numpy models, every error."""

import numpy as np
import pytest

from lmhead_cli import REPO
from lmhead_cli import lmhead as lmhead_cli

GOLDEN = REPO / "tests" / "golden" / "tt_bfp"


def lmhead(*args):
    """`lmhead tiles ARGS...`."""
    return lmhead_cli("tiles", *args)


def pack(tmp_path, array, fmt, *extra):
    src, out = tmp_path / "in.npy", tmp_path / "out.tiles"
    np.save(src, array)
    result = lmhead("pack", "--format", fmt, "--in", src, "--out", out, *extra)
    assert result.returncode == 0, result.stderr
    return out.read_bytes()


def unpack(tmp_path, data, fmt, shape):
    src, out = tmp_path / "in.tiles", tmp_path / "out.npy"
    src.write_bytes(data)
    result = lmhead("unpack", "--format", fmt, "--shape", ",".join(map(str, shape)), "--in", src,
                    "--out", out)
    assert result.returncode == 0, result.stderr
    return np.load(out)


def model_quantise(x32, bits):
    """tt-numerics.md 3.1 with 2.2's truncating alignment, in float64 (no bit tricks).

    A group is 16 consecutive columns of a row starting at a multiple of 16 (a face
    row); padding adds zeros, which never raise the shared exponent E (the largest
    biased exponent in the group). A value keeps floor(|x| / 2^(E-150)) grid units,
    rounds them to nearest even in quanta of 2^(24-BITS) units and saturates.
    """
    x = x32.astype(np.float64)
    cols = x.shape[-1]
    padded_cols = -(-cols // 16) * 16
    padded = np.zeros(x.shape[:-1] + (padded_cols,))
    padded[..., :cols] = x
    groups = padded.reshape(x.shape[:-1] + (padded_cols // 16, 16))
    magnitude = np.abs(groups)
    _, exp2 = np.frexp(magnitude)  # magnitude = m * 2^exp2 with m in [0.5, 1)
    biased = np.where(magnitude >= 2.0**-126, exp2 - 1 + 127, 0)
    shared = biased.max(axis=-1, keepdims=True).astype(np.float64)
    units = np.floor(magnitude / 2.0 ** (shared - 150))
    quanta = np.minimum(np.rint(units / 2.0 ** (24 - bits)), 2**bits - 1)
    quanta = np.where(biased == 0, 0, quanta)
    value = np.where(quanta == 0, 0.0, np.sign(groups) * quanta * 2.0 ** (shared - 127 - bits + 1))
    return value.reshape(padded.shape)[..., :cols].astype(np.float32)


def bf16_rne(x32):
    """torch's fp32 -> bf16 rounding (finite inputs), widened back to fp32."""
    bits = x32.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def random_matrix(shape, seed):
    rng = np.random.default_rng(seed)
    scales = 2.0 ** rng.integers(-60, 60, size=shape[:-1] + (1,))
    return (rng.standard_normal(shape) * scales).astype(np.float32)


@pytest.mark.parametrize("name", ["finite", "special"])
@pytest.mark.parametrize("fmt", ["bfp4_b", "bfp8_b"])
def test_pack_matches_tt_golden(tmp_path, name, fmt):
    values = np.load(GOLDEN / f"{name}_bits.npy").view(np.float32)
    expected = np.load(GOLDEN / f"{name}_{fmt}.npy").tobytes()
    assert pack(tmp_path, values, fmt) == expected


@pytest.mark.parametrize("fmt,bits", [("bfp4_b", 3), ("bfp8_b", 7)])
def test_round_trip_matches_model(tmp_path, fmt, bits):
    shape = (2, 45, 70)  # rank 3, ragged rows and columns: each slice padded on its own
    values = random_matrix(shape, seed=bits)
    tiles = pack(tmp_path, values, fmt)
    assert len(tiles) == 2 * 2 * 3 * {"bfp4_b": 576, "bfp8_b": 1088}[fmt]
    back = unpack(tmp_path, tiles, fmt, shape)
    assert back.dtype == np.float32 and back.shape == shape
    np.testing.assert_array_equal(back.view(np.uint32), model_quantise(values, bits).view(np.uint32))


def test_round_trip_bf16_and_fp32_tiles(tmp_path):
    values = random_matrix((33, 40), seed=3)
    back = unpack(tmp_path, pack(tmp_path, values, "fp32"), "fp32", values.shape)
    np.testing.assert_array_equal(back.view(np.uint32), values.view(np.uint32))
    back = unpack(tmp_path, pack(tmp_path, values, "bfloat16"), "bf16", values.shape)
    np.testing.assert_array_equal(back.view(np.uint32), bf16_rne(values).view(np.uint32))


def test_input_bf16_is_widened_exactly(tmp_path):
    halves = (random_matrix((64, 96), seed=4).view(np.uint32) >> 16).astype(np.uint16)
    widened = (halves.astype(np.uint32) << 16).view(np.float32)
    for fmt in ["bfp4_b", "bfp8_b", "fp32"]:
        assert pack(tmp_path, halves, fmt, "--input-bf16") == pack(tmp_path, widened, fmt)
    assert pack(tmp_path, halves, "bf16", "--input-bf16") == pack(tmp_path, widened, "bf16")


def test_success_leaves_no_temporary_files(tmp_path):
    pack(tmp_path, np.ones((32, 32), np.float32), "bfp8_b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.npy", "out.tiles"]


def run_failing(tmp_path, args, message):
    out = tmp_path / "out.bin"
    out.write_bytes(b"previous")  # must survive any failure untouched
    result = lmhead(*args, "--out", out)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert message in result.stderr, result.stderr
    assert out.read_bytes() == b"previous"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


def test_pack_errors(tmp_path):
    def npy(name, array):
        path = tmp_path / name
        np.save(path, array)
        return path

    f64 = npy("f64.npy", np.zeros((32, 32)))
    run_failing(tmp_path, ["pack", "--format", "bfp4_b", "--in", f64], "holds <f8 values")
    f32 = npy("f32.npy", np.zeros((4, 4), np.float32))
    run_failing(tmp_path, ["pack", "--format", "bfp4_b", "--in", f32, "--input-bf16"], "'<u2'")
    rank1 = npy("rank1.npy", np.zeros(32, np.float32))
    run_failing(tmp_path, ["pack", "--format", "bfp4_b", "--in", rank1], "rank >= 2")
    fortran = npy("fortran.npy", np.asfortranarray(np.zeros((3, 4), np.float32)))
    run_failing(tmp_path, ["pack", "--format", "bfp4_b", "--in", fortran], "Fortran order")
    run_failing(tmp_path, ["pack", "--format", "bfp2_b", "--in", f32], "unknown tile format 'bfp2_b'")
    run_failing(tmp_path, ["pack", "--format", "bfp4_b", "--in", tmp_path / "none.npy"], "none.npy")
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(f32.read_bytes()[:-5])
    run_failing(tmp_path, ["pack", "--format", "bfp4_b", "--in", truncated], "truncated")

    bad = np.ones((2, 3, 4), np.float32)
    bad[1, 2, 3] = np.inf
    bad[1, 2, 1] = np.nan
    nonfinite = npy("nonfinite.npy", bad)
    run_failing(tmp_path, ["pack", "--format", "bfp8_b", "--in", nonfinite, "--reject-nonfinite"],
                "[1, 2, 1]")
    halves = npy("halves.npy", np.array([[0x3F80, 0x7F80]], np.uint16))
    run_failing(tmp_path, ["pack", "--format", "bf16", "--in", halves, "--input-bf16",
                           "--reject-nonfinite"], "[0, 1]")
    # Without the flag, NaN/Inf pack as TT does.
    assert len(pack(tmp_path, bad, "bfp8_b")) == 2 * 1088  # one padded tile per slice


def test_unpack_errors(tmp_path):
    tiles = tmp_path / "x.tiles"
    tiles.write_bytes(bytes(576 * 4))
    args = ["unpack", "--format", "bfp4_b", "--in", tiles]
    run_failing(tmp_path, args + ["--shape", "96,64"], "check --shape and --format")
    run_failing(tmp_path, args + ["--shape", "64,64,"], "comma-separated list of positive")
    run_failing(tmp_path, args + ["--shape", "64"], "rank 1")
    run_failing(tmp_path, ["unpack", "--format", "bfp8_b", "--in", tiles, "--shape", "64,64"],
                "not a whole number of 1088-byte bfp8_b tiles")
    tiles.write_bytes(bytes(576 * 4 - 1))
    run_failing(tmp_path, args + ["--shape", "64,64"], "truncated")
    # And the intact file unpacks: all-zero tiles are zeros.
    tiles.write_bytes(bytes(576 * 4))
    np.testing.assert_array_equal(unpack(tmp_path, tiles.read_bytes(), "bfp4_b", (50, 33)),
                                  np.zeros((50, 33), np.float32))
