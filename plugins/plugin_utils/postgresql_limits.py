# Copyright: (c) 2026, DataTech platform team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL's limits that both the input check and the tuning filter need (one home for each)."""

from __future__ import annotations

# max_connections may not exceed 262143. [CON]
MAX_CONNECTIONS = 262143
# Connection slots PostgreSQL keeps for superusers (superuser_reserved_connections, stock 3)
# and, from 16 on, for roles with pg_use_reserved_connections (reserved_connections, stock 0).
# Together they "must be less than max_connections", or the server does not start. [CON]
# [CON] https://www.postgresql.org/docs/current/runtime-config-connection.html
STOCK_RESERVED_CONNECTIONS = {"superuser_reserved_connections": 3, "reserved_connections": 0}
# The 25% shared_buffers advice is given for "a dedicated database server with 1GB or more
# of RAM"; below that it asks for a smaller share. [RES]
# [RES] https://www.postgresql.org/docs/current/runtime-config-resource.html
MIN_MEMORY_MB = 1024


def reserved_connections(settings):
    """The reserved slots by setting (as given when a count, 5 or "5", else stock); max_connections must exceed their sum."""
    reserved = {}
    for name, stock in STOCK_RESERVED_CONNECTIONS.items():
        value = (settings or {}).get(name, stock)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        reserved[name] = value if isinstance(value, int) and not isinstance(value, bool) else stock
    return reserved
