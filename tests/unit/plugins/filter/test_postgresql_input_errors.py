# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.postgresql_input_errors filter."""

from __future__ import annotations

import copy

import pytest
import yaml
from plugin_loader import ROOT, load_plugin

plugin = load_plugin("plugins/filter/postgresql_input_errors.py")
check = plugin.FilterModule().filters()["postgresql_input_errors"]

SETTINGS_LISTS = ROOT / "roles/postgresql/files/settings"


def known_settings(major):
    """The shipped list, read as the role's preflight reads it (comment lines left out)."""
    lines = (SETTINGS_LISTS / f"{major}.txt").read_text().splitlines()
    return [line for line in lines if not line.startswith("#")]


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
    "shared_preload_libraries": ["pg_stat_statements", "$libdir/auto_explain.so"],
    "tuning_enabled": True,
    "tuning_memory_mb": 0,
    "tuning_cpus": 0,
    "host_memory_mb": 4096,
    "pgstrom_settings": {"pg_strom.gpu_setup_cost": 100},
    "settings": {
        "work_mem": "64MB",
        "DateStyle": "iso, dmy",
        "application_name": "db01",
        "zero_damaged_pages": False,
        "pg_strom.enabled": True,
        "pg_stat_statements.max": 10000,
        "auto_explain.log_min_duration": "5s",
        "hnsw.ef_search": 100,
    },
    "known_settings": known_settings("15"),
    "server_major": "15",
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
        {"type": "hostssl", "database": "airflow,mlfeatures", "user": "airflow,analyst", "address": "10.1.0.0/16"},
        {"type": "hostssl", "address": "10.2.0.0/16", "method": "cert", "options": "clientcert=verify-full map=ml"},
        {"type": "local", "database": "airflow", "user": "airflow", "method": "trust"},
    ],
    "hba_trust_allowed": False,
    "privileges": [
        {"database": "features", "roles": ["readers"], "privs": "SELECT", "target_roles": ["analyst"]},
        {"database": "features", "roles": ["team_ml"], "type": "schema", "objs": "staging", "privs": "USAGE"},
    ],
    "teams": [{"name": "ml", "members": ["analyst"], "database": "features"}],
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
    "max-connections-zero": ({"max_connections": 0}, "postgresql_max_connections: 0 is too low", "use at least 4"),
    "setting-name": ({"settings": {"Work Mem": "4MB"}}, "postgresql_settings", "names like work_mem"),
    "setting-value": ({"settings": {"work_mem": ["4MB"]}}, "postgresql_settings.work_mem", "single value"),
    "user-identifier": (
        {"users": [{"name": "Air-Flow", "password": "x"}], "databases": [], "privileges": [], "teams": []},
        "postgresql_users[0]",
        "lower-case letters",
    ),
    "user-too-long": (
        {"users": [{"name": "a" * 64, "password": "x"}], "databases": [], "privileges": [], "teams": []},
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
    # --- postgresql_teams: a role team_<name> and a schema sandbox_<name> ---------------------
    "team-name-not-identifier": (
        {"teams": [*GOOD["teams"], {"name": "ML Team", "members": [], "database": "features"}]},
        "postgresql_teams[1] ('ML Team')",
        "lower-case letters, digits and underscores",
    ),
    "team-name-too-long": (
        {"teams": [*GOOD["teams"], {"name": "t" * 56, "members": [], "database": "features"}]},
        "postgresql_teams[1]",
        "at most 55 characters",
    ),
    "team-member-unknown": (
        {"teams": [{"name": "ml", "members": ["alice"], "database": "features"}]},
        "postgresql_teams[0] ('ml'): member 'alice' is not in postgresql_users",
        "add the user there",
    ),
    "team-database-unknown": (
        {"teams": [{"name": "ml", "members": ["analyst"], "database": "featurs"}]},
        "postgresql_teams[0] ('ml'): database 'featurs' is not in postgresql_databases",
        "add it there or fix the name",
    ),
    "team-role-is-a-user": (
        {"users": [*GOOD["users"], {"name": "team_ml", "login": False}]},
        "postgresql_teams[0] ('ml'): the team's role 'team_ml' is also in postgresql_users",
        "rename the team or the user",
    ),
    "team-schema-listed": (
        {
            "databases": databases_with({"name": "airflow", "schemas": [{"name": "sandbox_ml"}]}),
            "teams": [
                {"name": "ml", "members": [], "database": "airflow"},
            ],
        },
        "schema 'sandbox_ml' is also in postgresql_databases ('airflow')",
        "the team's entry creates it",
    ),
    "team-duplicate": (
        {"teams": [{"name": "ml", "members": [], "database": "features"}] * 2},
        "postgresql_teams: 'ml' is listed more than once",
        "one entry per team",
    ),
    "type-team-members-string": (
        {"teams": [{"name": "ml", "members": "analyst", "database": "features"}]},
        "postgresql_teams[0].members: got a string, not a list",
        "give a list",
    ),
    # --- max_connections: PostgreSQL's reserved slots, the one rule -------------------------
    "max-connections-reserved": ({"max_connections": 2}, "postgresql_max_connections: 2 is too low", "use at least 4"),
    "max-connections-equal-reserved": (
        {"max_connections": 3},
        "superuser_reserved_connections (3)",
        "use at least 4",
    ),
    "max-connections-raised-reserve": (
        {
            "max_connections": 10,
            "settings": {"superuser_reserved_connections": 5, "reserved_connections": 5},
            "os": "Debian-13",
            "known_settings": known_settings("17"),
            "server_major": "17",
        },
        "superuser_reserved_connections (5) plus reserved_connections (5)",
        "use at least 11",
    ),
    "max-connections-high": ({"max_connections": 262144}, "postgresql_max_connections", "at most 262143"),
    "tuning-memory-small": ({"tuning_memory_mb": 512}, "postgresql_tuning_memory_mb: 512", "at least 1024"),
    "tuning-small-host": (
        {"host_memory_mb": 512},
        "postgresql_tuning_enabled: the host has 512 MiB of RAM, less than the 1024",
        "postgresql_tuning_enabled: false",
    ),
    "tuning-cpus-negative": ({"tuning_cpus": -1}, "postgresql_tuning_cpus", "0 (the host's CPUs)"),
    # --- settings the role owns -------------------------------------------------------------
    "setting-owned-port": (
        {"settings": {"port": 5433}},
        "postgresql_settings: 'port' is managed by the role",
        "set postgresql_port instead",
    ),
    "setting-owned-case": (
        {"settings": {"Listen_Addresses": "*"}},
        "postgresql_settings: 'Listen_Addresses' is managed by the role",
        "postgresql_listen_addresses",
    ),
    "setting-owned-max-connections": (
        {"settings": {"max_connections": 500}},
        "'max_connections'",
        "postgresql_max_connections",
    ),
    "setting-owned-preload": (
        {"settings": {"shared_preload_libraries": "pg_cron"}},
        "'shared_preload_libraries' is managed by the role",
        "postgresql_shared_preload_libraries",
    ),
    "setting-owned-password-encryption": (
        {"settings": {"password_encryption": "md5"}},
        "'password_encryption'",
        "scram-sha-256",
    ),
    "setting-owned-data-directory": (
        {"settings": {"data_directory": "/srv/pg"}},
        "'data_directory'",
        "postgresql_data_directory",
    ),
    "setting-owned-hba-file": ({"settings": {"hba_file": "/tmp/hba"}}, "'hba_file'", "postgresql_hba_entries"),
    "setting-owned-ident-file": ({"settings": {"ident_file": "/tmp/ident"}}, "'ident_file'", "remove it"),
    "setting-owned-config-file": ({"settings": {"config_file": "/tmp/pg.conf"}}, "'config_file'", "remove it"),
    "setting-owned-pid-file": ({"settings": {"external_pid_file": "/tmp/pid"}}, "'external_pid_file'", "remove it"),
    "setting-owned-socket": (
        {"settings": {"unix_socket_directories": "/tmp"}},
        "'unix_socket_directories'",
        "remove it",
    ),
    "setting-owned-cluster-name": ({"settings": {"cluster_name": "x"}}, "'cluster_name'", "postgresql_cluster_name"),
    "setting-owned-cuda": (
        {"settings": {"pg_strom.cuda_toolkit_basedir": "/opt/cuda"}},
        "'pg_strom.cuda_toolkit_basedir'",
        "postgresql_gpu_cuda_version",
    ),
    # --- names the server does not know ---------------------------------------------------
    "setting-typo": (
        {"settings": {"work_mme": "64MB"}},
        "postgresql_settings: 'work_mme' is not a setting PostgreSQL 15 knows",
        "did you mean 'work_mem'?",
    ),
    "setting-removed-in-17": (
        {
            "settings": {"old_snapshot_threshold": "1h"},
            "os": "Debian-13",
            "known_settings": known_settings("17"),
            "server_major": "17",
        },
        "'old_snapshot_threshold' is not a setting PostgreSQL 17 knows",
        "fix the name",
    ),
    "setting-new-in-17": (
        {"settings": {"summarize_wal": True}},
        "'summarize_wal' is not a setting PostgreSQL 15 knows",
        "fix the name",
    ),
    "setting-unknown-prefix": (
        {"settings": {"pg_cron.database_name": "airflow"}},
        "'pg_cron.database_name' belongs to 'pg_cron'",
        "add the library to postgresql_shared_preload_libraries",
    ),
    "setting-unknown-prefix-without-list": (
        {"settings": {"timescaledb.max_background_workers": 8}, "known_settings": [], "server_major": "16"},
        "'timescaledb.max_background_workers' belongs to 'timescaledb'",
        "postgresql_shared_preload_libraries",
    ),
    "setting-newline-in-name": (
        {"settings": {"work_mem\nlisten_addresses": "*"}},
        "postgresql_settings: 'work_mem\\nlisten_addresses' is not a PostgreSQL setting name",
        "names like work_mem",
    ),
    "setting-name-yaml-boolean": (
        {"settings": {True: 1}},
        "postgresql_settings: 'True' is not a PostgreSQL setting name",
        "work_mem",
    ),
    "setting-name-number": (
        {"settings": {1: 1}},
        "postgresql_settings: '1' is not a PostgreSQL setting name",
        "work_mem",
    ),
    "setting-value-newline": (
        {"settings": {"work_mem": "4MB'\nlisten_addresses = '*"}},
        "postgresql_settings.work_mem: the value holds a line break",
        "write it on one line",
    ),
    # --- pg_hba.conf fields ------------------------------------------------------------------
    "hba-user-trust-injection": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": "airflow\nhost all all 0.0.0.0/0 trust"}]},
        "postgresql_hba_entries[0]: user 'airflow\\nhost all all",
        "comma-separated list (like airflow,mlfeatures) without spaces",
    ),
    "hba-database-space": (
        {"hba_entries": [{"address": "10.0.0.0/8", "database": "airflow all"}]},
        "postgresql_hba_entries[0]: database 'airflow all'",
        "without spaces",
    ),
    "hba-database-comment": (
        {"hba_entries": [{"address": "10.0.0.0/8", "database": "airflow#"}]},
        "postgresql_hba_entries[0]: database 'airflow#'",
        "'#'",
    ),
    "hba-user-unicode-space": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": "airflow\u00a0all"}]},
        "postgresql_hba_entries[0]: user",
        "without spaces",
    ),
    "hba-user-zero-width": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": "air\u200bflow"}]},
        "postgresql_hba_entries[0]: user",
        "without spaces",
    ),
    "hba-user-empty": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": ""}]},
        "postgresql_hba_entries[0]: user ''",
        "give a name",
    ),
    "hba-user-empty-list-item": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": "airflow,,analyst"}]},
        "postgresql_hba_entries[0]: user 'airflow,,analyst'",
        "comma-separated",
    ),
    "hba-user-quote": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": '"air flow"'}]},
        "postgresql_hba_entries[0]: user",
        "quotes",
    ),
    "hba-options-trust-injection": (
        {"hba_entries": [{"address": "10.0.0.0/8", "options": "clientcert=verify-ca\nhost all all 0.0.0.0/0 trust"}]},
        "postgresql_hba_entries[0]: options",
        "name=value pairs on one line",
    ),
    "hba-options-bare-word": (
        {"hba_entries": [{"address": "10.0.0.0/8", "options": "trust"}]},
        "postgresql_hba_entries[0]: options 'trust'",
        "clientcert=verify-full",
    ),
    "hba-options-comment": (
        {"hba_entries": [{"address": "10.0.0.0/8", "options": "map=ml#x"}]},
        "postgresql_hba_entries[0]: options 'map=ml#x'",
        "'#'",
    ),
    "hba-options-tab": (
        {"hba_entries": [{"address": "10.0.0.0/8", "options": "map=ml\tclientcert=verify-ca"}]},
        "postgresql_hba_entries[0]: options",
        "single spaces",
    ),
    "hba-trust-host": (
        {"hba_entries": [{"address": "10.0.0.0/8", "method": "trust"}]},
        "postgresql_hba_entries[0]: method trust lets anyone from '10.0.0.0/8' in",
        "postgresql_hba_trust_allowed: true",
    ),
    "hba-trust-hostssl": (
        {"hba_entries": [{"type": "hostssl", "address": "samenet", "method": "trust"}]},
        "postgresql_hba_entries[0]: method trust",
        "use scram-sha-256",
    ),
    # --- a trailing line break is not a name ($ in a pattern matches before it) -----------
    "cluster-name-newline": ({"cluster_name": "main\n"}, "postgresql_cluster_name: 'main\\n'", "letters, digits"),
    "user-name-newline": (
        {"users": [{"name": "airflow\n", "password": "x"}], "databases": [], "privileges": [], "teams": []},
        "postgresql_users[0] ('airflow\\n')",
        "lower-case letters",
    ),
    "version-newline": ({"version": "17\n"}, "postgresql_version", 'write it like "17"'),
    "setting-name-newline": (
        {"settings": {"work_mem\n": "4MB"}},
        "postgresql_settings: 'work_mem\\n'",
        "names like work_mem",
    ),
    "hba-user-trailing-newline": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": "airflow\n"}]},
        "user 'airflow\\n'",
        "line breaks",
    ),
    # --- types: what argument specs let through (they convert a copy only) ------------------
    "type-port-string": ({"port": "5432"}, "postgresql_port: got a string, not an integer", "without quotes"),
    "type-port-bool": ({"port": True}, "postgresql_port: got a boolean, not an integer", "give an integer"),
    "type-port-float": ({"port": 5432.0}, "postgresql_port: got a number with a fraction", "give an integer"),
    "type-version-int": ({"version": 17}, "postgresql_version: got an integer, not a string", "quote the value"),
    "type-max-connections-none": (
        {"max_connections": None},
        "postgresql_max_connections: got null",
        "leave the variable out",
    ),
    "type-listen-string": (
        {"listen_addresses": "localhost"},
        "postgresql_listen_addresses: got a string, not a list",
        "give a list",
    ),
    "type-listen-element": (
        {"listen_addresses": ["localhost", 10]},
        "postgresql_listen_addresses[1]: got an integer",
        "quote",
    ),
    "type-settings-list": (
        {"settings": ["work_mem=4MB"]},
        "postgresql_settings: got a list, not a dict",
        "give a dict",
    ),
    "type-users-dict": ({"users": {"name": "airflow"}}, "postgresql_users: got a dict, not a list", "give a list"),
    "type-user-name-list": (
        {"users": [{"name": ["airflow"], "password": "x"}], "databases": [], "privileges": [], "teams": []},
        "postgresql_users[0].name: got a list, not a string",
        "give a string",
    ),
    "type-user-login-string": (
        {"users": users_with({"name": "airflow", "password": "x", "login": "no"})},
        "postgresql_users[0].login: got a string, not true or false",
        "without quotes",
    ),
    "type-user-password-int": (
        {"users": users_with({"name": "airflow", "password": 12345})},
        "postgresql_users[0].password: got an integer",
        "quote the value",
    ),
    "type-schema-name-none": (
        {"databases": databases_with({"name": "airflow", "schemas": [{"name": None}]})},
        "postgresql_databases[0].schemas[0].name: got null",
        "give a string",
    ),
    "type-hba-entry-string": (
        {"hba_entries": ["host all all 0.0.0.0/0 trust"]},
        "postgresql_hba_entries[0]: got a string, not a dict",
        "give a dict",
    ),
    "type-hba-user-int": (
        {"hba_entries": [{"address": "10.0.0.0/8", "user": 42}]},
        "postgresql_hba_entries[0].user: got an integer",
        "quote",
    ),
    "type-hba-options-none": (
        {"hba_entries": [{"address": "10.0.0.0/8", "options": None}]},
        "postgresql_hba_entries[0].options: got null",
        "leave the key out",
    ),
    "type-trust-allowed-string": (
        {"hba_trust_allowed": "yes"},
        "postgresql_hba_trust_allowed: got a string",
        "true or false",
    ),
    "type-privilege-roles-string": (
        {"privileges": [{"database": "features", "roles": "readers", "privs": "SELECT"}]},
        "postgresql_privileges[0].roles: got a string, not a list",
        "give a list",
    ),
    "type-pgstrom-settings-list": (
        {"pgstrom_settings": ["pg_strom.enabled"]},
        "postgresql_pgstrom_settings: got a list, not a dict",
        "give a dict",
    ),
    "type-tuning-memory-string": (
        {"tuning_memory_mb": "4096"},
        "postgresql_tuning_memory_mb: got a string",
        "without quotes",
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
    cfg = with_changes(users=[{"name": "Bad Name", "password": "s3cret-value"}], databases=[], privileges=[], teams=[])
    assert all("s3cret-value" not in message for message in check(cfg))


def test_documentation_parses():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "postgresql_input_errors"


def test_distribution_lists_are_accepted_on_their_major():
    cfg = with_changes(os="Debian-13", known_settings=known_settings("17"), server_major="17")
    cfg["settings"] = dict(cfg["settings"], summarize_wal=True, reserved_connections=2)
    assert check(cfg) == []


def test_shipped_lists_hold_the_servers_names():
    for major in ("15", "17"):
        names = known_settings(major)
        assert names == sorted(names)
        assert {"work_mem", "shared_buffers", "application_name", "zero_damaged_pages", "DateStyle"} <= set(names)
        assert (SETTINGS_LISTS / f"{major}.txt").read_text().startswith("# Made by tools/postgresql_settings_lists.py")


def test_without_a_list_names_are_not_checked():
    assert check(with_changes(known_settings=[], server_major="16", settings={"work_mme": "64MB"})) == []


def test_trust_is_allowed_when_asked_for():
    entries = [{"address": "10.0.0.0/8", "method": "trust"}]
    assert check(with_changes(hba_entries=entries, hba_trust_allowed=True)) == []


def test_a_lower_reserve_allows_fewer_connections():
    assert check(with_changes(max_connections=2, settings={"superuser_reserved_connections": 1})) == []


def test_the_limit_is_the_one_the_tuning_filter_shares():
    limits = load_plugin("plugins/plugin_utils/postgresql_limits.py")
    tuning = load_plugin("plugins/filter/postgresql_tuning.py")
    assert tuning.MAX_CONNECTIONS == limits.MAX_CONNECTIONS
    assert check(with_changes(max_connections=limits.MAX_CONNECTIONS)) == []


def test_very_long_values_are_cut_in_messages():
    errors = check(with_changes(hba_entries=[{"address": "10.0.0.0/8", "user": "a b" * 10000}]))
    assert len(errors) == 1
    assert len(errors[0]) < 400


def test_type_errors_come_alone_and_never_show_the_value():
    errors = check(with_changes(port="5432", users=users_with({"name": "airflow", "password": 987654321})))
    assert errors == [
        "postgresql_port: got a string, not an integer; write the number without quotes.",
        "postgresql_users[0].password: got an integer, not a string; quote the value in YAML so that it stays a string.",
    ]


def test_input_that_is_not_a_dict():
    assert check(["port", 5432]) == ["the postgresql_* variables: got a list, not a dict; give a dict."]


def test_a_small_host_may_be_tuned_by_hand():
    assert check(with_changes(host_memory_mb=512, tuning_enabled=False)) == []
    assert check(with_changes(host_memory_mb=512, tuning_memory_mb=1024)) == []


def test_reserved_connections_given_as_text_count():
    errors = check(with_changes(max_connections=5, settings={"superuser_reserved_connections": "5"}))
    assert len(errors) == 1
    assert "superuser_reserved_connections (5)" in errors[0]
    assert errors[0].endswith("use at least 6.")


def test_very_long_setting_names_are_cut_in_messages():
    errors = check(with_changes(settings={"x" * 5000: 1, "y" * 5000 + ".z": 1}))
    assert len(errors) == 2
    assert all(len(message) < 400 for message in errors)
