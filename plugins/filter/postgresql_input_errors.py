# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the postgresql role's variables: the types argument specs let through, then the meaning.

Why a filter: argument specs check types and choices only; identifiers, CIDR addresses,
references between entries and setting names need code, each case a unit test.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_input_errors
short_description: Problems in the postgresql role's variables, one message each
version_added: 0.1.0
author: DataTech platform team
description:
  - Checks what argument specs cannot (ranges, duplicates, references between entries,
    identifiers, CIDR addresses, pg_hba.conf fields, setting names, the OS) and returns every
    problem found, each message naming the variable and the fix. An empty list means the input is good.
  - Types come first, and alone when wrong. Argument specs validate a converted copy, so the
    variables still hold a number, list or dict where a string is expected (or a quoted number).
  - The role calls it in its preflight, before anything changes on the host.
options:
  _input:
    description:
      - The role's variables, under their names without the C(postgresql_) prefix,
        plus C(os) (C(<distribution>-<major>)) and C(distribution_versions) (supported OS -> major).
      - C(known_settings), the setting names the server's major knows (the role ships them in
        C(files/settings/<major>.txt)), and C(server_major), that major; without a list,
        C(postgresql_settings) names are not checked against the server.
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

import difflib
import ipaddress
import posixpath
import re

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import (
    clean_path,
    collect,
    duplicates,
    type_errors,
)
from ansible_collections.datatech.mlops.plugins.plugin_utils.postgresql_limits import (
    MAX_CONNECTIONS,
    MIN_MEMORY_MB,
    reserved_connections,
)

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]{0,62}$")
EXTENSION = re.compile(r"^[a-z_][a-z0-9_-]{0,62}$")
CLUSTER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# PostgreSQL setting names are case-insensitive (DateStyle, TimeZone).
SETTING_NAME = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$", re.IGNORECASE)
MAJOR_VERSION = re.compile(r"^[0-9]{2}$")
PGDG_VERSIONS = ("14", "15", "16", "17", "18")
HBA_KEYWORDS = ("all", "samehost", "samenet")
# pg_hba.conf is split into fields at whitespace and a '#' starts a comment: a database or user
# field is names (or keywords) separated by commas, and nothing else; a quote would start a
# quoted name, which the role does not write.
HBA_NAMES = re.compile(r'^[^\s#",]+(,[^\s#",]+)*$')
# Options are name=value pairs separated by single spaces (clientcert=verify-full, or
# ldapserver=ldap.example.net ldapport=389); a value cannot hold spaces, quotes or '#'.
HBA_OPTIONS = re.compile(r'^[a-z_]+=[^\s#"]+( [a-z_]+=[^\s#"]+)*$', re.IGNORECASE)
# Settings the role writes itself (vars/main.yml, templates, tasks) or that the cluster's own
# files must keep (pg_createcluster's postgresql.conf); each with the way to change it instead.
OWNED_SETTINGS = {
    "port": "set postgresql_port instead",
    "listen_addresses": "set postgresql_listen_addresses instead",
    "max_connections": "set postgresql_max_connections instead",
    "shared_preload_libraries": "set postgresql_shared_preload_libraries instead",
    "password_encryption": "remove it: the role stores every password as scram-sha-256",
    "data_directory": "set postgresql_data_directory instead (the role moves the data there)",
    "cluster_name": "set postgresql_cluster_name instead",
    "hba_file": "list the entries in postgresql_hba_entries instead",
    "ident_file": "remove it: the role keeps the cluster's pg_ident.conf",
    "config_file": "remove it: the role writes its settings into the cluster's conf.d folder",
    "external_pid_file": "remove it: pg_ctlcluster and the service find the server by the cluster's own",
    "unix_socket_directories": "remove it: the role connects through the cluster's socket in /var/run/postgresql",
    "pg_strom.cuda_toolkit_basedir": "set postgresql_gpu_cuda_version instead",
    "primary_conninfo": "set postgresql_replication_primary instead (the role writes it with a password file)",
    "primary_slot_name": "set postgresql_replication_slot instead",
}
# Prefixes of custom settings (prefix.name) accepted beside the preloaded libraries: the
# server's own modules that define settings when loaded on demand (auto_explain and
# pg_prewarm by LOAD or session_preload_libraries, pg_trgm, plpgsql, postgres_fdw by use),
# PG-Strom (postgresql_pgstrom_settings' prefix) and pgvector's index types (hnsw, ivfflat;
# postgresql-N-pgvector names its settings after them, not after the library).
EXTENSION_NAMESPACES = (
    "auth_delay",
    "auto_explain",
    "pg_prewarm",
    "pg_stat_statements",
    "pg_strom",
    "pg_trgm",
    "plpgsql",
    "postgres_fdw",
    "hnsw",
    "ivfflat",
)
# The types of every key the filter reads; a value of another type is refused before the
# meaning checks (argument specs convert only a copy: the variables keep what was given).
TYPES = {
    "os": str,
    "install_source": str,
    "version": str,
    "cluster_name": str,
    "data_directory": str,
    "port": int,
    "listen_addresses": [str],
    "max_connections": int,
    "shared_preload_libraries": [str],
    "tuning_enabled": bool,
    "tuning_memory_mb": int,
    "tuning_cpus": int,
    "host_memory_mb": int,
    "pgstrom_settings": dict,
    "settings": dict,
    "users": [{"name": str, "password": str, "login": bool, "member_of": [str]}],
    "databases": [
        {
            "name": str,
            "owner": str,
            "public_connect": bool,
            "schemas": [{"name": str, "owner": str}],
            "extensions": [str],
        },
    ],
    "hba_entries": [
        {"type": str, "database": str, "user": str, "address": str, "method": str, "options": str},
    ],
    "hba_trust_allowed": bool,
    "privileges": [{"database": str, "roles": [str], "target_roles": [str]}],
    "teams": [{"name": str, "members": [str], "database": str}],
    "known_settings": [str],
}
# A team's name becomes its role team_<name> and its schema sandbox_<name>: both identifiers of
# at most 63 characters, so the name itself has 63 - len("sandbox_") = 55 at most.
TEAM_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,54}$")
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
    if not MAJOR_VERSION.fullmatch(version):
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
    if not CLUSTER_NAME.fullmatch(str(name)):
        errors.append(
            f"postgresql_cluster_name: {name!r} is not a valid cluster name; use letters, digits, '_', '.', '-'."
        )
    path = cfg.get("data_directory", "") or ""
    if path:
        if not path.startswith("/"):
            errors.append(
                f"postgresql_data_directory: {path!r} is relative; give an absolute path such as /srv/postgresql/data."
            )
        elif clean_path(path) != path or path == "/":
            errors.append(
                f"postgresql_data_directory: {path!r} is not a clean absolute path; "
                f"write it without '..', '.', doubled or trailing slashes (e.g. {clean_path(path)!r}), and not '/'."
            )
    return errors


def _server_errors(cfg):
    errors = []
    port = cfg.get("port", 5432)
    if not 1 <= port <= 65535:
        errors.append(f"postgresql_port: {port!r} is out of range; use a TCP port between 1 and 65535 (default 5432).")
    if not cfg.get("listen_addresses", ["localhost"]):
        errors.append("postgresql_listen_addresses is empty; list at least one address (e.g. [localhost], or ['*']).")
    return errors


def _max_connections_errors(cfg):
    """PostgreSQL's rule, the only one: more connections than its reserved slots."""
    max_connections = cfg.get("max_connections", 100)
    reserved = reserved_connections(cfg.get("settings"))
    if max_connections > MAX_CONNECTIONS:
        return [
            f"postgresql_max_connections: {max_connections} is more than PostgreSQL allows; use at most {MAX_CONNECTIONS}."
        ]
    if max_connections <= sum(reserved.values()):
        # reserved_connections (PostgreSQL 16 and later) is named only where it is set.
        slots = " plus ".join(
            f"{name} ({count})" for name, count in reserved.items() if count or name == "superuser_reserved_connections"
        )
        return [
            (
                f"postgresql_max_connections: {max_connections} is too low: PostgreSQL keeps {slots} "
                "of the connections for superusers and does not start unless max_connections is larger; "
                f"use at least {sum(reserved.values()) + 1}."
            )
        ]
    return []


def _tuning_errors(cfg):
    errors = []
    memory_mb = cfg.get("tuning_memory_mb", 0)
    if memory_mb != 0 and memory_mb < MIN_MEMORY_MB:
        errors.append(
            f"postgresql_tuning_memory_mb: {memory_mb} is too small to tune for; "
            f"use 0 (the host's RAM) or at least {MIN_MEMORY_MB}, or set postgresql_tuning_enabled: false."
        )
    host_memory_mb = cfg.get("host_memory_mb")
    if (
        cfg.get("tuning_enabled", True)
        and memory_mb == 0
        and host_memory_mb is not None
        and host_memory_mb < MIN_MEMORY_MB
    ):
        errors.append(
            f"postgresql_tuning_enabled: the host has {host_memory_mb} MiB of RAM, less than the {MIN_MEMORY_MB} "
            "the tuning is made for; set postgresql_tuning_enabled: false and size memory in postgresql_settings."
        )
    cpus = cfg.get("tuning_cpus", 0)
    if cpus < 0:
        errors.append(f"postgresql_tuning_cpus: {cpus} is negative; use 0 (the host's CPUs) or a count of CPUs.")
    return errors


def _setting_value_errors(cfg):
    errors = []
    for name, value in (cfg.get("settings") or {}).items():
        if not isinstance(name, str) or not SETTING_NAME.fullmatch(name):
            errors.append(
                f"postgresql_settings: {str(name)[:80]!r} is not a PostgreSQL setting name; use names like work_mem or pg_strom.enabled."
            )
        elif isinstance(value, (dict, list)) or value is None:
            errors.append(
                f"postgresql_settings.{name}: give a single value (string, number or boolean), not {type(value).__name__}."
            )
        elif isinstance(value, str) and not value.isprintable():
            # A quoted value in postgresql.conf ends at its line: a line break leaves a file the server refuses.
            errors.append(
                f"postgresql_settings.{name}: the value holds a line break or another control character; "
                "write it on one line."
            )
    return errors


def _setting_owner_errors(cfg):
    return [
        f"postgresql_settings: {name!r} is managed by the role; {OWNED_SETTINGS[str(name).lower()]}."
        for name in cfg.get("settings") or {}
        if str(name).lower() in OWNED_SETTINGS
    ]


def _library_name(library):
    """shared_preload_libraries entries may be paths ($libdir/pg_strom) or file names."""
    return posixpath.basename(library).removesuffix(".so").lower()


def _setting_name_errors(cfg):
    """Names the server does not know: its list (without one, only custom-setting prefixes)."""
    errors = []
    known = {str(name).lower() for name in cfg.get("known_settings") or []}
    prefixes = {_library_name(lib) for lib in cfg.get("shared_preload_libraries") or []} | set(EXTENSION_NAMESPACES)
    major = cfg.get("server_major") or "this major"
    for name in cfg.get("settings") or {}:
        lower = str(name).lower()
        if not isinstance(name, str) or not SETTING_NAME.fullmatch(lower) or lower in OWNED_SETTINGS:
            continue
        if "." in lower:
            prefix = lower.split(".", 1)[0]
            if prefix not in prefixes:
                errors.append(
                    f"postgresql_settings: {name[:80]!r} belongs to {prefix[:80]!r}, which is neither in "
                    "postgresql_shared_preload_libraries nor an extension the role knows; "
                    f"add the library to postgresql_shared_preload_libraries, or fix the name."
                )
        elif known and lower not in known:
            close = difflib.get_close_matches(lower, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(
                f"postgresql_settings: {name[:80]!r} is not a setting PostgreSQL {major} knows{hint}; "
                "fix the name, or remove it."
            )
    return errors


def _user_errors(cfg):
    errors = []
    users = cfg.get("users") or []
    known = {u.get("name") for u in users}
    for i, user in enumerate(users):
        name = user.get("name")
        where = f"postgresql_users[{i}] ({name!r})"
        if not IDENTIFIER.fullmatch(str(name)):
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
        if not IDENTIFIER.fullmatch(str(name)):
            errors.append(f"{where}: the name is not an identifier this role accepts; {IDENTIFIER_FIX}.")
        owner = db.get("owner") or "postgres"
        if owner not in owners:
            errors.append(
                f"{where}: owner {owner!r} is not in postgresql_users; add the user or use an existing owner."
            )
        for schema in db.get("schemas") or []:
            if not IDENTIFIER.fullmatch(str(schema.get("name"))):
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
            if not EXTENSION.fullmatch(str(ext)):
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


def _hba_text_errors(cfg):
    """Fields copied into pg_hba.conf as they are: one field each, no line break, no comment."""
    errors = []
    for i, entry in enumerate(cfg.get("hba_entries") or []):
        where = f"postgresql_hba_entries[{i}]"
        for key in ("database", "user"):
            value = entry.get(key, "all")
            if not (HBA_NAMES.fullmatch(value) and value.isprintable()):
                errors.append(
                    f"{where}: {key} {value[:80]!r} is not one pg_hba.conf field; give a name, all, or a "
                    "comma-separated list (like airflow,mlfeatures) without spaces, line breaks, quotes or '#'."
                )
        options = entry.get("options", "")
        if options and not (HBA_OPTIONS.fullmatch(options) and options.isprintable()):
            errors.append(
                f"{where}: options {options[:80]!r} are not name=value pairs on one line; write them like "
                "clientcert=verify-full, separated by single spaces, without line breaks, quotes or '#'."
            )
    return errors


def _hba_trust_errors(cfg):
    if cfg.get("hba_trust_allowed", False):
        return []
    return [
        (
            f"postgresql_hba_entries[{i}]: method trust lets anyone from {entry.get('address')!r} in without a "
            "password; use scram-sha-256, or set postgresql_hba_trust_allowed: true if that is what you want."
        )
        for i, entry in enumerate(cfg.get("hba_entries") or [])
        if entry.get("method") == "trust" and entry.get("type", "host") != "local"
    ]


def _privilege_errors(cfg):
    errors = []
    databases = {d.get("name") for d in cfg.get("databases") or []} | {"postgres"}
    # A team's role (postgresql_teams) may be granted more, or be granted to others.
    teams = {f"team_{t.get('name')}" for t in cfg.get("teams") or []}
    roles = {u.get("name") for u in cfg.get("users") or []} | teams | {"PUBLIC", "public"}
    for i, grant in enumerate(cfg.get("privileges") or []):
        where = f"postgresql_privileges[{i}]"
        if grant.get("database") not in databases:
            errors.append(
                f"{where}: database {grant.get('database')!r} is not in postgresql_databases; add it there or fix the name."
            )
        for role in (grant.get("roles") or []) + (grant.get("target_roles") or []):
            if role not in roles:
                errors.append(
                    f"{where}: role {role!r} is not in postgresql_users (nor a team's team_<name>); "
                    "add it there or fix the name."
                )
    return errors


def _team_errors(cfg):
    """postgresql_teams: names that make identifiers, members and databases the role also manages."""
    errors = []
    users = {u.get("name") for u in cfg.get("users") or []}
    databases = {d.get("name"): d for d in cfg.get("databases") or []}
    teams = cfg.get("teams") or []
    for i, team in enumerate(teams):
        name = team.get("name")
        where = f"postgresql_teams[{i}] ({name!r})"
        if not TEAM_NAME.fullmatch(str(name)):
            errors.append(
                f"{where}: the name is not a team name this role accepts (it becomes the role team_<name> and the "
                "schema sandbox_<name>); use lower-case letters, digits and underscores, starting with a letter "
                "or underscore, at most 55 characters."
            )
        elif f"team_{name}" in users:
            errors.append(
                f"{where}: the team's role 'team_{name}' is also in postgresql_users; rename the team or the user."
            )
        for member in team.get("members") or []:
            if member not in users:
                errors.append(
                    f"{where}: member {member!r} is not in postgresql_users; add the user there "
                    "(with a password from vault) or fix the name."
                )
        database = team.get("database")
        if database not in databases:
            errors.append(
                f"{where}: database {database!r} is not in postgresql_databases; add it there or fix the name."
            )
        elif f"sandbox_{name}" in {s.get("name") for s in databases[database].get("schemas") or []}:
            errors.append(
                f"{where}: schema 'sandbox_{name}' is also in postgresql_databases ({database!r}) schemas; "
                "remove it there (the team's entry creates it) or rename the team."
            )
    for name in duplicates(t.get("name") for t in teams):
        errors.append(f"postgresql_teams: {name!r} is listed more than once; keep one entry per team.")
    return errors


CHECKS = (
    _os_errors,
    _version_errors,
    _cluster_errors,
    _server_errors,
    _max_connections_errors,
    _tuning_errors,
    _setting_value_errors,
    _setting_owner_errors,
    _setting_name_errors,
    _user_errors,
    _database_errors,
    _hba_errors,
    _hba_text_errors,
    _hba_trust_errors,
    _privilege_errors,
    _team_errors,
)


def postgresql_input_errors(cfg):
    """Return every problem in the role's input, one message each; types first, as the checks rely on them."""
    return type_errors(TYPES, cfg, "postgresql_") or collect(CHECKS, cfg)


class FilterModule:
    def filters(self):
        return {"postgresql_input_errors": postgresql_input_errors}
