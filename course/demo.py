"""A simulated class, made from the reference solutions, for the end-to-end demo and the tests.

Students fill in the released notebook, so each simulated submission is the release with
its solution cells filled in: ``solutions`` with the reference answers (markers removed),
``blank`` with nothing (the release as handed out), and ``typical_<k>`` with the reference
answers except that every assignment carries its ``k``-th catalogued mistake, so each of
their notebooks holds exactly one mistake and its grade shows what that mistake costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course import notebooks
from course.mistakes import Mistake, mistakes_of
from course.workspace import Workspace

MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n", re.MULTILINE)


@dataclass(frozen=True)
class SimulatedStudent:
    name: str
    mistakes: dict[str, Mistake | None]  # by assignment; None: the reference answer
    blank: bool = False


def simulated_class(typical: int | None = None) -> list[SimulatedStudent]:
    """``solutions``, ``blank`` and up to ``typical`` (all if None) students with one mistake per notebook."""
    catalogue = {a: mistakes_of(a) for a in notebooks.assignments()}
    rows = max(len(m) for m in catalogue.values())
    rows = rows if typical is None else min(rows, typical)
    students = [SimulatedStudent("solutions", dict.fromkeys(catalogue)),
                SimulatedStudent("blank", dict.fromkeys(catalogue), blank=True)]
    for k in range(rows):
        mistakes = {a: (m[k] if k < len(m) else None) for a, m in catalogue.items()}
        students.append(SimulatedStudent(f"typical_{k + 1}", mistakes))
    return students


def answer(source_cell: str, mistake: Mistake | None) -> str:
    """A solution cell as a student would hand it in: the answer, without nbgrader's markers."""
    return MARKER.sub("", mistake.apply(source_cell) if mistake else source_cell)


def submission(workspace: Workspace, student: SimulatedStudent, assignment: str) -> nbformat.NotebookNode:
    """The released notebook of ``assignment`` as ``student`` fills it in."""
    release = notebooks.read(workspace.notebook("release", assignment))
    if student.blank:
        return release
    source = notebooks.read(notebooks.source_path(assignment))
    mistake = student.mistakes[assignment]
    for function in notebooks.solution_ids(source):
        made = mistake if mistake is not None and mistake.function == function else None
        reference = notebooks.cell_by_id(source, function).source
        notebooks.cell_by_id(release, function).source = answer(reference, made)
    return release


def write_class(workspace: Workspace, students: list[SimulatedStudent], folder: Path) -> Path:
    """Write every student's notebooks to ``folder/<student>/<assignment>.ipynb``."""
    for student in students:
        for assignment in notebooks.assignments():
            path = folder / student.name / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(submission(workspace, student, assignment), path)
    return folder
