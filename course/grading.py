"""``autodiff-course grade``: from a folder of submissions to grades, feedback and a CSV.

One run reads: take in the class (``submissions``, then ``repair``), judge, record, feed
back, export. The engine, chosen once, decides the first two steps. ``sandbox`` (the
default) has the hidden tests judged outside the student's reach (``course.sandbox``: a
confined fork server per core, resumable), then nbgrader's ``autograde`` records the
verdicts (``preprocessors.ApplyVerdicts`` writes them into the test cells). ``plain`` is
nbgrader as it comes: ``autograde`` runs each notebook in one kernel together with its
hidden tests. Either way nbgrader restores locked cells, records the scores, writes the
feedback HTML and exports the CSV, through its Python API.
"""

from __future__ import annotations

import functools
import os
import time
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.plugins.export import CsvExportPlugin
from rich.progress import Progress

from course import notebooks
from course.repair import repair_intake
from course.sandbox.judge import Limits, check_sandbox_available
from course.sandbox.pool import cluster_executor, judge_all, local_executor
from course.sandbox.verdicts import Job, VerdictStore
from course.submissions import Intake, Submission, collect
from course.workspace import Workspace, why_failed

if TYPE_CHECKING:
    from distributed import Client

PLUGIN = "grader_tests.plugin"  # the checks the sandbox runs (course.sandbox.plugin)


@dataclass
class GradingRun:
    intake: Intake
    graded: int
    seconds: dict[str, float]  # per step: intake, judging, recording, feedback, export

    @property
    def problems(self) -> list[str]:
        return self.intake.problems


class Engine:
    """How a run judges (``judge``), has autograde record (``settings``), and notes it (``recorded``)."""

    def __init__(self, workspace: Workspace, store: VerdictStore, workers: int, limits: Limits,
                 scheduler: str | Client | None = None) -> None:
        self.workspace, self.store, self.workers, self.limits = workspace, store, workers, limits
        self.scheduler = scheduler

    def job(self, submission: Submission) -> Job:
        return Job(submission.student, submission.assignment,
                   self.workspace.notebook("source", submission.assignment), submission.path)


class SandboxEngine(Engine):
    """Judge in the sandbox on ``workers`` cores, or on a Dask cluster's workers; autograde then applies
    the verdicts."""

    def __init__(self, workspace: Workspace, store: VerdictStore, workers: int, limits: Limits,
                 scheduler: str | Client | None = None) -> None:
        if scheduler is None:  # before anything is taken in: one sentence where it cannot run
            check_sandbox_available()  # (a cluster's workers are checked by their first judge)
        super().__init__(workspace, store, workers, limits, scheduler)

    def judge(self, submissions: list[Submission], progress: Progress) -> list[Submission]:
        """Judge what has no verdicts yet; the submissions whose verdicts are not yet in the gradebook."""
        where = f"the cluster at {self.scheduler}" if self.scheduler else f"{self.workers} cores"
        task = progress.add_task(f"Judging on {where}", total=len(submissions))
        judges = cluster_executor(self.scheduler) if self.scheduler else local_executor(self.workers)
        with judges as executor:
            judge_all([self.job(s) for s in submissions], self.store, PLUGIN, self.limits, executor,
                      done=lambda job: progress.advance(task))
        return [s for s in submissions if not self.store.recorded(self.job(s), self.workspace.db_url)]

    def settings(self) -> dict:
        return {"verdicts": self.store.folder}  # autograde applies them

    def recorded(self, submission: Submission) -> None:
        self.store.mark_recorded(self.job(submission), self.workspace.db_url)


class PlainEngine(Engine):
    """nbgrader's own autograde: each notebook run with its hidden tests in a kernel with your rights."""

    def judge(self, submissions: list[Submission], progress: Progress) -> list[Submission]:
        return submissions  # the kernel judges while autograde records

    def settings(self) -> dict:
        return {"seed": self.store.seed}  # autograde runs the notebook, its hidden tests drawing from it

    def recorded(self, submission: Submission) -> None:
        self.store.forget_recorded(self.job(submission))  # the gradebook holds plain's grades now


ENGINES = {"sandbox": SandboxEngine, "plain": PlainEngine}


def grade(workspace: Workspace, source: Path, progress: Progress, engine: str = "sandbox",
          workers: int | None = None, limits: Limits | None = None, feedback: bool = True,
          seed: str | None = None, scheduler: str | Client | None = None) -> GradingRun:
    """Take in ``source``, grade every submission into the gradebook, write feedback and ``grades.csv``.

    Cases are drawn from ``seed`` (default: the one kept in the workspace from an earlier
    run, else a new one), so a rerun, resumed or not, gives the same grades. Judging runs on
    the workers of the Dask cluster ``scheduler`` (its address, or a client) if given, else on
    ``workers`` processes (all cores by default), as do feedback and, in a database server's
    gradebook, recording.
    """
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
    workspace.require_built()
    workers = workers or os.cpu_count() or 1
    store = VerdictStore.session(workspace.verdicts, seed)
    if scheduler is not None and engine != "sandbox":
        raise ValueError("Only the sandbox engine judges on a cluster: drop --scheduler or --engine plain.")
    judge = ENGINES[engine](workspace, store, workers, limits or Limits(), scheduler)
    clock = Stopwatch()
    intake = collect(source, notebooks.assignments(), workspace.root / "submitted")
    repair_intake(intake, lambda assignment: workspace.notebook("release", assignment))
    clock.lap("intake")
    todo = judge.judge(intake.submissions, progress)
    clock.lap("judging")
    recorded = record(workspace, judge.settings(), todo, intake, progress, workers)
    clock.lap("recording")
    if feedback:
        write_feedback(workspace, recorded, workers, intake, progress)
        clock.lap("feedback")
    for submission in recorded:
        judge.recorded(submission)
    export_csv(workspace)
    clock.lap("export")
    return GradingRun(intake, len(intake.submissions) - len(todo) + len(recorded), clock.laps)


class Stopwatch:
    """Seconds spent in each step of a run, in order."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.laps[step], self.last = now - self.last, now


def record(workspace: Workspace, settings: dict, todo: list[Submission], intake: Intake, progress: Progress,
           workers: int) -> list[Submission]:
    """nbgrader's ``autograde`` of each submission in ``todo``; those it recorded in the gradebook.

    SQLite takes one writer at a time, so there it runs in this process; a database server
    takes many, so there it runs on ``workers`` processes, each student made first (two
    processes adding the same new student would clash).
    """
    total = len(intake.submissions)
    task = progress.add_task("Autograding into the gradebook", total=total)
    progress.advance(task, total - len(todo))
    if workspace.db is None or workers == 1 or len(todo) < 2:
        outcomes = (autograde(workspace, settings, s.assignment, s.student) for s in todo)
        executor = None
    else:
        add_students(workspace, {s.student for s in todo})
        executor = local_executor(workers)
        outcomes = executor.map(autograde, [workspace] * len(todo), [settings] * len(todo),
                                [s.assignment for s in todo], [s.student for s in todo])
    recorded = []
    try:
        for submission, error in zip(todo, outcomes, strict=True):
            if error is None:
                recorded.append(submission)
            else:
                intake.problems.append(f"{submission.student}/{submission.assignment}: nbgrader could not "
                                       f"grade it: {error}")
            progress.advance(task)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    return recorded


@functools.cache
def _api(workspace: Workspace, settings: tuple) -> NbGraderAPI:
    return workspace.api(**dict(settings))


def autograde(workspace: Workspace, settings: dict, assignment: str, student: str) -> str | None:
    """nbgrader's ``autograde`` of one submission: None, or why it failed."""
    result = _api(workspace, tuple(sorted(settings.items()))).autograde(assignment, student, force=True,
                                                                        create=True)
    return None if result["success"] else why_failed(result)


def add_students(workspace: Workspace, students: set[str]) -> None:
    with Gradebook(workspace.db_url, workspace.config().CourseDirectory.course_id) as gradebook:
        for student in sorted(students):
            gradebook.update_or_create_student(student)


def _feedback(workspace: Workspace, assignment: str, student: str) -> str | None:
    """nbgrader's ``generate_feedback`` for one notebook: None, or why it failed."""
    result = workspace.api().generate_feedback(assignment, student, force=True)
    return None if result["success"] else why_failed(result)


def write_feedback(workspace: Workspace, submissions: list[Submission], workers: int, intake: Intake,
                   progress: Progress) -> None:
    """Feedback HTML for each submission, on ``workers`` processes (it only reads the gradebook)."""
    task = progress.add_task("Writing feedback", total=len(submissions))
    with local_executor(workers) as executor:
        futures = {executor.submit(_feedback, workspace, s.assignment, s.student): s
                   for s in submissions}
        for future in as_completed(futures):
            if (error := future.result()) is not None:
                submission = futures[future]
                intake.problems.append(f"{submission.student}/{submission.assignment}: graded, but no "
                                       f"feedback: {error}")
            progress.advance(task)


def export_csv(workspace: Workspace) -> Path:
    """nbgrader's CSV export of the whole gradebook to ``grades.csv``."""
    with Gradebook(workspace.db_url, workspace.config().CourseDirectory.course_id) as gradebook:
        CsvExportPlugin(to=str(workspace.grades_csv)).export(gradebook)
    return workspace.grades_csv
