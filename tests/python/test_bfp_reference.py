# SPDX-License-Identifier: Apache-2.0
"""The numpy reference against the worked example of tt-numerics.md §5 (TT-Metal's own output)."""
import numpy as np

from bfp_reference import BFP4_BITS, BFP8_BITS, quantize_groups

ROW = np.array([1.0, -0.75, 0.3, 1.9, 1.75, 1.875, 0.125, -0.0625, 0.1875, 0.625, -1.5, 0.0,
                2.0**-10, 0.375, -0.3125, 1.25], dtype=np.float32)


def test_bfp4_worked_example():
    expected = [1.0, -0.75, 0.25, 1.75, 1.75, 1.75, 0, 0, 0.25, 0.5, -1.5, 0, 0, 0.5, -0.25, 1.25]
    assert quantize_groups(ROW, BFP4_BITS).tolist() == expected


def test_bfp8_worked_example():
    expected = [1, -0.75, 0.296875, 1.90625, 1.75, 1.875, 0.125, -0.0625, 0.1875, 0.625, -1.5, 0,
                0, 0.375, -0.3125, 1.25]
    assert quantize_groups(ROW, BFP8_BITS).tolist() == expected


def test_truncating_alignment_makes_a_tie():
    # 0x3F200001 (0.62500006) -> 0.5 with a row maximum of 1.0 (spec §2.2 point 2).
    row = np.zeros(16, dtype=np.float32)
    row[0] = 1.0
    row[1] = np.array([0x3F200001], dtype=np.uint32).view(np.float32)[0]
    assert quantize_groups(row, BFP4_BITS)[1] == 0.5
