"""The two distributions of this repository, built and installed as users get them.

``autodiff-kit`` (the root ``pyproject.toml``) is what students install: the library alone,
no command. ``autodiff-course`` (``packaging/autodiff-course``) is the instructor's: the course,
the hidden checks, the sandboxed grader and the ``autodiff-course`` command. Each is built
as an sdist and then a wheel from that sdist (``python -m build``), and the wheels are
installed, not editable, into fresh virtual environments (no ``--system-site-packages``: the
checkout and this environment are out of sight; dependencies come through pip's own
configuration). With the kit's wheel alone every release runs: the solved notebook cleanly, the
release as handed out failing only on its stubs. With both wheels the demo runs to the end, and
the sandbox hides the installed hidden checks and solutions from student code.

Costs about 65 s on 2 cores (two venvs with their installs, twelve notebooks, the demo).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tarfile
import textwrap
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest
from course_support import built_workspace, filled

from course import notebooks

ROOT = Path(__file__).resolve().parents[1]
COURSE_PROJECT = ROOT / "packaging" / "autodiff-course"
KIT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
ASSIGNMENTS = notebooks.assignments()


def run(command: list, cwd: Path, timeout: float = 600,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``command``; on failure, fail the test with its output."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{output}"
    return done


def clean_env() -> dict:
    """This process's environment without what would let a child see the checkout or this venv."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"}}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if Path(p).resolve() != Path(sys.executable).parent.resolve())
    return env


def fresh_venv(path: Path, *requirements) -> Path:
    """A plain virtual environment at ``path`` with ``requirements`` installed; its ``bin`` folder."""
    run([sys.executable, "-m", "venv", path], cwd=path.parent, env=clean_env())
    run([path / "bin" / "python", "-m", "pip", "install", "-q", *requirements], cwd=path.parent,
        env=clean_env())
    return path / "bin"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """Both distributions, each an sdist and a wheel built from that sdist: ``{"kit.whl": ..., ...}``."""
    out = tmp_path_factory.mktemp("dist")
    for project in (ROOT, COURSE_PROJECT):
        run([sys.executable, "-m", "build", "--no-isolation", "--outdir", out, project], cwd=out)
    found = {}
    for name, prefix in (("kit", "autodiff_kit-"), ("course", "autodiff_course-")):
        for suffix in (".whl", ".tar.gz"):
            [path] = [p for p in out.iterdir() if p.name.startswith(prefix) and p.name.endswith(suffix)]
            found[name + suffix] = path
    return found


def wheel_files(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as wheel:
        return wheel.namelist()


def sdist_files(path: Path) -> list[str]:
    with tarfile.open(path) as sdist:
        return [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]


def test_the_kit_is_the_library_alone_without_a_command(dist):
    for files in (wheel_files(dist["kit.whl"]), sdist_files(dist["kit.tar.gz"])):
        tops = {name.split("/")[0] for name in files}
        assert "autodiff_kit" in tops and not {"course", "grader_tests", "notebooks", "tests"} & tops
        assert not [name for name in files if "__pycache__" in name]
    assert not [name for name in wheel_files(dist["kit.whl"]) if name.endswith("entry_points.txt")]


def test_the_instructors_package_holds_the_course_the_checks_and_the_command(dist):
    wheel = wheel_files(dist["course.whl"])
    with zipfile.ZipFile(dist["course.whl"]) as archive:
        [entry_points] = [n for n in wheel if n.endswith(".dist-info/entry_points.txt")]
        [metadata] = [n for n in wheel if n.endswith(".dist-info/METADATA")]
        scripts, requires = archive.read(entry_points).decode(), archive.read(metadata).decode()
    assert "autodiff-course = course.cli:main" in scripts
    assert f"Requires-Dist: autodiff-kit=={KIT_VERSION}" in requires
    assert "Requires-Dist: nbgrader==0.9.6" in requires
    sdist = sdist_files(dist["course.tar.gz"])
    for files in (wheel, sdist):
        assert {f"course/source/{a}/{a}.ipynb" for a in ASSIGNMENTS} <= set(files)
        assert {"course/nbgrader_config.py", "course/cli.py", "course/sandbox/server.py",
                "grader_tests/plugin.py"} <= set(files)
        assert not [name for name in files if "__pycache__" in name or name.startswith("autodiff_kit/")]
    assert {"pyproject.toml", "hatch_build.py"} <= set(sdist)


def notebook_runner(notebooks_folder: Path) -> str:
    """A script that executes every notebook in ``notebooks_folder`` and prints each one's errors as JSON."""
    return textwrap.dedent(f"""
        import json, pathlib
        import nbclient, nbformat
        report = {{}}
        for path in sorted(pathlib.Path({str(notebooks_folder)!r}).glob("*.ipynb")):
            notebook = nbformat.read(path, as_version=4)
            client = nbclient.NotebookClient(notebook, timeout=300, allow_errors=True,
                                             resources={{"metadata": {{"path": str(path.parent)}}}})
            client.execute()
            report[path.stem] = [output.ename for cell in notebook.cells for output in cell.get("outputs", [])
                                 if output.output_type == "error"]
        print(json.dumps(report))
    """)


def test_with_the_kit_alone_every_release_runs(dist, course_cache, tmp_path):
    bin_folder = fresh_venv(tmp_path / "kit-venv", dist["kit.whl"], "nbclient>=0.10", "ipykernel>=6.29")
    python = bin_folder / "python"
    assert not (bin_folder / "autodiff-course").exists()
    probe = textwrap.dedent("""
        import importlib.metadata, importlib.util, json, autodiff_kit
        kit = importlib.metadata.distribution("autodiff-kit")
        print(json.dumps({"kit": autodiff_kit.__file__, "commands": [e.name for e in kit.entry_points],
                          "missing": [m for m in ("course", "grader_tests", "autograd")
                                      if importlib.util.find_spec(m) is None]}))
    """)
    seen = json.loads(run([python, "-c", probe], cwd=tmp_path, env=clean_env()).stdout)
    assert Path(seen["kit"]).is_relative_to(tmp_path / "kit-venv")  # the wheel's copy, not the checkout
    assert seen["commands"] == [] and seen["missing"] == ["course", "grader_tests", "autograd"]

    workspace = built_workspace(course_cache, tmp_path / "work")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for assignment in ASSIGNMENTS:
        release = notebooks.read(workspace.notebook("release", assignment))
        nbformat.write(release, folder / f"{assignment}.ipynb")
        nbformat.write(filled(workspace, assignment), folder / f"{assignment}-solved.ipynb")
    report = json.loads(run([python, "-c", notebook_runner(folder)], cwd=tmp_path, env=clean_env(),
                            timeout=900).stdout.splitlines()[-1])
    for assignment in ASSIGNMENTS:
        assert report[f"{assignment}-solved"] == [], f"the solved {assignment} fails with the kit alone"
        stubs = report[assignment]
        assert stubs and set(stubs) == {"NotImplementedError"}, f"the release of {assignment}: {stubs}"


def test_both_wheels_installed_run_the_demo_and_hide_the_secrets(dist, tmp_path):
    bin_folder = fresh_venv(tmp_path / "course-venv", "--find-links", dist["kit.whl"].parent,
                            dist["kit.whl"], dist["course.whl"])
    python = bin_folder / "python"
    where = textwrap.dedent("""
        import json, autodiff_kit, course.notebooks, grader_tests
        print(json.dumps([autodiff_kit.__file__, str(course.notebooks.SOURCE), grader_tests.__file__]))
    """)
    printed = run([python, "-c", where], cwd=tmp_path, env=clean_env()).stdout
    installed = [Path(path) for path in json.loads(printed)]
    assert all(path.is_relative_to(tmp_path / "course-venv") for path in installed)
    source = installed[1]
    assert {p.name for p in source.glob("*/*.ipynb")} == {f"{a}.ipynb" for a in ASSIGNMENTS}

    # Student code in the sandbox reads the Python installation, but not the installed checks, solutions
    # or kit (imported before, unreadable after, so a disabled function cannot be reloaded).
    scratch = tmp_path / "scratch"  # beside the venv, not around it
    scratch.mkdir()
    confined = textwrap.dedent(f"""
        import json, os, autodiff_kit.examples, grader_tests
        from course.sandbox.server import confine, prepare
        paths = [os.path.join(os.path.dirname(grader_tests.__file__), "a01_jacobians.py"),
                 {str(source / "01_jacobians" / "01_jacobians.ipynb")!r}, autodiff_kit.examples.__file__,
                 os.__file__]
        confine({str(scratch)!r}, prepare("grader_tests.probes"))
        outcome = []
        for path in paths:
            try:
                open(path).read(1)
                outcome.append("read")
            except OSError:
                outcome.append("denied")
        open({str(scratch / "confined.json")!r}, "w").write(json.dumps(outcome))
    """)
    run([python, "-I", "-c", confined], cwd=scratch, env=clean_env())
    assert json.loads((scratch / "confined.json").read_text()) == ["denied", "denied", "denied", "read"]

    done = run([bin_folder / "autodiff-course", "--workspace", tmp_path / "work", "demo", "--typical", "1"],
               cwd=tmp_path, env=clean_env(), timeout=900)
    assert "Grades" in done.stdout and "Demo finished" in done.stdout
    rows = list(csv.DictReader((tmp_path / "work" / "grades.csv").read_text().splitlines()))
    assert {row["assignment"] for row in rows} == set(ASSIGNMENTS)
    for row in rows:  # graded in the sandbox: the reference solutions full marks, the releases none
        if row["student_id"] == "solutions":
            assert float(row["score"]) == float(row["max_score"]) > 0, row
        elif row["student_id"] == "blank":
            assert float(row["score"]) == 0, row
