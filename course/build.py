"""``autodiff-course build``: check the source notebooks, then release every assignment.

The checks catch what would break grading later or leak answers: invalid notebooks or
nbgrader metadata, outputs left in a source notebook, a hidden test cell that does not call
``grader_tests``, and, after nbgrader has made the release, any line of a solution or of a
hidden test that is still in it.
"""

from __future__ import annotations

import re
from collections import Counter

import nbformat

from course import notebooks
from course.workspace import Workspace

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


class BuildError(Exception):
    """The course cannot be released as it stands; the message lists every problem."""


def source_problems(assignment: str) -> list[str]:
    """Everything wrong with the source notebook of ``assignment``, one sentence each."""
    path = notebooks.source_path(assignment)
    try:
        notebook = notebooks.read(path)
        nbformat.validate(notebook)
    except Exception as error:
        return [f"{path.name} is not a valid notebook: {error}"]
    problems = []
    ids = Counter(notebooks.grade_id(cell) for cell in notebook.cells if notebooks.nbgrader_of(cell))
    problems += [f"{assignment}: grade_id {name!r} is used by {n} cells." for name, n in ids.items() if n > 1]
    for cell in notebook.cells:
        meta, name = notebooks.nbgrader_of(cell), notebooks.grade_id(cell)
        where = f"{assignment}, cell {name or cell.get('id')}"
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"{where}: has outputs; clear them before committing.")
        if not meta:
            continue
        if meta.get("schema_version") != 3:
            problems.append(f"{where}: nbgrader metadata is not schema version 3.")
        if meta.get("solution") and not SOLUTION.search(cell.source):
            problems.append(f"{where}: a solution cell without ### BEGIN/END SOLUTION.")
        if meta.get("grade") and not meta.get("solution"):
            call = f'grade("{assignment}", "{name}", globals())'
            if not meta.get("locked") or float(meta.get("points", 0)) <= 0:
                problems.append(f"{where}: a test cell must be locked and worth points.")
            hidden = HIDDEN.search(cell.source)
            if hidden is None or call not in hidden.group(1):
                problems.append(f"{where}: the hidden block must call {call}.")
    return problems


def release_leaks(source: nbformat.NotebookNode, release: nbformat.NotebookNode) -> list[str]:
    """Lines found only inside the source's solution and hidden-test blocks, yet present in ``release``.

    A line the instructor also shows in the open (a helper in a visible check, say) is public.
    """
    def strip_secrets(text: str) -> str:
        return HIDDEN.sub("", SOLUTION.sub("", text))

    public = "\n".join(strip_secrets(cell.source) for cell in source.cells)
    released = "\n".join(cell.source for cell in release.cells)
    secret_lines = {line.strip() for cell in source.cells
                    for block in SOLUTION.findall(cell.source) + HIDDEN.findall(cell.source)
                    for line in block.splitlines() if len(line.strip()) > 12 and line.strip() not in public}
    markers = {"BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "grader_tests"}
    return sorted(line for line in secret_lines | markers if line in released)


def build(workspace: Workspace) -> dict[str, str]:
    """Validate every source and generate its release; ``{assignment: release path}``."""
    assignments = notebooks.assignments()
    problems = [problem for assignment in assignments for problem in source_problems(assignment)]
    if problems:
        raise BuildError("The course sources have problems:\n  " + "\n  ".join(problems))
    workspace.copy_sources()
    api = workspace.api()
    releases = {}
    for assignment in assignments:
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            details = result.get("error") or result["log"]
            raise BuildError(f"nbgrader could not release {assignment}:\n{details}")
        release_path = workspace.notebook("release", assignment)
        leaks = release_leaks(notebooks.read(notebooks.source_path(assignment)), notebooks.read(release_path))
        if leaks:
            raise BuildError(f"The release of {assignment} still contains: {leaks}")
        releases[assignment] = str(release_path)
    return releases
