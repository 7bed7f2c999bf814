#!/usr/bin/env bash
# The GitLab pipeline, run for real; sourced by scripts/test, scripts/bench and
# scripts/lib/quickstart.sh (after common.sh and dags.sh). .gitlab-ci.yml is validated
# against GitLab's CI schema (check-jsonschema), then gitlab-ci-local runs its jobs with the
# shell executor, the runner type the file is written for:
#   lint             as in CI (the test command's lint stages are this job);
#   test:unit        with TEST_STAGES=pytest;
#   deploy:staging   against the local lab, on the default branch as GitLab would run it, with
#                    ANSIBLE_INVENTORY=inventories/lab/hosts.yml and a VAULT_PASSWORD;
# then both ML DAGs run through the lab's scheduler (playbooks/run_dag.yml). The deploy job
# needs a lab: the quickstart stage runs it on the quick start's lab before that goes down
# (pipeline_deploy_checks), so the test command brings a lab up once.

NODE_DIR="$BUILD/node"
NODE_VERSION=22.23.3
GITLAB_CI_LOCAL_VERSION=4.75.1
LAB_INVENTORY=inventories/lab/hosts.yml
# The lab keeps its secrets in .build/lab/secrets, not in a vault: any password does.
LAB_VAULT_PASSWORD=lab-inventory-has-no-vault

# gitlab-ci-local needs Node 22: both from the npm registry, into .build/node.
install_gitlab_ci_local() {
  local stamp="$NODE_DIR/.versions" want="node@$NODE_VERSION gitlab-ci-local@$GITLAB_CI_LOCAL_VERSION"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  # npm (require_npm: Debian's, with its Node 18) bootstraps the install.
  require_npm
  log "installing $want into .build/node"
  rm -rf "$NODE_DIR"
  # shellcheck disable=SC2086  # two package specs
  npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error $want
  echo "$want" >"$stamp"
}

# gitlab-ci-local in the checkout; jobs without an image run in the shell executor.
gitlab_ci_local() {
  (cd "$ROOT" && PATH="$NODE_DIR/node_modules/.bin:$PATH" gitlab-ci-local \
    --shell-executor-no-image --no-color --state-dir .build/gitlab-ci-local --variable ANSIBLE_FORCE_COLOR=0 "$@")
}

# The deploy job against the lab, as on the default branch; $@: more gitlab-ci-local options.
pipeline_deploy_lab() {
  gitlab_ci_local --variable CI_DEFAULT_BRANCH=main --variable CI_COMMIT_BRANCH=main \
    --variable "ANSIBLE_INVENTORY=$LAB_INVENTORY" --variable "VAULT_PASSWORD=$LAB_VAULT_PASSWORD" \
    --variable "SSH_KNOWN_HOSTS=# the lab: docker exec, no SSH host key" \
    "$@" deploy:staging
}

# The figure: a new DAG (a probe with a unique dag_id, beside the repository's DAGs) goes
# through the deploy job; seconds from the job's start (gitlab-ci-local launched) until the
# lab's Airflow API lists the DAG unpaused, then until a triggered run of it succeeded.
# Sets RUNNABLE_S and RUN_S; the job's output goes to .build/logs/pipeline-deploy-<id>.log.
RUNNABLE_S=""
RUN_S=""
pipeline_time_to_runnable() {
  local dag_id source start figures
  RUNNABLE_S="" RUN_S=""
  dag_id="pipeline_probe_$(date +%s%N)"
  source=$(mktemp -d)
  cp -r "$ROOT/dags/." "$source/"
  rm -rf "$source/__pycache__"
  cat >"$source/$dag_id.py" <<PY
"""Probe for the deploy figure (scripts/bench pipeline): a new DAG, runnable at once."""

import pendulum
from airflow.sdk import dag, task


@dag(dag_id="$dag_id", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False,
     is_paused_upon_creation=False, tags=["probe"], default_args={"owner": "ml-platform"})
def probe():
    @task
    def hello() -> str:
        return "deployed"

    hello()


probe()
PY
  start=$(date +%s.%N)
  pipeline_deploy_lab --variable "DAGS_SOURCE=$source" >"$BUILD/logs/pipeline-deploy-$dag_id.log" 2>&1 || {
    tail -30 "$BUILD/logs/pipeline-deploy-$dag_id.log"
    rm -rf "$source"
    return 1
  }
  rm -rf "$source"
  # Polled in Python (tools/lab_api.py), bounded: it names what did not happen in time.
  figures=$(python3 "$ROOT/tools/lab_api.py" time-to-runnable "$dag_id" "$start" --timeout 300) || return 1
  read -r RUNNABLE_S RUN_S <<<"$figures"
}

# The lab from scratch: containers left by another checkout would hold other secrets. $1: log file.
lab_fresh() {
  bash "$ROOT/scripts/lab" down >"$1" 2>&1 || true
  bash "$ROOT/scripts/lab" >>"$1" 2>&1 || {
    tail -40 "$1"
    return 1
  }
}

pipeline_validate() {
  make_dags_venv || return 1
  log "pipeline: .gitlab-ci.yml against GitLab's CI schema"
  "$DAGS_VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$ROOT/.gitlab-ci.yml"
}

# The jobs that need no lab.
pipeline_jobs() (
  set -euo pipefail
  pipeline_validate
  install_gitlab_ci_local
  log "pipeline: the jobs of a default-branch pipeline"
  gitlab_ci_local --list --variable CI_DEFAULT_BRANCH=main --variable CI_COMMIT_BRANCH=main

  log "pipeline: lint and test:unit (TEST_STAGES=pytest)"
  gitlab_ci_local lint
  gitlab_ci_local --variable TEST_STAGES=pytest test:unit
)

# The deploy job on the running lab, then the deployed DAGs through its scheduler.
pipeline_deploy_checks() (
  set -euo pipefail
  install_gitlab_ci_local
  # Created before the clock starts, as it is on a runner that has deployed before.
  log "pipeline: the deploy job's virtualenv (ci/requirements-deploy.txt, hash-pinned)"
  bootstrap_deploy

  log "pipeline: deploy:staging with a new probe DAG: seconds until Airflow can run it"
  pipeline_time_to_runnable
  echo "deploy job start -> new DAG runnable: $RUNNABLE_S s (its first run succeeded at $RUN_S s)"

  log "pipeline: deploy:staging with the repository's DAGs"
  pipeline_deploy_lab

  log "pipeline: the deployed DAGs run through the lab's scheduler"
  local dag
  for dag in mlops_ingest_customers mlops_train_churn_model; do
    ansible-playbook -i "$ROOT/$LAB_INVENTORY" "$ROOT/playbooks/run_dag.yml" -e dag_id="$dag"
  done

  log "pipeline: the trained model is registered in the lab's MLflow (backed by db01), as the champion"
  pipeline_mlflow_champion
)

# MLflow's REST API on the lab (published on 127.0.0.1:15000), with the lab's login: the
# training run's model version behind the alias champion, and the run it came from.
pipeline_mlflow_champion() {
  local auth url=http://127.0.0.1:15000/api/2.0/mlflow version run_id
  auth="admin:$(cat "$BUILD/lab/secrets/mlflow_admin_password")"
  version=$(curl -fsS -u "$auth" "$url/registered-models/alias?name=churn_logistic_regression&alias=champion")
  run_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["model_version"]["run_id"])' <<<"$version")
  curl -fsS -u "$auth" "$url/runs/get?run_id=$run_id" | python3 -c "$(cat <<'PY'
import json, sys
data = json.load(sys.stdin)["run"]["data"]
params = {p["key"]: p["value"] for p in data.get("params", [])}
metrics = {m["key"]: m["value"] for m in data.get("metrics", [])}
missing = [key for key in ("seed", "batch_id", "version.scikit-learn") if key not in params]
assert not missing, f"the champion's run lacks the params {missing}: {sorted(params)}"
print(f"champion: batch {params['batch_id']}, seed {params['seed']}, metrics {metrics}")
PY
)"
}
