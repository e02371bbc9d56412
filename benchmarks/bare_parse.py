"""The floor for reading iJw XML in Python: a bare lxml iterparse that extracts ingestion's fields and nothing more.

Per file it reads the bytes, streams them through `lxml.etree.iterparse` (entities and network
off, as ingestion does) and builds one tuple per record with the same fields, typed the same way
(dates as `date`, numbers as `int`), that ingestion's raw rows carry. It does not hash, check,
pseudonymise, batch, store or move anything: what ingestion spends above this is its overhead.
Like ingestion it lists the files first and parses them on all cores, in chunks, in worker
processes (files are independent); the workers return row counts only. A file it cannot parse
is counted and skipped.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import time
from datetime import date

from lxml import etree

_B = "{http://www.istandaarden.nl/ijw/3_2/basisschema/schema}"
_NS = "{http://www.istandaarden.nl/ijw/3_2/%s/schema}"
_RECORDS = {
    "jw315": "AangevraagdProduct",
    "jw301": "ToegewezenProduct",
    "jw305": "StartProduct",
    "jw307": "StopProduct",
    "jw323": "Prestatie",
    "jw325": "Prestatie",
}
_dates: dict[str, date] = {}


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    found = _dates.get(text)
    if found is None:
        found = _dates[text] = date.fromisoformat(text)
    return found


def _int(text: str | None) -> int | None:
    return None if text is None else int(text)


def parse_file(data: bytes) -> list[tuple]:
    """The rows of one iJw message, as tuples in the raw tables' column order."""
    context = etree.iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    rows: list[tuple] = []
    head: tuple = ()
    client: tuple = ()
    declaration: tuple = ()
    m = record_tag = ""
    code = ""
    for event, element in context:
        if event == "start":
            if not m:  # the root: its namespace says the message type
                m = element.tag[: element.tag.index("}") + 1]
                code = m.rsplit("/", 2)[-2]
                record_tag = m + _RECORDS[code]
            continue
        tag = element.tag
        if tag == record_tag:
            f = {e.tag: e.text for e in element.iter()}
            position = element.sourceline
            if code == "jw323" or code == "jw325":
                line = (
                    f.get(_B + "ReferentieNummer"),
                    f.get(_B + "VorigReferentieNummer"),
                    f.get(m + "ToewijzingNummer"),
                    f.get(m + "ProductCategorie"),
                    f.get(m + "ProductCode"),
                    _date(f.get(_B + "Begindatum")),
                    _date(f.get(_B + "Einddatum")),
                    _int(f.get(m + "GeleverdVolume")),
                    f.get(m + "Eenheid"),
                    _int(f.get(m + "ProductTarief")),
                    _int(f.get(_B + "Bedrag")),
                    f.get(_B + "DebetCredit"),
                )
                if code == "jw323":
                    rows.append((position, *head, *declaration, *client, *line))
                else:
                    codes = ",".join(e.text for e in element.iter(m + "RetourCode"))
                    rows.append((position, *head, *declaration, *client, *line, codes))
            elif code == "jw301":
                rows.append(
                    (
                        position,
                        *head,
                        *client,
                        f.get(m + "ToewijzingNummer"),
                        f.get(m + "ReferentieAanbieder"),
                        f.get(_B + "Categorie"),
                        f.get(_B + "Code"),
                        _date(f.get(m + "Toewijzingsdatum")),
                        f.get(m + "Toewijzingstijd"),
                        _date(f.get(m + "Ingangsdatum")),
                        _date(f.get(m + "Einddatum")),
                        f.get(m + "RedenWijziging"),
                        _int(f.get(_B + "Volume")),
                        f.get(_B + "Eenheid"),
                        f.get(_B + "Frequentie"),
                        _int(f.get(m + "Budget")),
                    )
                )
            elif code == "jw305" or code == "jw307":
                stop = (
                    (f.get(m + "RedenBeeindiging"), _date(f.get(m + "Einddatum")))
                    if code == "jw307"
                    else ()
                )
                rows.append(
                    (
                        position,
                        *head,
                        *client,
                        f.get(m + "ToewijzingNummer"),
                        f.get(_B + "Categorie"),
                        f.get(_B + "Code"),
                        _date(f.get(m + "ToewijzingIngangsdatum")),
                        _date(f.get(m + "Begindatum")),
                        *stop,
                        f.get(m + "StatusAanlevering"),
                    )
                )
            else:
                rows.append(
                    (
                        position,
                        *head,
                        *client,
                        f.get(m + "ReferentieAanbieder"),
                        f.get(_B + "Categorie"),
                        f.get(_B + "Code"),
                        _date(f.get(m + "ToewijzingIngangsdatum")),
                        _date(f.get(m + "ToewijzingEinddatum")),
                        _int(f.get(_B + "Volume")),
                        f.get(_B + "Eenheid"),
                        f.get(_B + "Frequentie"),
                        f.get(_B + "Type"),
                    )
                )
            element.clear()
        elif tag == m + "Bsn":
            client = (element.text,)
        elif tag == _B + "Datum":  # Geboortedatum/Datum, the only ijw:Datum in a message
            client = (client[0], _date(element.text).year)
        elif tag == m + "BerichtIdentificatie":
            f = {e.tag: e.text for e in element}
            head = (f[_B + "Identificatie"], _date(f[_B + "Dagtekening"]))
        elif tag == m + "Header":
            head = (*head, element.findtext(m + "Afzender"), element.findtext(m + "Ontvanger"))
        elif tag == m + "DeclaratiePeriode":
            f = {e.tag: e.text for e in element.iter()}
            declaration = (declaration[0], _date(f[_B + "Begindatum"]), _date(f[_B + "Einddatum"]))
        elif tag == m + "DeclaratieNummer":
            declaration = (element.text,)
        elif tag == m + "DeclaratieDagtekening":
            declaration = (*declaration, _date(element.text))
    return rows


def parse_paths(paths: list[str]) -> tuple[int, int, int]:
    """(files, rows, files that failed to parse) of a chunk of files."""
    rows = failed = 0
    for path in paths:
        with open(path, "rb") as stream:
            data = stream.read()
        try:
            rows += len(parse_file(data))
        except (
            Exception
        ):  # malformed XML, a message it does not know: skipped, as cheaply as it gets
            failed += 1
    return len(paths), rows, failed


def list_files(root: str) -> list[str]:
    found = []
    for folder, _dirs, names in os.walk(root):
        found.extend(os.path.join(folder, name) for name in names if not name.startswith("."))
    found.sort()
    return found


def bare_parse(root: str, workers: int | None = None, chunk: int = 500) -> dict:
    """Parse every file below `root` on `workers` processes; files, rows and seconds."""
    started = time.perf_counter()
    paths = list_files(root)
    workers = workers or os.cpu_count() or 1
    chunks = [paths[i : i + chunk] for i in range(0, len(paths), chunk)]
    files = rows = failed = 0
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        for done, count, bad in pool.imap_unordered(parse_paths, chunks):
            files += done
            rows += count
            failed += bad
    return {
        "files": files,
        "rows": rows,
        "failed": failed,
        "seconds": time.perf_counter() - started,
    }


if __name__ == "__main__":
    print(bare_parse(sys.argv[1]))
