"""Unit tests for the shared input-check helpers."""

from __future__ import annotations

from plugin_loader import load_plugin

helpers = load_plugin("plugins/plugin_utils/input_checks.py")


def test_duplicates_are_reported_once_in_first_seen_order():
    assert helpers.duplicates(["a", "b", "a", "c", "b", "a"]) == ["a", "b"]


def test_no_duplicates():
    assert helpers.duplicates(iter(["a", "b"])) == []


def test_collect_runs_every_check_in_order():
    checks = (lambda cfg: [f"first {cfg}"], lambda cfg: [], lambda cfg: ["third", "fourth"])
    assert helpers.collect(checks, 1) == ["first 1", "third", "fourth"]


SPEC = {"port": int, "names": [str], "entries": [{"name": str, "on": bool}], "extra": dict}


def test_type_errors_name_each_value_where_the_user_wrote_it():
    cfg = {"port": "5432", "names": ["a", 1], "entries": [{"name": "x", "on": "yes"}, "y"], "extra": None}
    assert helpers.type_errors(SPEC, cfg, "role_") == [
        "role_port: got a string, not an integer; write the number without quotes.",
        "role_names[1]: got an integer, not a string; quote the value in YAML so that it stays a string.",
        "role_entries[0].on: got a string, not true or false; write true or false without quotes.",
        "role_entries[1]: got a string, not a dict; give a dict.",
        "role_extra: got null, not a dict; give a dict, or leave the variable out to get the default.",
    ]


def test_type_errors_accept_the_right_kinds_and_skip_absent_keys():
    assert helpers.type_errors(SPEC, {"port": 1, "names": (), "entries": [{}]}, "role_") == []


def test_a_boolean_is_not_an_integer():
    assert not helpers.has_kind(True, int)
    assert helpers.has_kind(False, bool)


def test_clean_path_also_folds_a_leading_double_slash():
    assert helpers.clean_path("//etc/") == "/etc"
    assert helpers.clean_path("/opt/./airflow/../x") == "/opt/x"
    assert helpers.clean_path("/") == "/"
