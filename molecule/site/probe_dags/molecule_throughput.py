"""A probe DAG for scripts/bench workers: sixteen short tasks, to count tasks per minute with
one worker and with two."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="molecule_throughput",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["molecule"],
    default_args={"owner": "platform", "retries": 0},
)
def molecule_throughput():
    @task
    def short(n: int) -> int:
        import time

        time.sleep(1)
        return n

    short.expand(n=list(range(16)))


molecule_throughput()
