"""Steps added to nbgrader's autograde: restoring deleted cells, and applying verdicts or seeding the kernel.

``RestoreMissingCells`` puts back every locked cell of the source notebook (setup, visible
checks, hidden tests) that a student deleted, where it stood, so a deleted test is scored
instead of its grade going blank. (nbgrader's own ``add_missing_cells`` fails when the
cell before the missing one is not a grade cell.)

``ApplyVerdicts`` takes the place of nbgrader's ``Execute``: instead of running the
student's notebook (and the hidden tests with it) in one kernel, it writes into each test
cell the outcome the sandboxed judge recorded, an error output carrying the judge's
sentence for a failed test and a short line for a passed one. nbgrader's own
``SaveAutoGrades`` then reads the cells as usual and records the scores in the gradebook,
so everything downstream (feedback, exports, the formgrader) is plain nbgrader.

``SeededExecute`` is nbgrader's ``Execute`` for the plain engine, the session's seed passed
in the kernel's environment, where the hidden tests' runner (``grader_tests.runner``) reads it.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Unicode

from course.notebooks import grade_id, nbgrader_of
from course.sandbox.verdicts import applied
from grader_tests.runner import SEED_VARIABLE


class RestoreMissingCells(NbGraderPreprocessor):
    source_folder = Unicode("", help="The course's source folder: <assignment>/<notebook>.ipynb.").tag(
        config=True)

    def preprocess(self, nb, resources):
        assignment, name = resources["nbgrader"]["assignment"], resources["nbgrader"]["notebook"]
        source = nbformat.read(Path(self.source_folder) / assignment / f"{name}.ipynb", as_version=4)
        place = 0
        for cell in source.cells:
            wanted = grade_id(cell)
            present = [i for i, c in enumerate(nb.cells) if wanted and grade_id(c) == wanted]
            if present:
                place = present[0] + 1
            elif wanted and nbgrader_of(cell).get("locked"):
                nb.cells.insert(place, copy.deepcopy(cell))
                place += 1
        return nb, resources


class ApplyVerdicts(NbGraderPreprocessor):
    verdict_folder = Unicode("", help="Folder of <student>/<assignment>.json verdict files.").tag(config=True)

    def preprocess(self, nb, resources):
        student, assignment = resources["nbgrader"]["student"], resources["nbgrader"]["assignment"]
        verdicts = applied(Path(self.verdict_folder), student, assignment)
        for cell in nb.cells:
            meta = nbgrader_of(cell)
            if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            verdict = verdicts.get(meta.get("grade_id"))
            if verdict is None:
                cell.outputs = [failure_output("This test was not run by the grader.")]
            elif verdict.passed:
                cell.outputs = [new_output("stream", name="stdout", text="Passed.\n")]
            else:
                cell.outputs = [failure_output(verdict.message)]
        return nb, resources


def failure_output(message: str):
    return new_output("error", ename="TestFailed", evalue=message, traceback=[f"TestFailed: {message}"])


class SeededExecute(Execute):
    seed = Unicode("", help="The grading session's seed; empty: fresh cases.").tag(config=True)

    def start_new_kernel(self, **kwargs):
        environment = dict(os.environ)
        if self.seed:
            environment[SEED_VARIABLE] = self.seed
        return super().start_new_kernel(env=environment, **kwargs)
