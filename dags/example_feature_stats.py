"""Example DAG: summarise a feature table on db01 and keep the summary there.

Reads through the Airflow connection ``mlops_db`` (PostgreSQL on db01); the table names
come from Airflow variables with defaults, never from hard-coded hosts.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task
from mlops_alerts import notify_failure

CONN_ID = "mlops_db"


@dag(
    dag_id="example_feature_stats",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["example", "features"],
    default_args={
        "owner": "ml-platform",
        "retries": 1,
        "retry_delay": pendulum.duration(minutes=1),
        "on_failure_callback": notify_failure,  # e-mail and webhook, as the operator configured
    },
    dagrun_timeout=pendulum.duration(minutes=30),
)
def example_feature_stats():
    @task
    def make_sample_features() -> str:
        """Create a small feature table when it is missing, so the example runs anywhere."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk import Variable

        table = Variable.get("feature_table", default="staging.sample_features")
        hook = PostgresHook(postgres_conn_id=CONN_ID)
        hook.run(
            f"CREATE TABLE IF NOT EXISTS {table} AS "
            "SELECT g AS id, (g % 5) AS bucket, random() AS score FROM generate_series(1, 10000) AS g"
        )
        return table

    @task(multiple_outputs=False)
    def summarise(table: str, **context) -> dict:
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from airflow.sdk import Variable

        hook = PostgresHook(postgres_conn_id=CONN_ID)
        rows, mean = hook.get_first(f"SELECT count(*), avg(score) FROM {table}")
        summary_table = Variable.get("feature_summary_table", default="staging.feature_summary")
        hook.run(
            f"CREATE TABLE IF NOT EXISTS {summary_table} (run_id text PRIMARY KEY, rows bigint, mean double precision)"
        )
        hook.run(
            f"INSERT INTO {summary_table} VALUES (%s, %s, %s) ON CONFLICT (run_id) DO NOTHING",
            parameters=(context["run_id"], rows, mean),
        )
        return {"rows": rows, "mean": float(mean)}

    summarise(make_sample_features())


example_feature_stats()
