#!/usr/bin/env bash
# ansible-test sanity on the plugins. ansible-test wants the collection at
# .../ansible_collections/datatech/mlops and, for its per-test virtualenvs, a
# get-pip script it normally downloads from a host we cannot reach: we give it one
# that bootstraps pip with the standard library's ensurepip (PyPI itself is reachable).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Outside the checkout: inside it, ansible-test would ask git and skip ignored paths.
TREE="${TMPDIR:-/tmp}/datatech-mlops-sanity/ansible_collections/datatech/mlops"
CACHE="$HOME/.ansible/test/cache"
mkdir -p "$TREE" "$CACHE"
rsync -a --delete --exclude .venv --exclude .build --exclude .git --exclude .cache \
  --exclude __pycache__ "$ROOT/" "$TREE/"

# The name carries the pip version ansible-test asks for (ansible-core 2.19: pip 24.2).
cat >"$CACHE/get_pip_24_2.py" <<'PY'
"""Stand-in for get-pip.py: bootstrap pip from the standard library, then pip install."""
import runpy
import subprocess
import sys

# In a child process: ensurepip clears pip's settings (PIP_*, config files) in its own process.
subprocess.run([sys.executable, "-m", "ensurepip"], check=True)
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.argv = ["pip", "install", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY

cd "$TREE"
ansible-test sanity --venv --python "$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')" "$@"
