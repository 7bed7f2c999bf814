# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Meaning checks of the postgresql role's variables (types are checked by argument specs)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_input_errors
short_description: Problems in the postgresql role's variables, one message each
version_added: 0.1.0
author: DataTech platform team
description:
  - Checks what argument specs cannot (ranges, duplicates, references between entries,
    identifiers, CIDR addresses, the OS) and returns every problem found, each message
    naming the variable and the fix. An empty list means the input is good.
  - The role calls it in its preflight, before anything changes on the host.
options:
  _input:
    description: The role's variables, under their names without the C(postgresql_) prefix,
      plus C(os) (C(<distribution>-<major>)) and C(distribution_versions) (supported OS -> major).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: "{{ {'os': 'Debian-12', 'port': 70000} | datatech.mlops.postgresql_input_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per problem; empty when the input is good.
  type: list
  elements: str
"""

import ipaddress
import posixpath
import re

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import collect, duplicates

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]{0,62}$")
EXTENSION = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$")
MAJOR_VERSION = re.compile(r"^[0-9]{2}$")
PGDG_VERSIONS = ("14", "15", "16", "17", "18")
HBA_KEYWORDS = ("all", "samehost", "samenet")
IDENTIFIER_FIX = (
    "use lower-case letters, digits and underscores, starting with a letter or underscore, at most 63 characters"
)


def _os_errors(cfg):
    supported = cfg.get("distribution_versions", {})
    if cfg.get("os") not in supported:
        names = ", ".join(sorted(supported))
        return [f"unsupported OS {cfg.get('os')!r}: the postgresql role supports {names}; run it on one of those."]
    return []


def _version_errors(cfg):
    version = str(cfg.get("version", "") or "")
    source = cfg.get("install_source", "distribution")
    shipped = cfg.get("distribution_versions", {}).get(cfg.get("os"))
    if not version:
        return []
    if not MAJOR_VERSION.match(version):
        return [f'postgresql_version: {version!r} is not a major version; write it like "17" (or leave it empty).']
    if source == "distribution" and shipped and version != shipped:
        return [
            (
                f"postgresql_version: {cfg.get('os')} ships PostgreSQL {shipped}, not {version}; "
                "leave postgresql_version empty, or set postgresql_install_source: pgdg to install another major."
            )
        ]
    if source == "pgdg" and version not in PGDG_VERSIONS:
        return [
            (
                f"postgresql_version: {version} is not offered by the PostgreSQL apt repository here; "
                f"choose one of {', '.join(PGDG_VERSIONS)}."
            )
        ]
    return []


def _cluster_errors(cfg):
    errors = []
    name = cfg.get("cluster_name", "main")
    if not CLUSTER_NAME.match(str(name)):
        errors.append(
            f"postgresql_cluster_name: {name!r} is not a valid cluster name; use letters, digits, '_', '.', '-'."
        )
    path = cfg.get("data_directory", "") or ""
    if path:
        if not path.startswith("/"):
            errors.append(
                f"postgresql_data_directory: {path!r} is relative; give an absolute path such as /srv/postgresql/data."
            )
        elif posixpath.normpath(path) != path or path == "/":
            errors.append(
                f"postgresql_data_directory: {path!r} is not a clean absolute path; "
                f"write it without '..', '.', doubled or trailing slashes (e.g. {posixpath.normpath(path)!r}), and not '/'."
            )
    return errors


def _server_errors(cfg):
    errors = []
    port = cfg.get("port", 5432)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        errors.append(f"postgresql_port: {port!r} is out of range; use a TCP port between 1 and 65535 (default 5432).")
    if not cfg.get("listen_addresses", ["localhost"]):
        errors.append("postgresql_listen_addresses is empty; list at least one address (e.g. [localhost], or ['*']).")
    max_connections = cfg.get("max_connections", 100)
    if not isinstance(max_connections, int) or not 1 <= max_connections <= 262143:
        errors.append(f"postgresql_max_connections: {max_connections!r} is out of range; use 1 to 262143.")
    for name, value in (cfg.get("settings") or {}).items():
        if not SETTING_NAME.match(str(name)):
            errors.append(
                f"postgresql_settings: {name!r} is not a PostgreSQL setting name; use names like work_mem or pg_strom.enabled."
            )
        elif isinstance(value, (dict, list)) or value is None:
            errors.append(
                f"postgresql_settings.{name}: give a single value (string, number or boolean), not {type(value).__name__}."
            )
    return errors


def _user_errors(cfg):
    errors = []
    users = cfg.get("users") or []
    known = {u.get("name") for u in users}
    for i, user in enumerate(users):
        name = user.get("name")
        where = f"postgresql_users[{i}] ({name!r})"
        if not IDENTIFIER.match(str(name)):
            errors.append(f"{where}: the name is not an identifier this role accepts; {IDENTIFIER_FIX}.")
        if user.get("login", True) and not user.get("password"):
            errors.append(
                f"{where}: a login user needs a password; set password from vault or an environment lookup "
                "(for the default airflow user: postgresql_airflow_password), or set login: false."
            )
        for group in user.get("member_of") or []:
            if group not in known and not str(group).startswith("pg_"):
                errors.append(
                    f"{where}: member_of names {group!r}, which is not in postgresql_users; add it (login: false) first."
                )
    for name in duplicates(u.get("name") for u in users):
        errors.append(f"postgresql_users: {name!r} is listed more than once; keep one entry per user.")
    return errors


def _database_errors(cfg):
    errors = []
    databases = cfg.get("databases") or []
    owners = {u.get("name") for u in cfg.get("users") or []} | {"postgres"}
    for i, db in enumerate(databases):
        name = db.get("name")
        where = f"postgresql_databases[{i}] ({name!r})"
        if not IDENTIFIER.match(str(name)):
            errors.append(f"{where}: the name is not an identifier this role accepts; {IDENTIFIER_FIX}.")
        owner = db.get("owner") or "postgres"
        if owner not in owners:
            errors.append(
                f"{where}: owner {owner!r} is not in postgresql_users; add the user or use an existing owner."
            )
        for schema in db.get("schemas") or []:
            if not IDENTIFIER.match(str(schema.get("name"))):
                errors.append(
                    f"{where}: schema {schema.get('name')!r} is not an identifier this role accepts; {IDENTIFIER_FIX}."
                )
            if schema.get("owner") and schema["owner"] not in owners:
                errors.append(
                    f"{where}: schema {schema.get('name')!r} owner {schema['owner']!r} is not in postgresql_users."
                )
        for name_ in duplicates(s.get("name") for s in db.get("schemas") or []):
            errors.append(f"{where}: schema {name_!r} is listed more than once.")
        for ext in db.get("extensions") or []:
            if not EXTENSION.match(str(ext)):
                errors.append(f"{where}: extension {ext!r} is not a valid extension name (e.g. pg_trgm, uuid-ossp).")
    for name in duplicates(d.get("name") for d in databases):
        errors.append(f"postgresql_databases: {name!r} is listed more than once; keep one entry per database.")
    return errors


def _is_network(address):
    if address in HBA_KEYWORDS:
        return True
    if "/" not in address:
        return False
    try:
        ipaddress.ip_network(address, strict=False)
    except ValueError:
        return False
    return True


def _hba_errors(cfg):
    errors = []
    for i, entry in enumerate(cfg.get("hba_entries") or []):
        where = f"postgresql_hba_entries[{i}]"
        kind, address, method = entry.get("type", "host"), entry.get("address"), entry.get("method", "scram-sha-256")
        if kind == "local":
            if address:
                errors.append(f"{where}: type local takes no address; remove address {address!r} or use type host.")
        elif not address:
            errors.append(f"{where}: type {kind} needs an address in CIDR notation, e.g. 10.0.0.0/24 or 192.0.2.10/32.")
        elif not _is_network(address):
            errors.append(
                f"{where}: address {address!r} is not in CIDR notation; write it like 10.0.0.0/24, "
                "192.0.2.10/32 or ::1/128 (or samehost/samenet)."
            )
        if method == "peer" and kind != "local":
            errors.append(f"{where}: method peer works only for type local; use scram-sha-256 for {kind} entries.")
        if method == "ident" and kind == "local":
            errors.append(f"{where}: method ident is for TCP entries; use peer for type local.")
    return errors


def _privilege_errors(cfg):
    errors = []
    databases = {d.get("name") for d in cfg.get("databases") or []} | {"postgres"}
    roles = {u.get("name") for u in cfg.get("users") or []} | {"PUBLIC", "public"}
    for i, grant in enumerate(cfg.get("privileges") or []):
        where = f"postgresql_privileges[{i}]"
        if grant.get("database") not in databases:
            errors.append(
                f"{where}: database {grant.get('database')!r} is not in postgresql_databases; add it there or fix the name."
            )
        for role in (grant.get("roles") or []) + (grant.get("target_roles") or []):
            if role not in roles:
                errors.append(f"{where}: role {role!r} is not in postgresql_users; add it there or fix the name.")
    return errors


CHECKS = (
    _os_errors,
    _version_errors,
    _cluster_errors,
    _server_errors,
    _user_errors,
    _database_errors,
    _hba_errors,
    _privilege_errors,
)


def postgresql_input_errors(cfg):
    """Return every problem in the role's input, one message each."""
    return collect(CHECKS, cfg)


class FilterModule:
    def filters(self):
        return {"postgresql_input_errors": postgresql_input_errors}
