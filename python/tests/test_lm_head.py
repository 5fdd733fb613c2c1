# SPDX-License-Identifier: Apache-2.0
"""LMHead against torch: parity on the dequantised weights (fp32), and TT's own acceptance test
(tt-lofi against the unquantised nn.Linear, comp_pcc >= 0.98) reproduced."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import lmhead
from conftest import HIDDEN, MESH, VOCAB, pcc, reference_dequantized, write_checkpoint

NUM_DEVICES = MESH[0] * MESH[1]


def assert_within(got, want, bound, what):
    """|got - want| <= bound everywhere; on failure names the worst coordinate."""
    excess = (got.double() - want).abs() - bound
    worst = int(excess.argmax())
    index = np.unravel_index(worst, tuple(excess.shape))
    assert excess.max() <= 0, (f"{what}: at {index} got {got.reshape(-1)[worst].item()}, "
                               f"want {want.reshape(-1)[worst].item()} +- "
                               f"{bound.reshape(-1)[worst].item()}")


def test_dequantize_is_tt_bfloat4_b_of_the_checkpoint(weights, head_weight):
    expected = reference_dequantized(head_weight, NUM_DEVICES)
    got = lmhead.dequantize(weights)
    assert got.shape == (VOCAB, HIDDEN) and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode,rows", [("decode", 1), ("decode", 7), ("decode", 32),
                                       ("prefill", 33), ("prefill", 1100)])
def test_fp32_matches_torch_linear_on_dequantised_weights(fp32_head, head_weight, mode, rows):
    torch.manual_seed(rows)
    x = torch.randn(1, 1, rows, HIDDEN)
    out = fp32_head.decode(x) if mode == "decode" else fp32_head.prefill(x)
    assert isinstance(out, torch.Tensor)
    assert out.shape == (1, 1, rows, VOCAB) and out.dtype == torch.float32
    weight = torch.from_numpy(reference_dequantized(head_weight, NUM_DEVICES))
    x_bf16 = x.to(torch.bfloat16).double()  # fp32 numerics take bf16 activations.
    expected = F.linear(x_bf16, weight)
    assert pcc(out, expected) >= 0.99999
    # fp32 accumulation of H products: |error| <= H * 2^-24 * sum_k |x_k w_k| (the recursive
    # summation bound; blocked or wider accumulation only does better), plus the final rounding.
    bound = HIDDEN * 2.0**-24 * F.linear(x_bf16.abs(), weight.abs()) + expected.abs() * 2.0**-24
    assert_within(out, expected, bound, f"{mode} {rows} rows")


@pytest.fixture(scope="module")
def tt_test_model(tmp_path_factory):
    """TT's test_lm_head.py setup: torch.manual_seed(0), an fp32 nn.Linear(H, V, bias=False)
    with the default init as the reference, its weight converted for a 4x8 mesh, input row 3."""
    torch.manual_seed(0)
    reference = torch.nn.Linear(HIDDEN, VOCAB, bias=False)
    root = tmp_path_factory.mktemp("tt_test")
    write_checkpoint(root / "ckpt", reference.weight.detach().numpy())
    lmhead.convert(root / "ckpt", root / "weights", mesh=MESH)
    head = lmhead.LMHead.load(root / "weights", numerics="tt-lofi", input_row_idx=3)
    return reference, head


def tt_comp_pcc(golden, calculated):
    """TT's comp_pcc value, step by step as shared/spec/ttnn-lmhead.md §6 gives it (torch and
    numpy.ma, independent of lmhead)."""
    if golden.dtype != calculated.dtype:
        calculated = calculated.type(golden.dtype)
    golden_nan, calculated_nan = torch.all(torch.isnan(golden)), torch.all(torch.isnan(calculated))
    if golden_nan and calculated_nan:
        return 1.0
    if golden_nan or calculated_nan:
        return 0.0
    if bool(torch.all(golden == 0)) != bool(torch.all(calculated == 0)):
        return 0.0
    golden = torch.where(torch.isfinite(golden), golden, torch.zeros_like(golden))
    calculated = torch.where(torch.isfinite(calculated), calculated, torch.zeros_like(calculated))
    if torch.equal(golden, calculated):
        return 1.0
    golden, calculated = golden.float(), calculated.float()
    value = np.min(np.ma.corrcoef(np.ma.masked_invalid(golden.numpy().ravel()),
                                  np.ma.masked_invalid(calculated.numpy().ravel())))
    return 1.0 if isinstance(value, np.ma.core.MaskedConstant) else float(value)


@pytest.mark.parametrize("mode,seq_len", [("decode", 32), ("prefill", 1024), ("prefill", 2048)])
def test_tt_lm_head_acceptance(tt_test_model, mode, seq_len):
    reference, head = tt_test_model
    torch_input = torch.randn(1, 1, seq_len, HIDDEN)
    with torch.no_grad():
        expected = reference(torch_input)
    run = head.decode if mode == "decode" else head.prefill
    tt_output = run(torch_input).to(torch.bfloat16)  # ttnn.to_torch of the bf16 device output.
    assert tt_output.shape == (1, 1, seq_len, VOCAB)
    passing, value = lmhead.comp_pcc(tt_output, expected, 0.98)  # The device output is golden.
    assert passing, value
    assert value == pytest.approx(tt_comp_pcc(tt_output, expected), abs=1e-9)


def test_topk_argmax_logsumexp_match_torch_on_the_logits(fp32_head):
    torch.manual_seed(1)
    x = torch.randn(7, HIDDEN)
    logits = fp32_head.decode(x)
    values, ids = fp32_head.topk(x, 5)
    expected = torch.topk(logits, 5)
    assert ids.dtype == torch.int64 and torch.equal(ids, expected.indices)
    assert torch.equal(values, expected.values)
    assert torch.equal(fp32_head.argmax(x), logits.argmax(-1))
    torch.testing.assert_close(fp32_head.logsumexp(x), torch.logsumexp(logits.double(), -1),
                               rtol=1e-6, atol=0)


def test_prefill_reductions_and_last_token_only(lofi_head):
    torch.manual_seed(2)
    x = torch.randn(1, 1, 40, HIDDEN)
    logits = lofi_head.prefill(x)
    last = lofi_head.prefill(x, last_token_only=True)
    assert last.shape == (1, 1, 1, VOCAB)
    assert torch.equal(last[0, 0, 0], logits[0, 0, -1])
    values, ids = lofi_head.topk(x, 3, mode="prefill")
    assert ids.shape == (1, 1, 40, 3)
    assert torch.equal(values, torch.gather(logits, -1, ids))
    assert torch.equal(values[..., 0], logits.max(-1).values)


def test_numpy_torch_and_bfloat16_inputs_agree(fp32_head):
    x = torch.randn(32, HIDDEN).to(torch.bfloat16)
    from_bf16 = fp32_head.decode(x)
    from_float = fp32_head.decode(x.float())  # fp32 numerics round to bf16 first: identical.
    from_numpy = fp32_head.decode(x.float().numpy())
    from_bits = fp32_head.decode(x.view(torch.int16).numpy().view(np.uint16))
    assert isinstance(from_numpy, np.ndarray) and isinstance(from_bits, np.ndarray)
    assert torch.equal(from_bf16, from_float)
    np.testing.assert_array_equal(from_numpy, from_float.numpy())
    np.testing.assert_array_equal(from_bits, from_float.numpy())


def test_shapes_follow_the_input(fp32_head):
    x = np.random.default_rng(3).standard_normal((3, HIDDEN), dtype=np.float32)
    rows = fp32_head.decode(x)
    assert rows.shape == (3, VOCAB)
    np.testing.assert_array_equal(fp32_head.decode(x[1]), rows[1])
    np.testing.assert_array_equal(fp32_head.decode(x.reshape(1, 1, 3, HIDDEN))[0, 0], rows)
    assert fp32_head.topk(x[0], 4)[0].shape == (4,)
    assert fp32_head.argmax(x).shape == (3,)


def test_non_contiguous_inputs_give_the_contiguous_result(fp32_head):
    x = torch.randn(HIDDEN, 32).t()
    assert not x.is_contiguous()
    expected = fp32_head.decode(x.contiguous())
    assert torch.equal(fp32_head.decode(x), expected)
    np.testing.assert_array_equal(fp32_head.decode(np.asfortranarray(x.numpy())),
                                  expected.numpy())
    np.testing.assert_array_equal(
        fp32_head.decode(np.repeat(x.numpy(), 2, axis=1)[:, ::2]), expected.numpy())


def test_concurrent_calls_from_threads_agree(fp32_head):
    x = np.random.default_rng(4).standard_normal((32, HIDDEN), dtype=np.float32)
    expected = fp32_head.decode(x)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: fp32_head.decode(x), range(8)))
    for result in results:
        np.testing.assert_array_equal(result, expected)


def test_head_reports_its_plan(fp32_head):
    assert fp32_head.hidden_size == HIDDEN and fp32_head.vocab_size == VOCAB
    assert fp32_head.plan["mesh"]["shape"] == list(MESH)
    assert fp32_head.plan["weights"]["per_device_shape"] == [HIDDEN, VOCAB // 32]
    assert "fp32" in fp32_head.kernel_name and fp32_head.num_threads >= 1
    assert fp32_head.forward(np.zeros((2, HIDDEN), np.float32))["logits"].shape == (2, VOCAB)
