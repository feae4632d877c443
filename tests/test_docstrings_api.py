"""Every public name of the API reference has an example (``>>>``) in its docstring.

The reference (Sphinx autodoc) shows, for each module below, the names in its ``__all__``,
or else those it defines that do not start with ``_``; for a class, its public methods and
properties too. ``--doctest-modules`` runs every example, so here it is enough that each
docstring has one. ``autodiff_kit.numpy`` and ``autodiff_kit.widgets`` are documented apart.
"""

import importlib
import inspect

MODULES = ["autodiff_kit"] + [f"autodiff_kit.{name}" for name in (
    "api", "layers", "chain", "higher_order", "testing", "program", "render", "scalar", "primitives",
    "tracing", "custom", "checkpointing", "sparsity", "tree", "vspace", "examples", "datasets")]

# Records that only carry a result: their docstring says which function's example shows them.
RESULT_RECORDS = {
    "autodiff_kit.program.AdjointStep": "a group of Program.steps, in trace_program's example",
}


def public_names(module):
    """``(qualified name, object)`` of every public name of ``module`` (submodules aside)."""
    if hasattr(module, "__all__"):
        names = module.__all__
    else:
        names = [name for name, value in vars(module).items()
                 if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__]
    for name in names:
        value = getattr(module, name)
        if not inspect.ismodule(value):
            yield f"{module.__name__}.{name}", value


def public_members(cls):
    """The public methods and properties that ``cls`` itself defines."""
    for name, value in vars(cls).items():
        if not name.startswith("_") and (inspect.isfunction(value)
                                         or isinstance(value, (property, classmethod, staticmethod))):
            yield name, value


def documented():
    for module_name in MODULES:
        for qualified, value in public_names(importlib.import_module(module_name)):
            yield qualified, value
            if inspect.isclass(value):
                for name, member in public_members(value):
                    yield f"{qualified}.{name}", member


def test_the_names_are_found():
    names = dict(documented())
    for expected in ("autodiff_kit.grad", "autodiff_kit.tracing.Trace.record",
                     "autodiff_kit.program.Program.adjoint", "autodiff_kit.scalar.sin"):
        assert expected in names
    assert set(RESULT_RECORDS) <= set(names), "a listed record is no longer a public name"


def test_every_public_name_has_an_example():
    missing = [name for name, value in documented()
               if name not in RESULT_RECORDS and ">>>" not in (value.__doc__ or "")]
    assert not missing, "No example (>>>) in the docstring of:\n  " + "\n  ".join(missing)


def test_result_records_name_what_returns_them():
    for name in RESULT_RECORDS:
        module_name, _, attribute = name.rpartition(".")
        doc = getattr(importlib.import_module(module_name), attribute).__doc__ or ""
        assert "returned by" in doc, f"{name}: say which function returns it (\"returned by ...\")"
