"""ci/kubernetes.gitlab-ci.yml: the chart upgrade and the DAG rollout jobs.
(Its GitLab schema is checked by check-jsonschema in scripts/lib/infra.sh.)"""

from __future__ import annotations

import yaml
from conftest import KUBERNETES, ROOT

PIPELINE = yaml.safe_load((ROOT / "ci" / "kubernetes.gitlab-ci.yml").read_text())


def job(name: str) -> dict:
    """A job with what it extends merged in (one level, as the file uses it)."""
    body = dict(PIPELINE[name])
    base = PIPELINE.get(body.pop("extends", ""), {})
    return {**base, **body, "variables": {**base.get("variables", {}), **body.get("variables", {})}}


def test_both_jobs_deploy_from_the_default_branch_only():
    for name in ("k8s:upgrade", "k8s:dags"):
        body = job(name)
        assert body["stage"] == "deploy"
        rules = body["rules"]
        assert rules[0] == {"if": '$K8S_DEPLOY_DISABLED == "true"', "when": "never"}
        assert all(rule["if"] == "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" for rule in rules[1:])
        assert body["resource_group"], "one deployment at a time"


def test_upgrade_is_manual_and_atomic():
    body = job("k8s:upgrade")
    assert body["rules"][-1]["when"] == "manual"
    assert body["script"] == ["bash kubernetes/scripts/upgrade.sh"]
    script = (KUBERNETES / "scripts" / "upgrade.sh").read_text()
    assert "helm upgrade --install" in script and "--atomic" in script
    assert '--values "$here/airflow-values.yaml"' in script
    assert "render-secrets.sh" in script


def test_dag_rollout_runs_on_merges_that_touch_dags():
    body = job("k8s:dags")
    assert body["rules"][-1]["changes"] == ["dags/**/*"]
    assert body["script"][-1] == 'bash kubernetes/scripts/dags-rollout.sh "$CI_COMMIT_SHA"'
    script = (KUBERNETES / "scripts" / "dags-rollout.sh").read_text()
    for step in ("list-import-errors", "dags trigger", "list-runs"):
        assert step in script
