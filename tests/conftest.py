"""Fixtures shared by the tests that grade through the real pipeline."""

import pytest


@pytest.fixture(scope="session")
def course_cache(tmp_path_factory):
    """A folder where the course is built once per test session (see ``course_support``)."""
    return tmp_path_factory.mktemp("built-course")
