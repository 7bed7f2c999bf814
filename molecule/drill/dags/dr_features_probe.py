"""The read replica's probe: the features connection must reach a standby, not the primary."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="dr_features_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["drill"],
    default_args={"owner": "ml-platform"},
)
def dr_features_probe():
    @task(multiple_outputs=False)
    def read_through_features_connection() -> dict:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        standby, server, runs = PostgresHook(postgres_conn_id="drill_features").get_first(
            "SELECT pg_is_in_recovery(), inet_server_addr()::text, (SELECT count(*) FROM dag_run)"
        )
        if not standby:
            raise RuntimeError(f"drill_features reached {server}, a primary: it must point at the read replica")
        print(f"read {runs} dag runs on the standby {server}")
        return {"server": server, "dag_runs": runs}

    read_through_features_connection()


dr_features_probe()
