"""The handbook's DAG template passes the pipeline's lint and works however a run starts."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs/ml/write-a-dag.md"
# Keys a run started with no logical date (run_dag.yml, the REST API, an asset event) lacks.
LOGICAL_DATE_ONLY = re.compile(r"""context\[["'](ds|ds_nodash|ts|ts_nodash|logical_date|data_interval_\w+)["']\]""")


def template() -> str:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.DOTALL)
    assert len(blocks) == 1, f"{PAGE}: expected one python block (the template), found {len(blocks)}"
    return blocks[0]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]])
def test_template_passes_ruff_as_the_pipeline_runs_it(args: list[str]) -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not on PATH (the tool venv's bin)")
    # Named as a file under dags/ so the repository's ruff settings for DAGs apply.
    result = subprocess.run(
        [ruff, *args, "--stdin-filename", str(ROOT / "dags/team_daily_spend.py"), "-"],
        input=template(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [PAGE, *sorted((ROOT / "dags").glob("*.py"))], ids=lambda p: p.name)
def test_no_key_that_runs_without_logical_date_lack(path: Path) -> None:
    text = template() if path == PAGE else path.read_text()
    assert not LOGICAL_DATE_ONLY.search(text), (
        f"{path}: reads a context key that a run with no logical date lacks; derive the batch from "
        "context.get('logical_date') or context['dag_run'].run_after, or key it by run_id"
    )
