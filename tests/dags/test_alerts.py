"""A task that fails for good sends its alert to a real SMTP server and a real webhook receiver.

A probe DAG built like the example DAGs (``on_failure_callback: notify_failure`` in its
default arguments) runs with dag.test(): Airflow's task runner runs the task in process, and
on its failure the task's failure callbacks, as on air01. The channels are configured the way
the airflow role writes them (the variable ``mlops_alerts`` and the connections
``smtp_default`` and ``mlops_alerts_webhook``; tests/unit/roles/test_airflow_alerts.py checks
the role's side), here through AIRFLOW_VAR_* and AIRFLOW_CONN_*.
"""

from __future__ import annotations

import json
import socket
import textwrap
from pathlib import Path
from urllib.parse import quote

import pytest
from airflow.dag_processing.dagbag import DagBag
from alert_receivers import Received, serve

DAGS = Path(__file__).resolve().parents[2] / "dags"
PROBE = textwrap.dedent(
    '''
    """Fails on purpose, to send an alert."""

    from __future__ import annotations

    import pendulum
    from airflow.sdk import dag, task
    from mlops_alerts import notify_failure


    @dag(
        dag_id="alerts_probe",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        default_args={"owner": "tests", "retries": 0, "on_failure_callback": notify_failure},
    )
    def alerts_probe():
        @task
        def breaks():
            raise RuntimeError("the probe fails on purpose")

        @task
        def never_runs():
            pass

        breaks() >> never_runs()


    alerts_probe()
    '''
)
RECIPIENTS = ["ml-team@example.com", "on-call@example.com"]
SMTP_LOGIN = ("alerts", "relay-secret")
UI_URL = "https://airflow.example.com"


@pytest.fixture(scope="module")
def probe(airflow_db, tmp_path_factory):
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    folder = tmp_path_factory.mktemp("alerts")
    (folder / "alerts_probe.py").write_text(PROBE)
    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(folder), safe_mode=False)
    assert bag.import_errors == {}
    sync_bag_to_db(bag, "dags-folder", None)  # dag.test() runs only serialized DAGs
    return bag.dags["alerts_probe"]


@pytest.fixture
def receivers():
    received = Received()
    smtp, web = serve(received)
    yield received, smtp.server_address[1], web.server_address[1]
    for server in (smtp, web):
        server.shutdown()
        server.server_close()


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(monkeypatch, *, smtp_port: int, webhook_kind: str, webhook_url: str) -> None:
    """The variable and connections as the airflow role writes them (vars/main.yml)."""
    settings = {
        "email_to": RECIPIENTS,
        "smtp_conn_id": "smtp_default",
        "webhook_conn_id": "mlops_alerts_webhook",
        "webhook_kind": webhook_kind,
        "ui_url": UI_URL,
    }
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_port,
        "login": SMTP_LOGIN[0],
        "password": SMTP_LOGIN[1],
        # The sink speaks plain SMTP; a relay of the platform gets STARTTLS (the role's default).
        "extra": {
            "from_email": "airflow@example.com",
            "disable_tls": True,
            "disable_ssl": True,
            "timeout": 30,
            "retry_limit": 1,
        },
    }
    webhook = {"conn_type": "slackwebhook", "password": webhook_url, "extra": {"timeout": 30}}
    if webhook_kind == "http":
        origin = webhook_url.split("/", 3)
        webhook = {**webhook, "conn_type": "http", "host": "/".join(origin[:3])}
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_ALERTS", json.dumps(settings))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp))
    monkeypatch.setenv("AIRFLOW_CONN_MLOPS_ALERTS_WEBHOOK", json.dumps(webhook))


def _failed_run(probe):
    run = probe.test(logical_date=None)
    states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    assert run.state == "failed" and states["breaks"] == "failed", states
    return run


def test_a_failed_task_mails_and_posts_to_slack(probe, receivers, monkeypatch):
    received, smtp_port, web_port = receivers
    url = f"http://127.0.0.1:{web_port}/services/T000/B000/hook-secret"
    configure(monkeypatch, smtp_port=smtp_port, webhook_kind="slack", webhook_url=url)
    run = _failed_run(probe)

    assert len(received.mails) == 1, received
    mail = received.mails[0]
    assert mail.mail_from == "airflow@example.com" and mail.recipients == RECIPIENTS
    assert mail.login == SMTP_LOGIN
    assert mail.message["Subject"] == f"[Airflow] task alerts_probe.breaks failed (run {run.run_id}, try 1)"
    for fact in ("Task: breaks", "DAG: alerts_probe", "Try: 1", "RuntimeError: the probe fails on purpose"):
        assert fact in mail.text, mail.text
    log_url = f"{UI_URL}/dags/alerts_probe/runs/{quote(run.run_id)}/tasks/breaks?try_number=1"
    assert f"Log: {log_url}" in mail.text and f'href="{log_url}"' in mail.text

    assert len(received.posts) == 1, received
    post = received.posts[0]
    assert post["path"] == "/services/T000/B000/hook-secret"
    assert post["json"]["text"].startswith("[Airflow] task alerts_probe.breaks failed")
    assert "RuntimeError: the probe fails on purpose" in post["json"]["text"]


def test_a_failed_task_posts_json_to_an_http_webhook(probe, receivers, monkeypatch):
    received, smtp_port, web_port = receivers
    url = f"http://127.0.0.1:{web_port}/hooks/alerts?token=hook-secret"
    configure(monkeypatch, smtp_port=smtp_port, webhook_kind="http", webhook_url=url)
    run = _failed_run(probe)

    assert len(received.posts) == 1, received
    post = received.posts[0]
    assert post["path"] == "/hooks/alerts?token=hook-secret"
    assert post["content_type"] == "application/json"
    fields = post["json"]
    assert (fields["dag_id"], fields["task_id"], fields["run_id"], fields["try_number"]) == (
        "alerts_probe",
        "breaks",
        run.run_id,
        1,
    )
    assert fields["error"] == "RuntimeError: the probe fails on purpose"
    assert fields["log_url"] == f"{UI_URL}/dags/alerts_probe/runs/{quote(run.run_id)}/tasks/breaks?try_number=1"
    assert "Task: breaks" in fields["text"]
    assert len(received.mails) == 1


def test_a_dead_relay_neither_crashes_the_callback_nor_stops_the_webhook(probe, receivers, monkeypatch, caplog):
    received, _smtp_port, web_port = receivers
    url = f"http://127.0.0.1:{web_port}/services/T000/B000/hook-secret"
    configure(monkeypatch, smtp_port=_closed_port(), webhook_kind="slack", webhook_url=url)
    _failed_run(probe)

    assert received.mails == []
    assert len(received.posts) == 1 and "alerts_probe.breaks" in received.posts[0]["json"]["text"]
    alerts = [record for record in caplog.records if record.name == "mlops_alerts"]
    assert [(record.levelname, record.getMessage()) for record in alerts] == [
        ("ERROR", "Failure alert by e-mail not sent"),
        ("INFO", "Failure alert sent by webhook"),
    ]
    assert "ConnectionRefusedError" in alerts[0].exc_text  # why, in the task's log
    assert "Failed to run task callback" not in caplog.text  # the callback itself did not raise


def test_no_channel_configured_logs_the_failure_and_sends_nothing(probe, receivers, monkeypatch, caplog):
    received = receivers[0]
    monkeypatch.delenv("AIRFLOW_VAR_MLOPS_ALERTS", raising=False)
    _failed_run(probe)
    assert received.mails == [] and received.posts == []
    assert "alerts_probe.breaks failed" in caplog.text and "no alert channel is configured" in caplog.text


@pytest.mark.parametrize("dag_file", ["example_feature_stats", "mlops_ingest_customers", "mlops_train_churn_model"])
def test_every_example_dag_alerts_on_failure(dag_file):
    from mlops_alerts import notify_failure

    bag = DagBag(dag_folder=str(DAGS / f"{dag_file}.py"), safe_mode=False)
    for dag in bag.dags.values():
        for task in dag.tasks:
            callbacks = task.on_failure_callback
            assert notify_failure in (callbacks if isinstance(callbacks, list) else [callbacks]), task.task_id


def test_the_callback_never_raises_even_on_a_context_it_cannot_read(caplog):
    from mlops_alerts import notify_failure

    notify_failure({"ti": object(), "exception": ValueError("x" * 5000)})  # returns: no exception
    notify_failure({})
    assert caplog.text.count("no alert channel is configured") == 2
