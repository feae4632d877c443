"""What each exercise may use is enforced: the kit's autodiff in a by-hand function, or a call to a
kit function that computes the graded quantity, loses that function's points with its sentence.

Each graded function is judged here on the reference solution altered two ways: it first makes
an incidental call to the kit's ``grad`` (for the functions asked for by hand), or it is replaced
by the kit's own function that computes it. The runner disables what the function may not use
(``grader_tests.sandbox.twins``), as the sandbox does, and restores it after each check.
"""

import functools
import importlib

import pytest

import autodiff_kit
from course import notebooks
from grader_tests.checks import checks_of
from grader_tests.runner import failure, rng_for
from grader_tests.sandbox.twins import BY_HAND, TWINS

ELEMENTARY = ("sin", "cos", "exp", "log")
GRADED = [(assignment, function) for assignment in notebooks.assignments()
          for function in notebooks.solution_ids(notebooks.read(notebooks.source_path(assignment)))]


def reference_namespace(assignment: str) -> dict:
    return notebooks.namespace_of(notebooks.read(notebooks.source_path(assignment)))


def names_of(function: str) -> tuple[str, ...]:
    """The names a graded function's solution cell defines."""
    return ELEMENTARY if function == "elementary_functions" else (function,)


def using_autodiff(definition):
    """``definition`` (a function or a class) that also differentiates something with the kit first."""
    def touch():
        autodiff_kit.grad(lambda t: t * t)(1.0)

    if isinstance(definition, type):
        class Traced(definition):
            def __init__(self, *args, **kwargs):
                touch()
                super().__init__(*args, **kwargs)
        return Traced

    @functools.wraps(definition)
    def traced(*args, **kwargs):
        touch()
        return definition(*args, **kwargs)
    return traced


def kit_twin(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def failed_messages(assignment: str, function: str, namespace: dict) -> dict[str, str | None]:
    return {check.cell_id(): failure(assignment, check.cell_id(), namespace,
                                     rng_for(assignment, check.cell_id(), "contract"))
            for check in checks_of(assignment) if check.function == function}


@pytest.mark.parametrize(("assignment", "function"), [g for g in GRADED if g[1] in BY_HAND],
                         ids=[g[1] for g in GRADED if g[1] in BY_HAND])
def test_the_kits_autodiff_in_a_by_hand_function_earns_nothing(assignment, function):
    namespace = reference_namespace(assignment)
    for name in names_of(function):
        namespace[name] = using_autodiff(namespace[name])
    messages = failed_messages(assignment, function, namespace)
    assert all(message is not None for message in messages.values()), messages
    assert any("is to be written by hand" in message and "automatic differentiation" in message
               for message in messages.values()), messages


@pytest.mark.parametrize(("assignment", "function"), [g for g in GRADED if g[1] in TWINS],
                         ids=[g[1] for g in GRADED if g[1] in TWINS])
def test_calling_the_kits_own_function_earns_nothing(assignment, function):
    namespace = reference_namespace(assignment)
    twins = [kit_twin(dotted) for dotted in TWINS[function]]
    names = names_of(function)
    namespace.update(zip(names, twins if len(names) > 1 else twins[:1], strict=True))
    messages = failed_messages(assignment, function, namespace)
    assert all(message is not None for message in messages.values()), messages
    assert any("computes what this exercise is graded on" in m for m in messages.values()), messages


def test_what_was_disabled_is_restored_after_each_check():
    namespace = reference_namespace("03_layer_vjps")
    namespace["linear_vjp"] = using_autodiff(namespace["linear_vjp"])
    failed_messages("03_layer_vjps", "linear_vjp", namespace)
    assert autodiff_kit.grad(lambda t: t * t)(3.0) == 6.0
    assert autodiff_kit.layers.linear_vjp is kit_twin("autodiff_kit.layers.linear_vjp")
