"""The nbgrader course: the source assignments, their configuration, and the instructor's CLI."""
