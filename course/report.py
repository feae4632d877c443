"""What the gradebook says: each student's score per assignment, and how each exercise went.

Scores are read back from nbgrader's SQLite gradebook, so the tables show what nbgrader
recorded, not what the grader meant to record. A test cell ``test_<function>_<aspect>``
counts towards the exercise ``<function>``.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

from nbgrader.api import Gradebook
from rich.console import Console
from rich.table import Table

from course import notebooks
from course.workspace import Workspace


@dataclass(frozen=True)
class TestResult:
    student: str
    assignment: str
    cell: str
    score: float | None
    max_score: float


def test_results(workspace: Workspace) -> list[TestResult]:
    """Every graded cell of every submission in the gradebook (the course grades test cells only)."""
    results = []
    with Gradebook(workspace.db_url, workspace.config().CourseDirectory.course_id) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    results += [TestResult(submission.student.id, assignment.name, grade.name,
                                           grade.score, grade.max_score) for grade in notebook.grades]
    return results


@functools.cache
def graded_functions(assignment: str) -> tuple[str, ...]:
    return tuple(notebooks.solution_ids(notebooks.read(notebooks.source_path(assignment))))


def exercise_of(assignment: str, cell: str) -> str:
    """The graded function a test cell belongs to: the longest solution id it is named after."""
    owners = [f for f in graded_functions(assignment) if cell.startswith(f"test_{f}_")]
    return max(owners, key=len) if owners else cell


def scores_by_student(results: list[TestResult]) -> dict[str, dict[str, float]]:
    """``{student: {assignment: points}}``; an ungraded cell counts as 0 here."""
    table: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for result in results:
        table[result.student][result.assignment] += result.score or 0.0
    return {student: dict(row) for student, row in table.items()}


def print_grades(results: list[TestResult], console: Console) -> None:
    assignments = sorted({r.assignment for r in results})
    maxima = {a: sum(dict((r.cell, r.max_score) for r in results if r.assignment == a).values())
              for a in assignments}
    table = Table(title="Grades (points per assignment)")
    table.add_column("student")
    for assignment in assignments:
        table.add_column(f"{assignment}\n/{maxima[assignment]:g}", justify="right")
    table.add_column("total", justify="right")
    for student, row in sorted(scores_by_student(results).items()):
        cells = [f"{row[a]:g}" if a in row else "—" for a in assignments]
        table.add_row(student, *cells, f"{sum(row.values()):g}")
    console.print(table)


def print_exercises(results: list[TestResult], console: Console) -> None:
    """Per graded function: mean score over the class, and how many students failed each test."""
    by_exercise: dict[tuple[str, str], list[TestResult]] = defaultdict(list)
    for result in results:
        by_exercise[result.assignment, exercise_of(result.assignment, result.cell)].append(result)
    table = Table(title="Exercises")
    for column in ("assignment", "exercise", "mean score", "students failing each test"):
        table.add_column(column, justify="right" if column == "mean score" else "left")
    for (assignment, exercise), rows in sorted(by_exercise.items()):
        students = {r.student for r in rows}
        total = sum(r.score or 0.0 for r in rows) / len(students)
        maximum = sum(r.max_score for r in rows) / len(students)
        failing = defaultdict(int)
        for r in rows:
            failing[r.cell.removeprefix(f"test_{exercise}_")] += (r.score or 0.0) < r.max_score
        summary = ", ".join(f"{aspect} {n}" for aspect, n in failing.items())
        table.add_row(assignment, exercise, f"{total:.2f} / {maximum:g}", summary)
    console.print(table)
