"""Every role declares each public variable once, in meta/argument_specs.yml, with a type
and a description, and its defaults/main.yml agrees with the declared defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def load(role: str, relative: str):
    return yaml.safe_load((ROOT / "roles" / role / relative).read_text()) or {}


def walk(options: dict, prefix: str = ""):
    for name, spec in options.items():
        yield prefix + name, spec
        yield from walk(spec.get("options", {}), prefix + name + ".")


def test_every_role_has_specs():
    assert sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir()) == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_each_option_has_type_and_description(role):
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in walk(options):
        assert spec.get("type"), f"{role}: {name} has no type"
        assert spec.get("description"), f"{role}: {name} has no description"
        if spec.get("type") == "list":
            assert spec.get("elements"), f"{role}: {name} is a list without elements"


@pytest.mark.parametrize("role", ROLES)
def test_public_variables_are_prefixed_and_declared(role):
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults/main.yml")
    assert all(name.startswith(role + "_") for name in options), "unprefixed option"
    assert set(defaults) == set(options), f"defaults and specs differ: {set(defaults) ^ set(options)}"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_the_declared_defaults(role):
    options = load(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = load(role, "defaults/main.yml")
    for name, value in defaults.items():
        if "{{" in str(value):
            # A templated default (it may hold a secret) is documented in the description only:
            # Ansible prints the templated spec when validation fails.
            assert "default" not in options[name], f"{role}: {name} declares a templated default"
            continue
        assert options[name].get("default") == value, f"{role}: default of {name} differs"


@pytest.mark.parametrize("role", ROLES)
def test_internal_variables_use_the_double_underscore_prefix(role):
    internals = load(role, "vars/main.yml") if (ROOT / "roles" / role / "vars" / "main.yml").exists() else {}
    assert all(name.startswith(f"__{role}_") for name in internals)
