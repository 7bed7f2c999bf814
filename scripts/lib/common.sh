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

# Numbered steps with their times: `step "what comes next"` closes the step before it
# (printing how long it took and the time so far) and announces the next; `step` alone
# closes the last one.
STEPS_START=$SECONDS STEP_START=$SECONDS STEP_NAME=""
step() {
  if [[ -n $STEP_NAME ]]; then
    printf '==> %s: %ds (%ds so far)\n' "$STEP_NAME" $((SECONDS - STEP_START)) $((SECONDS - STEPS_START))
  fi
  STEP_NAME=${1:-} STEP_START=$SECONDS
  if [[ -n $STEP_NAME ]]; then log "$STEP_NAME"; fi
}

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing_packages() {  # $@: Debian packages; prints those not installed, one per line
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || echo "$pkg"
  done
}

install_system_packages() {  # $@: Debian packages
  local missing
  # Elsewhere than Debian or Ubuntu: no apt; the steps that need a package say so themselves.
  if ! command -v apt-get >/dev/null; then return 0; fi
  mapfile -t missing < <(missing_packages "$@")
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    # One apt at a time: scripts/test's lanes may both install (apt would fail on its lock).
    (
      flock 9
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    ) 9>"${TMPDIR:-/tmp}/datatech-mlops-apt.lock"
  fi
}

# npm, for the tools fetched from the npm registry (gitlab-ci-local, the handbook's mermaid):
# Debian's (with its Node 18), unless a Node toolchain is there already.
require_npm() { command -v npm >/dev/null || install_system_packages npm; }

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

# The requirements files pip install's arguments name ($@: its -r and -c files), with the
# files they include in turn (-r/-c lines inside them), one path per line.
requirements_files() { python3 "$ROOT/tools/requirements_files.py" "$@"; }

# The checksum a virtualenv made from these pip arguments is stamped with.
requirements_hash() {
  local files
  mapfile -t files < <(requirements_files "$@")
  cat "${files[@]}" | sha256sum | cut -d' ' -f1
}

# A virtualenv made from requirements files, and made again whenever they change (their
# checksum, included files too, is stamped inside). $1: the virtualenv; the rest: pip
# install's arguments. With --require-hashes pip itself is not upgraded (every file
# installed must be one whose hash was reviewed).
make_venv_from() {
  local venv=$1; shift
  local stamp="$venv/.requirements.sha256" want
  want=$(requirements_hash "$@")
  if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then return 0; fi
  log "creating ${venv#"$ROOT/"} from $(requirements_files "$@" | sed "s#^$ROOT/##" | paste -sd' ')"
  rm -rf "$venv"
  python3 -m venv "$venv"
  if [[ " $* " != *" --require-hashes "* ]]; then "$venv/bin/pip" install -q --upgrade pip; fi
  "$venv/bin/pip" install -q "$@"
  echo "$want" >"$stamp"
}

# .venv: the development tools (requirements-dev.txt, which includes requirements-lab.txt).
make_venv() { make_venv_from "$VENV" -r "$ROOT/requirements-dev.txt"; }

# What the lab needs in .venv: Ansible, its collections and Docker's SDK
# (requirements-lab.txt). A development virtualenv has all of it and is kept as it is.
make_lab_venv() {
  if [[ -f $VENV/.requirements.sha256 &&
    "$(cat "$VENV/.requirements.sha256")" == "$(requirements_hash -r "$ROOT/requirements-dev.txt")" ]]; then
    return 0
  fi
  make_venv_from "$VENV" -r "$ROOT/requirements-lab.txt"
}

# The deploy job's Python: ansible-core and the collections of the `ansible` package, nothing
# else, from ci/requirements-deploy.txt with every file's sha256 (pip --require-hashes: a
# file on the index that differs from the one reviewed fails the install). Re-created when
# that file changes. ci/requirements-deploy.in says how to regenerate it.
DEPLOY_VENV="$BUILD/venv-deploy"
make_deploy_venv() { make_venv_from "$DEPLOY_VENV" --require-hashes -r "$ROOT/ci/requirements-deploy.txt"; }

# The checkout becomes resolvable as datatech.mlops (roles and plugins by FQCN).
link_collection() {
  mkdir -p "$BUILD/collections/ansible_collections/datatech"
  ln -sfn "$ROOT" "$BUILD/collections/ansible_collections/datatech/mlops"
}

build_images() {  # $@: Debian releases (default: 12 and 13)
  local releases=("$@")
  ((${#releases[@]})) || releases=(12 13)
  log "local systemd base images (Debian ${releases[*]})"
  as_root bash "$ROOT/scripts/lib/images.sh" "${releases[@]}"
}

# Python tools and the collection link: enough for the static checks.
bootstrap_tools() {
  install_system_packages python3-venv git rsync shellcheck
  make_venv
  link_collection
}

# What the deploy job needs, and no more (not the development tools of .venv).
bootstrap_deploy() {
  install_system_packages python3-venv rsync
  make_deploy_venv
  link_collection
}

# What the lab needs, and no more: the Debian packages (the clients the quick start uses
# included), then .venv with Ansible and the Debian 12 base image, made side by side.
LAB_PACKAGES=(docker.io debootstrap python3-venv postgresql-client curl)
bootstrap_lab() {
  local images_log="$BUILD/logs/lab-images.log" images_pid
  step "1/5 Debian packages: ${LAB_PACKAGES[*]}"
  install_system_packages "${LAB_PACKAGES[@]}"
  start_docker
  step "2/5 .venv from requirements-lab.txt and the Debian 12 base image, side by side"
  mkdir -p "$BUILD/logs"
  build_images 12 >"$images_log" 2>&1 &
  images_pid=$!
  make_lab_venv
  link_collection
  wait "$images_pid" || { cat "$images_log" >&2; echo "the base image failed: $images_log" >&2; return 1; }
  cat "$images_log"
}

# A Docker engine and the base images: for Molecule and the benchmark.
bootstrap_containers() {
  install_system_packages docker.io debootstrap
  start_docker
  build_images
}

bootstrap() {
  bootstrap_tools
  bootstrap_containers
}
