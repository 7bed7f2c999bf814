# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared by the roles' input-check filters: run the checks, find duplicate names."""

from __future__ import annotations


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
