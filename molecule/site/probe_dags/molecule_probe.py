"""A probe DAG: reads from db01 through the mlops_db connection and writes a row back."""

from __future__ import annotations

import pendulum
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.sdk import Variable, dag, task


@dag(
    dag_id="molecule_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["molecule"],
    default_args={"owner": "platform", "retries": 0},
)
def molecule_probe():
    @task
    def read_and_write(**context) -> int:
        hook = PostgresHook(postgres_conn_id="mlops_db")
        table = Variable.get("probe_table")
        tables = hook.get_first("SELECT count(*) FROM pg_catalog.pg_tables")[0]
        hook.run(f"CREATE TABLE IF NOT EXISTS {table} (run_id text PRIMARY KEY, tables int)")
        hook.run(f"INSERT INTO {table} VALUES (%s, %s)", parameters=(context["run_id"], tables))
        return tables

    read_and_write()


molecule_probe()
