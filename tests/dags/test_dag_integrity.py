"""Every DAG in dags/ imports, has no cycle, and carries the metadata the platform requires."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"

EXPECTED_DAGS = {"example_feature_stats", "mlops_ingest_customers", "mlops_train_churn_model"}


@pytest.fixture(scope="module")
def dagbag():
    return DagBag(dag_folder=str(DAGS), safe_mode=False)


def _dags(dagbag):
    return [dagbag.dags[dag_id] for dag_id in sorted(dagbag.dag_ids)]


def test_every_file_imports(dagbag):
    assert dagbag.import_errors == {}


def test_the_expected_dags_are_there(dagbag):
    assert set(dagbag.dag_ids) >= EXPECTED_DAGS


def _cycle(dag) -> list[str] | None:
    """A cycle of task ids, found by depth-first search, or None."""
    state = {}  # task_id -> "visiting" | "done"

    def visit(task, path):
        if state.get(task.task_id) == "visiting":
            return [*path, task.task_id]
        if state.get(task.task_id) == "done":
            return None
        state[task.task_id] = "visiting"
        for downstream in task.downstream_list:
            found = visit(downstream, [*path, task.task_id])
            if found:
                return found
        state[task.task_id] = "done"
        return None

    for task in dag.tasks:
        found = visit(task, [])
        if found:
            return found
    return None


def test_no_cycles(dagbag):
    assert {dag.dag_id: _cycle(dag) for dag in _dags(dagbag)} == dict.fromkeys(dagbag.dag_ids)


def test_owner_tags_retries_and_timeouts(dagbag):
    problems = []
    for dag in _dags(dagbag):
        if not dag.tags:
            problems.append(f"{dag.dag_id}: no tags")
        if dag.dagrun_timeout is None:
            problems.append(f"{dag.dag_id}: no dagrun_timeout")
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            if task.owner in ("", "airflow"):
                problems.append(f"{where}: owner {task.owner!r} (set default_args owner to the team)")
            if task.retries < 1 and task.task_id != "check_quality":
                problems.append(f"{where}: no retries")
            if task.execution_timeout is None and dag.dagrun_timeout is None:
                problems.append(f"{where}: neither an execution_timeout nor a dagrun_timeout")
    assert problems == []


def test_new_dags_time_out_per_task(dagbag):
    for dag_id in ("mlops_ingest_customers", "mlops_train_churn_model"):
        for task in dagbag.dags[dag_id].tasks:
            assert task.execution_timeout is not None and task.execution_timeout <= timedelta(hours=1), task.task_id


def test_quality_check_fails_without_retrying(dagbag):
    """Bad data is not transient: the check must fail at once, not after retries."""
    assert dagbag.dags["mlops_ingest_customers"].get_task("check_quality").retries == 0


def test_training_runs_on_the_published_data(dagbag):
    ingest = dagbag.dags["mlops_ingest_customers"]
    train = dagbag.dags["mlops_train_churn_model"]
    outlets = {asset.name for asset in ingest.get_task("publish").outlets}
    assert outlets == {"mlops_customer_events"}
    assert "mlops_customer_events" in str(train.timetable.asset_condition)


def test_the_cycle_search_finds_one():
    from types import SimpleNamespace

    a, b, c = (SimpleNamespace(task_id=name, downstream_list=[]) for name in "abc")
    a.downstream_list, b.downstream_list, c.downstream_list = [b], [c], [a]
    assert _cycle(SimpleNamespace(tasks=[a, b, c])) == ["a", "b", "c", "a"]
