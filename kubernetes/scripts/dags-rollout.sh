#!/usr/bin/env bash
# DAG rollout check after a merge. With git-sync the merge is the rollout: this waits until
# the DAG processor's git-sync has checked out the merged commit (or a later one), then
# smoke-tests: no import errors, and one example DAG run that must succeed.
#   bash kubernetes/scripts/dags-rollout.sh COMMIT_SHA      (the pipeline's k8s:dags job)
# Optional: RELEASE, NAMESPACE, SYNC_TIMEOUT, PARSE_WAIT, RUN_TIMEOUT (seconds), SMOKE_DAG.
#
# Every failure says why on stderr, with what airflow or kubectl printed (both streams); the
# smoke DAG is paused again on the way out, whatever happened, if it was paused before.
set -euo pipefail

want=${1:?usage: dags-rollout.sh COMMIT_SHA}
release=${RELEASE:-airflow}
namespace=${NAMESPACE:-airflow}
dag_id=${SMOKE_DAG:-example_feature_stats}
processor=deployment/$release-dag-processor

out=$(mktemp -d)
repause=false
finish() {
  local status=$?
  trap - EXIT
  if [[ $repause == true ]]; then
    if airflow_cli dags pause "$dag_id"; then
      echo "$dag_id paused again"
    else
      echo "could not pause $dag_id again: pause it by hand (airflow dags pause $dag_id)" >&2
      show_output
      status=1
    fi
  fi
  rm -rf "$out"
  exit "$status"
}
trap finish EXIT
trap 'exit 1' INT TERM  # a cancelled job still runs finish

# airflow inside the DAG processor; what it printed goes to $out/stdout and $out/stderr, its
# exit status (or kubectl's) is returned: every caller checks it (no silent exit under set -e).
airflow_cli() {
  kubectl -n "$namespace" exec "$processor" -c dag-processor -- airflow "$@" >"$out/stdout" 2>"$out/stderr"
}
# The JSON that --output json printed: its last line that starts like JSON (warnings may come first).
last_json() { grep -E '^[[:space:]]*[[{]' "$out/stdout" | tail -n 1 || true; }
show_output() {
  {
    echo "--- stdout:"
    cat "$out/stdout" 2>/dev/null || true
    echo "--- stderr:"
    cat "$out/stderr" 2>/dev/null || true
  } >&2
}

synced_commit() {  # git-sync links dags/repo to .worktrees/<commit>
  # shellcheck disable=SC2016 # expanded inside the container
  kubectl -n "$namespace" exec "$processor" -c dag-processor -- \
    sh -c 'basename "$(readlink "${AIRFLOW_HOME:-/opt/airflow}/dags/repo")"' 2>"$out/stderr" || true
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
    : >"$out/stdout"
    show_output
    exit 1
  fi
  sleep 10
done
echo "DAGs at $want are on the cluster"

# 2. The DAG processor parsed them without import errors (its next loop, at most ~1 min).
# `airflow dags list-import-errors` exits 1 when it lists errors: its status alone says nothing.
sleep "${PARSE_WAIT:-60}"
rc=0
airflow_cli dags list-import-errors --output json || rc=$?
errors=$(last_json)
if [[ -z $errors ]] && ((rc == 0)) && grep -q "No data found" "$out/stdout"; then
  errors="[]"
fi
if [[ -z $errors ]] || ! count=$(jq -e 'if type == "array" then length else error("not a list") end' <<<"$errors" 2>/dev/null); then
  echo "could not list the import errors (exit $rc):" >&2
  show_output
  exit 1
fi
if ((count > 0)); then
  echo "$count import error(s) in the DAGs at $want:" >&2
  jq -r '.[] | "\(.filepath // .filename // "?") (bundle \(.bundle_name // "?")):\n\(.error // .stacktrace // "")"' \
    <<<"$errors" >&2
  echo "--- stderr of list-import-errors:" >&2
  cat "$out/stderr" >&2
  exit 1
fi
if ((rc != 0)); then
  echo "list-import-errors listed none but exited $rc:" >&2
  show_output
  exit 1
fi

# 3. One run of the smoke DAG, through the scheduler and a task pod, must succeed. A paused
# DAG's run would never start, so it is unpaused for the run and paused again by finish (a
# @daily DAG left unpaused would run every day in production).
if ! airflow_cli dags details "$dag_id" --output json; then
  echo "no DAG $dag_id on the cluster:" >&2
  show_output
  exit 1
fi
was_paused=$(last_json | jq -r 'if type == "array" then .[0].is_paused else .is_paused end' 2>/dev/null || true)
if [[ $was_paused != false ]]; then  # paused, or unknown: leave it paused in the end
  repause=true
  if ! airflow_cli dags unpause "$dag_id"; then
    echo "could not unpause $dag_id:" >&2
    show_output
    exit 1
  fi
fi
run_id=smoke-$(date -u +%Y%m%dT%H%M%S)
if ! airflow_cli dags trigger "$dag_id" --run-id "$run_id"; then
  echo "could not trigger $dag_id:" >&2
  show_output
  exit 1
fi
deadline=$((SECONDS + ${RUN_TIMEOUT:-600}))
while :; do
  state=""
  if airflow_cli dags list-runs "$dag_id" --output json; then
    state=$(last_json | jq -r --arg id "$run_id" '.[] | select(.run_id == $id) | .state' 2>/dev/null || true)
  fi
  case $state in
    success) echo "$dag_id run $run_id succeeded"; exit 0 ;;
    failed)
      echo "$dag_id run $run_id failed; its tasks (logs in the UI):" >&2
      airflow_cli tasks states-for-dag-run "$dag_id" "$run_id" --output json || true
      show_output
      exit 1
      ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "$dag_id run $run_id still '${state:-queued}' after ${RUN_TIMEOUT:-600}s; last answer:" >&2
    show_output
    exit 1
  fi
  sleep 10
done
