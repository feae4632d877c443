"""Every public function of ``autodiff_kit.numpy`` documents itself, for the API page.

Each has a docstring of its own (not the NumPy one that a primitive made from a NumPy
function copies), with its derivative rule as math (``$...$``) and an example (``>>>``) that
``--doctest-modules`` runs. Left out: the submodules, and NumPy's own objects that the module
re-exports unchanged (constants, dtypes, constructors of constant arrays, shape queries),
which keep NumPy's documentation.
"""

import doctest
import inspect
import sys

import numpy as np

import autodiff_kit.numpy as anp

NUMPY_OWN = {
    "pi", "e", "inf", "nan", "newaxis",
    "float16", "float32", "float64", "int32", "int64", "bool_", "ndarray",
    "zeros", "ones", "empty", "full", "eye", "identity", "arange", "linspace", "random",
    "shape", "ndim", "size", "allclose", "isclose",
}


def kit_functions() -> dict:
    """The public names of ``autodiff_kit.numpy`` that are the kit's own functions."""
    public = {name: getattr(anp, name) for name in dir(anp) if not name.startswith("_")}
    return {name: f for name, f in public.items() if name not in NUMPY_OWN and not inspect.ismodule(f)}


def test_the_names_left_out_are_numpy_s_own_objects():
    assert [name for name in sorted(NUMPY_OWN) if getattr(anp, name) is not getattr(np, name)] == []


def test_every_function_has_math_and_an_example():
    docs = {name: inspect.getdoc(f) or "" for name, f in kit_functions().items()}
    lacking = sorted(name for name, doc in docs.items() if ">>>" not in doc or "$" not in doc)
    assert not lacking, f"These lack an example (>>>) or math ($...$) in their docstring: {lacking}"


def test_no_function_shows_numpy_s_docstring():
    copied = sorted(name for name, f in kit_functions().items()
                    if hasattr(np, name) and inspect.getdoc(f) == inspect.getdoc(getattr(np, name)))
    assert not copied, f"These show NumPy's docstring instead of their own: {copied}"


def test_every_example_is_run_by_doctest_modules():
    modules = [module for name, module in sys.modules.items() if name.startswith("autodiff_kit.numpy")]
    tests = [test for module in modules for test in doctest.DocTestFinder().find(module)]
    found = {test.docstring for test in tests if test.examples}
    skipped = sorted(name for name, f in kit_functions().items() if f.__doc__ not in found)
    assert not skipped, f"doctest finds no examples for these (see __test__ in autodiff_kit.numpy): {skipped}"
