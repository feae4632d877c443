"""The course graded end to end by real nbgrader, on its SQLite gradebook.

The reference solutions score full marks and the untouched releases score 0, both with
nbgrader's own in-kernel execution (``plain``) and with the sandboxed judge; every
catalogued mistake loses points on its function and nowhere else; the releases hold no
solution and no hidden test; the CLI's demo runs from start to end.
"""

import zipfile
from pathlib import Path

import pytest
from course_support import built_workspace, grade, points

from course import build, cli, demo, notebooks
from course.mistakes import mistakes_of
from course.submissions import collect

ASSIGNMENTS = notebooks.assignments()


@pytest.mark.parametrize("engine", ["plain", "sandbox"])
def test_solutions_score_full_marks_and_releases_score_zero(engine, course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    students = demo.simulated_class(typical=0)
    folder = demo.write_class(workspace, students, tmp_path / "class")
    run, scores = grade(workspace, folder, engine)
    assert run.problems == [] and run.graded == 2 * len(ASSIGNMENTS)
    for assignment in ASSIGNMENTS:
        for cell, worth in points(workspace, assignment).items():
            assert scores["solutions", assignment, cell] == worth, (assignment, cell)
            assert scores["blank", assignment, cell] == 0, (assignment, cell)


def test_each_mistake_loses_points_on_its_function_only(course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    students = demo.simulated_class()  # one student per row of mistakes, one mistake per notebook
    folder = demo.write_class(workspace, students, tmp_path / "class")
    run, scores = grade(workspace, folder)
    assert run.problems == []
    for student in students[2:]:
        for assignment, mistake in student.mistakes.items():
            worth = points(workspace, assignment)
            lost = {cell for cell in worth if scores[student.name, assignment, cell] < worth[cell]}
            if mistake is None:
                assert lost == set(), (student.name, assignment)
                continue
            own = {cell for cell in worth if cell.startswith(f"test_{mistake.function}_")}
            assert lost, f"{mistake.function}: {mistake.what} loses nothing"
            assert lost <= own, f"{mistake.function}: {mistake.what} also loses {sorted(lost - own)}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_releases_hold_no_solution_and_no_hidden_test(assignment, course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    release = notebooks.read(workspace.notebook("release", assignment))
    source = notebooks.read(notebooks.source_path(assignment))
    assert build.release_leaks(source, release) == []
    text = Path(workspace.notebook("release", assignment)).read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "grade(" not in text
    assert mistakes_of(assignment)  # the leak check has solution lines to look for


def test_build_refuses_a_source_with_outputs(monkeypatch, tmp_path):
    source = tmp_path / "source" / "01_jacobians"
    source.mkdir(parents=True)
    notebook = notebooks.read(notebooks.source_path("01_jacobians"))
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.execution_count = 1
    import nbformat
    nbformat.write(notebook, source / "01_jacobians.ipynb")
    monkeypatch.setattr(notebooks, "SOURCE", tmp_path / "source")
    assert any("has outputs" in problem for problem in build.source_problems("01_jacobians"))


def test_the_demo_runs_end_to_end(tmp_path, capsys):
    assert cli.main(["--workspace", str(tmp_path / "work"), "demo", "--typical", "1"]) == 0
    out = capsys.readouterr().out
    assert "Grades" in out and "Exercises" in out and "typical_1" in out
    assert (tmp_path / "work" / "grades.csv").read_text().count("\n") > 1
    feedback = list((tmp_path / "work" / "feedback").rglob("*.html"))
    assert len(feedback) == 3 * len(ASSIGNMENTS)


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_zipped_class_is_taken_in_like_its_folder(wrapped, course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    folder = demo.write_class(workspace, demo.simulated_class(typical=1), tmp_path / "class")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in folder.rglob("*.ipynb"):
            zipped.write(path, Path("class" if wrapped else "") / path.relative_to(folder))
    from_zip = collect(archive, ASSIGNMENTS, tmp_path / "from-zip")
    from_folder = collect(folder, ASSIGNMENTS, tmp_path / "from-folder")
    assert from_zip.problems == from_folder.problems == []
    assert sorted((s.student, s.assignment) for s in from_zip.submissions) == sorted(
        (s.student, s.assignment) for s in from_folder.submissions)
    assert len(from_zip.submissions) == 3 * len(ASSIGNMENTS)
