"""Helpers the example DAGs share (mlops_ingest_customers, mlops_train_churn_model); no DAG here.

Airflow puts the DAG folder (the bundle) on sys.path when it parses a file and when a task
runs, so a DAG file imports this module by name. It holds only names and SQL text: parsing a
DAG that imports it costs nothing more (no database driver, no numpy).
"""

from __future__ import annotations

import re

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def variables(defaults: dict[str, str]) -> dict[str, str]:
    """Templates that Airflow renders when a task runs: each variable's value, or its default."""
    return {key: f"{{{{ var.value.get('{key}', '{default}') }}}}" for key, default in defaults.items()}


def table_name(value: str, setting: str) -> str:
    """A schema-qualified table name from a variable, refused unless it is plain schema.table."""
    if not _TABLE_NAME.match(value):
        raise ValueError(f"Airflow variable {setting} = {value!r}: expected schema.table (letters, digits, _)")
    return value


def staging_table(schema: str, published: str) -> str:
    """Where a published table's rows wait before they are published: <staging schema>.<table>_incoming."""
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"Airflow variable mlops_staging_schema = {schema!r}: expected a plain schema name")
    return f"{schema}.{published.split('.')[1]}_incoming"


def batches_table(customers: str) -> str:
    """The list of published batches (batch id, when, row counts), beside the customers table."""
    return f"{customers}_batches"


def create_schema_sql(schema: str) -> str:
    """CREATE SCHEMA only where it is missing: CREATE SCHEMA IF NOT EXISTS needs the right to
    create schemas in the database even when the schema exists, and the DAGs' user has rights
    on the schemas the platform made (staging, ml), not on the database."""
    if not _IDENTIFIER.match(schema):
        raise ValueError(f"{schema!r}: expected a plain schema name")
    return f"DO $$BEGIN IF to_regnamespace('{schema}') IS NULL THEN CREATE SCHEMA {schema}; END IF; END$$"
