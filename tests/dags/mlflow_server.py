"""A real MLflow tracking server for the DAG tests (fixture `mlflow_server`, imported by conftest.py).

Full mlflow runs from its own virtualenv, .build/venv-mlflow (requirements-mlflow.txt, made by
scripts/lib/dags.sh): its pins clash with Airflow's, and the DAGs need only the client
(mlflow-skinny, in dags/requirements.txt). As on air01: the backend store is a PostgreSQL
database `mlflow` owned by the user `mlflow`, here on the session's throwaway server; the
artifacts go to a temporary folder the server serves; logins through MLflow's basic-auth
app. The fixture yields the Airflow connection `mlops_mlflow` the DAGs would be given, as a
dict; a test sets it as AIRFLOW_CONN_MLOPS_MLFLOW.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MLFLOW = ROOT / ".build/venv-mlflow/bin/mlflow"
DB_USER = "mlflow"
DB_PASSWORD = "dag-tests-mlflow-db"
ADMIN = "admin"
ADMIN_PASSWORD = "dag-tests-mlflow-admin"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _superuser_sql(request, *statements: str) -> None:
    """Run statements as the PostgreSQL superuser of the session's server (conftest's `postgres`
    fixture keeps its details in _SERVER: a DSN, or its own cluster's socket folder and port;
    conftest modules are pytest plugins)."""
    import psycopg

    conftest = next(
        plugin
        for plugin in request.config.pluginmanager.get_plugins()
        if getattr(plugin, "__file__", None) == str(Path(__file__).with_name("conftest.py"))
    )
    server = conftest._SERVER
    if "dsn" in server:
        connect = {"conninfo": server["dsn"]}
    else:
        connect = {"host": str(server["workdir"]), "port": server["port"], "user": "postgres", "dbname": "postgres"}
    with psycopg.connect(**connect, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _wait_until_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"mlflow server exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow server not healthy after {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def mlflow_server(postgres, request, tmp_path_factory):
    """An MLflow tracking server on a free port; yields the mlops_mlflow connection (a dict)."""
    if not MLFLOW.exists():
        pytest.fail(f"{MLFLOW} is missing: run `bash scripts/test dags` (it makes .build/venv-mlflow)")
    _superuser_sql(
        request,
        # What an earlier run against the same MLOPS_DAGS_TEST_DSN server may have left.
        "DROP DATABASE IF EXISTS mlflow WITH (FORCE)",
        f"DROP ROLE IF EXISTS {DB_USER}",
        f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}'",
        f"CREATE DATABASE mlflow OWNER {DB_USER}",
    )
    workdir = tmp_path_factory.mktemp("mlflow")
    auth = workdir / "basic_auth.ini"
    auth.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{workdir}/basic_auth.db\n"
        f"admin_username = {ADMIN}\n"
        f"admin_password = {ADMIN_PASSWORD}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    port, log = _free_port(), workdir / "server.log"
    store = f"postgresql://{DB_USER}:{DB_PASSWORD}@{postgres['host']}:{postgres['port']}/mlflow"
    command = [
        str(MLFLOW),
        "server",
        *("--backend-store-uri", store),
        *("--artifacts-destination", str(workdir / "artifacts")),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--app-name", "basic-auth"),
    ]
    # The basic-auth app refuses to start without a fixed key for its CSRF tokens.
    env = {**os.environ, "MLFLOW_AUTH_CONFIG_PATH": str(auth), "MLFLOW_FLASK_SERVER_SECRET_KEY": "dag-tests-csrf-key"}
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
        yield {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": port,
            "schema": "http",
            "login": ADMIN,
            "password": ADMIN_PASSWORD,
        }
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """The server and its workers: the process group it leads (start_new_session)."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
