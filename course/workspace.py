"""Where nbgrader works: a folder outside the repository, laid out as an nbgrader course.

``source/`` is copied in from the course, and nbgrader writes ``release/``, ``submitted/``,
``autograded/``, ``feedback/`` and the SQLite ``gradebook.db`` beside it. The settings are
those of ``course/nbgrader_config.py``, with the root moved here; the gradebook may live in
a database server instead (``db``, a SQLAlchemy URL such as ``postgresql+psycopg://...``),
and the exchange in the hub's shared folder (``exchange``).
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import CheckCellMetadata, Execute, OverwriteCells
from sqlalchemy import create_engine, inspect, make_url
from sqlalchemy.exc import SAWarning
from traitlets.config import Config, PyFileConfigLoader

from course.exchange_collect import OwnFilesCollect
from course.notebooks import COURSE_ROOT, SOURCE
from course.preprocessors import ApplyVerdicts, RestoreMissingCells, SeededExecute


def why_failed(result: dict) -> str:
    """Why one of nbgrader's API calls failed: the last line of its traceback, else of its log."""
    text = result.get("error") or result.get("log") or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


@dataclass(frozen=True)
class Workspace:
    root: Path
    db: str | None = None  # the gradebook's URL; None: SQLite in ``gradebook.db`` here
    exchange: Path | None = None  # nbgrader's exchange folder; None: ``exchange/`` here

    @property
    def gradebook(self) -> Path:
        return self.root / "gradebook.db"

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.gradebook}"

    @property
    def db_name(self) -> str:
        """The gradebook's URL as it may be printed: without its password."""
        return make_url(self.db_url).render_as_string(hide_password=True)

    @property
    def exchange_folder(self) -> Path:
        return self.exchange or self.root / "exchange"

    def built(self) -> bool:
        """Whether ``build`` has made the gradebook (it records every assignment in it)."""
        if self.db is None:
            return self.gradebook.exists()
        engine = create_engine(self.db_url)
        try:
            return "assignment" in inspect(engine).get_table_names()
        finally:
            engine.dispose()

    def require_built(self) -> None:
        if not self.built():
            raise FileNotFoundError(f"No gradebook in {self.db_name if self.db else self.root}: "
                                    "run `autodiff-course build` first.")

    @property
    def grades_csv(self) -> Path:
        return self.root / "grades.csv"

    def folder(self, stage: str, assignment: str, student: str = "") -> Path:
        """``<root>/<stage>/[<student>/]<assignment>``, as nbgrader lays it out."""
        parts = [stage, student, assignment] if student else [stage, assignment]
        return self.root.joinpath(*parts)

    def notebook(self, stage: str, assignment: str, student: str = "") -> Path:
        return self.folder(stage, assignment, student) / f"{assignment}.ipynb"

    @property
    def verdicts(self) -> Path:
        """The sandboxed judge's verdicts, one JSON file per ``<student>/<assignment>``."""
        return self.root / "verdicts"

    def config(self, verdicts: Path | None = None, seed: str | None = None) -> Config:
        """The course's nbgrader settings, rooted here.

        Given ``verdicts`` (a folder of the sandboxed judge's), autograde applies them
        (``ApplyVerdicts``) instead of running the notebook in a kernel with nbgrader's
        ``Execute``; given ``seed``, the kernel's hidden tests draw their cases from it (``SeededExecute``).
        """
        config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE_ROOT)).load_config()
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.db_url = self.db_url
        config.Exchange.root = str(self.exchange_folder)
        config.ExchangeFactory.collect = OwnFilesCollect
        sanitize = Autograde.class_traits()["sanitize_preprocessors"].default()
        config.Autograde.sanitize_preprocessors = [
            step for before in sanitize for step in ([RestoreMissingCells, before] if before is OverwriteCells
                                                     else [before])]
        config.RestoreMissingCells.source_folder = str(self.root / "source")
        steps = Autograde.class_traits()["autograde_preprocessors"].default()
        if verdicts is None:
            steps = [SeededExecute if step is Execute else step for step in steps]
        else:  # no code runs, so the metadata checked while sanitizing cannot change: not checked twice
            steps = [ApplyVerdicts if step is Execute else step
                     for step in steps if step is not CheckCellMetadata]
        config.Autograde.autograde_preprocessors = steps
        config.ApplyVerdicts.verdict_folder = str(verdicts or "")
        config.SeededExecute.seed = seed or ""
        return config

    def api(self, verdicts: Path | None = None, seed: str | None = None) -> NbGraderAPI:
        """nbgrader's Python API on this workspace, its logging kept out of the terminal.

        nbgrader runs ``alembic`` and starts kernels by command name, so this Python's
        ``bin`` folder goes first on ``PATH`` (a virtual environment need not be activated).
        """
        bin_folder = str(Path(sys.executable).parent)
        if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_folder:
            os.environ["PATH"] = os.pathsep.join([bin_folder, os.environ.get("PATH", "")])
        # nbgrader 0.9.6 adds a submission to the session late; SQLAlchemy 2 warns, harmlessly.
        warnings.filterwarnings("ignore", category=SAWarning, module="nbgrader")
        config = self.config(verdicts, seed)
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        api.log.setLevel(logging.ERROR)
        return api

    def copy_sources(self) -> None:
        """Make ``source/`` a fresh copy of the course's source assignments."""
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.root / "source", ignore_errors=True)
        shutil.copytree(SOURCE, self.root / "source",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
