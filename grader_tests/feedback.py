"""Comparing a student's answer with the truth, and saying what is wrong in one sentence.

A bare ``assert np.allclose(got, expected)`` tells a student only that something is off.
``expect_close`` says which output, what shape it has and should have, the largest error
and where it is, and names the likely cause when the error has a recognisable pattern:
a flipped sign, a transposed matrix, a constant factor (a missing mean over the batch, a
missing 2), NaNs from an unstable formula, or ``None`` from a forgotten ``return``.
"""

from __future__ import annotations

import numpy as np

from autodiff_kit.testing import likely_slip


class GradingError(AssertionError):
    """A check failed; the message is written for the student."""


def as_float_array(value: object, name: str) -> np.ndarray:
    """``value`` as a float64 array, or a ``GradingError`` saying why it cannot be one."""
    if value is None:
        raise GradingError(f"{name} is None: did the function forget to `return` its result?")
    if isinstance(value, tuple | list) and any(isinstance(v, np.ndarray) and v.ndim > 0 for v in value):
        raise GradingError(f"{name} is a {type(value).__name__} of {len(value)} arrays, "
                           "but one array was expected.")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise GradingError(f"{name} should be a float array, but it is a {type(value).__name__} "
                           f"that NumPy cannot read as numbers ({error}).") from None
    return array


def tolerance_for(value: object) -> float:
    """Relative tolerance: tight for float64 results, looser if the student worked in float32."""
    return 2e-4 if getattr(value, "dtype", None) == np.float32 else 1e-6


def expect_shape(got: np.ndarray, shape: tuple, name: str, why: str = "") -> None:
    """A ``GradingError`` unless ``got`` has ``shape``; ``why`` explains where the shape comes from."""
    if got.shape == tuple(shape):
        return
    reason = f" ({why})" if why else ""
    hint = ""
    if got.shape == tuple(reversed(shape)) and len(shape) == 2:
        hint = " It looks transposed."
    elif got.size == int(np.prod(shape)):
        hint = " It has the right number of entries, so a reshape or a transpose is missing."
    elif got.ndim == len(shape) + 1 and got.shape[1:] == tuple(shape):
        hint = f" It keeps a leading axis of length {got.shape[0]}: sum over the batch axis."
    expected = tuple(shape)
    raise GradingError(f"{name} has shape {got.shape}, but it should have shape {expected}{reason}.{hint}")


def expect_close(got: object, expected: np.ndarray, name: str, *, why_shape: str = "",
                 rtol: float | None = None, atol: float = 1e-9) -> None:
    """A ``GradingError`` unless ``got`` equals ``expected`` within tolerance, with a diagnosis."""
    rtol = tolerance_for(got) if rtol is None else rtol
    array = as_float_array(got, name)
    expected = np.asarray(expected, dtype=np.float64)
    expect_shape(array, expected.shape, name, why_shape)
    if not np.all(np.isfinite(array)) and np.all(np.isfinite(expected)):
        raise GradingError(f"{name} contains NaN or infinite values where the answer is finite. "
                           f"{likely_slip(array, expected, rtol, atol)}")
    if np.allclose(array, expected, rtol=rtol, atol=atol):
        return
    error = np.abs(array - expected)
    where = np.unravel_index(np.argmax(error), error.shape) if error.ndim else ()
    at = f" at index {tuple(int(i) for i in where)}" if where else ""
    message = (f"{name} is wrong: the largest error is {error[where]:.3g}{at}, where the answer is "
               f"{expected[where]:.6g} but the function returned {array[where]:.6g}.")
    cause = likely_slip(array, expected, rtol, atol)
    raise GradingError(message + (f" {cause}" if cause else ""))


