"""kubernetes/: our chart values against the official chart's schema, our manifests against
Kubernetes' schemas, and the Secrets the values name against the templates that make them."""

from __future__ import annotations

import base64
import copy
import json
import os
import subprocess

import jsonschema
import kubernetes_validate
import pytest
import yaml
from conftest import KUBERNETES, load_yaml

VALUES = load_yaml(KUBERNETES / "airflow-values.yaml")
MANIFESTS = sorted((KUBERNETES / "manifests").glob("*.yaml"))
SECRET_TEMPLATES = KUBERNETES / "secrets"
RENDER = KUBERNETES / "scripts" / "render-secrets.sh"
K8S_VERSION = "1.30.0"


def merged(defaults, overrides):
    """What helm validates: the chart's values.yaml with ours merged over it (maps merge, the rest replaces)."""
    result = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def placeholders() -> list[str]:
    names = []
    for path in sorted(SECRET_TEMPLATES.glob("*.yaml")):
        for line in path.read_text().splitlines():
            if not line.lstrip().startswith("#"):
                names += [part.split("}")[0] for part in line.split("${")[1:]]
    return sorted(set(names))


def render(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(RENDER)], env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def rendered_secrets() -> dict[str, dict]:
    env = {name: f"value-of-{name}" for name in placeholders()}
    result = render(env)
    assert result.returncode == 0, result.stderr
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return {doc["metadata"]["name"]: doc for doc in documents}


# --- values against the chart ---------------------------------------------------------------


def test_values_are_valid_for_the_chart(chart_reference):
    schema = json.loads((chart_reference / "values.schema.json").read_text())
    defaults = load_yaml(chart_reference / "values.yaml")
    validator = jsonschema.Draft7Validator(schema)
    for values in (VALUES, merged(defaults, VALUES)):
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(values)]
        assert not errors, errors


def test_values_use_only_keys_the_chart_knows(chart_reference):
    """The schema lets unknown top-level keys through: a typo there would be silently ignored."""
    schema = json.loads((chart_reference / "values.schema.json").read_text())
    assert set(VALUES) <= set(schema["properties"])


def test_schema_check_catches_a_mistake(chart_reference):
    schema = json.loads((chart_reference / "values.schema.json").read_text())
    broken = merged(VALUES, {"executor": 3, "scheduler": {"replica": 2}})
    assert len(list(jsonschema.Draft7Validator(schema).iter_errors(broken))) >= 2


# --- values: the decisions ------------------------------------------------------------------


def test_airflow_3_with_the_kubernetes_executor_and_no_bundled_services():
    assert VALUES["airflowVersion"].startswith("3.")
    assert VALUES["executor"] == "KubernetesExecutor"
    assert VALUES["postgresql"]["enabled"] is False
    assert VALUES["redis"]["enabled"] is False


def test_no_secret_in_the_values():
    for key in ("fernetKey", "apiSecretKey", "jwtSecret", "webserverSecretKey"):
        assert VALUES.get(key) is None, key
    assert "metadataConnection" not in VALUES["data"]
    assert "defaultUser" not in VALUES.get("createUserJob", {})
    text = (KUBERNETES / "airflow-values.yaml").read_text()
    assert "password:" not in text.replace("key: password", "")


def test_dags_come_from_git_sync_with_a_deploy_key():
    git_sync = VALUES["dags"]["gitSync"]
    assert git_sync["enabled"] is True
    assert git_sync["repo"].startswith("git@") and git_sync["sshKeySecret"]
    assert git_sync["subPath"] == "dags"
    assert "sshKey" not in git_sync, "the key comes from the Secret, not the values"


def test_api_server_behind_ingress_nginx_with_tls():
    ingress = VALUES["ingress"]["apiServer"]
    assert ingress["enabled"] is True
    assert ingress["ingressClassName"] == "nginx"
    assert all(host["tls"]["enabled"] and host["tls"]["secretName"] for host in ingress["hosts"])


@pytest.mark.parametrize(
    "path",
    [
        "scheduler",
        "apiServer",
        "dagProcessor",
        "triggerer",
        "workers.kubernetes",
        "statsd",
        "migrateDatabaseJob",
        "createUserJob",
        "dags.gitSync",
    ],
)
def test_every_component_has_requests_and_limits(path):
    section = VALUES
    for part in path.split("."):
        section = section[part]
    resources = section["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]), path
    assert "memory" in resources["limits"], path


# --- the Secrets the values name exist, with the keys the chart reads ------------------------


def secrets_named_by_the_values() -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {
        VALUES["data"]["metadataSecretName"]: {"connection"},
        VALUES["fernetKeySecretName"]: {"fernet-key"},
        VALUES["apiSecretKeySecretName"]: {"api-secret-key"},
        VALUES["jwtSecretName"]: {"jwt-secret"},
        VALUES["dags"]["gitSync"]["sshKeySecret"]: {"gitSshKey"},
    }
    for entry in VALUES["secret"]:
        wanted.setdefault(entry["secretName"], set()).add(entry["secretKey"])
    for env in VALUES["createUserJob"]["env"]:
        ref = env["valueFrom"]["secretKeyRef"]
        wanted.setdefault(ref["name"], set()).add(ref["key"])
    return wanted


def test_every_secret_the_values_name_is_templated(rendered_secrets):
    for name, keys in secrets_named_by_the_values().items():
        assert name in rendered_secrets, f"no template for Secret {name}"
        assert keys <= set(rendered_secrets[name]["data"]), (
            f"Secret {name} lacks {keys - set(rendered_secrets[name]['data'])}"
        )


def test_rendered_secrets_carry_the_values_base64(rendered_secrets):
    connection = rendered_secrets["airflow-metadata"]["data"]["connection"]
    assert base64.b64decode(connection).decode() == "value-of-AIRFLOW_METADATA_CONNECTION"


def test_rendered_secrets_are_valid_kubernetes(rendered_secrets):
    for doc in rendered_secrets.values():
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        assert doc["metadata"]["namespace"] == "airflow"


def test_rendering_refuses_a_missing_variable():
    env = dict.fromkeys(placeholders(), "x")
    del env["AIRFLOW_JWT_SECRET"]
    result = render(env)
    assert result.returncode != 0
    assert "AIRFLOW_JWT_SECRET" in result.stderr
    assert "apiVersion" not in result.stdout, "nothing is printed for kubectl when a secret is missing"


def test_secret_values_are_yaml_safe_whatever_they_hold(rendered_secrets):
    tricky = 'p@ss:"word" #{not-a-comment} & \\ / \n second line'
    env = dict.fromkeys(placeholders(), tricky)
    result = render(env)
    assert result.returncode == 0, result.stderr
    for doc in yaml.safe_load_all(result.stdout):
        for value in doc["data"].values():
            assert base64.b64decode(value).decode() == tricky


# --- our manifests --------------------------------------------------------------------------


def test_one_document_per_file():
    """ansible-test's yamllint (the sanity stage) wants a single YAML document per file."""
    for path in [*MANIFESTS, *SECRET_TEMPLATES.glob("*.yaml")]:
        assert len([doc for doc in yaml.safe_load_all(path.read_text()) if doc]) == 1, path.name


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest_is_valid_kubernetes(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_validation_catches_a_mistake():
    policy = load_yaml(KUBERNETES / "manifests" / "networkpolicy-database-clients.yaml")
    policy["spec"]["policyTypes"] = "Egress"  # a list is required
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(policy, K8S_VERSION, strict=True)


def test_namespaced_manifests_live_in_the_airflow_namespace():
    for path in MANIFESTS:
        for doc in yaml.safe_load_all(path.read_text()):
            if doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == "airflow", f"{path.name}: {doc['metadata']['name']}"


def test_only_database_clients_reach_db01():
    policies = {path.stem: load_yaml(path) for path in (KUBERNETES / "manifests").glob("networkpolicy-*.yaml")}
    everyone = policies["networkpolicy-egress-except-database"]["spec"]
    assert everyone["podSelector"] == {}
    blocks = [peer["ipBlock"] for rule in everyone["egress"] for peer in rule["to"] if "ipBlock" in peer]
    assert blocks == [{"cidr": "0.0.0.0/0", "except": ["10.20.0.10/32"]}]
    clients = policies["networkpolicy-database-clients"]["spec"]
    components = next(e["values"] for e in clients["podSelector"]["matchExpressions"] if e["key"] == "component")
    assert {"scheduler", "api-server", "dag-processor", "triggerer", "worker"} <= set(components)
    assert "statsd" not in components
    (rule,) = clients["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": "10.20.0.10/32"}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
