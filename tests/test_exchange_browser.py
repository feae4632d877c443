"""The student's side of the exchange in a real browser: JupyterLab with nbgrader's assignment list.

The instructor (root) releases ``03_layer_vjps`` into an exchange folder with ``autodiff-course
release``. A throw-away Unix account runs JupyterLab as itself, on loopback, with nbgrader's
server extensions; headless Chromium plays the student: Nbgrader > Assignment List, Fetch,
open the notebook, type the answer of ``relu_vjp`` into its cell, save, press Validate and
read the visible checks' result, then Submit. The instructor collects and grades
(``autodiff-course collect``) and returns the feedback (``autodiff-course return-feedback``);
the student presses Fetch Feedback and opens it. The gradebook and the feedback give full
points to the function typed in and none to the others, which are still the stubs.

The student's ``~/.jupyter/nbgrader_config.py`` is the one ``release`` writes for the hub
(``exchange.student_config``): it names the exchange and the course, and turns on
``Validator.validate_all``: the course's visible checks are locked cells that carry no
points, and nbgrader's Validate reports only failed graded cells by default; with the hidden
tests stripped from the release, it would say "Success!" for a notebook of stubs.

Needs root (to make the account), Debian's Chromium at /usr/bin/chromium (``bash
scripts/setup-browser.sh``) and the ``browser`` and ``course`` extras. Leaves screenshots in
tests/artifacts/ (git-ignored): exchange-browser.png (the Validate dialog) and
exchange-browser-feedback.png (the feedback as the student opens it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import lab_support
import nbformat
import pytest
import unix_accounts
from course_support import built_workspace, points
from lab_support import ARTIFACTS, JupyterLab, log_tail, write_lab_settings

import autodiff_kit
from course import notebooks, report
from course.workspace import Workspace

ASSIGNMENT = "03_layer_vjps"
SOLVED = "relu_vjp"  # the function the student types in; the others stay stubs
COURSE = "autodiff"
STUB = ["    # YOUR CODE HERE", "    raise NotImplementedError()"]  # the release's body of a function

SCREENSHOT = ARTIFACTS / "exchange-browser.png"
FEEDBACK_SCREENSHOT = ARTIFACTS / "exchange-browser-feedback.png"
FAILURE_SCREENSHOT = ARTIFACTS / "exchange-browser-failure.png"

LOAD_TIMEOUT = 60_000  # milliseconds, for Playwright
VALIDATE_TIMEOUT = 120_000  # Validate runs the whole notebook in a fresh kernel
EXCHANGE_TIMEOUT = 30_000  # fetch, submit, fetch feedback


def instructor(workspace: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m course --workspace <workspace> <args>`` as root, as the instructor types it."""
    result = subprocess.run([sys.executable, "-m", "course", "--workspace", str(workspace), *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"autodiff-course {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def solution(source_cell: str) -> str:
    """The lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` of an instructor's cell."""
    found = re.search(r"^[ \t]*### BEGIN SOLUTION[ \t]*\n(.*?)^[ \t]*### END SOLUTION", source_cell,
                      re.MULTILINE | re.DOTALL)
    assert found is not None, "no solution in the cell"
    return found.group(1).rstrip("\n")


def readable(account: unix_accounts.Account, folder: Path, target: Path) -> Path:
    """``folder``, or a hard-linked copy of it at ``target`` if ``account`` cannot enter it."""
    if unix_accounts.run(account, ["test", "-x", str(folder)]).returncode == 0:
        return folder
    return unix_accounts.hard_linked(folder, target)


def student_environment(account: unix_accounts.Account, python: str, shared: Path) -> dict[str, str]:
    """What the student's JupyterLab needs in its environment besides ``python``'s packages.

    A Python other than this one (see ``unix_accounts.python_for``) has its own prefix, where
    JupyterLab would not find the extensions and server settings installed with this
    environment (nbgrader's among them): ``JUPYTER_PATH`` and friends point it there. The
    kit itself may be installed in editable mode, from a folder the account cannot read or
    by a ``.pth`` file the student's Python does not run: then the kernel imports a copy.
    """
    env = {"PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if python != sys.executable:
        share = readable(account, Path(sys.prefix) / "share" / "jupyter", shared / "jupyter-share")
        etc = readable(account, Path(sys.prefix) / "etc" / "jupyter", shared / "jupyter-etc")
        env.update(JUPYTER_PATH=str(share), JUPYTER_CONFIG_PATH=str(etc), JUPYTERLAB_DIR=str(share / "lab"))
    if not unix_accounts.can_import(account, python, "autodiff_kit"):
        unix_accounts.hard_linked(Path(autodiff_kit.__file__).parent, shared / "kit" / "autodiff_kit")
        env["PYTHONPATH"] = str(shared / "kit")
    return env


class Classroom:
    """The instructor's workspace, the exchange, the student and their JupyterLab."""

    def __init__(self, workspace: Path, exchange_root: Path, student: unix_accounts.Account, lab: JupyterLab):
        self.workspace, self.exchange_root = workspace, exchange_root
        self.student, self.lab = student, lab
        self.seconds: dict[str, float] = {}

    @contextmanager
    def step(self, name: str):
        """Times the block into ``seconds[name]``: ``with room.step("collect"): ...``."""
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started

    @property
    def home_copy(self) -> Path:
        return self.student.home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"


@pytest.fixture
def chromium():
    with lab_support.chromium() as browser:
        yield browser


@pytest.fixture
def classroom(course_cache):
    if (reason := unix_accounts.skip_reason()) is not None:
        pytest.skip(f"needs a real Unix account: {reason}")
    started = time.perf_counter()
    shared = unix_accounts.hub("adk-exchange-browser-")
    student = lab = None
    try:
        exchange_root = shared / "exchange"
        workspace = built_workspace(course_cache, shared / "instructor").root
        instructor(workspace, "release", "--exchange", str(exchange_root), ASSIGNMENT)

        student = unix_accounts.create(shared / "homes")
        python, how = unix_accounts.python_for(student, shared, "jupyterlab")
        if python is None:
            pytest.skip(f"no Python the student account can run JupyterLab with: {how}")
        env = student_environment(student, python, shared)
        config = student.home / ".jupyter"
        config.mkdir()
        shutil.copyfile(workspace / "student_nbgrader_config.py", config / "nbgrader_config.py")
        settings = write_lab_settings(config / "lab" / "user-settings")
        subprocess.run(["chown", "-R", f"{student.name}:{student.name}", str(config)], check=True)
        lab = JupyterLab(student.home, settings, shared / "jupyterlab.log", python=python,
                         launcher=unix_accounts.as_account(student, [], env))
        lab.wait_until_up()
        room = Classroom(workspace, exchange_root, student, lab)
        room.seconds["set up"] = time.perf_counter() - started
        print(f"\nthe student's Python: {how}")
        yield room
    finally:
        if lab is not None:
            lab.stop()
        if student is not None:
            left = unix_accounts.stop_processes(student)
            unix_accounts.delete(student)
            assert not left, f"processes of {student.name} were left running: {left}"
        shutil.rmtree(shared, ignore_errors=True)


def check_cells(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """``{grade id: source}`` of the visible checks: locked code cells that are not graded."""
    def visible_check(cell) -> bool:
        marks = notebooks.nbgrader_of(cell)
        return cell.cell_type == "code" and marks.get("locked") and not marks.get("grade")

    return {notebooks.grade_id(cell): cell.source.strip() for cell in notebook.cells
            if visible_check(cell) and notebooks.grade_id(cell).startswith("check_")}


def open_assignment_list(page) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Nbgrader$")).click()
    page.get_by_role("menuitem", name="Assignment List").click()


def save(page, attempts: int = 3) -> None:
    """File > Save (Ctrl+S) until the tab no longer shows unsaved changes: the kernel's first
    connection may mark the notebook changed again just after a save, and a student would save
    once more."""
    from playwright.sync_api import expect

    for attempt in range(1, attempts + 1):
        page.keyboard.press("Control+s")
        try:
            expect(page.locator(".lm-TabBar-tab.jp-mod-dirty")).to_have_count(0, timeout=10_000)
            return
        except AssertionError:
            if attempt == attempts:
                raise


def score_of(text: str) -> tuple[float, float]:
    """``(score, max)`` in ``... (Score: 2.0 / 2.0)``."""
    found = re.search(r"\(Score: (\d+(?:\.\d+)?) / (\d+(?:\.\d+)?)\)", text)
    assert found is not None, f"no score in {text!r}"
    return float(found.group(1)), float(found.group(2))


def test_a_student_fetches_validates_submits_and_gets_feedback_in_jupyterlab(chromium, classroom):
    from playwright.sync_api import expect

    room, lab = classroom, classroom.lab
    source = notebooks.read(notebooks.source_path(ASSIGNMENT))
    answer = solution(notebooks.cell_by_id(source, SOLVED).source)
    assert "\n" not in answer, "the test types a one-line answer"
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        # Fetch, from the assignment list.
        with room.step("fetch"):
            page.goto(lab.url("/lab"))
            open_assignment_list(page)
            released = page.locator("#released_assignments_list > .list_item", has_text=ASSIGNMENT)
            released.get_by_role("button", name="Fetch").click(timeout=LOAD_TIMEOUT)
            fetched = page.locator("#fetched_assignments_list > .list_item", has_text=ASSIGNMENT)
            expect(fetched).to_have_count(1, timeout=EXCHANGE_TIMEOUT)
        assert room.home_copy.stat().st_uid == room.student.uid
        release = notebooks.read(room.home_copy)
        stub = notebooks.cell_by_id(release, SOLVED).source.splitlines()
        assert stub[-2:] == STUB

        # Open it from the list and type the answer in place of the stub.
        with room.step("type the answer"):
            fetched.locator("a.assignment-notebooks-link").click()
            fetched.locator(".nested_list_item a", has_text=ASSIGNMENT).click()
            notebook = page.locator(".jp-NotebookPanel")
            editor = notebook.locator(".jp-CodeCell .cm-content", has_text=f"def {SOLVED}(")
            # the kernel has started (its connection marks the notebook changed, once)
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(timeout=LOAD_TIMEOUT)
            editor.click()
            page.keyboard.press("Control+End")  # the end of `raise NotImplementedError()`
            page.keyboard.press("Shift+ArrowUp")  # to the end of `# YOUR CODE HERE`
            page.keyboard.press("Shift+Home")  # to its indentation
            page.keyboard.type(answer.strip())
            save(page)
        typed = notebooks.cell_by_id(notebooks.read(room.home_copy), SOLVED).source
        assert typed == "\n".join([*stub[:-2], answer])

        # Validate: the visible checks of every other function fail on their stubs.
        with room.step("validate"):
            notebook.locator(".validate-button").click()
            message = page.locator(".jp-Dialog #validation-message")
            message.wait_for(timeout=VALIDATE_TIMEOUT)
        expect(page.locator(".jp-Dialog-header")).to_have_text("Validation Results")
        page.screenshot(path=str(SCREENSHOT))
        shown = message.locator(".jp-RenderedText pre").all_inner_texts()
        failed_sources, errors = shown[0::2], shown[1::2]
        checks = check_cells(release)
        failed = {cell for cell, text in checks.items() if text in (s.strip() for s in failed_sources)}
        assert len(failed) == len(failed_sources), "a failed cell that is not a visible check"
        assert failed == set(checks) - {f"check_{SOLVED}"}
        assert all("NotImplementedError" in error for error in errors)
        assert message.inner_text().count("The following cell failed:") == len(failed)
        page.locator(".jp-Dialog .jp-mod-accept").click()

        # Submit, from the assignment list.
        with room.step("submit"):
            page.locator(".lm-TabBar-tab", has_text="Assignments").click()
            fetched.locator(".item_status").get_by_role("button", name="Submit").click()
            submitted = page.locator("#submitted_assignments_list > .list_item", has_text=ASSIGNMENT)
            expect(submitted).to_have_count(1, timeout=EXCHANGE_TIMEOUT)
        [inbound] = (room.exchange_root / COURSE / "inbound").glob(f"{room.student.name}+{ASSIGNMENT}+*")
        assert inbound.stat().st_uid == room.student.uid

        # The instructor collects, grades and returns the feedback.
        with room.step("collect"):
            instructor(room.workspace, "collect", "--exchange", str(room.exchange_root), "--workers", "1",
                       ASSIGNMENT)
        with room.step("return-feedback"):
            instructor(room.workspace, "return-feedback", "--exchange", str(room.exchange_root), ASSIGNMENT)
        workspace = Workspace(room.workspace)
        worth = points(workspace, ASSIGNMENT)  # {test cell: points}
        deserved = {cell: most if cell.startswith(f"test_{SOLVED}_") else 0.0 for cell, most in worth.items()}
        scores = {r.cell: r.score for r in report.test_results(workspace) if r.student == room.student.name}
        assert scores == deserved

        # Fetch the feedback, from the assignment list, and open it.
        with room.step("fetch feedback"):
            page.locator("#refresh_assignments_list").click()
            expect(submitted).to_contain_text("feedback available to fetch", timeout=EXCHANGE_TIMEOUT)
            submitted.get_by_role("button", name="Fetch Feedback").click()
            view = submitted.get_by_text("(view feedback)")
            expect(view).to_be_visible(timeout=EXCHANGE_TIMEOUT)
        [html] = (room.student.home / ASSIGNMENT / "feedback").glob(f"*/{ASSIGNMENT}.html")
        assert html.stat().st_uid == room.student.uid
        with room.step("open feedback"):
            view.click()  # the file browser goes to the feedback's folder
            page.locator(".jp-DirListing-item", has_text=f"{ASSIGNMENT}.html").dblclick()
            shown = page.frame_locator(".jp-HTMLViewer iframe").locator("body")
            expect(shown).to_contain_text(ASSIGNMENT, timeout=LOAD_TIMEOUT)
        page.screenshot(path=str(FEEDBACK_SCREENSHOT))
        # The feedback's table of contents: "<notebook> (Score: x / y)", then one entry per graded
        # cell, "<a href="#<grade id>">Test cell</a> (Score: x / y)".
        score, total = sum(deserved.values()), sum(worth.values())
        assert 0 < score < total
        expect(shown).to_contain_text(f"{ASSIGNMENT} (Score: {score:.1f} / {total:.1f})")
        entries = shown.locator("li:has(> a[href^='#test_'])").evaluate_all(
            "items => items.map(item => [item.querySelector('a').hash.slice(1), item.textContent])")
        assert {cell: score_of(text) for cell, text in entries} == {
            cell: (deserved[cell], most) for cell, most in worth.items()}

        print(f"\nscreenshots: {SCREENSHOT}, {FEEDBACK_SCREENSHOT}; seconds per step: "
              + ", ".join(f"{name} {seconds:.1f}" for name, seconds in room.seconds.items()))
    except Exception:
        page.screenshot(path=str(FAILURE_SCREENSHOT))
        print(f"\nJupyterLab's log ends:\n{log_tail(lab.log)}\n"
              f"screenshot at the failure: {FAILURE_SCREENSHOT}")
        raise
    finally:
        page.close()
