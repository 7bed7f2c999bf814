# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Derive a starting postgresql.conf for a host from its size and workload.

Why a filter: no module computes settings (community.postgresql's postgresql_set applies
them); the arithmetic on memory units is unreadable in Jinja and each rule has a unit test.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: postgresql_tuning
short_description: Compute starting PostgreSQL settings for a host
description:
  - Takes a description of a database host (RAM, CPU count, workload profile,
    storage type, connection limit and whether PG-Strom runs on a GPU) and
    returns a dictionary of C(postgresql.conf) settings as PostgreSQL accepts them.
  - Memory settings are returned as strings with an integer and a unit (C(kB),
    C(MB), C(GB) or C(TB)), using the largest unit that represents the value
    exactly; counts are integers and planner costs are floats.
  - The rules follow the PostgreSQL documentation on resource consumption and
    query planning, and PG-Strom's recommended configuration. They are a
    starting point to be refined by measurement, not a replacement for it.
  - Parallel-query settings never go below PostgreSQL's stock values, so that
    small hosts keep the out-of-the-box behaviour.
  - The memory settings keep a theoretical worst case within the host's RAM,
    C(shared_buffers), plus C(work_mem) for every connection, plus
    C(maintenance_work_mem) for one maintenance command and for each of the
    stock 3 autovacuum workers.
version_added: 0.1.0
author: DataTech platform team
positional: _input
options:
  _input:
    description: The host to tune for.
    type: dict
    required: true
    suboptions:
      memory_mb:
        description:
          - Total RAM of the host in MiB, for example C(ansible_facts.memtotal_mb).
          - Must be at least 1024; PostgreSQL's sizing advice assumes a dedicated
            server with 1GB of RAM or more.
        type: int
        required: true
      cpus:
        description: Number of CPU cores (or vCPUs) available to PostgreSQL.
        type: int
        required: true
      profile:
        description:
          - Workload profile.
          - V(oltp) is many short transactions, V(analytics) is few long,
            CPU- and memory-heavy queries, V(mixed) is in between.
        type: str
        choices: [oltp, mixed, analytics]
        default: mixed
      storage:
        description: Kind of storage holding the data directory.
        type: str
        choices: [ssd, hdd]
        default: ssd
      max_connections:
        description:
          - Maximum number of client connections (1 to 262143).
          - PostgreSQL's own minimum (more than its reserved connections) is the role's input
            check, P(datatech.mlops.postgresql_input_errors#filter).
        type: int
        default: 100
      gpu:
        description:
          - Whether the host runs the PG-Strom extension on a GPU.
          - PG-Strom's own background workers need a larger C(max_worker_processes).
        type: bool
        default: false
notes:
  - Settings that need a restart (C(shared_buffers), C(max_worker_processes),
    C(max_connections), C(wal_buffers)) only take effect after PostgreSQL restarts.
  - Loading PG-Strom (C(shared_preload_libraries)) is not part of the output.
seealso:
  - name: PostgreSQL resource consumption settings
    description: shared_buffers, work_mem, maintenance_work_mem and worker processes.
    link: https://www.postgresql.org/docs/current/runtime-config-resource.html
  - name: PostgreSQL query planning settings
    description: effective_cache_size, random_page_cost and default_statistics_target.
    link: https://www.postgresql.org/docs/current/runtime-config-query.html
  - name: PG-Strom installation
    description: Recommended postgresql.conf settings for PG-Strom.
    link: https://heterodb.github.io/pg-strom/install/
"""

EXAMPLES = r"""
- name: Compute settings for an analytics host from its facts
  ansible.builtin.set_fact:
    pg_settings: >-
      {{ {'memory_mb': ansible_facts['memtotal_mb'],
          'cpus': ansible_facts['processor_vcpus'],
          'profile': 'analytics'} | datatech.mlops.postgresql_tuning }}

- name: Apply them
  community.postgresql.postgresql_set:
    name: "{{ item.key }}"
    value: "{{ item.value }}"
  loop: "{{ pg_settings | dict2items }}"

# {'memory_mb': 4096, 'cpus': 2} | datatech.mlops.postgresql_tuning gives
#   shared_buffers: 1GB, effective_cache_size: 3GB, work_mem: 10MB,
#   maintenance_work_mem: 256MB, max_parallel_workers_per_gather: 2, ...
- name: A GPU host running PG-Strom
  ansible.builtin.debug:
    msg: >-
      {{ {'memory_mb': 524288, 'cpus': 64, 'profile': 'analytics', 'gpu': true}
         | datatech.mlops.postgresql_tuning }}
"""

RETURN = r"""
_value:
  description:
    - PostgreSQL setting names mapped to values ready for C(postgresql.conf).
    - Keys are C(max_connections), C(shared_buffers), C(effective_cache_size),
      C(maintenance_work_mem), C(work_mem), C(wal_buffers), C(min_wal_size),
      C(max_wal_size), C(checkpoint_completion_target), C(random_page_cost),
      C(effective_io_concurrency), C(default_statistics_target),
      C(max_worker_processes), C(max_parallel_workers),
      C(max_parallel_workers_per_gather), C(max_parallel_maintenance_workers)
      and C(jit).
  type: dict
  sample:
    max_connections: 100
    shared_buffers: 16GB
    effective_cache_size: 48GB
    maintenance_work_mem: 2GB
    work_mem: 409MB
    wal_buffers: 16MB
    min_wal_size: 4GB
    max_wal_size: 16GB
    checkpoint_completion_target: 0.9
    random_page_cost: 1.1
    effective_io_concurrency: 200
    default_statistics_target: 500
    max_worker_processes: 16
    max_parallel_workers: 16
    max_parallel_workers_per_gather: 8
    max_parallel_maintenance_workers: 4
    jit: 'on'
"""

# Imports go below the documentation blocks, as ansible-test requires.
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.datatech.mlops.plugins.plugin_utils.postgresql_limits import MAX_CONNECTIONS, MIN_MEMORY_MB

# Sources cited below:
#   [RES] https://www.postgresql.org/docs/current/runtime-config-resource.html
#   [QRY] https://www.postgresql.org/docs/current/runtime-config-query.html
#   [WAL] https://www.postgresql.org/docs/current/runtime-config-wal.html
#   [JIT] https://www.postgresql.org/docs/current/jit-decision.html
#   [CON] https://www.postgresql.org/docs/current/runtime-config-connection.html
#   [WIKI] https://wiki.postgresql.org/wiki/Tuning_Your_PostgreSQL_Server
#   [STROM] https://heterodb.github.io/pg-strom/install/

# ---------------------------------------------------------------- units ---

KB_PER_MB = 1024
KB_PER_GB = 1024 * KB_PER_MB
KB_PER_TB = 1024 * KB_PER_GB
# PostgreSQL memory units, largest first (kB is the smallest it accepts).
MEMORY_UNITS = (("TB", KB_PER_TB), ("GB", KB_PER_GB), ("MB", KB_PER_MB), ("kB", 1))

# ---------------------------------------------------------------- input ---

PROFILES = ("oltp", "mixed", "analytics")
STORAGE_TYPES = ("ssd", "hdd")
DEFAULTS = {"profile": "mixed", "storage": "ssd", "max_connections": 100, "gpu": False}
REQUIRED_KEYS = ("memory_mb", "cpus")
ACCEPTED_KEYS = REQUIRED_KEYS + tuple(DEFAULTS)

# MIN_MEMORY_MB and MAX_CONNECTIONS live in plugin_utils/postgresql_limits.py, shared with
# the role's input check. The tuning itself needs only one connection or more (it shares
# memory among them); PostgreSQL's own minimum is the input check's rule.
MIN_CONNECTIONS = 1

# ----------------------------------------------------------- stock values ---
# PostgreSQL's out-of-the-box values; tuning never goes below these. [RES]
STOCK_SHARED_BUFFERS_KB = 128 * KB_PER_MB
STOCK_WORK_MEM_KB = 4 * KB_PER_MB
STOCK_MAINTENANCE_WORK_MEM_KB = 64 * KB_PER_MB
STOCK_MAX_WORKER_PROCESSES = 8
STOCK_MAX_PARALLEL_WORKERS = 8
STOCK_MAX_PARALLEL_WORKERS_PER_GATHER = 2
STOCK_MAX_PARALLEL_MAINTENANCE_WORKERS = 2
STOCK_AUTOVACUUM_MAX_WORKERS = 3

# ------------------------------------------------------------------ memory ---

# "a reasonable starting value for shared_buffers is 25% of the memory";
# more than 40% is unlikely to work better. [RES]
SHARED_BUFFERS_FRACTION = 0.25
# PG-Strom also finds the stock 128MB too small and shows 10GB as an example;
# 25% reaches that on hosts with 40GiB or more. [STROM]
# effective_cache_size counts OS cache + shared_buffers: half of RAM is the
# conservative choice, three quarters more aggressive but reasonable. [WIKI]
EFFECTIVE_CACHE_FRACTION = 0.75
# maintenance_work_mem may be "significantly larger than work_mem"; 1/16 of
# RAM, capped because autovacuum may use autovacuum_max_workers times it. [RES]
MAINTENANCE_WORK_MEM_DIVISOR = 16
MAINTENANCE_WORK_MEM_CAP_KB = 2 * KB_PER_GB
# work_mem is per sort/hash operation and per session, so the total "could be
# many times the value of work_mem". [RES] Concurrent operations assumed per
# connection, by profile:
WORK_MEM_OPS_PER_CONNECTION = {"oltp": 3, "mixed": 2, "analytics": 1}
# PG-Strom shows work_mem = 1GB for analytic plans [STROM]; it is used only
# where the worst-case budget below allows it.
WORK_MEM_CAP_KB = 2 * KB_PER_GB
WORK_MEM_MIN_KB = 64  # PostgreSQL's minimum for work_mem. [RES]

# ---------------------------------------------------------------- WAL/IO ---

# wal_buffers=-1 picks 1/32 of shared_buffers capped at one WAL segment
# (16MB), which it reaches once shared_buffers >= 512MB. [WAL]
WAL_BUFFERS_KB = 16 * KB_PER_MB
# max_wal_size is a soft limit (stock 1GB); larger shared_buffers "usually
# require a corresponding increase in max_wal_size". [RES] [WAL]
WAL_SIZE_KB = {
    "oltp": (1 * KB_PER_GB, 4 * KB_PER_GB),
    "mixed": (1 * KB_PER_GB, 4 * KB_PER_GB),
    "analytics": (4 * KB_PER_GB, 16 * KB_PER_GB),
}
CHECKPOINT_COMPLETION_TARGET = 0.9  # stock since PostgreSQL 14. [WAL]
# SSDs "might also be better modeled with a lower value for
# random_page_cost, e.g., 1.1"; 4.0 is the stock value for spinning disks. [QRY]
RANDOM_PAGE_COST = {"ssd": 1.1, "hdd": 4.0}
# "SSDs and other memory-based storage can often process many concurrent
# requests, so the best value might be in the hundreds"; for magnetic
# drives, start from the number of drives in the stripe/mirror. [RES]
EFFECTIVE_IO_CONCURRENCY = {"ssd": 200, "hdd": 2}
# Larger targets make ANALYZE slower but may improve estimates. [QRY]
DEFAULT_STATISTICS_TARGET = {"oltp": 100, "mixed": 100, "analytics": 500}

# ---------------------------------------------------------------- workers ---

# PG-Strom uses several background workers itself, so the stock 8 is too
# small: "max_worker_processes = 100". [STROM]
PGSTROM_MIN_WORKER_PROCESSES = 100
# Room kept for PG-Strom's own workers on top of one parallel worker per core.
PGSTROM_WORKER_HEADROOM = STOCK_MAX_WORKER_PROCESSES
# Per-Gather limits: (cores per worker, upper cap) by profile.
PER_GATHER_RULE = {"oltp": (None, 2), "mixed": (4, 4), "analytics": (2, 16)}
MAINTENANCE_WORKERS_CAP = 4

# -------------------------------------------------------------------- JIT ---

# "JIT compilation is beneficial primarily for long-running CPU-bound
# queries ... For short queries the added overhead ... will often be higher
# than the time it can save." [JIT]
JIT = {"oltp": "off", "mixed": "on", "analytics": "on"}


def format_memory(kb):
    """Format a size in kB as PostgreSQL memory text in the largest exact unit.

    >>> format_memory(1048576)
    '1GB'
    >>> format_memory(1536 * 1024)
    '1536MB'
    """
    if isinstance(kb, bool) or not isinstance(kb, int) or kb < 0:
        raise AnsibleFilterError(f"postgresql_tuning: memory size must be a non-negative int of kB, got {kb!r}")
    for unit, factor in MEMORY_UNITS:
        if kb and kb % factor == 0:
            return f"{kb // factor}{unit}"
    return f"{kb}kB"


def parse_memory(text):
    """Parse PostgreSQL memory text such as '512MB' back into kB."""
    value = str(text).strip()
    for unit, factor in MEMORY_UNITS:
        number = value[: -len(unit)]
        if value.endswith(unit) and number.isdigit():
            return int(number) * factor
    raise AnsibleFilterError(f"postgresql_tuning: cannot parse memory value {text!r}")


def _floor_mb(kb):
    """Round down to whole MB for readability; sizes under 1MB stay in kB."""
    return kb - kb % KB_PER_MB if kb >= KB_PER_MB else kb


def _choices(values):
    return ", ".join(repr(value) for value in values)


def _check_int(key, value, minimum, maximum=None):
    upper = f" and at most {maximum}" if maximum is not None else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AnsibleFilterError(
            f"postgresql_tuning: host.{key} must be an int of at least {minimum}{upper}, "
            f"got {type(value).__name__} {value!r}"
        )
    if value < minimum or (maximum is not None and value > maximum):
        raise AnsibleFilterError(f"postgresql_tuning: host.{key} must be at least {minimum}{upper}, got {value}")


def _check_choice(key, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise AnsibleFilterError(f"postgresql_tuning: host.{key} must be one of {_choices(choices)}, got {value!r}")


def _validate(host):
    """Check the host description and return it with defaults filled in."""
    if not isinstance(host, Mapping):
        raise AnsibleFilterError(
            f"postgresql_tuning: host must be a dict with keys {_choices(ACCEPTED_KEYS)}, got {type(host).__name__}"
        )
    unknown = sorted(str(key) for key in host if key not in ACCEPTED_KEYS)
    if unknown:
        raise AnsibleFilterError(
            f"postgresql_tuning: unknown key(s) {_choices(unknown)} in host; "
            f"accepted keys are {_choices(ACCEPTED_KEYS)}"
        )
    missing = [key for key in REQUIRED_KEYS if key not in host]
    if missing:
        raise AnsibleFilterError(f"postgresql_tuning: host.{missing[0]} is required (an int)")

    settings = dict(DEFAULTS)
    settings.update(host)
    _check_int("memory_mb", settings["memory_mb"], MIN_MEMORY_MB)
    _check_int("cpus", settings["cpus"], 1)
    _check_int("max_connections", settings["max_connections"], MIN_CONNECTIONS, MAX_CONNECTIONS)
    _check_choice("profile", settings["profile"], PROFILES)
    _check_choice("storage", settings["storage"], STORAGE_TYPES)
    if not isinstance(settings["gpu"], bool):
        raise AnsibleFilterError(f"postgresql_tuning: host.gpu must be a bool (true or false), got {settings['gpu']!r}")
    return settings


def _shared_buffers_kb(ram_kb):
    return max(STOCK_SHARED_BUFFERS_KB, _floor_mb(int(ram_kb * SHARED_BUFFERS_FRACTION)))


def _effective_cache_size_kb(ram_kb):
    return _floor_mb(int(ram_kb * EFFECTIVE_CACHE_FRACTION))


def _maintenance_work_mem_kb(ram_kb):
    share = _floor_mb(ram_kb // MAINTENANCE_WORK_MEM_DIVISOR)
    return min(MAINTENANCE_WORK_MEM_CAP_KB, max(STOCK_MAINTENANCE_WORK_MEM_KB, share))


def _work_mem_kb(ram_kb, shared_buffers_kb, maintenance_kb, connections, profile):
    """Share what shared_buffers and maintenance leave among the connections.

    The stock 4MB is a floor unless even one operation per connection at
    that size would overcommit RAM; the worst case must fit in any case.
    """
    reserved = shared_buffers_kb + (1 + STOCK_AUTOVACUUM_MAX_WORKERS) * maintenance_kb
    budget = ram_kb - reserved
    hard_limit = budget // connections
    preferred = budget // (connections * WORK_MEM_OPS_PER_CONNECTION[profile])
    work_mem = _floor_mb(min(WORK_MEM_CAP_KB, hard_limit, max(STOCK_WORK_MEM_KB, preferred)))
    if work_mem < WORK_MEM_MIN_KB:
        raise AnsibleFilterError(
            f"postgresql_tuning: max_connections {connections} is too many for {ram_kb // KB_PER_MB} MiB of RAM: "
            f"work_mem would drop below {WORK_MEM_MIN_KB}kB; lower max_connections (in the postgresql role: "
            "postgresql_max_connections) or tune for more memory (postgresql_tuning_memory_mb)."
        )
    return work_mem


def _memory_settings(host):
    ram_kb = host["memory_mb"] * KB_PER_MB
    shared_buffers = _shared_buffers_kb(ram_kb)
    maintenance = _maintenance_work_mem_kb(ram_kb)
    work_mem = _work_mem_kb(ram_kb, shared_buffers, maintenance, host["max_connections"], host["profile"])
    return {
        "shared_buffers": format_memory(shared_buffers),
        "effective_cache_size": format_memory(_effective_cache_size_kb(ram_kb)),
        "maintenance_work_mem": format_memory(maintenance),
        "work_mem": format_memory(work_mem),
    }


def _wal_settings(profile):
    min_wal, max_wal = WAL_SIZE_KB[profile]
    return {
        "wal_buffers": format_memory(WAL_BUFFERS_KB),
        "min_wal_size": format_memory(min_wal),
        "max_wal_size": format_memory(max_wal),
        "checkpoint_completion_target": CHECKPOINT_COMPLETION_TARGET,
    }


def _planner_settings(profile, storage):
    return {
        "random_page_cost": RANDOM_PAGE_COST[storage],
        "effective_io_concurrency": EFFECTIVE_IO_CONCURRENCY[storage],
        "default_statistics_target": DEFAULT_STATISTICS_TARGET[profile],
    }


def _max_worker_processes(cpus, gpu):
    if gpu:
        return max(PGSTROM_MIN_WORKER_PROCESSES, cpus + PGSTROM_WORKER_HEADROOM)
    return max(STOCK_MAX_WORKER_PROCESSES, cpus)


def _per_gather(cpus, profile):
    cores_per_worker, cap = PER_GATHER_RULE[profile]
    wanted = cpus // cores_per_worker if cores_per_worker else cap
    return max(STOCK_MAX_PARALLEL_WORKERS_PER_GATHER, min(cap, wanted))


def _parallel_settings(cpus, profile, gpu):
    """Worker pools: per-gather <= parallel workers <= worker processes. [RES]

    Parallel workers are taken from max_worker_processes, so a larger
    max_parallel_workers has no effect; none go below the stock values.
    """
    worker_processes = _max_worker_processes(cpus, gpu)
    parallel_workers = min(worker_processes, max(STOCK_MAX_PARALLEL_WORKERS, cpus))
    maintenance_workers = max(STOCK_MAX_PARALLEL_MAINTENANCE_WORKERS, min(MAINTENANCE_WORKERS_CAP, cpus // 2))
    return {
        "max_worker_processes": worker_processes,
        "max_parallel_workers": parallel_workers,
        "max_parallel_workers_per_gather": min(parallel_workers, _per_gather(cpus, profile)),
        "max_parallel_maintenance_workers": min(parallel_workers, maintenance_workers),
    }


def postgresql_tuning(host):
    """Return postgresql.conf settings for the described host."""
    host = _validate(host)
    settings = {"max_connections": host["max_connections"]}
    settings.update(_memory_settings(host))
    settings.update(_wal_settings(host["profile"]))
    settings.update(_planner_settings(host["profile"], host["storage"]))
    settings.update(_parallel_settings(host["cpus"], host["profile"], host["gpu"]))
    settings["jit"] = JIT[host["profile"]]
    return settings


class FilterModule:
    """PostgreSQL tuning filter."""

    def filters(self):
        return {
            "postgresql_tuning": postgresql_tuning,
            "postgresql_size_kb": parse_memory,
        }
