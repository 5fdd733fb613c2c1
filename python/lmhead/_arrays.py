# SPDX-License-Identifier: Apache-2.0
"""numpy arrays and torch tensors in and out of the extension, without copies where possible.

The extension takes C-contiguous numpy arrays: float32, or uint16 holding bfloat16 bit patterns
(numpy has no bfloat16). A contiguous CPU torch tensor becomes such an array through
`Tensor.numpy()`, which shares its memory; a bfloat16 tensor is first reinterpreted as int16
with `Tensor.view`, which shares it too. Only non-contiguous inputs are copied.
"""
import operator
import sys

import numpy as np

# Numpy dtypes that carry bfloat16 values: ml_dtypes' bfloat16, and uint16 bit patterns.
_BF16_NAMES = ("bfloat16",)


def _torch():
    return sys.modules.get("torch")


def is_torch(value):
    """True for a torch.Tensor (without importing torch when the caller has not)."""
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def _from_torch(tensor, what):
    torch = _torch()
    tensor = tensor.detach()
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    if tensor.dtype == torch.float32:
        return tensor.contiguous().numpy()
    if tensor.dtype == torch.bfloat16:
        return tensor.contiguous().view(torch.int16).numpy().view(np.uint16)
    raise TypeError(f"{what} has dtype {tensor.dtype}; pass torch.float32 or torch.bfloat16")


def host_array(value, what):
    """`value` as a C-contiguous float32 or uint16 (bf16 bits) numpy array; (array, was_torch)."""
    if is_torch(value):
        return _from_torch(value, what), True
    array = np.asarray(value)
    if array.dtype.name in _BF16_NAMES:
        array = array.view(np.uint16)
    if array.dtype not in (np.float32, np.uint16):
        raise TypeError(
            f"{what} has dtype {array.dtype}; pass float32, or bfloat16 (a torch.bfloat16 "
            "tensor, or a numpy uint16 array holding bfloat16 bit patterns)")
    return np.ascontiguousarray(array), False


def float32_array(value, what):
    """`value` as float32 numpy (bfloat16 widened exactly); (array, was_bfloat16, was_torch)."""
    if is_torch(value):
        torch = _torch()
        tensor = value.detach().cpu()
        was_bf16 = tensor.dtype == torch.bfloat16
        return np.ascontiguousarray(tensor.float().numpy()), was_bf16, True
    array = np.asarray(value)
    if array.dtype.name in _BF16_NAMES or array.dtype == np.uint16:
        bits = np.ascontiguousarray(array).view(np.uint16)
        return (bits.astype(np.uint32) << 16).view(np.float32), True, False
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{what} has dtype {array.dtype}; pass a numeric array or tensor")
    return np.ascontiguousarray(array, dtype=np.float32), False, False


def byte_array(buffer, what):
    """Any C-contiguous buffer (bytes, bytearray, memoryview, numpy, torch) as uint8 numpy."""
    if is_torch(buffer):
        buffer = buffer.detach().cpu().contiguous().numpy()
    if isinstance(buffer, np.ndarray):
        return np.ascontiguousarray(buffer).reshape(-1).view(np.uint8)
    try:
        return np.frombuffer(buffer, dtype=np.uint8)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{what} is a {type(buffer).__name__}; pass bytes or a numpy array") \
            from error


def output(array, as_torch):
    """A result array, as a torch tensor sharing its memory when the input was torch."""
    if as_torch:
        return _torch().from_numpy(array)
    return array


def mesh_text(mesh):
    """(rows, cols) or "RxC" -> "RxC", the spelling ParseMeshShape reads."""
    if isinstance(mesh, str):
        return mesh
    try:
        rows, cols = mesh
        return f"{operator.index(rows)}x{operator.index(cols)}"
    except (TypeError, ValueError) as error:
        raise TypeError(f"mesh {mesh!r} is not (rows, cols) or 'RxC', e.g. (4, 8)") from error
