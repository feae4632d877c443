"""The judge's verdicts on disk: written by the engine, applied by nbgrader's autograde.

A grading session keeps, in one folder::

    seed                              the session's seed: every case is drawn from it
    <student>/<assignment>.json       {"fingerprint": ..., "verdicts": [{cell, points, score, message}]}
    <student>/<assignment>.recorded   the fingerprint of the verdicts now in the gradebook, and its URL

The fingerprint hashes the seed, the source notebook and the submission, so verdicts on
disk count only for this very submission in this session: an interrupted run judges
what has none, a resubmission is judged afresh, and a run records in the gradebook only
what is not there yet. Files are written aside and renamed, so a stop leaves none half done.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Verdict:
    """One test cell's outcome: ``score`` of ``points``, and the sentence the student reads if it failed."""

    cell: str
    points: float
    score: float
    message: str

    @property
    def passed(self) -> bool:
        return self.score >= self.points


@dataclass(frozen=True)
class Job:
    """One student's notebook for one assignment, and the source notebook it is judged against."""

    student: str
    assignment: str
    source: Path
    submission: Path


class MissingVerdicts(RuntimeError):
    """A notebook reached autograde before the judge had recorded its verdicts."""


@dataclass(frozen=True)
class VerdictStore:
    folder: Path
    seed: str

    @classmethod
    def session(cls, folder: Path, seed: str | None = None) -> VerdictStore:
        """The store in ``folder``, its seed ``seed`` if given, else the one kept there, else a new one."""
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / "seed"
        if seed is not None:
            _write(kept, seed)
        elif not kept.exists():
            _write(kept, secrets.token_hex(16))
        return cls(folder, kept.read_text().strip())

    def path(self, job: Job, suffix: str = ".json") -> Path:
        return self.folder / job.student / f"{job.assignment}{suffix}"

    def fingerprint(self, job: Job) -> str:
        digest = hashlib.sha256(self.seed.encode())
        for path in (job.source, job.submission):
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def load(self, job: Job) -> list[Verdict] | None:
        """The verdicts on disk for ``job``, if they are for this very submission in this session."""
        try:
            saved = json.loads(self.path(job).read_text())
        except (OSError, ValueError):
            return None
        if saved.get("fingerprint") != self.fingerprint(job):
            return None
        return [Verdict(**verdict) for verdict in saved["verdicts"]]

    def save(self, job: Job, verdicts: list[Verdict]) -> None:
        _write(self.path(job), json.dumps({"fingerprint": self.fingerprint(job),
                                           "verdicts": [asdict(v) for v in verdicts]}, indent=1))

    def recorded(self, job: Job, gradebook: str) -> bool:
        """Whether these very verdicts are already in ``gradebook`` (a URL), their feedback written."""
        marker = self.path(job, ".recorded")
        return marker.exists() and marker.read_text() == f"{self.fingerprint(job)} {gradebook}"

    def mark_recorded(self, job: Job, gradebook: str) -> None:
        _write(self.path(job, ".recorded"), f"{self.fingerprint(job)} {gradebook}")

    def forget_recorded(self, job: Job) -> None:
        """The gradebook holds another engine's grades for ``job`` now: record these again if asked."""
        self.path(job, ".recorded").unlink(missing_ok=True)


def applied(folder: Path, student: str, assignment: str) -> dict[str, Verdict]:
    """``{test cell: verdict}`` of the latest verdicts for ``student``'s ``assignment``, for autograde."""
    path = folder / student / f"{assignment}.json"
    if not path.exists():
        raise MissingVerdicts(f"No verdicts for {student}/{assignment} in {folder}.")
    return {v["cell"]: Verdict(**v) for v in json.loads(path.read_text())["verdicts"]}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(path.name + ".tmp")
    aside.write_text(text)
    aside.replace(path)
