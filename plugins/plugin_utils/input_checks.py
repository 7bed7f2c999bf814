# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the roles' input-check filters: check types, run the checks, find duplicate names."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence

# What each expected kind is called in messages.
KINDS = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a dict"}


def kind_of(value):
    """How a message names what was given (never the value itself: it may be a secret)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a dict"
    if isinstance(value, Sequence):
        return "a list"
    return f"a {type(value).__name__}"


def has_kind(value, kind):
    """Whether value is of kind (str, int, bool, list or dict); a boolean is not an integer."""
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is dict:
        return isinstance(value, Mapping)
    if kind is list:
        return isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    return isinstance(value, kind)


def _type_fix(value, kind, nested):
    if value is None:
        return f"give {KINDS[kind]}, or leave the {'key' if nested else 'variable'} out to get the default"
    if kind is str and isinstance(value, (int, float, bool)):
        return "quote the value in YAML so that it stays a string"
    if kind is int and isinstance(value, str):
        return "write the number without quotes"
    if kind is bool and isinstance(value, str):
        return "write true or false without quotes"
    return f"give {KINDS[kind]}"


def type_errors(spec, value, where):
    """Messages for every value that is not of the kind spec expects, at any depth.

    spec is a kind (str, int, bool, list, dict), [spec] for a list whose elements follow
    spec, or {key: spec} for a dict whose listed keys (when present) follow theirs. where
    names the value as the user wrote it, e.g. postgresql_users[0].name.
    """
    kind = list if isinstance(spec, list) else dict if isinstance(spec, dict) else spec
    if not has_kind(value, kind):
        shown = f"the {where}* variables" if where.endswith("_") else where
        nested = "." in where or "[" in where
        return [f"{shown}: got {kind_of(value)}, not {KINDS[kind]}; {_type_fix(value, kind, nested)}."]
    if isinstance(spec, list):
        return [error for i, item in enumerate(value) for error in type_errors(spec[0], item, f"{where}[{i}]")]
    if isinstance(spec, dict):
        return [
            error
            for key, sub in spec.items()
            if key in value
            for error in type_errors(sub, value[key], _join(where, key))
        ]
    return []


def _join(where, key):
    """cfg keys are variable names without the role's prefix; entry keys follow a dot."""
    return f"{where}{key}" if where.endswith("_") else f"{where}.{key}"


def clean_path(path):
    """The path without '..', '.', doubled or trailing slashes (normpath keeps a leading '//')."""
    return "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else posixpath.normpath(path)


def collect(checks, cfg):
    """Run every check on the role's variables; return all messages, in order."""
    return [message for check in checks for message in check(cfg)]


def duplicates(names):
    """Names that occur more than once, each reported once, in first-seen order."""
    seen, repeated = set(), []
    for name in names:
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    return repeated
