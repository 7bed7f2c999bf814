#!/usr/bin/env bash
# ansible-test sanity on the plugins. ansible-test wants the collection at
# .../ansible_collections/datatech/mlops and, for its per-test virtualenvs, a
# get-pip script it normally downloads from a host we cannot reach: we give it one
# that bootstraps pip with the standard library's ensurepip (PyPI itself is reachable).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TREE="$BUILD/sanity/ansible_collections/datatech/mlops"
CACHE="$HOME/.ansible/test/cache"
mkdir -p "$TREE" "$CACHE"
rsync -a --delete --exclude .venv --exclude .build --exclude .git --exclude .cache \
  --exclude __pycache__ "$ROOT/" "$TREE/"

for version in 24_2; do
  stand_in="$CACHE/get_pip_$version.py"
  [[ -s "$stand_in" ]] || cat >"$stand_in" <<'PY'
"""Stand-in for get-pip.py: bootstrap pip from the standard library, then pip install."""
import ensurepip
import runpy
import sys

ensurepip.bootstrap()
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
done

cd "$TREE"
ansible-test sanity --venv --python "$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" "$@"
