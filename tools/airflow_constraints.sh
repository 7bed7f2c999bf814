#!/usr/bin/env bash
# Make the constraints file the airflow role ships for one Debian release's Python:
#   tools/airflow_constraints.sh 13      # -> roles/airflow/files/constraints-airflow-<v>-py3.13.txt
# In a container of that release (the image scripts/test builds), a fresh virtualenv installs
# the role's packages with the existing Python 3.11 file as constraints (the same pins wherever
# a wheel exists for that Python); pip check must pass; its freeze is the file.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
release=${1:?Debian release, e.g. 13}
version=$(awk -F'"' '/^airflow_version:/ {print $2}' "$ROOT/roles/airflow/defaults/main.yml")
base="$ROOT/roles/airflow/files/constraints-airflow-$version-py3.11.txt"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
grep -v '^#' "$base" >"$work/pins.txt"
cp /etc/ssl/certs/ca-certificates.crt "$work/ca.crt"  # for a TLS-intercepting proxy
packages="apache-airflow==$version apache-airflow-providers-postgres apache-airflow-providers-fab psycopg2-binary apache-airflow-providers-celery apache-airflow-providers-smtp apache-airflow-providers-slack apache-airflow-providers-http"
# The DAGs' libraries go in too, so that their dependencies are pinned here; their own pins
# stay only in dags/requirements.txt (left out of the freeze below).
grep -vE '^\s*(#|$)' "$ROOT/dags/requirements.txt" >"$work/dags.txt"
docker run --rm -v "$work:/w" -e PIP_CERT=/w/ca.crt -e PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "datatech-mlops/systemd-debian:$release" bash -euc "
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv /v
    /v/bin/pip install -q -c /w/pins.txt $packages -r /w/dags.txt
    /v/bin/pip check
    /v/bin/pip freeze >/w/freeze.txt
    { python3 --version; /v/bin/pip --version | cut -d' ' -f1,2; } >/w/versions.txt"
python=$(awk '/^Python/ {split($2, v, "."); print v[1] "." v[2]}' "$work/versions.txt")
out="$ROOT/roles/airflow/files/constraints-airflow-$version-py$python.txt"
{
  echo "# Produced $(date -u +%F) on Debian $release ($(tr '\n' ' ' <"$work/versions.txt"| sed 's/ $//')) by tools/airflow_constraints.sh $release:"
  echo "# pip install -c <the py3.11 file's pins> $packages -r dags/requirements.txt"
  echo "# this is 'pip freeze' of that venv (pip/setuptools/wheel lines removed); 'pip check' reported no broken requirements."
  grep -viE "^(pip|setuptools|wheel|$(cut -d= -f1 "$work/dags.txt" | paste -sd'|'))==" "$work/freeze.txt"
} >"$out"
echo "wrote $out"
