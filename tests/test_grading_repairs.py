"""Honest accidents cost nothing: notebooks with broken grading metadata are repaired and graded.

One class of 03_layer_vjps is graded once through the real pipeline (intake, repair, the
sandboxed judge, nbgrader's autograde, feedback). Each student did one thing by accident,
or tried their luck with a file that is not theirs; every repaired notebook keeps full
marks for right answers and 0 for a stub, the instructor reads one line per repaired
notebook, the student's feedback says what was repaired, and the honest student's grades
are those of a class without them.
"""

from __future__ import annotations

import copy
import json
import os
import zipfile

import nbformat
import pytest
from course_support import built_workspace, filled, grade, points, write

from course import notebooks
from course.repair import repair_file

ASSIGNMENT, TARGET = "03_layer_vjps", "linear_vjp"
STUB = "def linear_vjp(g, x, W, b):\n    raise NotImplementedError\n"


def first(notebook, prefix: str) -> int:
    return next(i for i, c in enumerate(notebook.cells) if notebooks.grade_id(c).startswith(prefix))


def with_copied_test(notebook):
    index = first(notebook, f"test_{TARGET}_")
    notebook.cells.insert(index, copy.deepcopy(notebook.cells[index]))  # pasted above the original
    return notebook


def with_extra_graded_cell(notebook):
    cell = copy.deepcopy(notebook.cells[first(notebook, "test_")])
    cell.metadata.nbgrader["grade_id"] = "my_own_test"
    cell.metadata.nbgrader["points"] = 50
    notebook.cells.append(cell)
    return notebook


def with_edited_metadata(notebook):
    test = notebook.cells[first(notebook, f"test_{TARGET}_")].metadata.nbgrader
    test["points"], test["grade"] = 100, False
    notebook.cells[first(notebook, "relu_vjp")].metadata.nbgrader["solution"] = False
    return notebook


def with_renamed_solution(notebook):
    notebook.cells[first(notebook, TARGET)].metadata.nbgrader["grade_id"] = "linear_vjp_mine"
    return notebook


def with_invalid_cell(notebook):
    del notebook.cells[first(notebook, TARGET)]["outputs"]
    return notebook


ACCIDENTS = {"copied_test": with_copied_test, "extra_graded_cell": with_extra_graded_cell,
             "edited_metadata": with_edited_metadata, "renamed_solution": with_renamed_solution}


def raw_write(folder, student, notebook):
    """Write as an editor would, without nbformat's validation (copied cells keep their cell ids here)."""
    path = folder / student / f"{ASSIGNMENT}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook))


@pytest.fixture(scope="module")
def graded(course_cache, tmp_path_factory):
    root = tmp_path_factory.mktemp("repairs")
    workspace = built_workspace(course_cache, root / "work")
    folder = root / "class"
    write(folder, "honest", ASSIGNMENT, filled(workspace, ASSIGNMENT))
    for name, accident in ACCIDENTS.items():
        raw_write(folder, name, accident(filled(workspace, ASSIGNMENT)))
        raw_write(folder, f"{name}_stub", accident(filled(workspace, ASSIGNMENT, {TARGET: STUB})))
    raw_write(folder, "invalid_cell", with_invalid_cell(filled(workspace, ASSIGNMENT)))
    (folder / "linker").mkdir()
    (folder / "linker" / f"{ASSIGNMENT}.ipynb").symlink_to(workspace.notebook("source", ASSIGNMENT))
    (folder / "piper").mkdir()
    os.mkfifo(folder / "piper" / f"{ASSIGNMENT}.ipynb")
    (folder / "dirlinker").mkdir()
    (folder / "dirlinker" / "work").symlink_to(workspace.notebook("source", ASSIGNMENT).parent)
    (folder / "classlink").symlink_to(folder / "honest")
    run, scores = grade(workspace, folder, feedback=True)
    return workspace, run, scores


def own(cell: str) -> bool:
    return cell.startswith(f"test_{TARGET}_")


@pytest.mark.parametrize("accident", ACCIDENTS)
def test_a_repaired_notebook_keeps_full_marks_and_a_stub_still_earns_nothing(graded, accident):
    workspace, _, scores = graded
    for cell, worth in points(workspace, ASSIGNMENT).items():
        assert scores[accident, ASSIGNMENT, cell] == worth, cell
        assert scores[f"{accident}_stub", ASSIGNMENT, cell] == (0 if own(cell) else worth), cell


@pytest.mark.parametrize(("accident", "said"), [
    ("copied_test", "a copy of `test_linear_vjp_shapes`, is now an ordinary cell"),
    ("extra_graded_cell", "carried grading marks (`my_own_test`) that this assignment does not have"),
    ("edited_metadata",
     "`test_linear_vjp_shapes` has its grading settings back (grade, points had been edited)"),
    ("renamed_solution", "is `linear_vjp` again (its grade id had been changed)"),
])
def test_the_instructor_and_the_student_read_what_was_repaired(graded, accident, said):
    workspace, run, _ = graded
    lines = [line for line in run.intake.repairs if line.startswith(f"{accident}/{ASSIGNMENT}.ipynb: ")]
    assert len(lines) == 1 and said in lines[0], run.intake.repairs
    feedback = (workspace.root / "feedback" / accident / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Repaired before grading" in feedback and said.replace("`", "") in feedback.replace(
        "<code>", "").replace("</code>", "")


def test_an_unrepairable_notebook_is_named_with_its_cell_and_the_rest_is_graded(graded):
    workspace, run, scores = graded
    source = notebooks.read(workspace.notebook("release", ASSIGNMENT))
    cell = first(source, TARGET) + 1
    expected = f"invalid_cell/{ASSIGNMENT}.ipynb: cell {cell} is not valid"
    assert any(p.startswith(expected) for p in run.problems), run.problems
    assert not any(student == "invalid_cell" for student, _, _ in scores)


@pytest.mark.parametrize(("entry", "said"), [
    ("linker/03_layer_vjps.ipynb", "is a symbolic link"),
    ("piper/03_layer_vjps.ipynb", "is not a regular file"),
    ("dirlinker/work", "is a symbolic link"), ("classlink", "is a symbolic link")])
def test_intake_refuses_what_is_not_a_students_own_file(graded, entry, said):
    _, run, scores = graded
    assert any(p.startswith(f"{entry}: {said}") for p in run.problems), run.problems
    assert not any(student == entry.split("/")[0] for student, _, _ in scores)


def test_the_honest_student_is_graded_as_in_a_class_of_one(graded, course_cache, tmp_path):
    workspace, _, scores = graded
    alone = built_workspace(course_cache, tmp_path / "alone")
    write(tmp_path / "class", "honest", ASSIGNMENT, filled(alone, ASSIGNMENT))
    _, own_scores = grade(alone, tmp_path / "class")
    assert {k: v for k, v in scores.items() if k[0] == "honest"} == own_scores
    assert all(own_scores["honest", ASSIGNMENT, c] == w for c, w in points(workspace, ASSIGNMENT).items())


def test_zip_entries_that_climb_out_or_link_are_refused_and_the_rest_graded(course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    good = nbformat.writes(filled(workspace, "01_jacobians"))
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("ada/01_jacobians.ipynb", good)
        zipped.writestr("../outside/01_jacobians.ipynb", good)
        zipped.writestr("/abs/01_jacobians.ipynb", good)
        link = zipfile.ZipInfo("bob/01_jacobians.ipynb")
        link.external_attr = (0o120777 << 16)
        zipped.writestr(link, str(workspace.notebook("source", "01_jacobians")))
    run, scores = grade(workspace, archive)
    for entry, said in [("../outside/01_jacobians.ipynb", "climbs out of its folder"),
                        ("/abs/01_jacobians.ipynb", "has an absolute path"),
                        ("bob/01_jacobians.ipynb", "is a symbolic link")]:
        assert any(p.startswith(f"{entry} (in class.zip): {said}") for p in run.problems), run.problems
    assert {student for student, _, _ in scores} == {"ada"}
    assert all(scores["ada", "01_jacobians", c] == w for c, w in points(workspace, "01_jacobians").items())


# --- the repair itself, on files (no grading) ------------------------------------------------------

@pytest.fixture
def release(course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    return workspace, notebooks.read(workspace.notebook("release", ASSIGNMENT))


def repaired_twice(workspace, release, notebook, tmp_path):
    """The bytes of ``notebook`` after repair, for two repairs of the same submitted file."""
    outcomes = []
    for attempt in range(2):
        path = tmp_path / f"attempt{attempt}.ipynb"
        path.write_text(json.dumps(notebook))
        repairs = repair_file(path, release)
        outcomes.append((repairs, path.read_bytes()))
    return outcomes


def test_a_repaired_file_is_the_same_bytes_on_every_regrade(release, tmp_path):
    workspace, released = release
    (repairs, first), (_, second) = repaired_twice(workspace, released, with_copied_test(
        filled(workspace, ASSIGNMENT)), tmp_path)
    assert repairs and first == second
    old_format = with_copied_test(filled(workspace, ASSIGNMENT))
    old_format.nbformat_minor = 4
    for cell in old_format.cells:
        cell.pop("id", None)
    (repairs, written), _ = repaired_twice(workspace, released, old_format, tmp_path)
    nbformat.validate(nbformat.reads(written.decode(), as_version=4))  # still a valid 4.4 notebook
    assert repairs


def test_a_copy_of_an_answer_does_not_stand_in_for_a_deleted_locked_cell(release, tmp_path):
    workspace, released = release
    notebook = filled(workspace, ASSIGNMENT)
    check = first(notebook, f"check_{TARGET}")
    answer = copy.deepcopy(notebook.cells[first(notebook, TARGET)])
    notebook.cells[check] = answer  # the check cell deleted, a copy of the answer in its place
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    repairs = repair_file(path, released)
    assert any(f"a copy of `{TARGET}`, is now an ordinary cell" in r for r in repairs), repairs
    assert not any("grade id had been changed" in r for r in repairs), repairs


@pytest.mark.parametrize("meta", [{"grade_id": ["a", "list"], "grade": True}, "not a dict", {"grade": True}])
def test_grading_marks_of_any_shape_are_removed_not_a_crash(release, tmp_path, meta):
    workspace, released = release
    notebook = filled(workspace, ASSIGNMENT)
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": meta}))
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps(notebook))
    assert any("carried grading marks" in r for r in repair_file(path, released))
