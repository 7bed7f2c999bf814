"""The ML specialists' pages (docs/ml/): every shell and Python block parses, names only files
of this repository that exist, test stages that exist and DAGs that exist; the checklist
covers the path from a DAG to a registered model."""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ML = ROOT / "docs" / "ml"
PAGES = sorted(ML.glob("*.md"))
# A fenced block, also indented under a list item: its language and its lines.
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>\w+)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.MULTILINE | re.DOTALL
)
# A path into the repository, as a word of its own (not .build/..., not /usr/...).
REPO_PATH = re.compile(
    r"(?<![\w./-])(?:(?:playbooks|dags|scripts|inventories|tools|tests|roles|molecule|docs|ci)/[\w./-]*\w"
    r"|site\.yml|mkdocs\.yml|requirements[\w-]*\.txt)"
)
TEMPLATE_DAG_ID = "team_daily_spend"  # the template of write-a-dag.md (tests/unit/test_dag_template.py)


def blocks(page: Path, *languages: str) -> list[str]:
    out = []
    for match in FENCE.finditer(page.read_text()):
        if match["lang"] in languages:
            indent = len(match["indent"])
            out.append("\n".join(line[indent:] for line in match["body"].splitlines()) + "\n")
    return out


def _ids(pages):
    return [p.name for p in pages]


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_shell_blocks_parse(page):
    for block in blocks(page, "bash", "sh", "shell"):
        result = subprocess.run(["bash", "-n"], input=block, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{page.name}: bash -n refuses\n{block}\n{result.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_python_blocks_compile(page):
    for block in blocks(page, "python"):
        compile(block, f"{page.name} (python block)", "exec")


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_commands_name_only_files_that_exist(page):
    for block in blocks(page, "bash", "sh", "shell"):
        for path in REPO_PATH.findall(block):
            assert (ROOT / path).exists(), f"{page.name}: a command names {path}, which is not in the repository"


def _test_stages() -> set[str]:
    script = (ROOT / "scripts" / "test").read_text()
    return set(re.findall(r"^stage_(\w+)\(\)", script, re.MULTILINE)) | {"molecule"}


def _dag_ids() -> set[str]:
    ids = {TEMPLATE_DAG_ID}
    for path in (ROOT / "dags").glob("*.py"):
        ids |= set(re.findall(r"""(?:dag_id=|DAG_ID = )["'](\w+)["']""", path.read_text()))
    return ids


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_commands_name_stages_and_dags_that_exist(page):
    stages, dags = _test_stages(), _dag_ids()
    for block in blocks(page, "bash", "sh", "shell"):
        for args in re.findall(r"bash scripts/test((?: [\w:-]+)*)", block):
            for stage in args.split():
                name = stage.split(":")[0].replace("-", "_")
                assert name in stages, f"{page.name}: scripts/test has no stage {stage}"
        for dag_id in re.findall(r"dag_id=(\w+)", block):
            assert dag_id in dags, f"{page.name}: no DAG {dag_id} in dags/ (nor the template)"


def test_the_checklist_goes_from_a_dag_to_a_registered_model():
    commands = "".join(blocks(ML / "checklist.md", "bash", "python"))
    steps = [
        "bash scripts/lab",
        "bash scripts/test dags",
        "playbooks/deploy_dags.yml",
        f"dag_id={TEMPLATE_DAG_ID}",
        "dag_id=mlops_train_churn_model",
        "registered-models/alias",
        "mlflow.pyfunc.load_model",
        "bash scripts/lab down",
    ]
    positions = [commands.find(step) for step in steps]
    assert -1 not in positions, dict(zip(steps, positions, strict=True))
    assert positions == sorted(positions), "the checklist's steps are out of order"


def test_the_registered_model_is_the_one_the_training_dag_registers():
    """Where the training DAG names its registered model, the pages load that name."""
    dag = ast.parse((ROOT / "dags" / "mlops_train_churn_model.py").read_text())
    names = [
        node.value.value
        for node in dag.body
        if isinstance(node, ast.Assign)
        and any(getattr(t, "id", "") == "REGISTERED_MODEL" for t in node.targets)
        and isinstance(node.value, ast.Constant)
    ]
    if not names:
        pytest.skip("the training DAG does not register a model in MLflow")
    used = {name for page in PAGES for name in re.findall(r"models:/(\w+)@", page.read_text())}
    assert used == {names[0]}, f"the pages load {used}; the training DAG registers {names[0]}"
