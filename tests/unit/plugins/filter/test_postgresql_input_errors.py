# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.postgresql_input_errors filter."""

from __future__ import annotations

import copy

import pytest
import yaml
from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/postgresql_input_errors.py")
check = plugin.FilterModule().filters()["postgresql_input_errors"]

GOOD = {
    "os": "Debian-12",
    "distribution_versions": {"Debian-12": "15", "Debian-13": "17", "Ubuntu-22": "14", "Ubuntu-24": "16"},
    "install_source": "distribution",
    "version": "",
    "cluster_name": "main",
    "data_directory": "/srv/postgresql/data",
    "port": 5432,
    "listen_addresses": ["localhost"],
    "max_connections": 100,
    "settings": {"work_mem": "64MB", "pg_strom.enabled": True},
    "users": [
        {"name": "airflow", "password": "secret"},
        {"name": "readers", "login": False},
        {"name": "analyst", "password": "secret", "member_of": ["readers", "pg_read_all_data"]},
    ],
    "databases": [
        {"name": "airflow", "owner": "airflow"},
        {"name": "features", "schemas": [{"name": "staging", "owner": "analyst"}], "extensions": ["uuid-ossp"]},
    ],
    "hba_entries": [
        {"type": "local", "database": "all", "user": "all", "method": "peer"},
        {"type": "host", "address": "10.0.0.0/24", "method": "scram-sha-256"},
        {"type": "hostssl", "address": "::1/128", "method": "scram-sha-256"},
        {"type": "host", "address": "samenet", "method": "reject"},
    ],
    "privileges": [{"database": "features", "roles": ["readers"], "privs": "SELECT", "target_roles": ["analyst"]}],
}


def users_with(first):
    """GOOD's users with the first one replaced, so references to the others still hold."""
    return [first, *copy.deepcopy(GOOD["users"][1:])]


def databases_with(first):
    return [first, *copy.deepcopy(GOOD["databases"][1:])]


def with_changes(**changes):
    cfg = copy.deepcopy(GOOD)
    cfg.update(changes)
    return cfg


def test_good_input_has_no_errors():
    assert check(GOOD) == []


def test_pgdg_accepts_another_major():
    assert check(with_changes(install_source="pgdg", version="17")) == []


# Each case: the changed input, the variable the message must name, a phrase of the fix.
CASES = {
    "unsupported-os": ({"os": "Ubuntu-20"}, "unsupported OS 'Ubuntu-20'", "Debian-12"),
    "version-not-shipped": ({"version": "16"}, "postgresql_version", "postgresql_install_source: pgdg"),
    "version-malformed": ({"version": "15.4"}, "postgresql_version", 'write it like "17"'),
    "pgdg-version-unknown": ({"install_source": "pgdg", "version": "11"}, "postgresql_version", "choose one of"),
    "cluster-name": ({"cluster_name": "main cluster"}, "postgresql_cluster_name", "letters, digits"),
    "data-directory-relative": ({"data_directory": "data/pg"}, "postgresql_data_directory", "absolute path"),
    "data-directory-dotdot": ({"data_directory": "/srv/../pg"}, "postgresql_data_directory", "'/pg'"),
    "data-directory-root": ({"data_directory": "/"}, "postgresql_data_directory", "not '/'"),
    "port-high": ({"port": 70000}, "postgresql_port", "between 1 and 65535"),
    "port-zero": ({"port": 0}, "postgresql_port", "between 1 and 65535"),
    "listen-empty": ({"listen_addresses": []}, "postgresql_listen_addresses", "at least one address"),
    "max-connections": ({"max_connections": 0}, "postgresql_max_connections", "1 to 262143"),
    "setting-name": ({"settings": {"Work Mem": "4MB"}}, "postgresql_settings", "names like work_mem"),
    "setting-value": ({"settings": {"work_mem": ["4MB"]}}, "postgresql_settings.work_mem", "single value"),
    "user-identifier": (
        {"users": [{"name": "Air-Flow", "password": "x"}], "databases": [], "privileges": []},
        "postgresql_users[0]",
        "lower-case letters",
    ),
    "user-too-long": (
        {"users": [{"name": "a" * 64, "password": "x"}], "databases": [], "privileges": []},
        "postgresql_users[0]",
        "at most 63",
    ),
    "login-without-password": (
        {"users": users_with({"name": "airflow", "password": ""})},
        "postgresql_users[0] ('airflow')",
        "postgresql_airflow_password",
    ),
    "member-of-unknown": (
        {"users": users_with({"name": "airflow", "password": "x", "member_of": ["ghosts"]})},
        "postgresql_users[0]",
        "add it (login: false)",
    ),
    "duplicate-user": (
        {"users": [*users_with({"name": "airflow", "password": "x"}), {"name": "airflow", "password": "y"}]},
        "postgresql_users: 'airflow'",
        "one entry per user",
    ),
    "duplicate-database": (
        {"databases": [*databases_with({"name": "airflow"}), {"name": "airflow"}]},
        "postgresql_databases: 'airflow'",
        "one entry per database",
    ),
    "database-identifier": (
        {"databases": databases_with({"name": "ml-data"})},
        "postgresql_databases[0]",
        "underscores",
    ),
    "database-owner-unknown": (
        {"databases": databases_with({"name": "airflow", "owner": "nobody"})},
        "postgresql_databases[0]",
        "add the user",
    ),
    "schema-identifier": (
        {"databases": databases_with({"name": "airflow", "schemas": [{"name": "Raw Data"}]})},
        "schema 'Raw Data'",
        "letters",
    ),
    "extension-name": (
        {"databases": databases_with({"name": "airflow", "extensions": ["pg trgm"]})},
        "extension 'pg trgm'",
        "pg_trgm",
    ),
    "hba-address-not-cidr": (
        {"hba_entries": [{"type": "host", "address": "10.0.0.5", "method": "scram-sha-256"}]},
        "postgresql_hba_entries[0]",
        "CIDR notation",
    ),
    "hba-address-garbage": (
        {"hba_entries": [{"type": "host", "address": "10.0.0.0/33", "method": "md5"}]},
        "postgresql_hba_entries[0]",
        "CIDR notation",
    ),
    "hba-host-without-address": ({"hba_entries": [{"type": "host"}]}, "postgresql_hba_entries[0]", "needs an address"),
    "hba-local-with-address": (
        {"hba_entries": [{"type": "local", "address": "10.0.0.0/8", "method": "peer"}]},
        "postgresql_hba_entries[0]",
        "takes no address",
    ),
    "hba-peer-over-tcp": (
        {"hba_entries": [{"type": "host", "address": "10.0.0.0/8", "method": "peer"}]},
        "postgresql_hba_entries[0]",
        "only for type local",
    ),
    "privilege-database-unknown": (
        {"privileges": [{"database": "analytcs", "roles": ["readers"], "privs": "SELECT"}]},
        "postgresql_privileges[0]",
        "postgresql_databases",
    ),
    "privilege-role-unknown": (
        {"privileges": [{"database": "features", "roles": ["reader"], "privs": "SELECT"}]},
        "postgresql_privileges[0]",
        "role 'reader'",
    ),
}


@pytest.mark.parametrize(("changes", "names", "fix"), CASES.values(), ids=CASES.keys())
def test_each_problem_is_named_with_its_fix(changes, names, fix):
    errors = check(with_changes(**changes))
    assert len(errors) == 1, errors
    assert names in errors[0]
    assert fix in errors[0]


def test_every_problem_is_reported_at_once():
    errors = check(with_changes(port=0, data_directory="rel", users=users_with({"name": "airflow", "password": ""})))
    assert len(errors) == 3


def test_messages_never_contain_passwords():
    cfg = with_changes(users=[{"name": "Bad Name", "password": "s3cret-value"}], databases=[], privileges=[])
    assert all("s3cret-value" not in message for message in check(cfg))


def test_documentation_parses():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "postgresql_input_errors"
