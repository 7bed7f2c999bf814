"""The DAGs import the modules beside them (dags/mlops_alerts.py) in air01's layout too.

On air01 the DAG files live in <dags folder>/deployed, a link to the current release, and
Airflow puts only the DAGs folder (the bundle's path) on sys.path. The airflow role writes a
.pth file (tasks/configure.yml) naming deployed/ into the virtualenv's site-packages; here
the same line goes into a site folder that a fresh Python reads with site.addsitedir, and the
DAG folder is parsed as the dag-processor and the task runner do (BundleDagBag).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARSE = """
import site, sys
from pathlib import Path
if sys.argv[2]:
    site.addsitedir(sys.argv[2])
from airflow.dag_processing.dagbag import BundleDagBag
folder = Path(sys.argv[1])
bag = BundleDagBag(dag_folder=str(folder), bundle_path=folder, safe_mode=True)
print(sorted(bag.dag_ids))
print(sorted(str(error).strip().splitlines()[-1] for error in bag.import_errors.values()))
"""


@pytest.fixture
def air01(tmp_path, airflow_db):
    """<tmp>/dags/deployed -> <tmp>/releases/r1 (a copy of dags/), and the role's .pth line."""
    dags, release, site_dir = tmp_path / "dags", tmp_path / "releases" / "r1", tmp_path / "site"
    shutil.copytree(ROOT / "dags", release, ignore=shutil.ignore_patterns("__pycache__"))
    dags.mkdir()
    (dags / "deployed").symlink_to(release)
    site_dir.mkdir()
    (site_dir / "datatech_mlops_dags.pth").write_text(f"{dags / 'deployed'}\n")
    return dags, site_dir


def _parse(dags: Path, site_dir: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PARSE, str(dags), site_dir], capture_output=True, text=True, check=True, cwd="/"
    )
    return result.stdout.splitlines()[-2:]


def test_the_dags_import_their_modules_from_the_deployed_release(air01):
    dags, site_dir = air01
    dag_ids, errors = _parse(dags, str(site_dir))
    assert errors == "[]"
    assert dag_ids == "['example_feature_stats', 'mlops_ingest_customers', 'mlops_train_churn_model']"


def test_without_the_pth_line_they_would_not(air01):
    """What the .pth file is for: Airflow alone does not find mlops_alerts in deployed/."""
    dags = air01[0]
    errors = _parse(dags, "")[1]
    assert "No module named 'mlops_alerts'" in errors


def test_the_import_check_of_a_new_release_imports_that_release_s_modules(air01, tmp_path):
    """roles/airflow/files/check_dag_imports.py: the deployed release is on the path, the new one first."""
    dags, site_dir = air01
    new = tmp_path / "releases" / "r2"
    shutil.copytree(dags / "deployed", new)
    (new / "mlops_alerts.py").write_text('raise ImportError("the new release\'s module")\n')
    check = ROOT / "roles/airflow/files/check_dag_imports.py"
    script = f"import site, sys, runpy; site.addsitedir({str(site_dir)!r}); sys.argv = ['check', {str(new)!r}]; "
    script += f"runpy.run_path({str(check)!r}, run_name='__main__')"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd="/")
    assert result.returncode == 1
    assert "the new release's module" in result.stdout
