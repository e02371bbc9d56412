"""An independent re-computation of the core marts from the landed files, for the end-to-end tests.

It reads the archived iJw XML with lxml by element names (not with the project's reader) and
applies CONTRACT §3 literally in plain Python, so a mistake in the SQL shows up as a difference.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from lxml import etree

HOURS_PER_UNIT = {"01": Decimal(1) / Decimal(60), "04": Decimal(1), "16": Decimal(4), "14": Decimal(24)}


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month_end(day: date) -> date:
    first_next = month_end(day) + timedelta(days=1)
    return month_end(first_next)


def _text(element, name: str) -> str | None:
    found = element.find(f".//{{*}}{name}")
    return None if found is None or found.text is None else found.text.strip()


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass
class Line:
    provider: str
    municipality: str
    declaration: str
    declaration_date: date
    bsn: str
    reference: str
    allocation: str
    category: str
    code: str
    service_month: date
    volume: int
    unit: str
    amount: Decimal  # signed euros


@dataclass
class Landed:
    lines: list[Line]
    rejected: set[tuple[str, str, str]]  # provider, declaration, reference
    allocations: dict[str, dict]  # latest version per allocation number
    starts: dict[str, list[dict]]  # effective starts per allocation number
    stops: dict[str, list[dict]]  # effective stops per allocation number

    def accepted(self) -> list[Line]:
        return [l for l in self.lines if (l.provider, l.declaration, l.reference) not in self.rejected]


def read_archive(archive: Path) -> Landed:
    lines: list[Line] = []
    rejected: set[tuple[str, str, str]] = set()
    allocation_versions: dict[str, list] = defaultdict(list)
    start_versions: dict[str, list] = defaultdict(list)
    stop_versions: dict[str, list] = defaultdict(list)
    for path in sorted(archive.rglob("*.xml")):
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        message = etree.QName(root).namespace.rsplit("/", 2)[-2].upper()
        header = root.find("{*}Header")
        sender, receiver = _text(header, "Afzender"), _text(header, "Ontvanger")
        message_date, message_id = _text(header, "Dagtekening"), _text(header, "Identificatie")
        if message == "JW323":
            declaration = root.find("{*}Declaratie")
            number = _text(declaration, "DeclaratieNummer")
            declared = _date(_text(declaration, "DeclaratieDagtekening"))
            for client in declaration.iter("{*}Client"):
                bsn = _text(client, "Bsn")
                for p in client.iter("{*}Prestatie"):
                    sign = -1 if _text(p.find("{*}IngediendBedrag"), "DebetCredit") == "C" else 1
                    period = p.find("{*}ProductPeriode")
                    lines.append(Line(
                        provider=sender, municipality="GM" + receiver, declaration=number,
                        declaration_date=declared, bsn=bsn,
                        reference=_text(p.find("{*}ProductReferentie"), "ReferentieNummer"),
                        allocation=_text(p, "ToewijzingNummer"), category=_text(p, "ProductCategorie"),
                        code=_text(p, "ProductCode"),
                        service_month=_date(_text(period, "Begindatum")).replace(day=1),
                        volume=int(_text(p, "GeleverdVolume")), unit=_text(p, "Eenheid"),
                        amount=sign * Decimal(_text(p.find("{*}IngediendBedrag"), "Bedrag")) / 100,
                    ))
        elif message == "JW325":
            answer = root.find("{*}DeclaratieAntwoord")
            if answer is None:
                continue
            number = _text(answer, "DeclaratieNummer")
            for p in answer.iter("{*}Prestatie"):
                rejected.add((receiver, number, _text(p.find("{*}ProductReferentie"), "ReferentieNummer")))
        elif message == "JW301":
            for product in root.iter("{*}ToegewezenProduct"):
                omvang = product.find("{*}Omvang")
                allocation_versions[_text(product, "ToewijzingNummer")].append((message_date, message_id, {
                    "provider": receiver, "municipality": "GM" + sender,
                    "start": _date(_text(product, "Ingangsdatum")),
                    "end": _date(_text(product, "Einddatum")),
                    "reason": _text(product, "RedenWijziging"),
                    "frequency": None if omvang is None else _text(omvang, "Frequentie"),
                }))
        elif message in ("JW305", "JW307"):
            target = start_versions if message == "JW305" else stop_versions
            for product in root.iter("{*}StartProduct" if message == "JW305" else "{*}StopProduct"):
                target[_text(product, "ToewijzingNummer")].append((message_date, message_id, {
                    "start": _date(_text(product, "Begindatum")),
                    "end": _date(_text(product, "Einddatum")),
                    "reason": _text(product, "RedenBeeindiging"),
                    "status": _text(product, "StatusAanlevering"),
                }))

    def latest(versions: dict[str, list]) -> dict[str, dict]:
        return {number: sorted(v, key=lambda t: (t[0], t[1]))[-1][2] for number, v in versions.items()}

    def effective(versions: dict[str, list], *fields: str) -> dict[str, list[dict]]:
        """Per reported start (or stop) the latest message counts; status 3 deleted it."""
        result: dict[str, list[dict]] = {}
        for number, reported in versions.items():
            per_event: dict[tuple, tuple] = {}
            for version in sorted(reported, key=lambda t: (t[0], t[1])):
                per_event[tuple(version[2][f] for f in fields)] = version
            result[number] = [v[2] for v in per_event.values() if v[2]["status"] != "3"]
        return result

    return Landed(lines, rejected, latest(allocation_versions), effective(start_versions, "start"),
                  effective(stop_versions, "start", "end"))


def cost_per(landed: Landed, by: str) -> dict[tuple[str, int], Decimal]:
    totals: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for line in landed.accepted():
        totals[(getattr(line, by), line.service_month.year)] += line.amount
    return dict(totals)


def kpi_annual(landed: Landed) -> dict[tuple[str, int], dict]:
    """unique/non-unique youths, care months, cost and hours per municipality × year."""
    per_municipality: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    hours: dict[tuple, Decimal] = defaultdict(Decimal)
    timed: set[tuple] = set()
    for line in landed.accepted():
        month_key = (line.bsn, line.provider, line.code, line.service_month)
        per_municipality[month_key][line.municipality] += line.amount
        if line.unit in HOURS_PER_UNIT:
            sign = -1 if line.amount < 0 else 1  # a credit takes its hours back too
            hours[month_key] += sign * line.volume * HOURS_PER_UNIT[line.unit]
            timed.add(month_key)
    result: dict[tuple[str, int], dict] = {}
    for month_key, by_municipality in per_municipality.items():
        if sum(by_municipality.values()) <= 0:
            continue
        municipality = sorted(by_municipality.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        row = result.setdefault((municipality, month_key[3].year), {
            "youths": set(), "trajectories": set(), "care_months": 0, "hours": Decimal(0), "timed_months": 0})
        row["youths"].add(month_key[0])
        row["trajectories"].add(month_key[:3])
        row["care_months"] += 1
        if month_key in timed:
            row["hours"] += hours[month_key]
            row["timed_months"] += 1
    return result


def completeness(landed: Landed, as_of: date) -> dict[tuple[str, str, date], tuple[int, int]]:
    """(provider, municipality, month) -> (expected, invoiced) care months, CONTRACT §3 literally."""
    invoiced: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in landed.accepted():
        invoiced[(line.municipality, line.provider, line.allocation, line.service_month)] += line.amount
    result: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for number, allocation in landed.allocations.items():
        if allocation["frequency"] not in ("1", "2", "4") or allocation["reason"] == "13":
            continue
        starts = landed.starts.get(number)
        if not starts:
            continue
        first_start = min(s["start"] for s in starts)
        definitive = [s["end"] for s in landed.stops.get(number, []) if s["reason"] != "20"]
        final_end = max(definitive) if definitive else None
        month = allocation["start"].replace(day=1)
        while next_month_end(month) < as_of:
            last = month_end(month)
            valid = allocation["start"] <= last and (allocation["end"] is None or allocation["end"] >= month)
            started = first_start <= last
            not_ended = final_end is None or final_end >= month
            if valid and started and not_ended:
                key = (allocation["provider"], allocation["municipality"], month)
                result[key][0] += 1
                if invoiced.get((allocation["municipality"], allocation["provider"], number, month), 0) > 0:
                    result[key][1] += 1
            if allocation["end"] is not None and month > allocation["end"]:
                break
            month = last + timedelta(days=1)
    return {k: tuple(v) for k, v in result.items()}
