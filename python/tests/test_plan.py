# SPDX-License-Identifier: Apache-2.0
"""lmhead.plan: the structure of `lmhead plan --json`, with values from the spec's worked
examples (shared/spec/ttnn-lmhead.md §4, §6; docs/plan_fields.md)."""
import json
import os
import subprocess

import pytest

import lmhead
from conftest import REPO

LMHEAD_BIN = os.environ.get("LMHEAD_BIN", str(REPO / "build" / "release" / "tools" / "lmhead" /
                                                 "lmhead"))


def test_deepseek_v3_on_a_galaxy_matches_the_spec():
    plan = lmhead.plan(7168, 129280, mesh=(4, 8), mode="both")
    weights = plan["weights"]
    assert weights["per_device_shape"] == [7168, 4040]
    assert weights["padded_shape"] == [7168, 4064]
    assert (weights["Kt"], weights["Nt"], weights["shard_width"]) == (224, 127, 352)
    assert plan["decode"]["input_num_cores"] == 56
    assert plan["decode"]["output_num_cores"] == 1
    # test_lm_head_ops.py: in0_block_w = 224 // 56 = 4 for decode, 8 for prefill.
    assert plan["decode"]["linear"]["program_config"]["in0_block_w"] == 4
    assert plan["prefill"]["linear"]["program_config"]["in0_block_w"] == 8
    assert plan["mesh"]["shape"] == [4, 8] and plan["mesh"]["num_devices"] == 32


def test_mode_selects_the_paths():
    decode = lmhead.plan(model="deepseek-v3")
    assert decode["mode"] == "decode" and decode["prefill"] is None
    prefill = lmhead.plan(model="deepseek-v3", mode="prefill", seq_len=2048)
    assert prefill["decode"] is None and prefill["prefill"]["num_chunks"] == 2


@pytest.mark.skipif(not os.path.exists(LMHEAD_BIN), reason="the lmhead CLI is not built")
@pytest.mark.parametrize("mesh,mode,compat", [("4x8", "both", "seed"), ("4x8", "decode", "tt-v4"),
                                              ("4x8", "both", "tt-v3"), ("2x4", "prefill", "seed")])
def test_same_structure_as_the_cli(mesh, mode, compat):
    cli = subprocess.run([LMHEAD_BIN, "plan", "--model", "deepseek-v3", "--mesh", mesh, "--mode",
                          mode, "--compat", compat, "--json"], capture_output=True, text=True,
                         check=True)
    assert lmhead.plan(model="deepseek-v3", mesh=mesh, mode=mode, compat=compat) == \
        json.loads(cli.stdout)


def test_config_json_and_presets(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 2048, "vocab_size": 4096}))
    plan = lmhead.plan(model=tmp_path, mesh=(1, 8))
    assert plan["model"]["hidden_size"] == 2048
    assert plan["weights"]["per_device_shape"] == [2048, 512]
    assert "deepseek-v3" in lmhead.model_presets()
    assert "wormhole_b0-galaxy" in lmhead.device_presets()
    # 129280 / 32 = 4040 columns per device, not a whole number of tiles: 127 * 32 * 32.
    assert lmhead.suggest_padded_vocab(129280, 32) == 130048
    assert lmhead.suggest_padded_vocab(129280, 32, 1) == 129280


def test_bad_plans_raise_value_error():
    with pytest.raises(ValueError, match="mesh"):
        lmhead.plan(7168, 129280, mesh=(0, 8))
    with pytest.raises(ValueError, match="wormhole_b0-galaxy"):
        lmhead.plan(7168, 129280, device="grayskull")
    with pytest.raises(ValueError):  # 129281 does not split over 32 devices.
        lmhead.plan(7168, 129281)
    # TT's own failure on 1x8 (quirk 1: output cores checked on H/D = 896, not the vocab).
    with pytest.raises(ValueError, match="even_int_div"):
        lmhead.plan(7168, 129280, mesh=(1, 8), compat="tt-v4")
    with pytest.raises(ValueError, match="compat"):
        lmhead.plan(7168, 129280, compat="tt-v9")
    with pytest.raises(ValueError):
        lmhead.plan(7168)
    with pytest.raises(ValueError):
        lmhead.plan(7168, 129280, model="deepseek-v3")
    with pytest.raises(TypeError):
        lmhead.plan(7168, 129280, mesh=4)
    with pytest.raises(ValueError, match="deepseek-v3"):
        lmhead.plan(model="llama-9")
