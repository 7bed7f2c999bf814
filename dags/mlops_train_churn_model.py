"""Train a churn model on one batch of db01's customer data; keep the model, its metrics and predictions.

A template for training DAGs. It runs whenever mlops_ingest_customers publishes a clean
batch (asset ``mlops_customer_events``), or by hand:

    extract_features -> train_and_evaluate -> write_metrics
                                           -> write_predictions

**Which batch.** The asset event that triggered the run names its batch (``extra``
``{"batch_id": ...}``, set by the ingest's ``publish``); the run trains on that batch's
customers, whatever was published since. Several events in one run: the newest. A run with
no such event (by hand, from the REST API, an older event) trains on the latest batch in
``<customers table>_batches`` and says so in the task log. A batch's customers are those
whose published row came from it (a later batch that publishes a customer again takes it
over), with all their events. Reruns of a batch give the same result: the features are read
in customer order, the split and the model use ``SEED``.

``extract_features`` computes per-customer features in PostgreSQL with one aggregate
(COUNT/SUM/AVG/STDDEV over a join, GROUP BY customer): the query shape PG-Strom offloads to
the GPU (GpuJoin + GpuPreAgg) where db01 has one, and plain PostgreSQL runs anywhere else.

**Memory.** The features come through a server-side (named) cursor, ``CHUNK_ROWS`` rows at
a time, straight into files (``_features/<run_id>/``: X as float64, the labels, the customer
ids): reading holds at most 10,000 rows x 12 columns as Python tuples (a few MB), whatever
the batch size. Training needs the whole feature matrix in memory: 10 float64 columns = 80 MB
per million customers, about 4x that at the peak of the fit (the split, the scaled copy, the
solver's work arrays): 335 MB measured (tracemalloc) for one million customers (fit: 27 s
on a shared 2-core machine). Predicting reads the matrix file again chunk by chunk (memory-mapped) and
writes a CSV file that COPY loads.

``train_and_evaluate`` fits a scikit-learn pipeline on a stratified split (``SEED``),
evaluates it on the held-out part and applies the quality gate ``mlops_min_roc_auc``. An
accepted model is kept in ``<mlops_model_dir>/<dag_id>/<run_id>/`` (model.joblib,
metrics.json; the features it was trained on in ``<dag_id>/_features/<run_id>/``); a refused
one is not kept: only its metrics.json, in ``<dag_id>/_refused/<run_id>/``, and the task
fails. metrics.json records the batch, the seed and the versions of Python, numpy and
scikit-learn.

**Publishing.** Metrics (with the seed and library versions) and every customer's churn
probability go back to db01, keyed by batch: the predictions are COPYed into a staging table,
then one transaction replaces the batch's published rows with them (likewise the metrics),
so readers see the previous run's rows or this run's, never half of one.

**MLflow.** Where the Airflow connection ``mlops_mlflow`` exists (conn_type http; schema
http or https, host, port, login and password of an MLflow user; extra ``server_cert_path``:
the CA file for HTTPS), the training task logs a run in the experiment named after this DAG
(params incl. seed, batch id and library versions; metrics; the model when accepted) and
registers the model as a version of ``REGISTERED_MODEL`` only when it passes the gate and its
ROC AUC (on its own held-out customers) beats that of the version the alias ``champion``
points at; the alias then moves to it. Without the connection the task says so and logs
nothing to MLflow; with it, a server that does not answer fails the task (it is retried).

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
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pendulum
from airflow.sdk import Asset, dag, task
from mlops_alerts import notify_failure
from mlops_common import variables

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
    "mlops_staging_schema": "staging",
    "mlops_model_dir": "",
    "mlops_min_roc_auc": "0.65",
}
MODEL_NAME = "churn_logistic_regression"
# The registered model in MLflow (the handbook's notebooks load it by this name), and the
# alias of its best version.
REGISTERED_MODEL = "churn_logistic_regression"
CHAMPION = "champion"
MLFLOW_CONN_ID = "mlops_mlflow"
SEED = 42
# Rows fetched from the server-side cursor at a time (the bound on what reading holds).
CHUNK_ROWS = 10_000
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
_NOT_IN_FILE_NAMES = re.compile(r"[^A-Za-z0-9._-]")


def model_dir(setting: str) -> str:
    """mlops_model_dir, or $AIRFLOW_HOME/models when it is empty."""
    import os

    return setting or os.path.join(os.environ.get("AIRFLOW_HOME", os.path.expanduser("~/airflow")), "models")


def run_folder(model_dir: str, dag_id: str, run_id: str) -> Path:
    """<model_dir>/<dag_id>/<run_id>, the run id made safe as a file name."""
    from pathlib import Path

    return Path(model_dir) / dag_id / _NOT_IN_FILE_NAMES.sub("_", run_id)


def features_folder(folder: Path) -> Path:
    """Where a run's features are written: <model_dir>/<dag_id>/_features/<run_id>."""
    return folder.parent / "_features" / folder.name


def refused_folder(folder: Path) -> Path:
    """Where a refused run's metrics go: <model_dir>/<dag_id>/_refused/<run_id>, apart from the models."""
    return folder.parent / "_refused" / folder.name


def triggering_batch(events) -> tuple[str | None, str]:
    """The batch id of the newest asset event that names one, and a line saying what was found.

    ``events`` is the run's ``triggering_asset_events`` (asset -> events; empty or None in a
    run started by hand)."""
    found = [event for event in (events or {}).get(CUSTOMER_EVENTS, []) if (event.extra or {}).get("batch_id")]
    if not found:
        return None, "no asset event with a batch id triggered this run"
    newest = max(found, key=lambda event: event.timestamp)
    others = sorted({event.extra["batch_id"] for event in found} - {newest.extra["batch_id"]})
    skipped = f"; also published since the last training, not trained on here: {', '.join(others)}" if others else ""
    return newest.extra["batch_id"], f"batch {newest.extra['batch_id']} from the asset event{skipped}"


def latest_batch_sql(batches: str) -> str:
    """The batch published last, from the ingest's batch list."""
    return f"SELECT batch_id FROM {batches} ORDER BY published_at DESC, batch_id DESC LIMIT 1"


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
    """Per-customer features and label of batch %(batch)s: one join and GROUP BY with
    COUNT/SUM/AVG/STDDEV, in customer order (the same file for the same batch)."""
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
        WHERE c.batch_id = %(batch)s
        GROUP BY c.customer_id, c.tenure_months, c.monthly_fee, c.plan, c.churned
        ORDER BY c.customer_id
    """


def save_features(cursor, folder: Path, chunk_rows: int = CHUNK_ROWS) -> int:
    """Write the feature query's rows (customer_id, FEATURES..., churned) from a cursor to
    files in folder, chunk_rows at a time (fetchmany): X.f8 (float64, row-major), y.u1 (labels),
    customer_id.csv, meta.json. Never holds more than one chunk."""
    import csv
    import json

    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rows = 0
    with (
        (folder / "X.f8").open("wb") as x_file,
        (folder / "y.u1").open("wb") as y_file,
        (folder / "customer_id.csv").open("w", newline="") as id_file,
    ):
        ids = csv.writer(id_file)
        while chunk := cursor.fetchmany(chunk_rows):
            np.asarray([row[1:-1] for row in chunk], dtype="<f8").tofile(x_file)
            np.asarray([bool(row[-1]) for row in chunk], dtype="u1").tofile(y_file)
            ids.writerows([row[0]] for row in chunk)
            rows += len(chunk)
    if rows < MIN_ROWS:
        raise ValueError(
            f"{rows} customers with a label in the batch, at least {MIN_ROWS} needed: run mlops_ingest_customers first"
        )
    (folder / "meta.json").write_text(json.dumps({"rows": rows, "features": list(FEATURES)}) + "\n")
    return rows


def load_features(folder: Path, mode: str | None = None):
    """(X, y) from save_features' files; mode "r" memory-maps X instead of reading it."""
    import json

    import numpy as np

    rows = json.loads((folder / "meta.json").read_text())["rows"]
    shape = (rows, len(FEATURES))
    if mode:
        X = np.memmap(folder / "X.f8", dtype="<f8", mode=mode, shape=shape)
    else:
        X = np.fromfile(folder / "X.f8", dtype="<f8").reshape(shape)
    return X, np.fromfile(folder / "y.u1", dtype="u1").astype(bool)


def library_versions() -> dict[str, str]:
    """What the model's numbers depend on besides the data and the seed."""
    import platform

    import numpy as np
    import sklearn

    return {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__}


def fit_and_evaluate(features: Path, seed: int = SEED):
    """Fit scaler + logistic regression on 75 %, evaluate on 25 %: (model, metrics)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_features(features)
    if len(np.unique(y)) < 2:
        raise ValueError(f"{features}: the label has a single value; a classifier needs both classes")
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
    return model, metrics


def keep_run(model, record: dict, folder: Path, accepted: bool) -> Path:
    """An accepted model: model.joblib and metrics.json in the run folder. A refused one: only
    its metrics.json, in _refused/<run_id>. Whatever an earlier try of the run left goes."""
    import json
    import shutil

    import joblib

    target, stale = (folder, refused_folder(folder)) if accepted else (refused_folder(folder), folder)
    shutil.rmtree(stale, ignore_errors=True)
    target.mkdir(parents=True, exist_ok=True)
    if accepted:
        joblib.dump(model, target / "model.joblib")
    (target / "metrics.json").write_text(json.dumps(record, indent=2) + "\n")
    return target


def predictions_csv(model_path: str, features: Path, out: Path, keys: tuple[str, ...], chunk_rows=CHUNK_ROWS) -> int:
    """(keys..., customer_id, churn probability, predicted churn) for every customer of the
    features, as CSV for COPY, chunk_rows at a time; the probability rounded to 6 digits."""
    import csv
    from itertools import islice

    import joblib

    model = joblib.load(model_path)
    X, _labels = load_features(features, mode="r")
    rows = 0
    with (features / "customer_id.csv").open(newline="") as id_file, out.open("w", newline="") as handle:
        ids, writer = csv.reader(id_file), csv.writer(handle)
        for start in range(0, len(X), chunk_rows):
            probability = model.predict_proba(X[start : start + chunk_rows])[:, 1]
            customers = [row[0] for row in islice(ids, len(probability))]
            writer.writerows(
                (*keys, customer, f"{p:.6f}", "true" if p >= 0.5 else "false")
                for customer, p in zip(customers, probability, strict=True)
            )
            rows += len(probability)
    return rows


def old_layout_sql() -> str:
    """Whether table %(table)s exists without a batch_id column (made by an earlier version of this DAG)."""
    return (
        "SELECT to_regclass(%(table)s) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_attribute "
        "WHERE attrelid = to_regclass(%(table)s) AND attname = 'batch_id' AND NOT attisdropped)"
    )


def refuse_old_layout(hook, table: str, setting: str) -> None:
    """Stop with the fix when the table was made keyed by run id (before batches were published)."""
    from airflow.sdk.exceptions import AirflowFailException

    if hook.get_first(old_layout_sql(), parameters={"table": table})[0]:
        raise AirflowFailException(
            f"{table} ({setting}) has the layout of an earlier version of {DAG_ID} (keyed by run id, no batch_id): "
            f"keep it under another name (ALTER TABLE {table} RENAME TO {table.split('.')[1]}_by_run) "
            "or set the variable to a new table; the next run creates the table keyed by batch"
        )


def metrics_sql(table: str) -> list[str]:
    """Replace batch %(batch)s's metrics, in one transaction (hook.run commits once)."""
    return [
        f"DELETE FROM {table} WHERE batch_id = %(batch)s",
        (
            f"INSERT INTO {table} (batch_id, metric, value, run_id, dag_id, model, model_path, seed, library_versions) "
            "SELECT %(batch)s, key, value::float8, %(run)s, %(dag)s, %(model)s, %(path)s, %(seed)s, %(versions)s::jsonb "
            "FROM jsonb_each_text(%(metrics)s::jsonb)"
        ),
    ]


def publish_predictions_sql(table: str, staged: str) -> list[str]:
    """Replace batch %(batch)s's predictions by run %(run)s's staged rows, in one transaction."""
    columns = "batch_id, customer_id, churn_probability, predicted_churn, run_id"
    return [
        f"DELETE FROM {table} WHERE batch_id = %(batch)s",
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged} WHERE run_id = %(run)s",
        f"DELETE FROM {staged} WHERE run_id = %(run)s",
    ]


def mlflow_settings(conn) -> dict[str, str]:
    """MLflow's environment variables from the Airflow connection mlops_mlflow."""
    if not conn.host:
        raise ValueError(f"Airflow connection {MLFLOW_CONN_ID}: no host (the MLflow tracking server)")
    scheme = conn.schema or "http"
    if scheme not in ("http", "https"):
        raise ValueError(f"Airflow connection {MLFLOW_CONN_ID}: schema {scheme!r}, expected http or https")
    env = {"MLFLOW_TRACKING_URI": f"{scheme}://{conn.host}:{conn.port or (443 if scheme == 'https' else 5000)}"}
    if conn.login:
        env |= {"MLFLOW_TRACKING_USERNAME": conn.login, "MLFLOW_TRACKING_PASSWORD": conn.password or ""}
    if cert := conn.extra_dejson.get("server_cert_path"):
        env["MLFLOW_TRACKING_SERVER_CERT_PATH"] = cert
    return env


@contextmanager
def environment(env: dict[str, str]):
    """os.environ with env set, as it was afterwards (MLflow's client reads its settings there)."""
    import os

    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def champion_roc_auc(client) -> float | None:
    """The ROC AUC of the registered version the alias champion points at (its run's metric); None without one."""
    from mlflow.exceptions import MlflowException

    try:
        version = client.get_model_version_by_alias(REGISTERED_MODEL, CHAMPION)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    return client.get_run(version.run_id).data.metrics.get("roc_auc")


def track_in_mlflow(env: dict[str, str], record: dict, model, features: Path, accepted: bool) -> dict:
    """Log the run to MLflow; register the model when accepted and better than the champion."""
    with environment(env):
        import cloudpickle
        import mlflow
        import mlflow.sklearn
        from mlflow.models import infer_signature

        client = mlflow.MlflowClient()
        mlflow.set_experiment(DAG_ID)
        with mlflow.start_run(run_name=record["run_id"]) as run:
            mlflow.set_tags(
                {"airflow.dag_id": DAG_ID, "airflow.run_id": record["run_id"], "quality_gate": record["gate"]}
            )
            mlflow.log_params(
                {
                    "model": MODEL_NAME,
                    "batch_id": record["batch_id"],
                    "seed": record["seed"],
                    "features": ",".join(FEATURES),
                    "min_roc_auc": record["min_roc_auc"],
                    **{f"version.{name}": value for name, value in record["versions"].items()},
                }
            )
            mlflow.log_metrics(record["metrics"])
            result = {"mlflow_run_id": run.info.run_id, "registered_version": None}
            if not accepted:
                print(f"MLflow run {run.info.run_id}: model refused by the quality gate, not logged or registered")
                return result
            X, _labels = load_features(features, mode="r")
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                # cloudpickle (a client dependency) rather than skops, a library more to install.
                serialization_format="cloudpickle",
                signature=infer_signature(X[:100], model.predict_proba(X[:100])[:, 1]),
                # Stated, not inferred: inferring loads the model in a subprocess (seconds).
                pip_requirements=[
                    f"{name}=={version}" for name, version in record["versions"].items() if name != "python"
                ]
                + [f"cloudpickle=={cloudpickle.__version__}"],
            )
            best = champion_roc_auc(client)
            if best is not None and record["metrics"]["roc_auc"] <= best:
                print(
                    f"MLflow run {run.info.run_id}: ROC AUC {record['metrics']['roc_auc']:.4f} does not beat "
                    f"{REGISTERED_MODEL}@{CHAMPION} ({best:.4f}); not registered"
                )
                return result
            version = mlflow.register_model(info.model_uri, REGISTERED_MODEL, tags={"batch_id": record["batch_id"]})
            client.set_registered_model_alias(REGISTERED_MODEL, CHAMPION, version.version)
            print(
                f"MLflow run {run.info.run_id}: registered {REGISTERED_MODEL} version {version.version} "
                f"(ROC AUC {record['metrics']['roc_auc']:.4f}, champion before: {best}); alias {CHAMPION} moved to it"
            )
            return result | {"registered_version": version.version}


@dag(
    dag_id=DAG_ID,
    description="Features of a batch from db01 with SQL, a scikit-learn churn model, metrics and predictions back to db01",
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
    def extract_features(
        settings: dict[str, str], run_id: str | None = None, triggering_asset_events=None
    ) -> dict[str, str]:
        """Find the batch, aggregate its features in PostgreSQL and stream them to the run's folder."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from mlops_common import batches_table, table_name

        customers = table_name(settings["mlops_customers_table"], "mlops_customers_table")
        events = table_name(settings["mlops_events_table"], "mlops_events_table")
        primary = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        batch, found = triggering_batch(triggering_asset_events)
        if batch is None:
            batches = batches_table(customers)
            listed = primary.get_first("SELECT to_regclass(%s) IS NOT NULL", parameters=(batches,))[0]
            latest = primary.get_first(latest_batch_sql(batches)) if listed else None
            if not latest:
                raise ValueError(f"{found}, and no batch is listed in {batches}: run mlops_ingest_customers first")
            batch = latest[0]
            found += f": training on the latest published batch, {batch}"
        print(found)
        conn_id = settings["mlops_features_conn_id"] or settings["mlops_conn_id"]
        features = PostgresHook(postgres_conn_id=conn_id)
        if conn_id != settings["mlops_conn_id"]:
            waited = wait_for_replica(primary, features, float(settings["mlops_replica_wait_seconds"]))
            print(f"features from {conn_id}, caught up with {settings['mlops_conn_id']} after {waited:.2f} s")
        folder = run_folder(model_dir(settings["mlops_model_dir"]), DAG_ID, run_id)
        conn = features.get_conn()
        try:
            # A named cursor is a server-side cursor: PostgreSQL keeps the result, fetchmany brings a chunk.
            with conn.cursor(name="mlops_features") as cursor:
                cursor.execute(feature_sql(customers, events), {"batch": batch})
                count = save_features(cursor, features_folder(folder))
        finally:
            conn.close()
        print(f"batch {batch}: {count} customers, {len(FEATURES)} features -> {features_folder(folder)}")
        return {"folder": str(folder), "features": str(features_folder(folder)), "batch_id": batch}

    @task(multiple_outputs=False)
    def train_and_evaluate(settings: dict[str, str], extracted: dict[str, str], run_id: str | None = None) -> dict:
        """Fit, evaluate on the held-out part, refuse a model below the AUC threshold; track it in MLflow."""
        import json
        from pathlib import Path

        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException

        features = Path(extracted["features"])
        model, metrics = fit_and_evaluate(features, SEED)
        threshold = float(settings["mlops_min_roc_auc"])
        accepted = metrics["roc_auc"] >= threshold
        record = {
            "model": MODEL_NAME,
            "run_id": run_id,
            "batch_id": extracted["batch_id"],
            "seed": SEED,
            "versions": library_versions(),
            "features": list(FEATURES),
            "min_roc_auc": threshold,
            "gate": "accepted" if accepted else "refused",
            "metrics": metrics,
        }
        print(json.dumps(record, indent=2))
        folder = keep_run(model, record, Path(extracted["folder"]), accepted)
        try:
            env = mlflow_settings(Connection.get(MLFLOW_CONN_ID))
        except AirflowNotFoundException:
            print(
                f"No Airflow connection {MLFLOW_CONN_ID}: nothing logged to MLflow (metrics in {folder}/metrics.json)"
            )
        else:
            record |= track_in_mlflow(env, record, model, features, accepted)
        if not accepted:
            raise AirflowFailException(
                f"Model refused: ROC AUC {metrics['roc_auc']:.3f} on the held-out customers is below "
                f"mlops_min_roc_auc = {threshold}; not kept as a model, metrics in {folder}/metrics.json"
            )
        return record | {"model_path": str(folder / "model.joblib"), "features_path": str(features)}

    @task
    def write_metrics(settings: dict[str, str], result: dict, run_id: str | None = None) -> int:
        """The batch's metrics with the seed and library versions: its old rows replaced in one transaction."""
        import json

        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from mlops_common import create_schema_sql, table_name

        table = table_name(settings["mlops_metrics_table"], "mlops_metrics_table")
        hook = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        refuse_old_layout(hook, table, "mlops_metrics_table")
        hook.run(
            [
                create_schema_sql(table.split(".")[0]),
                (
                    f"CREATE TABLE IF NOT EXISTS {table} (batch_id text NOT NULL, metric text NOT NULL, "
                    "value double precision NOT NULL, run_id text NOT NULL, dag_id text NOT NULL, model text NOT NULL, "
                    "model_path text NOT NULL, seed bigint NOT NULL, library_versions jsonb NOT NULL, "
                    "created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (batch_id, metric))"
                ),
            ]
        )
        hook.run(
            metrics_sql(table),
            parameters={
                "batch": result["batch_id"],
                "run": run_id,
                "dag": DAG_ID,
                "model": MODEL_NAME,
                "path": result["model_path"],
                "seed": result["seed"],
                "versions": json.dumps(result["versions"]),
                "metrics": json.dumps(result["metrics"]),
            },
        )
        return len(result["metrics"])

    @task
    def write_predictions(settings: dict[str, str], result: dict, run_id: str | None = None) -> int:
        """Every customer of the batch's churn probability: COPY into staging, then one transaction
        replaces the batch's published predictions."""
        from pathlib import Path

        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from mlops_common import create_schema_sql, staging_table, table_name

        table = table_name(settings["mlops_predictions_table"], "mlops_predictions_table")
        staged = staging_table(settings["mlops_staging_schema"], table)
        csv_path = Path(result["model_path"]).parent / "predictions.csv"
        keys = (result["batch_id"], run_id)
        count = predictions_csv(result["model_path"], Path(result["features_path"]), csv_path, keys)
        hook = PostgresHook(postgres_conn_id=settings["mlops_conn_id"])
        refuse_old_layout(hook, table, "mlops_predictions_table")
        columns = (
            "batch_id text NOT NULL, run_id text NOT NULL, customer_id text NOT NULL, "
            "churn_probability double precision NOT NULL, predicted_churn boolean NOT NULL"
        )
        hook.run(
            [
                *sorted({create_schema_sql(name.split(".")[0]) for name in (table, staged)}),
                f"CREATE TABLE IF NOT EXISTS {staged} ({columns})",
                (
                    f"CREATE TABLE IF NOT EXISTS {table} ({columns}, scored_at timestamptz NOT NULL DEFAULT now(), "
                    "PRIMARY KEY (batch_id, customer_id))"
                ),
                f"DELETE FROM {staged} WHERE run_id = %(run)s",  # an earlier try of this run
            ],
            parameters={"run": run_id},
        )
        hook.copy_expert(
            f"COPY {staged} (batch_id, run_id, customer_id, churn_probability, predicted_churn) "
            "FROM STDIN WITH (FORMAT csv)",
            str(csv_path),
        )
        hook.run(publish_predictions_sql(table, staged), parameters={"batch": result["batch_id"], "run": run_id})
        csv_path.unlink()
        print(f"batch {result['batch_id']}: {count} predictions published in {table}")
        return count

    settings = variables(SETTINGS)
    extracted = extract_features(settings)
    result = train_and_evaluate(settings, extracted)
    write_metrics(settings, result)
    write_predictions(settings, result)


mlops_train_churn_model()
