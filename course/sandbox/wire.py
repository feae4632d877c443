"""Messages between the judge and the sandbox: plain data only, never pickles.

Unpickling runs code, so a judge that unpickled what student code sent it would hand that
code the grade. Messages are JSON instead, with NumPy arrays as their dtype, shape and raw
bytes (base64), tuples tagged so they stay tuples, and a probe's ``StudentError`` and
``Unreadable`` as tagged records. Decoding accepts numeric dtypes only and checks that the
bytes match the shape. Each message is framed by its length, and a frame larger than
``MAX_BYTES`` is refused.
"""

from __future__ import annotations

import base64
import json
import socket
import struct
from typing import Any

import numpy as np

from course.sandbox.plugin import StudentError, Unreadable

MAX_BYTES = 256 * 2**20
DTYPES = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}
HEADER = struct.Struct("!Q")


class WireError(Exception):
    """A message was malformed, too large, or the other end hung up."""


def encode(value: Any) -> Any:
    """``value`` as JSON-ready data."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray | np.generic):
        array = np.array(value, order="C")  # keeps 0-d arrays 0-d
        if array.dtype.name not in DTYPES:
            array = array.astype(np.float64)
        return {"__array__": array.dtype.name, "shape": list(array.shape),
                "data": base64.b64encode(array.tobytes()).decode("ascii")}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {"__dict__": [[str(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, StudentError):
        return {"__error__": [value.kind, value.message, value.line]}
    if isinstance(value, Unreadable):
        return {"__unreadable__": value.kind}
    raise TypeError(f"Cannot send a {type(value).__name__}.")


def decode(data: Any) -> Any:
    """The value ``encode`` was given, rebuilt from JSON data only."""
    if data is None or type(data) in (bool, int, float, str):
        return data
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict) or len(data) not in (1, 3):
        raise WireError("A message held an unexpected object.")
    if "__array__" in data:
        dtype, shape = data["__array__"], data["shape"]
        if dtype not in DTYPES or not all(type(n) is int and n >= 0 for n in shape):
            raise WireError(f"An array of dtype {dtype!r} and shape {shape!r} is not accepted.")
        raw = base64.b64decode(data["data"], validate=True)
        if len(raw) != int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize:
            raise WireError("An array's bytes do not match its shape.")
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    if "__tuple__" in data:
        return tuple(decode(item) for item in data["__tuple__"])
    if "__dict__" in data:
        return {str(key): decode(item) for key, item in data["__dict__"]}
    if "__error__" in data:
        kind, message, line = (str(part)[:2000] for part in data["__error__"])
        return StudentError(kind, message, line)
    if "__unreadable__" in data:
        return Unreadable(str(data["__unreadable__"])[:200])
    raise WireError("A message held an unexpected object.")


def send(sock: socket.socket, message: dict) -> None:
    body = json.dumps({key: encode(value) for key, value in message.items()}).encode()
    if len(body) > MAX_BYTES:
        body = json.dumps({"kind": "too_large", "bytes": len(body)}).encode()
    sock.sendall(HEADER.pack(len(body)) + body)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 2**20))
        if not chunk:
            raise WireError("The other end closed the connection.")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def receive(sock: socket.socket) -> dict:
    """The next message (a dict), or ``WireError``; the socket's own timeout applies."""
    (size,) = HEADER.unpack(_read_exactly(sock, HEADER.size))
    if size > MAX_BYTES:
        raise WireError(f"A message of {size} bytes is larger than allowed.")
    try:
        message = json.loads(_read_exactly(sock, size))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise WireError(f"A message was not JSON: {error}") from None
    if not isinstance(message, dict):
        raise WireError("A message was not a JSON object.")
    return {str(key): decode(value) for key, value in message.items()}
