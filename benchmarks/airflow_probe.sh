#!/usr/bin/env bash
# Runs inside the Airflow container as root. "rss": resident memory (MiB) of each
# service's process tree. "dag-latency": seconds from a new DAG file landing in the
# dags folder to the DAG listed by Airflow.
set -euo pipefail
airflow_() { sudo -u airflow env AIRFLOW_HOME=/opt/airflow PYTHONWARNINGS=ignore /opt/airflow/venv/bin/airflow "$@"; }

tree_rss_kb() {  # sum of RSS over a process and all its descendants
  ps -e -o pid=,ppid=,rss= | awk -v root="$1" '
    { parent[$1] = $2; rss[$1] = $3 }
    END { for (p in rss) { q = p; while (q != "" && q != 0) { if (q == root) { sum += rss[p]; break } q = parent[q] } } print sum + 0 }'
}

case $1 in
  rss)
    for svc in api-server scheduler dag-processor triggerer; do
      pid=$(systemctl show -p MainPID --value "airflow-$svc")
      printf '%s=%d ' "$svc" $(( $(tree_rss_kb "$pid") / 1024 ))
    done
    echo
    ;;
  dag-latency)
    id="bench_latency_$(date +%s)"
    cat >"/opt/airflow/dags/$id.py" <<PY
import pendulum
from airflow.sdk import dag, task

@dag(dag_id="$id", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def probe():
    @task
    def noop():
        return 1
    noop()

probe()
PY
    chown airflow:airflow "/opt/airflow/dags/$id.py"
    start=$(date +%s.%N)
    # Bounded: a DAG not listed within 300 s is a failure, not a figure.
    deadline=$((SECONDS + 300))
    while ((SECONDS < deadline)); do
      if airflow_ dags list --output json 2>/dev/null |
        python3 -c 'import json, sys; sys.exit(sys.argv[1] not in {d["dag_id"] for d in json.load(sys.stdin)})' "$id"; then
        python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$start"
        rm -f "/opt/airflow/dags/$id.py"
        exit 0
      fi
      sleep 1
    done
    echo "airflow_probe: $id was not listed within 300 s" >&2
    rm -f "/opt/airflow/dags/$id.py"
    exit 1
    ;;
esac
