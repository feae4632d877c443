"""Judging a whole class on all cores, resumably.

Each job is one student's notebook for one assignment, sent to an ``Executor``: local
processes (``local_executor``) or a Dask cluster's workers (``cluster_executor``). Each
worker thread owns a ``Judge`` (and with it a sandbox), made on its first job; it receives
the two notebooks' contents and returns the verdicts as plain data, so a worker needs no
view of this machine's files. This process saves each job's verdicts in the session's
``VerdictStore`` as they come back; a job whose verdicts are already there, for this very
submission, is not judged again, so an interrupted run picks up where it stopped. Cases
are drawn from the session's seed and the test cell, so one worker or many give
identical grades.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict
from multiprocessing import get_context
from typing import TYPE_CHECKING

import nbformat

from course.sandbox.judge import Judge, Limits
from course.sandbox.namespaces import die_with_parent
from course.sandbox.verdicts import Job, Verdict, VerdictStore

if TYPE_CHECKING:
    from distributed import Client

_local = threading.local()  # a judge per thread: a sandbox serves one judge at a time


def judge_notebook(plugin: str, seed: str, limits: Limits, assignment: str, source: str,
                   submission: str) -> list[dict]:
    """The verdicts on one submission (notebooks as JSON text), by this thread's judge for the session."""
    judges = _local.__dict__.setdefault("judges", {})
    key = (plugin, seed, limits)
    if key not in judges:
        judges[key] = Judge(plugin, seed, limits)
        atexit.register(judges[key].close)
    verdicts = judges[key].submission(assignment, nbformat.reads(source, as_version=4),
                                      nbformat.reads(submission, as_version=4))
    return [asdict(verdict) for verdict in verdicts]


def local_executor(workers: int) -> Executor:
    """``workers`` processes on this machine, each killed by the kernel if this one dies."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                               initializer=die_with_parent, initargs=(os.getpid(),))


class ClusterUnavailable(RuntimeError):
    """No Dask scheduler answered at the address given."""


@contextmanager
def cluster_executor(scheduler: str | Client, timeout: float = 30) -> Iterator[Executor]:
    """The workers of a Dask cluster: its scheduler's address (``tcp://host:port``), or a client of it.

    A client is what a Dask-Gateway cluster gives (its address needs the gateway's
    credentials). The workers must have this package and the checks' plugin installed; each
    runs sandboxes of its own, so it needs what the sandbox needs (Linux, Landlock, user namespaces).
    """
    from distributed import Client  # only a run on a cluster needs Dask

    if isinstance(scheduler, Client):
        yield scheduler.get_executor(pure=False)
        return
    try:
        client = Client(scheduler, timeout=timeout, set_as_default=False)
    except OSError as error:
        raise ClusterUnavailable(f"No Dask scheduler answered at {scheduler} ({error}): start one "
                                 "(`dask scheduler`) and its workers, or grade on this machine.") from None
    with client:
        yield client.get_executor(pure=False)


def judge_all(jobs: Iterable[Job], store: VerdictStore, plugin: str, limits: Limits, executor: Executor,
              done: Callable[[Job], None] = lambda job: None) -> None:
    """Judge every job without current verdicts in ``store`` on ``executor``; ``done`` after each job."""
    todo = []
    for job in jobs:
        if store.load(job) is None:
            todo.append(job)
        else:
            done(job)
    futures = {executor.submit(judge_notebook, plugin, store.seed, limits, job.assignment,
                               job.source.read_text(), job.submission.read_text()): job for job in todo}
    try:
        for future in as_completed(futures):
            job = futures[future]
            store.save(job, [Verdict(**verdict) for verdict in future.result()])
            done(job)
    except BaseException:
        for future in futures:
            future.cancel()
        raise
