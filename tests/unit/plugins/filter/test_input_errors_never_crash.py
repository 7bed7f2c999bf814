# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Any value of any kind, in any key the input checks read, gives messages, never a traceback."""

from __future__ import annotations

import copy
import itertools
import types

import pytest
import test_airflow_input_errors as airflow
import test_postgresql_backup_errors as backup
import test_postgresql_input_errors as postgresql
from ansible.errors import AnsibleFilterError
from plugin_loader import load_plugin

HOSTILE = [None, 0, -1, True, 1.5, "", "x", "a\nb", "\u00a0", "#", [], ["x"], [None], {}, {"a": 1}, "z" * 5000]


def _paths(spec, path=()):
    """Every key path the spec names: top-level keys, and keys of the first list entry."""
    if isinstance(spec, dict):
        for key, sub in spec.items():
            yield (*path, key)
            yield from _paths(sub, (*path, key))
    elif isinstance(spec, list):
        yield from _paths(spec[0], (*path, 0))


def _set(cfg, path, value):
    """Put value at path, making the entries on the way (a list's first entry, a dict's key)."""
    target = cfg
    for step, following in itertools.pairwise(path):
        if isinstance(step, int) and not target:
            target.append({})
        elif isinstance(step, str) and step not in target:
            target[step] = [] if following == 0 else {}
        target = target[step]
    if isinstance(path[-1], int) and not target:
        target.append(value)
    else:
        target[path[-1]] = value


def _cases(module):
    for path in _paths(module.plugin.TYPES):
        for value in HOSTILE:
            yield module, path, value


# The backup checks by repository type: the S3 ones run only for an S3 repository.
backup_s3 = types.SimpleNamespace(
    __name__="test_backup_s3", plugin=backup.plugin, GOOD=backup.GOOD_S3, check=backup.check
)
CASES = [*_cases(postgresql), *_cases(airflow), *_cases(backup), *_cases(backup_s3)]


@pytest.mark.parametrize(
    ("module", "path", "value"),
    CASES,
    ids=[f"{m.__name__[5:]}-{'.'.join(map(str, p))}-{i % len(HOSTILE)}" for i, (m, p, _value) in enumerate(CASES)],
)
def test_messages_not_tracebacks(module, path, value):
    cfg = copy.deepcopy(module.GOOD)
    _set(cfg, path, value)
    errors = module.check(cfg)
    assert isinstance(errors, list)
    assert all(isinstance(message, str) for message in errors)


tune = load_plugin("plugins/filter/postgresql_tuning.py").postgresql_tuning


@pytest.mark.parametrize("key", ["memory_mb", "cpus", "profile", "storage", "max_connections", "gpu"])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_tuning_raises_only_filter_errors(key, value):
    host = {"memory_mb": 4096, "cpus": 2, key: value}
    try:
        tune(host)
    except AnsibleFilterError as error:
        assert str(error).startswith("postgresql_tuning: ")
