"""Writes landing-zone files byte for byte reproducibly: iJw XML (valid or deliberately broken), CSV and XLSX."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from jeugdhulp.ijw.records import Message
from jeugdhulp.privacy.development_key import ManifestPart
from jeugdhulp.synthetic.ijw_writer import write_message, write_message_v30

# every XLSX zip entry gets this timestamp, so a workbook's bytes depend on its content only
_ZIP_TIMESTAMP = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


class FileSink:
    """Writes files below `out`, creating folders once, and counts and lists them (`part`: this
    process's part of the list of generated files, privacy/development_key.py)."""

    def __init__(self, out: Path, part: str) -> None:
        self.out = out
        self.counts: Counter[tuple[str, int]] = Counter()
        self._folders: set[Path] = set()
        # every file written is listed by SHA-256: the development key runs on these only
        self.manifest = ManifestPart(out, part)

    def write(self, relative: str, data: bytes, source: str, year: int) -> str:
        path = self.out / relative
        folder = path.parent
        if folder not in self._folders:
            folder.mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)
        # os-level calls: the generator writes up to hundreds of thousands of small files
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(handle, data)
        finally:
            os.close(handle)
        self.counts[(source, year)] += 1
        self.manifest.add(relative, data)
        return relative

    def close(self) -> None:
        """Write the rest of the list of files written (merged by `merge_manifest`)."""
        self.manifest.flush()


def ijw_path(message: Message) -> str:
    """landing/ijw/<YYYY-MM of the message>/<type>_<provider AGB>_<municipality>_<message id>.xml

    One folder per month, not per provider and month: creating thousands of folders costs more
    than the files themselves on a busy disk.
    """
    header = message.header
    municipality_sends = header.message_type in ("JW301", "JW325")
    agb = header.receiver if municipality_sends else header.sender
    municipality = header.sender if municipality_sends else header.receiver
    sent = header.message_date
    return (
        f"landing/ijw/{sent.year:04d}-{sent.month:02d}/"
        f"{header.message_type}_{agb}_{municipality}_{header.message_id}.xml"
    )


def ijw_bytes(message: Message, broken: str | None = None, variant: int = 0) -> bytes:
    """The message as iJw 3.2 XML; `broken` makes it malformed XML or an iJw 3.0 message."""
    if broken is None:
        return write_message(message)
    if broken == "wrong_version":
        return write_message_v30(message)
    if broken == "malformed_xml":
        data = write_message(message)
        if variant % 2 == 0:
            # an upload cut off halfway through
            return data[: len(data) * 2 // 3]
        # a hand edit that closed the wrong element
        return data.replace(b"</Clienten>", b"</Client>", 1)
    raise ValueError(f"unknown kind of broken file {broken!r}")


def format_amount(cents: int, decimal: str = ".") -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}{decimal}{cents % 100:02d}"


def csv_bytes(header: list[str], rows: list[list[str]], *, excel_dialect: bool = False) -> bytes:
    """CSV as UTF-8; the Dutch Excel dialect adds a BOM, `;` separators and CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(
        buffer,
        delimiter=";" if excel_dialect else ",",
        lineterminator="\r\n" if excel_dialect else "\n",
        quoting=csv.QUOTE_MINIMAL,
    )
    writer.writerow(header)
    writer.writerows(rows)
    text = buffer.getvalue()
    return ("\ufeff" + text if excel_dialect else text).encode("utf-8")


def xlsx_bytes(header: list[str], rows: list[list[object]], *, sheet: str, stamp: date) -> bytes:
    """An XLSX workbook (one sheet, one header row) whose bytes depend only on its content and `stamp`."""
    from openpyxl import Workbook  # imported here: only the accountability writer needs it

    workbook = Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(header)
    for row in rows:
        worksheet.append(row)
    moment = datetime(stamp.year, stamp.month, stamp.day, 9, 0, 0)
    workbook.properties.created = moment
    workbook.properties.modified = moment
    workbook.properties.creator = "Financiele administratie"
    raw = io.BytesIO()
    workbook.save(raw)
    return _normalise_zip(raw.getvalue(), moment)


def _normalise_zip(data: bytes, moment: datetime) -> bytes:
    """Re-pack a zip with fixed entry timestamps and fixed core.xml dates (openpyxl stamps 'now')."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    source = zipfile.ZipFile(io.BytesIO(data))
    target_buffer = io.BytesIO()
    with zipfile.ZipFile(target_buffer, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATES.sub(lambda m: m.group(1) + stamp + m.group(3), content)
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return target_buffer.getvalue()
