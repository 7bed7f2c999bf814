"""Airflow and a real PostgreSQL for the DAG tests (run in .build/venv-dags: scripts/test dags).

Airflow is configured here, before anything imports it: AIRFLOW_HOME and a SQLite metadata
database in a temporary folder, the repository's dags/ as the DAGs folder. The `postgres`
fixture starts a throwaway PostgreSQL cluster (initdb/pg_ctl from the distribution's
packages, as the postgres user when the tests run as root) on a free port; the DAGs reach
it through the connection mlops_db given as AIRFLOW_CONN_MLOPS_DB, as on air01.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from mlflow_server import mlflow_server  # noqa: F401  (the fixture; a module of its own)

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
HOME = Path(tempfile.mkdtemp(prefix="datatech-dag-tests-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(HOME / "logs"),
        # Variables the DAGs read; the lab and production set them with airflow_variables.
        "AIRFLOW_VAR_MLOPS_MODEL_DIR": str(HOME / "models"),
        "AIRFLOW_VAR_MLOPS_INGEST_CUSTOMERS": "800",
    }
)
# The DAG files import as modules, for the unit tests of their functions.
sys.path.insert(0, str(DAGS))

DB_USER = "mlops"
DB_PASSWORD = "dag-tests-password"
DB_NAME = "mlfeatures"
# What the replica fixture needs to know of the session's server (set by the postgres fixture).
_SERVER: dict = {}


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(HOME, ignore_errors=True)


def _pg_bin() -> Path:
    """The newest PostgreSQL server binaries the distribution installed."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not versions:
        pytest.fail(
            "No PostgreSQL server in /usr/lib/postgresql: install the postgresql package (scripts/test dags does)"
        )
    return versions[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database, migrated once (dag.test() records its runs there)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return HOME / "airflow.db"


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL cluster for the session: database mlfeatures as on db01, the DAGs' user mlops."""
    bindir = _pg_bin()
    workdir = Path(tempfile.mkdtemp(prefix="datatech-dag-tests-pg-"))
    # initdb refuses to run as root: the cluster then belongs to the postgres user.
    as_owner = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = workdir / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*as_owner, *args], check=True, capture_output=True, text=True)

    # Trust on the socket (for the setup below), passwords over TCP (the DAGs, as on db01).
    run(
        str(bindir / "initdb"),
        *("-D", str(data), "-U", "postgres", "-E", "UTF8", "--auth-local=trust", "--auth-host=scram-sha-256"),
    )
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(workdir / "server.log"), "-o", options, "-w", "start")
    try:
        psql = [str(bindir / "psql"), "-h", str(workdir), "-p", str(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1"]
        # As the postgresql role makes it on db01 from the inventories: mlfeatures owned by mldata
        # (no login), closed to PUBLIC, with schemas staging and ml; the DAGs' user mlops may
        # connect and create its tables in those schemas, nothing more.
        run(*psql, "-c", "CREATE ROLE mldata NOLOGIN")
        run(*psql, "-c", f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}'")
        run(*psql, "-c", f"CREATE DATABASE {DB_NAME} OWNER mldata")
        run(*psql, "-c", f"REVOKE CONNECT, TEMPORARY ON DATABASE {DB_NAME} FROM PUBLIC")
        run(*psql, "-c", f"GRANT CONNECT ON DATABASE {DB_NAME} TO {DB_USER}")
        for schema in ("staging", "ml"):
            run(*psql, "-d", DB_NAME, "-c", f"CREATE SCHEMA {schema} AUTHORIZATION mldata")
            run(*psql, "-d", DB_NAME, "-c", f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {DB_USER}")
        conn = {
            "conn_type": "postgres",
            "host": "127.0.0.1",
            "port": port,
            "login": DB_USER,
            "password": DB_PASSWORD,
            "schema": DB_NAME,
        }
        os.environ["AIRFLOW_CONN_MLOPS_DB"] = json.dumps(conn)
        _SERVER.update(bindir=bindir, workdir=workdir, port=port, run=run, as_owner=as_owner)
        yield conn
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def sql(postgres):
    """Run one SQL statement on the test database as the DAGs' user; return the rows."""
    import psycopg

    def query(statement: str, *params):
        with psycopg.connect(
            host=postgres["host"],
            port=postgres["port"],
            user=postgres["login"],
            password=postgres["password"],
            dbname=postgres["schema"],
        ) as conn:
            cursor = conn.execute(statement, params or None)
            return cursor.fetchall() if cursor.description else []

    return query


@pytest.fixture(scope="session")
def replica(postgres):
    """A streaming replica of the session's server (pg_basebackup, as the postgresql role makes
    one), for the DAGs that read their features from a replica: its connection, and a psql
    command line that runs as its superuser."""
    bindir, workdir, port, run = (_SERVER[key] for key in ("bindir", "workdir", "port", "run"))
    data, replica_port = workdir / "replica", _free_port()
    run(
        str(bindir / "pg_basebackup"),
        *("-h", str(workdir), "-p", str(port), "-U", "postgres", "-D", str(data), "-R"),
        # A spread checkpoint (the default) kept the test waiting two minutes on an idle server.
        "--checkpoint=fast",
    )
    options = f"-p {replica_port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c hot_standby=on"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(workdir / "replica.log"), "-o", options, "-w", "start")
    try:
        yield {
            "conn": {**postgres, "port": replica_port},
            "psql": [str(bindir / "psql"), "-h", str(workdir), "-p", str(replica_port), "-U", "postgres", "-XAt"],
        }
    finally:
        stop = [str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
        subprocess.run([*_SERVER["as_owner"], *stop], check=False)
