"""The inventories that Terraform (inventories/cloud) and the Vagrantfile (inventories/vagrant)
use: every role variable resolves, and pg_hba admits exactly the hosts that must reach db01."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
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
    "known_hosts_path": "/srv/mlops/inventories/cloud/known_hosts.txt",
    "db_data_device": "/dev/disk/by-id/virtio-3f2c6d1e-8a4b-4c2d-9",
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
        ("10.20.0.20/32", "mlflow", "mlflow,mlflow_auth"),
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


# --- SSH host keys: checked everywhere, each inventory says where its known hosts are ---------

SSH_PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg:
          common_args: "{{ ansible_ssh_common_args | default('') }}"
          private_key: "{{ ansible_ssh_private_key_file | default('') }}"
"""


def ssh_settings(inventory: Path, work: Path, *extra: str) -> dict[str, dict]:
    """Each host's SSH connection variables, templated as the connection gets them."""
    (work / "ssh.yml").write_text(SSH_PLAY)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), *extra, str(work / "ssh.yml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json"),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    hosts = json.loads(result.stdout)["plays"][0]["tasks"][0]["hosts"]
    return {host: outcome["msg"] for host, outcome in hosts.items()}


def test_ansible_cfg_keeps_host_key_checking_on():
    """As Ansible itself reads the repository's ansible.cfg."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-config"), "dump", "--only-changed", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
    )
    settings = {entry["name"]: entry for entry in json.loads(result.stdout) if "name" in entry}
    assert settings["HOST_KEY_CHECKING"]["value"] is True
    assert settings["HOST_KEY_CHECKING"]["origin"] == str(ROOT / "ansible.cfg")


def test_cloud_inventory_pins_terraforms_known_hosts(tmp_path):
    settings = ssh_settings(cloud_inventory(tmp_path, TERRAFORM_VALUES), tmp_path)
    pinned = ["-o", f"UserKnownHostsFile={TERRAFORM_VALUES['known_hosts_path']}", "-o", "StrictHostKeyChecking=yes"]
    assert shlex.split(settings["air01"]["common_args"]) == pinned
    db01 = shlex.split(settings["db01"]["common_args"])
    assert db01[:4] == pinned and db01[4:5] == ["-o"] and db01[5].startswith("ProxyCommand=ssh -W %h:%p ")
    assert " ".join(pinned) in db01[5], "the jump to air01 checks its key against the same file"


def test_cloud_known_hosts_file_is_not_read_as_inventory(tmp_path):
    """Terraform writes known_hosts.txt into the inventory folder: Ansible skips .txt files
    there (INVENTORY_IGNORE_EXTS), so the folder parses with no warning about it."""
    inventory = cloud_inventory(tmp_path, TERRAFORM_VALUES)
    (inventory / "known_hosts.txt").write_text(
        "air01,198.51.100.7,10.20.0.20 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n"
    )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg")),
    )
    assert "known_hosts" not in result.stderr, result.stderr
    assert set(json.loads(result.stdout)["_meta"]["hostvars"]) == {"db01", "air01"}


@pytest.mark.parametrize("provider", ["virtualbox", "libvirt"])
def test_vagrant_inventory_keeps_each_vms_host_key_in_its_own_folder(tmp_path, provider):
    """accept-new into a file of the VM's Vagrant folder (which `vagrant destroy` empties),
    beside the private key Vagrant put there."""
    settings = ssh_settings(
        ROOT / "inventories" / "vagrant",
        tmp_path,
        "-e",
        f"vagrant_provider={provider}",
        "-e",
        f"vagrant_secrets_dir={tmp_path}/secrets",
    )
    for host in ("db01", "air01"):
        folder = ROOT / ".vagrant" / "machines" / host / provider
        assert Path(os.path.normpath(settings[host]["private_key"])) == folder / "private_key"
        words = shlex.split(settings[host]["common_args"])
        assert words[::2] == ["-o", "-o"]
        known_hosts, checking = words[1::2]
        assert Path(os.path.normpath(known_hosts.removeprefix("UserKnownHostsFile="))) == folder / "known_hosts"
        assert checking == "StrictHostKeyChecking=accept-new"
