"""The inventories that Terraform (inventories/cloud) and the Vagrantfile (inventories/vagrant)
use: every role variable resolves, and pg_hba admits exactly the hosts that must reach db01."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from inventory_resolver import resolve

ROOT = Path(__file__).resolve().parents[3]

# What terraform/inventory.tf passes to its template, for a cloud with a Kubernetes subnet.
TERRAFORM_VALUES = {
    "ssh_user": "debian",
    "db_private_ip": "10.20.0.10",
    "air_private_ip": "10.20.0.20",
    "air_public_ip": "198.51.100.7",
    "kubernetes_cidr": "10.20.1.0/24",
}


def cloud_inventory(work: Path, values: dict[str, str]) -> Path:
    """inventories/cloud as an operator makes it: the committed group_vars, vault.yml from its
    example (which ships no usable secret), and the hosts.yml rendered by `terraform apply`
    from terraform/templates/inventory.yml.tftpl."""
    inventory = work / "inventories" / "cloud"
    shutil.copytree(ROOT / "inventories" / "cloud" / "group_vars", inventory / "group_vars")
    vault = inventory / "group_vars" / "all" / "vault.yml"
    shutil.copy(vault.with_name("vault.yml.example"), vault)
    template = (ROOT / "terraform" / "templates" / "inventory.yml.tftpl").read_text()
    (inventory / "hosts.yml").write_text(re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], template))
    return inventory


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    work = tmp_path_factory.mktemp("cloud")
    return resolve(cloud_inventory(work, TERRAFORM_VALUES), work)


def test_cloud_hosts_resolve(cloud):
    assert set(cloud) == {"db01", "air01"}


def test_cloud_pg_hba_admits_air01_and_the_kubernetes_subnet(cloud):
    assert [(entry["address"], entry["user"], entry["database"]) for entry in cloud["db01"]["hba"]] == [
        ("10.20.0.20/32", "airflow", "airflow"),
        ("10.20.0.20/32", "mlops", "mlfeatures"),
        ("10.20.1.0/24", "airflow", "airflow"),
        ("10.20.1.0/24", "mlops", "mlfeatures"),
    ]
    assert {entry["type"] for entry in cloud["db01"]["hba"]} == {"hostssl"}


def test_cloud_airflow_reaches_db01_privately(cloud):
    assert cloud["air01"]["airflow_db_host"] == cloud["air01"]["mlops_db_host"] == "10.20.0.10"
    assert cloud["air01"]["airflow_db_password"] == cloud["db01"]["db_password"] == "CHANGE-ME-airflow-db-password"


def test_cloud_without_kubernetes_admits_air01_only(tmp_path):
    inventory = cloud_inventory(tmp_path, {**TERRAFORM_VALUES, "kubernetes_cidr": ""})
    resolved = resolve(inventory, tmp_path)
    assert {entry["address"] for entry in resolved["db01"]["hba"]} == {"10.20.0.20/32"}


def test_vagrant_inventory_resolves(tmp_path):
    resolved = resolve(ROOT / "inventories" / "vagrant", tmp_path, "-e", f"vagrant_secrets_dir={tmp_path}/secrets")
    assert set(resolved) == {"db01", "air01"}
    assert {entry["address"] for entry in resolved["db01"]["hba"]} == {"192.168.56.20/32"}
    assert resolved["air01"]["airflow_db_host"] == "192.168.56.10"
    assert resolved["air01"]["airflow_db_password"] == resolved["db01"]["db_password"]
    assert len(resolved["db01"]["db_password"]) == 32


def test_cloud_inventory_ships_no_vault():
    """Only the example: an operator's own vault.yml is never the published one."""
    assert not (ROOT / "inventories" / "cloud" / "group_vars" / "all" / "vault.yml").exists()
