"""The grading engine: student code in a confined fork server, the checks (a plugin) in the judge.

``plugin`` says what the engine asks of the checks (the course's are ``grader_tests.plugin``);
``server`` runs student code in the sandbox (``landlock`` and ``namespaces`` confine it);
``judge`` drives it and decides each test cell's score; ``wire`` is the plain-data format
between the two; ``verdicts`` keeps the outcomes on disk for nbgrader's autograde; ``pool``
judges a class on many processes, resumably. This package imports nothing on its own, so
the server loads only what it asks for.
"""
