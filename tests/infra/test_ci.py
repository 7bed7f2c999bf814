"""The GitLab pipeline: .gitlab-ci.yml and the Kubernetes jobs it includes
(ci/kubernetes.gitlab-ci.yml): who runs what where, and what the deploy jobs trust.
(Both files' GitLab schema is checked by check-jsonschema in scripts/lib/infra.sh.)"""

from __future__ import annotations

import json
import os
import re
import subprocess

import yaml
from conftest import KUBERNETES, ROOT

PIPELINE = yaml.safe_load((ROOT / "ci" / "kubernetes.gitlab-ci.yml").read_text())
MAIN_TEXT = (ROOT / ".gitlab-ci.yml").read_text()
MAIN = yaml.safe_load(MAIN_TEXT)
KEYWORDS = {"default", "include", "stages", "variables", "workflow"}
DEPLOY_REQUIREMENTS = ROOT / "ci" / "requirements-deploy.txt"
MR_NEVER = {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"', "when": "never"}


def job(name: str, pipeline: dict = PIPELINE) -> dict:
    """A job with what it extends merged in (one level, as the files use it)."""
    body = dict(pipeline[name])
    base = pipeline.get(body.pop("extends", ""), {})
    return {**base, **body, "variables": {**base.get("variables", {}), **body.get("variables", {})}}


def all_jobs() -> dict[str, dict]:
    """Every job of the pipeline as GitLab sees it: both files, extends resolved, the default
    tags where a job names none."""
    jobs = {}
    for pipeline in (MAIN, PIPELINE):
        for name, body in pipeline.items():
            if name in KEYWORDS or name.startswith(".") or not isinstance(body, dict):
                continue
            resolved = job(name, pipeline)
            resolved.setdefault("tags", MAIN["default"]["tags"])
            jobs[name] = resolved
    return jobs


def deploy_jobs() -> dict[str, dict]:
    return {name: body for name, body in all_jobs().items() if body.get("stage") == "deploy"}


def requirement_entries(path) -> list[str]:
    """The requirement lines of a pip requirements file, continuation lines joined."""
    text = re.sub(r"\\\n", " ", path.read_text())
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def pins(path) -> dict[str, str]:
    """name -> version of a requirements file, with those of the files it includes (-r)."""
    found = {}
    for entry in requirement_entries(path):
        if entry.startswith("-r "):
            found |= pins(path.parent / entry.split()[1])
            continue
        name, _sep, version = entry.split()[0].partition("==")
        found[name.lower()] = version
    return found


# --- the runners: deploy jobs on the deploy runner, nothing else there ------------------------


def test_deploy_jobs_run_on_the_deploy_runner_and_nothing_else_does():
    """A runner takes a job only when it has all of the job's tags: deploy jobs carry `deploy`
    (the protected runner's tag), every other job carries `test`, which that runner lacks."""
    jobs = all_jobs()
    deploy = deploy_jobs()
    assert {"deploy:staging", "deploy:production", "k8s:upgrade", "k8s:dags"} <= set(deploy)
    for name, body in jobs.items():
        if name in deploy:
            assert "deploy" in body["tags"] and "test" not in body["tags"], name
        else:
            assert "test" in body["tags"] and "deploy" not in body["tags"], name
    assert "deploy" not in MAIN["default"]["tags"]


def test_deploy_jobs_never_run_in_merge_request_pipelines():
    """Rules are read top down, the first match decides: a never-rule for merge-request
    pipelines comes before any rule that starts the job, and each of those asks for the
    default branch. No only/except beside them."""
    for name, body in deploy_jobs().items():
        rules = body["rules"]
        assert "only" not in body and "except" not in body, name
        first_start = next(i for i, rule in enumerate(rules) if rule.get("when") != "never")
        assert MR_NEVER in rules[:first_start], f"{name}: merge-request pipelines are not excluded first"
        for rule in rules[first_start:]:
            assert rule.get("when") != "always", name
            assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in rule["if"], f"{name}: {rule}"
            assert "merge_request" not in rule["if"], f"{name}: {rule}"


def test_merge_request_pipelines_exist_and_run_the_tests():
    """The workflow keeps merge-request pipelines (the tests run there), so the rule above matters."""
    assert {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'} in MAIN["workflow"]["rules"]
    assert "merge_request_event" not in str(job("test:unit", MAIN).get("rules", ""))


# --- the deploy job's Python environment ----------------------------------------------------


def test_deploy_job_installs_hash_pinned_requirements_only():
    """The deploy job's ansible comes from ci/requirements-deploy.txt with --require-hashes
    (bootstrap_deploy in scripts/lib/common.sh), not from the development .venv."""
    body = job(".deploy_dags", MAIN)
    before = "\n".join(body["before_script"])
    assert "bootstrap_deploy" in before and "bootstrap_tools" not in before
    assert ".build/venv-deploy/bin" in before and "/.venv/" not in before
    common = (ROOT / "scripts" / "lib" / "common.sh").read_text()
    (function,) = re.findall(r"^make_deploy_venv\(\) \{ (.*) \}$", common, re.MULTILINE)
    assert function == 'make_venv_from "$DEPLOY_VENV" --require-hashes -r "$ROOT/ci/requirements-deploy.txt";', function
    # make_venv_from passes its arguments to pip install as they are, and skips upgrading pip then.
    shared = re.search(r"^make_venv_from\(\) \{\n(.*?)^\}", common, re.DOTALL | re.MULTILINE).group(1)
    assert '"$venv/bin/pip" install -q "$@"' in shared
    assert '" $* " != *" --require-hashes "*' in shared
    bootstrap = re.search(r"^bootstrap_deploy\(\) \{\n(.*?)^\}", common, re.DOTALL | re.MULTILINE).group(1)
    assert "make_deploy_venv" in bootstrap and not re.search(r"\bmake_venv\b", bootstrap), "not the dev .venv"
    assert ".build/venv-deploy/" in MAIN["variables"]["GIT_CLEAN_FLAGS"], "kept between jobs"


def test_every_deploy_requirement_is_pinned_with_a_hash():
    entries = requirement_entries(DEPLOY_REQUIREMENTS)
    assert len(entries) >= 5, "ansible, ansible-core and their dependencies"
    for entry in entries:
        requirement, *options = entry.split()
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.]+", requirement), f"not pinned: {entry}"
        hashes = [option for option in options if option.startswith("--hash=")]
        assert hashes, f"no --hash: {requirement}"
        assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}", option) for option in hashes), requirement
        assert set(options) == set(hashes), f"{requirement}: only hashes beside the pin"


def test_deploy_requirements_match_the_development_pins():
    """The same ansible and ansible-core as requirements-dev.txt (what the tests ran with)."""
    deploy, development = pins(DEPLOY_REQUIREMENTS), pins(ROOT / "requirements-dev.txt")
    assert {"ansible", "ansible-core"} <= set(deploy)
    assert {"ansible", "ansible-core"} <= set(development)
    for name in set(deploy) & set(development):
        assert deploy[name] == development[name], name
    assert pins(ROOT / "ci" / "requirements-deploy.in") == {name: deploy[name] for name in ("ansible", "ansible-core")}


# --- the vault password ---------------------------------------------------------------------


def test_vault_password_is_documented_protected_environment_scoped_and_masked():
    comment = MAIN_TEXT[MAIN_TEXT.index("#   VAULT_PASSWORD") :].split("\n\n", 1)[0].lower()
    for word in ("protected", "environment-scoped", "masked"):
        assert word in comment, word
    handbook = (ROOT / "docs" / "operators" / "pipeline.md").read_text()
    paragraph = next(p for p in handbook.split("\n\n") if "VAULT_PASSWORD" in p and "protected" in p.lower())
    for word in ("protected", "environment", "masked"):
        assert word in paragraph.lower(), word
    for name in ("deploy:staging", "deploy:production"):
        assert job(name, MAIN)["environment"]["name"] in ("staging", "production")


# --- the Kubernetes jobs --------------------------------------------------------------------


def test_both_jobs_deploy_from_the_default_branch_only():
    for name in ("k8s:upgrade", "k8s:dags"):
        body = job(name)
        assert body["stage"] == "deploy"
        rules = body["rules"]
        assert rules[0] == {"if": '$K8S_DEPLOY_DISABLED == "true"', "when": "never"}
        assert rules[1] == MR_NEVER
        assert all(rule["if"] == "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" for rule in rules[2:])
        assert body["resource_group"], "one deployment at a time"


def test_upgrade_is_manual_and_atomic():
    body = job("k8s:upgrade")
    assert body["rules"][-1]["when"] == "manual"
    assert body["script"] == ["bash kubernetes/scripts/upgrade.sh"]
    script = (KUBERNETES / "scripts" / "upgrade.sh").read_text()
    assert "helm upgrade --install" in script and "--atomic" in script and "--rollback-on-failure" in script
    assert '--values "$here/airflow-values.yaml"' in script
    assert "render-secrets.sh" in script


def test_no_manual_job_blocks_the_pipeline():
    """A manual job is allow_failure: false unless it says otherwise, and then the pipeline
    stays "blocked" (later stages wait) until someone presses play: every job of both files."""
    manual = 0
    for name, body in all_jobs().items():
        for rule in body.get("rules", []):
            if rule.get("when") == "manual":
                manual += 1
                assert rule.get("allow_failure", body.get("allow_failure")) is True, name
        if body.get("when") == "manual":
            manual += 1
            assert body.get("allow_failure") is True, name
    assert manual >= 2  # deploy:production and k8s:upgrade at least: the walk found them


def test_dag_rollout_runs_on_merges_that_touch_dags():
    body = job("k8s:dags")
    assert body["rules"][-1]["changes"] == ["dags/**/*"]
    assert body["script"][-1] == 'bash kubernetes/scripts/dags-rollout.sh "$CI_COMMIT_SHA"'
    script = (KUBERNETES / "scripts" / "dags-rollout.sh").read_text()
    for step in ("list-import-errors", "dags trigger", "list-runs"):
        assert step in script


# --- SSH host keys --------------------------------------------------------------------------


def test_ssh_known_hosts_is_documented_protected_and_environment_scoped():
    comment = MAIN_TEXT[MAIN_TEXT.index("#   SSH_KNOWN_HOSTS") :].split("\n\n", 1)[0]
    for word in ("PROTECTED", "ENVIRONMENT-SCOPED", "StrictHostKeyChecking=yes", "terraform output -raw known_hosts"):
        assert word in comment, word
    handbook = (ROOT / "docs" / "operators" / "pipeline.md").read_text()
    paragraph = next(p for p in handbook.split("\n\n") if "SSH_KNOWN_HOSTS" in p and "protected" in p.lower())
    assert "environment" in paragraph.lower()


def test_no_job_turns_host_key_checking_off():
    for path in (ROOT / ".gitlab-ci.yml", ROOT / "ci" / "kubernetes.gitlab-ci.yml"):
        text = path.read_text()
        off = r"StrictHostKeyChecking[= ](no|off|accept-new)|HOST_KEY_CHECKING\W+(false|0|no)"
        assert not re.search(off, text, re.IGNORECASE), path
        assert "UserKnownHostsFile=/dev/null" not in text


def test_deploy_job_gives_ssh_only_the_known_hosts_of_its_variable(tmp_path):
    """The deploy job's script, run by bash with a stand-in ansible-playbook that reports the
    ssh arguments it got and the known hosts file they name."""
    body = job("deploy:staging", MAIN)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    report = tmp_path / "report.json"
    stand_in = bin_dir / "ansible-playbook"
    stand_in.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, re, sys\n"
        "args = os.environ['ANSIBLE_SSH_ARGS']\n"
        "path = re.search(r'UserKnownHostsFile=(\\S+)', args).group(1)\n"
        f"json.dump({{'args': args, 'path': path, 'known_hosts': open(path).read()}}, open({str(report)!r}, 'w'))\n"
    )
    stand_in.chmod(0o755)
    known = "air01,198.51.100.7,10.20.0.20 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n"
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "ANSIBLE_INVENTORY": "inventories/cloud",
        "VAULT_PASSWORD": "not-the-real-one",
        "SSH_KNOWN_HOSTS": known.strip(),
        "CI_ENVIRONMENT_NAME": "staging",
        "DAGS_SOURCE": str(tmp_path),
        "TMPDIR": str(tmp_path),
    }
    result = subprocess.run(
        ["bash", "-ec", "\n".join(body["script"])], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(report.read_text())
    assert seen["known_hosts"] == known
    assert "-o StrictHostKeyChecking=yes" in seen["args"]
    assert not os.path.exists(seen["path"]), "the file goes when the job ends"
    # Without the variable the job stops before ansible-playbook, saying what to set.
    del env["SSH_KNOWN_HOSTS"]
    report.unlink()
    result = subprocess.run(
        ["bash", "-ec", "\n".join(body["script"])], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "SSH_KNOWN_HOSTS" in result.stderr
    assert not report.exists()
