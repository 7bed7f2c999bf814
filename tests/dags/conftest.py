"""Airflow and a real PostgreSQL for the DAG tests (run in .build/venv-dags: scripts/test dags).

Airflow is configured here, before anything imports it: AIRFLOW_HOME and a SQLite metadata
database in a temporary folder, the repository's dags/ as the DAGs folder. The `postgres`
fixture starts a throwaway PostgreSQL cluster on a free port (initdb/pg_ctl found on PATH,
through pg_config --bindir, or in Debian's /usr/lib/postgresql; as the postgres user when the
tests run as root), or uses the server MLOPS_DAGS_TEST_DSN names (a superuser's
postgresql://user:password@host:port/db of a server for tests only, e.g. a container: see
docs/ml/test-dags.md). The DAGs reach it through the connection mlops_db given as
AIRFLOW_CONN_MLOPS_DB, as on air01.
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
from mlflow_server import mlflow_server  # noqa: F401  (the fixture; a module of its own)  # pylint: disable=unused-import

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
    """The PostgreSQL server binaries: initdb on PATH, else pg_config --bindir, else Debian's newest.
    A link on PATH (such as /usr/local/bin/initdb) counts as the folder it points into, where
    pg_ctl, pg_basebackup and psql are too."""
    found = [Path(p).resolve().parent for p in [shutil.which("initdb")] if p]
    if not found and shutil.which("pg_config"):
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        found = [Path(bindir)] if bindir and (Path(bindir) / "initdb").exists() else []
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    found += [debian[-1].parent] if debian else []
    if not found:
        pytest.fail(
            "No PostgreSQL server binaries (initdb, pg_ctl): put them on PATH (or pg_config on PATH), or start a "
            "server and set MLOPS_DAGS_TEST_DSN (docs/ml/test-dags.md); on Debian, scripts/test dags installs them"
        )
    return found[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database, migrated once (dag.test() records its runs there)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    return HOME / "airflow.db"


# What the postgresql role makes on db01 from the inventories: mlfeatures owned by mldata (no
# login), closed to PUBLIC, with schemas staging and ml; the DAGs' user mlops may connect and
# create its tables in those schemas, nothing more. Before it, what an earlier run against the
# same MLOPS_DAGS_TEST_DSN server may have left.
SETUP = [
    (None, f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"),
    (None, f"DROP ROLE IF EXISTS {DB_USER}"),
    (None, "DROP ROLE IF EXISTS mldata"),
    (None, "CREATE ROLE mldata NOLOGIN"),
    (None, f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{DB_PASSWORD}'"),
    (None, f"CREATE DATABASE {DB_NAME} OWNER mldata"),
    (None, f"REVOKE CONNECT, TEMPORARY ON DATABASE {DB_NAME} FROM PUBLIC"),
    (None, f"GRANT CONNECT ON DATABASE {DB_NAME} TO {DB_USER}"),
    *((DB_NAME, f"CREATE SCHEMA {schema} AUTHORIZATION mldata") for schema in ("staging", "ml")),
    *((DB_NAME, f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {DB_USER}") for schema in ("staging", "ml")),
]


def _setup(admin: dict) -> None:
    """Run SETUP as the server's superuser (admin: psycopg connection keywords)."""
    import psycopg

    for dbname, statement in SETUP:
        with psycopg.connect(**{**admin, "dbname": dbname or admin.get("dbname", "postgres")}, autocommit=True) as c:
            c.execute(statement)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for the session: database mlfeatures as on db01, the DAGs' user mlops."""
    dsn = os.environ.get("MLOPS_DAGS_TEST_DSN")
    if dsn:
        from psycopg.conninfo import conninfo_to_dict

        admin = conninfo_to_dict(dsn)
        _setup(admin)
        _SERVER.update(dsn=dsn)
        yield _mlops_db(admin.get("host", "127.0.0.1"), int(admin.get("port", 5432)))
        return
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
        _setup({"host": str(workdir), "port": port, "user": "postgres", "dbname": "postgres"})
        _SERVER.update(bindir=bindir, workdir=workdir, port=port, run=run, as_owner=as_owner)
        yield _mlops_db("127.0.0.1", port)
    finally:
        subprocess.run([*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(workdir, ignore_errors=True)


def _mlops_db(host: str, port: int) -> dict:
    """The connection mlops_db to the test database, set for the DAGs as on air01."""
    conn = {
        "conn_type": "postgres",
        "host": host,
        "port": port,
        "login": DB_USER,
        "password": DB_PASSWORD,
        "schema": DB_NAME,
    }
    os.environ["AIRFLOW_CONN_MLOPS_DB"] = json.dumps(conn)
    return conn


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
    if "dsn" in _SERVER:
        pytest.skip("a streaming replica needs the server's files: not with MLOPS_DAGS_TEST_DSN (docs/ml/test-dags.md)")
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
