"""NumPy arrays in msgpack, encoded exactly as `openpi_client.msgpack_numpy` encodes them.

An array travels as a map {b"__ndarray__": True, b"data": raw bytes (C order),
b"dtype": dtype.str such as "<f4" or "|u1", b"shape": [dims]}; a NumPy scalar as
{b"__npgeneric__": True, b"data": its Python value, b"dtype": dtype.str}. The keys are msgpack
*bin* (bytes), not str, which is how openpi tells them apart from user keys. Object, void and
complex dtypes are refused: unlike msgpack-numpy we never fall back to pickle, so decoding a
frame from an untrusted peer cannot run code. Decoded arrays are read-only views of the frame.
"""

from __future__ import annotations

import functools
from typing import Any

import msgpack
import numpy as np

REFUSED_KINDS = ("V", "O", "c")  # void, object, complex: openpi refuses the same kinds


def pack_array(obj: Any) -> Any:
    """msgpack's `default` hook: a NumPy array or scalar as the map openpi expects."""
    if isinstance(obj, np.ndarray | np.generic) and obj.dtype.kind in REFUSED_KINDS:
        raise ValueError(f"Unsupported dtype: {obj.dtype}")
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str,
                b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def unpack_array(obj: dict) -> Any:
    """msgpack's `object_hook`: turn openpi's array and scalar maps back into NumPy."""
    if b"__ndarray__" in obj:
        dtype = _dtype(obj[b"dtype"])
        return np.ndarray(buffer=obj[b"data"], dtype=dtype, shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return _dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def _dtype(text: Any) -> np.dtype:
    dtype = np.dtype(text)
    if dtype.kind in REFUSED_KINDS:
        raise ValueError(f"Unsupported dtype: {dtype}")
    return dtype


Packer = functools.partial(msgpack.Packer, default=pack_array)
packb = functools.partial(msgpack.packb, default=pack_array)
Unpacker = functools.partial(msgpack.Unpacker, object_hook=unpack_array)
unpackb = functools.partial(msgpack.unpackb, object_hook=unpack_array)
