# SPDX-License-Identifier: Apache-2.0
"""How the CLI tests run the lmhead binary: $LMHEAD_BIN, else the release build."""
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
LMHEAD = os.environ.get("LMHEAD_BIN", str(REPO / "build" / "release" / "tools" / "lmhead" / "lmhead"))


def lmhead(*args, **kwargs):
    """Runs `lmhead ARGS...` and returns the CompletedProcess (text stdout and stderr)."""
    assert os.path.exists(LMHEAD), f"build lmhead first or set LMHEAD_BIN (looked for {LMHEAD})"
    return subprocess.run([LMHEAD, *map(str, args)], capture_output=True, text=True, **kwargs)


def expect_rejected_before_work(command, work_dir, args, words):
    """`lmhead COMMAND --work-dir WORK_DIR ARGS...` exits 1 naming every word, and writes nothing."""
    done = lmhead(command, "--work-dir", work_dir, *args)
    assert done.returncode == 1
    for word in words:
        assert word in done.stderr, done.stderr
    assert not os.path.exists(work_dir)
