# SPDX-License-Identifier: Apache-2.0
"""`lmhead synth|convert|inspect` on checkpoints written by HuggingFace's safetensors package.

The expected shard contents come from bfp_reference.py (numpy float64, written from the spec),
never from lmhead itself.
"""
import json
import resource
import signal

import numpy as np
import pytest
from safetensors import safe_open, serialize_file

from lmhead_cli import lmhead
from bfp_reference import (BFP4_BITS, BFP8_BITS, bfloat16_bits_to_float32,
                           device_slice_reference, float32_to_bfloat16_bits)





def trained_like_head(vocab, hidden, seed):
    """Student-t elements (heavy tails) with log-normal row scales, like a trained head."""
    rng = np.random.default_rng(seed)
    rows = np.exp(rng.normal(0.0, 0.35, size=(vocab, 1))) * 0.02
    return (rng.standard_t(df=4, size=(vocab, hidden)) * rows).astype(np.float32)


def write_tensors(path, tensors):
    """Writes {name: (numpy array, dtype)} with HF's serializer; dtype is bf16, f16 or f32.

    numpy has no bfloat16, so bf16 tensors reach HF's serializer as raw bit patterns under the
    dtype name "bfloat16", which is what safetensors.torch passes for torch.bfloat16.
    """
    items = [(name, np.ascontiguousarray(array), "bfloat16" if dtype == "bf16" else None)
             for name, (array, dtype) in tensors.items()]
    try:
        from safetensors import TensorSpec  # safetensors >= 0.7
        specs = {name: TensorSpec(dtype=dtype or array.dtype.name, shape=array.shape,
                                  data_ptr=array.ctypes.data, data_len=array.nbytes)
                 for name, array, dtype in items}
    except ImportError:  # Older releases take the bytes themselves.
        specs = {name: {"dtype": dtype or array.dtype.name, "shape": array.shape,
                        "data": array.tobytes()} for name, array, dtype in items}
    serialize_file(specs, str(path), metadata={"format": "pt"})


def write_checkpoint(directory, w, dtype, layout, name="lm_head.weight", tied=False):
    """An HF checkpoint of head `w` [V, H]; returns the head as the float32 values stored."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab, hidden = w.shape
    if dtype == "bf16":
        stored = float32_to_bfloat16_bits(w)
        values = bfloat16_bits_to_float32(stored)
    elif dtype == "f16":
        stored = w.astype(np.float16)
        values = stored.astype(np.float32)
    else:
        stored, values = w, w
    norm = np.ones(hidden, dtype=np.float32)
    if layout == "single":
        write_tensors(directory / "model.safetensors",
                      {name: (stored, dtype), "model.norm.weight": (norm, "f32")})
    else:  # Index form, the head in the middle of three files, as in a real sharded checkpoint.
        files = [f"model-0000{i}-of-00003.safetensors" for i in (1, 2, 3)]
        write_tensors(directory / files[0], {"model.layers.0.mlp.weight": (norm, "f32")})
        write_tensors(directory / files[1], {name: (stored, dtype)})
        write_tensors(directory / files[2], {"model.norm.weight": (norm, "f32")})
        weight_map = {"model.layers.0.mlp.weight": files[0], name: files[1],
                      "model.norm.weight": files[2]}
        (directory / "model.safetensors.index.json").write_text(
            json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map}))
    config = {"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
              "hidden_size": hidden, "vocab_size": vocab, "tie_word_embeddings": tied,
              "torch_dtype": {"bf16": "bfloat16", "f16": "float16", "f32": "float32"}[dtype]}
    (directory / "config.json").write_text(json.dumps(config))
    return values


def dump_device(tmp_path, wdir, device):
    out = tmp_path / f"device_{device}.npy"
    result = lmhead("inspect", wdir, "--device", device, "--dump-npy", out)
    assert result.returncode == 0, result.stderr
    return np.load(out)


CASES = [
    # (mesh, vocab, hidden, checkpoint dtype, layout, tile format)
    ("1x1", 4096, 256, "bf16", "single", "bfp4_b"),
    ("2x4", 4096, 256, "bf16", "index", "bfp4_b"),
    ("4x8", 4096, 256, "f32", "single", "bfp4_b"),
    ("2x4", 1000, 256, "f16", "index", "bfp4_b"),  # 125 columns per device: not 32 * banks
    ("1x8", 2048, 128, "bf16", "single", "bfp8_b"),
]


@pytest.mark.parametrize("mesh,vocab,hidden,dtype,layout,fmt", CASES)
def test_convert_matches_numpy_reference(tmp_path, mesh, vocab, hidden, dtype, layout, fmt):
    w = trained_like_head(vocab, hidden, seed=vocab + hidden)
    values = write_checkpoint(tmp_path / "ckpt", w, dtype, layout)
    wdir = tmp_path / "weights"
    result = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", mesh, "--out", wdir,
                    "--format", fmt)
    assert result.returncode == 0, result.stderr
    rows, cols = map(int, mesh.split("x"))
    num_devices = rows * cols
    inspect = lmhead("inspect", wdir)
    assert inspect.returncode == 0, inspect.stderr
    assert f"all {num_devices} shards verified" in inspect.stdout
    manifest = json.loads((wdir / "manifest.json").read_text())
    assert manifest["source"]["dtype"] == dtype.upper()
    assert manifest["source"]["shape"] == [vocab, hidden]
    assert [s["mesh_coord"] for s in manifest["shards"]] == [
        [k // cols, k % cols] for k in range(num_devices)]
    bits = BFP4_BITS if fmt == "bfp4_b" else BFP8_BITS
    for device in sorted({0, num_devices // 2, num_devices - 1}):
        got = dump_device(tmp_path, wdir, device)
        want = device_slice_reference(values, device, num_devices, bits)
        assert got.dtype == np.float32 and got.shape == (hidden, vocab // num_devices)
        mismatch = np.argwhere(got.astype(np.float64) != want)
        assert mismatch.size == 0, f"device {device}: first mismatch at {mismatch[0]}"


def test_pad_vocab_tied_embedding(tmp_path):
    w = trained_like_head(1000, 64, seed=3)
    values = write_checkpoint(tmp_path / "ckpt", w, "bf16", "single",
                              name="model.embed_tokens.weight", tied=True)
    wdir = tmp_path / "weights"
    refused = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "4x8", "--out", wdir)
    assert refused.returncode == 1
    assert "--pad-vocab" in refused.stderr and "vocab 1024" in refused.stderr
    result = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "4x8", "--out", wdir,
                    "--pad-vocab", "-q")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((wdir / "manifest.json").read_text())
    assert manifest["model"]["pad_vocab_cols"] == 24
    assert manifest["source"]["tensor"] == "model.embed_tokens.weight"
    assert manifest["shards"][31]["valid_cols"] == 8
    got = dump_device(tmp_path, wdir, 31)
    assert np.array_equal(got, device_slice_reference(values, 31, 32, BFP4_BITS, 1024))
    assert not got[:, 8:].any()


def test_inspect_names_a_corrupted_shard(tmp_path):
    write_checkpoint(tmp_path / "ckpt", trained_like_head(512, 64, seed=1), "bf16", "single")
    wdir = tmp_path / "weights"
    assert lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "2x2", "--out", wdir,
                  "-q").returncode == 0
    shard = wdir / "device_002.shard"
    data = bytearray(shard.read_bytes())
    data[-100] ^= 0x01
    shard.write_bytes(bytes(data))
    result = lmhead("inspect", wdir)
    assert result.returncode == 1
    assert "device_002.shard" in result.stderr and "1 of 4 shards failed" in result.stderr
    # A re-run rebuilds exactly that shard.
    rerun = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "2x2", "--out", wdir,
                   "-q")
    assert "1 written, 3 reused" in rerun.stdout
    assert lmhead("inspect", wdir).returncode == 0


def test_errors_are_named(tmp_path):
    w = trained_like_head(256, 64, seed=2)
    w[100, 7] = np.nan
    write_checkpoint(tmp_path / "ckpt", w, "f32", "single")
    result = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "1x2",
                    "--out", tmp_path / "w")
    assert result.returncode == 1
    assert "row 100 (vocab id), column 7" in result.stderr
    missing = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "1x2", "--out",
                     tmp_path / "w", "--tensor", "output.weight")
    assert missing.returncode == 1 and "lm_head.weight" in missing.stderr
    assert not list((tmp_path / "w").glob("*"))


def test_full_disk_leaves_no_files(tmp_path):
    write_checkpoint(tmp_path / "ckpt", trained_like_head(2048, 128, seed=4), "bf16", "single")

    def limit_file_size():  # Writes past 20 kB fail with EFBIG, as they would with ENOSPC.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))

    result = lmhead("convert", "--checkpoint", tmp_path / "ckpt", "--mesh", "1x2", "--out",
                    tmp_path / "w", preexec_fn=limit_file_size)
    assert result.returncode == 1
    assert "file size limit" in result.stderr
    assert not list((tmp_path / "w").glob("*"))


def test_synth_writes_files_hf_reads(tmp_path):
    ckpt = tmp_path / "synth"
    result = lmhead("synth", "--hidden-size", 64, "--vocab-size", 300, "--out", ckpt,
                    "--shards", 3, "--dtype", "f32", "--seed", 5)
    assert result.returncode == 0, result.stderr
    index = json.loads((ckpt / "model.safetensors.index.json").read_text())
    head_file = index["weight_map"]["lm_head.weight"]
    with safe_open(str(ckpt / head_file), "np") as f:
        assert f.metadata() == {"format": "pt"}
        head = f.get_tensor("lm_head.weight")
    assert head.shape == (300, 64) and head.dtype == np.float32
    assert 0.005 < head.std() < 0.05
    config = json.loads((ckpt / "config.json").read_text())
    assert (config["hidden_size"], config["vocab_size"]) == (64, 300)
    listing = lmhead("inspect", ckpt)
    assert listing.returncode == 0 and "index form" in listing.stdout
    assert "lm_head.weight" in listing.stdout and "[300, 64]" in listing.stdout
