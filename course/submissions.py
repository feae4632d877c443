"""Taking in a class's submissions: a folder or a zip with one folder per student.

Inside a student's folder, every notebook counts, at any depth and under any of the names
students give their files: ``01_jacobians.ipynb`` is graded as is, ``01_Jacobians (1).ipynb``
or ``copy of 01_jacobians.ipynb`` is graded as ``01_jacobians`` with a note. What cannot be
graded is reported, never dropped silently: files outside any student folder, notebooks of
no assignment, unreadable or empty notebooks, and two notebooks for one assignment (the
one named exactly, else the newest, is graded; the other is named in the report).

Only a student's own files are taken: symbolic links (which could point at the
instructor's source notebook), device files, FIFOs and sockets are refused, and so are zip
entries with an absolute path, a ``..`` or a link; each gets a note and the rest is graded.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import warnings
import zipfile
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.warnings import DuplicateCellId

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
    repairs: list[str] = field(default_factory=list)


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
        with warnings.catch_warnings():  # copied cells share an id; course.repair renumbers them
            warnings.simplefilter("ignore", DuplicateCellId)
            notebook = nbformat.read(path, as_version=4)
    except Exception as error:
        return f"is not a readable notebook ({type(error).__name__})"
    if not any(cell.cell_type == "code" for cell in notebook.cells):
        return "has no code cells"
    return None


def refused_entry(member: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is not unpacked, or None."""
    name = member.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "has an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "climbs out of its folder with `..`"
    if stat.S_ISLNK(member.external_attr >> 16):
        return "is a symbolic link"
    return None


def refused_file(path: Path) -> str | None:
    """Why ``path`` is not a student's own file, or None: links and special files are refused."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return "is a symbolic link"
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        return "is not a regular file (a device, FIFO or socket)"
    return None


@contextmanager
def opened(source: Path, problems: list[str]):
    """``source`` as a folder of student folders: itself, or a zip unpacked to a temporary folder.

    A zip whose only entry is a folder of student folders (``class/ada/...``) is unwrapped.
    Zip entries that are refused get a sentence in ``problems`` and are not unpacked.
    """
    if source.is_dir():
        yield source
        return
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is neither a folder nor a zip file.")
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(source) as archive:
        target = Path(tmp).resolve()
        for member in archive.infolist():
            if (why := refused_entry(member)) is None:
                archive.extract(member, target)
            else:
                problems.append(f"{member.filename} (in {source.name}): {why}; not unpacked.")
        entries = [p for p in target.iterdir() if p.name != "__MACOSX"]
        only = entries[0] if len(entries) == 1 and entries[0].is_dir() else None
        wraps_class = only is not None and not any(only.glob("*.ipynb")) and any(
            child.is_dir() for child in only.iterdir())
        yield only if wraps_class else target


def own_notebooks(folder: Path, root: Path) -> tuple[list[Path], list[str]]:
    """The notebooks under ``folder`` that are its own files, and a sentence for each refused entry.

    Links to folders are not followed; links and special files named like notebooks are refused.
    """
    found, refusals = [], []
    for here, folders, files in os.walk(folder):
        folders[:] = sorted(name for name in folders if name != ".ipynb_checkpoints")
        entries = [(name, True) for name in folders] + [(name, False) for name in sorted(files)]
        for name, is_folder in entries:
            path = Path(here) / name
            refused = refused_file(path)
            if refused is not None and (is_folder or name.endswith(".ipynb")):
                refusals.append(f"{path.relative_to(root)}: {refused}; only a student's own files are "
                                "graded, so it was not.")
            elif refused is None and not is_folder and name.endswith(".ipynb"):
                found.append(path)
    return found, refusals


def collect(source: Path, assignments: list[str], submitted: Path) -> Intake:
    """Copy the gradable notebooks under ``source`` into nbgrader's ``submitted`` folder.

    Each lands as ``submitted/<student>/<assignment>/<assignment>.ipynb``; everything that
    cannot be graded gets a sentence in ``Intake.problems``.
    """
    intake = Intake()
    with opened(source, intake.problems) as root:
        candidates: dict[tuple[str, str], list[Path]] = defaultdict(list)
        for entry in sorted(root.iterdir()):
            if entry.name.startswith((".", "__MACOSX")):
                continue
            if (why := refused_file(entry)) is not None:
                intake.problems.append(f"{entry.name}: {why}; only a student's own files are graded, so "
                                       "nothing in it was.")
                continue
            if not entry.is_dir():
                intake.problems.append(f"{entry.name}: not inside a student's folder, so it belongs to "
                                       "no one.")
                continue
            if not STUDENT_ID.match(entry.name):
                intake.problems.append(f"{entry.name}/: not a usable student id (letters, digits, _ . -).")
                continue
            notebooks, refusals = own_notebooks(entry, root)
            intake.problems += refusals
            if not notebooks and not refusals:
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
            try:  # O_NOFOLLOW: a file swapped for a link since it was looked at is refused, not followed
                with open(os.open(chosen, os.O_RDONLY | os.O_NOFOLLOW), "rb") as handle:
                    staged.write_bytes(handle.read())
            except OSError as error:
                intake.problems.append(f"{chosen.relative_to(root)}: could not be read ({error.strerror}); "
                                       "not graded.")
                continue
            intake.submissions.append(Submission(student, assignment, staged))
    return intake
