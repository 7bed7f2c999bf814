"""terraform/: the GPU rule for db01, no secret with a default, the written inventory and
the hosts' SSH keys (made by Terraform, installed by cloud-init, pinned in known_hosts).

The real stacks cannot be planned here (their providers come from the Terraform registry),
but a module made of a stack's variables.tf alone needs no provider: `terraform plan` on it
runs every variable validation for real.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import subprocess

import pytest
import yaml
from conftest import ROOT, TERRAFORM, load_hcl, render_template, stacks, tf_files, variables

MAIN = variables(TERRAFORM)

GPU_CASES = yaml.safe_load((ROOT / "tests" / "unit" / "fixtures" / "gpu_flavors.yml").read_text())
# Flavor names in the styles the GPU clouds use (illustrative, not a catalogue), then the real
# names of the fixture's catalogue_names (each with the page it was read from).
REAL = GPU_CASES["catalogue_names"]
GPU_FLAVORS = ["GL1.8-65536-1GPU", "gpu.1xa100.16.128", "A100.16.64", "SXM4-H100-1x", "g1-rtx4090-8-32", "Tesla-V100"]
GPU_FLAVORS += [case["name"] for case in REAL if case["gpu"]]
CPU_FLAVORS = ["SL1.4-8192", "m1.large", "standard.4-16", "PRC10.2-4096", "c4.xlarge", "general.8-32", "cpu-only-nogpu"]
CPU_FLAVORS += [case["name"] for case in REAL if not case["gpu"]]

# The rest of what a plan of the variables needs (db_flavor_name varies per test).
BASE_VARS = {
    "external_network_name": "external-network",
    "ssh_allowed_cidrs": '["203.0.113.0/24"]',
    "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample deploy@example",
    "image_name": "Debian 12 (Bookworm) 64-bit",
    "air_flavor_name": "SL1.4-8192",
    "db_flavor_name": "GL1.8-65536-1GPU",
}

SECRET_NAME = re.compile(r"(password|secret|token|private_key|access_key|api_key|credential)", re.IGNORECASE)


def expression(value: str) -> str:
    """A python-hcl2 expression ('${...}') as HCL text with single spaces."""
    assert value.startswith("${") and value.endswith("}"), value
    return " ".join(value[2:-1].split())


# --- the GPU rule ---------------------------------------------------------------------------


def test_db_flavor_validation_tests_the_name_against_the_gpu_patterns():
    rules = MAIN["db_flavor_name"]["validation"]
    conditions = [expression(rule["condition"]) for rule in rules]
    assert conditions == ["anytrue([for p in var.gpu_flavor_patterns : length(regexall(p, var.db_flavor_name)) > 0])"]
    assert "GPU" in rules[0]["error_message"]
    assert "default" not in MAIN["db_flavor_name"], "db01's flavor must be chosen, never defaulted"


def gpu_rule(flavor: str) -> bool:
    """The validation condition above, in Python: any pattern found in the flavor name.
    (The patterns use the subset of RE2 that Python's re reads the same way.)"""
    return any(re.search(pattern, flavor) for pattern in MAIN["gpu_flavor_patterns"]["default"])


@pytest.mark.parametrize("flavor", GPU_FLAVORS)
def test_gpu_rule_accepts_gpu_flavors(flavor):
    assert gpu_rule(flavor)


@pytest.mark.parametrize("flavor", CPU_FLAVORS)
def test_gpu_rule_refuses_flavors_without_a_gpu(flavor):
    assert not gpu_rule(flavor)


def resources_of(path, kind: str) -> dict[str, dict]:
    return {name: body for block in load_hcl(path).get("resource", []) for name, body in block.get(kind, {}).items()}


def test_the_flavor_gpu_check_guards_db01_and_can_be_skipped():
    """gpu.tf: the flavour lookup exists only with gpu_extra_spec_check (a cloud that refuses it
    is not asked), carries the GPU postcondition, and db01 waits for it."""
    (flavor,) = [b["openstack_compute_flavor_v2"]["db"] for b in load_hcl(TERRAFORM / "gpu.tf")["data"]]
    assert flavor["name"] == "${var.db_flavor_name}"
    assert expression(flavor["count"]) == "var.gpu_extra_spec_check ? 1 : 0"
    (postcondition,) = [p for lifecycle in flavor["lifecycle"] for p in lifecycle["postcondition"]]
    assert "pci_passthrough:alias" in postcondition["condition"] and "VGPU" in postcondition["condition"]
    db = resources_of(TERRAFORM / "instances.tf", "openstack_compute_instance_v2")["db"]
    assert db["flavor_name"] == "${var.db_flavor_name}", "the instance does not need the lookup to exist"
    assert "${data.openstack_compute_flavor_v2.db}" in db["depends_on"]


def terraform_gpu_rule(terraform_bin, tmp_path, cases: list[dict]) -> list[bool]:
    """gpu.tf's postcondition, as written there, evaluated by Terraform for each case's extra specs."""
    text = (TERRAFORM / "gpu.tf").read_text()
    condition = re.search(r"condition = (.*?)\n\s*error_message", text, re.DOTALL).group(1)
    assert "self.extra_specs" in condition
    (tmp_path / "main.tf").write_text('variable "cases" {\n  type = list(map(string))\n}\n')
    (tmp_path / "cases.tfvars.json").write_text(json.dumps({"cases": [case["extra_specs"] for case in cases]}))
    subprocess.run([terraform_bin, "init", "-input=false"], cwd=tmp_path, check=True, capture_output=True)
    expr = "jsonencode([for s in var.cases : " + " ".join(condition.replace("self.extra_specs", "s").split()) + "])"
    result = subprocess.run(
        [terraform_bin, "console", "-var-file=cases.tfvars.json"],
        cwd=tmp_path,
        input=expr + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(json.loads(result.stdout.strip()))


def test_terraform_applies_the_same_gpu_rule_as_the_python_function(terraform_bin, tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_flavor", ROOT / "tools" / "gpu_flavor.py")
    gpu_flavor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gpu_flavor)
    cases = GPU_CASES["gpu"] + GPU_CASES["not_gpu"]
    expected = [True] * len(GPU_CASES["gpu"]) + [False] * len(GPU_CASES["not_gpu"])
    assert [gpu_flavor.flavor_has_gpu(case["extra_specs"]) for case in cases] == expected
    got = terraform_gpu_rule(terraform_bin, tmp_path, cases)
    names = [f"{i}:{case['name']}" for i, case in enumerate(cases)]
    assert dict(zip(names, got, strict=True)) == dict(zip(names, expected, strict=True))


# --- db01's data volume ---------------------------------------------------------------------


def test_db01_data_lives_on_its_own_protected_volume():
    volume = resources_of(TERRAFORM / "db_volume.tf", "openstack_blockstorage_volume_v3")["db_data"]
    assert volume["size"] == "${var.db_data_volume_size}"
    assert volume["lifecycle"][0]["prevent_destroy"] is True
    attach = resources_of(TERRAFORM / "db_volume.tf", "openstack_compute_volume_attach_v2")["db_data"]
    assert attach["instance_id"] == "${openstack_compute_instance_v2.db.id}"
    assert attach["volume_id"] == "${openstack_blockstorage_volume_v3.db_data.id}"


def test_db01_boot_volume_changes_show_in_the_plan():
    """ignore_changes = [block_device] hid a bigger boot volume; only the image id is ignored now."""
    db = resources_of(TERRAFORM / "instances.tf", "openstack_compute_instance_v2")["db"]
    ignored = [item for lifecycle in db["lifecycle"] for item in lifecycle.get("ignore_changes", [])]
    assert "${block_device}" not in ignored and "block_device" not in ignored, ignored


# --- the Selectel cluster -------------------------------------------------------------------


def test_selectel_node_groups_say_whether_they_want_the_nvidia_plugin():
    groups = resources_of(TERRAFORM / "selectel-mks" / "main.tf", "selectel_mks_nodegroup_v1")
    assert groups["general"]["install_nvidia_device_plugin"] is False
    assert groups["gpu"]["install_nvidia_device_plugin"] is True


def test_selectel_cluster_uses_cluster_type_and_a_provider_that_has_it():
    cluster = resources_of(TERRAFORM / "selectel-mks" / "main.tf", "selectel_mks_cluster_v1")["airflow"]
    assert "zonal" not in cluster, "zonal is deprecated (provider 7.8.0): cluster_type"
    assert "BASIC" in cluster["cluster_type"] and "HIGH_AVAILABILITY" in cluster["cluster_type"]
    (versions,) = load_hcl(TERRAFORM / "selectel-mks" / "versions.tf")["terraform"]
    pin = versions["required_providers"][0]["selectel"]["version"]
    lower = re.search(r">=\s*([0-9.]+)", pin).group(1)
    assert tuple(map(int, lower.split("."))) >= (7, 8, 0), pin


@pytest.fixture(scope="module")
def variables_module(tmp_path_factory, terraform_bin):
    """The platform stack's variables.tf alone, initialised: plan needs no provider."""
    work = tmp_path_factory.mktemp("tf-variables")
    shutil.copy(TERRAFORM / "variables.tf", work / "variables.tf")
    subprocess.run(
        [terraform_bin, "init", "-backend=false", "-input=false", "-no-color"],
        cwd=work,
        check=True,
        capture_output=True,
    )

    def plan(**overrides) -> subprocess.CompletedProcess:
        args = [terraform_bin, "plan", "-input=false", "-no-color", "-lock=false"]
        for name, value in {**BASE_VARS, **overrides}.items():
            args += ["-var", f"{name}={value}"]
        return subprocess.run(args, cwd=work, capture_output=True, text=True, check=False)

    return plan


@pytest.mark.parametrize("flavor", GPU_FLAVORS)
def test_terraform_accepts_gpu_flavors(variables_module, flavor):
    result = variables_module(db_flavor_name=flavor)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("flavor", CPU_FLAVORS)
def test_terraform_refuses_a_db_flavor_without_gpu(variables_module, flavor):
    result = variables_module(db_flavor_name=flavor)
    assert result.returncode != 0
    assert "db_flavor_name must be a GPU flavor" in " ".join(result.stderr.split())


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0"])
def test_terraform_refuses_ssh_from_the_whole_internet(variables_module, cidr):
    result = variables_module(ssh_allowed_cidrs=f'["{cidr}"]')
    assert result.returncode != 0
    assert "must not open SSH to the whole internet" in " ".join(result.stderr.split())


def test_terraform_accepts_the_example_tfvars(tmp_path, terraform_bin):
    shutil.copy(TERRAFORM / "variables.tf", tmp_path / "variables.tf")
    shutil.copy(TERRAFORM / "terraform.tfvars.example", tmp_path / "terraform.tfvars")
    subprocess.run(
        [terraform_bin, "init", "-backend=false", "-input=false"], cwd=tmp_path, check=True, capture_output=True
    )
    result = subprocess.run(
        [terraform_bin, "plan", "-input=false", "-no-color", "-lock=false"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


# --- variables: secrets, validation, documentation -------------------------------------------


@pytest.mark.parametrize("stack", stacks(), ids=lambda path: path.relative_to(TERRAFORM.parent).as_posix())
def test_no_secret_has_a_default(stack):
    for name, body in variables(stack).items():
        secret = body.get("sensitive") is True or (SECRET_NAME.search(name) and "public" not in name)
        if secret:
            assert "default" not in body, f"{stack.name}: secret variable {name} has a default"
            assert body.get("sensitive") is True, f"{stack.name}: variable {name} holds a secret: mark it sensitive"


@pytest.mark.parametrize("stack", stacks(), ids=lambda path: path.relative_to(TERRAFORM.parent).as_posix())
def test_every_variable_is_typed_and_described(stack):
    for name, body in variables(stack).items():
        assert body.get("type"), f"{name}: no type"
        assert body.get("description"), f"{name}: no description"


@pytest.mark.parametrize("stack", stacks(), ids=lambda path: path.relative_to(TERRAFORM.parent).as_posix())
def test_required_inputs_are_validated(stack):
    """Every input without a default, secrets aside, has a validation block (or is an opaque ID)."""
    opaque = {"network_id", "subnet_id", "selectel_username"}
    for name, body in variables(stack).items():
        if "default" not in body and name not in opaque:
            assert body.get("validation"), f"{stack.name}: required variable {name} has no validation"


def test_no_credentials_in_any_terraform_file():
    for path in [*tf_files(), *TERRAFORM.rglob("*.example")]:
        text = path.read_text()
        assert not re.search(r"(?im)^\s*(access_key|secret_key|password|token)\s*=\s*\"", text), path


def test_providers_are_pinned_with_an_upper_bound():
    for stack in stacks():
        blocks = [block for path in stack.glob("*.tf") for block in load_hcl(path).get("terraform", [])]
        assert any(block.get("required_version") for block in blocks), stack
        for block in blocks:
            for providers in block.get("required_providers", []):
                for name, spec in providers.items():
                    if name.startswith("__"):
                        continue
                    assert "<" in spec["version"], f"{stack.name}: provider {name} has no upper bound"


def test_remote_state_example_parses_and_holds_no_key():
    backend = load_hcl(TERRAFORM / "backend.tf.example")["terraform"][0]["backend"][0]["s3"]
    assert backend["key"].endswith(".tfstate")
    assert backend["use_lockfile"] is True
    assert not {"access_key", "secret_key"} & set(backend)


def test_selectel_stack_makes_a_cluster_and_a_node_group():
    main = load_hcl(TERRAFORM / "selectel-mks" / "main.tf")
    kinds = {kind for block in main["resource"] for kind in block}
    assert {"selectel_mks_cluster_v1", "selectel_mks_nodegroup_v1"} <= kinds


# --- the inventory Terraform writes ---------------------------------------------------------

INVENTORY_VALUES = {
    "ssh_user": "debian",
    "db_private_ip": "10.20.0.10",
    "air_private_ip": "10.20.0.20",
    "air_public_ip": "198.51.100.7",
    "kubernetes_cidr": "10.20.1.0/24",
    "known_hosts_path": "/srv/mlops/inventories/cloud/known_hosts.txt",
    "db_data_device": "/dev/disk/by-id/virtio-3f2c6d1e-8a4b-4c2d-9",
}


def local_file(name: str) -> dict:
    """A local_file resource of inventory.tf."""
    resources = load_hcl(TERRAFORM / "inventory.tf")["resource"]
    return next(block["local_file"][name] for block in resources if name in block.get("local_file", {}))


def templatefile_call(call: str, template: str) -> dict[str, str]:
    """The arguments of a templatefile() call as python-hcl2 gives it
    ('${templatefile("…/x.tftpl", {a = expr, b = expr})}'): name -> expression text."""
    assert f"templates/{template}" in call
    body = call[call.index("{", call.index("tftpl")) + 1 : call.rindex("}", 0, call.rindex(")"))]
    items, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(body):
        if char == '"' and body[index - 1] != "\\":
            quoted = not quoted
        elif not quoted and char in "([{":
            depth += 1
        elif not quoted and char in ")]}":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            items.append(body[start:index])
            start = index + 1
    items.append(body[start:])
    return {name.strip(): value.strip() for name, _eq, value in (item.partition(" = ") for item in items)}


def templatefile_arguments() -> set[str]:
    """The names inventory.tf passes to templatefile()."""
    return set(templatefile_call(local_file("inventory")["content"], "inventory.yml.tftpl"))


def test_template_uses_exactly_what_inventory_tf_passes():
    template = (TERRAFORM / "templates" / "inventory.yml.tftpl").read_text()
    assert set(re.findall(r"\$\{(\w+)\}", template)) == templatefile_arguments() == set(INVENTORY_VALUES)


def test_inventory_renders_db01_and_air01_in_their_groups():
    rendered = yaml.safe_load(render_template(TERRAFORM / "templates" / "inventory.yml.tftpl", INVENTORY_VALUES))
    children = rendered["all"]["children"]
    assert set(children) == {"db", "airflow", "mlflow"}
    # MLflow runs on the Airflow host: its group is made of the airflow group.
    assert children["mlflow"] == {"children": {"airflow": None}}
    assert set(children["db"]["hosts"]) == {"db01"}
    assert set(children["airflow"]["hosts"]) == {"air01"}
    db01 = children["db"]["hosts"]["db01"]
    air01 = children["airflow"]["hosts"]["air01"]
    assert db01["ansible_host"] == db01["cloud_private_ip"] == "10.20.0.10"
    assert air01["ansible_host"] == "198.51.100.7" and air01["cloud_private_ip"] == "10.20.0.20"
    assert "debian@198.51.100.7" in db01["ansible_ssh_common_args"], "db01 is reached through air01"
    assert rendered["all"]["vars"]["cloud_kubernetes_cidr"] == "10.20.1.0/24"


def test_inventory_gives_db01_its_data_volume_by_its_stable_name():
    """virtio shows a volume's id, cut to 20 characters, as the disk's serial: the by-id link
    the guest makes whatever order the disks attach in. Read through the attachment, so the
    inventory is written once the volume is attached."""
    device = templatefile_call(local_file("inventory")["content"], "inventory.yml.tftpl")["db_data_device"]
    assert "/dev/disk/by-id/virtio-" in device
    assert "substr(openstack_compute_volume_attach_v2.db_data.volume_id, 0, 20)" in device
    rendered = yaml.safe_load(render_template(TERRAFORM / "templates" / "inventory.yml.tftpl", INVENTORY_VALUES))
    db01 = rendered["all"]["children"]["db"]["hosts"]["db01"]
    assert db01["postgresql_data_volume_device"] == INVENTORY_VALUES["db_data_device"]
    assert "postgresql_data_volume_device" not in rendered["all"]["children"]["airflow"]["hosts"]["air01"]


def test_inventory_lands_next_to_the_cloud_group_vars():
    inventory = load_hcl(TERRAFORM / "inventory.tf")
    assert "../inventories/cloud/hosts.yml" in inventory["locals"][0]["inventory_path"]
    for group in ("all", "db", "airflow"):
        assert (TERRAFORM.parent / "inventories" / "cloud" / "group_vars" / group / "main.yml").is_file()


def test_addresses_match_the_production_example():
    """db01 and air01 keep the addresses of inventories/production (and of the NetworkPolicy)."""
    instances = (TERRAFORM / "instances.tf").read_text()
    assert "cidrhost(var.subnet_cidr, 10)" in instances and "cidrhost(var.subnet_cidr, 20)" in instances
    assert MAIN["subnet_cidr"]["default"] == "10.20.0.0/24"


# --- SSH host keys: made by Terraform, installed by cloud-init, pinned in the inventory -----

KNOWN_HOSTS_VALUES = {name: INVENTORY_VALUES[name] for name in ("db_private_ip", "air_private_ip", "air_public_ip")}


@pytest.fixture(scope="module")
def host_keys(tmp_path_factory) -> dict[str, dict[str, str]]:
    """A real ED25519 pair per host, in the attributes tls_private_key gives (OpenSSH format)."""
    ssh_keygen = shutil.which("ssh-keygen")
    if ssh_keygen is None:
        pytest.skip("no ssh-keygen on PATH: the host keys are not generated")
    work = tmp_path_factory.mktemp("host-keys")
    keys = {}
    for name in ("db01", "air01"):
        path = work / name
        subprocess.run([ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True)
        keys[name] = {
            "private_key_openssh": path.read_text(),
            "public_key_openssh": path.with_suffix(".pub").read_text(),
        }
    return keys


def instances() -> dict[str, dict]:
    """The openstack_compute_instance_v2 resources, by their inventory_hostname."""
    found = {}
    for block in load_hcl(TERRAFORM / "instances.tf")["resource"]:
        for body in block.get("openstack_compute_instance_v2", {}).values():
            found[body["metadata"]["inventory_hostname"]] = body
    return found


def test_tls_provider_is_pinned():
    blocks = load_hcl(TERRAFORM / "versions.tf")["terraform"]
    (tls,) = [providers["tls"] for block in blocks for providers in block["required_providers"] if "tls" in providers]
    assert tls["source"] == "hashicorp/tls"
    assert re.fullmatch(r">= 4\.\d+\.\d+, < 5\.0\.0", tls["version"]), "ED25519 needs 4.x; an upper bound"


def test_each_instance_gets_an_ed25519_host_key_through_user_data():
    (keys,) = [block["tls_private_key"]["host"] for block in load_hcl(TERRAFORM / "host_keys.tf")["resource"]]
    assert keys["algorithm"] == "ED25519"
    hosts = instances()
    assert set(hosts) == {"db01", "air01"}
    assert keys["for_each"] == '${toset(["db01", "air01"])}'
    for name, body in hosts.items():
        assert body["user_data"] == f'${{local.host_key_user_data["{name}"]}}', name
        # cloud-init reads user_data once: a change must not rebuild the host (db01's data).
        (lifecycle,) = body["lifecycle"]
        assert "user_data" in lifecycle["ignore_changes"], name


def test_user_data_installs_the_key_pair_and_deletes_the_images_keys(tmp_path, terraform_bin, host_keys):
    """host_keys.tf's locals evaluated by Terraform itself, with tls_private_key's attributes
    given as a variable: the cloud-config each host boots with."""
    text = (TERRAFORM / "host_keys.tf").read_text()
    locals_block = text[text.index("\nlocals {") :]
    assert "tls_private_key.host" in locals_block
    (tmp_path / "main.tf").write_text(
        'variable "host_keys" {\n  type = map(object({ private_key_openssh = string, public_key_openssh = string }))\n}\n'
        + locals_block.replace("tls_private_key.host", "var.host_keys")
        + '\noutput "user_data" {\n  value = local.host_key_user_data\n}\n'
    )
    (tmp_path / "keys.auto.tfvars.json").write_text(json.dumps({"host_keys": host_keys}))
    run = {"cwd": tmp_path, "capture_output": True, "text": True}
    subprocess.run([terraform_bin, "init", "-backend=false", "-input=false", "-no-color"], check=True, **run)
    subprocess.run(
        [terraform_bin, "apply", "-auto-approve", "-input=false", "-no-color", "-lock=false"], check=True, **run
    )
    output = subprocess.run([terraform_bin, "output", "-json", "user_data"], check=True, **run)
    user_data = json.loads(output.stdout)
    assert set(user_data) == {"db01", "air01"}
    for name, text in user_data.items():
        assert text.startswith("#cloud-config\n"), "cloud-init reads user data as cloud-config only after this line"
        assert yaml.safe_load(text) == {
            "ssh_deletekeys": True,
            "ssh_keys": {
                "ed25519_private": host_keys[name]["private_key_openssh"],
                "ed25519_public": host_keys[name]["public_key_openssh"].strip(),
            },
        }, name


def test_known_hosts_is_written_beside_the_inventory_with_each_hosts_key():
    inventory = load_hcl(TERRAFORM / "inventory.tf")
    assert (
        inventory["locals"][0]["known_hosts_path"] == '${abspath("${dirname(local.inventory_path)}/known_hosts.txt")}'
    )
    known_hosts = local_file("known_hosts")
    assert known_hosts["filename"] == "${local.known_hosts_path}"
    assert known_hosts["content"] == "${local.known_hosts}"
    arguments = templatefile_call(inventory["locals"][0]["known_hosts"], "known_hosts.tftpl")
    assert arguments["db_host_key"] == 'trimspace(tls_private_key.host["db01"].public_key_openssh)'
    assert arguments["air_host_key"] == 'trimspace(tls_private_key.host["air01"].public_key_openssh)'
    template = (TERRAFORM / "templates" / "known_hosts.tftpl").read_text()
    assert (
        set(re.findall(r"\$\{(\w+)\}", template))
        == set(arguments)
        == {*KNOWN_HOSTS_VALUES, "db_host_key", "air_host_key"}
    )
    # The inventory names the file Terraform wrote (and so is written after it).
    assert templatefile_call(local_file("inventory")["content"], "inventory.yml.tftpl")["known_hosts_path"] == (
        "local_file.known_hosts.filename"
    )
    assert "inventories/cloud/known_hosts.txt" in (ROOT / ".gitignore").read_text().splitlines()


def test_ssh_finds_each_host_in_known_hosts_by_name_and_address(tmp_path, host_keys):
    """The rendered file as OpenSSH reads it (ssh-keygen -F looks a host up as ssh does)."""
    values = {
        **KNOWN_HOSTS_VALUES,
        "db_host_key": host_keys["db01"]["public_key_openssh"].strip(),
        "air_host_key": host_keys["air01"]["public_key_openssh"].strip(),
    }
    known_hosts = tmp_path / "known_hosts.txt"
    known_hosts.write_text(render_template(TERRAFORM / "templates" / "known_hosts.tftpl", values))
    expected = {
        "db01": ["db01", "10.20.0.10"],
        "air01": ["air01", "198.51.100.7", "10.20.0.20"],
    }
    for name, lookups in expected.items():
        key = host_keys[name]["public_key_openssh"].split()[1]
        for lookup in lookups:
            found = subprocess.run(
                ["ssh-keygen", "-F", lookup, "-f", str(known_hosts)], capture_output=True, text=True, check=False
            )
            assert found.returncode == 0 and key in found.stdout, f"{lookup}: {found.stdout}"
            assert len([line for line in found.stdout.splitlines() if not line.startswith("#")]) == 1
    unknown = subprocess.run(
        ["ssh-keygen", "-F", "10.20.0.99", "-f", str(known_hosts)], capture_output=True, check=False
    )
    assert unknown.returncode != 0


def ssh_options(args: str) -> list[str]:
    """The -o options of an ansible_ssh_common_args value, as Ansible splits it (shlex)."""
    words = shlex.split(args)
    assert words[::2] == ["-o"] * (len(words) // 2) and len(words) % 2 == 0, words
    return words[1::2]


def test_inventory_checks_every_host_key_against_terraforms_known_hosts():
    rendered = yaml.safe_load(render_template(TERRAFORM / "templates" / "inventory.yml.tftpl", INVENTORY_VALUES))
    path = INVENTORY_VALUES["known_hosts_path"]
    pinned = [f"UserKnownHostsFile={path}", "StrictHostKeyChecking=yes"]
    # air01 (and any host without its own args) takes the group's.
    assert ssh_options(rendered["all"]["vars"]["ansible_ssh_common_args"]) == pinned
    assert "ansible_ssh_common_args" not in rendered["all"]["children"]["airflow"]["hosts"]["air01"]
    # db01 replaces them (a host variable wins): the same two, and a jump that checks air01 too.
    db01 = ssh_options(rendered["all"]["children"]["db"]["hosts"]["db01"]["ansible_ssh_common_args"])
    assert db01[:2] == pinned
    (proxy,) = [option.removeprefix("ProxyCommand=") for option in db01 if option.startswith("ProxyCommand=")]
    jump = shlex.split(proxy)
    assert jump[:3] == ["ssh", "-W", "%h:%p"] and jump[-1] == "debian@198.51.100.7"
    assert ssh_options(" ".join(jump[3:-1])) == pinned
    for template in (TERRAFORM / "templates").iterdir():
        assert not re.search(r"StrictHostKeyChecking=(no|accept-new|off)", template.read_text()), template


def test_ssh_reads_the_inventorys_options_as_strict_checking_against_that_file():
    """`ssh -G` prints the configuration ssh would use (no connection): checking is strict
    and the only known hosts file is Terraform's, for db01's jump as well."""
    ssh = shutil.which("ssh")
    if ssh is None:
        pytest.skip("no ssh on PATH")
    rendered = yaml.safe_load(render_template(TERRAFORM / "templates" / "inventory.yml.tftpl", INVENTORY_VALUES))
    db01 = rendered["all"]["children"]["db"]["hosts"]["db01"]
    proxy = next(o for o in ssh_options(db01["ansible_ssh_common_args"]) if o.startswith("ProxyCommand="))
    jump = shlex.split(proxy.removeprefix("ProxyCommand="))
    cases = [
        (shlex.split(rendered["all"]["vars"]["ansible_ssh_common_args"]), "198.51.100.7"),
        (shlex.split(db01["ansible_ssh_common_args"]), "10.20.0.10"),
        (jump[3:-1], jump[-1]),
    ]
    for args, host in cases:
        result = subprocess.run([ssh, "-G", "-F", "/dev/null", *args, host], capture_output=True, text=True, check=True)
        config = dict(line.split(" ", 1) for line in result.stdout.splitlines())
        assert config["stricthostkeychecking"] == "true", host
        assert config["userknownhostsfile"] == INVENTORY_VALUES["known_hosts_path"], host


# --- required arguments of the providers' resources (tests/infra/provider_schemas.yml) --------

SCHEMAS = yaml.safe_load((ROOT / "tests" / "infra" / "provider_schemas.yml").read_text())


def blocks_in_stacks():
    """(file, "resource"/"data", type, name, body) of every resource and data block."""
    for path in tf_files():
        parsed = load_hcl(path)
        for kind in ("resource", "data"):
            for block in parsed.get(kind, []):
                for type_name, named in block.items():
                    for name, body in named.items():
                        yield path, kind, type_name, name, body


def missing_arguments(kind: str, type_name: str, body: dict) -> list[str]:
    entry = SCHEMAS[kind][type_name]
    written = set(body) | {d for block in body.get("dynamic", []) for d in block}
    missing = [arg for arg in entry["required"] if arg not in written]
    for block_name, required in entry.get("blocks", {}).items():
        for block in body.get(block_name, []):
            missing += [f"{block_name}.{arg}" for arg in required if arg not in block]
    return missing


def test_every_resource_type_we_use_has_a_schema_entry():
    for path, kind, type_name, name, _body in blocks_in_stacks():
        assert type_name in SCHEMAS[kind], f"{path.name}: {kind} {type_name}.{name}: add it to provider_schemas.yml"
        assert SCHEMAS[kind][type_name]["source"], type_name


def test_every_required_argument_is_set_and_no_deprecated_one_is_used():
    for path, kind, type_name, name, body in blocks_in_stacks():
        assert not missing_arguments(kind, type_name, body), f"{path.name}: {type_name}.{name}"
        deprecated = set(SCHEMAS[kind][type_name].get("deprecated", [])) & set(body)
        assert not deprecated, f"{path.name}: {type_name}.{name} uses deprecated {deprecated}"


def test_the_schema_entries_cover_the_pins_we_declare():
    declared = {}
    for stack in stacks():
        for path in stack.glob("*.tf"):
            for block in load_hcl(path).get("terraform", []):
                for providers in block.get("required_providers", []):
                    declared |= {name: spec["version"] for name, spec in providers.items() if not name.startswith("__")}
    for name, version in declared.items():
        assert SCHEMAS["providers"][name]["pin"] == version, f"{name}: pin moved, re-read the schemas"


def test_the_schema_check_catches_a_missing_required_argument():
    groups = resources_of(TERRAFORM / "selectel-mks" / "main.tf", "selectel_mks_nodegroup_v1")
    general = {k: v for k, v in groups["general"].items() if k != "install_nvidia_device_plugin"}
    assert missing_arguments("resource", "selectel_mks_nodegroup_v1", general) == ["install_nvidia_device_plugin"]
    taint = {**groups["gpu"], "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]}
    assert missing_arguments("resource", "selectel_mks_nodegroup_v1", taint) == ["taints.value"]
