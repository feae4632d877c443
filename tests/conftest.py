"""Fixtures shared by the tests that grade through the real pipeline."""

import pytest


@pytest.fixture(scope="session")
def course_cache(tmp_path_factory):
    """A folder where the course is built once per test session (see ``course_support``)."""
    return tmp_path_factory.mktemp("built-course")


@pytest.fixture(scope="session")
def dask_cluster():
    """A Dask scheduler and two worker processes on 127.0.0.1, started once per session (``dask_cluster``)."""
    from dask_cluster import DaskCluster

    cluster = DaskCluster(workers=2)
    yield cluster
    cluster.stop()
