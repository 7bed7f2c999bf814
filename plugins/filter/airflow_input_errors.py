# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Meaning checks of the airflow role's variables (types are checked by argument specs)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: airflow_input_errors
short_description: Problems in the airflow role's variables, one message each
version_added: 0.1.0
author: DataTech platform team
description:
  - Checks what argument specs cannot (formats, ranges, duplicates, ports shared by two
    services, paths, the controller's DAG folder) and returns every problem found, each
    message naming the variable and the fix. An empty list means the input is good.
  - The role calls it in its preflight, before anything changes on the host.
options:
  _input:
    description: The role's variables, under their names without the C(airflow_) prefix.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'version': '2.10.5'} | datatech.mlops.airflow_input_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per problem; empty when the input is good.
  type: list
  elements: str
"""

import base64
import binascii
import os
import posixpath
import re

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import collect, duplicates

VERSION = re.compile(r"^3\.[0-9]+\.[0-9]+$")
CONN_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
SECTION = re.compile(r"^[a-z_.]+$")
FERNET_KEY_BYTES = 32


def _version_errors(cfg):
    version = str(cfg.get("version", ""))
    if not VERSION.match(version):
        return [f"airflow_version: {version!r} is not an Airflow 3 release; write it as 3.X.Y (e.g. 3.1.3)."]
    return []


def _database_errors(cfg):
    errors = []
    if not cfg.get("db_password"):
        errors.append(
            "airflow_db_password is empty; set it from vault or an environment lookup "
            "(the password of the metadata database user on db01)."
        )
    if not cfg.get("db_host"):
        errors.append("airflow_db_host is empty; give the PostgreSQL host, e.g. db01.")
    port = cfg.get("db_port", 5432)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errors.append(f"airflow_db_port: {port!r} is out of range; use a TCP port between 1 and 65535.")
    return errors


def _fernet_key_errors(cfg):
    key = cfg.get("fernet_key") or ""
    if not key:
        return []
    try:
        valid = len(key) == 44 and len(base64.urlsafe_b64decode(key.encode())) == FERNET_KEY_BYTES
    except (binascii.Error, ValueError):
        valid = False
    if valid:
        return []
    return [
        (
            "airflow_fernet_key is not a Fernet key (44 characters of url-safe base64 encoding 32 bytes); "
            "leave it empty to have one generated, or make one with: python3 -c "
            "'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'."
        )
    ]


def _port_errors(cfg):
    ports = {
        "airflow_api_port": cfg.get("api_port", 8080),
        "airflow_scheduler_health_port": cfg.get("scheduler_health_port", 8974),
    }
    errors = []
    for name, port in ports.items():
        if not isinstance(port, int) or not 1 <= port <= 65535:
            errors.append(f"{name}: {port!r} is out of range; use a TCP port between 1 and 65535.")
    if len(set(ports.values())) < len(ports):
        errors.append(
            f"airflow_api_port and airflow_scheduler_health_port are both {ports['airflow_api_port']}; "
            "two services cannot listen on one port: give each its own."
        )
    return errors


def _path_errors(cfg):
    errors = []
    for key in ("home", "dags_folder", "logs_folder"):
        path = cfg.get(key, "/")
        name = f"airflow_{key}"
        if not str(path).startswith("/"):
            errors.append(f"{name}: {path!r} is not absolute; give an absolute path such as /opt/airflow/dags.")
        elif posixpath.normpath(path) != path or path == "/":
            errors.append(f"{name}: {path!r} is not a clean absolute path; write it like {posixpath.normpath(path)!r}.")
    source = cfg.get("dags_source") or ""
    if source and not os.path.isdir(source):
        errors.append(
            f"airflow_dags_source: {source!r} is not a folder on the controller; "
            "give the path of your DAGs folder (relative paths start where ansible-playbook runs)."
        )
    return errors


def _count_errors(cfg):
    errors = []
    for key, minimum in (
        ("parallelism", 1),
        ("max_active_tasks_per_dag", 1),
        ("max_active_runs_per_dag", 1),
        ("api_workers", 1),
        ("dag_refresh_interval", 1),
        ("health_timeout", 10),
        ("dags_releases_kept", 1),
        ("log_retention_days", 1),
    ):
        value = cfg.get(key, minimum)
        if not isinstance(value, int) or value < minimum:
            errors.append(f"airflow_{key}: {value!r} is too small; use at least {minimum}.")
    return errors


def _content_errors(cfg):
    errors = []
    connections = cfg.get("connections") or []
    for i, conn in enumerate(connections):
        if not CONN_ID.match(str(conn.get("conn_id", ""))):
            errors.append(
                f"airflow_connections[{i}]: conn_id {conn.get('conn_id')!r} may hold only letters, digits, '_', '.', '-'."
            )
    for name in duplicates(c.get("conn_id") for c in connections):
        errors.append(f"airflow_connections: {name!r} is listed more than once; keep one entry per conn_id.")
    pools = cfg.get("pools") or []
    for i, pool in enumerate(pools):
        if not isinstance(pool.get("slots"), int) or pool["slots"] < -1:
            errors.append(f"airflow_pools[{i}] ({pool.get('name')!r}): slots must be -1 (unlimited) or more.")
    for name in duplicates(p.get("name") for p in pools):
        errors.append(f"airflow_pools: {name!r} is listed more than once; keep one entry per pool.")
    for section, values in (cfg.get("config") or {}).items():
        if not SECTION.match(str(section)) or not isinstance(values, dict):
            errors.append(
                f"airflow_config: {section!r} must be an airflow.cfg section name holding a dict, "
                "like {scheduler: {min_file_process_interval: 30}}."
            )
    return errors


CHECKS = (
    _version_errors,
    _database_errors,
    _fernet_key_errors,
    _port_errors,
    _path_errors,
    _count_errors,
    _content_errors,
)


def airflow_input_errors(cfg):
    """Return every problem in the role's input, one message each."""
    return collect(CHECKS, cfg)


class FilterModule:
    def filters(self):
        return {"airflow_input_errors": airflow_input_errors}
