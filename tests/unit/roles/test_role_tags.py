"""Every tag a role's tasks declare is documented in its argument specs, and only those."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]


def declared_tags(role: str) -> set[str]:
    tags = set()
    for path in (ROOT / "roles" / role / "tasks").glob("*.yml"):
        for line in path.read_text().splitlines():
            match = re.match(r"\s*tags: \[(.*)\]", line)
            if match:
                tags.update(tag.strip() for tag in match.group(1).split(","))
    return tags - {"always"}


def documented_tags(role: str) -> set[str]:
    specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    (line,) = [d for d in specs["argument_specs"]["main"]["description"] if d.startswith("Tags")]
    return set(re.findall(r"C\(([a-z_]+)\)", line))


@pytest.mark.parametrize("role", ["postgresql", "airflow", "mlflow"])
def test_the_documented_tags_are_the_declared_ones(role):
    assert declared_tags(role) == documented_tags(role)
