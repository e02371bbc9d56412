"""dbt-duckdb plugin (dbt_project/profiles.yml) that puts the case-key secret into every DuckDB
session of a dbt run as the variable `jeugdhulp_case_key_secret`, read by
macros/case_key.sql. dbt lets only the profile read DBT_ENV_SECRET_* variables; this is how the
value reaches SQL without appearing in any compiled model. Empty: the variable is not set and
mart_top_clients stays empty (jeugdhulp/privacy/case_key.py)."""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

VARIABLE = "jeugdhulp_case_key_secret"


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._secret = str(plugin_config.get("secret") or "")

    def configure_connection(self, conn) -> None:
        self._set(conn)

    def configure_cursor(self, cursor) -> None:
        self._set(cursor)

    def _set(self, target) -> None:
        if self._secret:
            target.execute(f"SET VARIABLE {VARIABLE} = ?", [self._secret])
