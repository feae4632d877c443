"""What each exercise may use is enforced: the kit's autodiff in a by-hand function, or a call to a
kit function that computes the graded quantity, loses that function's points with its sentence,
in-process (the runner) and end to end (nbgrader with the sandbox), for every graded function.

Each graded function is judged here on the reference solution altered two ways: it first makes
an incidental call to the kit's ``grad`` (for the functions asked for by hand), or it is replaced
by the kit's own function that computes it. The runner disables what the function may not use
(``grader_tests.twins``), as the sandbox does, and restores it after each check.
"""

import functools
import importlib
import json

import pytest
from course_support import built_workspace, filled, grade, points, write

import autodiff_kit
from course import notebooks
from grader_tests.checks import checks_of
from grader_tests.runner import failure, rng_for
from grader_tests.twins import BY_HAND, TWINS

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
    namespace.update(zip(names, twins[: len(names)], strict=True))
    messages = failed_messages(assignment, function, namespace)
    assert all(message is not None for message in messages.values()), messages
    assert any("computes what this exercise is graded on" in m for m in messages.values()), messages


def test_what_was_disabled_is_restored_after_each_check():
    namespace = reference_namespace("03_layer_vjps")
    namespace["linear_vjp"] = using_autodiff(namespace["linear_vjp"])
    failed_messages("03_layer_vjps", "linear_vjp", namespace)
    assert autodiff_kit.grad(lambda t: t * t)(3.0) == 6.0
    assert autodiff_kit.layers.linear_vjp is kit_twin("autodiff_kit.layers.linear_vjp")


# --- the same, end to end: nbgrader and the sandbox, one student per breach ------------------------

def breach_source(function: str, kind: str) -> str:
    """Code a student appends to ``function``'s answer cell: a detour through the kit's autodiff
    (``"autodiff"``) or the kit's own function put in place of theirs (``"twin"``)."""
    names = names_of(function)
    if kind == "twin":
        return "".join(f"from {dotted.rpartition('.')[0]} import {dotted.rpartition('.')[2]} as {name}\n"
                       for name, dotted in zip(names, TWINS[function], strict=False))
    lines = ["from autodiff_kit import grad as _grad"]
    for name in names:
        if name in ("Dual", "Var"):
            lines += [f"class {name}({name}):", "    def __init__(self, *args, **kwargs):",
                      "        _grad(lambda t: t * t)(1.0)", "        super().__init__(*args, **kwargs)"]
        else:
            lines += [f"_mine_{name} = {name}", f"def {name}(*args, **kwargs):",
                      "    _grad(lambda t: t * t)(1.0)", f"    return _mine_{name}(*args, **kwargs)"]
    return "\n".join(lines) + "\n"


BREACHES = [(assignment, function, kind) for assignment, function in GRADED
            for kind in ("autodiff", "twin") if function in (BY_HAND if kind == "autodiff" else TWINS)]


@pytest.fixture(scope="module")
def breached(course_cache, tmp_path_factory):
    """A class graded once: one student per (function, breach), every other answer the reference."""
    root = tmp_path_factory.mktemp("contract")
    workspace = built_workspace(course_cache, root / "work")
    for assignment, function, kind in BREACHES:
        notebook = filled(workspace, assignment)
        cell = notebooks.cell_by_id(notebook, function)
        cell.source = cell.source.rstrip("\n") + "\n\n" + breach_source(function, kind)
        write(root / "class", f"{function}-{kind}", assignment, notebook)
    run, scores = grade(workspace, root / "class")
    return workspace, run, scores


@pytest.mark.parametrize(("assignment", "function", "kind"), BREACHES,
                         ids=[f"{function}-{kind}" for _, function, kind in BREACHES])
def test_a_breach_costs_its_function_and_nothing_else_through_nbgrader(breached, assignment, function, kind):
    workspace, run, scores = breached
    assert run.problems == []
    student = f"{function}-{kind}"
    verdicts = {v["cell"]: v for v in json.loads(
        (workspace.verdicts / student / f"{assignment}.json").read_text())["verdicts"]}
    words = "is to be written by hand" if kind == "autodiff" else "computes what this exercise is graded on"
    own = {check.cell_id() for check in checks_of(assignment) if check.function == function}
    for cell, worth in points(workspace, assignment).items():
        assert scores[student, assignment, cell] == (0 if cell in own else worth), cell
    assert any(words in verdicts[cell]["message"] for cell in own), [verdicts[c]["message"] for c in own]


# --- the back doors found in review, each closed -------------------------------------------------

BACK_DOORS = {
    ("03_layer_vjps", "tanh_vjp"): "import autodiff_kit.numpy as anp\n\n"
                                   "def tanh_vjp(g, x):\n    return anp.tanh.vjps[0](g, np.tanh(x), x)\n",
    ("01_jacobians", "linear_model_step"): (
        "from autodiff_kit.scalar import Var, backward\n\n"
        "def linear_model_step(x, y, w, b, lr):\n    W, B = Var(w), Var(b)\n    loss = (W * x + B - y) ** 2\n"
        "    backward(loss)\n    return loss.value, W.grad, B.grad, w - lr * W.grad, b - lr * B.grad\n"),
    ("01_jacobians", "softmax_jacobian"): (
        "from autodiff_kit import examples, testing\n\n"
        "def softmax_jacobian(z):\n    return testing.numerical_jacobian(examples.softmax, z)\n"),
    ("04_modes", "Dual"): (
        "from autodiff_kit import scalar\n\n"
        "def _init(self, value, tangent=0.0):\n    self.value, self.tangent = value, tangent\n\n"
        "scalar.Dual.__init__ = _init\nDual = scalar.Dual\n"),
    # A dense pattern has one colour per column (row): sparsity's coloured Jacobian is then the
    # loop over one-hot vectors, in order; replaying the first product keeps the count exact.
    ("01_jacobians", "jacobian_from_jvps"): (
        "from autodiff_kit.sparsity import jacobian_from_coloured_jvps\n\n"
        "def jacobian_from_jvps(jvp_fn, n):\n    first = np.ravel(jvp_fn(np.eye(n)[0]))\n"
        "    replayed = lambda v: first if v[0] == 1 and v.sum() == 1 else np.ravel(jvp_fn(v))\n"
        "    return jacobian_from_coloured_jvps(replayed, np.ones((first.size, n)))\n"),
    ("01_jacobians", "jacobian_from_vjps"): (
        "from autodiff_kit.sparsity import jacobian_from_coloured_vjps\n\n"
        "def jacobian_from_vjps(vjp_fn, m):\n    first = np.ravel(vjp_fn(np.eye(m)[0]))\n"
        "    replayed = lambda u: first if u[0] == 1 and u.sum() == 1 else np.ravel(vjp_fn(u))\n"
        "    return jacobian_from_coloured_vjps(replayed, np.ones((m, first.size)))\n"),
    # The binomial schedule recomputes exactly the least number of steps.
    ("02_orderings", "checkpoint_cost"): (
        "from autodiff_kit.checkpointing import binomial_schedule\n\n"
        "def checkpoint_cost(L, slots):\n    return binomial_schedule(L, slots).forward_steps\n"),
}


@pytest.mark.parametrize(("assignment", "function"), list(BACK_DOORS), ids=[f for _, f in BACK_DOORS])
def test_a_back_door_to_the_kits_derivatives_earns_nothing(assignment, function):
    from autodiff_kit import scalar

    kit_init = vars(scalar.Dual)["__init__"]  # the Dual back door replaces it in this process
    notebook = notebooks.read(notebooks.source_path(assignment))
    try:
        namespace = notebooks.namespace_of(
            notebooks.with_cell_source(notebook, function, BACK_DOORS[assignment, function]))
        messages = failed_messages(assignment, function, namespace)
    finally:
        scalar.Dual.__init__ = kit_init
    assert all(message is not None for message in messages.values()), messages
    assert any("earns no credit" in message for message in messages.values()), messages
