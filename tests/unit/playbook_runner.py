"""Run ansible-playbook from a unit test with the JSON callback and return its parsed output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_playbook_json(args: list[str], collections: Path, cwd: Path) -> dict:
    """ansible-playbook ARGS (the project's ansible.cfg, COLLECTIONS as its collections path)
    from CWD; fails the test with the end of its output unless it succeeds."""
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
    )
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), *args], capture_output=True, text=True, env=env, check=False, cwd=cwd
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    return json.loads(result.stdout)
