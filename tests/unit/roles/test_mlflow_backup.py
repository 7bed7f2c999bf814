"""The mlflow role's archive script (roles/mlflow/files/mlflow_backup.py), run as its
service runs it: a whole archive under the artifacts/ top folder, a damaged one refused,
the oldest archives beyond `keep` removed."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "mlflow" / "files" / "mlflow_backup.py"
backup = runpy.run_path(str(SCRIPT))


def run(tmp_path: Path, source: Path, keep: int) -> Path:
    config = tmp_path / "backup.json"
    config.write_text(json.dumps({"source": str(source), "backup_dir": str(tmp_path / "archives"), "keep": keep}))
    out = subprocess.run([sys.executable, str(SCRIPT), str(config)], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    source = tmp_path / "my artifacts"
    (source / "1" / "run" / "artifacts").mkdir(parents=True)
    (source / "1" / "run" / "artifacts" / "model.pkl").write_bytes(b"\x00model" * 1000)
    (tmp_path / "archives").mkdir()
    return source


def test_archive_holds_every_file_under_artifacts(tmp_path, artifacts):
    archive = run(tmp_path, artifacts, keep=7)
    assert archive.name.startswith("artifacts-") and archive.name.endswith(".tar.gz")
    with tarfile.open(archive) as tar:
        assert tar.extractfile("artifacts/1/run/artifacts/model.pkl").read() == b"\x00model" * 1000
    assert [p.name for p in archive.parent.iterdir()] == [archive.name]  # no partial file left


def test_a_damaged_archive_does_not_read_back(tmp_path, artifacts):
    archive = run(tmp_path, artifacts, keep=7)
    damaged = tmp_path / "damaged.tar.gz"
    damaged.write_bytes(archive.read_bytes()[:-20])
    with pytest.raises((EOFError, OSError, tarfile.TarError)):
        backup["read_back"](str(damaged))


def test_only_the_newest_are_kept(tmp_path, artifacts):
    archives = tmp_path / "archives"
    for stamp in ("20200101T000000Z", "20200102T000000Z", "20200103T000000Z"):
        (archives / f"artifacts-{stamp}.tar.gz").write_bytes(b"old")
    (archives / "unrelated.txt").write_text("kept")
    newest = run(tmp_path, artifacts, keep=2)
    assert sorted(p.name for p in archives.iterdir()) == sorted(
        ["artifacts-20200103T000000Z.tar.gz", newest.name, "unrelated.txt"]
    )
