"""The documentation site: it builds with warnings as errors, covers the API, runs the lectures,
needs no internet, and works in a real browser.

The site is built once per session, as ``scripts/build-docs.sh`` builds it (``sphinx-build -E -W``)
but into a temporary folder; ``scripts/setup-docs.sh`` must have installed MathJax and the widget
manager into ``docs/node_modules`` (CI does). The browser test serves the built site on loopback
to Debian's Chromium and leaves screenshots in ``tests/artifacts/docs-*.png`` (git-ignored).
"""

from __future__ import annotations

import functools
import http.server
import importlib
import inspect
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy
import pytest
from lab_support import ARTIFACTS, ROOT, chromium
from sphinx.util.inventory import InventoryFile

import autodiff_kit
import autodiff_kit.numpy as anp

DOCS = ROOT / "docs"
LECTURES = sorted(path.stem for path in (ROOT / "notebooks").glob("*.ipynb"))
# The modules whose public names the API reference documents (the top-level exports on the
# Transformations page); autodiff_kit.numpy is checked against its own dir().
DOCUMENTED_MODULES = ("api", "layers", "chain", "higher_order", "testing", "program", "render", "scalar",
                      "tracing", "custom", "checkpointing", "sparsity", "tree", "vspace", "examples",
                      "datasets", "widgets")
BROWSER_TIMEOUT = 30_000  # milliseconds, for Playwright


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The built site's folder (``sphinx-build -E -W``); fails with Sphinx's output if the build does."""
    if not (DOCS / "node_modules" / "mathjax").is_dir():
        pytest.fail("docs/node_modules has no MathJax: run `bash scripts/setup-docs.sh` (it installs "
                    "MathJax and the widget manager from npm), then rerun the tests.")
    out = tmp_path_factory.mktemp("docs") / "html"
    start = time.monotonic()
    build = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html",
                            str(DOCS), str(out)], capture_output=True, text=True, cwd=ROOT)
    warnings = [line for line in build.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    assert build.returncode == 0, "the docs build failed:\n" + "\n".join(
        warnings or build.stderr.splitlines()[-40:])
    print(f"docs built in {time.monotonic() - start:.1f} s", file=sys.stderr)
    return out


def documented_names(site: Path) -> set[str]:
    with open(site / "objects.inv", "rb") as inventory:
        data = InventoryFile.load(inventory, "", lambda *parts: "/".join(parts))
    return {name for domain, entries in data.items() if domain.startswith("py:") for name in entries}


def public_names(module) -> list[str]:
    """A module's public names: its ``__all__``, else what it defines without a leading underscore."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, value in vars(module).items() if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__
            and (inspect.isfunction(value) or inspect.isclass(value))]


def test_every_public_name_has_a_page(site):
    documented = documented_names(site)
    exported = {getattr(autodiff_kit, name): name for name in autodiff_kit.__all__}
    missing = []
    for short in DOCUMENTED_MODULES:
        module = importlib.import_module(f"autodiff_kit.{short}")
        for name in public_names(module):
            value = getattr(module, name)
            if inspect.ismodule(value):
                continue
            where = f"autodiff_kit.{exported[value]}" if value in exported else f"{module.__name__}.{name}"
            if where not in documented:
                missing.append(where)
    for name in dir(anp):  # the kit's own functions, not NumPy's constants and constructors
        value = getattr(anp, name)
        numpys = getattr(numpy, name, None) is value
        kits_own = not (name.startswith("_") or inspect.ismodule(value) or numpys)
        if kits_own and f"autodiff_kit.numpy.{name}" not in documented:
            missing.append(f"autodiff_kit.numpy.{name}")
    assert not missing, f"public names with no entry in the API reference: {missing}"


@pytest.mark.parametrize("lecture", LECTURES)
def test_lecture_page_is_the_run_notebook(site, lecture):
    page = (site / "lectures" / f"{lecture}.html").read_text()
    assert 'class="cell_output' in page, "no cell output: the lecture was not run"
    assert "Traceback" not in page and "Error" not in re.findall(r'class="output (\w+)', page)
    assert re.search(r'<img[^>]+src="[^"]+\.png"', page), "no figure"
    assert 'class="math' in page


def prose(html: str) -> str:
    """The text of a page outside code, scripts and styles."""
    html = re.sub(r"<(pre|code|script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_no_dollar_is_left_unturned_into_math(site):
    """Every ``$...$`` of a docstring, notebook or page became math: a dollar left in the prose
    means a formula shown as its TeX source."""
    pages = [page for page in site.rglob("*.html") if page.parent.name in ("api", "lectures", "student",
                                                                         "instructor", site.name)]
    assert len(pages) > 30
    left = {str(page.relative_to(site)): prose(page.read_text()).count("$") for page in pages}
    assert {page: count for page, count in left.items() if count} == {}


def test_pages_load_nothing_from_the_internet(site):
    remote = re.compile(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="(?:https?:)?//')
    offenders = [str(page.relative_to(site)) for page in site.rglob("*.html")
                 if remote.search(page.read_text())]
    assert not offenders, f"pages that load a script, style or image from the internet: {offenders}"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (site / "_static" / "html-manager" / "embed.js").is_file()


@pytest.fixture(scope="module")
def served(site):
    """The built site on a loopback HTTP server, for the browser."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def test_in_the_browser_formulas_figures_widgets_and_search(served):
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(BROWSER_TIMEOUT)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))

        # A lecture page: MathJax (served by the site) typesets the formulas, the figures load.
        page.goto(f"{served}/lectures/01_jacobians_and_the_chain_rule.html")
        page.wait_for_selector("mjx-container")
        assert page.locator("mjx-container").count() > 10
        figure = page.locator(".cell_output img").first
        figure.scroll_into_view_if_needed()
        assert figure.evaluate("img => img.complete && img.naturalWidth > 100")
        page.screenshot(path=str(ARTIFACTS / "docs-lecture.png"))

        # A lecture with a widget: the explorer is drawn from its saved state.
        page.goto(f"{served}/lectures/02_accumulation_orders.html")
        explorer = page.locator(".adk-ordering-report").first
        explorer.wait_for()
        assert page.locator(".widget-slider").count() >= 1

        # The search box finds grad, and its result leads to grad's entry in the API reference.
        page.goto(f"{served}/index.html")
        page.keyboard.press("Control+k")
        page.locator("#pst-search-dialog input[name=q]").fill("grad")
        page.keyboard.press("Enter")
        result = page.locator("#search-results a", has_text=re.compile(r"^autodiff_kit\.grad$|^grad$")).first
        result.wait_for()
        page.screenshot(path=str(ARTIFACTS / "docs-search.png"))
        result.click()
        page.wait_for_url(re.compile(r"api/transformations\.html.*#autodiff_kit\.grad$"))
        entry = page.locator("[id='autodiff_kit.grad']")
        assert "grad" in entry.inner_text() and entry.is_visible()
        assert page.locator("[id='autodiff_kit.grad'] ~ dd mjx-container").count() > 0
        page.screenshot(path=str(ARTIFACTS / "docs-grad.png"))
        assert not errors, f"JavaScript errors: {errors}"


def test_readme_links_to_the_site_pages():
    links = re.findall(r"\]\((docs/[^)#]+)\)", (ROOT / "README.md").read_text())
    assert {"docs/lectures/index.md", "docs/api/index.md", "docs/student/index.md",
            "docs/instructor/index.md"} <= set(links)
    assert [link for link in links if not (ROOT / link).is_file()] == []
