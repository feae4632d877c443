"""``autodiff-course grade``: from a folder of submissions to grades, feedback and a CSV.

Two engines record grades in nbgrader's gradebook. ``sandbox`` (the default) has the
hidden tests judged outside the student's reach (``grader_tests.sandbox``: a confined fork
server per core, resumable), then runs nbgrader's ``autograde`` with the verdicts put into
the test cells. ``plain`` is nbgrader as it comes: each notebook run in one kernel together
with its hidden tests, one after another. Either way nbgrader restores locked cells,
records the scores, writes the feedback HTML and exports the CSV, through its Python API.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin
from rich.progress import Progress

from course import notebooks
from course.repair import Unrepairable, repair_file
from course.submissions import Intake, Submission, collect
from course.workspace import Workspace
from grader_tests.runner import SEED_VARIABLE
from grader_tests.sandbox.judge import Limits, check_sandbox_available
from grader_tests.sandbox.namespaces import die_with_parent
from grader_tests.sandbox.pool import Job, fingerprint, judge_all, session_seed

ENGINES = ("sandbox", "plain")


@dataclass
class GradingRun:
    intake: Intake
    graded: int

    @property
    def problems(self) -> list[str]:
        return self.intake.problems


def last_line(text: str) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def job_of(workspace: Workspace, submission: Submission) -> Job:
    return Job(submission.student, submission.assignment, workspace.notebook("source", submission.assignment),
               submission.path, workspace.verdicts / submission.student / f"{submission.assignment}.json")


def grade(workspace: Workspace, source: Path, progress: Progress, engine: str = "sandbox",
          workers: int | None = None, limits: Limits | None = None, feedback: bool = True) -> GradingRun:
    """Take in ``source``, grade every submission into the gradebook, write feedback and ``grades.csv``.

    Judging and feedback run on ``workers`` processes (all cores by default); recording in
    the SQLite gradebook runs in this one, as SQLite takes one writer at a time.
    """
    workers = workers or os.cpu_count() or 1
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    if not workspace.gradebook.exists():
        raise FileNotFoundError(f"No gradebook in {workspace.root}: run `autodiff-course build` first.")
    if engine == "sandbox":
        check_sandbox_available()
    intake = collect(source, notebooks.assignments(), workspace.root / "submitted")
    repair_submissions(workspace, intake)
    todo = intake.submissions
    seed = session_seed(workspace.verdicts)
    if engine == "sandbox":
        jobs = [job_of(workspace, submission) for submission in intake.submissions]
        task = progress.add_task(f"Judging on {workers} cores", total=len(jobs))
        judge_all(jobs, seed, workers, limits or Limits(), done=lambda job: progress.advance(task))
        todo = [s for s, job in zip(intake.submissions, jobs, strict=True) if not recorded(job, seed)]
    api = workspace.api(sandboxed=engine == "sandbox")
    task = progress.add_task("Autograding into the gradebook", total=len(intake.submissions))
    progress.advance(task, len(intake.submissions) - len(todo))
    recorded_now = []
    for submission in todo:
        with seeded(seed):  # plain nbgrader's kernels draw their cases from the session's seed
            result = api.autograde(submission.assignment, submission.student, force=True, create=True)
        if result["success"]:
            recorded_now.append(submission)
        else:
            reason = last_line(result.get("error") or result["log"])
            intake.problems.append(f"{submission.student}/{submission.assignment}: nbgrader could not grade "
                                   f"it: {reason}")
        progress.advance(task)
    if feedback:
        write_feedback(workspace, recorded_now, workers, intake, progress)
    for submission in recorded_now:  # the gradebook now holds the sandbox's verdicts, or plain's own grades
        job = job_of(workspace, submission)
        if engine == "sandbox":
            mark_recorded(job, seed)
        else:
            _marker(job).unlink(missing_ok=True)
    export_csv(workspace)
    return GradingRun(intake, len(intake.submissions) - len(todo) + len(recorded_now))


def repair_submissions(workspace: Workspace, intake: Intake) -> None:
    """Repair each taken-in notebook's grading metadata against its release (``course.repair``).

    A line per repaired notebook goes to ``intake.repairs``; a notebook that cannot be
    repaired is named, with its cell, in ``intake.problems`` and left out, the rest graded.
    """
    releases: dict[str, nbformat.NotebookNode] = {}
    kept = []
    for submission in intake.submissions:
        assignment, name = submission.assignment, f"{submission.student}/{submission.assignment}.ipynb"
        if assignment not in releases:
            releases[assignment] = notebooks.read(workspace.notebook("release", assignment))
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


@contextmanager
def seeded(seed: str):
    """``AUTODIFF_COURSE_SEED`` set to ``seed`` for what runs inside, then restored."""
    before = os.environ.get(SEED_VARIABLE)
    os.environ[SEED_VARIABLE] = seed
    try:
        yield
    finally:
        if before is None:
            del os.environ[SEED_VARIABLE]
        else:
            os.environ[SEED_VARIABLE] = before


def _feedback(root: Path, assignment: str, student: str) -> str | None:
    """nbgrader's ``generate_feedback`` for one notebook: None, or why it failed."""
    result = Workspace(root).api().generate_feedback(assignment, student, force=True)
    return None if result["success"] else last_line(result.get("error") or result["log"])


def write_feedback(workspace: Workspace, submissions: list[Submission], workers: int, intake: Intake,
                   progress: Progress) -> None:
    """Feedback HTML for each submission, on ``workers`` processes (it only reads the gradebook)."""
    task = progress.add_task("Writing feedback", total=len(submissions))
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=die_with_parent, initargs=(os.getpid(),)) as executor:
        futures = {executor.submit(_feedback, workspace.root, s.assignment, s.student): s
                   for s in submissions}
        for future in as_completed(futures):
            if (error := future.result()) is not None:
                submission = futures[future]
                intake.problems.append(f"{submission.student}/{submission.assignment}: graded, but no "
                                       f"feedback: {error}")
            progress.advance(task)


def _marker(job: Job) -> Path:
    return job.verdict_file.with_suffix(".recorded")


def recorded(job: Job, seed: str) -> bool:
    """Whether these very verdicts are already in the gradebook (and their feedback written)."""
    marker = _marker(job)
    return marker.exists() and marker.read_text() == fingerprint(job, seed)


def mark_recorded(job: Job, seed: str) -> None:
    _marker(job).write_text(fingerprint(job, seed))


def export_csv(workspace: Workspace) -> Path:
    """nbgrader's CSV export of the whole gradebook to ``grades.csv``."""
    with Gradebook(workspace.db_url, workspace.config().CourseDirectory.course_id) as gradebook:
        CsvExportPlugin(to=str(workspace.grades_csv)).export(gradebook)
    return workspace.grades_csv
