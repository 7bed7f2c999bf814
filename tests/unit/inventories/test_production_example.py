"""The production example inventory resolves every role variable from group_vars and vault,
and holds no plaintext secret."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from inventory_resolver import resolve_with_example_vault

ROOT = Path(__file__).resolve().parents[3]
INVENTORY = ROOT / "inventories" / "production"


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    """The variables as each host sees them, resolved by ansible-playbook with the vault."""
    return resolve_with_example_vault(INVENTORY, tmp_path_factory.mktemp("inventory"))


def test_both_hosts_resolve(resolved):
    assert set(resolved) == {"db01", "air01"}


def test_pg_hba_is_computed_from_the_airflow_group(resolved):
    entries = [(entry["address"], entry["user"], entry["database"]) for entry in resolved["db01"]["hba"]]
    assert entries == [
        ("10.20.0.20/32", "airflow", "airflow"),
        ("10.20.0.20/32", "mlops", "mlfeatures"),
        ("10.20.0.20/32", "mlflow", "mlflow,mlflow_auth"),
        ("10.20.0.0/24", "analyst", "mlfeatures"),
        ("10.20.0.0/24", "+team_forecasting", "mlfeatures"),
    ]
    assert resolved["air01"]["airflow_db_host"] == "10.20.0.10"


def test_secrets_come_from_the_vault(resolved):
    assert resolved["db01"]["db_password"] == "example-airflow-db-password-change-me"
    assert resolved["air01"]["airflow_db_password"] == resolved["db01"]["db_password"]


def test_features_connection_is_db01_without_a_replica(resolved):
    assert resolved["air01"]["connection_hosts"] == {
        "mlops_db": "10.20.0.10",
        "mlops_features": "10.20.0.10",
        "mlops_mlflow": "10.20.0.20",
    }
    assert resolved["air01"]["variables"]["mlops_features_conn_id"] == "mlops_features"


def test_features_connection_follows_a_replica_added_to_the_inventory(tmp_path):
    replica = tmp_path / "replica.yml"
    replica.write_text(
        "all:\n  children:\n    db:\n      hosts:\n        db02:\n"
        "          ansible_host: 10.20.0.11\n          postgresql_replication_primary: db01\n"
    )
    resolved = resolve_with_example_vault(INVENTORY, tmp_path, "-i", str(replica))
    assert resolved["air01"]["connection_hosts"] == {
        "mlops_db": "10.20.0.10",
        "mlops_features": "10.20.0.11",
        "mlops_mlflow": "10.20.0.20",
    }


def test_no_plaintext_secret_outside_the_vault():
    for path in INVENTORY.rglob("*.yml"):
        text = path.read_text()
        if text.startswith("$ANSIBLE_VAULT"):
            continue
        for line in text.splitlines():
            match = re.match(r"\s*-?\s*\w*password\w*:\s*(.+)", line)
            if match:
                assert match.group(1).strip().startswith('"{{'), f"{path}: {line.strip()}"
