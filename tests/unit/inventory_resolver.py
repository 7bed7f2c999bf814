"""Resolve an inventory's role variables the way a play sees them (ansible-playbook with a
debug task), for the inventory tests."""

from __future__ import annotations

import sys
from pathlib import Path

from playbook_runner import run_playbook_json

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
EXAMPLE_VAULT_PASSWORD = "datatech-example-vault"  # the production example's, documented there

PLAY = """
# Facts site.yml gathers, where a test gives them (-e resolver_facts=...): inventories that
# admit the Airflow hosts by their default_ipv4 (postgresql_hba_client_groups) need them.
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        default_ipv4: "{{ resolver_facts[inventory_hostname].default_ipv4 }}"
        cacheable: true
      when: inventory_hostname in resolver_facts | default({})
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg:
          # pg_hba.conf's entries in order, as the postgresql role's preflight and template make them.
          hba: >-
            {{ (postgresql_hba_client_groups | default([])
                | datatech.mlops.postgresql_hba_client_entries(groups, hostvars,
                                                               tls_enabled=postgresql_tls_enabled | default(false))
                + postgresql_hba_entries | default([]))
               if 'db' in group_names else None }}
          db_password: "{{ postgresql_airflow_password | default(None) }}"
          airflow_db_host: "{{ airflow_db_host | default(None) }}"
          airflow_db_password: "{{ airflow_db_password | default(None) }}"
          mlops_db_host: "{{ (airflow_connections | default([{}]))[0].host | default(None) }}"
          mlops_db_login: "{{ (airflow_connections | default([{}]))[0].login | default(None) }}"
          mlops_db_password: "{{ (airflow_connections | default([{}]))[0].password | default(None) }}"
          connection_hosts: "{{ airflow_connections | default([]) | items2dict(key_name='conn_id', value_name='host') }}"
          variables: "{{ airflow_variables | default(None) }}"
          dags_run_as_user: "{{ airflow_dags_run_as_user | default(None) }}"
          users: "{{ postgresql_users | default(None) }}"
          databases: "{{ postgresql_databases | default(None) }}"
          privileges: "{{ postgresql_privileges | default(None) }}"
          teams: "{{ postgresql_teams | default(None) }}"
"""


def resolve(inventory: Path, work: Path, *extra: str) -> dict[str, dict]:
    """The variables as each host sees them, resolved by ansible-playbook."""
    (work / "play.yml").write_text(PLAY)
    output = run_playbook_json(
        ["-i", str(inventory), *extra, str(work / "play.yml")], ROOT / ".build" / "collections", ROOT
    )
    hosts = output["plays"][-1]["tasks"][0]["hosts"]
    return {host: outcome["msg"] for host, outcome in hosts.items()}


def resolve_with_example_vault(inventory: Path, work: Path, *extra: str) -> dict[str, dict]:
    """resolve(), with the example vault password in a file."""
    (work / "password").write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    return resolve(inventory, work, "--vault-password-file", str(work / "password"), *extra)
