"""What a release may state: for the exercises students derive (03's VJPs, 04's rules, 06's rules),
no line of the solution appears anywhere in the release, neither in the markdown nor in a stub.

``build.release_leaks`` already refuses solution lines that are not also shown in the open;
here even a line the source shows in its own markdown counts, since the derivation is the
exercise. Lines are compared without white space; lines shorter than a short statement
(``return out``, ``else:``) say nothing of the answer and are left out.
"""

import re

import pytest
from course_support import built_workspace

from course import notebooks
from course.build import SOLUTION

DERIVED = [a for a in ("03_layer_vjps", "04_modes", "06_primitives") if a in notebooks.assignments()]
SHORTEST = 16  # characters, once white space is removed


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("assignment", DERIVED)
def test_a_release_states_no_line_of_a_solution_students_derive(assignment, course_cache, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    source = notebooks.read(notebooks.source_path(assignment))
    release = notebooks.read(workspace.notebook("release", assignment))
    solution_lines = {squeezed(line) for cell in source.cells for block in SOLUTION.findall(cell.source)
                      for line in block.splitlines()
                      if len(squeezed(line)) >= SHORTEST and not line.strip().startswith("#")}
    released = [(index, squeezed(cell.source)) for index, cell in enumerate(release.cells)]
    stated = sorted({(index, line) for line in solution_lines for index, text in released if line in text})
    assert stated == [], f"release cells state solution lines: {stated[:5]}"
