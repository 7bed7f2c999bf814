# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.airflow_platform_errors filter (Airflow against its database hosts)."""

from __future__ import annotations

import hashlib

import pytest
from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/airflow_platform_errors.py")
check = plugin.FilterModule().filters()["airflow_platform_errors"]


def sha(value):
    return hashlib.sha256(value.encode()).hexdigest()


CONTRACT = {"port": "5432", "databases": ["airflow", "mlfeatures"], "users": {"airflow": sha("pw"), "analyst": sha("")}}
HOSTS = [{"name": "db01", "aliases": ["10.0.0.5", "db01.internal"], "contract": CONTRACT}]
GOOD = {
    "db_host": "db01",
    "db_port": 5432,
    "db_name": "airflow",
    "db_user": "airflow",
    "db_password_sha256": sha("pw"),
    "db_inventory_group": "db",
}


def run(hosts=None, **changes):
    return check({**GOOD, **changes}, HOSTS if hosts is None else hosts)


def test_a_matching_configuration_passes():
    assert run() == []


@pytest.mark.parametrize("alias", ["10.0.0.5", "DB01.internal", "db01"])
def test_the_host_matches_by_name_or_address(alias):
    assert run(db_host=alias) == []


def test_a_host_outside_the_group_is_refused():
    (message,) = run(db_host="db02")
    assert message.startswith("airflow_db_host: 'db02' is none of the hosts of the inventory group 'db' (db01)")
    assert "airflow_db_inventory_group: ''" in message


def test_an_external_database_is_not_compared():
    assert run(db_host="pg.example.com", db_inventory_group="") == []


def test_a_group_absent_from_the_inventory_has_nothing_to_compare():
    assert run(hosts=[], db_host="pg.example.com") == []


def test_a_port_mismatch_names_both_variables():
    (message,) = run(db_port=5433)
    assert "airflow_db_port: 5433, but db01 runs PostgreSQL on postgresql_port 5432" in message


def test_a_port_given_as_a_string_still_compares():
    assert run(db_port="5432") == []


def test_a_missing_database_and_user_are_refused():
    errors = run(db_name="meta", db_user="scheduler")
    assert any(e.startswith("airflow_db_name: 'meta' is not in postgresql_databases of db01") for e in errors)
    assert any(e.startswith("airflow_db_user: 'scheduler' is not in postgresql_users of db01") for e in errors)


def test_a_password_mismatch_is_refused_without_showing_either():
    (message,) = run(db_password_sha256=sha("other"))
    assert message.startswith(
        "airflow_db_password does not match the password of 'airflow' in postgresql_users of db01"
    )
    assert sha("pw") not in message and sha("other") not in message


def test_a_host_the_postgresql_role_does_not_run_on_is_only_checked_for_membership():
    hosts = [{"name": "db01", "aliases": [], "contract": None}]
    assert run(hosts=hosts, db_port=6543, db_password_sha256=sha("x")) == []
