# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.postgresql_backup_errors filter."""

from __future__ import annotations

import copy

import pytest
import yaml
from plugin_loader import ROOT, load_plugin

plugin = load_plugin("plugins/filter/postgresql_backup_errors.py")
check = plugin.FilterModule().filters()["postgresql_backup_errors"]

SECRET = "backup-test-secret-5c1e"

# Repository-host mode with the role's defaults: db01 backs up to the backup group's backup01.
GOOD = {
    "enabled": True,
    "stanza": "main",
    "repo_type": "host",
    "repo_host": "",
    "repo_user": "pgbackrest",
    "repo_path": "/var/lib/pgbackrest",
    "retention_full": 2,
    "retention_diff": 6,
    "full_schedule": "Sun *-*-* 01:00:00",
    "diff_schedule": "Mon..Sat *-*-* 01:00:00",
    "archive_timeout": 60,
    "compress_type": "lz4",
    "process_max": 2,
    "cipher_passphrase": "",
    "s3_endpoint": "",
    "s3_port": 443,
    "s3_region": "",
    "s3_bucket": "",
    "s3_key": "",
    "s3_key_secret": "",
    "s3_uri_style": "host",
    "s3_ca_file": "",
    "host": "db01",
    "data_directory": "/var/lib/postgresql/15/main",
    "backup_hosts": ["backup01"],
    "repo_host_in_inventory": False,
}

# An S3-compatible store (Selectel's), encrypted, with no backup group in the inventory.
GOOD_S3 = {
    **GOOD,
    "repo_type": "s3",
    "repo_path": "/db01",
    "cipher_passphrase": SECRET,
    "s3_endpoint": "s3.ru-1.storage.selcloud.ru",
    "s3_region": "ru-1",
    "s3_bucket": "mlops-backups",
    "s3_key": "backup-test-key",
    "s3_key_secret": SECRET,
    "backup_hosts": [],
}


def with_changes(base=None, **changes):
    cfg = copy.deepcopy(GOOD if base is None else base)
    cfg.update(changes)
    return cfg


def test_defaults_match_the_role():
    """GOOD is the role's defaults (plus an enabled switch): the tests check what users get, and
    every variable the filter reads is one the role declares."""
    defaults = yaml.safe_load((ROOT / "roles/postgresql/defaults/main.yml").read_text())
    backup = {
        key.removeprefix(plugin.PREFIX): value for key, value in defaults.items() if key.startswith(plugin.PREFIX)
    }
    assert set(plugin.TYPES) <= set(backup)
    assert {key: backup[key] for key in plugin.TYPES} | {"enabled": True} == {key: GOOD[key] for key in plugin.TYPES}


def test_backups_off_check_nothing():
    assert check(with_changes(enabled=False, backup_hosts=[], retention_full=0, repo_path="relative")) == []


@pytest.mark.parametrize(
    "cfg",
    [
        GOOD,
        GOOD_S3,
        with_changes(repo_host="backup02", repo_host_in_inventory=True),
        with_changes(repo_host="backup02", repo_host_in_inventory=True, backup_hosts=[]),
        # db01 is in the backup group, but not its first host: backup01 keeps the repository.
        with_changes(backup_hosts=["backup01", "db01"]),
        # Prefix traps: pgsql2 is not in pgsql, nor /var/lib/pgsql in /var/lib/pgsql2.
        with_changes(data_directory="/var/lib/pgsql", repo_path="/var/lib/pgsql2"),
        with_changes(data_directory="/var/lib/pgsql/", repo_path="/var/lib/pgsql2/"),
        with_changes(data_directory="/var/lib/pgsql2", repo_path="/var/lib/pgsql"),
        with_changes(data_directory="/srv/postgresql/main", repo_path="/srv/postgresql/main-backups"),
        with_changes(GOOD_S3, repo_path="/"),
        with_changes(GOOD_S3, cipher_passphrase="", s3_port=9000, s3_uri_style="path", s3_endpoint="127.0.0.1"),
        with_changes(GOOD_S3, s3_ca_file="/etc/mlops/s3-ca.crt", s3_endpoint="minio.internal"),
        # A named repository host of another type is not needed: S3 ignores it.
        with_changes(GOOD_S3, repo_host="db01"),
        with_changes(retention_full=1, retention_diff=1, archive_timeout=1, process_max=1, stanza="db01-Main_2"),
    ],
    ids=lambda cfg: f"{cfg['repo_type']}-{cfg['repo_path']}-{cfg['repo_host'] or cfg['backup_hosts']}",
)
def test_good_configurations_pass(cfg):
    assert check(cfg) == []


# Each case: the changed input, the variable the message must name, a phrase of the fix.
CASES = {
    # --- a repository host that exists and is another host ----------------------------------
    "no-repository": (
        {"backup_hosts": []},
        "postgresql_backup_repo_host is empty and the inventory has no backup group",
        "add the repository host to a group named backup",
    ),
    "no-backup-group-key": (
        {"backup_hosts": None},
        "postgresql_backup_repo_host is empty and the inventory has no backup group",
        "postgresql_backup_repo_type: s3",
    ),
    "repo-host-not-in-inventory": (
        {"repo_host": "backup99", "repo_host_in_inventory": False},
        "postgresql_backup_repo_host: 'backup99' is not a host of this inventory",
        "add it to the inventory",
    ),
    "repo-host-is-this-host": (
        {"repo_host": "db01", "repo_host_in_inventory": True},
        "postgresql_backup_repo_host names 'db01', this database host itself",
        "put the repository on another host",
    ),
    "backup-group-first-is-this-host": (
        {"backup_hosts": ["db01", "backup01"]},
        "the backup group's first host is 'db01', this database host itself",
        "another host",
    ),
    "repo-user": ({"repo_user": "PG Backrest"}, "postgresql_backup_repo_user: 'PG Backrest'", "lower-case letters"),
    # --- S3: where, and the credentials ---------------------------------------------------------
    "s3-no-endpoint": (
        {**GOOD_S3, "s3_endpoint": ""},
        "postgresql_backup_s3_endpoint is empty and postgresql_backup_repo_type is s3",
        "s3.ru-1.storage.selcloud.ru",
    ),
    "s3-no-bucket": ({**GOOD_S3, "s3_bucket": ""}, "postgresql_backup_s3_bucket is empty", "the bucket"),
    "s3-no-region": ({**GOOD_S3, "s3_region": ""}, "postgresql_backup_s3_region is empty", "ru-1"),
    "s3-no-credentials": (
        {**GOOD_S3, "s3_key": "", "s3_key_secret": ""},
        "postgresql_backup_s3_key and postgresql_backup_s3_key_secret are empty",
        "put the access key and the secret key in your vault",
    ),
    "s3-no-key-secret": (
        {**GOOD_S3, "s3_key_secret": ""},
        "postgresql_backup_s3_key_secret is empty and postgresql_backup_repo_type is s3, which needs credentials",
        "vault_postgresql_backup_s3_key_secret",
    ),
    "s3-no-key": ({**GOOD_S3, "s3_key": ""}, "postgresql_backup_s3_key is empty", "credentials"),
    "s3-endpoint-url": (
        {**GOOD_S3, "s3_endpoint": "https://s3.ru-1.storage.selcloud.ru"},
        "postgresql_backup_s3_endpoint: 'https://s3.ru-1.storage.selcloud.ru' is not a host name",
        "without https://",
    ),
    "s3-endpoint-with-port": (
        {**GOOD_S3, "s3_endpoint": "minio:9000"},
        "postgresql_backup_s3_endpoint: 'minio:9000' is not a host name",
        "postgresql_backup_s3_port",
    ),
    "s3-port-zero": ({**GOOD_S3, "s3_port": 0}, "postgresql_backup_s3_port: 0 is out of range", "between 1 and 65535"),
    "s3-port-high": (
        {**GOOD_S3, "s3_port": 65536},
        "postgresql_backup_s3_port: 65536 is out of range",
        "between 1 and 65535",
    ),
    "s3-ca-file-relative": (
        {**GOOD_S3, "s3_ca_file": "files/ca.crt"},
        "postgresql_backup_s3_ca_file: 'files/ca.crt' is relative",
        "absolute path",
    ),
    # --- the repository's path -----------------------------------------------------------------
    "repo-path-relative": (
        {"repo_path": "pgbackrest"},
        "postgresql_backup_repo_path: 'pgbackrest' is relative",
        "absolute",
    ),
    "repo-path-empty": ({"repo_path": ""}, "postgresql_backup_repo_path is empty", "/var/lib/pgbackrest"),
    "repo-path-root-on-host": (
        {"repo_path": "/"},
        "postgresql_backup_repo_path: '/' is the repository host's root",
        "own",
    ),
    "repo-path-is-data-directory": (
        {"repo_path": "/var/lib/postgresql/15/main"},
        "postgresql_backup_repo_path: '/var/lib/postgresql/15/main' is the data directory",
        "outside it",
    ),
    "repo-path-in-data-directory": (
        {"repo_path": "/var/lib/postgresql/15/main/pgbackrest"},
        "is inside the data directory '/var/lib/postgresql/15/main'",
        "outside it",
    ),
    "repo-path-data-directory-trailing-slash": (
        {"repo_path": "/var/lib/pgsql/", "data_directory": "/var/lib/pgsql"},
        "postgresql_backup_repo_path: '/var/lib/pgsql/' is the data directory '/var/lib/pgsql'",
        "outside it",
    ),
    "repo-path-in-data-directory-with-trailing-slash": (
        {"repo_path": "/var/lib/pgsql/backups", "data_directory": "/var/lib/pgsql/"},
        "is inside the data directory '/var/lib/pgsql'",
        "outside it",
    ),
    "repo-path-in-data-directory-unclean": (
        {"repo_path": "/var/lib/other/../pgsql//repo", "data_directory": "/var/lib/pgsql"},
        "is inside the data directory",
        "outside it",
    ),
    "s3-repo-path-in-data-directory": (
        {**GOOD_S3, "repo_path": "/var/lib/postgresql/15/main/repo"},
        "is inside the data directory",
        "outside it",
    ),
    "s3-repo-path-relative": (
        {**GOOD_S3, "repo_path": "db01"},
        "postgresql_backup_repo_path: 'db01' is relative",
        "absolute",
    ),
    # --- what the repository keeps, and how fast WAL gets there --------------------------------
    "retention-full-zero": (
        {"retention_full": 0},
        "postgresql_backup_retention_full: 0 would keep no full backups (a retention of zero)",
        "keep at least 1",
    ),
    "retention-diff-zero": (
        {"retention_diff": 0},
        "postgresql_backup_retention_diff: 0 would keep no differential backups (a retention of zero)",
        "keep at least 1",
    ),
    "retention-full-negative": ({"retention_full": -1}, "postgresql_backup_retention_full: -1", "at least 1"),
    "retention-too-many": (
        {"retention_diff": 10000000},
        "postgresql_backup_retention_diff: 10000000",
        "at most 9999999",
    ),
    "archive-timeout-zero": (
        {"archive_timeout": 0},
        "postgresql_backup_archive_timeout: 0 turns archive_timeout off",
        "at least 1 second",
    ),
    "archive-timeout-huge": ({"archive_timeout": 2**31}, "postgresql_backup_archive_timeout", "at most 1073741823"),
    "process-max-zero": ({"process_max": 0}, "postgresql_backup_process_max: 0 is out of range", "1 to 999"),
    "process-max-high": ({"process_max": 1000}, "postgresql_backup_process_max: 1000 is out of range", "1 to 999"),
    # --- names and schedules -------------------------------------------------------------------
    "stanza-with-space": ({"stanza": "db 01"}, "postgresql_backup_stanza: 'db 01'", "letters, digits, '-' and '_'"),
    "stanza-with-dot": ({"stanza": "db01.main"}, "postgresql_backup_stanza: 'db01.main'", "e.g. main"),
    "stanza-empty": ({"stanza": ""}, "postgresql_backup_stanza: ''", "letters"),
    "stanza-trailing-newline": ({"stanza": "main\n"}, "postgresql_backup_stanza: 'main\\n'", "letters"),
    "full-schedule-empty": (
        {"full_schedule": ""},
        "postgresql_backup_full_schedule is empty, so the full backup would never run",
        "OnCalendar",
    ),
    "diff-schedule-blank": (
        {"diff_schedule": "  "},
        "postgresql_backup_diff_schedule is empty, so the differential backup would never run",
        "Mon..Sat",
    ),
    "schedule-line-break": (
        {"full_schedule": "Sun *-*-* 01:00:00\nExecStart=/bin/sh"},
        "postgresql_backup_full_schedule: the value holds a line break",
        "one line",
    ),
    "secret-line-break": (
        {**GOOD_S3, "s3_key_secret": "abc\nrepo1-path=/"},
        "postgresql_backup_s3_key_secret: the value holds a line break",
        "one line",
    ),
    # --- types first ---------------------------------------------------------------------------
    "enabled-a-string": ({"enabled": "yes"}, "postgresql_backup_enabled: got a string", "true or false"),
    "retention-a-string": ({"retention_full": "2"}, "postgresql_backup_retention_full: got a string", "without quotes"),
    "port-a-string": ({**GOOD_S3, "s3_port": "443"}, "postgresql_backup_s3_port: got a string", "without quotes"),
    "passphrase-a-number": (
        {"cipher_passphrase": 12345},
        "postgresql_backup_cipher_passphrase: got an integer",
        "quote",
    ),
}


@pytest.mark.parametrize(("changes", "variable", "fix"), CASES.values(), ids=CASES.keys())
def test_refused_with_variable_and_fix(changes, variable, fix):
    errors = check(with_changes(**changes))
    assert len(errors) == 1, errors
    assert variable in errors[0]
    assert fix in errors[0]


def test_every_problem_is_reported_at_once():
    errors = check(
        with_changes(GOOD_S3, s3_key="", s3_bucket="", retention_full=0, repo_path="/var/lib/postgresql/15/main")
    )
    assert [error.split(" ", 1)[0].rstrip(":") for error in errors] == [
        "postgresql_backup_s3_bucket",
        "postgresql_backup_s3_key",
        "postgresql_backup_repo_path",
        "postgresql_backup_retention_full",
    ]


def test_messages_never_show_a_secret():
    errors = check(with_changes(GOOD_S3, s3_key_secret=SECRET + "\n", cipher_passphrase=123, s3_key=SECRET + "\t"))
    assert errors
    assert all(SECRET not in error and "123" not in error for error in errors)
    errors = check(with_changes(GOOD_S3, s3_key_secret=SECRET + "\n", s3_key=SECRET + "\t"))
    assert len(errors) == 2
    assert all(SECRET not in error for error in errors)


def test_not_a_dict():
    (message,) = check(["enabled"])
    assert message.startswith("the postgresql_backup_* variables: got a list, not a dict")
