# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for datatech.mlops.example_secret_errors, and its list against the example files."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import yaml
from inventory_resolver import EXAMPLE_VAULT_PASSWORD
from plugin_loader import load_plugin

ROOT = Path(__file__).resolve().parents[4]
plugin = load_plugin("plugins/filter/example_secret_errors.py")
check = plugin.FilterModule().filters()["example_secret_errors"]


def published_secrets(tmp_path):
    password = tmp_path / "password"
    password.write_text(EXAMPLE_VAULT_PASSWORD + "\n")
    secrets = []
    # Every vault of the production example (all hosts', and the db group's people).
    for vault in sorted((ROOT / "inventories/production/group_vars").glob("*/vault.yml")):
        text = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-vault"), "view", "--vault-password-file", str(password), vault],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        secrets += yaml.safe_load(text).values()
    example = (ROOT / "inventories/cloud/group_vars/all/vault.yml.example").read_text()
    return [*secrets, *yaml.safe_load(example).values()]


def test_every_published_example_secret_is_listed(tmp_path):
    listed = set(plugin.EXAMPLES_SHA256)
    assert {hashlib.sha256(v.encode()).hexdigest() for v in published_secrets(tmp_path)} == listed


def test_an_example_secret_is_refused_by_its_variable_name(tmp_path):
    (message,) = check({"airflow_db_password": "example-airflow-db-password-change-me", "other": "s3cret-of-my-own"})
    assert message.startswith("airflow_db_password is the example secret published in the production example vault")
    assert "example-airflow-db-password-change-me" not in message


def test_own_secrets_and_non_strings_pass():
    assert check({"a": "my-own-secret", "b": "", "c": None, "d": 12345}) == []
