#!/usr/bin/env bash
# Installs or upgrades Airflow on the cluster that KUBECONFIG points at: our manifests,
# the Secrets from the environment, then the official chart with our values, atomically
# (a failed upgrade rolls back to the previous release).
#   bash kubernetes/scripts/upgrade.sh        (the pipeline's k8s:upgrade job)
# Environment: the variables of kubernetes/secrets/*.yaml, and GIT_KNOWN_HOSTS (a file:
# the DAG repository server's public host keys). Optional: CHART_VERSION, RELEASE,
# NAMESPACE, HELM_TIMEOUT, HELM_EXTRA_ARGS.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chart_version=${CHART_VERSION:-1.22.0}
release=${RELEASE:-airflow}
namespace=${NAMESPACE:-airflow}

# Checked before anything changes on the cluster.
secrets=$(bash "$here/scripts/render-secrets.sh")
[[ -s ${GIT_KNOWN_HOSTS:-} ]] || { echo "GIT_KNOWN_HOSTS: a file with the git server's host keys is needed" >&2; exit 1; }

kubectl apply -f "$here/manifests/namespace.yaml"
kubectl apply -f "$here/manifests/"
printf '%s' "$secrets" | kubectl apply -f -

helm repo add apache-airflow https://airflow.apache.org --force-update >/dev/null
# shellcheck disable=SC2086 # HELM_EXTRA_ARGS is a list of words on purpose
helm upgrade --install "$release" apache-airflow/airflow \
  --version "$chart_version" \
  --namespace "$namespace" \
  --values "$here/airflow-values.yaml" \
  --set-file dags.gitSync.knownHosts="$GIT_KNOWN_HOSTS" \
  --atomic --wait --timeout "${HELM_TIMEOUT:-15m}" \
  ${HELM_EXTRA_ARGS:-}

kubectl -n "$namespace" rollout status "deployment/$release-scheduler" --timeout=5m
kubectl -n "$namespace" rollout status "deployment/$release-api-server" --timeout=5m
helm -n "$namespace" status "$release"
