"""The production example inventory resolves every role variable from group_vars and vault,
and holds no plaintext secret."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = ROOT / "inventories" / "production"
BIN = Path(sys.executable).parent
EXAMPLE_VAULT_PASSWORD = "datatech-example-vault"  # documented in hosts.yml


PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg:
          hba: "{{ postgresql_hba_entries | default(None) }}"
          db_password: "{{ postgresql_airflow_password | default(None) }}"
          airflow_db_host: "{{ airflow_db_host | default(None) }}"
          airflow_db_password: "{{ airflow_db_password | default(None) }}"
"""


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    """The variables as each host sees them, resolved by ansible-playbook with the vault."""
    work = tmp_path_factory.mktemp("inventory")
    (work / "password").write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    (work / "play.yml").write_text(PLAY)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
    )
    result = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(INVENTORY),
            "--vault-password-file",
            str(work / "password"),
            str(work / "play.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    hosts = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]
    return {host: outcome["msg"] for host, outcome in hosts.items()}


def test_both_hosts_resolve(resolved):
    assert set(resolved) == {"db01", "air01"}


def test_pg_hba_is_computed_from_the_airflow_group(resolved):
    addresses = [entry["address"] for entry in resolved["db01"]["hba"]]
    assert addresses == ["10.20.0.20/32", "10.20.0.0/24"]
    assert resolved["air01"]["airflow_db_host"] == "10.20.0.10"


def test_secrets_come_from_the_vault(resolved):
    assert resolved["db01"]["db_password"] == "example-airflow-db-password-change-me"
    assert resolved["air01"]["airflow_db_password"] == resolved["db01"]["db_password"]


def test_no_plaintext_secret_outside_the_vault():
    for path in INVENTORY.rglob("*.yml"):
        text = path.read_text()
        if text.startswith("$ANSIBLE_VAULT"):
            continue
        for line in text.splitlines():
            match = re.match(r"\s*-?\s*\w*password\w*:\s*(.+)", line)
            if match:
                assert match.group(1).strip().startswith('"{{'), f"{path}: {line.strip()}"
