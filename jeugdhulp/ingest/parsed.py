"""What parsing one landed file yields: rows per raw table, ready to become Arrow columns."""

from __future__ import annotations

from dataclasses import dataclass, field

from jeugdhulp.privacy.bsn import is_valid_bsn
from jeugdhulp.privacy.pseudonym import Pseudonymiser


@dataclass
class TableRows:
    columns: tuple[str, ...]  # raw column names, without file_id (added per file when batched)
    rows: list[tuple] = field(default_factory=list)


@dataclass
class ParsedFile:
    content_type: str  # JW301 ... JW325, providers, budget_ceilings, products, population, verantwoording, pgb
    tables: dict[str, TableRows]
    notes: list[str] = field(
        default_factory=list
    )  # worth telling the operator, not worth quarantine
    # raw table -> rows handed to a spool (a large CSV/XLSX, read in batches) instead of `tables`
    spooled: dict[str, int] = field(default_factory=dict)
    # an iJw message: its (sender, receiver, message_id, message_date), the header every row
    # carries, for message identity (ingest/message_identity.py); known without rows too
    message: tuple | None = None

    @property
    def row_count(self) -> int:
        return sum(len(t.rows) for t in self.tables.values()) + sum(self.spooled.values())


class ClientKeys:
    """BSN -> (client_key, bsn_valid). An invalid BSN still gets the pseudonym of what was given."""

    def __init__(self, key: str) -> None:
        self._pseudonymise = Pseudonymiser(key)
        self._cache: dict[str, tuple[str, bool]] = {}

    def __call__(self, bsn: str) -> tuple[str, bool]:
        found = self._cache.get(bsn)
        if found is None:
            # Pseudonymiser hashes ASCII; anything else is invalid anyway, so hash its UTF-8 escape
            safe = bsn if bsn.isascii() else bsn.encode("utf-8").hex()
            found = (self._pseudonymise(safe), is_valid_bsn(bsn))
            self._cache[bsn] = found
        return found
