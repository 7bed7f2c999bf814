"""The postgresql role's settings pipeline (roles/postgresql/tasks/settings.yml), run by
ansible-playbook on two local hosts: a primary and its replica. Later steps win: the tuning,
the role's settings, the user's postgresql_settings, PG-Strom, a replica's raise to its
primary's values."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playbook_runner import run_playbook_json

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent

INVENTORY = """
all:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
    postgresql_version: "15"
    postgresql_tuning_memory_mb: 8192
    postgresql_tuning_cpus: 4
  hosts:
    db00:
      ansible_host: 10.0.0.1
      postgresql_pgstrom_enabled: true
      postgresql_settings: {shared_preload_libraries: pg_stat_statements, max_connections: 300, port: 5433}
      postgresql_pgstrom_settings: {pg_strom.gpu_setup_cost: 100}
    db01:
      postgresql_replication_primary: db00
"""

PLAY = """
- hosts: all
  gather_facts: false
  tasks:
    # What the preflight notes before it includes settings.yml (gpu_plan.yml, replication_preflight.yml).
    - ansible.builtin.set_fact:
        __postgresql_pgstrom_preload: "{{ inventory_hostname == 'db00' }}"
        __postgresql_replication_plan: {version: "15", port: 5433, tls: true}
    - ansible.builtin.set_fact:
        __postgresql_replication_primary_plan: "{{ hostvars['db00'].__postgresql_replication_plan if inventory_hostname == 'db01' else {} }}"
    - ansible.builtin.include_role:
        name: datatech.mlops.postgresql
        tasks_from: settings
    - ansible.builtin.debug:
        var: __postgresql_settings
"""


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    work = tmp_path_factory.mktemp("settings")
    (work / "hosts.yml").write_text(INVENTORY)
    (work / "play.yml").write_text(PLAY)
    collections = work / "collections" / "ansible_collections" / "datatech"
    collections.mkdir(parents=True)
    (collections / "mlops").symlink_to(ROOT)
    output = run_playbook_json(["-i", str(work / "hosts.yml"), str(work / "play.yml")], work / "collections", work)
    hosts = output["plays"][-1]["tasks"][-1]["hosts"]
    return {host: outcome["__postgresql_settings"] for host, outcome in hosts.items()}


def test_the_users_settings_win_over_the_tuning_and_the_roles(settings):
    primary = settings["db00"]
    assert primary["port"] == 5433
    assert primary["max_connections"] == 300
    assert primary["password_encryption"] == "scram-sha-256"
    assert "shared_buffers" in primary  # the tuning


def test_pgstrom_keeps_the_users_preloads_and_adds_its_own(settings):
    primary = settings["db00"]
    assert primary["shared_preload_libraries"] == "pg_stat_statements,pg_strom"
    assert primary["max_worker_processes"] >= 100
    assert primary["pg_strom.gpu_setup_cost"] == 100
    assert primary["wal_level"] == "replica"  # it has a replica
    assert "pg_strom" not in settings["db01"]["shared_preload_libraries"]


def test_a_replica_streams_from_its_primary_and_takes_its_higher_minimums(settings):
    replica = settings["db01"]
    assert replica["hot_standby"] is True
    assert replica["primary_conninfo"].startswith("host=10.0.0.1 port=5433 user=")
    assert replica["primary_conninfo"].endswith("application_name=db01 sslmode=require")
    assert replica["primary_slot_name"] == "db01"
    assert replica["max_connections"] == 300
    assert replica["max_worker_processes"] == settings["db00"]["max_worker_processes"]
