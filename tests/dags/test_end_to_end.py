"""Each DAG run end to end with dag.test() against the real PostgreSQL the `postgres` fixture starts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import joblib
import mlops_ingest_customers as ingest
import pendulum
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


def asset_events(run_id: str) -> list:
    """The asset events a DAG run's tasks published, from Airflow's metadata database."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_run_id == run_id)).all()
        session.expunge_all()
    return sorted(events, key=lambda event: event.timestamp)


@pytest.fixture
def asset_triggered(monkeypatch):
    """Make the next dag.test() runs consume asset events, as the scheduler's asset-triggered
    runs do (dag_run.consumed_asset_events, which the task context's triggering_asset_events
    comes from): dag.test() creates its run with get_or_create_dagrun, which is wrapped."""
    import airflow.models.dagrun as dagrun_module

    original = dagrun_module.get_or_create_dagrun

    def consume(events: list) -> None:
        ids = [event.id for event in events]

        def create(**kwargs):
            from airflow.models.asset import AssetEvent

            run, session = original(**kwargs), kwargs["session"]
            run.consumed_asset_events.extend(session.get(AssetEvent, event_id) for event_id in ids)
            session.commit()
            return run

        monkeypatch.setattr(dagrun_module, "get_or_create_dagrun", create)

    return consume


def test_example_feature_stats(dags, sql):
    run = dags["example_feature_stats"].test()
    assert run.state == "success", _states(run)
    assert sql("SELECT rows FROM staging.feature_summary WHERE run_id = %s", run.run_id) == [(10000,)]


def _published(sql, batch: str) -> dict[str, list]:
    """What readers of db01 see of a batch: its customers, events, predictions and metrics."""
    return {
        "customers": sql("SELECT * FROM ml.customers WHERE batch_id = %s ORDER BY customer_id", batch),
        "events": sql(
            "SELECT customer_id, event_time, amount, channel, support_ticket FROM ml.customer_events "
            "WHERE batch_id = %s ORDER BY 1, 2, 3",
            batch,
        ),
    }


def _results(sql, batch: str) -> dict[str, list]:
    """A batch's published predictions and metrics, without the run id and timestamps."""
    return {
        "predictions": sql(
            "SELECT customer_id, churn_probability, predicted_churn FROM ml.churn_predictions "
            "WHERE batch_id = %s ORDER BY customer_id",
            batch,
        ),
        "metrics": sql(
            "SELECT metric, value, seed, library_versions FROM ml.model_metrics WHERE batch_id = %s ORDER BY metric",
            batch,
        ),
    }


def test_ingest_then_train(dags, sql, replica, asset_triggered, monkeypatch, capfd):
    # Batch A, ingested again by another run for the same logical date: the same rows (the
    # ingest is deterministic for a logical date).
    ingest_a = dags["mlops_ingest_customers"].test(logical_date=pendulum.datetime(2026, 5, 1, tz="UTC"))
    assert ingest_a.state == "success", _states(ingest_a)
    batch_a = ingest.batch_id(ingest_a.run_id, ingest_a.logical_date)
    assert batch_a == "2026-05-01T00:00:00+00:00"
    first = _published(sql, batch_a)
    assert len(first["customers"]) == int(os.environ["AIRFLOW_VAR_MLOPS_INGEST_CUSTOMERS"])
    assert len(first["events"]) > len(first["customers"])
    again = dags["mlops_ingest_customers"].test(logical_date=pendulum.datetime(2026, 5, 1, tz="UTC"))
    assert again.state == "success" and again.run_id != ingest_a.run_id, _states(again)
    assert _published(sql, batch_a) == first
    assert sql("SELECT count(*) FROM staging.customers_incoming WHERE batch_id = %s", batch_a) == [(0,)]
    # The asset event names the batch, for the training it triggers.
    events_a = asset_events(ingest_a.run_id) + asset_events(again.run_id)
    assert [event.extra["batch_id"] for event in events_a] == [batch_a, batch_a]

    # Batch B, published after A: the latest.
    ingest_b = dags["mlops_ingest_customers"].test(logical_date=pendulum.datetime(2026, 5, 2, tz="UTC"))
    assert ingest_b.state == "success", _states(ingest_b)
    batch_b = ingest.batch_id(ingest_b.run_id, ingest_b.logical_date)

    # The features come from a streaming replica of the server, as the inventories can set it.
    monkeypatch.setenv("AIRFLOW_CONN_MLOPS_FEATURES_RO", json.dumps(replica["conn"]))
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_FEATURES_CONN_ID", "mlops_features_ro")
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_REPLICA_WAIT_SECONDS", "3")
    # A replica that has not replayed the primary's latest write: the features are not read.
    subprocess.run([*replica["psql"], "-c", "SELECT pg_wal_replay_pause()"], check=True, capture_output=True)
    sql("CREATE TABLE IF NOT EXISTS staging.written_after_the_pause AS SELECT 1 AS x")
    sql("INSERT INTO staging.written_after_the_pause VALUES (2)")
    behind = dags["mlops_train_churn_model"].test(logical_date=None)
    subprocess.run([*replica["psql"], "-c", "SELECT pg_wal_replay_resume()"], check=True, capture_output=True)
    assert _states(behind)["extract_features"] == "failed", _states(behind)

    # Triggered by A's event after B was published: the run trains on A, not on the latest.
    capfd.readouterr()
    asset_triggered(events_a[-1:])
    train = dags["mlops_train_churn_model"].test(logical_date=None)
    assert train.state == "success", _states(train)
    assert f"batch {batch_a} from the asset event" in "".join(capfd.readouterr())
    trained = _results(sql, batch_a)
    assert len(trained["predictions"]) == len(first["customers"])
    assert all(0.0 <= probability <= 1.0 for _customer, probability, _churned in trained["predictions"])
    metrics = {row[0]: row[1] for row in trained["metrics"]}
    assert metrics["roc_auc"] >= 0.65 and metrics["test_rows"] > 0
    seed, versions = trained["metrics"][0][2:]
    assert seed == 42 and set(versions) == {"python", "numpy", "scikit-learn"}
    assert _results(sql, batch_b)["predictions"] == []

    # The model stays on disk under the run id, with the metrics that were written to db01.
    model_path = sql("SELECT DISTINCT model_path FROM ml.model_metrics WHERE batch_id = %s", batch_a)[0][0]
    folder = Path(model_path).parent
    assert folder == Path(os.environ["AIRFLOW_VAR_MLOPS_MODEL_DIR"]) / "mlops_train_churn_model" / folder.name
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["batch_id"] == batch_a and saved["seed"] == 42 and saved["versions"] == versions
    assert saved["metrics"]["roc_auc"] == pytest.approx(metrics["roc_auc"])
    assert joblib.load(model_path).predict_proba([[0.0] * 10]).shape == (1, 2)

    # A rerun of batch A publishes the same rows in place of the first run's (not beside them).
    asset_triggered(events_a[-1:])
    rerun = dags["mlops_train_churn_model"].test(logical_date=None)
    assert rerun.state == "success", _states(rerun)
    assert rerun.run_id != train.run_id
    assert _results(sql, batch_a) == trained
    assert sql("SELECT DISTINCT run_id FROM ml.churn_predictions WHERE batch_id = %s", batch_a) == [(rerun.run_id,)]
    assert sql("SELECT count(*) FROM staging.churn_predictions_incoming") == [(0,)]

    # No event (by hand): the latest published batch, B, and the log says so.
    asset_triggered([])
    latest = dags["mlops_train_churn_model"].test(logical_date=None)
    assert latest.state == "success", _states(latest)
    log = "".join(capfd.readouterr())
    assert f"training on the latest published batch, {batch_b}" in log
    assert "No Airflow connection mlops_mlflow: nothing logged to MLflow" in log
    assert len(_results(sql, batch_b)["predictions"]) == len(_published(sql, batch_b)["customers"])


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
    batch = ingest.batch_id(run.run_id, run.logical_date)
    assert sql("SELECT count(*) FROM staging.customers_incoming WHERE batch_id = %s", batch) == [(5,)]
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


def test_a_table_of_the_earlier_layout_is_refused_with_the_fix(postgres, sql):
    """Tables keyed by run id (before batches) are not written into: the message says what to do."""
    import mlops_train_churn_model as train
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk.exceptions import AirflowFailException

    sql("CREATE TABLE IF NOT EXISTS ml.metrics_by_run (run_id text, metric text, value float8)")
    sql("CREATE TABLE IF NOT EXISTS ml.metrics_by_batch (batch_id text, metric text, value float8)")
    hook = PostgresHook(postgres_conn_id="mlops_db")
    with pytest.raises(AirflowFailException, match=r"ALTER TABLE ml.metrics_by_run RENAME TO metrics_by_run_by_run"):
        train.refuse_old_layout(hook, "ml.metrics_by_run", "mlops_metrics_table")
    train.refuse_old_layout(hook, "ml.metrics_by_batch", "mlops_metrics_table")
    train.refuse_old_layout(hook, "ml.not_created_yet", "mlops_metrics_table")
