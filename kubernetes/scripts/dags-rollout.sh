#!/usr/bin/env bash
# DAG rollout check after a merge. With git-sync the merge is the rollout: this waits until
# the DAG processor's git-sync has checked out the merged commit (or a later one), then
# smoke-tests: no import errors, and one example DAG run that must succeed.
#   bash kubernetes/scripts/dags-rollout.sh COMMIT_SHA      (the pipeline's k8s:dags job)
# Optional: RELEASE, NAMESPACE, SYNC_TIMEOUT, PARSE_WAIT, RUN_TIMEOUT (seconds), SMOKE_DAG.
set -euo pipefail

want=${1:?usage: dags-rollout.sh COMMIT_SHA}
release=${RELEASE:-airflow}
namespace=${NAMESPACE:-airflow}
dag_id=${SMOKE_DAG:-example_feature_stats}
processor=deployment/$release-dag-processor

airflow_cli() {  # airflow inside the DAG processor; its last line is the JSON asked for
  kubectl -n "$namespace" exec "$processor" -c dag-processor -- airflow "$@" 2>/dev/null | tail -n 1
}

synced_commit() {  # git-sync links dags/repo to .worktrees/<commit>
  # shellcheck disable=SC2016 # expanded inside the container
  kubectl -n "$namespace" exec "$processor" -c dag-processor -- \
    sh -c 'basename "$(readlink "${AIRFLOW_HOME:-/opt/airflow}/dags/repo")"' 2>/dev/null || true
}

# 1. git-sync has the merged commit, or a newer one that contains it.
deadline=$((SECONDS + ${SYNC_TIMEOUT:-300}))
while :; do
  have=$(synced_commit)
  if [[ $have == "$want" ]]; then
    break
  fi
  if [[ -n $have ]] && git cat-file -e "$have^{commit}" 2>/dev/null \
    && git merge-base --is-ancestor "$want" "$have"; then
    echo "git-sync is at $have, which contains $want"
    break
  fi
  if ((SECONDS >= deadline)); then
    echo "git-sync did not reach $want in time (it has '${have:-nothing}')" >&2
    exit 1
  fi
  sleep 10
done
echo "DAGs at $want are on the cluster"

# 2. The DAG processor parsed them without import errors (its next loop, at most ~1 min).
sleep "${PARSE_WAIT:-60}"
errors=$(airflow_cli dags list-import-errors --output json)
if [[ $errors != "[]" && $errors != *"No data found"* ]]; then
  echo "import errors: $errors" >&2
  exit 1
fi

# 3. One run of the smoke DAG, through the scheduler and a task pod, must succeed.
run_id=smoke-$(date -u +%Y%m%dT%H%M%S)
airflow_cli dags unpause "$dag_id" >/dev/null
airflow_cli dags trigger "$dag_id" --run-id "$run_id" >/dev/null
deadline=$((SECONDS + ${RUN_TIMEOUT:-600}))
while :; do
  state=$(airflow_cli dags list-runs "$dag_id" --output json \
    | jq -r --arg id "$run_id" '.[] | select(.run_id == $id) | .state' 2>/dev/null || true)
  case $state in
    success) echo "$dag_id run $run_id succeeded"; exit 0 ;;
    failed) echo "$dag_id run $run_id failed: see its task logs in the UI" >&2; exit 1 ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "$dag_id run $run_id still '${state:-queued}' after ${RUN_TIMEOUT:-600}s" >&2
    exit 1
  fi
  sleep 10
done
