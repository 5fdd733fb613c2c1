# SPDX-License-Identifier: Apache-2.0
"""`lmhead demo` rejects bad flags before it writes its checkpoint and shards.

Each of these once surfaced only after minutes of synthesis and conversion, as an error of the
library that did not name the flag (--users 0, --pcc-rows -3), or with another flag's name
(--prefill-len 0 was reported as --seq-len).
"""
import pytest

from lmhead_cli import expect_rejected_before_work


@pytest.mark.parametrize("args, words", [
    (["--users", "0"], ["--users", "0", "1 to 32"]),
    (["--users", "33"], ["--users", "33", "1 to 32"]),
    (["--prefill-len", "0"], ["--prefill-len", "0"]),
    (["--pcc-rows", "-3"], ["--pcc-rows", "-3"]),
    (["--threads", "5000"], ["--threads", "5000", "1024"]),
])
def test_bad_flags_exit_1_naming_the_value_and_write_nothing(tmp_path, args, words):
    expect_rejected_before_work("demo", tmp_path / "work", args, words)
