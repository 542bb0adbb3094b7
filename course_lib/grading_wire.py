r"""Plain-data messages between the grader and the sandboxed submission.

The grading process and the sandboxed process that runs a submission talk
through two pipes.  Every message is one *frame*: an 8-byte big-endian length,
then that many bytes of UTF-8 JSON.  Nothing in a frame can run code when read:
JSON values, plus these tagged objects (``{"$": tag, ...}``):

* ``nd``: a NumPy array (``"jax": true`` if it was a JAX array: it is rebuilt as one), ``{"$": "nd", "dtype": "<f8", "shape": [2, 3], "data": base64}``;
  only boolean, integer, unsigned, floating and complex dtypes are accepted
  (never ``object``: the bytes are read with :func:`numpy.frombuffer`);
* ``key``: a JAX PRNG key array, as its ``nd`` key data and the implementation name;
* ``tuple``, ``dict`` (keys: strings, numbers, tuples), ``ellipsis``;
* ``obj``: a data container of ``course_lib`` (a NamedTuple or dataclass of a public
  ``course_lib`` module, e.g. ``landscapes.FiniteSum``), rebuilt from its plain-data fields;
* ``ref``: an opaque handle to an object that stays in the sandbox (a function,
  or an object that is not plain data), with its kind and type name;
* ``exc``: an exception caught in the sandbox: its type name, first message
  line and the student's source line (strings only).

:func:`encode` runs in the sandbox (it may see anything) and turns objects into
this form; :func:`decode` runs in the grading process and accepts *only* this
form, with limits on size and nesting.
"""

from __future__ import annotations

import base64
import json
import math
import os
import select
import struct
import time
from typing import Any, Callable

import numpy as np

__all__ = ["Ref", "RemoteException", "WireError", "encode", "decode", "write_frame", "read_frame"]

MAX_FRAME = 64 * 2**20  # bytes in one message
MAX_DEPTH = 20
_HEADER = struct.Struct(">Q")
_KINDS = set("biufc")  # bool, int, unsigned, float, complex


class WireError(ValueError):
    """A malformed or oversized message from the sandbox."""


class Ref:
    """Handle of an object kept in the sandbox (decoded form of a ``ref`` frame)."""

    __slots__ = ("id", "kind", "type_name", "name")

    def __init__(self, id: int, kind: str, type_name: str, name: str):
        self.id, self.kind, self.type_name, self.name = id, kind, type_name, name

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name or self.type_name} in the submission>"


class RemoteException:
    """An exception caught in the sandbox: type name, message and the student's line (plain strings)."""

    __slots__ = ("type_name", "message", "line")

    def __init__(self, type_name: str, message: str, line: str):
        self.type_name, self.message, self.line = type_name, message, line


# ---------------------------------------------------------------- sandbox side


def encode(obj: Any, make_ref: Callable[[Any], dict], depth: int = 0) -> Any:
    """JSON-ready plain-data form of ``obj`` (sandbox side); objects that are not data become ``make_ref(obj)``."""
    if depth > MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if obj is None or type(obj) is bool or type(obj) is str:
        return obj
    if obj is Ellipsis:
        return {"$": "ellipsis"}
    if type(obj) is int:
        return obj if abs(obj) < 2**63 else float(obj)
    if type(obj) is float:
        return {"$": "nd", **_array_fields(np.asarray(obj))} if not math.isfinite(obj) else obj
    if type(obj) is complex or isinstance(obj, np.generic):
        return {"$": "nd", **_array_fields(np.asarray(obj)), "scalar": True}
    if type(obj) is tuple or type(obj) is list:
        items = [encode(x, make_ref, depth + 1) for x in obj]
        return items if type(obj) is list else {"$": "tuple", "items": items}
    if type(obj) is dict and all(type(k) in (str, int, float, bool, tuple) for k in obj):
        return {"$": "dict", "items": [[encode(k, make_ref, depth + 1), encode(v, make_ref, depth + 1)] for k, v in obj.items()]}
    fields = _data_fields(obj)
    if fields is not None:
        return {"$": "obj", "type": f"{type(obj).__module__}:{type(obj).__qualname__}",
                "fields": {"$": "dict", "items": [[k, encode(v, make_ref, depth + 1)] for k, v in fields.items()]}}
    if type(obj) is np.ndarray:
        if obj.dtype.kind in _KINDS:
            return {"$": "nd", **_array_fields(obj)}
        return make_ref(obj)
    jax_array = _jax_array_type()
    if jax_array is not None and isinstance(obj, jax_array):
        import jax

        if jax.dtypes.issubdtype(obj.dtype, jax.dtypes.prng_key):
            return {"$": "key", "impl": str(jax.random.key_impl(obj)), **_array_fields(np.asarray(jax.random.key_data(obj)))}
        arr = np.asarray(obj)
        if arr.dtype.kind in _KINDS and arr.dtype.itemsize in (1, 2, 4, 8, 16) and arr.dtype.name != "bfloat16":
            return {"$": "nd", "jax": True, **_array_fields(arr)}
        return {"$": "nd", "jax": True, **_array_fields(np.asarray(obj, dtype=np.float64))}
    return make_ref(obj)


def _data_fields(obj: Any) -> dict | None:
    """Fields of a course_lib data container (a NamedTuple or dataclass of course_lib), else None."""
    cls = type(obj)
    if not str(getattr(cls, "__module__", "")).startswith("course_lib."):
        return None
    import dataclasses

    if isinstance(obj, tuple) and hasattr(cls, "_fields"):
        return {k: getattr(obj, k) for k in cls._fields}
    if dataclasses.is_dataclass(obj):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}
    return None


def _data_class(name: str) -> type:
    """The course_lib data container class named ``module:qualname`` (only public course_lib modules)."""
    import dataclasses
    import importlib

    import course_lib

    module, _, qualname = name.partition(":")
    parts = module.split(".")
    public = len(parts) == 2 and parts[1] in course_lib.__all__ and parts[1] != "chapters"
    if len(parts) == 3 and parts[1] == "chapters":   # the chapter layer's data types (e.g. chapters.ode:Kink)
        from course_lib import chapters

        public = parts[2] in chapters.__all__
    if not public or parts[0] != "course_lib" or "." in qualname:
        raise WireError(f"unknown object type {name[:80]!r}")
    cls = getattr(importlib.import_module(module), qualname, None)
    if not isinstance(cls, type) or not (dataclasses.is_dataclass(cls) or (issubclass(cls, tuple) and hasattr(cls, "_fields"))):
        raise WireError(f"{name[:80]!r} is not a course_lib data type")
    return cls


def _jax_array_type():
    import sys

    jax = sys.modules.get("jax")
    return getattr(jax, "Array", None) if jax is not None else None


def _array_fields(arr: np.ndarray) -> dict:
    arr = np.array(arr, order="C", copy=True)  # (ascontiguousarray would make 0-d arrays 1-d)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return {"dtype": arr.dtype.str, "shape": list(arr.shape), "data": base64.b64encode(arr.tobytes()).decode("ascii")}


# ---------------------------------------------------------------- grader side


def decode(data: Any, depth: int = 0) -> Any:
    """Python value of a decoded JSON message (grading side): only the forms listed in the module docstring."""
    if depth > MAX_DEPTH:
        raise WireError("message nested too deeply")
    if data is None or isinstance(data, (bool, str)):
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, list):
        return [decode(x, depth + 1) for x in data]
    if not isinstance(data, dict):
        raise WireError(f"unexpected value of type {type(data).__name__}")
    tag = data.get("$")
    if tag == "ellipsis":
        return Ellipsis
    if tag == "nd":
        arr = _decode_array(data)
        if data.get("jax") is True:  # a JAX array stays one (plain data either way)
            import jax.numpy as jnp

            return jnp.asarray(arr)
        return arr[()] if data.get("scalar") else arr
    if tag == "key":
        import jax

        impl = data.get("impl")
        if not isinstance(impl, str) or len(impl) > 50:
            raise WireError("bad key implementation")
        return jax.random.wrap_key_data(_decode_array(data), impl=_key_impl(impl))
    if tag == "tuple":
        return tuple(decode(x, depth + 1) for x in _list(data.get("items")))
    if tag == "dict":
        out = {}
        for item in _list(data.get("items")):
            if not (isinstance(item, list) and len(item) == 2):
                raise WireError("bad dict item")
            key = decode(item[0], depth + 1)
            if isinstance(key, np.ndarray) and key.ndim == 0:
                key = key.item()
            if not isinstance(key, (str, int, float, bool, tuple)):
                raise WireError("bad dict key")
            out[key] = decode(item[1], depth + 1)
        return out
    if tag == "obj":
        cls, fields = _data_class(str(data.get("type"))), decode(data.get("fields"), depth + 1)
        if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
            raise WireError("bad object fields")
        try:
            return cls(**fields)
        except Exception as exc:
            raise WireError(f"cannot rebuild a {cls.__name__}: {exc}") from None
    if tag == "ref":
        rid, kind, tname, name = data.get("id"), data.get("kind"), data.get("type"), data.get("name")
        if not (isinstance(rid, int) and kind in ("function", "object") and isinstance(tname, str) and isinstance(name, str)):
            raise WireError("bad ref")
        return Ref(rid, kind, tname[:100], name[:100])
    if tag == "exc":
        fields = [data.get(k) for k in ("type", "message", "line")]
        if not all(isinstance(f, str) for f in fields):
            raise WireError("bad exception")
        return RemoteException(*(f[:300] for f in fields))
    raise WireError(f"unknown tag {str(tag)[:20]!r}")


def _key_impl(name: str) -> str:
    for impl in ("threefry2x32", "rbg", "unsafe_rbg"):
        if impl in name:
            return impl
    raise WireError(f"unknown PRNG implementation {name[:50]!r}")


def _list(x: Any) -> list:
    if not isinstance(x, list):
        raise WireError("expected a list")
    return x


def _decode_array(data: dict) -> np.ndarray:
    dtype, shape, raw = data.get("dtype"), data.get("shape"), data.get("data")
    if not (isinstance(dtype, str) and isinstance(shape, list) and isinstance(raw, str)):
        raise WireError("bad array")
    if not all(isinstance(s, int) and 0 <= s for s in shape) or len(shape) > 32:
        raise WireError("bad array shape")
    dt = np.dtype(dtype)
    if dt.kind not in _KINDS or dt.hasobject or dt.fields is not None:
        raise WireError(f"array dtype {dtype!r} is not numeric")
    buf = base64.b64decode(raw, validate=True)
    if len(buf) != math.prod(shape) * dt.itemsize:
        raise WireError("array data does not match its shape")
    return np.frombuffer(buf, dtype=dt).reshape(shape).copy()


# ---------------------------------------------------------------- frames


def write_frame(fd: int, message: Any) -> None:
    """Write one JSON message to the file descriptor ``fd``."""
    payload = json.dumps(message, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(payload) > MAX_FRAME:
        raise ValueError(f"message of {len(payload)} bytes exceeds the limit of {MAX_FRAME}")
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer before the time limit")
        chunk = os.read(fd, min(n - got, 2**20))
        if not chunk:
            raise EOFError("the submission's process ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None, raw: bool = False) -> Any:
    """Read one message from ``fd`` before ``deadline`` (``time.monotonic()``); ``raw``: the parsed JSON only."""
    (n,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    if n > MAX_FRAME:
        raise WireError(f"answer of {n} bytes exceeds the limit of {MAX_FRAME} bytes")
    try:
        data = json.loads(_read_exact(fd, n, deadline).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"malformed answer: {str(exc)[:200]}") from None
    return data if raw else decode(data)
