# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the datatech.mlops.postgresql_tuning filter."""

from __future__ import annotations

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from plugin_loader import load_plugin

plugin = load_plugin("plugins/filter/postgresql_tuning.py")
tune = plugin.FilterModule().filters()["postgresql_tuning"]
kb = plugin.parse_memory

KB_PER_MB = 1024
EXPECTED_KEYS = {
    "max_connections",
    "shared_buffers",
    "effective_cache_size",
    "maintenance_work_mem",
    "work_mem",
    "wal_buffers",
    "min_wal_size",
    "max_wal_size",
    "checkpoint_completion_target",
    "random_page_cost",
    "effective_io_concurrency",
    "default_statistics_target",
    "max_worker_processes",
    "max_parallel_workers",
    "max_parallel_workers_per_gather",
    "max_parallel_maintenance_workers",
    "jit",
}
# PostgreSQL's stock values for the parallel settings.
STOCK_PARALLEL = {
    "max_worker_processes": 8,
    "max_parallel_workers": 8,
    "max_parallel_workers_per_gather": 2,
    "max_parallel_maintenance_workers": 2,
}

SMALL = {"memory_mb": 4 * 1024, "cpus": 2}
MEDIUM = {"memory_mb": 64 * 1024, "cpus": 16, "profile": "analytics"}
GPU = {"memory_mb": 512 * 1024, "cpus": 64, "profile": "analytics", "gpu": True}
HOSTS = {
    "small-2c-4g-mixed": SMALL,
    "medium-16c-64g-analytics": MEDIUM,
    "gpu-64c-512g-analytics": GPU,
}


@pytest.fixture(params=list(HOSTS.values()), ids=list(HOSTS))
def host(request):
    return request.param


def _ram_kb(host):
    return host["memory_mb"] * KB_PER_MB


def test_produces_exactly_the_documented_settings(host):
    assert set(tune(host)) == EXPECTED_KEYS


def test_values_are_plain_scalars(host):
    for name, value in tune(host).items():
        assert type(value) in (str, int, float, bool), name


def test_shared_buffers_follows_the_25_percent_advice(host):
    ratio = kb(tune(host)["shared_buffers"]) / _ram_kb(host)
    assert 0.15 <= ratio <= 0.40


def test_effective_cache_size_is_half_to_three_quarters_of_ram(host):
    ratio = kb(tune(host)["effective_cache_size"]) / _ram_kb(host)
    assert 0.50 <= ratio <= 0.80


def test_worst_case_memory_fits_in_ram(host):
    settings = tune(host)
    worst = (
        kb(settings["shared_buffers"])
        + settings["max_connections"] * kb(settings["work_mem"])
        + kb(settings["maintenance_work_mem"])
    )
    assert worst <= _ram_kb(host)


def test_work_mem_and_maintenance_stay_within_bounds(host):
    settings = tune(host)
    assert 4 * KB_PER_MB <= kb(settings["work_mem"]) <= 2 * 1024 * KB_PER_MB
    assert 64 * KB_PER_MB <= kb(settings["maintenance_work_mem"]) <= 2 * 1024 * KB_PER_MB


def test_worker_pools_nest(host):
    settings = tune(host)
    assert (
        settings["max_worker_processes"]
        >= settings["max_parallel_workers"]
        >= settings["max_parallel_workers_per_gather"]
        >= 1
    )
    assert settings["max_parallel_workers"] >= settings["max_parallel_maintenance_workers"] >= 1


def test_parallel_settings_never_below_stock(host):
    settings = tune(host)
    for name, stock in STOCK_PARALLEL.items():
        assert settings[name] >= stock, name


def test_small_host_keeps_stock_parallel_behaviour():
    settings = tune(SMALL)
    for name, stock in STOCK_PARALLEL.items():
        assert settings[name] >= stock, name
    assert settings["jit"] == "on"


@pytest.mark.parametrize("profile", ["oltp", "mixed", "analytics"])
@pytest.mark.parametrize("cpus", [1, 2, 3])
def test_tiny_hosts_never_regress_stock_parallelism(profile, cpus):
    settings = tune({"memory_mb": 1024, "cpus": cpus, "profile": profile})
    for name, stock in STOCK_PARALLEL.items():
        assert settings[name] >= stock, name


def test_gpu_host_has_room_for_pg_strom_workers():
    settings = tune(GPU)
    assert settings["max_worker_processes"] >= 100
    assert settings["max_worker_processes"] > settings["max_parallel_workers"]


def test_gpu_flag_only_raises_worker_processes():
    without_gpu = tune(dict(GPU, gpu=False))
    with_gpu = tune(GPU)
    assert with_gpu["max_worker_processes"] > without_gpu["max_worker_processes"]
    del with_gpu["max_worker_processes"], without_gpu["max_worker_processes"]
    assert with_gpu == without_gpu


def test_medium_analytics_values():
    settings = tune(MEDIUM)
    assert settings["shared_buffers"] == "16GB"
    assert settings["effective_cache_size"] == "48GB"
    assert settings["maintenance_work_mem"] == "2GB"
    assert settings["min_wal_size"] == "4GB"
    assert settings["max_wal_size"] == "16GB"
    assert settings["default_statistics_target"] == 500
    assert settings["max_parallel_workers_per_gather"] == 8
    assert settings["jit"] == "on"


def test_small_mixed_values():
    settings = tune(SMALL)
    assert settings["shared_buffers"] == "1GB"
    assert settings["effective_cache_size"] == "3GB"
    assert settings["maintenance_work_mem"] == "256MB"
    assert settings["wal_buffers"] == "16MB"
    assert settings["max_wal_size"] == "4GB"
    assert settings["checkpoint_completion_target"] == 0.9
    assert settings["max_connections"] == 100


def test_defaults_are_mixed_ssd_100_connections_no_gpu():
    explicit = {
        "profile": "mixed",
        "storage": "ssd",
        "max_connections": 100,
        "gpu": False,
    }
    assert tune(SMALL) == tune(dict(SMALL, **explicit))


def test_ssd_is_cheaper_for_random_reads_than_hdd():
    ssd = tune(dict(MEDIUM, storage="ssd"))
    hdd = tune(dict(MEDIUM, storage="hdd"))
    assert ssd["random_page_cost"] == 1.1
    assert hdd["random_page_cost"] == 4.0
    assert ssd["random_page_cost"] < hdd["random_page_cost"]
    assert ssd["effective_io_concurrency"] > hdd["effective_io_concurrency"]


def test_oltp_turns_jit_off_and_shares_work_mem_more_thinly():
    oltp = tune(dict(MEDIUM, profile="oltp"))
    analytics = tune(MEDIUM)
    assert oltp["jit"] == "off"
    assert kb(oltp["work_mem"]) < kb(analytics["work_mem"])
    assert oltp["max_parallel_workers_per_gather"] <= analytics["max_parallel_workers_per_gather"]


def test_more_connections_mean_less_work_mem_but_still_fit():
    host = dict(SMALL, max_connections=1000)
    settings = tune(host)
    assert kb(settings["work_mem"]) < kb(tune(SMALL)["work_mem"])
    worst = kb(settings["shared_buffers"]) + 1000 * kb(settings["work_mem"]) + kb(settings["maintenance_work_mem"])
    assert worst <= _ram_kb(host)


def test_input_is_not_modified():
    host = dict(SMALL)
    tune(host)
    assert host == SMALL


@pytest.mark.parametrize(
    ("kilobytes", "text"),
    [
        (1048576, "1GB"),
        (1536 * KB_PER_MB, "1536MB"),
        (512 * KB_PER_MB, "512MB"),
        (64, "64kB"),
        (1000, "1000kB"),
        (4 * 1024 * 1024 * KB_PER_MB, "4TB"),
        (0, "0kB"),
    ],
)
def test_memory_formatting_round_trips(kilobytes, text):
    assert plugin.format_memory(kilobytes) == text
    assert plugin.parse_memory(text) == kilobytes


@pytest.mark.parametrize("bad", [-1, 1.5, "1GB", True, None])
def test_memory_formatting_rejects_non_sizes(bad):
    with pytest.raises(AnsibleFilterError):
        plugin.format_memory(bad)


@pytest.mark.parametrize("bad", ["1 GB", "1gb", "GB", "1.5GB", "", "12"])
def test_memory_parsing_rejects_garbage(bad):
    with pytest.raises(AnsibleFilterError):
        plugin.parse_memory(bad)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        pytest.param({"cpus": 4}, "memory_mb", id="memory_mb-missing"),
        pytest.param({"memory_mb": 4096}, "cpus", id="cpus-missing"),
        pytest.param({"memory_mb": 0, "cpus": 4}, "memory_mb", id="memory_mb-zero"),
        pytest.param({"memory_mb": -4096, "cpus": 4}, "memory_mb", id="memory_mb-negative"),
        pytest.param({"memory_mb": 512, "cpus": 4}, "memory_mb", id="memory_mb-below-1GiB"),
        pytest.param({"memory_mb": "4096", "cpus": 4}, "memory_mb", id="memory_mb-str"),
        pytest.param({"memory_mb": 4096.0, "cpus": 4}, "memory_mb", id="memory_mb-float"),
        pytest.param({"memory_mb": True, "cpus": 4}, "memory_mb", id="memory_mb-bool"),
        pytest.param({"memory_mb": 4096, "cpus": 0}, "cpus", id="cpus-zero"),
        pytest.param({"memory_mb": 4096, "cpus": -2}, "cpus", id="cpus-negative"),
        pytest.param({"memory_mb": 4096, "cpus": "2"}, "cpus", id="cpus-str"),
        pytest.param({"memory_mb": 4096, "cpus": None}, "cpus", id="cpus-none"),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "profile": "olap"},
            "profile",
            id="profile-unknown",
        ),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "profile": "OLTP"},
            "profile",
            id="profile-case",
        ),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "profile": None},
            "profile",
            id="profile-none",
        ),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "storage": "nvme"},
            "storage",
            id="storage-unknown",
        ),
        pytest.param({"memory_mb": 4096, "cpus": 2, "storage": 1}, "storage", id="storage-int"),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "max_connections": 0},
            "max_connections",
            id="conn-zero",
        ),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "max_connections": 300000},
            "max_connections",
            id="conn-too-large",
        ),
        pytest.param(
            {"memory_mb": 4096, "cpus": 2, "max_connections": "100"},
            "max_connections",
            id="conn-str",
        ),
        pytest.param(
            {"memory_mb": 1024, "cpus": 2, "max_connections": 50000},
            "max_connections",
            id="conn-exhaust-ram",
        ),
        pytest.param({"memory_mb": 4096, "cpus": 2, "gpu": "yes"}, "gpu", id="gpu-str"),
        pytest.param({"memory_mb": 4096, "cpus": 2, "gpu": 1}, "gpu", id="gpu-int"),
        pytest.param({"memory_mb": 4096, "cpus": 2, "ram": 4096}, "ram", id="unknown-key"),
        pytest.param({"memory_mb": 4096, "cpus": 2, "GPU": True}, "GPU", id="unknown-key-case"),
    ],
)
def test_invalid_input_names_the_key(host, key):
    with pytest.raises(AnsibleFilterError, match=key):
        tune(host)


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    [
        ("profile", "olap", ["'oltp'", "'mixed'", "'analytics'"]),
        ("storage", "nvme", ["'ssd'", "'hdd'"]),
        (
            "ram",
            1,
            [
                "'memory_mb'",
                "'cpus'",
                "'profile'",
                "'storage'",
                "'max_connections'",
                "'gpu'",
            ],
        ),
    ],
)
def test_invalid_input_lists_accepted_values(key, value, accepted):
    with pytest.raises(AnsibleFilterError) as caught:
        tune(dict(SMALL, **{key: value}))
    for word in accepted:
        assert word in str(caught.value)


@pytest.mark.parametrize("host", [None, [], "memory_mb=4096", 4096], ids=repr)
def test_host_must_be_a_dict(host):
    with pytest.raises(AnsibleFilterError, match="host"):
        tune(host)


def test_documentation_parses_and_names_the_filter():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc["name"] == "postgresql_tuning"
    suboptions = doc["options"]["_input"]["suboptions"]
    assert set(suboptions) == {
        "memory_mb",
        "cpus",
        "profile",
        "storage",
        "max_connections",
        "gpu",
    }
    assert suboptions["profile"]["choices"] == list(plugin.PROFILES)
    assert suboptions["storage"]["choices"] == list(plugin.STORAGE_TYPES)
    for key, default in plugin.DEFAULTS.items():
        assert suboptions[key]["default"] == default, key


def test_examples_and_return_parse():
    assert isinstance(yaml.safe_load(plugin.EXAMPLES), list)
    returned = yaml.safe_load(plugin.RETURN)["_value"]
    assert set(returned["sample"]) == EXPECTED_KEYS
    assert returned["sample"] == tune(MEDIUM)


def test_few_connections_are_the_input_checks_rule():
    """PostgreSQL's minimum (more than its reserved slots) is checked once, by postgresql_input_errors."""
    assert tune({"memory_mb": 4096, "cpus": 2, "max_connections": 3})["max_connections"] == 3
