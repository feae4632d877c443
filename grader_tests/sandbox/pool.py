"""Judging a whole class on all cores, resumably.

Each job is one student's notebook for one assignment. Worker processes each own a
``Sandbox`` and judge jobs as they come; every verdict is written to its own JSON file
(atomically: written aside, then renamed), stamped with a fingerprint of the submission, the
source notebook and the session's seed. A job whose file already carries the right
fingerprint is not judged again, so an interrupted run picks up where it stopped, and a
resubmitted notebook is judged afresh. Cases are drawn from the session seed, the student
and the test cell, so one worker or many give identical grades.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import nbformat

from grader_tests.runner import SEED_VARIABLE
from grader_tests.sandbox.judge import Limits, Sandbox, Verdict, judge_submission
from grader_tests.sandbox.namespaces import die_with_parent


@dataclass(frozen=True)
class Job:
    student: str
    assignment: str
    source: Path
    submission: Path
    verdict_file: Path


def session_seed(folder: Path) -> str:
    """The grading session's seed: ``AUTODIFF_COURSE_SEED`` if set, else made once and kept in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "seed"
    if SEED_VARIABLE in os.environ:
        path.write_text(os.environ[SEED_VARIABLE])
    elif not path.exists():
        path.write_text(secrets.token_hex(16))
    return path.read_text().strip()


def fingerprint(job: Job, seed: str) -> str:
    digest = hashlib.sha256(seed.encode())
    for path in (job.source, job.submission):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load(job: Job, seed: str) -> list[Verdict] | None:
    """The verdicts already on disk for ``job``, if they are for this very submission."""
    try:
        saved = json.loads(job.verdict_file.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("fingerprint") != fingerprint(job, seed):
        return None
    return [Verdict(**verdict) for verdict in saved["verdicts"]]


def save(job: Job, seed: str, verdicts: list[Verdict]) -> None:
    job.verdict_file.parent.mkdir(parents=True, exist_ok=True)
    aside = job.verdict_file.with_suffix(".tmp")
    aside.write_text(json.dumps({"fingerprint": fingerprint(job, seed),
                                 "verdicts": [v.as_dict() for v in verdicts]}, indent=1))
    aside.replace(job.verdict_file)


_sandbox: Sandbox | None = None


def _start_worker(seed: str) -> None:
    global _sandbox
    os.environ[SEED_VARIABLE] = seed
    _sandbox = Sandbox()
    atexit.register(_sandbox.close)


def _start_pool_worker(seed: str, parent: int) -> None:
    die_with_parent(parent)
    _start_worker(seed)


def _judge(job: Job, seed: str, limits: Limits) -> Job:
    global _sandbox
    if not _sandbox.alive():  # should never happen (children cannot signal it), but lose nothing if it does
        _sandbox = Sandbox()
    source = nbformat.read(job.source, as_version=4)
    submission = nbformat.read(job.submission, as_version=4)
    save(job, seed, judge_submission(_sandbox, job.assignment, source, submission, limits))
    return job


def judge_all(jobs: Iterable[Job], seed: str, workers: int, limits: Limits,
              done: Callable[[Job], None] = lambda job: None) -> None:
    """Judge every job without a current verdict file, on ``workers`` processes; ``done`` after each."""
    todo = []
    for job in jobs:
        if load(job, seed) is None:
            todo.append(job)
        else:
            done(job)
    if workers <= 1:
        _start_worker(seed)
        try:
            for job in todo:
                done(_judge(job, seed, limits))
        finally:
            _sandbox.close()
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                             initializer=_start_pool_worker, initargs=(seed, os.getpid())) as executor:
        futures = [executor.submit(_judge, job, seed, limits) for job in todo]
        try:
            for future in as_completed(futures):
                done(future.result())
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
