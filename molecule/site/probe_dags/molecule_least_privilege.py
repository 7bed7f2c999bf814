"""A probe DAG: its task tries to read what only Airflow may read (airflow.cfg, the secrets,
the services' environment files and /proc/<pid>/environ) and records on db01, through the
mlops_db connection, the outcome of each read (never what it read) and the user it ran as."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="molecule_least_privilege",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["molecule"],
    default_args={"owner": "platform", "retries": 0},
)
def molecule_least_privilege():
    @task
    def try_to_read(**context) -> int:
        import getpass
        import glob
        import os
        from pathlib import Path

        from airflow.providers.postgres.hooks.postgres import PostgresHook

        home = os.environ.get("AIRFLOW_HOME", "/opt/airflow")
        targets = [f"{home}/airflow.cfg", f"{home}/secrets"]
        targets += [
            f"{home}/secrets/{name}" for name in ("fernet_key", "jwt_secret", "api_secret_key", "sql_alchemy_conn")
        ]
        # The environment files the services read, as their units name them.
        for unit in sorted(glob.glob("/etc/systemd/system/airflow-*.service")):
            for line in Path(unit).read_text().splitlines():
                if line.startswith("EnvironmentFile="):
                    targets.append(line.split("=", 1)[1].lstrip("-"))
        # The environment of every process of the user that started this task (sudo's SUDO_UID):
        # the four services, the executor's workers and this task's supervisor.
        airflow_uid = os.environ.get("SUDO_UID", "")
        for status in sorted(glob.glob("/proc/[0-9]*/status")):
            try:
                uid = next(line.split()[1] for line in Path(status).read_text().splitlines() if line.startswith("Uid:"))
            except (OSError, StopIteration):
                continue
            if uid == airflow_uid:
                targets.append(status.replace("/status", "/environ"))

        def outcome(path: str) -> str:
            try:
                if os.path.isdir(path):
                    os.listdir(path)
                else:
                    Path(path).read_bytes()
            except PermissionError:
                return "refused"
            except OSError as error:
                return type(error).__name__
            return "read"

        rows = [(target, outcome(target)) for target in targets]
        # Names only: which of Airflow's variables reached the task's environment.
        rows.append(("environment", " ".join(sorted(name for name in os.environ if name.startswith("AIRFLOW")))))
        hook = PostgresHook(postgres_conn_id="mlops_db")
        hook.run(
            "CREATE TABLE IF NOT EXISTS staging.least_privilege_probe "
            "(run_id text, os_user text, target text, outcome text)"
        )
        hook.insert_rows(
            "staging.least_privilege_probe",
            [(context["run_id"], getpass.getuser(), target, result) for target, result in rows],
            target_fields=["run_id", "os_user", "target", "outcome"],
        )
        return len(rows)

    try_to_read()


molecule_least_privilege()
