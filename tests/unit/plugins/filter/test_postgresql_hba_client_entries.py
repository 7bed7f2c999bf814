# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.postgresql_hba_client_entries filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/postgresql_hba_client_entries.py")
expand = plugin.FilterModule().filters()["postgresql_hba_client_entries"]

GROUPS = {"airflow": ["air01"], "airflow_workers": ["worker01", "air01"], "db": ["db01"]}
HOSTVARS = {
    "air01": {"ansible_host": "192.0.2.10", "ansible_facts": {"default_ipv4": {"address": "10.0.0.10"}}},
    "worker01": {"ansible_host": "192.0.2.11", "ansible_facts": {"default_ipv4": {"address": "10.0.0.11"}}},
    "db01": {"ansible_facts": {}},
}
AIRFLOW = {"groups": ["airflow", "airflow_workers"], "database": "airflow", "user": "airflow"}


def test_one_entry_per_host_from_its_facts_with_the_entries_defaults():
    assert expand([AIRFLOW], GROUPS, HOSTVARS) == [
        {
            "type": "host",
            "database": "airflow",
            "user": "airflow",
            "address": f"10.0.0.{n}/32",
            "method": "scram-sha-256",
            "options": "",
        }
        for n in (10, 11)
    ]


def test_items_in_order_with_their_own_fields():
    items = [
        AIRFLOW,
        {
            "groups": ["airflow"],
            "database": "mlfeatures",
            "user": "mlops",
            "type": "hostssl",
            "options": "clientcert=verify-full",
        },
    ]
    entries = expand(items, GROUPS, HOSTVARS)
    assert [(e["database"], e["address"]) for e in entries] == [
        ("airflow", "10.0.0.10/32"),
        ("airflow", "10.0.0.11/32"),
        ("mlfeatures", "10.0.0.10/32"),
    ]
    assert entries[-1]["type"] == "hostssl" and entries[-1]["options"] == "clientcert=verify-full"


def test_address_from_a_host_variable_and_ipv6():
    hostvars = {**HOSTVARS, "worker01": {"ansible_host": "2001:db8::11"}}
    entries = expand([{**AIRFLOW, "address_variable": "ansible_host"}], GROUPS, hostvars)
    assert [e["address"] for e in entries] == ["192.0.2.10/32", "2001:db8::11/128"]


def test_missing_groups_and_no_items_give_no_entries():
    assert expand([{"groups": ["nonexistent"]}], GROUPS, HOSTVARS) == []
    assert expand([], GROUPS, HOSTVARS) == []


@pytest.mark.parametrize(
    ("item", "hostvars", "expected"),
    [
        (
            {"groups": ["db"]},
            HOSTVARS,
            "postgresql_hba_client_groups[0]: host db01 has no IP address in its facts (default_ipv4.address); gather",
        ),
        (
            {"groups": ["airflow"], "address_variable": "cloud_private_ip"},
            HOSTVARS,
            "host air01 has no IP address in its host variable 'cloud_private_ip'; set cloud_private_ip",
        ),
        (
            {"groups": ["airflow"], "address_variable": "ansible_host"},
            {"air01": {"ansible_host": "air01.example"}},
            "host air01 has no IP address",
        ),
        (
            {"groups": ["airflow"], "user": "airflow\nhost all all 0.0.0.0/0 trust"},
            HOSTVARS,
            "postgresql_hba_client_groups[0]: user 'airflow\\nhost all all 0.0.0.0/0 trust' is not one pg_hba.conf field",
        ),
        ({"groups": ["airflow"], "database": "airflow all"}, HOSTVARS, "database 'airflow all' is not one"),
        ({"groups": ["airflow"], "options": "clientcert=verify-ca # trust"}, HOSTVARS, "are not name=value pairs"),
    ],
    ids=["no-fact", "no-variable", "not-an-ip", "user-newline", "database-space", "options-comment"],
)
def test_refused_naming_the_item_and_the_fix(item, hostvars, expected):
    with pytest.raises(AnsibleFilterError) as error:
        expand([item], GROUPS, hostvars)
    assert expected in str(error.value)


def test_plaintext_type_refused_with_tls():
    with pytest.raises(AnsibleFilterError) as error:
        expand([AIRFLOW], GROUPS, HOSTVARS, tls_enabled=True)
    assert "postgresql_hba_client_groups[0]: type host also admits plaintext" in str(error.value)
    assert expand([{**AIRFLOW, "type": "hostssl"}], GROUPS, HOSTVARS, tls_enabled=True)[0]["type"] == "hostssl"
