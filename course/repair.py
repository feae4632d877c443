"""Repairing a submission's nbgrader metadata, so that an honest accident costs nothing.

Jupyter keeps a cell's metadata when it is copied, so a student who copies a test cell, or
their answer cell to try something, hands in a ``grade_id`` twice; a cell pasted from
another notebook brings grading marks the assignment does not have; a stray click edits
points or flags. nbgrader refuses such a notebook whole. Here each managed cell of the
submission is matched to the release by ``grade_id``, and where an id appears twice, by
position (the copy whose previous managed cell is the one the release has before it):

- a matched cell whose grading metadata was edited gets the release's back;
- a cell whose id was edited, standing where a missing cell of the same type belongs,
  gets that cell's id and metadata back;
- every other cell with grading marks (copies, ids the release does not have, metadata
  that is not nbgrader's) loses them and stays in the notebook as an ordinary cell, so
  its code still runs where the student put it.

Each repair is one phrase; the phrases head the notebook in a markdown cell (so the
student's feedback says what was repaired) and go into the instructor's summary.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.notebooks import grade_id, read
from course.submissions import Intake

GRADING_KEYS = ("grade_id", "grade", "solution", "locked", "points", "task", "cell_type")


class Unrepairable(ValueError):
    """A notebook that stays invalid after repair; the message names the cell."""


def marks(cell: NotebookNode) -> dict | None:
    """The cell's nbgrader metadata if it is a dict of them with a text ``grade_id`` (or none), else None."""
    meta = cell.metadata.get("nbgrader")
    return meta if isinstance(meta, dict) and isinstance(meta.get("grade_id", ""), str) else None


def _meaning(meta: dict) -> tuple:
    return tuple(meta.get(key) for key in GRADING_KEYS)


def _unique_cell_ids(notebook: NotebookNode) -> bool:
    """Give copied cells fresh, deterministic ids (Jupyter's, not nbgrader's); whether any changed."""
    seen: set[str] = set()
    changed = False
    for index, cell in enumerate(notebook.cells):
        if "id" in cell and cell.id in seen:
            cell.id, changed = f"repaired-{index}", True
        seen.add(cell.get("id"))
    return changed


def _claim(release_cells: list[NotebookNode], cells: list[NotebookNode]) -> dict[str, int]:
    """``{grade_id: index}`` of the cell standing for each release cell: by id, then by position.

    Of several cells with one id (copies), the one whose previous managed cell is the one
    the release has before it is taken, else the first.
    """
    previous = {grade_id(cell): grade_id(release_cells[i - 1]) if i else None
                for i, cell in enumerate(release_cells)}
    types = {grade_id(c): c.cell_type for c in release_cells}
    found: dict[str, list[tuple[int, bool]]] = {}
    last = None
    for index, cell in enumerate(cells):
        if marks(cell) is None:
            continue
        name = grade_id(cell)
        if types.get(name) == cell.cell_type:
            found.setdefault(name, []).append((index, last == previous[name]))
        last = name
    return {name: next((i for i, in_place in places if in_place), places[0][0])
            for name, places in found.items()}


def _stand_in(release_cells: list[NotebookNode], cells: list[NotebookNode], claimed: dict[str, int],
              position: int) -> int | None:
    """An unclaimed managed cell of the right type between the neighbours of missing cell ``position``.

    A cell carrying another release cell's id is a copy of that cell, no stand-in.
    """
    earlier = [claimed[grade_id(c)] for c in release_cells[:position] if grade_id(c) in claimed]
    later = [claimed[grade_id(c)] for c in release_cells[position + 1:] if grade_id(c) in claimed]
    released = {grade_id(cell) for cell in release_cells}
    taken = set(claimed.values())
    return next((i for i in range(max(earlier, default=-1) + 1, min(later, default=len(cells)))
                 if i not in taken and "nbgrader" in cells[i].metadata
                 and (marks(cells[i]) is None or grade_id(cells[i]) not in released)
                 and cells[i].cell_type == release_cells[position].cell_type), None)


def repair(release: NotebookNode, submission: NotebookNode) -> list[str]:
    """Repair ``submission`` in place against ``release``; one phrase per repair, none if it was whole.

    ``submission`` must be a valid notebook (``nbformat.validate``); only its grading marks are repaired.
    """
    release_cells = [cell for cell in release.cells if marks(cell) is not None]
    cells, repairs = submission.cells, []
    claimed = _claim(release_cells, cells)
    for position, cell in enumerate(release_cells):  # an id edited in place
        name = grade_id(cell)
        if name not in claimed and (index := _stand_in(release_cells, cells, claimed, position)) is not None:
            claimed[name] = index
            cells[index].metadata["nbgrader"] = copy.deepcopy(marks(cell))
            repairs.append(f"cell {index + 1} is `{name}` again (its grade id had been changed)")
    released = {grade_id(cell): marks(cell) for cell in release_cells}
    for index, cell in enumerate(cells):
        if "nbgrader" not in cell.metadata:
            continue
        meta = marks(cell)
        name = meta.get("grade_id") if meta is not None else None
        if meta is not None and claimed.get(name) == index:
            if _meaning(meta) != _meaning(released[name]):
                edited = [key for key in GRADING_KEYS if meta.get(key) != released[name].get(key)]
                cell.metadata["nbgrader"] = copy.deepcopy(released[name])
                repairs.append(f"`{name}` has its grading settings back "
                               f"({', '.join(edited)} had been edited)")
            continue
        del cell.metadata["nbgrader"]
        if name in released:
            repairs.append(f"cell {index + 1}, a copy of `{name}`, is now an ordinary cell")
        else:
            what = f"grading marks (`{name}`)" if name else "grading marks"
            repairs.append(f"cell {index + 1} carried {what} that this assignment does not have; "
                           "they were removed")
    return repairs


def note_cell(repairs: list[str]) -> NotebookNode:
    """The markdown cell that tells the student what was repaired before grading."""
    lines = "\n".join(f"- {repair}" for repair in repairs)
    cell = nbformat.v4.new_markdown_cell(
        "**Repaired before grading.** Some cells' grading settings were not as released (a copied cell "
        f"keeps them, for instance). Nothing you wrote was changed, and everything was graded (cells are "
        f"counted as in the notebook you handed in):\n\n{lines}")
    cell.id = "repaired-before-grading"
    return cell


def _validated(notebook: NotebookNode) -> None:
    try:
        nbformat.validate(notebook)
    except nbformat.ValidationError as error:
        where = list(error.absolute_path)
        cell = f"cell {where[1] + 1}" if len(where) > 1 and where[0] == "cells" else "its structure"
        raise Unrepairable(f"{cell} is not valid in a notebook ({error.message})") from None


def repair_file(path: Path, release: NotebookNode) -> list[str]:
    """Repair the notebook at ``path`` in place (written only if something changed); the repairs made.

    What is written is a function of what was read, so a regrade fingerprints it the same.
    """
    submission = nbformat.convert(nbformat.from_dict(json.loads(path.read_text(encoding="utf-8"))), 4)
    renumbered = _unique_cell_ids(submission)
    _validated(submission)
    repairs = repair(release, submission)
    if repairs:
        note = note_cell(repairs)
        if submission.nbformat_minor < 5:  # cell ids came with nbformat 4.5
            del note["id"]
        submission.cells.insert(0, note)
    if repairs or renumbered:
        _validated(submission)
        nbformat.write(submission, path)
    return repairs


def repair_intake(intake: Intake, release_of: Callable[[str], Path]) -> None:
    """Repair every taken-in notebook against its assignment's release (``release_of(assignment)``).

    A line per repaired notebook goes to ``intake.repairs``; a notebook that cannot be
    repaired is named, with its cell, in ``intake.problems`` and left out, the rest graded.
    """
    releases: dict[str, NotebookNode] = {}
    kept = []
    for submission in intake.submissions:
        assignment, name = submission.assignment, f"{submission.student}/{submission.assignment}.ipynb"
        if assignment not in releases:
            releases[assignment] = read(release_of(assignment))
        try:
            repairs = repair_file(submission.path, releases[assignment])
        except Unrepairable as error:
            intake.problems.append(f"{name}: {error}, so it could not be graded.")
            continue
        except Exception as error:  # a notebook no one foresaw: named, and the class goes on
            intake.problems.append(f"{name}: its cells could not be read ({type(error).__name__}: {error}), "
                                   "so it could not be graded.")
            continue
        kept.append(submission)
        if repairs:
            intake.repairs.append(f"{name}: {'; '.join(repairs)}.")
    intake.submissions = kept
