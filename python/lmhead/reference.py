# SPDX-License-Identifier: Apache-2.0
"""The goldens of TT's LM-head test: unquantised logits and comp_pcc."""
from . import _arrays
from . import _lmhead


def comp_pcc(golden, calculated, pcc=0.99):
    """TT's comp_pcc (models/common/utility_functions.py): returns (passing, pcc_value).

    `calculated` is cast to the golden's dtype first (so a bfloat16 golden, as the device output
    of TT's test is, rounds the fp32 reference to bfloat16); NaN/Inf count as 0; two all-NaN
    tensors give 1.0 and exactly one all-NaN or all-zero tensor gives 0.0. Both arguments are
    torch tensors or numpy arrays (float32, float64 narrowed to float32, or bfloat16) with the
    same number of elements.
    """
    golden_values, golden_is_bf16, _ = _arrays.float32_array(golden, "golden")
    calculated_values, _, _ = _arrays.float32_array(calculated, "calculated")
    value = _lmhead.comp_pcc(golden_values.reshape(-1), calculated_values.reshape(-1),
                             golden_is_bf16)
    return value >= pcc, value


def unquantized_logits(checkpoint, x, *, tensor=None, num_threads=0):
    """x [..., H] (float32) times the checkpoint's unquantised head in fp32: what
    torch.nn.Linear(H, V, bias=False) with the checkpoint's weight returns. [..., V]."""
    values, _, as_torch = _arrays.float32_array(x, "x")
    rows = values.reshape(-1, values.shape[-1]) if values.ndim else values.reshape(1, 1)
    logits = _lmhead.unquantized_logits(str(checkpoint), tensor or "", rows, num_threads)
    return _arrays.output(logits.reshape(values.shape[:-1] + (logits.shape[-1],)), as_torch)
