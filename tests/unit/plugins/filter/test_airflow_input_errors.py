# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.airflow_input_errors filter."""

from __future__ import annotations

import base64
import copy
import os

import pytest
from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/airflow_input_errors.py")
check = plugin.FilterModule().filters()["airflow_input_errors"]

GOOD = {
    "version": "3.1.3",
    "db_host": "db01",
    "db_port": 5432,
    "db_password": "secret",
    "fernet_key": base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "api_port": 8080,
    "scheduler_health_port": 8974,
    "home": "/opt/airflow",
    "dags_folder": "/opt/airflow/dags",
    "logs_folder": "/var/log/airflow",
    "dags_source": "",
    "parallelism": 8,
    "connections": [{"conn_id": "mlops_db", "conn_type": "postgres"}],
    "pools": [{"name": "training", "slots": 2}],
    "config": {"scheduler": {"min_file_process_interval": 30}},
}


def with_changes(**changes):
    cfg = copy.deepcopy(GOOD)
    cfg.update(changes)
    return cfg


def test_good_input_has_no_errors(tmp_path):
    assert check(with_changes(dags_source=str(tmp_path))) == []


CASES = {
    "airflow-2": ({"version": "2.10.5"}, "airflow_version", "3.X.Y"),
    "version-garbage": ({"version": "latest"}, "airflow_version", "3.X.Y"),
    "no-db-password": ({"db_password": ""}, "airflow_db_password", "vault"),
    "db-port": ({"db_port": 0}, "airflow_db_port", "between 1 and 65535"),
    "fernet-short": ({"fernet_key": "abc"}, "airflow_fernet_key", "leave it empty"),
    "fernet-not-base64": ({"fernet_key": "!" * 44}, "airflow_fernet_key", "urlsafe_b64encode"),
    "same-port": ({"scheduler_health_port": 8080}, "two services cannot listen on one port", "airflow_api_port"),
    "api-port-range": ({"api_port": 99999}, "airflow_api_port", "between 1 and 65535"),
    "dags-folder-relative": ({"dags_folder": "dags"}, "airflow_dags_folder", "absolute"),
    "home-not-clean": ({"home": "/opt//airflow/"}, "airflow_home", "'/opt/airflow'"),
    "dags-source-missing": ({"dags_source": "/nonexistent/dags"}, "airflow_dags_source", "not a folder"),
    "parallelism-zero": ({"parallelism": 0}, "airflow_parallelism", "at least 1"),
    "conn-id-chars": (
        {"connections": [{"conn_id": "my db", "conn_type": "postgres"}]},
        "airflow_connections[0]",
        "letters",
    ),
    "conn-duplicate": (
        {"connections": [{"conn_id": "a", "conn_type": "http"}, {"conn_id": "a", "conn_type": "http"}]},
        "airflow_connections: 'a'",
        "one entry per conn_id",
    ),
    "pool-slots": ({"pools": [{"name": "p", "slots": -5}]}, "airflow_pools[0]", "-1 (unlimited)"),
    "pool-duplicate": (
        {"pools": [{"name": "p", "slots": 1}, {"name": "p", "slots": 2}]},
        "airflow_pools: 'p'",
        "one entry",
    ),
    "config-not-dict": ({"config": {"core": "x"}}, "airflow_config", "section name holding a dict"),
}


@pytest.mark.parametrize(("changes", "names", "fix"), CASES.values(), ids=CASES.keys())
def test_each_problem_is_named_with_its_fix(changes, names, fix):
    errors = check(with_changes(**changes))
    assert len(errors) == 1, errors
    assert names in errors[0]
    assert fix in errors[0]


def test_messages_never_contain_secrets():
    cfg = with_changes(fernet_key="not-a-key-s3cret", db_port=0)
    assert all("s3cret" not in message for message in check(cfg))
