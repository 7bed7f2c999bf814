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
