# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the postgresql role's backup variables (pgBackRest): where the repository is, and what it keeps.

Why a filter: argument specs check types and choices only; the backup settings' relations
(repository host, S3 credentials, paths, schedules) need code and a unit test per case.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_backup_errors
short_description: Problems in the postgresql role's backup variables, one message each
version_added: 0.3.0
author: DataTech platform team
description:
  - Checks the C(postgresql_backup_*) variables when C(postgresql_backup_enabled) is true (and
    nothing otherwise) - a repository that exists and is not this host, S3 settings with their
    credentials, a repository path outside the data directory, retention, the WAL archiving
    bound, the timers' schedules - and returns every problem found, each message naming the
    variable and the fix. An empty list means the input is good.
  - Types come first, and alone when wrong, as in C(datatech.mlops.postgresql_input_errors).
    Messages never show a secret's value.
  - The role calls it in its preflight, before anything changes on the host.
options:
  _input:
    description:
      - The backup variables, under their names without the C(postgresql_backup_) prefix
        (C(enabled), C(repo_type), C(repo_path), C(s3_key_secret), ...).
      - And what the role knows of the inventory and the host, C(host) (this host's inventory name),
        C(data_directory) (the data directory in effect), C(backup_hosts) (the hosts of the inventory's
        C(backup) group) and C(repo_host_in_inventory) (whether C(repo_host) is a host of the inventory).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad backup input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: >-
      {{ {'enabled': true, 'repo_type': 's3', 'repo_path': '/pgbackrest', 's3_endpoint': 's3.ru-1.storage.selcloud.ru',
          'data_directory': '/var/lib/postgresql/15/main'} | datatech.mlops.postgresql_backup_errors }}
"""

RETURN = r"""
_value:
  description: Messages, one per problem; empty when the input is good or backups are off.
  type: list
  elements: str
"""

import re

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import clean_path, collect, type_errors

PREFIX = "postgresql_backup_"
# pgBackRest's stanza names; the name is also a section of pgbackrest.conf and a folder in the repository.
STANZA = re.compile(r"^[A-Za-z0-9_-]+$")
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# A host name or an address, nothing of a URL (scheme, path, credentials, whitespace).
ENDPOINT = re.compile(r"^[A-Za-z0-9_.-]+$")
# pgBackRest's allowed ranges (repo1-retention-*, process-max) and PostgreSQL's archive_timeout (INT_MAX / 2).
RETENTION_MAX = 9999999
PROCESS_MAX = 999
ARCHIVE_TIMEOUT_MAX = 1073741823
SECRETS = ("cipher_passphrase", "s3_key", "s3_key_secret")
# The types of every variable the filter reads; the facts the preflight adds are the role's own.
TYPES = {
    "enabled": bool,
    "stanza": str,
    "repo_type": str,
    "repo_host": str,
    "repo_user": str,
    "repo_path": str,
    "retention_full": int,
    "retention_diff": int,
    "full_schedule": str,
    "diff_schedule": str,
    "archive_timeout": int,
    "compress_type": str,
    "process_max": int,
    "cipher_passphrase": str,
    "s3_endpoint": str,
    "s3_port": int,
    "s3_region": str,
    "s3_bucket": str,
    "s3_key": str,
    "s3_key_secret": str,
    "s3_uri_style": str,
    "s3_ca_file": str,
}


def _one_line_errors(cfg):
    """Every value lands in pgbackrest.conf or a systemd unit, where a line break starts a new setting."""
    return [
        f"{PREFIX}{key}: the value holds a line break or another control character; write it on one line."
        for key, kind in TYPES.items()
        if kind is str and key != "stanza" and not str(cfg.get(key) or "").isprintable()
    ]


def _stanza_errors(cfg):
    stanza = cfg.get("stanza", "main")
    if STANZA.fullmatch(stanza):
        return []
    return [
        (
            f"{PREFIX}stanza: {stanza[:80]!r} is not a stanza name pgBackRest accepts; "
            "use letters, digits, '-' and '_' only (e.g. main)."
        )
    ]


def _repo_host_errors(cfg):
    """Repository-host mode: a host of the inventory (the role sets it up over SSH), not this one."""
    if cfg.get("repo_type", "host") != "host":
        return []
    named = cfg.get("repo_host") or ""
    backup_hosts = cfg.get("backup_hosts") or []
    this = cfg.get("host")
    if not named and not backup_hosts:
        return [
            (
                f"{PREFIX}repo_host is empty and the inventory has no backup group (or it is empty), so backups have "
                "nowhere to go; add the repository host to a group named backup in the inventory (or name it in "
                f"{PREFIX}repo_host), or set {PREFIX}repo_type: s3 with the {PREFIX}s3_* settings."
            )
        ]
    if named and not cfg.get("repo_host_in_inventory", False):
        return [
            (
                f"{PREFIX}repo_host: {named[:80]!r} is not a host of this inventory; the role sets the repository "
                "host up over SSH, so add it to the inventory (in the backup group), or leave it empty for the "
                "backup group's first host."
            )
        ]
    if (named or backup_hosts[0]) == this:
        where = (
            f"{PREFIX}repo_host names" if named else f"{PREFIX}repo_host is empty and the backup group's first host is"
        )
        return [
            (
                f"{where} {this!r}, this database host itself: losing it would lose its backups too; "
                f"put the repository on another host (in the backup group), or set {PREFIX}repo_type: s3."
            )
        ]
    return []


def _repo_user_errors(cfg):
    user = cfg.get("repo_user", "pgbackrest")
    if cfg.get("repo_type", "host") != "host" or USER_NAME.fullmatch(user):
        return []
    return [
        (
            f"{PREFIX}repo_user: {user[:80]!r} is not a user name the role can create; use lower-case letters, "
            "digits, '_' and '-', starting with a letter or '_', at most 32 characters (default pgbackrest)."
        )
    ]


def _s3_errors(cfg):
    if cfg.get("repo_type", "host") != "s3":
        return []
    errors = []
    hints = {
        "s3_endpoint": "the store's host name, e.g. s3.ru-1.storage.selcloud.ru or s3.amazonaws.com",
        "s3_bucket": "the bucket, which must exist",
        "s3_region": "the bucket's region, e.g. ru-1 or us-east-1",
    }
    for key, hint in hints.items():
        if not cfg.get(key):
            errors.append(f"{PREFIX}{key} is empty and {PREFIX}repo_type is s3; set it ({hint}).")
    missing = [PREFIX + key for key in ("s3_key", "s3_key_secret") if not cfg.get(key)]
    if missing:
        errors.append(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} empty and {PREFIX}repo_type is s3, "
            "which needs credentials; put the access key and the secret key in your vault "
            f"(e.g. vault_{PREFIX}s3_key and vault_{PREFIX}s3_key_secret) and set both from there."
        )
    endpoint = cfg.get("s3_endpoint") or ""
    if endpoint and not ENDPOINT.fullmatch(endpoint):
        errors.append(
            f"{PREFIX}s3_endpoint: {endpoint[:80]!r} is not a host name; give the host alone "
            f"(e.g. s3.ru-1.storage.selcloud.ru), without https:// or a path, and the port in {PREFIX}s3_port."
        )
    port = cfg.get("s3_port", 443)
    if not 1 <= port <= 65535:
        errors.append(f"{PREFIX}s3_port: {port} is out of range; use a TCP port between 1 and 65535 (default 443).")
    ca_file = cfg.get("s3_ca_file") or ""
    if ca_file and not ca_file.startswith("/"):
        errors.append(
            f"{PREFIX}s3_ca_file: {ca_file[:80]!r} is relative; give the absolute path of the CA certificate "
            "on the controller, or leave it empty to trust the host's CA store."
        )
    return errors


def _inside(path, directory):
    """Whether path is directory or below it; both clean (no trailing slash), so /srv/pg2 is not in /srv/pg."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _repo_path_errors(cfg):
    """Absolute, and never in the data directory (a restore empties it; a base backup would copy itself)."""
    path = cfg.get("repo_path", "/var/lib/pgbackrest") or ""
    if not path:
        return [f"{PREFIX}repo_path is empty; give an absolute path such as /var/lib/pgbackrest."]
    if not path.startswith("/"):
        return [f"{PREFIX}repo_path: {path[:80]!r} is relative; give an absolute path such as /var/lib/pgbackrest."]
    repo = clean_path(path)
    if repo == "/" and cfg.get("repo_type", "host") == "host":
        return [
            (
                f"{PREFIX}repo_path: {path[:80]!r} is the repository host's root folder; "
                "give a folder of its own such as /var/lib/pgbackrest."
            )
        ]
    data = clean_path(cfg.get("data_directory") or "")
    if data.startswith("/") and _inside(repo, data):
        where = "the data directory" if repo == data else "inside the data directory"
        return [
            (
                f"{PREFIX}repo_path: {path[:80]!r} is {where} {data!r}, which a restore empties and a backup copies; "
                "give a path outside it such as /var/lib/pgbackrest."
            )
        ]
    return []


def _count_errors(cfg):
    errors = []
    for key, default, what in (
        ("retention_full", 2, "full backups"),
        ("retention_diff", 6, "differential backups"),
    ):
        value = cfg.get(key, default)
        if value < 1:
            errors.append(
                f"{PREFIX}{key}: {value} would keep no {what} (a retention of zero), and pgBackRest refuses it; "
                f"keep at least 1 (default {default})."
            )
        elif value > RETENTION_MAX:
            errors.append(f"{PREFIX}{key}: {value} is more than pgBackRest allows; use at most {RETENTION_MAX}.")
    timeout = cfg.get("archive_timeout", 60)
    if timeout < 1:
        errors.append(
            f"{PREFIX}archive_timeout: {timeout} turns archive_timeout off, and then the last changes wait for a "
            "full WAL segment before they are archived (no bound on the data lost with the server); "
            "use at least 1 second (default 60)."
        )
    elif timeout > ARCHIVE_TIMEOUT_MAX:
        errors.append(
            f"{PREFIX}archive_timeout: {timeout} is more than PostgreSQL allows; use at most {ARCHIVE_TIMEOUT_MAX} "
            "(default 60)."
        )
    processes = cfg.get("process_max", 2)
    if not 1 <= processes <= PROCESS_MAX:
        errors.append(
            f"{PREFIX}process_max: {processes} is out of range; pgBackRest takes 1 to {PROCESS_MAX} processes (default 2)."
        )
    return errors


def _schedule_errors(cfg):
    return [
        f"{PREFIX}{key} is empty, so the {what} backup would never run; give a systemd OnCalendar expression "
        f"such as {example!r}."
        for key, what, example in (
            ("full_schedule", "full", "Sun *-*-* 01:00:00"),
            ("diff_schedule", "differential", "Mon..Sat *-*-* 01:00:00"),
        )
        if not str(cfg.get(key, example)).strip()
    ]


CHECKS = (
    _one_line_errors,
    _stanza_errors,
    _repo_host_errors,
    _repo_user_errors,
    _s3_errors,
    _repo_path_errors,
    _count_errors,
    _schedule_errors,
)


def postgresql_backup_errors(cfg):
    """Return every problem in the backup variables, one message each; none while backups are off."""
    enabled = {"enabled": cfg.get("enabled", False)} if isinstance(cfg, dict) else cfg
    errors = type_errors({"enabled": bool}, enabled, PREFIX)
    if errors or not cfg["enabled"]:
        return errors
    return type_errors(TYPES, cfg, PREFIX) or collect(CHECKS, cfg)


class FilterModule:
    def filters(self):
        return {"postgresql_backup_errors": postgresql_backup_errors}
