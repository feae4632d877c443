"""The hidden checks against the source notebooks, fast (no kernel, no nbgrader).

The reference solutions pass every check on many fresh draws; each catalogued mistake fails
at least one check of its function and no check of any other, and the same checks under
every session seed (so a regrade gives the same score); the notebooks' hidden cells
are exactly the registered checks, with the same points. ``test_course_grading.py`` then
proves the same through real nbgrader.
"""

import pytest

from course import notebooks
from course.mistakes import mistakes_of
from grader_tests.checks import checks_of
from grader_tests.runner import failure, rng_for

ASSIGNMENTS = notebooks.assignments()
MISTAKES = [mistake for assignment in ASSIGNMENTS for mistake in mistakes_of(assignment)]


def failures(assignment, namespace, seed):
    """``{cell: message}`` of the failing checks, cases drawn as a session seeded ``seed`` draws them."""
    return {check.cell_id(): message for check in checks_of(assignment)
            if (message := failure(assignment, check.cell_id(), namespace,
                                   rng_for(assignment, check.cell_id(), f"session-{seed}"))) is not None}


def test_there_are_six_assignments():
    assert ASSIGNMENTS == ["01_jacobians", "02_orderings", "03_layer_vjps", "04_modes", "05_higher_order",
                           "06_primitives"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_cells_are_the_registered_checks_with_their_points(assignment):
    cells = notebooks.hidden_tests(notebooks.read(notebooks.source_path(assignment)))
    assert cells == {check.cell_id(): float(check.points) for check in checks_of(assignment)}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_checks_and_two_mistakes(assignment):
    functions = notebooks.solution_ids(notebooks.read(notebooks.source_path(assignment)))
    assert functions
    for function in functions:
        assert any(check.function == function for check in checks_of(assignment)), function
        assert sum(m.function == function for m in mistakes_of(assignment)) >= 2, function


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_solution_passes_every_check(assignment, seed):
    namespace = notebooks.namespace_of(notebooks.read(notebooks.source_path(assignment)))
    assert failures(assignment, namespace, seed) == {}


@pytest.mark.parametrize("mistake", MISTAKES,
                         ids=[f"{m.assignment} {m.function}: {m.what}" for m in MISTAKES])
def test_a_mistake_loses_points_on_its_function_and_nowhere_else(mistake):
    notebook = notebooks.read(notebooks.source_path(mistake.assignment))
    source = mistake.apply(notebooks.cell_by_id(notebook, mistake.function).source)
    namespace = notebooks.namespace_of(notebooks.with_cell_source(notebook, mistake.function, source))
    own = {check.cell_id() for check in checks_of(mistake.assignment) if check.function == mistake.function}
    verdicts = set()
    for seed in range(3):
        failed = failures(mistake.assignment, namespace, seed)
        assert failed, f"no check catches: {mistake.what}"
        assert set(failed) <= own, f"{mistake.what} also fails {sorted(set(failed) - own)}"
        for message in failed.values():
            assert message and "Traceback" not in message
        verdicts.add(frozenset(failed))
    assert len(verdicts) == 1, f"{mistake.what} fails different checks under different seeds: {verdicts}"
