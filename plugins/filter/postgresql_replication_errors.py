# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the postgresql role's streaming replication variables, against the inventory and the primary.

Why a filter: the checks read the primary's variables and preflight facts on another host;
no module checks a replication layout, and each case has a unit test.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_replication_errors
short_description: Problems in the postgresql role's replication setup, one message each
version_added: 0.4.0
author: DataTech platform team
description:
  - Checks the C(postgresql_replication_*) variables of one host against the inventory and against
    what the primary's own preflight noted - a primary that is a host of the inventory and not this
    one, no cascading (a primary that is itself a replica, or a replica that others name as their
    primary), the same PostgreSQL major on both sides, valid user and slot names, no slot used by two
    replicas of one primary, no backups on a replica - and returns every problem found, each message
    naming the variable and the fix. An empty list means the input is good.
  - Types come first, and alone when wrong, as in C(datatech.mlops.postgresql_input_errors). Messages
    never show the password.
  - The role calls it in its preflight, before anything changes on any host.
options:
  _input:
    description:
      - The replication variables under their names without the C(postgresql_replication_) prefix
        (C(primary), C(user), C(password), C(slot)), and what the role knows - C(host) (this host's
        inventory name), C(version) (this host's PostgreSQL major), C(backup_enabled),
        C(primary_in_inventory), C(primary_plan) (the primary's noted plan, C(version) and C(primary);
        null when the primary has not run the preflight in this play), C(replicas) (the hosts that name
        this host as their primary) and C(replica_slots) (their slots, in the same order).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a replica of a replica
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('\n') }}"
  vars:
    problems: >-
      {{ {'host': 'db03', 'primary': 'db02', 'user': 'replicator', 'password': '', 'slot': 'db03',
          'version': '15', 'backup_enabled': false, 'primary_in_inventory': true,
          'primary_plan': {'version': '15', 'primary': 'db01'}, 'replicas': [], 'replica_slots': []}
         | datatech.mlops.postgresql_replication_errors }}
"""

RETURN = r"""
_value:
  description: Messages, one per problem; empty when the input is good.
  type: list
  elements: str
"""

import re

from ansible_collections.datatech.mlops.plugins.plugin_utils.input_checks import collect, duplicates, type_errors

PREFIX = "postgresql_replication_"
# A role name the role creates (as postgresql_users' names) and PostgreSQL's slot names.
USER_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SLOT_NAME = re.compile(r"^[a-z0-9_]{1,63}$")
TYPES = {
    "host": str,
    "primary": str,
    "user": str,
    "password": str,
    "slot": str,
    "version": str,
    "backup_enabled": bool,
    "primary_in_inventory": bool,
    "replicas": [str],
    "replica_slots": [str],
}


def _is_replica(cfg):
    return bool(cfg.get("primary"))


def _primary_errors(cfg):
    """The primary: a host of the inventory, not this one, itself a primary, of the same major."""
    if not _is_replica(cfg):
        return []
    primary, host = cfg["primary"], cfg.get("host", "")
    if primary == host:
        return [
            (
                f"{PREFIX}primary: {primary!r} is this host itself; a server cannot replicate from itself. "
                "Name the primary's inventory host, or leave it empty to make this host a primary."
            )
        ]
    if not cfg.get("primary_in_inventory", False):
        return [
            (
                f"{PREFIX}primary: {primary[:80]!r} is not a host of this inventory; name the primary by its "
                "inventory host name (it is also the name this host connects to), and add it to the db group."
            )
        ]
    plan = cfg.get("primary_plan")
    if not isinstance(plan, dict):
        return [
            (
                f"{PREFIX}primary: {primary!r} has not run the postgresql role's preflight in this play; run the role "
                f"on the primary and its replicas together (the db group, or --limit {primary},{host}): the primary's "
                "run makes this replica's user, slot and pg_hba entry, and the preflight compares both hosts."
            )
        ]
    errors = []
    upstream = plan.get("primary") or ""
    if upstream == primary:
        errors.append(
            f"{PREFIX}primary: {primary!r} names itself as its own primary, so it is no primary to replicate from; "
            f"fix {PREFIX}primary of {primary!r} first (empty makes it a primary)."
        )
    elif upstream:
        errors.append(
            f"{PREFIX}primary: {primary!r} is itself a replica of {upstream!r}; cascading replication is not "
            f"supported. Name {upstream!r} as this host's primary"
            + (" (a circular setup has no primary at all)." if upstream == host else ".")
        )
    if str(plan.get("version", "")) != cfg.get("version", ""):
        errors.append(
            f"{PREFIX}primary: {primary!r} runs PostgreSQL {plan.get('version')} and this host "
            f"{cfg.get('version')}; a streaming replica needs the same major version. Set postgresql_version "
            "(or the distribution) alike on both hosts."
        )
    return errors


def _cascade_errors(cfg):
    """A replica that others name as their primary would be the middle of a chain."""
    replicas = cfg.get("replicas") or []
    if not _is_replica(cfg) or not replicas:
        return []
    return [
        (
            f"{PREFIX}primary: this host replicates from {cfg['primary']!r} and {', '.join(replicas)} name it as "
            "their primary; cascading replication is not supported. Point them at "
            f"{cfg['primary']!r}, or make this host a primary (empty {PREFIX}primary)."
        )
    ]


def _name_errors(cfg):
    """The user is made on the primary, the slot too; both only matter where replication is set up."""
    if not _is_replica(cfg) and not cfg.get("replicas"):
        return []
    errors = []
    user = cfg.get("user", "replicator")
    if not USER_NAME.fullmatch(user):
        errors.append(
            f"{PREFIX}user: {user[:80]!r} is not a role name the role creates; use lower-case letters, digits and "
            "'_', starting with a letter or '_', at most 63 characters (default replicator)."
        )
    slot = cfg.get("slot", "")
    if _is_replica(cfg) and slot and not SLOT_NAME.fullmatch(slot):
        errors.append(
            f"{PREFIX}slot: {slot[:80]!r} is not a replication slot name; use lower-case letters, digits and '_', "
            "at most 63 characters, or leave it empty for one made from the inventory name."
        )
    if not cfg.get("password", "").isprintable():
        errors.append(
            f"{PREFIX}password: the value holds a line break or another control character; "
            "give a password on one line, or leave it empty to have one generated on the primary."
        )
    return errors


def _slot_errors(cfg):
    """On the primary: two replicas on one slot would take turns and lose WAL."""
    repeated = duplicates(cfg.get("replica_slots") or [])
    if not repeated:
        return []
    return [
        (
            f"{PREFIX}slot: the replicas of this host share the slot(s) {', '.join(repeated)}; each replica needs "
            f"its own. Set a different {PREFIX}slot on each (or leave it empty for one from the inventory name)."
        )
    ]


def _backup_errors(cfg):
    if not _is_replica(cfg) or not cfg.get("backup_enabled", False):
        return []
    return [
        (
            "postgresql_backup_enabled is true on a replica (postgresql_replication_primary is set); the role backs "
            "up primaries only. Turn backups off on this host: the primary's backups hold the same data."
        )
    ]


CHECKS = (_primary_errors, _cascade_errors, _name_errors, _slot_errors, _backup_errors)


def postgresql_replication_errors(cfg):
    """Return every problem in the replication setup of one host, one message each."""
    return type_errors(TYPES, cfg, PREFIX) or collect(CHECKS, cfg)


class FilterModule:
    def filters(self):
        return {"postgresql_replication_errors": postgresql_replication_errors}
