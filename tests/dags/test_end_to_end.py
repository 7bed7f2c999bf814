"""Each DAG run end to end with dag.test() against the real PostgreSQL the `postgres` fixture starts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import joblib
import pytest
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def dags(airflow_db, postgres):
    bag = DagBag(dag_folder=str(DAGS), safe_mode=False)
    for dag in bag.dags.values():
        for task in dag.tasks:
            task.retries = 0  # a failure shows at once instead of after the retry delay
    return bag.dags


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


def test_example_feature_stats(dags, sql):
    run = dags["example_feature_stats"].test()
    assert run.state == "success", _states(run)
    assert sql("SELECT rows FROM staging.feature_summary WHERE run_id = %s", run.run_id) == [(10000,)]


def test_ingest_then_train(dags, sql, replica, monkeypatch):
    # The features come from a streaming replica of the server, as the inventories can set it.
    monkeypatch.setenv("AIRFLOW_CONN_MLOPS_FEATURES_RO", json.dumps(replica["conn"]))
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_FEATURES_CONN_ID", "mlops_features_ro")
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_REPLICA_WAIT_SECONDS", "3")
    ingest = dags["mlops_ingest_customers"].test()
    assert ingest.state == "success", _states(ingest)
    customers = sql("SELECT count(*) FROM ml.customers WHERE batch_id = %s", ingest.run_id)[0][0]
    assert customers == int(os.environ["AIRFLOW_VAR_MLOPS_INGEST_CUSTOMERS"])
    assert sql("SELECT count(*) FROM ml.customer_events WHERE batch_id = %s", ingest.run_id)[0][0] > customers
    assert sql("SELECT count(*) FROM staging.customers_incoming WHERE batch_id = %s", ingest.run_id) == [(0,)]

    # A replica that has not replayed the primary's latest write: the features are not read.
    subprocess.run([*replica["psql"], "-c", "SELECT pg_wal_replay_pause()"], check=True, capture_output=True)
    sql("CREATE TABLE staging.written_after_the_pause AS SELECT 1 AS x")
    behind = dags["mlops_train_churn_model"].test()
    subprocess.run([*replica["psql"], "-c", "SELECT pg_wal_replay_resume()"], check=True, capture_output=True)
    assert _states(behind)["extract_features"] == "failed", _states(behind)

    train = dags["mlops_train_churn_model"].test()
    assert train.state == "success", _states(train)
    metrics = dict(sql("SELECT metric, value FROM ml.model_metrics WHERE run_id = %s", train.run_id))
    assert metrics["roc_auc"] >= 0.65 and metrics["test_rows"] > 0
    all_customers = sql("SELECT count(*) FROM ml.customers")[0][0]
    scored = sql(
        "SELECT count(*), min(churn_probability), max(churn_probability) FROM ml.churn_predictions WHERE run_id = %s",
        train.run_id,
    )[0]
    assert scored[0] == all_customers and 0.0 <= scored[1] <= scored[2] <= 1.0

    # The model stays on disk under the run id, with the metrics that were written to db01.
    model_path = sql("SELECT DISTINCT model_path FROM ml.model_metrics WHERE run_id = %s", train.run_id)[0][0]
    folder = Path(model_path).parent
    assert folder.parent == Path(os.environ["AIRFLOW_VAR_MLOPS_MODEL_DIR"]) / "mlops_train_churn_model"
    assert json.loads((folder / "metrics.json").read_text())["metrics"]["roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert joblib.load(model_path).predict_proba([[0.0] * 10]).shape == (1, 2)


BAD_CUSTOMERS = """customer_id,plan,tenure_months,monthly_fee,churned
bad-1,basic,12,9.99,true
bad-1,basic,12,9.99,false
bad-2,gold,12,9.99,false
bad-3,standard,-4,19.99,false
bad-4,,7,9.99,true
"""
BAD_EVENTS = """customer_id,event_time,amount,channel,support_ticket
bad-1,2026-01-05T10:00:00+00:00,12.50,web,false
bad-2,2026-01-06T10:00:00+00:00,-3.00,app,false
ghost,2026-01-07T10:00:00+00:00,5.00,fax,true
"""


def test_bad_batch_fails_loudly_and_publishes_nothing(dags, sql, tmp_path, monkeypatch, capfd):
    (tmp_path / "customers.csv").write_text(BAD_CUSTOMERS)
    (tmp_path / "customer_events.csv").write_text(BAD_EVENTS)
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_INGEST_SOURCE_DIR", str(tmp_path))
    before = sql("SELECT count(*) FROM ml.customers")[0][0] if sql("SELECT to_regclass('ml.customers')")[0][0] else 0

    run = dags["mlops_ingest_customers"].test()

    states = _states(run)
    assert run.state == "failed"
    assert states["load_batch"] == "success" and states["check_quality"] == "failed"
    assert states["publish"] == "upstream_failed"
    assert sql("SELECT count(*) FROM ml.customers")[0][0] == before
    assert sql("SELECT count(*) FROM ml.customers WHERE customer_id LIKE 'bad-%%'") == [(0,)]
    # The batch stays in staging for inspection.
    assert sql("SELECT count(*) FROM staging.customers_incoming WHERE batch_id = %s", run.run_id) == [(5,)]
    # The failure names every failed check.
    output = capfd.readouterr()
    log = output.out + output.err
    assert "Data quality: batch" in log
    for check in (
        "customer ids unique (1 rows)",
        "plans known (1 rows)",
        "tenure and fee in range (1 rows)",
        "customer fields not null (1 rows)",
        "amounts not negative (1 rows)",
        "channels known (1 rows)",
        "events of known customers (1 rows)",
    ):
        assert check in log, check
