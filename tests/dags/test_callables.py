"""Unit tests of the functions the DAGs' tasks call (no database, no Airflow run)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import joblib
import mlops_ingest_customers as ingest
import mlops_train_churn_model as train
import numpy as np
import pytest


def test_variables_become_templates_with_defaults():
    rendered = ingest.variables({"mlops_conn_id": "mlops_db"})
    assert rendered == {"mlops_conn_id": "{{ var.value.get('mlops_conn_id', 'mlops_db') }}"}


@pytest.mark.parametrize("name", ["ml.customers", "staging.x_1", "_a._b"])
def test_table_names_accepted(name):
    assert ingest.table_name(name, "v") == name
    assert train.table_name(name, "v") == name


@pytest.mark.parametrize("name", ["customers", "ml.customers; DROP TABLE x", "a.b.c", "ml.", "1ml.customers", ""])
def test_table_names_refused(name):
    with pytest.raises(ValueError, match=r"expected schema\.table"):
        ingest.table_name(name, "mlops_customers_table")


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


def test_feature_sql_aggregates_per_customer():
    sql = train.feature_sql("ml.customers", "ml.customer_events")
    for fragment in ("GROUP BY c.customer_id", "count(e.customer_id)", "stddev_samp(e.amount)", "LEFT JOIN"):
        assert fragment in sql


def test_save_features_refuses_too_few_rows(tmp_path):
    with pytest.raises(ValueError, match="run mlops_ingest_customers first"):
        train.save_features(_feature_rows(10), tmp_path / "f.npz")


def test_train_evaluate_and_predict(tmp_path):
    features = tmp_path / "run" / "features.npz"
    assert train.save_features(_feature_rows(), features) == 400
    result = train.train_and_evaluate_model(features, tmp_path / "run")
    assert result["metrics"]["roc_auc"] > 0.8
    assert result["metrics"]["train_rows"] + result["metrics"]["test_rows"] == 400
    model = joblib.load(result["model_path"])
    assert model.predict_proba(np.zeros((1, len(train.FEATURES)))).shape == (1, 2)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["features"] == list(train.FEATURES) and saved["metrics"] == result["metrics"]
    predictions = train.predict(result["model_path"], features)
    assert len(predictions) == 400 and all(0.0 <= row[1] <= 1.0 for row in predictions)


def test_training_refuses_a_single_class(tmp_path):
    rows = [(*row[:-1], False) for row in _feature_rows()]
    train.save_features(rows, tmp_path / "f.npz")
    with pytest.raises(ValueError, match="single value"):
        train.train_and_evaluate_model(tmp_path / "f.npz", tmp_path)


def test_run_folder_is_a_safe_path(tmp_path):
    folder = train.run_folder(str(tmp_path), "d", "manual__2026-11-26T15:55:57.284274+00:00")
    assert folder == tmp_path / "d" / "manual__2026-11-26T15_55_57.284274_00_00"


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
