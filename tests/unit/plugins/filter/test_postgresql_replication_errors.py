# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.postgresql_replication_errors filter."""

from __future__ import annotations

import pytest
from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/postgresql_replication_errors.py")
check = plugin.FilterModule().filters()["postgresql_replication_errors"]

SECRET = "replication-test-secret-7d2a"

# db02 streams from db01, both PostgreSQL 15.
GOOD = {
    "host": "db02",
    "primary": "db01",
    "user": "replicator",
    "password": SECRET,
    "slot": "db02",
    "version": "15",
    "backup_enabled": False,
    "primary_in_inventory": True,
    "primary_plan": {"version": "15", "primary": ""},
    "replicas": [],
    "replica_slots": [],
}

# db01, the primary of two replicas.
GOOD_PRIMARY = {
    **GOOD,
    "host": "db01",
    "primary": "",
    "slot": "",
    "primary_in_inventory": False,
    "primary_plan": None,
    "replicas": ["db02", "db03"],
    "replica_slots": ["db02", "db03"],
    "backup_enabled": True,
}


def errors(**changes):
    return check({**GOOD, **changes})


@pytest.mark.parametrize("cfg", [GOOD, GOOD_PRIMARY, {**GOOD_PRIMARY, "replicas": [], "replica_slots": []}])
def test_good_input_passes(cfg):
    assert check(cfg) == []


def test_a_host_without_replication_checks_nothing_else():
    # A standalone server: the user name is not used, so it is not checked.
    assert check({**GOOD_PRIMARY, "replicas": [], "replica_slots": [], "user": "Bad Name"}) == []


def test_a_replica_naming_itself():
    (message,) = errors(primary="db02")
    assert message.startswith("postgresql_replication_primary: 'db02' is this host itself")


def test_a_primary_not_in_the_inventory():
    (message,) = errors(primary="db09", primary_in_inventory=False)
    assert "'db09' is not a host of this inventory" in message


def test_a_primary_that_did_not_run_the_preflight():
    (message,) = errors(primary_plan=None)
    assert "has not run the postgresql role's preflight in this play" in message
    assert "--limit db01,db02" in message


def test_a_chain_is_refused():
    (message,) = errors(primary_plan={"version": "15", "primary": "db00"})
    assert "'db01' is itself a replica of 'db00'; cascading replication is not supported" in message


def test_a_primary_naming_itself():
    (message,) = errors(primary_plan={"version": "15", "primary": "db01"})
    assert "'db01' names itself as its own primary" in message


def test_a_circle_is_refused():
    (message,) = errors(primary_plan={"version": "15", "primary": "db02"})
    assert "circular" in message


def test_the_middle_of_a_chain_is_refused():
    (message,) = errors(replicas=["db03"], replica_slots=["db03"])
    assert "db03 name it as their primary; cascading replication is not supported" in message


def test_major_versions_differ():
    (message,) = errors(primary_plan={"version": "17", "primary": ""})
    assert "runs PostgreSQL 17 and this host 15" in message


@pytest.mark.parametrize("user", ["", "Replicator", "repl-user", "1repl", "r" * 64])
def test_bad_user_names(user):
    (message,) = errors(user=user)
    assert message.startswith("postgresql_replication_user:")


def test_bad_user_name_on_a_primary():
    (message,) = check({**GOOD_PRIMARY, "user": "bad name"})
    assert message.startswith("postgresql_replication_user:")


@pytest.mark.parametrize("slot", ["db-02", "DB02", "s" * 64, "a b"])
def test_bad_slot_names(slot):
    (message,) = errors(slot=slot)
    assert message.startswith("postgresql_replication_slot:")


def test_an_empty_slot_is_derived_by_the_role():
    assert errors(slot="") == []


def test_a_password_with_a_line_break_is_refused_without_showing_it():
    (message,) = errors(password=SECRET + "\nx")
    assert message.startswith("postgresql_replication_password:")
    assert SECRET not in message


def test_two_replicas_on_one_slot():
    (message,) = check({**GOOD_PRIMARY, "replica_slots": ["shared", "shared"]})
    assert "share the slot(s) shared" in message


def test_backups_on_a_replica():
    (message,) = errors(backup_enabled=True)
    assert message.startswith("postgresql_backup_enabled is true on a replica")


def test_wrong_types_come_alone():
    (message,) = errors(primary=None, slot="BAD")
    assert message.startswith("postgresql_replication_primary: got null")


def test_every_problem_is_reported():
    found = errors(primary_plan={"version": "17", "primary": "db00"}, user="Bad", backup_enabled=True)
    assert len(found) == 4


@pytest.mark.parametrize("value", [None, 0, True, 1.5, "", "x\ny", [], [None], {}, {"a": 1}, "z" * 5000])
@pytest.mark.parametrize("key", sorted(set(GOOD) - {"primary_plan"}))
def test_any_value_gives_messages_not_a_traceback(key, value):
    result = errors(**{key: value})
    assert isinstance(result, list)
    assert all(isinstance(message, str) for message in result)
