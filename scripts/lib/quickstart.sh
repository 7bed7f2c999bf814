#!/usr/bin/env bash
# The handbook tried as a new user would (scripts/test's quickstart stage): every command of
# docs/quickstart.md's blocks titled "quick start", in order, in one bash session, from a
# clean state (no lab, no lab secrets), stopping at the first failure. Before the quick
# start's last command (the lab goes down), the Airflow database backup and restores of
# docs/operators/backup.md run on the same lab, with its commands too, and are checked:
# after each restore (from db01, then from the fetched copy) the DAG run made since the
# backup is gone, the runs before it are back, the safety dump the restore wrote holds the
# runs as they were just before it, and Airflow runs DAGs again. Before the first restore,
# the same command without its confirmation must be refused with Airflow's services
# untouched, and with --check it must pass and change nothing; after it, a restore made to
# fail after the stop must start Airflow again and name the safety dump. Then the pipeline's
# deploy job runs on the same lab (scripts/lib/pipeline.sh: pipeline_deploy_checks), then the
# ML checklist (docs/ml/checklist.md), and the MLflow artifacts left are archived, lost and
# restored (docs/operators/mlflow-backup.md) before the checklist's notebook step loads the model.
# QUICKSTART_DRY_RUN=1 prints the commands it would run, one per line, and runs nothing
# (tests/unit/docs/test_handbook.py compares them with the pages).
# QUICKSTART_KEEP_LAB=1 leaves the lab up when a command fails, to look at it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/dags.sh"

DRY_RUN=${QUICKSTART_DRY_RUN:-}
DB_CONTAINER=datatech-lab-db01

doc_commands() {  # $1 page under docs/, $2 block title
  local out
  out=$(python3 "$ROOT/tools/doc_commands.py" "$ROOT/docs/$1" "$2") || return 1
  printf '%s\n' "$out"
}
mapfile -t QUICK < <(doc_commands quickstart.md "quick start")
mapfile -t BACKUP < <(doc_commands operators/backup.md backup)
mapfile -t RESTORE < <(doc_commands operators/backup.md restore)
mapfile -t RESTORE_COPY < <(doc_commands operators/backup.md "restore from a copy")
mapfile -t CHECKLIST < <(doc_commands ml/checklist.md checklist)
mapfile -t MLFLOW_BACKUP < <(doc_commands operators/mlflow-backup.md "mlflow backup")
mapfile -t MLFLOW_RESTORE < <(doc_commands operators/mlflow-backup.md "mlflow restore")
if ((${#QUICK[@]} < 2 || ${#BACKUP[@]} == 0 || ${#RESTORE[@]} == 0 || ${#RESTORE_COPY[@]} == 0 ||
  ${#CHECKLIST[@]} == 0 || ${#MLFLOW_BACKUP[@]} == 0 || ${#MLFLOW_RESTORE[@]} == 0)); then
  echo "quickstart: no tested blocks found in docs/quickstart.md, docs/operators/backup.md," \
    "docs/operators/mlflow-backup.md or docs/ml/checklist.md" >&2
  exit 1
fi
LAST=${QUICK[-1]}
unset 'QUICK[-1]'
# The test does more on the lab before it goes down; the quick start must end with that.
[[ $LAST == "bash scripts/lab down" ]] || { echo "quickstart: its last command must be 'bash scripts/lab down', not '$LAST'" >&2; exit 1; }
CONFIRM=" -e airflow_db_restore_confirm=true"
[[ ${RESTORE[0]} == *"$CONFIRM"* ]] || { echo "quickstart: the restore block must confirm with${CONFIRM}" >&2; exit 1; }
UNCONFIRMED=${RESTORE[0]/"$CONFIRM"/}
RUN_DAG="ansible-playbook -i inventories/lab/hosts.yml playbooks/run_dag.yml -e dag_id=example_feature_stats"

# One command of the pages, in this shell (what `source` or `export` does stays).
run() {
  if [[ -n $DRY_RUN ]]; then printf '%s\n' "$1"; return 0; fi
  printf '\n\033[1m$ %s\033[0m\n' "$1"
  eval "$1"
}

check() { [[ -n $DRY_RUN ]] || "$@"; }

dag_runs() {
  docker exec -u postgres "$DB_CONTAINER" psql -d airflow -Atc "SELECT run_id FROM dag_run ORDER BY run_id"
}

fail() { echo "quickstart: $*" >&2; exit 1; }

BEFORE=""
remember_runs() {
  BEFORE=$(dag_runs)
  echo "quickstart: DAG runs at the backup: [${BEFORE//$'\n'/ }]"
}

PRE_RESTORE=""
expect_new_run() {
  local now
  now=$(dag_runs)
  [[ $now != "$BEFORE" ]] || fail "the DAG run made after the backup is not in the database"
  echo "quickstart: DAG runs before the restore: [${now//$'\n'/ }]"
  PRE_RESTORE=$now
}

expect_runs_at_backup() {
  local now
  now=$(dag_runs)
  [[ $now == "$BEFORE" ]] || fail "after the restore: expected the DAG runs [${BEFORE//$'\n'/ }], found [${now//$'\n'/ }]"
  echo "quickstart: DAG runs after the restore: [${now//$'\n'/ }], as at the backup"
}

AIR_CONTAINER=datatech-lab-air01
AIRFLOW_SERVICES=(airflow-api-server airflow-scheduler airflow-dag-processor airflow-triggerer)
services_state() {  # each service's state and main PID: a stop and start changes the PID
  local s
  for s in "${AIRFLOW_SERVICES[@]}"; do
    printf '%s %s\n' "$s" "$(docker exec "$AIR_CONTAINER" systemctl show -p ActiveState -p MainPID --value "$s" | paste -sd' ')"
  done
}

# The restore without its confirmation: refused, with a message naming the variable, before
# anything stops.
expect_refusal() {
  if [[ -n $DRY_RUN ]]; then printf '%s\n' "$1"; return 0; fi
  printf '\n\033[1m$ %s\033[0m   (must be refused)\n' "$1"
  local before out rc=0
  before=$(services_state)
  ! grep -qvw active <<<"$before" || fail "Airflow's services are not running before the refusal test: $before"
  out=$(eval "$1" 2>&1) || rc=$?
  printf '%s\n' "$out" | tail -n 15
  ((rc != 0)) || fail "the restore without airflow_db_restore_confirm=true was not refused"
  grep -q 'airflow_db_restore_confirm=true' <<<"$out" || fail "the refusal does not name airflow_db_restore_confirm"
  [[ $(services_state) == "$before" ]] || fail "the refused restore touched Airflow's services: before [$before], after [$(services_state)]"
  echo "quickstart: the restore without confirmation was refused; Airflow's services untouched"
}

# A restore that fails after Airflow stopped (airflow_home pointed nowhere: `airflow db
# migrate` cannot run, after the drop and the pg_restore): the rescue starts the services it
# stopped again and names the safety dump and the command that restores it.
expect_failed_restore_restarts_airflow() {
  local command="$1 -e airflow_home=/nonexistent" before out rc=0 s
  printf '\n\033[1m$ %s\033[0m   (must fail after the stop)\n' "$command"
  before=$(services_state)
  out=$(eval "$command" 2>&1) || rc=$?
  printf '%s\n' "$out" | tail -n 25
  ((rc != 0)) || fail "the restore with airflow_home=/nonexistent did not fail"
  out=$(tr '\n' ' ' <<<"$out" | tr -s ' ')  # the message as one line, however Ansible wrapped it
  grep -q 'failed at "Migrate the database"' <<<"$out" || fail "the restore did not fail where expected (the migration)"
  grep -q 'airflow_db_restore_file=/var/backups/airflow-db/pre-restore-airflow-' <<<"$out" \
    || fail "the failure message does not say how to restore the safety dump"
  for s in "${AIRFLOW_SERVICES[@]}"; do
    docker exec "$AIR_CONTAINER" systemctl is-active --quiet "$s" || fail "$s was not started again after the failed restore"
  done
  [[ $(services_state) != "$before" ]] || fail "the failed restore did not stop Airflow's services (no new PIDs)"
  python3 "$ROOT/tools/lab_api.py" health --timeout 180 || fail "Airflow's API did not answer after the failed restore"
  echo "quickstart: the failed restore started Airflow's services again and named the safety dump"
}

# A dry run: it passes, and leaves the services, the database and the backup folder alone.
expect_check_mode_changes_nothing() {
  local command="$1 --check" before runs dumps
  printf '\n\033[1m$ %s\033[0m   (must change nothing)\n' "$command"
  before=$(services_state) runs=$(dag_runs) dumps=$(count_safety_dumps)
  eval "$command" || fail "the restore in check mode failed"
  [[ $(services_state) == "$before" ]] || fail "the restore in check mode touched Airflow's services"
  [[ $(dag_runs) == "$runs" ]] || fail "the restore in check mode changed the database"
  (($(count_safety_dumps) == dumps)) || fail "the restore in check mode wrote a safety dump"
  echo "quickstart: the restore in check mode passed and changed nothing"
}

SAFETY_BEFORE=0
count_safety_dumps() {
  docker exec "$DB_CONTAINER" sh -c 'ls /var/backups/airflow-db/pre-restore-airflow-*.pgc 2>/dev/null | wc -l'
}
remember_safety_dumps() { SAFETY_BEFORE=$(count_safety_dumps); }

# The restore left a new safety dump, and it holds the runs as they were just before the
# restore (the run made after the backup included).
expect_safety_dump() {
  local newest data run
  (($(count_safety_dumps) == SAFETY_BEFORE + 1)) || fail "the restore wrote no safety dump pre-restore-airflow-*.pgc in /var/backups/airflow-db"
  newest=$(docker exec "$DB_CONTAINER" sh -c 'ls /var/backups/airflow-db/pre-restore-airflow-*.pgc | sort | tail -n 1')
  data=$(docker exec -u postgres "$DB_CONTAINER" pg_restore --data-only --table=dag_run -f - "$newest")
  for run in $PRE_RESTORE; do
    grep -qF -- "$run" <<<"$data" || fail "the safety dump $newest lacks the DAG run $run made before the restore"
  done
  echo "quickstart: safety dump db01:$newest holds the runs before the restore: [${PRE_RESTORE//$'\n'/ }]"
}

# As if db01 had been rebuilt: the restore from a copy must bring its own dump.
lose_dumps_on_db01() {
  docker exec "$DB_CONTAINER" rm -rf /var/backups/airflow-db
  echo "quickstart: db01's backup folder removed"
}

# In the test command's environment again (common.sh sets it), not the new user's shell.
deploy_with_the_pipeline() {
  bash -c 'source "$1/scripts/lib/common.sh"; source "$1/scripts/lib/dags.sh"; source "$1/scripts/lib/pipeline.sh"
           pipeline_deploy_checks' deploy "$ROOT"
}

# MLflow's artifacts on air01, one file per line (path and size): taken before they are lost,
# compared after the restore.
AIR_CONTAINER=datatech-lab-air01
ARTIFACTS=/var/lib/mlflow/artifacts
ARTIFACTS_BEFORE=""
mlflow_artifacts() { docker exec "$AIR_CONTAINER" find "$ARTIFACTS" -type f -printf '%P %s\n' | sort; }

lose_mlflow_artifacts() {
  ARTIFACTS_BEFORE=$(mlflow_artifacts)
  [[ -n $ARTIFACTS_BEFORE ]] || fail "MLflow has no artifacts on air01 to lose (the pipeline's training registers a model)"
  echo "quickstart: $(wc -l <<<"$ARTIFACTS_BEFORE") artifact files on air01; the folder is emptied"
  docker exec "$AIR_CONTAINER" find "$ARTIFACTS" -mindepth 1 -delete
}

expect_mlflow_artifacts_back() {
  [[ $(mlflow_artifacts) == "$ARTIFACTS_BEFORE" ]] || fail "the restore did not bring back every artifact file: $(diff <(echo "$ARTIFACTS_BEFORE") <(mlflow_artifacts) | head -5)"
  echo "quickstart: every artifact file is back"
}

# The checklist's step 2: the template of docs/ml/write-a-dag.md copied into dags/ as it is
# (the lab's DAGs deploy from there); removed again when the stage ends, however it ends.
TEMPLATE_DAG="$ROOT/dags/team_daily_spend.py"
write_template_dag() {
  python3 - "$ROOT/docs/ml/write-a-dag.md" "$TEMPLATE_DAG" <<'PY'
import re, sys
(block,) = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), re.DOTALL)
open(sys.argv[2], "w").write(block)
PY
  echo "quickstart: the template is dags/team_daily_spend.py"
}

# The checklist's step 7, its Python block as it is, in the DAGs' Python (the client and
# scikit-learn the page installs) with the lab's settings from docs/ml/experiments.md.
load_model_as_a_notebook_does() {
  local code
  code=$(python3 - "$ROOT/docs/ml/checklist.md" <<'PY'
import re, sys, textwrap
page = open(sys.argv[1]).read()
((indent, block),) = re.findall(r'^( *)```python title="checklist notebook"\n(.*?)^\1```', page, re.DOTALL | re.MULTILINE)
print(textwrap.dedent(block))
PY
  ) || fail "docs/ml/checklist.md has no python block titled 'checklist notebook'"
  make_dags_venv
  MLFLOW_TRACKING_URI=http://127.0.0.1:15000 MLFLOW_TRACKING_USERNAME=admin \
    MLFLOW_TRACKING_PASSWORD="$(cat "$BUILD/lab/secrets/mlflow_admin_password")" MLFLOW_DISABLE_TELEMETRY=true \
    "$DAGS_VENV/bin/python" -c "$code" || fail "the checklist's notebook step could not load the champion model"
}

clean_state() {
  log "quickstart: a clean state (no lab, no lab secrets, no fetched backups)"
  bash "$ROOT/scripts/lab" down >/dev/null
  rm -rf "$BUILD/lab" "$BUILD/backups"
}

on_exit() {
  local rc=$?
  rm -f "$TEMPLATE_DAG"
  if ((rc != 0)) && [[ -z ${QUICKSTART_KEEP_LAB:-} ]]; then
    log "quickstart: failed (exit $rc); the lab goes down (QUICKSTART_KEEP_LAB=1 keeps it)"
    bash "$ROOT/scripts/lab" down >/dev/null 2>&1 || true
  fi
  exit "$rc"
}

if [[ -z $DRY_RUN ]]; then
  clean_state
  trap on_exit EXIT
  # A new user's shell: none of the tools' paths that scripts/test added.
  PATH=$(tr ':' '\n' <<<"$PATH" | grep -vxF "$VENV/bin" | paste -sd:)
  unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH VIRTUAL_ENV
fi
cd "$ROOT"

check log "quickstart: docs/quickstart.md"
for command in "${QUICK[@]}"; do run "$command"; done

check log "quickstart: docs/operators/backup.md on the same lab"
check remember_runs
for command in "${BACKUP[@]}"; do run "$command"; done
run "$RUN_DAG"
check expect_new_run
expect_refusal "$UNCONFIRMED"
check expect_check_mode_changes_nothing "${RESTORE[0]}"
check remember_safety_dumps
for command in "${RESTORE[@]}"; do run "$command"; done
check expect_runs_at_backup
check expect_safety_dump
check expect_failed_restore_restarts_airflow "${RESTORE[0]}"
run "$RUN_DAG"
check expect_new_run
check lose_dumps_on_db01
check remember_safety_dumps
for command in "${RESTORE_COPY[@]}"; do run "$command"; done
check expect_runs_at_backup
check expect_safety_dump
run "$RUN_DAG"

check log "quickstart: the pipeline's deploy job on the same lab (scripts/lib/pipeline.sh)"
check deploy_with_the_pipeline

check log "quickstart: docs/ml/checklist.md on the same lab (steps 2, 4, 5, 6, 8; 7 after the next part)"
check write_template_dag
for command in "${CHECKLIST[@]}"; do run "$command"; done

check log "quickstart: docs/operators/mlflow-backup.md on the same lab"
for command in "${MLFLOW_BACKUP[@]}"; do run "$command"; done
check lose_mlflow_artifacts
for command in "${MLFLOW_RESTORE[@]}"; do run "$command"; done
check expect_mlflow_artifacts_back

check log "quickstart: docs/ml/checklist.md step 7, the champion loaded from the restored artifacts"
check load_model_as_a_notebook_does

check log "quickstart: the quick start's last command"
run "$LAST"
check log "quickstart: passed"
