"""The inventories that Terraform (inventories/cloud) and the Vagrantfile (inventories/vagrant)
use: every role variable resolves, and pg_hba admits exactly the hosts that must reach db01."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
EXAMPLE_VAULT_PASSWORD = "datatech-example-vault"  # the production example's, documented there

# What terraform/inventory.tf passes to its template, for a cloud with a Kubernetes subnet.
TERRAFORM_VALUES = {
    "ssh_user": "debian",
    "db_private_ip": "10.20.0.10",
    "air_private_ip": "10.20.0.20",
    "air_public_ip": "198.51.100.7",
    "kubernetes_cidr": "10.20.1.0/24",
}

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
          mlops_db_host: "{{ (airflow_connections | default([{}]))[0].host | default(None) }}"
"""


def resolve(inventory: Path, work: Path, *extra: str) -> dict[str, dict]:
    """The variables as each host sees them, resolved by ansible-playbook."""
    (work / "play.yml").write_text(PLAY)
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json",
    )
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory), *extra, str(work / "play.yml")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    hosts = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]
    return {host: outcome["msg"] for host, outcome in hosts.items()}


def cloud_inventory(work: Path, values: dict[str, str]) -> Path:
    """inventories/cloud as it is after `terraform apply`: the committed group_vars and the
    hosts.yml rendered from terraform/templates/inventory.yml.tftpl."""
    inventory = work / "inventories" / "cloud"
    shutil.copytree(ROOT / "inventories" / "cloud" / "group_vars", inventory / "group_vars")
    template = (ROOT / "terraform" / "templates" / "inventory.yml.tftpl").read_text()
    (inventory / "hosts.yml").write_text(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template))
    (work / "password").write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    return inventory


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    work = tmp_path_factory.mktemp("cloud")
    return resolve(cloud_inventory(work, TERRAFORM_VALUES), work, "--vault-password-file", str(work / "password"))


def test_cloud_hosts_resolve(cloud):
    assert set(cloud) == {"db01", "air01"}


def test_cloud_pg_hba_admits_air01_and_the_kubernetes_subnet(cloud):
    assert [entry["address"] for entry in cloud["db01"]["hba"]] == ["10.20.0.20/32", "10.20.1.0/24"]
    assert {entry["type"] for entry in cloud["db01"]["hba"]} == {"hostssl"}


def test_cloud_airflow_reaches_db01_privately(cloud):
    assert cloud["air01"]["airflow_db_host"] == cloud["air01"]["mlops_db_host"] == "10.20.0.10"
    assert (
        cloud["air01"]["airflow_db_password"] == cloud["db01"]["db_password"] == "example-airflow-db-password-change-me"
    )


def test_cloud_without_kubernetes_admits_air01_only(tmp_path):
    inventory = cloud_inventory(tmp_path, {**TERRAFORM_VALUES, "kubernetes_cidr": ""})
    resolved = resolve(inventory, tmp_path, "--vault-password-file", str(tmp_path / "password"))
    assert [entry["address"] for entry in resolved["db01"]["hba"]] == ["10.20.0.20/32"]


def test_vagrant_inventory_resolves(tmp_path):
    resolved = resolve(ROOT / "inventories" / "vagrant", tmp_path, "-e", f"vagrant_secrets_dir={tmp_path}/secrets")
    assert set(resolved) == {"db01", "air01"}
    assert [entry["address"] for entry in resolved["db01"]["hba"]] == ["192.168.56.20/32"]
    assert resolved["air01"]["airflow_db_host"] == "192.168.56.10"
    assert resolved["air01"]["airflow_db_password"] == resolved["db01"]["db_password"]
    assert len(resolved["db01"]["db_password"]) == 32
