"""Deterministic Parquet and Dutch-Excel CSV files, and the all-or-nothing swap of a published folder."""

from __future__ import annotations

import fcntl
import filecmp
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from jeugdhulp.publish.catalogue import dutch_label, is_forbidden_column
from jeugdhulp.publish.dutch import csv_decimal, csv_float, half_year_label

STAGING_PREFIX = ".staging-"
RETIRED_PREFIX = ".retired-"
REPORT_FILE = "index.html"
LOCK_FILE = ".publish.lock"


def _check_columns(table: pa.Table, path: Path) -> None:
    forbidden = [name for name in table.column_names if is_forbidden_column(name)]
    if forbidden:
        raise AssertionError(
            f"refusing to write {path.name}: person-identifying column(s) {forbidden}"
        )


def write_parquet(table: pa.Table, path: Path) -> None:
    """English contract column names and types; same table → same bytes."""
    _check_columns(table, path)
    pq.write_table(table.replace_schema_metadata(None), path, compression="zstd")


def _csv_formatter(data_type: pa.DataType) -> Callable[[object], str]:
    if pa.types.is_decimal(data_type):
        return lambda value: csv_decimal(value)  # type: ignore[arg-type]
    if pa.types.is_floating(data_type):
        return lambda value: csv_float(value)  # type: ignore[arg-type]
    if pa.types.is_boolean(data_type):
        return lambda value: "ja" if value else "nee"
    if pa.types.is_date(data_type):
        return lambda value: value.isoformat()  # type: ignore[union-attr]
    if pa.types.is_timestamp(data_type):
        return lambda value: value.isoformat(sep=" ")  # type: ignore[union-attr]
    return str


# OWASP CSV injection: a text cell starting with one of these is a formula to a spreadsheet
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SUPPRESSED_COLUMN = "suppressed"  # the openbaar tier's row status (jeugdhulp/publish/openbaar.py)
SUPPRESSED_LABELS = {"primair": "primair (minder dan 5 personen)", "secundair": "secundair"}

# The CSV shows a coded value of these columns in Dutch words (the Parquet keeps the contract's
# value, for Power BI and scripts); a value not listed is shown as it is.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "signal": {
        "overschrijding": "overschrijding",
        "dreigende_overschrijding": "dreigende overschrijding",
        "onderbesteding": "onderbesteding",
        "op_koers": "op koers",
    },
    "status": {
        "akkoord": "akkoord",
        "verschil": "verschil",
        "geen_verantwoording": "geen verantwoording",
        "geen_declaraties": "geen declaraties",
    },
    "severity": {"error": "fout", "warn": "waarschuwing"},
    "dimension": {
        "total": "totaal",
        "provider": "aanbieder",
        "segment": "segment",
        "product_category": "productcategorie",
        "product_code": "product",
        "financing": "financieringsvorm",
        "hulpvorm": "hulpvorm",
    },
}
HALF_YEAR_COLUMNS = {"half_year"}  # '2025-H1' → '1e halfjaar 2025'


def inert_text(value: str) -> str:
    """A text value a spreadsheet shows as text, never runs: a leading = + - @ tab or CR gets a
    single quote in front (OWASP, CSV injection)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def write_csv(
    table: pa.Table, path: Path, markers: dict[str, dict[str, str]] | None = None
) -> None:
    """Dutch Excel dialect: UTF-8 with BOM, ';', decimal comma, ISO dates, Dutch headers, empty = NULL.

    Text cells are made inert (`inert_text`) and every text field is quoted. markers: per
    measure column, the text shown for a suppressed cell by its row's `suppressed` status
    (e.g. `<5` for a primary count, `x` for an amount) instead of an empty field.
    """
    _check_columns(table, path)
    formatters = [_csv_formatter(field.type) for field in table.schema]
    texts = [
        pa.types.is_string(field.type) or pa.types.is_large_string(field.type)
        for field in table.schema
    ]
    columns = [table.column(index).to_pylist() for index in range(table.num_columns)]
    names = table.column_names
    status = columns[names.index(SUPPRESSED_COLUMN)] if SUPPRESSED_COLUMN in names else None
    marks = [(markers or {}).get(name) for name in names]

    def field_text(index: int, row_number: int, value: object) -> str:
        if value is None:
            state = status[row_number] if status is not None else None
            if state and marks[index]:
                return marks[index][state]
            return ""
        if names[index] == SUPPRESSED_COLUMN:  # a text field like any other: quoted
            label = SUPPRESSED_LABELS.get(str(value), str(value))
            return '"' + inert_text(label).replace('"', '""') + '"'
        text = formatters[index](value)
        if texts[index]:
            name = names[index]
            if name in VALUE_LABELS:
                text = VALUE_LABELS[name].get(text, text)
            elif name in HALF_YEAR_COLUMNS:
                text = half_year_label(text)
            return '"' + inert_text(text).replace('"', '""') + '"'
        return text

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        header = ";".join(
            '"' + inert_text(dutch_label(name)).replace('"', '""') + '"' for name in names
        )
        handle.write(header + "\r\n")
        for number, row in enumerate(zip(*columns)):
            handle.write(
                ";".join(field_text(i, number, value) for i, value in enumerate(row)) + "\r\n"
            )


class Staging:
    """Builds every target folder beside the live ones, then swaps each in with a rename.

    A reader sees the old complete folder or the new complete one, never a half-written one.
    Entries in a live folder that publishing does not own (e.g. `regio/kwaliteit/`, the
    data-quality Data Docs) are copied into the new folder before the swap.
    """

    def __init__(self, published_dir: Path, owned: Callable[[str], bool]) -> None:
        self.published_dir = published_dir
        self.owned = owned
        published_dir.mkdir(parents=True, exist_ok=True)
        # one publisher at a time (the CLI and the UI may both start a run); waits for the other
        self._lock = (published_dir / LOCK_FILE).open("a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        for leftover in published_dir.iterdir():  # from a run that crashed
            if leftover.name.startswith((STAGING_PREFIX, RETIRED_PREFIX)):
                shutil.rmtree(leftover, ignore_errors=True)
        self.root = published_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
        self.root.mkdir()

    def folder(self, code: str) -> Path:
        """`code` may be nested: `intern/GM0546`, `openbaar/regio`."""
        path = self.root / code
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _same_content(self, new: Path, live: Path) -> bool:
        new_files = sorted(entry.name for entry in new.iterdir())
        live_owned = sorted(entry.name for entry in live.iterdir() if self.owned(entry.name))
        if new_files != live_owned:
            return False
        return all(
            (live / name).is_file() and filecmp.cmp(new / name, live / name, shallow=False)
            for name in new_files
        )

    def commit(self, code: str) -> bool:
        """Swap the staged folder in; False when the live folder already had the same content."""
        new, live = self.root / code, self.published_dir / code
        if live.is_dir() and self._same_content(new, live):
            shutil.rmtree(new)
            return False
        if live.is_dir():
            for entry in live.iterdir():
                if not self.owned(entry.name) and not (new / entry.name).exists():
                    if entry.is_dir():
                        shutil.copytree(entry, new / entry.name, symlinks=True)
                    else:
                        shutil.copy2(entry, new / entry.name)
            retired = self.published_dir / f"{RETIRED_PREFIX}{uuid.uuid4().hex}"
            live.rename(retired)
            new.rename(live)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            live.parent.mkdir(parents=True, exist_ok=True)
            new.rename(live)
        return True

    def retire(self, code: str) -> None:
        """Remove a live folder that is no longer published (e.g. a municipality code that vanished)."""
        live = self.published_dir / code
        retired = self.published_dir / f"{RETIRED_PREFIX}{uuid.uuid4().hex}"
        live.rename(retired)
        shutil.rmtree(retired, ignore_errors=True)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def stale_municipality_folders(published_dir: Path, keep: set[str]) -> list[str]:
    pattern = re.compile(r"^GM\d{4}$")
    if not published_dir.is_dir():
        return []
    return sorted(
        entry.name
        for entry in published_dir.iterdir()
        if entry.is_dir() and pattern.match(entry.name) and entry.name not in keep
    )
