"""The grading engine: student code in a confined fork server, hidden tests in the judge.

``server`` runs in the sandbox (``landlock`` confines it, ``twins`` names what it disables);
``judge`` drives it and decides each test cell's score; ``wire`` is the plain-data format
between the two; ``pool`` judges a class on all cores, resumably. This package imports
nothing on its own, so the server loads only what it asks for.
"""
