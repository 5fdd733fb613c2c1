# SPDX-License-Identifier: Apache-2.0
"""LMHead: the DeepSeek-V3 LM head on converted weights, for numpy and torch callers."""
import json

from . import _arrays
from . import _lmhead


def _rows_of(array, hidden_size):
    """[..., rows, H] with leading dims of 1 (TT's [1, 1, S, H]) or [H] -> ([rows, H], lead)."""
    shape = array.shape
    if array.ndim == 0 or shape[-1] != hidden_size:
        raise ValueError(f"activations have shape {tuple(shape)}; the last dimension must be "
                         f"hidden_size = {hidden_size}")
    if array.ndim == 1:
        return array.reshape(1, hidden_size), ()
    if any(dim != 1 for dim in shape[:-2]):
        raise ValueError(f"activations have shape {tuple(shape)}; pass [rows, {hidden_size}] or "
                         f"[1, 1, rows, {hidden_size}] (leading dimensions must be 1)")
    return array.reshape(shape[-2], hidden_size), tuple(shape[:-2])


def _check_mode(mode):
    if mode not in ("decode", "prefill"):
        raise ValueError(f"mode {mode!r} is unknown; use 'decode' or 'prefill'")


class LMHead:
    """The LM head of one converted weights directory (`lmhead.convert`), ready to run.

    Decode takes up to 32 rows (users), prefill any number of tokens; both accept
    [rows, H], [1, 1, rows, H] (TT's layout) or [H], as float32 or bfloat16 numpy arrays or
    torch tensors, read in place when contiguous. Results are float32 numpy arrays, or torch
    tensors when the input was torch, shaped like the input with H replaced by the vocabulary.
    Calls release the GIL and run on all of the head's threads; concurrent calls take turns.
    """

    def __init__(self, impl, numerics):
        """Use LMHead.load()."""
        self._impl = impl
        self._numerics = numerics
        self._plan = json.loads(impl.plan_json)

    @classmethod
    def load(cls, weights_dir, numerics="tt-lofi", *, compat="seed", input_row_idx=0,
             num_threads=0, verify_checksums=False):
        """Opens `weights_dir` with numerics "tt-lofi" (TT's LoFi matmul, the bring-up golden)
        or "fp32" (bf16 activations x exactly decoded weights, fp32 accumulation)."""
        impl = _lmhead.LmHead.open(str(weights_dir), numerics, compat, input_row_idx,
                                   num_threads, verify_checksums)
        return cls(impl, numerics)

    @property
    def plan(self):
        """The plan the head runs, the structure of `lmhead plan --json`."""
        return self._plan

    @property
    def hidden_size(self):
        return self._plan["model"]["hidden_size"]

    @property
    def vocab_size(self):
        return self._plan["model"]["vocab_size"]

    @property
    def numerics(self):
        return self._numerics

    @property
    def kernel_name(self):
        return self._impl.kernel_name

    @property
    def num_threads(self):
        return self._impl.num_threads

    def forward(self, x, *, mode="decode", reduction="logits", k=1, last_token_only=False,
                allow_nonfinite=False, per_device=False):
        """One call with every option; returns the engine's result as a dict of numpy arrays
        ("logits" [rows, V], or "values"/"token_ids" [rows, k], or "logsumexp" [rows]) plus
        "per_device_logits", "times" (seconds per stage) and the transfer counts."""
        _check_mode(mode)
        reductions = {"logits": _lmhead.Reduction.LOGITS, "topk": _lmhead.Reduction.TOPK,
                      "logsumexp": _lmhead.Reduction.LOGSUMEXP}
        if reduction not in reductions:
            raise ValueError(f"reduction {reduction!r} is unknown; use one of {list(reductions)}")
        array, _ = _arrays.host_array(x, "activations")
        rows, _ = _rows_of(array, self.hidden_size)
        return self._impl.forward(mode == "prefill", rows, reductions[reduction], k,
                                  last_token_only, allow_nonfinite, per_device)

    def _run(self, x, mode, reduction, key, k=1, last_token_only=False, allow_nonfinite=False):
        _check_mode(mode)
        array, as_torch = _arrays.host_array(x, "activations")
        rows, lead = _rows_of(array, self.hidden_size)
        result = self._impl.forward(mode == "prefill", rows, reduction, k, last_token_only,
                                    allow_nonfinite, False)
        outputs = []
        for name in key:
            value = result[name]
            value = value[0] if array.ndim == 1 else value.reshape(lead + value.shape)
            outputs.append(_arrays.output(value, as_torch))
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    def decode(self, x, *, allow_nonfinite=False):
        """Logits of up to 32 rows (the seed's decode path): [..., rows, V] float32."""
        return self._run(x, "decode", _lmhead.Reduction.LOGITS, ("logits",),
                         allow_nonfinite=allow_nonfinite)

    def prefill(self, x, last_token_only=False, *, allow_nonfinite=False):
        """Logits of a sequence (the seed's prefill path, chunked by 1024 rows): [..., S, V],
        or [..., 1, V] with last_token_only."""
        return self._run(x, "prefill", _lmhead.Reduction.LOGITS, ("logits",),
                         last_token_only=last_token_only, allow_nonfinite=allow_nonfinite)

    def topk(self, x, k, *, mode="decode", last_token_only=False):
        """The k largest logits of each row and their token ids, best first, merged from the
        devices' partial top-k: (values float32 [..., k], indices int64 [..., k]), like
        torch.topk."""
        return self._run(x, mode, _lmhead.Reduction.TOPK, ("values", "token_ids"), k=k,
                         last_token_only=last_token_only)

    def argmax(self, x, *, mode="decode", last_token_only=False):
        """The best token id of each row: int64 [...]."""
        _, ids = self.topk(x, 1, mode=mode, last_token_only=last_token_only)
        return ids[..., 0]

    def logsumexp(self, x, *, mode="decode", last_token_only=False):
        """log(sum(exp(logits))) of each row over the vocabulary: float64 [...]."""
        return self._run(x, mode, _lmhead.Reduction.LOGSUMEXP, ("logsumexp",),
                         last_token_only=last_token_only)

    def __repr__(self):
        mesh = self._plan["mesh"]["shape"]
        return (f"LMHead(hidden_size={self.hidden_size}, vocab_size={self.vocab_size}, "
                f"mesh={mesh[0]}x{mesh[1]}, numerics={self._numerics!r}, "
                f"kernels={self.kernel_name!r})")


__all__ = ["LMHead"]
