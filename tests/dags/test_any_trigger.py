"""Every example DAG and the handbook's template succeed in a run with no logical date.

Airflow 3 starts such runs from run_dag.yml, the REST API without logical_date, and asset
events; dag.test(logical_date=None) creates the same DagRun (logical_date and data_interval
None, so the context has no ``ds``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

ROOT = Path(__file__).resolve().parents[2]


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


@pytest.fixture(scope="module")
def bag(airflow_db, postgres):
    dags = DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False).dags
    for dag in dags.values():
        for task in dag.tasks:
            task.retries = 0
    return dags


@pytest.fixture(scope="module")
def template_dag(airflow_db, postgres, tmp_path_factory):
    page = (ROOT / "docs/ml/write-a-dag.md").read_text()
    folder = tmp_path_factory.mktemp("template")
    (folder / "team_daily_spend.py").write_text(re.findall(r"```python\n(.*?)```", page, re.DOTALL)[0])
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    template_bag = DagBag(dag_folder=str(folder), safe_mode=False)
    sync_bag_to_db(template_bag, "dags-folder", None)  # dag.test() runs only serialized DAGs
    dag = template_bag.dags["team_daily_spend"]
    for task in dag.tasks:
        task.retries = 0
    return dag


@pytest.mark.parametrize("dag_id", ["example_feature_stats", "mlops_ingest_customers", "mlops_train_churn_model"])
def test_example_dag_without_logical_date(bag, dag_id):
    run = bag[dag_id].test(logical_date=None)
    assert run.logical_date is None
    assert run.state == "success", _states(run)


def test_template_without_logical_date_and_with_one(template_dag, sql):
    sql("CREATE TABLE IF NOT EXISTS staging.events (customer_id bigint, amount numeric, event_time timestamptz)")
    sql("INSERT INTO staging.events VALUES (1, 2.5, '2026-03-04 10:00+00'), (1, 1.5, '2026-03-04 11:00+00')")
    run = template_dag.test(logical_date=None)
    assert run.logical_date is None
    assert run.state == "success", _states(run)
    import pendulum

    scheduled = template_dag.test(logical_date=pendulum.datetime(2026, 3, 4, tz="UTC"))
    assert scheduled.state == "success", _states(scheduled)
    assert sql("SELECT customer_id, spend FROM staging.daily_spend WHERE day = '2026-03-04'") == [(1, 4)]
