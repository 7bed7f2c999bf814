"""The Python helpers of the scripts: tools/bench_figures.py (the benchmark's arithmetic) and
tools/lab_api.py (bounded polls of the lab's API), and scripts/lib/common.sh's stamp of a
virtualenv's requirements (files included with -r count)."""

from __future__ import annotations

import importlib.util
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_figures = load("bench_figures")
lab_api = load("lab_api")

PLAY_LOG = """\
==> 3/5 lab containers
PLAY RECAP *********************************************************************
localhost                  : ok=4    changed=3    unreachable=0    failed=0    skipped=0
==> 4/5 site.yml
PLAY RECAP *********************************************************************
air01                      : ok=90   changed=2    unreachable=0    failed=0    skipped=12
db01                       : ok=70   changed=1    unreachable=0    failed=0    skipped=30
==> 5/5 a run
PLAY RECAP *********************************************************************
air01                      : ok=5    changed=1    unreachable=0    failed=0    skipped=0
"""


def test_changed_sums_the_recap_lines_between_the_markers(tmp_path):
    log = tmp_path / "lab.log"
    log.write_text(PLAY_LOG)
    assert bench_figures.changed(str(log)) == 7
    assert bench_figures.changed(str(log), "==> 4/5", "==> 5/5") == 3


def test_postgresql_figures_are_medians_and_pair_ratios():
    runs = [
        "stock query_s=2 tps=100",
        "tuned query_s=1 tps=150",
        "tuned query_s=1.2 tps=140",
        "stock query_s=2.2 tps=110",
    ]
    figures = bench_figures.postgresql(runs)
    assert figures["sq"] == pytest.approx(2.1)
    assert figures["tt"] == pytest.approx(145)
    # Pairs: (2/1, 150/100) and (2.2/1.2, 140/110); the median of two is their mean.
    assert figures["query_ratio"] == pytest.approx((2 / 1 + 2.2 / 1.2) / 2)
    assert figures["tps_ratio"] == pytest.approx((1.5 + 140 / 110) / 2)


def test_postgresql_figures_refuse_an_odd_run_count():
    with pytest.raises(ValueError):
        bench_figures.postgresql(["stock query_s=2 tps=100", "tuned query_s=1 tps=150", "stock query_s=2 tps=100"])


def refused():
    raise ConnectionRefusedError("refused")


def test_a_poll_ends_with_a_message_naming_what_did_not_happen():
    start = time.monotonic()
    with pytest.raises(SystemExit, match=r"the thing did not happen within 1 s \(last error: refused\)"):
        lab_api.poll("the thing", refused, 1, 0.1)
    assert time.monotonic() - start < 5


def test_a_poll_returns_the_first_answer():
    answers = iter([None, None, "ready"])
    assert lab_api.poll("the thing", lambda: next(answers), 5, 0.01) == "ready"


def requirements_hash(*args: str) -> str:
    script = f'source "{ROOT}/scripts/lib/common.sh"; requirements_hash "$@"'
    return subprocess.run(
        ["bash", "-c", script, "hash", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def test_the_stamp_covers_included_requirements_files(tmp_path):
    (tmp_path / "base.txt").write_text("ansible==1\n")
    (tmp_path / "top.txt").write_text("-r base.txt\npytest==1\n")
    before = requirements_hash("-r", str(tmp_path / "top.txt"))
    (tmp_path / "base.txt").write_text("ansible==2\n")
    assert requirements_hash("-r", str(tmp_path / "top.txt")) != before
