# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cross-role check: does Airflow's database configuration match the database hosts?

Why a filter: the comparison reads other hosts' variables and what the postgresql role's
preflight noted there; no Ansible module compares across hosts and roles.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: airflow_platform_errors
short_description: Problems between the airflow role's database variables and the inventory's database hosts
version_added: 0.2.0
author: DataTech platform team
description:
  - Compares O(_input) (the airflow role's C(airflow_db_*) variables) with the hosts of the
    inventory group named by C(airflow_db_inventory_group), each described by its names and
    addresses and, where the postgresql role's preflight ran on it in this run, what that
    role will make there (port, databases, users and their passwords' SHA-256).
  - Returns one message per mismatch, naming the variables on both sides. An empty group
    name means an external database; a group that is not in the inventory has nothing
    to compare with. No Ansible module does this comparison across hosts.
options:
  _input:
    description: C(db_host), C(db_port), C(db_name), C(db_user), C(db_password_sha256), C(db_inventory_group).
    type: dict
    required: true
  hosts:
    description: The group's hosts; each a dict with C(name), C(aliases) (addresses and host names)
      and C(contract) (the postgresql role's C(port), C(databases), C(users) as name to SHA-256, or null).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse an Airflow that would not reach its database
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'db_host': 'db01', 'db_port': 5433, 'db_inventory_group': 'db'}
                  | datatech.mlops.airflow_platform_errors(hosts=[{'name': 'db01', 'aliases': [],
                    'contract': {'port': 5432, 'databases': ['airflow'], 'users': {}}}]) }}"
"""

RETURN = r"""
_value:
  description: Messages, one per mismatch; empty when Airflow's database settings match.
  type: list
  elements: str
"""


def _matching_host(db_host, hosts):
    wanted = str(db_host).lower()
    for host in hosts:
        names = [host.get("name")] + list(host.get("aliases") or [])
        if wanted in (str(name).lower() for name in names if name):
            return host
    return None


def _port(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _contract_errors(cfg, host):
    contract = host.get("contract")
    if not contract:  # the postgresql role does not run on it in this run: nothing more to compare
        return []
    name = host["name"]
    errors = []
    if _port(contract.get("port")) != _port(cfg.get("db_port")):
        errors.append(
            f"airflow_db_port: {cfg.get('db_port')!r}, but {name} runs PostgreSQL on postgresql_port "
            f"{contract.get('port')}; set both to the same port."
        )
    if cfg.get("db_name") not in (contract.get("databases") or []):
        errors.append(
            f"airflow_db_name: {cfg.get('db_name')!r} is not in postgresql_databases of {name}; "
            "add it there (owner: the metadata user) or correct airflow_db_name."
        )
    users = contract.get("users") or {}
    user = cfg.get("db_user")
    if user not in users:
        errors.append(
            f"airflow_db_user: {user!r} is not in postgresql_users of {name}; add it there or correct airflow_db_user."
        )
    elif users[user] != cfg.get("db_password_sha256"):
        errors.append(
            f"airflow_db_password does not match the password of {user!r} in postgresql_users of {name} "
            "(postgresql_airflow_password by default); give both the same value (one vault variable)."
        )
    return errors


def airflow_platform_errors(cfg, hosts):
    """Return every mismatch between Airflow's database settings and the database hosts."""
    group = cfg.get("db_inventory_group") or ""
    if not group or not hosts:
        return []
    host = _matching_host(cfg.get("db_host"), hosts)
    if host is None:
        names = ", ".join(str(h.get("name")) for h in hosts)
        message = (
            f"airflow_db_host: {cfg.get('db_host')!r} is none of the hosts of the inventory group {group!r} "
            f"({names}) nor one of their addresses; point it at one of them, or set "
            "airflow_db_inventory_group: '' for a database outside this inventory."
        )
        return [message]
    return _contract_errors(cfg, host)


class FilterModule:
    def filters(self):
        return {"airflow_platform_errors": airflow_platform_errors}
