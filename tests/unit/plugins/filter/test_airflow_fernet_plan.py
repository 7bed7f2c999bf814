# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.airflow_fernet_plan filter (fernet key rotation)."""

from __future__ import annotations

import hashlib

from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/airflow_fernet_plan.py")
plan = plugin.FilterModule().filters()["airflow_fernet_plan"]

OLD = "b" * 43 + "="
NEW = "n" * 43 + "="
OLDER = "o" * 43 + "="


def sha(value):
    return hashlib.sha256(value.encode()).hexdigest()


def test_no_file_and_no_key_given_means_generate():
    assert plan("", "", "") == {"content": "", "rotate": False, "primary_sha256": ""}


def test_no_file_and_a_key_given_starts_with_it_without_rotation():
    assert plan("", NEW, "") == {"content": NEW, "rotate": False, "primary_sha256": sha(NEW)}


def test_the_generated_key_is_kept_when_no_key_is_given():
    assert plan(OLD + "\n", "", "") == {"content": OLD, "rotate": False, "primary_sha256": sha(OLD)}


def test_the_same_key_given_changes_nothing():
    assert plan(OLD, OLD, "") == {"content": OLD, "rotate": False, "primary_sha256": sha(OLD)}


def test_a_new_key_goes_first_and_the_old_stays_until_rotated():
    assert plan(OLD, NEW, "") == {"content": f"{NEW},{OLD}", "rotate": True, "primary_sha256": sha(NEW)}


def test_after_the_rotation_is_recorded_the_old_key_is_dropped():
    assert plan(f"{NEW},{OLD}", NEW, sha(NEW)) == {"content": NEW, "rotate": False, "primary_sha256": sha(NEW)}


def test_an_unfinished_rotation_is_run_again_with_every_key_kept():
    assert plan(f"{NEW},{OLD}", NEW, "") == {"content": f"{NEW},{OLD}", "rotate": True, "primary_sha256": sha(NEW)}


def test_a_record_of_an_older_rotation_does_not_drop_keys():
    assert plan(f"{NEW},{OLD}", NEW, sha(OLD))["content"] == f"{NEW},{OLD}"


def test_a_second_new_key_before_the_first_rotation_finished_keeps_all_three():
    result = plan(f"{NEW},{OLD}", OLDER, "")
    assert result == {"content": f"{OLDER},{NEW},{OLD}", "rotate": True, "primary_sha256": sha(OLDER)}


def test_a_restored_list_without_a_key_given_is_rotated_to_its_first_then_trimmed():
    assert plan(f"{NEW},{OLD}", "", "")["rotate"] is True
    assert plan(f"{NEW},{OLD}", "", sha(NEW)) == {"content": NEW, "rotate": False, "primary_sha256": sha(NEW)}


def test_going_back_to_an_old_key_puts_it_first():
    assert plan(f"{NEW},{OLD}", OLD, sha(NEW)) == {
        "content": f"{OLD},{NEW}",
        "rotate": True,
        "primary_sha256": sha(OLD),
    }


def test_blanks_and_repeats_in_the_file_are_ignored():
    assert plan(f" {OLD} ,,{OLD}\n", "", "")["content"] == OLD
