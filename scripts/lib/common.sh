#!/usr/bin/env bash
# Shared setup for scripts/test, scripts/lab and scripts/bench: everything a fresh
# Debian 12 machine needs, each step skipped when already done.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV="$ROOT/.venv"
BUILD="$ROOT/.build"
export ANSIBLE_CONFIG="$ROOT/ansible.cfg"
export ANSIBLE_COLLECTIONS_PATH="$BUILD/collections"
export ANSIBLE_FORCE_COLOR=${ANSIBLE_FORCE_COLOR:-0}
export PY_COLORS=0
export PATH="$VENV/bin:$PATH"

log() { printf '\n==> %s\n' "$*"; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

install_system_packages() {  # $@: Debian packages
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_docker() {
  if docker info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd"
  if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
    as_root systemctl start docker
  else
    # Detached, in its own session and with no inherited descriptors: a caller's lock
    # (e.g. flock around a test run) must not be held for as long as dockerd lives.
    as_root python3 -c 'import subprocess; subprocess.Popen(["dockerd"], stdin=subprocess.DEVNULL, stdout=open("/var/log/dockerd.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)'
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; sleep 1; done
  echo "dockerd did not start; see /var/log/dockerd.log" >&2
  return 1
}

make_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want=$(sha256sum "$ROOT/requirements-dev.txt" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  log "creating the virtualenv (.venv) from requirements-dev.txt"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements-dev.txt"
  echo "$want" >"$stamp"
}

# The deploy job's Python: ansible-core and the collections of the `ansible` package, nothing
# else, from ci/requirements-deploy.txt with every file's sha256 (pip --require-hashes: a
# file on the index that differs from the one reviewed fails the install). Re-created when
# that file changes. ci/requirements-deploy.in says how to regenerate it.
DEPLOY_VENV="$BUILD/venv-deploy"
make_deploy_venv() {
  local stamp="$DEPLOY_VENV/.requirements.sha256" want
  want=$(sha256sum "$ROOT/ci/requirements-deploy.txt" | cut -d' ' -f1)
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  log "creating .build/venv-deploy from ci/requirements-deploy.txt (hash-pinned)"
  rm -rf "$DEPLOY_VENV"
  python3 -m venv "$DEPLOY_VENV"
  "$DEPLOY_VENV/bin/pip" install -q --require-hashes -r "$ROOT/ci/requirements-deploy.txt"
  echo "$want" >"$stamp"
}

# The checkout becomes resolvable as datatech.mlops (roles and plugins by FQCN).
link_collection() {
  mkdir -p "$BUILD/collections/ansible_collections/datatech"
  ln -sfn "$ROOT" "$BUILD/collections/ansible_collections/datatech/mlops"
}

build_images() {
  log "local systemd base images (Debian 12 and 13)"
  as_root bash "$ROOT/scripts/lib/images.sh" 12 13
}

# Python tools and the collection link: enough for the static checks.
bootstrap_tools() {
  install_system_packages python3-venv git rsync bc shellcheck
  make_venv
  link_collection
}

# What the deploy job needs, and no more (not the development tools of .venv).
bootstrap_deploy() {
  install_system_packages python3-venv rsync
  make_deploy_venv
  link_collection
}

# A Docker engine and the base images: for Molecule, the lab and the benchmark.
bootstrap_containers() {
  install_system_packages docker.io debootstrap
  start_docker
  build_images
}

bootstrap() {
  bootstrap_tools
  bootstrap_containers
}
