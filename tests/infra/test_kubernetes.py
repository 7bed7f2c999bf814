"""kubernetes/: our chart values against the official chart's schema, the official chart rendered
with our values (helm template) and what the security model relies on in its output, our
manifests against Kubernetes' schemas, and the Secrets the values name against the templates
that make them."""

from __future__ import annotations

import base64
import configparser
import copy
import json
import os
import re
import shlex
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
# The oldest and newest Kubernetes we expect to meet (as K8S_VERSIONS in scripts/lib/infra.sh).
K8S_VERSIONS = ("1.30.0", "1.34.0")
METADATA_SERVICE = "169.254.169.254/32"


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


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_rendered_secrets_are_valid_kubernetes(rendered_secrets, version):
    for doc in rendered_secrets.values():
        kubernetes_validate.validate(doc, version, strict=True)
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


@pytest.mark.parametrize("version", K8S_VERSIONS)
@pytest.mark.parametrize("path", MANIFESTS, ids=lambda path: path.name)
def test_manifest_is_valid_kubernetes(path, version):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, version, strict=True)


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
    assert blocks == [{"cidr": "0.0.0.0/0", "except": ["10.20.0.10/32", METADATA_SERVICE]}]
    clients = policies["networkpolicy-database-clients"]["spec"]
    components = next(e["values"] for e in clients["podSelector"]["matchExpressions"] if e["key"] == "component")
    assert {"scheduler", "api-server", "dag-processor", "triggerer", "worker"} <= set(components)
    assert "statsd" not in components
    (rule,) = clients["egress"]
    assert rule["to"] == [{"ipBlock": {"cidr": "10.20.0.10/32"}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]


def egress_blocks(policies: list[dict]) -> list[tuple[str, dict]]:
    """(policy name, ipBlock) of every egress peer that is an address block."""
    return [
        (policy["metadata"]["name"], peer["ipBlock"])
        for policy in policies
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    ]


def test_no_pod_reaches_the_cloud_metadata_service():
    """169.254.169.254 hands out the node's credentials and user data: every rule that opens
    the whole internet leaves it out (NetworkPolicies add up, so every such rule counts)."""
    policies = [load_yaml(path) for path in (KUBERNETES / "manifests").glob("networkpolicy-*.yaml")]
    open_blocks = [(name, block) for name, block in egress_blocks(policies) if block["cidr"] == "0.0.0.0/0"]
    assert open_blocks, "the egress policy opens the internet except db01 and the metadata service"
    for name, block in open_blocks:
        assert METADATA_SERVICE in block.get("except", []), name


# --- the official chart rendered with our values ----------------------------------------------
# helm template of the real chart (../shared/reference/.../airflow-1.22.0.tgz) with
# airflow-values.yaml and the known-hosts file upgrade.sh passes; skipped, with the reason,
# where the chart or helm is missing.

SECRETISH_NAME = re.compile(r"PASSWORD|SECRET|KEY|CONN|TOKEN", re.IGNORECASE)
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
PASSWORD_FLAGS = ("-p", "--password")
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")


def render_chart(helm_bin, chart_tgz, home, *extra: str, values=KUBERNETES / "airflow-values.yaml") -> list[dict]:
    known_hosts = home / "known_hosts"
    known_hosts.write_text("gitlab.datatech.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN0YW5kLWlu\n")
    command = [helm_bin, "template", "airflow", str(chart_tgz), "--namespace", "airflow"]
    command += ["--values", str(values)]
    command += ["--set-file", f"dags.gitSync.knownHosts={known_hosts}", *extra]
    # helm keeps its cache and settings under the test's folder, not in the caller's home.
    env = {"PATH": os.environ["PATH"], "HOME": str(home)}
    env |= {f"HELM_{part}_HOME": str(home / part.lower()) for part in ("CACHE", "CONFIG", "DATA")}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def chart(helm_bin, chart_tgz, tmp_path_factory) -> list[dict]:
    return render_chart(helm_bin, chart_tgz, tmp_path_factory.mktemp("helm"))


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_specs(docs: list[dict]) -> dict[str, dict]:
    """Every pod the release starts: its workloads and the KubernetesExecutor's pod template
    (a Pod inside the ConfigMap airflow-config, the spec of every task pod)."""
    specs = {}
    for doc in docs:
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind in POD_KINDS:
            specs[f"{kind}/{name}"] = doc["spec"]["template"]["spec"]
        elif kind == "CronJob":
            specs[f"{kind}/{name}"] = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind == "ConfigMap":
            for key, text in doc.get("data", {}).items():
                if key.endswith(".yaml"):
                    for inner in yaml.safe_load_all(text):
                        if isinstance(inner, dict) and inner.get("kind") == "Pod":
                            specs[f"{kind}/{name}/{key}"] = inner["spec"]
    return specs


def containers(spec: dict) -> list[dict]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def every_container(docs: list[dict]):
    for pod, spec in pod_specs(docs).items():
        for container in containers(spec):
            yield f"{pod}/{container['name']}", spec, container


def argv_words(container: dict) -> list[str]:
    """The words of command and args, with the scripts of `bash -c` split as bash would."""
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    for i, word in enumerate(words[:-1]):
        if word == "-c":
            words += shlex.split(words[i + 1])
    return words


def test_chart_renders_every_component(chart):
    """What the checks below walk through: none of them may pass because a part is missing."""
    deployments = of_kind(chart, "Deployment")
    for component in ("scheduler", "api-server", "dag-processor", "triggerer", "statsd"):
        assert f"airflow-{component}" in deployments, sorted(deployments)
    assert {"airflow-create-user", "airflow-run-airflow-migrations"} <= set(of_kind(chart, "Job"))
    assert "ConfigMap/airflow-config/pod_template_file.yaml" in pod_specs(chart), "the task pods' template"
    names = {c["name"] for _where, _pod, c in every_container(chart)}
    assert {"git-sync", "git-sync-init", "wait-for-airflow-migrations", "create-user"} <= names


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_rendered_chart_is_valid_kubernetes(chart, version):
    for doc in chart:
        kubernetes_validate.validate(doc, version, strict=True)
    for pod, spec in pod_specs(chart).items():
        if pod.startswith("ConfigMap/"):
            template = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "task"}, "spec": spec}
            kubernetes_validate.validate(template, version, strict=True)


def test_secret_environment_comes_from_secrets(chart):
    """A variable named like a password, key, secret, token or connection is read from a Secret
    (or names a file of a mounted Secret); no value holds a user:password@ URL."""
    checked = 0
    for where, _pod, container in every_container(chart):
        for env in container.get("env", []):
            if "value" in env:
                assert not CREDENTIALS_IN_URL.search(str(env["value"])), f"{where}: {env['name']}"
            if not SECRETISH_NAME.search(env["name"]):
                continue
            checked += 1
            if env["name"].endswith("_FILE") and str(env.get("value", "")).startswith("/"):
                continue  # a path, e.g. GITSYNC_SSH_KEY_FILE=/etc/git-secret/ssh (a Secret volume)
            assert "secretKeyRef" in env.get("valueFrom", {}), f"{where}: {env['name']} is not from a Secret"
        for source in container.get("envFrom", []):
            assert "secretRef" in source, f"{where}: envFrom {source}"
    assert checked > 20, "the Airflow containers carry the fernet key, the connections, ..."


def test_the_chart_generates_no_key_and_holds_no_credential(chart):
    """The keys and passwords come from our Secrets (kubernetes/secrets/); the chart makes
    none of them, and what it renders into Secrets and ConfigMaps holds no credential."""
    ours = {load_yaml(path)["metadata"]["name"] for path in SECRET_TEMPLATES.glob("*.yaml")}
    rendered = of_kind(chart, "Secret")
    assert not ours & set(rendered), "a Secret of ours would be overwritten by the chart"
    for name, secret in rendered.items():
        for key, value in secret.get("data", {}).items():
            assert not CREDENTIALS_IN_URL.search(base64.b64decode(value).decode()), f"Secret {name}: {key}"
    secret_option = re.compile(r"password|secret|fernet_key|token|sql_alchemy_conn|_conn$|^conn", re.IGNORECASE)
    for name, config_map in of_kind(chart, "ConfigMap").items():
        for key, text in config_map.get("data", {}).items():
            assert not CREDENTIALS_IN_URL.search(text), f"ConfigMap {name}: {key}"
            if key.endswith(".cfg"):
                parser = configparser.ConfigParser(interpolation=None)
                parser.read_string(text)
                for section in parser.sections():
                    for option, value in parser.items(section):
                        if secret_option.search(option):
                            assert not value.strip(), f"ConfigMap {name}: [{section}] {option} is set"


def test_no_password_on_any_command_line(chart):
    """A command line is readable by every process of the pod (/proc/<pid>/cmdline) and in ps on
    the node: no container passes a password flag, a credential URL or a secret variable there."""
    for where, _pod, container in every_container(chart):
        words = argv_words(container)
        for flag in PASSWORD_FLAGS:
            assert flag not in words and not any(w.startswith(f"{flag}=") for w in words), f"{where}: {flag}"
        assert not any(CREDENTIALS_IN_URL.search(word) for word in words), where


def test_admin_password_reaches_the_user_job_from_the_secret_on_stdin(chart, tmp_path):
    """The create-user job's script, run with a stand-in for `airflow` that asks for the password
    the way `airflow users create` does without --password (getpass twice, no terminal): the
    password arrives on stdin, from the Secret's variable, and is in no process's argv."""
    (container,) = of_kind(chart, "Job")["airflow-create-user"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["AIRFLOW_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "airflow-admin", "key": "password"}
    assert "$AIRFLOW_ADMIN_PASSWORD" in container["args"][-1]
    stub = tmp_path / "airflow"
    stub.write_text(
        "#!/usr/bin/env python3\n"
        "import getpass, json, sys\n"
        "if sys.argv[1:3] == ['db', 'check-migrations']:\n"
        "    open(sys.argv[0] + '.waited', 'w').write(' '.join(sys.argv[1:]))\n"
        "    sys.exit(0)\n"
        "first, second = getpass.getpass('Password:'), getpass.getpass('Repeat for confirmation:')\n"
        "json.dump({'argv': sys.argv, 'passwords': [first, second]}, open(sys.argv[0] + '.json', 'w'))\n"
    )
    stub.chmod(0o755)
    password = "s3cret with spaces, 'quotes' and $(not-run)"
    result = subprocess.run(
        container["args"],
        env={"PATH": f"{tmp_path}:{os.environ['PATH']}", "AIRFLOW_ADMIN_PASSWORD": password},
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal, as in the pod
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads((tmp_path / "airflow.json").read_text())
    assert seen["passwords"] == [password, password]
    assert seen["argv"][1:3] == ["users", "create"]
    assert (tmp_path / "airflow.waited").read_text().startswith("db check-migrations"), "it waited for the schema"
    assert not any(password in word for word in seen["argv"])
    assert password not in result.stdout + result.stderr


def test_ingress_has_tls_for_every_host(chart):
    ingresses = of_kind(chart, "Ingress")
    assert ingresses, "the API server is behind an ingress"
    for name, ingress in ingresses.items():
        hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        tls = ingress["spec"].get("tls", [])
        assert all(entry.get("secretName") for entry in tls), name
        assert hosts <= {host for entry in tls for host in entry.get("hosts", [])}, f"{name}: a host without TLS"
        assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"


def test_network_policies_guard_every_component(chart):
    """The chart's ingress policies for each component it serves; our egress policies beside
    them; no rendered rule opens the internet with the metadata service in it."""
    policies = of_kind(chart, "NetworkPolicy")
    for component in ("api-server", "scheduler", "triggerer", "statsd"):
        assert f"airflow-{component}-policy" in policies, sorted(policies)
    ours = {load_yaml(path)["metadata"]["name"] for path in (KUBERNETES / "manifests").glob("networkpolicy-*.yaml")}
    assert {"egress-except-database", "database-clients"} <= ours
    assert not ours & set(policies)
    for name, block in egress_blocks(list(policies.values())):
        if block["cidr"] == "0.0.0.0/0":
            assert METADATA_SERVICE in block.get("except", []), name


def test_git_sync_checks_the_servers_host_key(chart):
    for where, _pod, container in every_container(chart):
        if container["name"].startswith("git-sync"):
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env["GITSYNC_SSH_KNOWN_HOSTS"] == "true", where


def test_every_container_runs_as_non_root(chart):
    """Pod or container level (the container's setting wins): a user other than 0, and either
    runAsNonRoot or a fixed uid, for every container, init containers and git-sync included."""
    for where, spec, container in every_container(chart):
        pod, own = spec.get("securityContext") or {}, container.get("securityContext") or {}
        user = own.get("runAsUser", pod.get("runAsUser"))
        non_root = own.get("runAsNonRoot", pod.get("runAsNonRoot"))
        assert user != 0, f"{where} runs as root"
        assert non_root is True or user is not None, f"{where}: neither runAsNonRoot nor runAsUser"
        if container["name"] != "statsd":  # the chart's exporter, which sets its own context
            assert own.get("allowPrivilegeEscalation") is False, where
            assert own.get("capabilities", {}).get("drop") == ["ALL"], where


def test_the_checks_catch_a_root_container_and_a_password_argument(helm_bin, chart_tgz, tmp_path):
    """The same checks on a render with the user job as it was (the password from the Secret,
    but expanded onto the command line) and a root git-sync: both must fail."""
    script = 'exec airflow users create --role Admin --username admin --password "$AIRFLOW_ADMIN_PASSWORD"'
    broken = {
        "createUserJob": {"args": ["bash", "-c", script]},
        "dags": {"gitSync": {"securityContexts": {"container": {"runAsUser": 0}}}},
    }
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    docs = render_chart(helm_bin, chart_tgz, tmp_path, "--values", str(tmp_path / "broken.yaml"))
    with pytest.raises(AssertionError, match="--password"):
        test_no_password_on_any_command_line(docs)
    with pytest.raises(AssertionError, match="runs as root"):
        test_every_container_runs_as_non_root(docs)


# --- the pods can do their work: DAGs, the git-sync key, resources --------------------------

AIRFLOW_DAGS = "/opt/airflow/dags"
GIT_SYNC_KEY_VOLUME = "git-sync-ssh-key"
# Who gets the DAG files, as kubernetes/README.md says: a git-sync sidecar (and an init container
# for the first checkout) in the DAG processor and the triggerer, an init container in every task
# pod. The scheduler of Airflow 3 reads the serialized DAGs from the database: the chart mounts
# none there when the DAG processor runs on its own.
DAG_CARRIERS = {
    "Deployment/airflow-dag-processor": ("dag-processor", {"git-sync-init"}, {"git-sync"}),
    "Deployment/airflow-triggerer": ("triggerer", {"git-sync-init"}, {"git-sync"}),
    "ConfigMap/airflow-config/pod_template_file.yaml": ("base", {"git-sync-init"}, set()),
}


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


def can_read(spec: dict, container: dict, volume: dict) -> bool:
    """Whether the container's process may read the files of a Secret volume, as the kubelet
    lays them out: owner root, group the pod's fsGroup (root when there is none), mode the
    volume's defaultMode (0644 when unset). The process: its uid (container, else pod
    runAsUser) and the groups Kubernetes gives it (runAsGroup, supplementalGroups, fsGroup);
    the image's own group is not counted (the pod does not say it)."""
    pod, own = spec.get("securityContext") or {}, container.get("securityContext") or {}
    uid = own.get("runAsUser", pod.get("runAsUser"))
    groups = set(pod.get("supplementalGroups", []))
    for group in (own.get("runAsGroup", pod.get("runAsGroup")), pod.get("fsGroup")):
        if group is not None:
            groups.add(group)
    mode = volume["secret"].get("defaultMode", 0o644)
    file_group = pod.get("fsGroup", 0)
    if uid is None:
        return False  # the image's user: unknown here
    return bool((uid == 0 and mode & 0o400) or (file_group in groups and mode & 0o040) or mode & 0o004)


def test_every_container_that_mounts_the_git_sync_key_can_read_it(chart):
    mounting = 0
    for pod, spec in pod_specs(chart).items():
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in containers(spec):
            for mount in container.get("volumeMounts", []):
                if mount["name"] == GIT_SYNC_KEY_VOLUME:
                    mounting += 1
                    volume = volumes[GIT_SYNC_KEY_VOLUME]
                    assert can_read(spec, container, volume), (
                        f"{pod}/{container['name']} cannot read its SSH key (mode {volume['secret'].get('defaultMode'):o},"
                        f" pod securityContext {spec.get('securityContext')})"
                    )
    assert mounting >= 5, "git-sync and git-sync-init in the DAG processor and triggerer, git-sync-init in task pods"


def test_the_key_check_catches_a_pod_context_without_fs_group(helm_bin, chart_tgz, tmp_path):
    """The values as they were (runAsNonRoot and seccomp only: the chart's runAsUser and fsGroup
    gone): git-sync (uid 65533) cannot read the key (0440, root:root)."""
    broken = copy.deepcopy(VALUES)
    del broken["securityContexts"]["pod"]["runAsUser"], broken["securityContexts"]["pod"]["fsGroup"]
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    docs = render_chart(helm_bin, chart_tgz, tmp_path, values=tmp_path / "broken.yaml")
    with pytest.raises(AssertionError, match=r"git-sync.* cannot read its SSH key"):
        test_every_container_that_mounts_the_git_sync_key_can_read_it(docs)


def test_the_pod_context_keeps_the_charts_user_and_group(chart_reference):
    """Our pod context replaces the chart's (runAsUser: uid, fsGroup: gid): both stay in it."""
    defaults = load_yaml(chart_reference / "values.yaml")
    pod = VALUES["securityContexts"]["pod"]
    assert pod["runAsUser"] == defaults["uid"] == 50000
    assert pod["fsGroup"] == defaults["gid"] == 0


def test_dags_reach_the_components_that_parse_or_run_them(chart):
    specs = pod_specs(chart)
    git_sync = VALUES["dags"]["gitSync"]
    config = of_kind(chart, "ConfigMap")["airflow-config"]["data"]["airflow.cfg"]
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(config)
    for pod, (main, init_names, sidecar_names) in DAG_CARRIERS.items():
        spec = specs[pod]
        (airflow,) = [c for c in spec["containers"] if c["name"] == main]
        (volume,) = [m["name"] for m in airflow["volumeMounts"] if m["mountPath"] == AIRFLOW_DAGS]
        inits = {c["name"]: c for c in spec.get("initContainers", [])}
        sidecars = {c["name"]: c for c in spec["containers"]}
        assert init_names <= set(inits), f"{pod}: {sorted(inits)}"
        assert sidecar_names <= set(sidecars), f"{pod}: {sorted(sidecars)}"
        for name in init_names | sidecar_names:
            syncer = inits.get(name) or sidecars[name]
            env = env_of(syncer)
            (root,) = [m["mountPath"] for m in syncer["volumeMounts"] if m["name"] == volume]
            assert env["GITSYNC_ROOT"] == root, f"{pod}/{name} writes where {main} reads"
            assert env["GITSYNC_REPO"] == git_sync["repo"] and env["GITSYNC_REF"] == git_sync["ref"]
            link = env["GITSYNC_LINK"]
        assert parser.get("core", "dags_folder") == f"{AIRFLOW_DAGS}/{link}/{git_sync['subPath']}"
    scheduler = specs["Deployment/airflow-scheduler"]
    assert not [c for c in containers(scheduler) if c["name"].startswith("git-sync")], (
        "Airflow 3's scheduler reads serialized DAGs; kubernetes/README.md says so"
    )


def test_every_rendered_container_has_requests_and_limits(chart):
    """Every container of every pod, the chart's sidecars included (a container without
    requests is scheduled as if it needed nothing; the LimitRange is only a fallback)."""
    for where, _pod, container in every_container(chart):
        resources = container.get("resources") or {}
        assert {"cpu", "memory"} <= set(resources.get("requests", {})), f"{where}: requests"
        assert "memory" in resources.get("limits", {}), f"{where}: memory limit"
