"""Unit tests of the functions the DAGs' tasks call (no database, no Airflow run)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import joblib
import mlops_common as common
import mlops_ingest_customers as ingest
import mlops_train_churn_model as train
import numpy as np
import pytest
from airflow.sdk import Connection


def test_variables_become_templates_with_defaults():
    rendered = common.variables({"mlops_conn_id": "mlops_db"})
    assert rendered == {"mlops_conn_id": "{{ var.value.get('mlops_conn_id', 'mlops_db') }}"}


@pytest.mark.parametrize("name", ["ml.customers", "staging.x_1", "_a._b"])
def test_table_names_accepted(name):
    assert common.table_name(name, "v") == name


@pytest.mark.parametrize("name", ["customers", "ml.customers; DROP TABLE x", "a.b.c", "ml.", "1ml.customers", ""])
def test_table_names_refused(name):
    with pytest.raises(ValueError, match=r"expected schema\.table"):
        common.table_name(name, "mlops_customers_table")


def test_the_dags_share_one_copy_of_the_helpers():
    for module in (ingest, train):
        assert module.variables is common.variables
        assert not hasattr(module, "table_name") and not hasattr(module, "create_schema_sql")
    assert common.batches_table("ml.customers") == "ml.customers_batches"
    assert common.staging_table("staging", "ml.churn_predictions") == "staging.churn_predictions_incoming"
    with pytest.raises(ValueError, match="plain schema name"):
        common.create_schema_sql("ml; DROP SCHEMA x")


def test_staging_tables_follow_the_published_names():
    settings = {
        "mlops_staging_schema": "staging",
        "mlops_customers_table": "ml.customers",
        "mlops_events_table": "ml.customer_events",
    }
    assert ingest.staging_tables(settings) == ("staging.customers_incoming", "staging.customer_events_incoming")
    with pytest.raises(ValueError, match="mlops_staging_schema"):
        ingest.staging_tables({**settings, "mlops_staging_schema": "bad schema"})


def test_batch_seed_is_stable_and_differs_between_batches():
    assert ingest.batch_seed("manual__1") == ingest.batch_seed("manual__1")
    assert ingest.batch_seed("manual__1") != ingest.batch_seed("manual__2")


def test_the_batch_clock_is_the_runs_not_the_tasks():
    queued = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)
    assert ingest.batch_time(datetime(2026, 6, 1, tzinfo=UTC), queued) == datetime(2026, 6, 1, tzinfo=UTC)
    assert ingest.batch_time(None, queued) == queued


def test_generated_batch_is_valid_and_reproducible():
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    customers, events = ingest.generate_batch(7, 400, as_of)
    assert (customers, events) == ingest.generate_batch(7, 400, as_of)
    assert len(customers) == 400 and len({row[0] for row in customers}) == 400
    assert all(len(row) == len(ingest.CUSTOMER_COLUMNS) for row in customers)
    assert {row[1] for row in customers} <= set(ingest.PLANS)
    churn_rate = sum(row[4] for row in customers) / len(customers)
    assert 0.05 < churn_rate < 0.95
    known = {row[0] for row in customers}
    assert events and all(row[0] in known and row[2] >= 0 and row[3] in ingest.CHANNELS for row in events)
    assert all(datetime.fromisoformat(row[1]) <= as_of for row in events)


def test_csv_rows_need_the_exact_header(tmp_path):
    good = tmp_path / "customers.csv"
    good.write_text("customer_id,plan,tenure_months,monthly_fee,churned\nc1,basic,3,9.99,true\nc2,,4,9.99,false\n")
    assert ingest.read_csv_rows(good, ingest.CUSTOMER_COLUMNS) == [
        ("c1", "basic", "3", "9.99", "true"),
        ("c2", None, "4", "9.99", "false"),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,plan\nc1,basic\n")
    with pytest.raises(ValueError, match="expected 'customer_id,plan"):
        ingest.read_csv_rows(bad, ingest.CUSTOMER_COLUMNS)


def test_quality_checks_cover_every_table_and_report_failures():
    checks = ingest.quality_checks("staging.c_in", "staging.e_in", "ml.customers")
    assert len(checks) >= 10
    assert all("%(batch)s" in sql for sql in checks.values())
    assert ingest.failed_checks({"a": 0, "b": 3, "c": 1}) == ["b (3 rows)", "c (1 rows)"]


def _feature_rows(n=400, seed=3):
    """Rows shaped like the feature query's: customer_id, FEATURES..., churned."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        x = rng.normal(size=len(train.FEATURES))
        churned = bool(x[0] - x[4] + rng.normal(scale=0.5) > 0)
        rows.append((f"c{i:04d}", *map(float, x), churned))
    return rows


class _Cursor:
    """The part of a DB-API cursor save_features uses: fetchmany over a result, counted."""

    def __init__(self, rows):
        self.rows, self.sizes = list(rows), []

    def fetchmany(self, size):
        self.sizes.append(size)
        chunk, self.rows = self.rows[:size], self.rows[size:]
        return chunk


def test_feature_sql_aggregates_per_customer_of_one_batch():
    sql = train.feature_sql("ml.customers", "ml.customer_events")
    for fragment in ("GROUP BY c.customer_id", "count(e.customer_id)", "stddev_samp(e.amount)", "LEFT JOIN"):
        assert fragment in sql
    assert "WHERE c.batch_id = %(batch)s" in sql and "ORDER BY c.customer_id" in sql


def test_save_features_streams_chunks_to_files(tmp_path):
    rows = _feature_rows(250)
    cursor = _Cursor(rows)
    assert train.save_features(cursor, tmp_path / "f", chunk_rows=100) == 250
    assert cursor.sizes == [100, 100, 100, 100]  # three chunks, then the empty fetch that ends it
    X, y = train.load_features(tmp_path / "f")
    assert X.shape == (250, len(train.FEATURES)) and X.dtype == np.float64
    assert np.array_equal(X, np.array([row[1:-1] for row in rows])) and list(y) == [row[-1] for row in rows]
    assert (tmp_path / "f" / "customer_id.csv").read_text().split() == [row[0] for row in rows]
    mapped, _labels = train.load_features(tmp_path / "f", mode="r")
    assert isinstance(mapped, np.memmap) and np.array_equal(mapped, X)


def test_save_features_refuses_too_few_rows(tmp_path):
    with pytest.raises(ValueError, match="run mlops_ingest_customers first"):
        train.save_features(_Cursor(_feature_rows(10)), tmp_path / "f")


def _record(metrics, gate="accepted"):
    """What train_and_evaluate writes to metrics.json (the parts these tests read)."""
    versions = train.library_versions()
    return {
        "run_id": "r1",
        "batch_id": "b1",
        "seed": train.SEED,
        "versions": versions,
        "gate": gate,
        "metrics": metrics,
    }


def test_train_evaluate_keep_and_predict(tmp_path):
    features = tmp_path / "d" / "_features" / "r1"
    train.save_features(_Cursor(_feature_rows()), features)
    model, metrics = train.fit_and_evaluate(features)
    assert metrics["roc_auc"] > 0.8
    assert metrics["train_rows"] + metrics["test_rows"] == 400
    assert train.fit_and_evaluate(features)[1] == metrics  # the same seed, the same numbers
    folder = train.keep_run(model, _record(metrics), tmp_path / "d" / "r1", accepted=True)
    assert folder == tmp_path / "d" / "r1"
    saved = json.loads((folder / "metrics.json").read_text())
    assert saved["metrics"] == metrics and saved["seed"] == train.SEED
    assert set(saved["versions"]) == {"python", "numpy", "scikit-learn"}
    assert joblib.load(folder / "model.joblib").predict_proba(np.zeros((1, len(train.FEATURES)))).shape == (1, 2)

    out = tmp_path / "predictions.csv"
    assert train.predictions_csv(str(folder / "model.joblib"), features, out, ("b1", "r1"), chunk_rows=64) == 400
    lines = out.read_text().splitlines()
    assert len(lines) == 400 and lines[0].startswith("b1,r1,c0000,")
    assert all(0.0 <= float(line.split(",")[3]) <= 1.0 for line in lines)


def test_a_refused_model_is_not_kept_beside_the_accepted_ones(tmp_path):
    features = tmp_path / "d" / "_features" / "r1"
    train.save_features(_Cursor(_feature_rows()), features)
    model, metrics = train.fit_and_evaluate(features)
    record = _record(metrics, "refused")
    # An earlier try of the run had kept a model: a refusal removes it.
    train.keep_run(model, record, tmp_path / "d" / "r1", accepted=True)
    folder = train.keep_run(model, record, tmp_path / "d" / "r1", accepted=False)
    assert folder == tmp_path / "d" / "_refused" / "r1"
    assert sorted(p.name for p in folder.iterdir()) == ["metrics.json"]
    assert not (tmp_path / "d" / "r1").exists()


def test_training_refuses_a_single_class(tmp_path):
    rows = [(*row[:-1], False) for row in _feature_rows()]
    train.save_features(_Cursor(rows), tmp_path / "f")
    with pytest.raises(ValueError, match="single value"):
        train.fit_and_evaluate(tmp_path / "f")


def _event(batch, minutes, asset=train.CUSTOMER_EVENTS):
    """What triggering_asset_events holds: events with extra and timestamp (Airflow's own objects carry more)."""
    return SimpleNamespace(
        extra={"batch_id": batch} if batch else {},
        timestamp=datetime(2026, 6, 1, tzinfo=UTC) + timedelta(minutes=minutes),
    )


def test_the_triggering_event_names_the_batch():
    assert train.triggering_batch(None)[0] is None
    assert train.triggering_batch({})[0] is None
    assert train.triggering_batch({train.CUSTOMER_EVENTS: [_event(None, 1)]})[0] is None
    batch, said = train.triggering_batch({train.CUSTOMER_EVENTS: [_event("b2", 2), _event("b1", 1)]})
    assert batch == "b2" and said.endswith("not trained on here: b1")


def test_the_mlflow_connection_becomes_mlflows_settings():
    conn = Connection(
        conn_id="mlops_mlflow",
        conn_type="http",
        host="air01",
        port=5443,
        schema="https",
        login="airflow",
        password="secret",
        extra=json.dumps({"server_cert_path": "/ca.crt"}),
    )
    assert train.mlflow_settings(conn) == {
        "MLFLOW_TRACKING_URI": "https://air01:5443",
        "MLFLOW_TRACKING_USERNAME": "airflow",
        "MLFLOW_TRACKING_PASSWORD": "secret",
        "MLFLOW_TRACKING_SERVER_CERT_PATH": "/ca.crt",
    }
    plain = Connection(conn_id="mlops_mlflow", conn_type="http", host="mlflow")
    assert train.mlflow_settings(plain) == {"MLFLOW_TRACKING_URI": "http://mlflow:5000"}
    with pytest.raises(ValueError, match="expected http or https"):
        train.mlflow_settings(Connection(conn_id="mlops_mlflow", conn_type="http", host="h", schema="ftp"))


def test_environment_is_restored(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "before")
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    with train.environment({"MLFLOW_TRACKING_URI": "during", "MLFLOW_TRACKING_USERNAME": "u"}):
        assert os.environ["MLFLOW_TRACKING_URI"] == "during"
    assert os.environ["MLFLOW_TRACKING_URI"] == "before" and "MLFLOW_TRACKING_USERNAME" not in os.environ


def test_run_folder_is_a_safe_path(tmp_path):
    folder = train.run_folder(str(tmp_path), "d", "manual__2026-11-26T15:55:57.284274+00:00")
    assert folder == tmp_path / "d" / "manual__2026-11-26T15_55_57.284274_00_00"
    assert train.features_folder(folder) == tmp_path / "d" / "_features" / folder.name


def test_model_dir_defaults_under_airflow_home(monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", "/opt/airflow")
    assert train.model_dir("") == "/opt/airflow/models"
    assert train.model_dir("/srv/models") == "/srv/models"


class _Hook:
    """A hook whose get_first answers from a list, recording the queries."""

    def __init__(self, answers):
        self.answers, self.queries = list(answers), []

    def get_first(self, sql, parameters=None):
        self.queries.append((sql, parameters))
        return (self.answers.pop(0),)


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_for_replica_polls_until_the_primary_lsn_is_replayed():
    primary, replica, clock = _Hook(["0/3000060"]), _Hook([False, False, True]), _Clock()
    waited = train.wait_for_replica(primary, replica, 5, sleep=clock.sleep, clock=clock)
    assert waited == pytest.approx(0.4)
    assert primary.queries == [(train.primary_lsn_sql(), None)]
    assert replica.queries == [(train.replica_caught_up_sql(), ("0/3000060",))] * 3


def test_wait_for_replica_gives_up_naming_the_setting():
    primary, replica, clock = _Hook(["0/3000060"]), _Hook([False] * 100), _Clock()
    with pytest.raises(TimeoutError, match=r"0/3000060 after 1 s \(mlops_replica_wait_seconds\)"):
        train.wait_for_replica(primary, replica, 1, sleep=clock.sleep, clock=clock)
