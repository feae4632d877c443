"""nbgrader's configuration of the course (read by ``course.workspace`` and by ``nbgrader`` itself).

Run from this folder, the ``nbgrader`` command sees ``source/`` as usual; the instructor's
``autodiff-course`` command loads these settings too, then points nbgrader at a workspace
outside the repository, where releases, submissions, grades and feedback are written.
"""

c = get_config()  # noqa: F821 (provided by nbgrader when it reads this file)

c.CourseDirectory.course_id = "autodiff"
# A hidden test may build a 100,000-node graph; a student's slow loop should fail that cell only.
c.ExecutePreprocessor.timeout = 120
# Whatever a student prints, keep the graded notebook and its feedback readable.
c.LimitOutput.max_lines = 200
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Feedback shows each test's result and message, not the call into the hidden tests.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import ClearHiddenTests, GetGrades  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
# ipykernel warns on stderr, once per notebook, that its local TCP sockets are unencrypted.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
