"""Helpers for the landing-zone robustness tests: accountability CSVs of any size, hostile XLSX files
(a zip bomb, a huge declared dimension) and a peak-memory measurement of an ingestion run."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl

ACCOUNTABILITY_HEADER = (
    "boekjaar;agb_code;gemeente_code;productcategorie;productcode;volume;eenheid;bedrag_eur;"
    "aantal_clienten;accountantsverklaring;datum_aanlevering\n"
)


def accountability_line(number: int) -> str:
    return (
        f"2025;12345678;0546;45;45A48;{number % 97},5;04;{number % 1000}.{number % 100:02d};"
        f"{number % 13};ja;01-04-2026\n"
    )


def accountability_csv(rows: int) -> bytes:
    return (ACCOUNTABILITY_HEADER + "".join(map(accountability_line, range(rows)))).encode()


def write_accountability_csv(path: Path, rows: int, batch: int = 100_000) -> None:
    """A large accountability CSV written in batches (the test itself stays small in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(ACCOUNTABILITY_HEADER)
        for start in range(0, rows, batch):
            out.write("".join(map(accountability_line, range(start, min(rows, start + batch)))))


def accountability_xlsx(rows: int = 3) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(ACCOUNTABILITY_HEADER.strip().split(";"))
    for number in range(rows):
        sheet.append(accountability_line(number).strip().split(";"))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _rewrite_zip(data: bytes, change) -> bytes:
    """The same XLSX with some members changed: change(name, bytes) -> bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as original:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as copy:
            for info in original.infolist():
                copy.writestr(info.filename, change(info.filename, original.read(info.filename)))
    return out.getvalue()


def xlsx_bomb(inflated_bytes: int = 110 * 2**20) -> bytes:
    """A valid small XLSX whose first sheet inflates to `inflated_bytes` of empty rows after the
    data (a zip bomb: ~1000x)."""
    one = b"<row/>"

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        head, tail = body.rsplit(b"</sheetData>", 1)
        return head + one * (inflated_bytes // len(one)) + b"</sheetData>" + tail

    return _rewrite_zip(accountability_xlsx(), change)


def xlsx_declaring(ref: str, last_row: int | None = None) -> bytes:
    """A valid small XLSX whose first sheet declares the dimension `ref` (e.g. A1:XFD1048576) and,
    with `last_row`, has an empty but formatted cell in that row (as Excel leaves behind)."""

    def change(name: str, body: bytes) -> bytes:
        if name != "xl/worksheets/sheet1.xml":
            return body
        body = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{ref}"'.encode(), body)
        if last_row is not None:
            far = f'<row r="{last_row}"><c r="A{last_row}" s="0"/></row></sheetData>'
            body = body.replace(b"</sheetData>", far.encode())
        return body

    return _rewrite_zip(accountability_xlsx(), change)


def ingest_peak_rss(data_dir: Path, source: str, timeout: float = 300) -> dict:
    """Ingest landing/<source>/ in a fresh interpreter (one worker); its peak RSS in bytes (the
    interpreter's own, imports included), the seconds it took and what it loaded."""
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        from datetime import date
        from pathlib import Path
        from jeugdhulp.ingest import ingest_source
        from jeugdhulp.settings import Settings
        settings = Settings(Path({str(data_dir)!r}), date(2026, 10, 15), "test-key-not-secret", None)
        import duckdb, pyarrow, openpyxl  # imported before the baseline is taken
        started = time.perf_counter()
        report = ingest_source(settings, {source!r}, workers=1)
        print(json.dumps({{
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "seconds": time.perf_counter() - started,
            "rows": report.rows_total,
            "ingested": report.files_ingested,
            "quarantined": report.files_quarantined,
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
