"""``autodiff-course release / collect / return-feedback``: the class's work through nbgrader's exchange.

On a multi-user hub, students fetch and submit with nbgrader's own commands (or JupyterLab's
assignment list) through nbgrader's filesystem exchange: a folder every account may write
in but not list (world-writable with the sticky bit). These are the instructor's steps,
each through nbgrader's API: release the built assignments into it, collect the submissions
into a folder that ``course.grading.grade`` takes, and release the feedback, which each
student can fetch only for their own submission (its file is named by a hash of a secret
kept in that student's nbgrader cache).

The workspace holds the solutions, so ``release`` makes it private to the instructor.
Collecting runs with the instructor's rights (root on many hubs) on folders the students
made, so it takes only what the named student owns: a submission folder made by another
account is refused, and so are links and special files inside one, never followed.
"""

from __future__ import annotations

import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.exchange.default import Exchange

from course import notebooks
from course.workspace import Workspace, why_failed

DEFAULT_EXCHANGE = Path(Exchange.class_traits()["root"].default_value)  # /usr/local/share/nbgrader/exchange
COLLECTED = "collected"


class ExchangeError(ValueError):
    """A step through the exchange cannot be done; the message says why and what to do."""


@dataclass
class Collected:
    """What ``collect`` gathered: ``folder/<student>/<assignment>/*.ipynb``, and what it refused."""

    folder: Path
    students: dict[str, list[str]] = field(default_factory=dict)  # by assignment
    refused: list[str] = field(default_factory=list)


def checked(workspace: Workspace, assignments: list[str]) -> list[str]:
    """``assignments`` (all if empty) once the workspace is built and its exchange exists."""
    known = notebooks.assignments()
    unknown = [a for a in assignments if a not in known]
    if unknown:
        raise ExchangeError(f"Unknown assignment {', '.join(unknown)}; the course has {', '.join(known)}.")
    if not workspace.built():
        raise ExchangeError(f"No gradebook in {workspace.root}: run `autodiff-course build` first.")
    exchange_root = workspace.exchange_folder
    if not exchange_root.is_dir():
        raise ExchangeError(
            f"No exchange folder at {exchange_root}. nbgrader's exchange must exist and be writable by every "
            f"account: as root, `mkdir -p {exchange_root} && chmod 1777 {exchange_root}` (the sticky "
            "bit keeps students from renaming the course's folder), or pass --exchange.")
    return list(assignments) or known


def api(workspace: Workspace, force: bool = False) -> NbGraderAPI:
    """nbgrader's API on ``workspace``; ``force``: its release replaces an assignment already released."""
    nbgrader = workspace.api()
    nbgrader.config.ExchangeReleaseAssignment.force = force
    return nbgrader


def make_private(root: Path) -> None:
    """Only the instructor may enter ``root``: it holds the solutions, the gradebook and every submission."""
    if root.stat().st_mode & 0o077:
        root.chmod(stat.S_IMODE(root.stat().st_mode) & 0o700)


def release(workspace: Workspace, assignments: list[str], force: bool = False) -> dict[str, Path]:
    """Put each built assignment into the exchange (nbgrader's ``release_assignment``).

    ``force`` replaces an assignment already released. Returns ``{assignment: outbound folder}``.
    """
    assignments = checked(workspace, assignments)
    missing = [a for a in assignments if not workspace.notebook("release", a).is_file()]
    if missing:
        raise ExchangeError(f"{', '.join(missing)}: not built in {workspace.root}; "
                            "run `autodiff-course build`.")
    make_private(workspace.root)
    nbgrader = api(workspace, force)
    outbound = workspace.exchange_folder / nbgrader.coursedir.course_id / "outbound"
    released = {}
    for assignment in assignments:
        result = nbgrader.release_assignment(assignment)
        if not result["success"]:
            hint = " (add --force to replace it)" if "already exists" in why_failed(result) else ""
            raise ExchangeError(f"nbgrader could not release {assignment}: {why_failed(result)}{hint}")
        released[assignment] = outbound / assignment
    return released


def student_config(workspace: Workspace) -> str:
    """The students' ``nbgrader_config.py`` for a hub (``/etc/jupyter/`` or each ``~/.jupyter/``).

    It names the exchange and the course, for the assignment list, and turns on
    ``Validator.validate_all``: the visible checks are locked cells worth no points, which
    nbgrader's Validate button would otherwise pass over, answering "Success!" for stubs.
    """
    return ("# nbgrader's settings for the students of this course: the exchange, the course, and a\n"
            "# Validate button that reports the visible checks (cells worth no points).\n"
            "c = get_config()  # noqa: F821 (provided by Jupyter)\n"
            f"c.Exchange.root = {str(workspace.exchange_folder)!r}\n"
            f"c.CourseDirectory.course_id = {workspace.config().CourseDirectory.course_id!r}\n"
            "c.Validator.validate_all = True\n")


def collect(workspace: Workspace, assignments: list[str]) -> Collected:
    """Collect the newest submission of each student (nbgrader's ``collect``), ready for grading.

    nbgrader puts each into ``<workspace>/submitted/<student>/<assignment>/`` beside the
    submission's timestamp and secret (which feedback needs); ``grading.grade`` stages the
    notebooks it takes in that very place, so the notebooks are also copied to
    ``<workspace>/collected/`` (made afresh), the folder to hand to ``grading.grade``.
    """
    assignments = checked(workspace, assignments)
    nbgrader = api(workspace)
    inbound = workspace.exchange_folder / nbgrader.coursedir.course_id / "inbound"
    if not inbound.is_dir():
        raise ExchangeError(f"Nothing released through {workspace.exchange_folder}: "
                            "run `autodiff-course release` first.")
    collected = Collected(workspace.root / COLLECTED)
    shutil.rmtree(collected.folder, ignore_errors=True)
    for assignment in assignments:
        result = nbgrader.collect(assignment, update=True)
        collected.refused += [line.removeprefix("[ERROR] ") for line in result.get("log", "").splitlines()
                              if line.startswith("[ERROR]")]
        if not result["success"]:
            raise ExchangeError(f"nbgrader could not collect {assignment}: {why_failed(result)}")
        for submission in sorted(workspace.root.glob(f"submitted/*/{assignment}")):
            if not (submission / "timestamp.txt").is_file():
                continue  # graded from a folder or zip, not submitted through the exchange
            student = submission.parent.name
            for notebook in submission.rglob("*.ipynb"):
                if ".ipynb_checkpoints" in notebook.parts or notebook.is_symlink():
                    continue
                target = collected.folder / student / assignment / notebook.relative_to(submission)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(notebook, target)
            collected.students.setdefault(assignment, []).append(student)
    if not collected.students:
        raise ExchangeError(f"Nothing submitted to {workspace.exchange_folder} "
                            f"for {', '.join(assignments)} yet.")
    return collected


def return_feedback(workspace: Workspace, assignments: list[str]) -> dict[str, list[str]]:
    """Release the feedback of every graded exchange submission (nbgrader's ``release_feedback``).

    Each student fetches their own with ``nbgrader fetch_feedback``. Returns ``{assignment: students}``;
    work graded from a folder or zip has no submission secret and is left out.
    """
    assignments = checked(workspace, assignments)
    nbgrader = api(workspace)
    returned: dict[str, list[str]] = {}
    for assignment in assignments:
        for folder in sorted(workspace.root.glob(f"feedback/*/{assignment}")):
            if not (folder / "submission_secret.txt").is_file() or not any(folder.glob("*.html")):
                continue
            student = folder.parent.name
            result = nbgrader.release_feedback(assignment, student_id=student)
            if not result["success"]:
                raise ExchangeError(f"nbgrader could not release {student}'s feedback on {assignment}: "
                                    f"{why_failed(result)}")
            returned.setdefault(assignment, []).append(student)
    if not returned:
        raise ExchangeError(f"No feedback on {', '.join(assignments)} from exchange submissions: "
                            "run `autodiff-course collect` first.")
    return returned
