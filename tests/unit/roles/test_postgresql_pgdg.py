"""The PostgreSQL project's apt repository as the role adds it (tests cannot reach it; the
gpuless scenario runs the same apt_repository.yml against Debian's own mirror)."""

from __future__ import annotations

import pytest
from test_postgresql_gpu_files import repository


@pytest.mark.parametrize(
    ("os_key", "release"), [("Debian-12", "bookworm"), ("Debian-13", "trixie"), ("Ubuntu-24", "noble")]
)
def test_repository_for_the_release(os_key, release):
    assert repository("install.yml", os_key) == {
        "name": "pgdg",
        "uris": "https://apt.postgresql.org/pub/repos/apt",
        "suites": f"{release}-pgdg",
        "components": ["main"],
        "signed_by": "https://www.postgresql.org/media/keys/ACCC4CF8.asc",
    }
