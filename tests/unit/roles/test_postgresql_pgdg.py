"""The PostgreSQL project's apt repository as the role writes it (tests cannot reach it)."""

from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
import yaml

ROLE = Path(__file__).resolve().parents[3] / "roles" / "postgresql"


def render(release: str) -> dict[str, str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROLE / "templates"), undefined=jinja2.StrictUndefined)
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    text = env.get_template("pgdg.sources.j2").render(
        ansible_managed="Ansible managed",
        ansible_facts={"distribution_release": release},
        **defaults,
    )
    fields = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.split(":", 1)
            fields[key] = value.strip()
    return fields


@pytest.mark.parametrize("release", ["bookworm", "trixie", "jammy", "noble"])
def test_source_is_deb822_for_the_release(release):
    fields = render(release)
    assert fields == {
        "Types": "deb",
        "URIs": "https://apt.postgresql.org/pub/repos/apt",
        "Suites": f"{release}-pgdg",
        "Components": "main",
        "Signed-By": "/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc",
    }


def test_source_trusts_the_key_the_role_downloads():
    tasks = yaml.safe_load((ROLE / "tasks" / "pgdg_repository.yml").read_text())
    key_dest = next(t["ansible.builtin.get_url"]["dest"] for t in tasks if "ansible.builtin.get_url" in t)
    assert render("bookworm")["Signed-By"] == key_dest


def test_key_is_the_projects_published_key():
    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    assert defaults["postgresql_pgdg_key_url"] == "https://www.postgresql.org/media/keys/ACCC4CF8.asc"
