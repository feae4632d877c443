"""Shared by the tests that grade through the real pipeline: a built course, a class on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
from rich.console import Console
from rich.progress import Progress

from course import build, demo, grading, notebooks, report
from course.sandbox.judge import Limits
from course.workspace import Workspace


def built_workspace(cache: Path, target: Path) -> Workspace:
    """A workspace with every assignment released: built once into ``cache``, copied to ``target``."""
    if not (cache / "gradebook.db").exists():
        build.build(Workspace(cache))
    shutil.copytree(cache, target)
    return Workspace(target)


def filled(workspace: Workspace, assignment: str,
           answers: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The release of ``assignment`` with the reference answers, except the cells in ``answers``."""
    student = demo.SimulatedStudent("x", {assignment: None})
    notebook = demo.submission(workspace, student, assignment)
    for cell_id, source in (answers or {}).items():
        notebooks.cell_by_id(notebook, cell_id).source = source
    return notebook


def write(folder: Path, student: str, assignment: str, notebook: nbformat.NotebookNode) -> None:
    path = folder / student / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def grade(workspace: Workspace, folder: Path, engine: str = "sandbox", workers: int | None = None,
          limits: Limits | None = None, feedback: bool = False, seed: str | None = None,
          scheduler: str | None = None):
    """Grade ``folder`` through the real pipeline; the run and ``{(student, assignment, cell): score}``.

    Feedback is left out unless asked for: it only reads the gradebook, and the demo's test covers it.
    """
    with Progress(console=Console(quiet=True)) as progress:
        run = grading.grade(workspace, folder, progress, engine, workers, limits, feedback, seed, scheduler)
    scores = {(r.student, r.assignment, r.cell): r.score for r in report.test_results(workspace)}
    return run, scores


def points(workspace: Workspace, assignment: str) -> dict[str, float]:
    """``{test cell: points}`` of ``assignment``."""
    return notebooks.hidden_tests(notebooks.read(workspace.notebook("source", assignment)))
