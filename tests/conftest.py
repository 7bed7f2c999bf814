"""Suites that need their own virtualenv run in their own stage, named by path.

`pytest tests` (the pytest stage, the dev virtualenv) leaves these folders out; a path given
on the command line is still collected: `scripts/test dags` runs `pytest tests/dags` in
.build/venv-dags, which has Airflow.
"""

collect_ignore = [
    "dags",
]
