"""A probe DAG for the Celery workers: six tasks at once on the default queue and one on the
training queue; each returns the host it ran on (Airflow records it too)."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="molecule_parallel",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["molecule"],
    default_args={"owner": "platform", "retries": 0},
)
def molecule_parallel():
    @task
    def where(seconds: int) -> str:
        import socket
        import time

        time.sleep(seconds)
        return socket.gethostname()

    where.expand(seconds=[4, 4, 4, 4, 4, 4])
    where.override(task_id="where_training", queue="training")(seconds=1)


molecule_parallel()
