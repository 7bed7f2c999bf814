#!/usr/bin/env bash
# The DAG suite's own virtualenv and checks, sourced by scripts/test (after common.sh).
# .build/venv-dags holds Airflow as air01 runs it (the role's pinned constraints) with the
# libraries the DAGs import (dags/requirements.txt), pytest, airflint and check-jsonschema:
# requirements-dags.txt.

DAGS_VENV="$BUILD/venv-dags"
DAGS_REQUIREMENTS="$ROOT/requirements-dags.txt"
AIRFLOW_CONSTRAINTS="$ROOT/roles/airflow/files/constraints-airflow-3.3.2-py3.11.txt"

# Made again whenever requirements-dags.txt, the DAGs' own dags/requirements.txt (which it
# includes; named here too so that its changes remake the virtualenv) or the constraints change.
make_dags_venv() {
  make_venv_from "$DAGS_VENV" -r "$DAGS_REQUIREMENTS" -r "$ROOT/dags/requirements.txt" -c "$AIRFLOW_CONSTRAINTS"
}

# The MLflow tracking server the DAG tests start: full mlflow in a virtualenv of its own
# (requirements-mlflow.txt), since its pins clash with Airflow's.
MLFLOW_VENV="$BUILD/venv-mlflow"
make_mlflow_venv() { make_venv_from "$MLFLOW_VENV" -r "$ROOT/requirements-mlflow.txt"; }

# The DAG tests start a throwaway PostgreSQL with the server binaries they find (initdb on
# PATH, pg_config --bindir, Debian's /usr/lib/postgresql: tests/dags/conftest.py), or use the
# server MLOPS_DAGS_TEST_DSN names, and an MLflow server on it. Debian's postgresql package
# only when neither is there.
has_postgresql_server() {
  [[ -n ${MLOPS_DAGS_TEST_DSN:-} ]] && return 0
  command -v initdb >/dev/null && return 0
  command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

bootstrap_dags() {
  if ! has_postgresql_server; then
    if ! command -v apt-get >/dev/null; then
      echo "No PostgreSQL server for the DAG tests: install one (initdb and pg_ctl on PATH, or pg_config" \
        "on PATH), or start one and set MLOPS_DAGS_TEST_DSN (docs/ml/test-dags.md)" >&2
      return 1
    fi
    install_system_packages postgresql
  fi
  make_dags_venv && make_mlflow_venv
}

# pytest tests/dags: DagBag, metadata, task callables, dag.test() runs on a real PostgreSQL.
dags_pytest() {
  bootstrap_dags || return 1
  (cd "$ROOT" && "$DAGS_VENV/bin/pytest" -q -p no:cacheprovider tests/dags)
}

# airflint rewrites files and exits 0 either way: let it rewrite a copy, and fail on any
# difference, printing it.
dags_airflint() {
  make_dags_venv || return 1
  local copy rc=0
  copy=$(mktemp -d)
  cp -r "$ROOT/dags" "$copy/dags"
  find "$copy/dags" -name __pycache__ -prune -exec rm -rf {} +
  (cd "$copy" && "$DAGS_VENV/bin/airflint" --apply dags/*.py >/dev/null) || rc=1
  if ! diff -ru -x __pycache__ "$ROOT/dags" "$copy/dags"; then
    echo "airflint wants the changes above (function-level imports, Jinja instead of Variable.get)" >&2
    rc=1
  fi
  rm -rf "$copy"
  return $rc
}
