"""Judging on a real Dask cluster (a scheduler and two worker processes on 127.0.0.1).

The workers receive the notebooks' contents and send back verdicts as data, so they need no
view of the workspace; the grades equal a local run's under the same seed, and a run
stopped midway resumes without judging finished notebooks again.
"""

from __future__ import annotations

import pytest
from course_support import built_workspace, grade
from distributed import Client

from course import demo
from course.grading import PLUGIN
from course.sandbox.judge import Limits
from course.sandbox.pool import ClusterUnavailable, cluster_executor, judge_all
from course.sandbox.verdicts import Job, VerdictStore


@pytest.fixture(scope="module")
def small_class(course_cache, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster")
    workspace = built_workspace(course_cache, root / "built")
    return demo.write_class(workspace, demo.simulated_class(typical=1), root / "class")


def test_a_cluster_gives_the_grades_of_this_machine(dask_cluster, course_cache, small_class, tmp_path):
    local = built_workspace(course_cache, tmp_path / "local")
    cluster = built_workspace(course_cache, tmp_path / "cluster")
    run, on_cluster = grade(cluster, small_class, seed="cluster-test", scheduler=dask_cluster.address)
    _, on_this_machine = grade(local, small_class, workers=1, seed="cluster-test")
    assert run.problems == [] and run.graded == len(list(small_class.glob("*/*.ipynb")))
    assert on_cluster == on_this_machine and len(on_cluster) > 100
    assert {score > 0 for score in on_cluster.values()} == {True, False}  # mistakes met, and right answers


def test_a_stopped_cluster_run_resumes_without_judging_finished_work(dask_cluster, course_cache,
                                                                      small_class, tmp_path):
    workspace = built_workspace(course_cache, tmp_path / "work")
    jobs = [Job(p.parent.name, p.stem, workspace.notebook("source", p.stem), p)
            for p in sorted(small_class.glob("*/*.ipynb"))]
    store = VerdictStore.session(workspace.verdicts, "cluster-test")
    finished = []

    def stop_after_two(job):
        finished.append(job)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), cluster_executor(dask_cluster.address) as executor:
        judge_all(jobs, store, PLUGIN, Limits(), executor, done=stop_after_two)
    stamps = {job: store.path(job).stat().st_mtime_ns for job in finished}
    judged_again = []
    with Client(dask_cluster.address, set_as_default=False) as client, cluster_executor(client) as executor:
        judge_all(jobs, store, PLUGIN, Limits(), executor, done=judged_again.append)
    assert all(store.path(job).stat().st_mtime_ns == stamp for job, stamp in stamps.items())
    assert sorted(map(str, judged_again)) == sorted(map(str, jobs))
    assert all(store.load(job) for job in jobs)


def test_no_scheduler_is_one_sentence():
    with pytest.raises(ClusterUnavailable, match=r"No Dask scheduler answered at tcp://127\.0\.0\.1:9 "), \
            cluster_executor("tcp://127.0.0.1:9", timeout=2):
        pass
