"""The drill's DAG: a run recorded in the restored metadata database proves Airflow works on it."""

from __future__ import annotations

import pendulum
from airflow.sdk import dag, task


@dag(
    dag_id="dr_drill_probe",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["drill"],
    default_args={"owner": "ml-platform"},
)
def dr_drill_probe():
    @task
    def answer() -> int:
        return 42

    answer()


dr_drill_probe()
