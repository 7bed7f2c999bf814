"""kubernetes/scripts: what upgrade.sh and dags-rollout.sh ask of kubectl and helm, run
against stand-ins that record the calls and answer like a cluster would (no cluster here)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import KUBERNETES

FAKE_KUBECTL = r"""#!/usr/bin/env bash
# Stand-in for kubectl: records the call, answers exec like the DAG processor would.
echo "kubectl $*" >>"$FAKE_LOG"
case "$*" in
  *"apply -f -"*) cat >>"$FAKE_STDIN" ;;
  *"-- sh -c"*) echo "$FAKE_SYNCED" ;;
  *"dags list-import-errors"*) echo "deprecation warning"; echo "$FAKE_IMPORT_ERRORS" ;;
  *"dags trigger"*) for a in "$@"; do [[ $prev == --run-id ]] && echo "$a" >"$FAKE_RUN_ID"; prev=$a; done ;;
  *"dags list-runs"*) printf '[{"run_id": "%s", "state": "%s"}]\n' "$(cat "$FAKE_RUN_ID")" "$FAKE_RUN_STATE" ;;
esac
exit 0
"""

FAKE_HELM = """#!/usr/bin/env bash
echo "helm $*" >>"$FAKE_LOG"
"""


@pytest.fixture
def cluster(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, script in (("kubectl", FAKE_KUBECTL), ("helm", FAKE_HELM)):
        (bin_dir / name).write_text(script)
        (bin_dir / name).chmod(0o755)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("gitlab.datatech.example ssh-ed25519 AAAAexample\n")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_LOG": str(tmp_path / "calls.log"),
        "FAKE_STDIN": str(tmp_path / "applied.yaml"),
        "FAKE_RUN_ID": str(tmp_path / "run_id"),
        "FAKE_SYNCED": "0123abcd",
        "FAKE_IMPORT_ERRORS": "[]",
        "FAKE_RUN_STATE": "success",
        "GIT_KNOWN_HOSTS": str(known_hosts),
        "PARSE_WAIT": "0",
        "SYNC_TIMEOUT": "0",
        "RUN_TIMEOUT": "0",
    }
    secrets = sorted(
        {
            part.split("}")[0]
            for path in (KUBERNETES / "secrets").glob("*.yaml")
            for part in path.read_text().split("${")[1:]
        }
        - {"NAME"}
    )
    env.update({name: f"value-{name}" for name in secrets})

    def run(script: str, *args: str, **overrides: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        result = subprocess.run(
            ["bash", str(KUBERNETES / "scripts" / script), *args],
            env={**env, **overrides},
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        log = Path(env["FAKE_LOG"])
        return result, log.read_text().splitlines() if log.exists() else []

    run.applied = Path(env["FAKE_STDIN"])
    return run


def test_upgrade_applies_manifests_secrets_then_an_atomic_helm_upgrade(cluster):
    result, calls = cluster("upgrade.sh")
    assert result.returncode == 0, result.stderr
    helm_upgrade = next(call for call in calls if call.startswith("helm upgrade"))
    assert calls.index(helm_upgrade) > max(i for i, call in enumerate(calls) if call.startswith("kubectl apply"))
    for flag in ("--install airflow apache-airflow/airflow", "--version 1.22.0", "--namespace airflow", "--atomic"):
        assert flag in helm_upgrade
    assert "airflow-values.yaml" in helm_upgrade and "dags.gitSync.knownHosts=" in helm_upgrade
    assert "kind: Secret" in cluster.applied.read_text()


def test_upgrade_changes_nothing_when_a_secret_is_missing(cluster):
    result, calls = cluster("upgrade.sh", AIRFLOW_FERNET_KEY="")
    assert result.returncode != 0
    assert "AIRFLOW_FERNET_KEY" in result.stderr
    assert calls == [], "nothing may reach the cluster before every secret is there"


def test_dag_rollout_passes_when_synced_parsed_and_run(cluster):
    result, calls = cluster("dags-rollout.sh", "0123abcd")
    assert result.returncode == 0, result.stderr
    assert "example_feature_stats run smoke-" in result.stdout
    assert any("dags unpause example_feature_stats" in call for call in calls)


def test_dag_rollout_fails_on_import_errors(cluster):
    result, _calls = cluster("dags-rollout.sh", "0123abcd", FAKE_IMPORT_ERRORS='[{"filename": "dags/x.py"}]')
    assert result.returncode != 0
    assert "import errors" in result.stderr


def test_dag_rollout_fails_when_the_run_fails(cluster):
    result, _calls = cluster("dags-rollout.sh", "0123abcd", FAKE_RUN_STATE="failed")
    assert result.returncode != 0
    assert "failed" in result.stderr


def test_dag_rollout_fails_when_git_sync_never_gets_the_commit(cluster):
    result, calls = cluster("dags-rollout.sh", "feedbeef")
    assert result.returncode != 0
    assert "did not reach feedbeef" in result.stderr
    assert not any("dags trigger" in call for call in calls)
