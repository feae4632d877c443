"""The student side of a check: call the student's code on given inputs, return plain data.

A check is split in two. The judge (``grader_tests.checks``) draws the inputs and decides
the grade; a *probe*, defined here, is the only part that touches the student's code. It
receives plain data (arrays, numbers, strings, tuples, lists, dicts), calls what the
student defined, and returns plain data again: whatever the student returns is copied into
fresh NumPy arrays and Python numbers by ``to_plain``, so no object of the student's (with an
``__eq__`` that always says yes, say) reaches the judge. A probe may ask the judge for
something it must not hold itself (the product ``J v`` of a matrix it never sees, one
matrix product of a chain) through ``ask(request, payload)``; the judge answers and keeps
count. This package imports nothing from the judge, so it can run where the hidden tests
are out of reach: it is the sandbox side of the grading engine's plugin (``grader_tests.plugin``).
"""

from __future__ import annotations

import contextlib
import io
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from course.sandbox.plugin import StudentError, Unreadable
from grader_tests.twins import disable

# The engine's sandbox side (``course.sandbox.plugin``): run, to_plain and disable, and the packages
# the sandbox imports before it closes (the probes of each assignment, and the kit they call).
PRELOAD = ("autodiff_kit", "grader_tests.probes")

Ask = Callable[[str, Any], Any]
Probe = Callable[[dict, dict, Ask], Any]

PROBES: dict[str, Probe] = {}


def probe(name: str) -> Callable[[Probe], Probe]:
    """Register ``fn(namespace, args, ask)`` as the probe called ``name``."""
    def register(fn: Probe) -> Probe:
        PROBES[name] = fn
        return fn
    return register


def to_plain(value: Any) -> Any:
    """``value`` rebuilt from NumPy arrays, Python scalars, tuples, lists and dicts only.

    Arrays (subclasses too) are copied into base ``ndarray``s of their float or integer
    dtype, so float32 results stay float32 and can be judged with a looser tolerance.
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, StudentError | Unreadable):
        return value
    if isinstance(value, tuple | list):
        items = [to_plain(item) for item in value]
        return tuple(items) if isinstance(value, tuple) else items
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    try:
        array = np.array(value, subok=False)
    except Exception:
        return Unreadable(type(value).__name__)
    if array.dtype.kind in "biuf":
        return array.astype(array.dtype if array.dtype.kind == "f" else np.float64, copy=True)
    try:
        return np.array(value, dtype=np.float64, subok=False)
    except Exception:
        return Unreadable(type(value).__name__)


@contextlib.contextmanager
def substituted(namespace: dict, replacements: dict) -> Iterator[None]:
    """Bind ``replacements`` in ``namespace`` while the block runs, then restore what was there.

    A probe lends the student the kit's reference for the *other* graded functions this
    way, so that each function is judged on its own.
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in replacements}
    namespace.update(replacements)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


def student_function(namespace: dict, name: str) -> Callable:
    """The function ``name`` the student defined, or a ``NameError`` that says what to do."""
    fn = namespace.get(name)
    if fn is None:
        raise NameError(f"`{name}` is not defined. Run the cell that defines it, and keep its name "
                        f"and signature as given.")
    if not callable(fn):
        raise TypeError(f"`{name}` should be a function, but it is a {type(fn).__name__}.")
    return fn


def run(name: str, namespace: dict, args: dict, ask: Ask) -> Any:
    """Run probe ``name`` quietly: its result as plain data, or a ``StudentError``.

    Warnings are silenced and stderr captured, because in a notebook any text on stderr
    would zero the test cell; a failure is reported as data, with the student's line.
    """
    with contextlib.ExitStack() as stack:
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        stack.enter_context(np.errstate(all="ignore"))
        stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
        try:
            return to_plain(PROBES[name](namespace, args, ask))
        except RecursionError:
            return StudentError("RecursionError", "maximum recursion depth exceeded")
        except Exception as error:
            return StudentError(type(error).__name__, str(error), _student_line(error))


def _student_line(error: BaseException) -> str:
    """The last line of the traceback that is the student's: in a notebook cell, not in a library."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        in_library = any(part in frame.filename for part in ("autodiff_kit", "grader_tests", "site-packages",
                                                            "/lib/python"))
        if frame.line and not in_library:
            return frame.line.strip()
    return ""


@probe("call")
def call(namespace: dict, args: dict, ask: Ask) -> Any:
    """``function(*args)``: the plainest probe."""
    return student_function(namespace, args["function"])(*args["args"])


from grader_tests.probes import (  # noqa: E402
    a01_jacobians,
    a02_orderings,
    a03_layer_vjps,
    a04_modes,
    a05_higher_order,
    a06_primitives,
)
