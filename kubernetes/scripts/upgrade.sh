#!/usr/bin/env bash
# Installs or upgrades Airflow on the cluster that KUBECONFIG points at: our manifests,
# the Secrets from the environment, then the official chart with our values, atomically
# (a failed install or upgrade rolls back to the previous release).
#   bash kubernetes/scripts/upgrade.sh        (the pipeline's k8s:upgrade job)
# Environment: the variables of kubernetes/secrets/*.yaml, and GIT_KNOWN_HOSTS (a file:
# the DAG repository server's public host keys). Optional: CHART_VERSION, RELEASE,
# NAMESPACE, HELM_TIMEOUT, HELM_EXTRA_ARGS.
#
# Why this install completes: Helm's --wait waits for every Deployment to be ready, and every
# Deployment of the chart waits in an init container for the database migrations. The chart
# runs its migration and user jobs as post-install/post-upgrade hooks by default, which Helm
# starts only AFTER --wait succeeded: the first install (and every upgrade that changes the
# Airflow version) would wait for HELM_TIMEOUT and be rolled back. airflow-values.yaml turns
# the hooks off (migrateDatabaseJob/createUserJob.useHelmHooks: false, as the chart's docs say
# for --wait): the jobs are then ordinary objects of the release, started with the Deployments.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
chart_version=${CHART_VERSION:-1.22.0}
release=${RELEASE:-airflow}
namespace=${NAMESPACE:-airflow}

# Checked before anything changes on the cluster.
secrets=$(bash "$here/scripts/render-secrets.sh")
[[ -s ${GIT_KNOWN_HOSTS:-} ]] || { echo "GIT_KNOWN_HOSTS: a file with the git server's host keys is needed" >&2; exit 1; }

# Helm 4 renamed --atomic to --rollback-on-failure (--atomic still works there, deprecated);
# Helm 3 knows only --atomic. The chart (1.22) documents Helm 3.19 as its minimum: an older
# Helm 3 gets a warning (the job image decides which Helm runs; see the handbook's checklist).
helm_version=$(helm version --short 2>/dev/null || true)
if [[ $helm_version =~ ^v4\. ]]; then
  rollback_flag=--rollback-on-failure
elif [[ $helm_version =~ ^v3\.([0-9]+)\. ]]; then
  rollback_flag=--atomic
  if ((BASH_REMATCH[1] < 19)); then
    echo "warning: helm $helm_version is older than 3.19, the chart's documented minimum" >&2
  fi
else
  echo "helm 3 or 4 is needed; found '${helm_version:-no helm}'" >&2
  exit 1
fi

kubectl apply -f "$here/manifests/namespace.yaml"
kubectl apply -f "$here/manifests/"
printf '%s' "$secrets" | kubectl apply -f -

# Without hooks the two jobs belong to the release, and a Job's pod template cannot change:
# a finished job still there (the chart keeps it ttlSecondsAfterFinished, 300 s) would make an
# upgrade to a new image fail. Helm creates a release object that is missing, so each upgrade
# runs them anew (`airflow db migrate` does nothing when the schema is current; an existing
# admin is left as it is).
kubectl -n "$namespace" delete job --ignore-not-found "$release-run-airflow-migrations" "$release-create-user"

helm repo add apache-airflow https://airflow.apache.org --force-update >/dev/null
# shellcheck disable=SC2086 # HELM_EXTRA_ARGS is a list of words on purpose
helm upgrade --install "$release" apache-airflow/airflow \
  --version "$chart_version" \
  --namespace "$namespace" \
  --values "$here/airflow-values.yaml" \
  --set-file dags.gitSync.knownHosts="$GIT_KNOWN_HOSTS" \
  "$rollback_flag" --wait --timeout "${HELM_TIMEOUT:-15m}" \
  ${HELM_EXTRA_ARGS:-}

kubectl -n "$namespace" rollout status "deployment/$release-scheduler" --timeout=5m
kubectl -n "$namespace" rollout status "deployment/$release-api-server" --timeout=5m
helm -n "$namespace" status "$release"
