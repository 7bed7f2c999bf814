"""The handbook (docs/, mkdocs.yml): its tested commands are what the quickstart stage runs,
README points into it, and the role variable pages are generated, never committed."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


doc_commands = _load("doc_commands", ROOT / "tools" / "doc_commands.py")
hooks = _load("mkdocs_hooks", ROOT / "tools" / "mkdocs_hooks.py")
role_docs = _load("role_docs", ROOT / "tools" / "role_docs.py")

RUN_DAG = "ansible-playbook -i inventories/lab/hosts.yml playbooks/run_dag.yml -e dag_id=example_feature_stats"


def quick_start() -> list[str]:
    return doc_commands.commands(DOCS / "quickstart.md", "quick start")


def stage_commands() -> list[str]:
    """What scripts/lib/quickstart.sh runs, as it reports it without running anything."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "lib" / "quickstart.sh")],
        env={**os.environ, "QUICKSTART_DRY_RUN": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_the_stage_runs_the_quick_start_then_the_backups_and_restores_in_order():
    quick = quick_start()
    backup = doc_commands.commands(DOCS / "operators" / "backup.md", "backup")
    restore = doc_commands.commands(DOCS / "operators" / "backup.md", "restore")
    restore_copy = doc_commands.commands(DOCS / "operators" / "backup.md", "restore from a copy")
    unconfirmed = restore[0].replace(" -e airflow_db_restore_confirm=true", "")
    assert unconfirmed != restore[0]
    assert stage_commands() == [
        *quick[:-1],
        *backup,
        RUN_DAG,
        unconfirmed,
        *restore,
        RUN_DAG,
        *restore_copy,
        RUN_DAG,
        *doc_commands.commands(DOCS / "ml" / "checklist.md", "checklist"),
        *doc_commands.commands(DOCS / "operators" / "mlflow-backup.md", "mlflow backup"),
        *doc_commands.commands(DOCS / "operators" / "mlflow-backup.md", "mlflow restore"),
        quick[-1],
    ]


def test_the_quick_start_is_what_a_new_user_does():
    quick = quick_start()
    assert quick[0] == "bash scripts/lab"
    assert quick[-1] == "bash scripts/lab down"
    assert RUN_DAG in quick
    assert any(c.startswith("curl ") and "127.0.0.1:18080/api/v2/monitor/health" in c for c in quick)
    assert any("psql -h 127.0.0.1 -p 15432" in c and ".build/lab/secrets/" in c for c in quick)
    # The test command runs the quick start: the quick start must not run the test command.
    assert not any(c.startswith("bash scripts/test") for c in quick)


def test_backup_and_restore_use_the_playbooks():
    page = DOCS / "operators" / "backup.md"
    assert any("playbooks/airflow_db_backup.yml" in c for c in doc_commands.commands(page, "backup"))
    assert any("playbooks/airflow_db_restore.yml" in c for c in doc_commands.commands(page, "restore"))
    copies = doc_commands.commands(page, "restore from a copy")
    assert any("airflow_db_restore_local_file=" in c for c in copies)
    # The copy restored is the one the backup block fetched.
    fetch_dir = re.search(r"airflow_db_backup_fetch_dir=(\S+)", " ".join(doc_commands.commands(page, "backup")))
    assert fetch_dir and any(f"airflow_db_restore_local_file={fetch_dir[1]}" in c for c in copies)


def test_mlflow_backup_and_restore_use_the_playbooks_and_the_fetched_copy():
    page = DOCS / "operators" / "mlflow-backup.md"
    backup = " ".join(doc_commands.commands(page, "mlflow backup"))
    restore = " ".join(doc_commands.commands(page, "mlflow restore"))
    assert "playbooks/mlflow_backup.yml" in backup and "playbooks/mlflow_restore.yml" in restore
    fetch_dir = re.search(r"mlflow_backup_fetch_dir=(\S+)", backup)
    assert fetch_dir and f"{fetch_dir[1]}/artifacts-" in restore
    assert "mlflow_restore_confirm=true" in restore and "mlflow_restore_from_controller=true" in restore


def test_doc_commands_reads_only_titled_blocks(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "```bash\nnot me\n```\n"
        '```bash title="t"\n# a comment\n\nfirst --a \\\n  --b\nsecond\n```\n'
        '```bash title="other"\nnot me either\n```\n'
        '    ```bash title="t"\n    third\n    ```\n'
    )
    assert doc_commands.commands(page, "t") == ["first --a --b", "second", "third"]
    assert doc_commands.commands(page, "none") == []


def test_readme_starts_with_the_two_commands_and_links_into_the_handbook():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"^    (bash scripts/\S+)", readme, flags=re.MULTILINE)
    assert commands[:2] == ["bash scripts/lab", "bash scripts/test"]
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    into_docs = [link for link in links if link.startswith("docs/")]
    assert {"docs/quickstart.md", "docs/ml/index.md", "docs/operators/index.md"} <= set(into_docs)
    for link in links:
        if "://" not in link:
            assert (ROOT / link).exists(), f"README links to {link}, which does not exist"


def _nav_pages(items) -> list[str]:
    pages = []
    for item in items:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def test_every_page_is_in_the_nav_and_every_nav_entry_exists():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(config["nav"])
    generated = set(hooks.pages())
    written = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    assert sorted(nav) == sorted(written | generated)


def test_role_variable_pages_are_generated_from_the_specs_and_not_committed():
    pages = hooks.pages()
    roles = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
    assert sorted(pages) == [f"operators/variables/{role}.md" for role in roles]
    for role in roles:
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        page = pages[f"operators/variables/{role}.md"]
        for name in specs["argument_specs"]["main"]["options"]:
            assert f"`{name}`" in page
        assert role_docs.render(ROOT / "roles" / role).split("## Variables", 1)[1] in page
    for path in DOCS.rglob("*"):
        assert str(path.relative_to(DOCS)) not in pages, f"{path} is generated at build time; remove it"
        if path.is_file():
            assert role_docs.HEADER not in path.read_text(), f"{path} is a copy of generated documentation"


@pytest.mark.parametrize("page", sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")))
def test_python_examples_parse(page):
    text = (DOCS / page).read_text()
    for block in re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        ast.parse(block)
