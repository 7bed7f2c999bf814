"""kubernetes/scripts: upgrade.sh and dags-rollout.sh run against stand-ins of kubectl and helm
(written here into tmp_path, first on PATH) that record every call's argv and play back what a
cluster answered: Airflow 3's `dags list-import-errors` with an import error (it prints the list
and exits 1), a `kubectl exec` that timed out, a run that never ends. No cluster here; what
helm is asked to install is rendered from the real chart in test_chart_deploy.py."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import KUBERNETES

# One program for both stand-ins (its name says which). Calls go to calls.jsonl as JSON argv;
# playback.json maps "<program> <words>" (the words after `airflow` for an exec, else the
# first words of the argv) to {"stdout", "stderr", "rc"}. Without a recording it answers like
# a healthy cluster, keeping the DAGs' paused state in paused.json.
STUB = r"""#!/usr/bin/env python3
import json, os, sys
here = os.environ["STUB_DIR"]
program, argv = os.path.basename(sys.argv[0]), sys.argv[1:]
with open(os.path.join(here, "calls.jsonl"), "a") as log:
    log.write(json.dumps([program, *argv]) + "\n")
if "apply" in argv and argv[-2:] == ["-f", "-"]:
    with open(os.path.join(here, "applied.yaml"), "a") as applied:
        applied.write(sys.stdin.read())
words = argv[argv.index("--") + 1:] if "--" in argv else argv
if words[:1] == ["airflow"]:
    words = words[1:]
playback = json.load(open(os.path.join(here, "playback.json")))
for key, answer in playback.items():
    head = key.split()
    if head[0] == program and words[: len(head) - 1] == head[1:]:
        sys.stdout.write(answer.get("stdout", ""))
        sys.stderr.write(answer.get("stderr", ""))
        sys.exit(answer.get("rc", 0))
state_file = os.path.join(here, "paused.json")
paused = json.load(open(state_file)) if os.path.exists(state_file) else {}
if program == "helm" and words[:1] == ["version"]:
    print(os.environ.get("STUB_HELM_VERSION", "v3.19.0+g3d8990f"))
elif program == "kubectl" and words[:2] == ["sh", "-c"]:
    print(os.environ.get("STUB_SYNCED", ""))
elif words[:2] in (["dags", "pause"], ["dags", "unpause"]):
    paused[words[2]] = words[1] == "pause"
    json.dump(paused, open(state_file, "w"))
    print(f"Dag: {words[2]}, paused: {paused[words[2]]}")
elif words[:2] == ["dags", "details"]:
    print(json.dumps([{"dag_id": words[2], "is_paused": paused.get(words[2], True)}]))
elif words[:2] == ["dags", "list-import-errors"]:
    print("No data found")
elif words[:2] == ["dags", "trigger"]:
    open(os.path.join(here, "run_id"), "w").write(words[words.index("--run-id") + 1])
elif words[:2] == ["dags", "list-runs"]:
    run_id = open(os.path.join(here, "run_id")).read()
    print(json.dumps([{"dag_id": words[2], "run_id": run_id, "state": os.environ.get("STUB_RUN_STATE", "success")}]))
"""

# Recorded answers (Airflow 3.x CLI and kubectl output, trimmed).
IMPORT_ERROR = {
    "stdout": json.dumps(
        [
            {
                "bundle_name": "dags-folder",
                "filepath": "/opt/airflow/dags/repo/dags/feature_stats.py",
                "error": 'Traceback (most recent call last):\n  File "/opt/airflow/dags/repo/dags/feature_stats.py",'
                " line 7, in <module>\n    import polars\nModuleNotFoundError: No module named 'polars'\n",
            }
        ]
    )
    + "\n",
    "stderr": "/home/airflow/.local/lib/python3.12/site-packages/airflow/configuration.py:859 FutureWarning:"
    " section/key [core/sql_alchemy_conn] has been deprecated\n",
    "rc": 1,
}
EXEC_TIMEOUT = {
    "stderr": "Error from server: error dialing backend: dial tcp 10.20.1.5:10250: i/o timeout\n",
    "rc": 1,
}
RUN_STUCK = {"stdout": '[{"dag_id": "example_feature_stats", "run_id": "other", "state": "running"}]\n'}


@pytest.fixture
def cluster(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kubectl", "helm"):
        (bin_dir / name).write_text(STUB)
        (bin_dir / name).chmod(0o755)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("gitlab.datatech.example ssh-ed25519 AAAAexample\n")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STUB_DIR": str(tmp_path),
        "STUB_SYNCED": "0123abcd",
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

    def run(script: str, *args: str, playback: dict | None = None, **overrides: str):
        (tmp_path / "playback.json").write_text(json.dumps(playback or {}))
        result = subprocess.run(
            ["bash", str(KUBERNETES / "scripts" / script), *args],
            env={**env, **overrides},
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            timeout=120,
        )
        log = tmp_path / "calls.jsonl"
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        return result, calls

    run.applied = tmp_path / "applied.yaml"
    run.paused = lambda: json.loads((tmp_path / "paused.json").read_text())
    return run


def helm_upgrade(calls: list[list[str]]) -> list[str]:
    (call,) = [call for call in calls if call[:2] == ["helm", "upgrade"]]
    return call


# --- upgrade.sh -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "flag", "not_flag"),
    [
        ("v3.19.0+g3d8990f", "--atomic", "--rollback-on-failure"),
        ("v4.1.4+g05fa379", "--rollback-on-failure", "--atomic"),
    ],
)
def test_upgrade_applies_manifests_secrets_then_a_rolled_back_on_failure_helm_upgrade(cluster, version, flag, not_flag):
    result, calls = cluster("upgrade.sh", STUB_HELM_VERSION=version)
    assert result.returncode == 0, result.stderr
    upgrade = helm_upgrade(calls)
    assert calls.index(upgrade) > max(i for i, call in enumerate(calls) if call[:2] == ["kubectl", "apply"])
    words = " ".join(upgrade)
    for part in ("--install airflow apache-airflow/airflow", "--version 1.22.0", "--namespace airflow", "--wait"):
        assert part in words
    assert flag in upgrade and not_flag not in upgrade, f"helm {version}: {flag}"
    assert "dags.gitSync.knownHosts=" in words
    assert "kind: Secret" in cluster.applied.read_text()


def test_upgrade_removes_finished_jobs_before_helm(cluster):
    """Without hooks the jobs are release objects with an immutable pod template: the old ones go first."""
    _result, calls = cluster("upgrade.sh")
    (delete,) = [call for call in calls if "delete" in call]
    assert {"airflow-run-airflow-migrations", "airflow-create-user", "--ignore-not-found"} <= set(delete)
    assert calls.index(delete) < calls.index(helm_upgrade(calls))


@pytest.mark.parametrize("version", ["v2.17.0+ga690bad", "v5.0.0", ""])
def test_upgrade_refuses_a_helm_whose_flags_it_does_not_know(cluster, version):
    result, calls = cluster("upgrade.sh", STUB_HELM_VERSION=version)
    assert result.returncode != 0
    assert "helm 3 or 4 is needed" in result.stderr
    assert not [call for call in calls if call[0] == "kubectl"], "nothing reaches the cluster"


def test_upgrade_warns_about_a_helm_older_than_the_charts_minimum(cluster):
    result, calls = cluster("upgrade.sh", STUB_HELM_VERSION="v3.17.3+ge4da497")
    assert result.returncode == 0, result.stderr
    assert "older than 3.19" in result.stderr
    assert "--atomic" in helm_upgrade(calls)


def test_upgrade_changes_nothing_when_a_secret_is_missing(cluster):
    result, calls = cluster("upgrade.sh", AIRFLOW_FERNET_KEY="")
    assert result.returncode != 0
    assert "AIRFLOW_FERNET_KEY" in result.stderr
    assert calls == [], "nothing may reach the cluster before every secret is there"


def test_upgrade_fails_when_helm_fails(cluster):
    failed = {"stderr": "Error: UPGRADE FAILED: context deadline exceeded\n", "rc": 1}
    result, calls = cluster("upgrade.sh", playback={"helm upgrade": failed})
    assert result.returncode != 0
    assert "context deadline exceeded" in result.stderr
    assert not [call for call in calls if "rollout" in call]


# --- dags-rollout.sh ------------------------------------------------------------------------


def airflow_calls(calls: list[list[str]], *words: str) -> list[list[str]]:
    """The kubectl exec calls of `airflow <words...>`."""
    found = []
    for call in calls:
        command = call[call.index("--") + 1 :] if "--" in call else []
        if command[:1] == ["airflow"] and command[1 : 1 + len(words)] == list(words):
            found.append(call)
    return found


def test_dag_rollout_passes_when_synced_parsed_and_run_and_pauses_the_dag_again(cluster):
    result, calls = cluster("dags-rollout.sh", "0123abcd")
    assert result.returncode == 0, result.stderr
    assert "example_feature_stats run smoke-" in result.stdout
    assert airflow_calls(calls, "dags", "unpause", "example_feature_stats")
    assert cluster.paused() == {"example_feature_stats": True}, "a @daily DAG is not left running"


def test_dag_rollout_leaves_an_unpaused_dag_unpaused(cluster, tmp_path):
    (tmp_path / "paused.json").write_text('{"example_feature_stats": false}')
    result, calls = cluster("dags-rollout.sh", "0123abcd")
    assert result.returncode == 0, result.stderr
    assert not airflow_calls(calls, "dags", "pause") and not airflow_calls(calls, "dags", "unpause")


def test_dag_rollout_prints_the_import_errors_it_found(cluster):
    """Airflow 3 exits 1 when it lists import errors: the script prints them, stderr included."""
    result, calls = cluster("dags-rollout.sh", "0123abcd", playback={"kubectl dags list-import-errors": IMPORT_ERROR})
    assert result.returncode != 0
    assert "1 import error(s)" in result.stderr
    assert "feature_stats.py" in result.stderr and "No module named 'polars'" in result.stderr
    assert "FutureWarning" in result.stderr, "airflow's stderr is shown"
    assert not airflow_calls(calls, "dags", "unpause"), "nothing runs on broken DAGs"


def test_dag_rollout_prints_why_when_kubectl_times_out(cluster):
    result, calls = cluster("dags-rollout.sh", "0123abcd", playback={"kubectl dags list-import-errors": EXEC_TIMEOUT})
    assert result.returncode != 0
    assert "could not list the import errors" in result.stderr
    assert "i/o timeout" in result.stderr
    assert not airflow_calls(calls, "dags", "unpause")


@pytest.mark.parametrize(
    ("playback", "state", "message"),
    [
        ({}, "failed", "failed"),
        ({"kubectl dags list-runs": RUN_STUCK}, "success", "still 'queued'"),
        ({"kubectl dags list-runs": EXEC_TIMEOUT}, "success", "i/o timeout"),
        ({"kubectl dags trigger": EXEC_TIMEOUT}, "success", "could not trigger"),
    ],
    ids=["run-failed", "run-never-ends", "exec-timeout-while-waiting", "trigger-refused"],
)
def test_dag_rollout_fails_and_leaves_nothing_unpaused(cluster, playback, state, message):
    result, calls = cluster("dags-rollout.sh", "0123abcd", playback=playback, STUB_RUN_STATE=state)
    assert result.returncode != 0
    assert message in result.stderr
    assert airflow_calls(calls, "dags", "unpause")
    assert cluster.paused() == {"example_feature_stats": True}
    assert airflow_calls(calls, "dags", "pause")[-1] == calls[-1], "paused again as the last step"


def test_dag_rollout_fails_loudly_when_it_cannot_pause_again(cluster):
    result, _calls = cluster(
        "dags-rollout.sh", "0123abcd", playback={"kubectl dags pause": EXEC_TIMEOUT}, STUB_RUN_STATE="failed"
    )
    assert result.returncode != 0
    assert "could not pause example_feature_stats again" in result.stderr


def test_dag_rollout_fails_when_git_sync_never_gets_the_commit(cluster):
    result, calls = cluster("dags-rollout.sh", "feedbeef")
    assert result.returncode != 0
    assert "did not reach feedbeef" in result.stderr
    assert not airflow_calls(calls, "dags", "trigger")


# --- what upgrade.sh asks helm to install, rendered from the real chart ----------------------

HOOK = "helm.sh/hook"
RENDER_FLAGS = ("--values", "-f", "--set", "--set-string", "--set-file", "--set-json")


def template_command(upgrade: list[str], helm_bin: str, chart_tgz: Path) -> list[str]:
    """`helm template` with the release, chart version and values of a recorded `helm upgrade`."""
    args = upgrade[2:]
    args.remove("--install")
    release, chart = args[0], args[1]
    assert chart == "apache-airflow/airflow"
    assert args[args.index("--version") + 1] in chart_tgz.name
    command = [helm_bin, "template", release, str(chart_tgz), "--namespace", args[args.index("--namespace") + 1]]
    for i, word in enumerate(args):
        if word in RENDER_FLAGS:
            command += [word, args[i + 1]]
    return command


def render(command: list[str], home: Path) -> list[dict]:
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    env |= {f"HELM_{part}_HOME": str(home / part.lower()) for part in ("CACHE", "CONFIG", "DATA")}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def runs(doc: dict, words: str) -> bool:
    spec = doc["spec"]["template"]["spec"]
    return any(
        words in " ".join([*(c.get("command") or []), *(c.get("args") or [])])
        for c in [*spec.get("initContainers", []), *spec["containers"]]
    )


def assert_migrations_run_while_helm_waits(docs: list[dict], waits: bool) -> None:
    """With --wait, Helm starts post-install/post-upgrade hooks only after every Deployment is
    ready, and the Deployments wait for the migrations: the migration and user jobs must then be
    ordinary objects of the release, created with the Deployments."""
    jobs = [doc for doc in docs if doc["kind"] == "Job"]
    migrations = [job for job in jobs if runs(job, "airflow db migrate")]
    assert migrations, "no job migrates the database"
    waiting = [
        doc["metadata"]["name"]
        for doc in docs
        if doc["kind"] == "Deployment"
        and any(
            c["name"] == "wait-for-airflow-migrations"
            for c in doc["spec"]["template"]["spec"].get("initContainers", [])
        )
    ]
    assert waiting, "the Deployments wait for the migrations"
    for job in jobs:
        if job not in migrations and runs(job, "airflow"):
            assert runs(job, "check-migrations"), f"Job {job['metadata']['name']} does not wait for the migrations"
    if waits:
        for job in jobs:
            hook = (job["metadata"].get("annotations") or {}).get(HOOK, "")
            assert "post-install" not in hook and "post-upgrade" not in hook, (
                f"Job {job['metadata']['name']} is a {hook} hook: helm --wait waits for {waiting} forever"
            )


@pytest.fixture
def recorded_upgrade(cluster) -> list[str]:
    result, calls = cluster("upgrade.sh")
    assert result.returncode == 0, result.stderr
    return helm_upgrade(calls)


def test_the_release_upgrade_sh_installs_migrates_while_helm_waits(recorded_upgrade, helm_bin, chart_tgz, tmp_path):
    waits = "--wait" in recorded_upgrade or bool({"--atomic", "--rollback-on-failure"} & set(recorded_upgrade))
    assert waits, "upgrade.sh waits (and rolls back a failed release)"
    docs = render(template_command(recorded_upgrade, helm_bin, chart_tgz), tmp_path)
    assert_migrations_run_while_helm_waits(docs, waits)
    for job in ("airflow-run-airflow-migrations", "airflow-create-user"):
        assert job in {doc["metadata"]["name"] for doc in docs if doc["kind"] == "Job"}


def test_the_check_catches_hook_only_migrations(recorded_upgrade, helm_bin, chart_tgz, tmp_path):
    """The chart's default (hooks on) with the same helm call: the first install would time out."""
    command = template_command(recorded_upgrade, helm_bin, chart_tgz)
    command += ["--set", "migrateDatabaseJob.useHelmHooks=true"]
    docs = render(command, tmp_path)
    with pytest.raises(AssertionError, match="post-install,post-upgrade hook"):
        assert_migrations_run_while_helm_waits(docs, waits=True)
