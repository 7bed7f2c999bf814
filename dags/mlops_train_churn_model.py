"""Train a churn model on db01's customer data; keep the model, its metrics and predictions.

A template for training DAGs. It runs whenever mlops_ingest_customers publishes a clean
batch (asset ``mlops_customer_events``), or by hand:

    extract_features -> train_and_evaluate -> write_metrics
                                           -> write_predictions

``extract_features`` computes per-customer features in PostgreSQL with one aggregate
(COUNT/SUM/AVG/STDDEV over a join, GROUP BY customer): the query shape PG-Strom offloads to
the GPU (GpuJoin + GpuPreAgg) where db01 has one, and plain PostgreSQL runs anywhere else.
``train_and_evaluate`` fits a scikit-learn pipeline on a stratified split, evaluates it on
the held-out part, refuses a model whose ROC AUC is below ``mlops_min_roc_auc`` and keeps
the model in ``<mlops_model_dir>/<dag_id>/<run_id>/`` (model.joblib, metrics.json, the
features it was trained on). Metrics and every customer's churn probability go back to db01,
keyed by the run id.

The features can be read from a read replica of db01 (``mlops_features_conn_id``, a
connection to it; empty: ``mlops_conn_id``): the heavy query then leaves db01 alone. Before
it reads, the task waits until the replica has replayed everything db01 had written when the
task started (at most ``mlops_replica_wait_seconds``), so a batch that was just ingested on
db01 is in the features.

Files pass between tasks on air01's disk: right for the LocalExecutor on one host; with
workers on several hosts, point ``mlops_model_dir`` at shared storage.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Asset, dag, task
from mlops_alerts import notify_failure

if TYPE_CHECKING:
    from pathlib import Path

# Imports that tasks need are inside the functions (airflint's rule): parsing this file,
# which the dag-processor does every few seconds, then costs no scikit-learn or numpy.

DAG_ID = "mlops_train_churn_model"
CUSTOMER_EVENTS = Asset("mlops_customer_events")

# Airflow variable -> default ("" for mlops_model_dir means $AIRFLOW_HOME/models).
SETTINGS = {
    "mlops_conn_id": "mlops_db",
    "mlops_features_conn_id": "",
    "mlops_replica_wait_seconds": "60",
    "mlops_customers_table": "ml.customers",
    "mlops_events_table": "ml.customer_events",
    "mlops_metrics_table": "ml.model_metrics",
    "mlops_predictions_table": "ml.churn_predictions",
    "mlops_model_dir": "",
    "mlops_min_roc_auc": "0.65",
}
MODEL_NAME = "churn_logistic_regression"
FEATURES = (
    "tenure_months",
    "monthly_fee",
    "plan_basic",
    "plan_premium",
    "events",
    "spend",
    "avg_amount",
    "sd_amount",
    "support_tickets",
    "app_events",
)
MIN_ROWS = 50
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_NOT_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def create_schema_sql(schema: str) -> str:
    """CREATE SCHEMA only where it is missing: CREATE SCHEMA IF NOT EXISTS needs the right to
    create schemas in the database even when the schema exists, and the DAGs' user has rights
    on the schemas the platform made (staging, ml), not on the database."""
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"{schema!r}: expected a plain schema name")
    return f"DO $$BEGIN IF to_regnamespace('{schema}') IS NULL THEN CREATE SCHEMA {schema}; END IF; END$$"


def variables(defaults: dict[str, str]) -> dict[str, str]:
    """Templates that Airflow renders when a task runs: each variable's value, or its default."""
    return {key: f"{{{{ var.value.get('{key}', '{default}') }}}}" for key, default in defaults.items()}


def model_dir(setting: str) -> str:
    """mlops_model_dir, or $AIRFLOW_HOME/models when it is empty."""
    import os

    return setting or os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "models")


def table_name(value: str, setting: str) -> str:
    """A schema-qualified table name from a variable, refused unless it is plain schema.table."""
    if not _TABLE_NAME.match(value):
        raise ValueError(f"Airflow variable {setting} = {value!r}: expected schema.table (letters, digits, _)")
    return value


def run_folder(model_dir: str, dag_id: str, run_id: str) -> Path:
    """<model_dir>/<dag_id>/<run_id>, the run id made safe as a file name."""
    from pathlib import Path

    return Path(model_dir) / dag_id / _NOT_IN_FILE_NAMES.sub("_", run_id)


def primary_lsn_sql() -> str:
    """Where db01's WAL is now: what a replica must have replayed to see every commit so far."""
    return "SELECT pg_current_wal_lsn()::text"


def replica_caught_up_sql() -> str:
    """On a replica: whether it has replayed up to an LSN (a parameter); true on a primary."""
    return "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn"


def wait_for_replica(primary, replica, timeout: float, sleep=None, clock=None) -> float:
    """Wait until the replica has replayed the primary's current WAL position; return the
    seconds it took. ``primary`` and ``replica`` are hooks (get_first); raises TimeoutError."""
    import time

    sleep, clock = sleep or time.sleep, clock or time.monotonic
    lsn = primary.get_first(primary_lsn_sql())[0]
    start = clock()
    while not replica.get_first(replica_caught_up_sql(), parameters=(lsn,))[0]:
        if clock() - start >= timeout:
            raise TimeoutError(
                f"the replica has not replayed the primary's WAL up to {lsn} after {timeout:g} s "
                "(mlops_replica_wait_seconds): it is lagging or not streaming; see playbooks/postgresql_replication_check.yml"
            )
        sleep(0.2)
    return clock() - start


def feature_sql(customers: str, events: str) -> str:
    """Per-customer features and label: one join and GROUP BY with COUNT/SUM/AVG/STDDEV."""
    return f"""
        SELECT c.customer_id,
               c.tenure_months::float8,
               c.monthly_fee::float8,
               CASE WHEN c.plan = 'basic' THEN 1.0 ELSE 0.0 END,
               CASE WHEN c.plan = 'premium' THEN 1.0 ELSE 0.0 END,
               count(e.customer_id)::float8,
               coalesce(sum(e.amount), 0)::float8,
               coalesce(avg(e.amount), 0)::float8,
               coalesce(stddev_samp(e.amount), 0)::float8,
               coalesce(sum(CASE WHEN e.support_ticket THEN 1 ELSE 0 END), 0)::float8,
               coalesce(sum(CASE WHEN e.channel = 'app' THEN 1 ELSE 0 END), 0)::float8,
               c.churned
        FROM {customers} AS c
        LEFT JOIN {events} AS e ON e.customer_id = c.customer_id
        GROUP BY c.customer_id, c.tenure_months, c.monthly_fee, c.plan, c.churned
        ORDER BY c.customer_id
    """


def save_features(rows: list[tuple], path: Path) -> int:
    """Write query rows (customer_id, FEATURES..., churned) as arrays to an .npz file."""
    import numpy as np

    if len(rows) < MIN_ROWS:
        raise ValueError(
            f"{len(rows)} customers with a label, at least {MIN_ROWS} needed: run mlops_ingest_customers first"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        customer_id=np.array([row[0] for row in rows], dtype=str),
        X=np.array([row[1:-1] for row in rows], dtype=float),
        y=np.array([bool(row[-1]) for row in rows], dtype=bool),
        feature_names=np.array(FEATURES, dtype=str),
    )
    return len(rows)


def train_and_evaluate_model(features_path: Path, folder: Path, seed: int = 42) -> dict:
    """Fit scaler + logistic regression on 75 %, evaluate on 25 %; keep model.joblib and metrics.json in folder."""
    import json

    import joblib
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = np.load(features_path)
    X, y = data["X"], data["y"]
    if len(np.unique(y)) < 2:
        raise ValueError(f"{features_path}: the label has a single value; a classifier needs both classes")
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, class_weight="balanced"))
    model.fit(X_train, y_train)
    probability = model.predict_proba(X_test)[:, 1]
    predicted = probability >= 0.5
    metrics = {
        "roc_auc": float(roc_auc_score(y_test, probability)),
        "accuracy": float(accuracy_score(y_test, predicted)),
        "f1": float(f1_score(y_test, predicted)),
        "log_loss": float(log_loss(y_test, probability)),
        "train_rows": float(len(y_train)),
        "test_rows": float(len(y_test)),
        "positive_rate": float(y.mean()),
    }
    folder.mkdir(parents=True, exist_ok=True)
    model_path = folder / "model.joblib"
    joblib.dump(model, model_path)
    (folder / "metrics.json").write_text(
        json.dumps({"model": MODEL_NAME, "features": list(FEATURES), "metrics": metrics}, indent=2) + "\n"
    )
    return {"model_path": str(model_path), "metrics": metrics}


def predict(model_path: str, features_path: Path) -> list[tuple[str, float, bool]]:
    """(customer_id, churn probability, predicted churn) for every customer in the features file."""
    import joblib
    import numpy as np

    model = joblib.load(model_path)
    data = np.load(features_path)
    probability = model.predict_proba(data["X"])[:, 1]
    return [
        (str(customer), round(float(p), 6), bool(p >= 0.5))
        for customer, p in zip(data["customer_id"], probability, strict=True)
    ]


@dag(
    dag_id=DAG_ID,
    description="Features from db01 with SQL, a scikit-learn churn model, metrics and predictions back to db01",
    schedule=[CUSTOMER_EVENTS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["mlops", "training", "scikit-learn"],
    default_args={
        "owner": "ml-platform",
        "retries": 1,
        "retry_delay": pendulum.duration(minutes=2),
        "execution_timeout": pendulum.duration(minutes=30),
        "pool": "training",
        "on_failure_callback": notify_failure,  # e-mail and webhook, as the operator configured
    },
    dagrun_timeout=pendulum.duration(hours=2),
    doc_md=__doc__,
)
def mlops_train_churn_model():
    @task(multiple_outputs=False)
    def extract_features(settings: dict[str, str], run_id: str | None = None) -> dict[str, str]:
        """Aggregate the features in PostgreSQL and keep them with the run."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        customers = table_name(settings["mlops_customers_table"], "mlops_customers_table")
        events = table_name(settings["mlops_events_table"], "mlops_events_table")
        conn_id = settings["mlops_features_conn_id"] or settings["mlops_conn_id"]
        features = PostgresHook(postgres_conn_id=conn_id)
        if conn_id != settings["mlops_conn_id"]:
            waited = wait_for_replica(
                PostgresHook(postgres_conn_id=settings["mlops_conn_id"]),
                features,
                float(settings["mlops_replica_wait_seconds"]),
            )
            print(f"features from {conn_id}, caught up with {settings['mlops_conn_id']} after {waited:.2f} s")
        rows = features.get_records(feature_sql(customers, events))
        folder = run_folder(model_dir(settings["mlops_model_dir"]), DAG_ID, run_id)
        count = save_features(rows, folder / "features.npz")
        print(f"{count} customers, {len(FEATURES)} features -> {folder / 'features.npz'}")
        return {"folder": str(folder), "features": str(folder / "features.npz")}

    @task(multiple_outputs=False)
    def train_and_evaluate(settings: dict[str, str], extracted: dict[str, str]) -> dict:
        """Fit, evaluate on the held-out part, refuse a model below the AUC threshold."""
        import json
        from pathlib import Path

        from airflow.sdk.exceptions import AirflowFailException

        result = train_and_evaluate_model(Path(extracted["features"]), Path(extracted["folder"]))
        print(json.dumps(result, indent=2))
        threshold = float(settings["mlops_min_roc_auc"])
        if result["metrics"]["roc_auc"] < threshold:
            raise AirflowFailException(
                f"Model refused: ROC AUC {result['metrics']['roc_auc']:.3f} on the held-out customers is below "
                f"mlops_min_roc_auc = {threshold}; metrics in {extracted['folder']}/metrics.json"
            )
        return result

    @task
    def write_metrics(settings: dict[str, str], result: dict, run_id: str | None = None) -> int:
        """One row per metric, keyed by run id (a retry overwrites its own rows)."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        table = table_name(settings["mlops_metrics_table"], "mlops_metrics_table")
        hook = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        hook.run(
            [
                create_schema_sql(table.split(".")[0]),
                (
                    f"CREATE TABLE IF NOT EXISTS {table} (run_id text NOT NULL, dag_id text NOT NULL, model text NOT NULL, "
                    "metric text NOT NULL, value double precision NOT NULL, model_path text NOT NULL, "
                    "created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, metric))"
                ),
            ]
        )
        for metric, value in result["metrics"].items():
            hook.run(
                f"INSERT INTO {table} (run_id, dag_id, model, metric, value, model_path) VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (run_id, metric) DO UPDATE SET value = EXCLUDED.value, model_path = EXCLUDED.model_path",
                parameters=(run_id, DAG_ID, MODEL_NAME, metric, value, result["model_path"]),
            )
        return len(result["metrics"])

    @task
    def write_predictions(
        settings: dict[str, str], result: dict, extracted: dict[str, str], run_id: str | None = None
    ) -> int:
        """Every customer's churn probability under this run's model, keyed by run id."""
        from pathlib import Path

        from airflow.providers.postgres.hooks.postgres import PostgresHook

        table = table_name(settings["mlops_predictions_table"], "mlops_predictions_table")
        predictions = predict(result["model_path"], Path(extracted["features"]))
        hook = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        hook.run(
            [
                create_schema_sql(table.split(".")[0]),
                (
                    f"CREATE TABLE IF NOT EXISTS {table} (run_id text NOT NULL, customer_id text NOT NULL, "
                    "churn_probability double precision NOT NULL, predicted_churn boolean NOT NULL, "
                    "scored_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (run_id, customer_id))"
                ),
            ]
        )
        hook.run(f"DELETE FROM {table} WHERE run_id = %s", parameters=(run_id,))
        hook.insert_rows(
            table,
            [(run_id, *row) for row in predictions],
            target_fields=["run_id", "customer_id", "churn_probability", "predicted_churn"],
            commit_every=5000,
        )
        return len(predictions)

    settings = variables(SETTINGS)
    extracted = extract_features(settings)
    result = train_and_evaluate(settings, extracted)
    write_metrics(settings, result)
    write_predictions(settings, result, extracted)


mlops_train_churn_model()
