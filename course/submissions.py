"""Taking in a class's submissions: a folder or a zip with one folder per student.

Inside a student's folder, every notebook counts, at any depth and under any of the names
students give their files: ``01_jacobians.ipynb`` is graded as is, ``01_Jacobians (1).ipynb``
or ``copy of 01_jacobians.ipynb`` is graded as ``01_jacobians`` with a note. What cannot be
graded is reported, never dropped silently: files outside any student folder, notebooks of
no assignment, unreadable or empty notebooks, and two notebooks for one assignment (the
one named exactly, else the newest, is graded; the other is named in the report).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path


@dataclass
class Intake:
    submissions: list[Submission] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def assignment_named(filename: str, assignments: list[str]) -> str | None:
    """The assignment a notebook's file name refers to, tolerating case, copies and suffixes."""
    stem = Path(filename).stem
    if stem in assignments:
        return stem
    normalized = re.sub(r"[^a-z0-9]+", "_", stem.lower())
    matches = [a for a in assignments if a in normalized]
    return matches[0] if len(matches) == 1 else None


def readable_problem(path: Path) -> str | None:
    """Why ``path`` cannot be graded as a notebook, or None if it can."""
    if path.stat().st_size == 0:
        return "is an empty file"
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:
        return f"is not a readable notebook ({type(error).__name__})"
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return "has no code cells"
    return None


@contextmanager
def opened(source: Path):
    """``source`` as a folder of student folders: itself, or a zip unpacked to a temporary folder.

    A zip whose only entry is a folder of student folders (``class/ada/...``) is unwrapped.
    """
    if source.is_dir():
        yield source
        return
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a folder nor a zip file.")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(source) as archive:
        target = Path(tmp).resolve()
        for member in archive.namelist():
            if not (target / member).resolve().is_relative_to(target):
                raise ValueError(f"{source} has a member that escapes its folder: {member}")
        archive.extractall(target)
        entries = [p for p in target.iterdir() if p.name != "__MACOSX"]
        only = entries[0] if len(entries) == 1 and entries[0].is_dir() else None
        wraps_class = only is not None and not any(only.glob("*.ipynb")) and any(
            child.is_dir() for child in only.iterdir())
        yield only if wraps_class else target


def collect(source: Path, assignments: list[str], submitted: Path) -> Intake:
    """Copy the gradable notebooks under ``source`` into nbgrader's ``submitted`` folder.

    Each lands as ``submitted/<student>/<assignment>/<assignment>.ipynb``; everything that
    cannot be graded gets a sentence in ``Intake.problems``.
    """
    intake = Intake()
    with opened(source) as root:
        candidates: dict[tuple[str, str], list[Path]] = defaultdict(list)
        for entry in sorted(root.iterdir()):
            if entry.name.startswith((".", "__MACOSX")):
                continue
            if not entry.is_dir():
                intake.problems.append(f"{entry.name}: not inside a student's folder, so it belongs to "
                                       "no one.")
                continue
            if not STUDENT_ID.match(entry.name):
                intake.problems.append(f"{entry.name}/: not a usable student id (letters, digits, _ . -).")
                continue
            notebooks = [p for p in sorted(entry.rglob("*.ipynb")) if ".ipynb_checkpoints" not in p.parts]
            if not notebooks:
                intake.problems.append(f"{entry.name}/: no notebook in this folder.")
            for path in notebooks:
                where = path.relative_to(root)
                assignment = assignment_named(path.name, assignments)
                if assignment is None:
                    intake.problems.append(f"{where}: the name matches no assignment "
                                           f"({', '.join(assignments)}).")
                elif (problem := readable_problem(path)) is not None:
                    intake.problems.append(f"{where}: {problem}; nothing was graded from it.")
                else:
                    if path.name != f"{assignment}.ipynb":
                        intake.notes.append(f"{where}: graded as {assignment}.")
                    candidates[entry.name, assignment].append(path)
        for (student, assignment), paths in sorted(candidates.items()):
            chosen = max(paths, key=lambda p: (p.name == f"{assignment}.ipynb", p.stat().st_mtime))
            for other in paths:
                if other != chosen:
                    intake.problems.append(f"{other.relative_to(root)}: a second notebook for {assignment}; "
                                           f"graded {chosen.relative_to(root)} instead.")
            staged = submitted / student / assignment / f"{assignment}.ipynb"
            staged.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(chosen, staged)
            intake.submissions.append(Submission(student, assignment, staged))
    return intake
