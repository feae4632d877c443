"""Reading the course's source notebooks: their nbgrader cells, and running their code.

Conventions of every source notebook (``source/<assignment>/<assignment>.ipynb``):

- ``setup_*`` cells: locked imports and helpers the exercises need;
- one solution cell per graded function, its ``grade_id`` the function's name;
- ``check_<function>`` cells: locked visible tests, ungraded, using ``autodiff_kit`` only;
- ``test_<function>_<aspect>`` cells: graded hidden tests, each calling
  ``grader_tests.grade`` so that the test's logic never sits in the notebook.
"""

from __future__ import annotations

import copy
import linecache
from pathlib import Path

import nbformat

COURSE_ROOT = Path(__file__).resolve().parent
SOURCE = COURSE_ROOT / "source"


def assignments() -> list[str]:
    """The assignment ids, in teaching order (the folders of ``source/``)."""
    return sorted(path.name for path in SOURCE.iterdir() if (path / f"{path.name}.ipynb").is_file())


def source_path(assignment: str) -> Path:
    return SOURCE / assignment / f"{assignment}.ipynb"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def nbgrader_of(cell: nbformat.NotebookNode) -> dict:
    """The cell's nbgrader metadata, ``{}`` for a cell nbgrader does not manage."""
    return cell.get("metadata", {}).get("nbgrader", {})


def grade_id(cell: nbformat.NotebookNode) -> str:
    return nbgrader_of(cell).get("grade_id", "")


def hidden_tests(notebook: nbformat.NotebookNode) -> dict[str, float]:
    """``{grade_id: points}`` of the graded test cells, in notebook order."""
    return {grade_id(cell): float(nbgrader_of(cell)["points"]) for cell in notebook.cells
            if nbgrader_of(cell).get("grade") and not nbgrader_of(cell).get("solution")}


def solution_ids(notebook: nbformat.NotebookNode) -> list[str]:
    """The ``grade_id`` of every solution cell: the graded functions, in notebook order."""
    return [grade_id(cell) for cell in notebook.cells if nbgrader_of(cell).get("solution")]


def cell_by_id(notebook: nbformat.NotebookNode, wanted: str) -> nbformat.NotebookNode:
    for cell in notebook.cells:
        if grade_id(cell) == wanted:
            return cell
    raise KeyError(f"The notebook has no cell {wanted!r}.")


def with_cell_source(notebook: nbformat.NotebookNode, wanted: str, source: str) -> nbformat.NotebookNode:
    """A copy of ``notebook`` in which cell ``wanted`` reads ``source``."""
    changed = copy.deepcopy(notebook)
    cell_by_id(changed, wanted).source = source
    return changed


def namespace_of(notebook: nbformat.NotebookNode) -> dict:
    """The globals after running the ``setup_*`` and solution cells, in order (no tests)."""
    namespace: dict = {"__name__": "__student__"}
    for cell in notebook.cells:
        meta = nbgrader_of(cell)
        if cell.cell_type == "code" and (meta.get("solution") or grade_id(cell).startswith("setup")):
            filename = f"<cell {grade_id(cell)}>"
            linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
            exec(compile(cell.source, filename, "exec"), namespace)
    return namespace
