"""tools/gpu_flavor.py: a GPU is a PCI passthrough alias with a count, or a vGPU resource, in the
flavour's extra specs; names and traits are not (tests/unit/fixtures/gpu_flavors.yml; the same
cases run through terraform/gpu.tf in tests/infra)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CASES = yaml.safe_load((ROOT / "tests" / "unit" / "fixtures" / "gpu_flavors.yml").read_text())

spec = importlib.util.spec_from_file_location("gpu_flavor", ROOT / "tools" / "gpu_flavor.py")
gpu_flavor = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_flavor)


@pytest.mark.parametrize("case", CASES["gpu"], ids=lambda case: case["name"])
def test_gpu_flavors_are_recognised(case):
    assert gpu_flavor.flavor_has_gpu(case["extra_specs"]), case


@pytest.mark.parametrize("case", CASES["not_gpu"], ids=lambda case: case["name"])
def test_flavors_without_a_gpu_resource_are_refused(case):
    assert not gpu_flavor.flavor_has_gpu(case["extra_specs"]), case


def test_the_false_positives_of_the_old_substring_rule_are_refused():
    """The rule it replaces: "(?i)(gpu|pci_passthrough)" anywhere in "key=value"."""
    assert not gpu_flavor.flavor_has_gpu({"trait:CUSTOM_GPU": "forbidden"})
    names = {case["name"] for case in CASES["not_gpu"]}
    assert {"cpu-only-nogpu", "GL1.8-65536-1GPU-reserved"} <= names


def test_gpu_requests_say_what_was_found():
    specs = {"pci_passthrough:alias": "nic:0,a100:2", "resources1:VGPU": "1", "trait:CUSTOM_GPU": "required"}
    assert gpu_flavor.gpu_requests(specs) == ["a100:2", "resources1:VGPU=1"]


def test_every_case_says_where_it_comes_from():
    """Made-up cases say so; a real name names the page it was read from (no invented catalogue)."""
    for case in CASES["gpu"] + CASES["not_gpu"]:
        assert case["source"] == "constructed" or case["source"].startswith("https://"), case
    for case in CASES["catalogue_names"]:
        assert case["source"].startswith("https://"), case
        assert isinstance(case["gpu"], bool), case


@pytest.mark.parametrize("case", CASES["catalogue_names"], ids=lambda case: case["name"])
def test_a_real_gpu_name_without_extra_specs_is_not_taken_for_a_gpu(case):
    """Real names, specs unpublished: the function reads specs only, so even a GPU flavour's name
    proves nothing without them (terraform/gpu.tf then needs gpu_extra_spec_check or the specs)."""
    assert not gpu_flavor.flavor_has_gpu({})
    assert gpu_flavor.gpu_requests({"name": case["name"]}) == []
