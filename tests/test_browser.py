"""A real browser: JupyterLab, served on loopback, runs lecture 2 in headless Chromium, and
moving a width slider of the accumulation explorer changes the cost it displays.

Needs Debian's Chromium at /usr/bin/chromium (``bash scripts/setup-browser.sh`` installs it)
and the ``browser`` extra (JupyterLab and Playwright's Python package; Playwright drives the
system Chromium, it downloads no browser of its own). Leaves a screenshot in
tests/artifacts/lecture2.png (git-ignored) and prints its path.
"""

import os
import re
import shutil
import time

import lab_support
import pytest
from lab_support import ARTIFACTS, ROOT, JupyterLab, log_tail, write_lab_settings

from autodiff_kit import chain

LECTURE = "02_accumulation_orders.ipynb"
SCREENSHOT = ARTIFACTS / "lecture2.png"
EXPLORER_DIMS = [784, 256, 256, 10]  # the explorer's widths in lecture 2

KERNEL_TIMEOUT = 90_000  # milliseconds, for Playwright
RUN_ALL_TIMEOUT = 30_000  # for one attempt; the notebook runs in a few seconds
UPDATE_TIMEOUT = 30_000


@pytest.fixture
def jupyterlab(tmp_path):
    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), PYDEVD_DISABLE_FILE_VALIDATION="1")
    settings = write_lab_settings(tmp_path / "lab-settings")
    server = JupyterLab(root, settings, tmp_path / "jupyterlab.log", env=env,
                        options=["--allow-root", f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"])
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


@pytest.fixture
def chromium():
    with lab_support.chromium() as browser:
        yield browser


class KernelConnections:
    """The page's websockets to kernels (``/api/kernels/<id>/channels``), as they open."""

    def __init__(self, page) -> None:
        self.page = page
        self.opened: list[tuple[float, object]] = []  # (time.monotonic(), websocket)
        page.on("websocket", self._record)

    def _record(self, websocket) -> None:
        if re.search(r"/api/kernels/[^/]+/channels", websocket.url):
            self.opened.append((time.monotonic(), websocket))

    def wait_until_settled(self, quiet: float = 2.0, timeout: float = KERNEL_TIMEOUT / 1000) -> None:
        """Wait until a kernel connection is open and no new one has opened for ``quiet``
        seconds. The notebook's idle indicator shows before the page even connects to the
        kernel, and JupyterLab sometimes connects twice in a row; cells run before the
        connection settles can be lost."""
        deadline = time.monotonic() + timeout
        while not (self.opened and not self.opened[-1][1].is_closed()
                   and time.monotonic() - self.opened[-1][0] >= quiet):
            if time.monotonic() > deadline:
                pytest.fail(f"The page did not settle on a kernel connection within {timeout:.0f} s "
                            f"({len(self.opened)} opened).")
            self.page.wait_for_timeout(100)  # lets Playwright deliver the websocket events


def run_all_cells(page, shown, attempts: int = 3) -> int:
    """Run > Run All Cells, as a reader would, until the last code cell has run and the
    locator ``shown`` is visible; returns the number of attempts it took.

    Should a run still overlap a reconnection to the kernel (see ``KernelConnections``), its
    messages can be lost: cells left unexecuted, or a widget shown as "Error displaying
    widget: model not found". A reader would run the cells again, and so does this (it is
    harmless).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    last_prompt = page.locator(".jp-CodeCell .jp-InputPrompt").last
    attempt = 1
    while True:
        page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            expect(last_prompt).to_have_text(re.compile(r"^\[\d+\]:?$"), timeout=RUN_ALL_TIMEOUT)
            expect(shown).to_be_visible(timeout=UPDATE_TIMEOUT)
            return attempt
        except (AssertionError, PlaywrightTimeout):
            if attempt == attempts:
                raise
            attempt += 1


def test_moving_a_width_slider_changes_the_displayed_cost(chromium, jupyterlab):  # browser checked first
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    connections = KernelConnections(page)
    try:
        page.goto(f"{jupyterlab.base}/lab/tree/{LECTURE}?token={jupyterlab.token}")
        page.locator(".jp-Notebook").first.wait_for(timeout=KERNEL_TIMEOUT)
        idle = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]')
        idle.wait_for(timeout=KERNEL_TIMEOUT)  # the kernel has started
        connections.wait_until_settled()  # and the page is connected to it

        flops = page.locator(".adk-ordering-report .adk-forward-flops")
        attempts = run_all_cells(page, shown=flops)
        idle.wait_for(timeout=KERNEL_TIMEOUT)
        initial = chain.chain_flops(EXPLORER_DIMS, "forward")
        expect(flops).to_have_text(f"{initial:,}", timeout=UPDATE_TIMEOUT)
        expect(page.locator(".jp-OutputArea-output img")).not_to_have_count(0)  # the plots were drawn
        before = flops.inner_text()

        # Move m1 with the keyboard on the slider's handle, as a reader would.
        handle = page.locator(".adk-width-1 .noUi-handle")
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(10):
            handle.press("ArrowLeft")
        readout = page.locator(".adk-width-1 .widget-readout")
        expect(readout).not_to_have_text(str(EXPLORER_DIMS[1]), timeout=UPDATE_TIMEOUT)
        expect(flops).not_to_have_text(before, timeout=UPDATE_TIMEOUT)

        # The displayed cost is the model's for the width now shown.
        dims = [EXPLORER_DIMS[0], int(readout.inner_text()), *EXPLORER_DIMS[2:]]
        assert dims[1] < EXPLORER_DIMS[1]
        expect(flops).to_have_text(f"{chain.chain_flops(dims, 'forward'):,}", timeout=UPDATE_TIMEOUT)
        reverse = page.locator(".adk-ordering-report .adk-reverse-flops")
        expect(reverse).to_have_text(f"{chain.chain_flops(dims, 'reverse'):,}", timeout=UPDATE_TIMEOUT)

        page.locator(".adk-depth").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOT))
        print(f"\n{len(connections.opened)} kernel connection(s); Run All Cells took {attempts} attempt(s); "
              f"screenshot of lecture 2 after moving m1 to {dims[1]}: {SCREENSHOT}")
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "lecture2-failure.png"))
        print(f"\nJupyterLab's log ends:\n{log_tail(jupyterlab.log)}\n"
              f"screenshot at the failure: {ARTIFACTS / 'lecture2-failure.png'}")
        raise
    finally:
        page.close()
