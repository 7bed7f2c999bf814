"""The training DAG against a real MLflow tracking server (fixture mlflow_server): what it logs,
and when it registers a model version.

As on air01, the DAG reaches MLflow through the Airflow connection mlops_mlflow; the checks go
through MLflow's own client, as a person with a notebook would.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import mlops_train_churn_model as training
import numpy
import pendulum
import pytest
import sklearn
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_ID = "mlops_train_churn_model"
MODEL = training.REGISTERED_MODEL


def _states(run) -> dict[str, str]:
    return {ti.task_id: str(ti.state) for ti in run.get_task_instances()}


@pytest.fixture(scope="module")
def dags(airflow_db, postgres):
    bag = DagBag(dag_folder=str(DAGS), safe_mode=False)
    for dag in bag.dags.values():
        for task in dag.tasks:
            task.retries = 0
    return bag.dags


@pytest.fixture
def client(mlflow_server, monkeypatch):
    """The connection mlops_mlflow set for the DAGs, and an MLflow client on the same server."""
    from mlflow import MlflowClient

    monkeypatch.setenv("AIRFLOW_CONN_MLOPS_MLFLOW", json.dumps(mlflow_server))
    # A notebook's settings: where the server is, and an MLflow user.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://{mlflow_server['host']}:{mlflow_server['port']}")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", mlflow_server["login"])
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", mlflow_server["password"])
    return MlflowClient()


def _runs(client) -> list:
    experiment = client.get_experiment_by_name(DAG_ID)
    return client.search_runs([experiment.experiment_id], order_by=["attributes.start_time ASC"]) if experiment else []


def _versions(client) -> list[str]:
    return sorted(version.version for version in client.search_model_versions(f"name = '{MODEL}'"))


def _a_weaker_champion(client) -> str:
    """An older model registered as champion before the DAG runs, with ROC AUC 0.5 (chance)."""
    experiment = client.create_experiment("an-older-model")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "roc_auc", 0.5)
    client.set_terminated(run.info.run_id)
    client.create_registered_model(MODEL)
    version = client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
    client.set_registered_model_alias(MODEL, "champion", version.version)
    return version.version


def test_training_is_tracked_and_registered_only_when_better(dags, client, sql, monkeypatch, capfd):
    ingest = dags["mlops_ingest_customers"].test(logical_date=pendulum.datetime(2026, 7, 1, tz="UTC"))
    assert ingest.state == "success", _states(ingest)
    batch = "2026-07-01T00:00:00+00:00"  # the batch of a run with a logical date
    older = _a_weaker_champion(client)

    # Passes the gate and beats the champion: a new version, and the alias moves to it.
    train = dags[DAG_ID].test(logical_date=None)
    assert train.state == "success", _states(train)
    [run] = _runs(client)
    assert run.info.run_name == train.run_id and run.data.tags["quality_gate"] == "accepted"
    assert run.data.params["batch_id"] == batch and run.data.params["seed"] == "42"
    assert run.data.params["version.numpy"] == numpy.__version__
    assert run.data.params["version.scikit-learn"] == sklearn.__version__
    assert run.data.params["version.python"] == platform.python_version()
    roc_auc = sql("SELECT value FROM ml.model_metrics WHERE batch_id = %s AND metric = 'roc_auc'", batch)[0][0]
    assert run.data.metrics["roc_auc"] == pytest.approx(roc_auc) and roc_auc > 0.5
    assert _versions(client) == sorted([older, str(int(older) + 1)])
    champion = client.get_model_version_by_alias(MODEL, "champion")
    assert champion.version == str(int(older) + 1) and champion.run_id == run.info.run_id
    # The registered model loads as a person would load it in a notebook.
    import mlflow.sklearn

    model = mlflow.sklearn.load_model(f"models:/{MODEL}@champion")
    assert model.predict_proba([[0.0] * 10]).shape == (1, 2)

    # A rerun of the batch: the same ROC AUC does not beat the champion; logged, not registered.
    capfd.readouterr()
    rerun = dags[DAG_ID].test(logical_date=None)
    assert rerun.state == "success", _states(rerun)
    assert f"does not beat {MODEL}@champion" in "".join(capfd.readouterr())
    assert [r.data.metrics["roc_auc"] for r in _runs(client)] == [run.data.metrics["roc_auc"]] * 2
    assert _versions(client) == sorted([older, str(int(older) + 1)])

    # Below the quality gate: the run fails, MLflow records it as refused, no version, no model kept.
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_MIN_ROC_AUC", "0.99")
    refused = dags[DAG_ID].test(logical_date=None)
    assert _states(refused)["train_and_evaluate"] == "failed", _states(refused)
    last = _runs(client)[-1]
    assert last.info.run_name == refused.run_id and last.data.tags["quality_gate"] == "refused"
    assert last.data.params["min_roc_auc"] == "0.99"
    assert _versions(client) == sorted([older, str(int(older) + 1)])
    assert client.get_model_version_by_alias(MODEL, "champion").version == champion.version
    folder = training.run_folder(os.environ["AIRFLOW_VAR_MLOPS_MODEL_DIR"], DAG_ID, refused.run_id)
    assert not folder.exists()
    assert [path.name for path in training.refused_folder(folder).iterdir()] == ["metrics.json"]
