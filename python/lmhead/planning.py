# SPDX-License-Identifier: Apache-2.0
"""lmhead.plan: every TTNN config of the LM head for a model and a mesh, as `lmhead plan --json`."""
import json
import os

from . import _arrays
from . import _lmhead

DEFAULT_DEVICE = "wormhole_b0-galaxy"


def model_dims(model):
    """(hidden_size, vocab_size, name) of a preset ("deepseek-v3") or of a HuggingFace
    config.json (or its model directory)."""
    if os.path.exists(str(model)):
        return _lmhead.load_model_dims(str(model))
    return _lmhead.model_preset(str(model))


def plan(hidden_size=None, vocab_size=None, *, model=None, mesh=(4, 8), device=DEFAULT_DEVICE,
         mode="decode", seq_len=1024, compat="seed", input_row_idx=0, input_num_cores=0,
         output_num_cores=0):
    """Plans the LM head: returns the structure `lmhead plan --json` prints, as dicts.

    Give the model as `hidden_size, vocab_size`, or as `model=` a preset name or a config.json.
    `mesh` is (rows, cols) or "RxC"; `mode` "decode", "prefill" or "both"; `compat` "seed",
    "tt-v3" or "tt-v4". A configuration TT rejects raises ValueError naming the rule and a fix.
    """
    if model is not None:
        if hidden_size is not None or vocab_size is not None:
            raise ValueError("pass either hidden_size and vocab_size, or model=, not both")
        hidden_size, vocab_size, name = model_dims(model)
    elif hidden_size is None or vocab_size is None:
        raise ValueError("pass hidden_size and vocab_size (e.g. 7168, 129280), or "
                         "model='deepseek-v3'")
    else:
        name = f"{hidden_size}x{vocab_size}"
    text = _lmhead.plan_json(hidden_size, vocab_size, name, _arrays.mesh_text(mesh), device,
                             mode, seq_len, compat, input_row_idx, input_num_cores,
                             output_num_cores)
    return json.loads(text)


model_presets = _lmhead.model_presets
device_presets = _lmhead.device_presets
suggest_padded_vocab = _lmhead.suggest_padded_vocab
