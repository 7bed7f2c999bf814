"""The Vagrantfile: two Debian 12 VMs, site.yml over both with inventories/vagrant.

Vagrant cannot run here; where Ruby is present the Vagrantfile is evaluated against a
stand-in of Vagrant's configuration API (vagrant_stub.rb) and what it configured is checked.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

STUB = Path(__file__).with_name("vagrant_stub.rb")


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("no ruby on PATH: the Vagrantfile is not evaluated")
    work = tmp_path_factory.mktemp("vagrant")  # the Vagrantfile links its own folder into .build
    shutil.copy(ROOT / "Vagrantfile", work / "Vagrantfile")
    result = subprocess.run([ruby, str(STUB), str(work / "Vagrantfile")], capture_output=True, text=True, check=True)
    (config,) = [entry for entry in json.loads(result.stdout) if "vm" in entry]
    return config


def machines(config) -> dict[str, dict]:
    return {define["args"][0]: define["config"]["vm"] for define in config["vm"]["define"]}


def test_two_debian_12_machines_on_a_private_network(configured):
    assert configured["vm"]["box"] == "debian/bookworm64"
    vms = machines(configured)
    assert list(vms) == ["db01", "air01"]
    inventory = yaml.safe_load((ROOT / "inventories" / "vagrant" / "hosts.yml").read_text())["all"]["children"]
    for name, group in (("db01", "db"), ("air01", "airflow")):
        (network,) = vms[name]["network"]
        assert network["args"] == ["private_network"]
        assert network["options"]["ip"] == inventory[group]["hosts"][name]["ansible_host"]
        memory = {provider["args"][0]: provider["config"]["memory"] for provider in vms[name]["provider"]}
        assert memory["virtualbox"] >= 4096


def test_site_yml_runs_once_over_all_hosts_from_the_last_machine(configured):
    vms = machines(configured)
    assert "provision" not in vms["db01"]
    (provision,) = vms["air01"]["provision"]
    assert provision["args"] == ["ansible"]
    ansible = provision["config"]
    assert ansible["playbook"] == "site.yml"
    assert ansible["inventory_path"] == "inventories/vagrant"
    assert ansible["limit"] == "all"
    assert (ROOT / ansible["playbook"]).is_file()
    assert (ROOT / ansible["galaxy_role_file"]).is_file()


def test_vagrant_inventory_has_the_groups_of_every_other_inventory():
    hosts = yaml.safe_load((ROOT / "inventories" / "vagrant" / "hosts.yml").read_text())
    children = hosts["all"]["children"]
    assert set(children["db"]["hosts"]) == {"db01"}
    assert set(children["airflow"]["hosts"]) == {"air01"}


def test_provisioner_leaves_host_key_checking_on(configured):
    """Vagrant's default (false) exports ANSIBLE_HOST_KEY_CHECKING=false and sends ssh's known
    hosts to /dev/null; inventories/vagrant keeps each VM's key in its own file instead."""
    (provision,) = machines(configured)["air01"]["provision"]
    assert provision["config"]["host_key_checking"] is True
    args = yaml.safe_load((ROOT / "inventories" / "vagrant" / "hosts.yml").read_text())["all"]["vars"]
    assert "StrictHostKeyChecking=accept-new" in args["ansible_ssh_common_args"]
    assert "UserKnownHostsFile={{ vagrant_machine_dir }}/known_hosts" in args["ansible_ssh_common_args"]
