"""A probe DAG for a lost worker: four tasks long enough to kill a worker under them; each
may be retried once, and returns the host it finished on."""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="molecule_worker_loss",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["molecule"],
    default_args={"owner": "platform", "retries": 2, "retry_delay": timedelta(seconds=5)},
)
def molecule_worker_loss():
    @task
    def long_task(seconds: int) -> str:
        import socket
        import time

        time.sleep(seconds)
        return socket.gethostname()

    long_task.expand(seconds=[40, 40, 40, 40])


molecule_worker_loss()
