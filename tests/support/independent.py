"""An independent re-computation of the core marts from the landed files, for the end-to-end tests.

It reads the archived iJw XML with lxml by element names (not with the project's reader) and
applies docs/contract.md §3 literally in plain Python, so a mistake in the SQL shows up as a difference.
"""

from __future__ import annotations

import calendar
import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
from lxml import etree

# time units of non-residential care; etmaal (14) is residential care, counted in days
HOURS_PER_UNIT = {
    "01": Decimal(1) / Decimal(60),
    "04": Decimal(1),
    "16": Decimal(4),
}
RESIDENTIAL_DAY_UNIT = "14"


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
        return [
            ln
            for ln in self.lines
            if (ln.provider, ln.declaration, ln.reference) not in self.rejected
        ]


def read_archive(archive: Path) -> Landed:
    lines: list[Line] = []
    rejected: set[tuple[str, str, str]] = set()
    allocation_versions: dict[str, list] = defaultdict(list)
    start_versions: dict[str, list] = defaultdict(list)
    stop_versions: dict[str, list] = defaultdict(list)
    for path in sorted(archive.rglob("*.xml")):
        root = etree.parse(
            str(path), etree.XMLParser(resolve_entities=False, no_network=True)
        ).getroot()
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
                    lines.append(
                        Line(
                            provider=sender,
                            municipality="GM" + receiver,
                            declaration=number,
                            declaration_date=declared,
                            bsn=bsn,
                            reference=_text(p.find("{*}ProductReferentie"), "ReferentieNummer"),
                            allocation=_text(p, "ToewijzingNummer"),
                            category=_text(p, "ProductCategorie"),
                            code=_text(p, "ProductCode"),
                            service_month=_date(_text(period, "Begindatum")).replace(day=1),
                            volume=int(_text(p, "GeleverdVolume")),
                            unit=_text(p, "Eenheid"),
                            amount=sign
                            * Decimal(_text(p.find("{*}IngediendBedrag"), "Bedrag"))
                            / 100,
                        )
                    )
        elif message == "JW325":
            answer = root.find("{*}DeclaratieAntwoord")
            if answer is None:
                continue
            number = _text(answer, "DeclaratieNummer")
            for p in answer.iter("{*}Prestatie"):
                rejected.add(
                    (receiver, number, _text(p.find("{*}ProductReferentie"), "ReferentieNummer"))
                )
        elif message == "JW301":
            for product in root.iter("{*}ToegewezenProduct"):
                omvang = product.find("{*}Omvang")
                allocation_versions[_text(product, "ToewijzingNummer")].append(
                    (
                        message_date,
                        message_id,
                        {
                            "provider": receiver,
                            "municipality": "GM" + sender,
                            "start": _date(_text(product, "Ingangsdatum")),
                            "end": _date(_text(product, "Einddatum")),
                            "reason": _text(product, "RedenWijziging"),
                            "frequency": None if omvang is None else _text(omvang, "Frequentie"),
                        },
                    )
                )
        elif message in ("JW305", "JW307"):
            target = start_versions if message == "JW305" else stop_versions
            for product in root.iter("{*}StartProduct" if message == "JW305" else "{*}StopProduct"):
                target[_text(product, "ToewijzingNummer")].append(
                    (
                        message_date,
                        message_id,
                        {
                            "start": _date(_text(product, "Begindatum")),
                            "end": _date(_text(product, "Einddatum")),
                            "reason": _text(product, "RedenBeeindiging"),
                            "status": _text(product, "StatusAanlevering"),
                        },
                    )
                )

    def latest(versions: dict[str, list]) -> dict[str, dict]:
        return {
            number: sorted(v, key=lambda t: (t[0], t[1]))[-1][2] for number, v in versions.items()
        }

    def effective(versions: dict[str, list], *fields: str) -> dict[str, list[dict]]:
        """Per reported start (or stop) the latest message counts; status 3 deleted it."""
        result: dict[str, list[dict]] = {}
        for number, reported in versions.items():
            per_event: dict[tuple, tuple] = {}
            for version in sorted(reported, key=lambda t: (t[0], t[1])):
                per_event[tuple(version[2][f] for f in fields)] = version
            result[number] = [v[2] for v in per_event.values() if v[2]["status"] != "3"]
        return result

    return Landed(
        lines,
        rejected,
        latest(allocation_versions),
        effective(start_versions, "start"),
        effective(stop_versions, "start", "end"),
    )


def cost_per(landed: Landed, by: str) -> dict[tuple[str, int], Decimal]:
    totals: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for line in landed.accepted():
        totals[(getattr(line, by), line.service_month.year)] += line.amount
    return dict(totals)


def kpi_annual(landed: Landed) -> dict[tuple[str, int], dict]:
    """unique/non-unique youths, care months, cost, hours (non-residential time units) and
    residential days (etmaal) per municipality × year."""
    per_municipality: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    hours: dict[tuple, Decimal] = defaultdict(Decimal)
    timed: set[tuple] = set()
    days: dict[tuple, int] = defaultdict(int)
    residential: set[tuple] = set()
    for line in landed.accepted():
        month_key = (line.bsn, line.provider, line.code, line.service_month)
        per_municipality[month_key][line.municipality] += line.amount
        sign = -1 if line.amount < 0 else 1  # a credit takes its hours (days) back too
        if line.unit in HOURS_PER_UNIT:
            hours[month_key] += sign * line.volume * HOURS_PER_UNIT[line.unit]
            timed.add(month_key)
        elif line.unit == RESIDENTIAL_DAY_UNIT:
            days[month_key] += sign * line.volume
            residential.add(month_key)
    result: dict[tuple[str, int], dict] = {}
    for month_key, by_municipality in per_municipality.items():
        if sum(by_municipality.values()) <= 0:
            continue
        municipality = sorted(by_municipality.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        row = result.setdefault(
            (municipality, month_key[3].year),
            {
                "youths": set(),
                "trajectories": set(),
                "care_months": 0,
                "hours": Decimal(0),
                "timed_months": 0,
                "days": 0,
                "residential_months": 0,
                "care_months_by_month": defaultdict(int),
            },
        )
        row["care_months_by_month"][month_key[3].month] += 1
        row["youths"].add(month_key[0])
        row["trajectories"].add(month_key[:3])
        row["care_months"] += 1
        if month_key in timed:
            row["hours"] += hours[month_key]
            row["timed_months"] += 1
        if month_key in residential:
            row["days"] += days[month_key]
            row["residential_months"] += 1
    return result


def completeness(landed: Landed, as_of: date) -> dict[tuple[str, str, date], tuple[int, int]]:
    """(provider, municipality, month) -> (expected, invoiced) care months, docs/contract.md §3 literally,
    from the first care month of any landed invoice line on (the warehouse's invoice history)."""
    history_starts = min(line.service_month for line in landed.lines if line.service_month)
    invoiced: dict[tuple, Decimal] = defaultdict(Decimal)
    for line in landed.accepted():
        invoiced[(line.municipality, line.provider, line.allocation, line.service_month)] += (
            line.amount
        )
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
            valid = allocation["start"] <= last and (
                allocation["end"] is None or allocation["end"] >= month
            )
            started = first_start <= last
            not_ended = final_end is None or final_end >= month
            if valid and started and not_ended and month >= history_starts:
                key = (allocation["provider"], allocation["municipality"], month)
                result[key][0] += 1
                if (
                    invoiced.get(
                        (allocation["municipality"], allocation["provider"], number, month), 0
                    )
                    > 0
                ):
                    result[key][1] += 1
            if allocation["end"] is not None and month > allocation["end"]:
                break
            month = last + timedelta(days=1)
    return {k: tuple(v) for k, v in result.items()}


# ---------------------------------------------------------------------------------------------
# Steering marts (docs/contract.md §3, docs/steering_marts.md): the JW315 requests, every JW301/JW305/
# JW307 with its client, provider and municipality, the accountability files and the reference
# CSVs, read from the archive with lxml/csv/openpyxl (not with the project's readers).


@dataclass(frozen=True)
class Request:
    """One AangevraagdProduct of a JW315 (the provider asks the municipality for an allocation)."""

    provider: str
    municipality: str
    bsn: str
    reference: str | None  # ReferentieAanbieder
    referrer_type: str | None  # Verwijzer/Type (COD327)
    category: str | None
    code: str | None
    sent: date
    message_id: str


@dataclass(frozen=True)
class Allocation:
    """The current version of one allocation (ToegewezenProduct of the latest JW301)."""

    provider: str
    municipality: str
    number: str
    bsn: str
    reference: str | None  # ReferentieAanbieder the provider repeated
    category: str | None
    code: str | None
    allocated_on: date | None  # Toewijzingsdatum
    start: date | None
    end: date | None
    reason: str | None  # RedenWijziging
    sent: date
    message_id: str
    birth_year: int | None = None  # Client/Geboortedatum/Datum

    @property
    def deleted(self) -> bool:
        return self.reason == "13"


@dataclass(frozen=True)
class CareEvent:
    """An effective JW305 start (end and reason None) or JW307 stop."""

    provider: str
    municipality: str
    number: str
    bsn: str
    category: str | None
    code: str | None
    start: date | None
    end: date | None
    reason: str | None
    sent: date
    message_id: str


@dataclass
class CareArchive:
    requests: list[Request]
    allocations: dict[tuple[str, str], Allocation]  # (municipality, number) -> current version
    starts: list[CareEvent]
    stops: list[CareEvent]


def _product_codes(element) -> tuple[str | None, str | None]:
    product = element.find("{*}Product")
    if product is None:
        return None, None
    return _text(product, "Categorie"), _text(product, "Code")


def read_care_archive(archive: Path, as_of: date) -> CareArchive:
    """JW315/JW301/JW305/JW307 sent (Dagtekening) on or before as_of, resolved as docs/contract.md §2.1:
    the latest JW301 per allocation replaces the earlier ones; per start (allocation, Begindatum)
    and per stop (allocation, Begindatum, Einddatum) the latest message counts, and a latest one
    with StatusAanlevering 3 deletes it. "Latest" = (Dagtekening, Identificatie)."""
    requests: list[Request] = []
    allocation_versions: dict[tuple[str, str], list[Allocation]] = defaultdict(list)
    start_versions: dict[tuple, list[tuple[CareEvent, str | None]]] = defaultdict(list)
    stop_versions: dict[tuple, list[tuple[CareEvent, str | None]]] = defaultdict(list)
    for path in sorted(archive.rglob("*.xml")):
        root = etree.parse(
            str(path), etree.XMLParser(resolve_entities=False, no_network=True)
        ).getroot()
        message = etree.QName(root).namespace.rsplit("/", 2)[-2].upper()
        if message not in ("JW315", "JW301", "JW305", "JW307"):
            continue
        header = root.find("{*}Header")
        sender, receiver = _text(header, "Afzender"), _text(header, "Ontvanger")
        sent, message_id = _date(_text(header, "Dagtekening")), _text(header, "Identificatie")
        if sent > as_of:
            continue
        for client in root.iter("{*}Client"):
            bsn = _text(client, "Bsn")
            born = client.find("{*}Geboortedatum")
            birth = None if born is None else _date(_text(born, "Datum"))
            if message == "JW315":
                for product in client.iter("{*}AangevraagdProduct"):
                    referrer = product.find("{*}Verwijzer")
                    requests.append(
                        Request(
                            provider=sender,
                            municipality="GM" + receiver,
                            bsn=bsn,
                            reference=_text(product, "ReferentieAanbieder"),
                            referrer_type=None if referrer is None else _text(referrer, "Type"),
                            category=_product_codes(product)[0],
                            code=_product_codes(product)[1],
                            sent=sent,
                            message_id=message_id,
                        )
                    )
            elif message == "JW301":
                for product in client.iter("{*}ToegewezenProduct"):
                    number = _text(product, "ToewijzingNummer")
                    allocation_versions[("GM" + sender, number)].append(
                        Allocation(
                            provider=receiver,
                            municipality="GM" + sender,
                            number=number,
                            bsn=bsn,
                            reference=_text(product, "ReferentieAanbieder"),
                            category=_product_codes(product)[0],
                            code=_product_codes(product)[1],
                            allocated_on=_date(_text(product, "Toewijzingsdatum")),
                            start=_date(_text(product, "Ingangsdatum")),
                            end=_date(_text(product, "Einddatum")),
                            reason=_text(product, "RedenWijziging"),
                            sent=sent,
                            message_id=message_id,
                            birth_year=None if birth is None else birth.year,
                        )
                    )
            else:
                tag = "{*}StartProduct" if message == "JW305" else "{*}StopProduct"
                for product in client.iter(tag):
                    event = CareEvent(
                        provider=sender,
                        municipality="GM" + receiver,
                        number=_text(product, "ToewijzingNummer"),
                        bsn=bsn,
                        category=_product_codes(product)[0],
                        code=_product_codes(product)[1],
                        start=_date(_text(product, "Begindatum")),
                        end=_date(_text(product, "Einddatum")) if message == "JW307" else None,
                        reason=_text(product, "RedenBeeindiging"),
                        sent=sent,
                        message_id=message_id,
                    )
                    status = _text(product, "StatusAanlevering")
                    key = (event.municipality, event.provider, event.number, event.start)
                    if message == "JW305":
                        start_versions[key].append((event, status))
                    else:
                        stop_versions[key + (event.end,)].append((event, status))

    def recency(item) -> tuple:
        return item.sent, item.message_id

    def effective(versions: dict) -> list[CareEvent]:
        latest = (
            max(reported, key=lambda pair: recency(pair[0])) for reported in versions.values()
        )
        return [event for event, status in latest if status != "3"]

    allocations = {key: max(versions, key=recency) for key, versions in allocation_versions.items()}
    return CareArchive(requests, allocations, effective(start_versions), effective(stop_versions))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


# CBS Beleidsinformatie Jeugd, as docs/throughput_method.md words it (written out here, not read
# from the dbt seeds): the form of help (hulpvorm) per iJw product category — 42 transport and
# 47-49 justice have none and form no trajectory — and the CBS class of each JZ588 end reason.
HULPVORM = {
    "31": "01", "32": "02", "33": "03", "34": "04",
    "35": "11", "36": "12", "37": "13", "38": "14",
    "40": "04", "41": "03", "43": "14", "44": "14", "45": "02", "46": "14",
    "50": "02", "51": "02", "52": "02", "53": "02", "54": "02", "55": "14",
}  # fmt: skip
HULPVORM_NAMES = {
    "01": "Jeugdhulp zonder verblijf: ambulant in wijk- of buurtteam",
    "02": "Jeugdhulp zonder verblijf: ambulant op locatie van de aanbieder",
    "03": "Jeugdhulp zonder verblijf: daghulp op locatie van de aanbieder",
    "04": "Jeugdhulp zonder verblijf: ambulant in het netwerk van de jeugdige",
    "11": "Jeugdhulp met verblijf: pleegzorg",
    "12": "Jeugdhulp met verblijf: gezinsgericht",
    "13": "Jeugdhulp met verblijf: gesloten plaatsing",
    "14": "Jeugdhulp met verblijf: overig residentieel",
}
CBS_END_CLASS = {"31": "volgens_plan", "39": "volgens_plan"} | {
    code: "voortijdig" for code in ("02", "32", "33", "34", "35")
}  # everything else that ends a trajectory: onbekend
DOORSTROOM_DAYS = 30


def half_year_start(day: date) -> date:
    return date(day.year, 1 if day.month <= 6 else 7, 1)


@dataclass
class CareRecord:
    bsn: str
    provider: str
    category: str | None
    municipality: str
    number: str
    start: date
    end: date | None  # definitive end, or the restart after a temporary stop; None = open
    end_reason: str | None
    product: str | None = None
    birth_year: int | None = None  # the allocation's Client/Geboortedatum

    @property
    def hulpvorm(self) -> str | None:
        return HULPVORM.get(self.category or "")


@dataclass
class Trajectory:
    records: list[CareRecord]  # in (start, municipality, allocation) order
    start: date
    end: date | None
    end_reason: str | None
    start_municipality: str
    end_municipality: str | None
    repeat: bool = False
    transferred: bool = False
    last: CareRecord | None = None  # the record that gave the end

    @property
    def bsn(self) -> str:
        return self.records[0].bsn

    @property
    def provider(self) -> str:
        return self.records[0].provider

    @property
    def hulpvorm(self) -> str:
        return self.records[0].hulpvorm

    @property
    def category(self) -> str | None:
        return self.records[0].category

    @property
    def birth_year(self) -> int | None:
        known = [r.birth_year for r in self.records if r.birth_year is not None]
        return min(known) if known else None

    def same_youth(self, other: Trajectory) -> bool:
        """One BSN, and no other birth year (an unknown one counts as the same)."""
        return other.bsn == self.bsn and (
            None in (self.birth_year, other.birth_year) or self.birth_year == other.birth_year
        )

    @property
    def end_class(self) -> str | None:
        if self.end is None:
            return None
        return CBS_END_CLASS.get(self.end_reason or "", "onbekend")


def trajectories(care: CareArchive) -> list[Trajectory]:
    """CBS trajectories as docs/throughput_method.md words them: a care record is an effective
    start with the last reported definitive stop (reason ≠ 20) for the same allocation and start
    date; a temporary stop (20) bridges the record to the group's next start, or leaves it open.
    Per client × provider × CBS hulpvorm (of the allocation's product category, else the start's;
    categories without a hulpvorm form none) records that overlap (start ≤ latest end so far)
    form one trajectory: first start, last end (open when a record is open); adjoining records
    stay apart. Repeat: the client had another trajectory that ended at least 2 days before the
    start and on or after the first day of the start's half-year minus 5 years. Doorstroom: after
    the end, a trajectory with another provider or hulpvorm starts within 30 days. The client is
    one youth: the same BSN with no other birth year on the allocations."""
    stops: dict[tuple, list[CareEvent]] = defaultdict(list)
    for stop in care.stops:
        if stop.end is not None:
            stops[(stop.municipality, stop.provider, stop.number, stop.start)].append(stop)
    groups: dict[tuple, list[tuple[CareEvent, CareEvent | None, bool, str | None, str]]] = (
        defaultdict(list)
    )
    for start in care.starts:
        if start.start is None:
            continue
        allocation = care.allocations.get((start.municipality, start.number))
        category = (
            allocation.category
            if allocation is not None and allocation.category
            else start.category
        )
        product = allocation.code if allocation is not None and allocation.code else start.code
        if HULPVORM.get(category or "") is None:
            continue
        reported = stops[(start.municipality, start.provider, start.number, start.start)]
        definitive = [s for s in reported if s.reason != "20"]
        last = max(definitive, key=lambda s: (s.sent, s.message_id)) if definitive else None
        paused = any(s.reason == "20" for s in reported)
        birth_year = None if allocation is None else allocation.birth_year
        groups[(start.bsn, start.provider, HULPVORM[category])].append(
            (start, last, paused, product, category, birth_year)
        )
    result: list[Trajectory] = []
    for (bsn, provider, _hulpvorm), members in groups.items():
        members.sort(key=lambda m: (m[0].start, m[0].municipality, m[0].number))
        records = []
        for index, (start, last, paused, product, category, birth_year) in enumerate(members):
            if last is not None:
                end, reason = last.end, last.reason
            elif paused and index + 1 < len(members):
                end, reason = members[index + 1][0].start, None
            else:
                end, reason = None, None
            records.append(
                CareRecord(
                    bsn,
                    provider,
                    category,
                    start.municipality,
                    start.number,
                    start.start,
                    end,
                    reason,
                    product,
                    birth_year,
                )
            )
        current: list[CareRecord] = []
        latest_end = date.min
        for record in records:
            if current and latest_end != date.max and record.start > latest_end:
                result.append(_trajectory(current))
                current = []
            if not current:
                latest_end = date.min
            current.append(record)
            latest_end = (
                date.max
                if record.end is None or latest_end == date.max
                else max(latest_end, record.end)
            )
        result.append(_trajectory(current))
    for trajectory in result:
        look_back = _add_years(half_year_start(trajectory.start), -5)
        trajectory.repeat = any(
            other is not trajectory
            and other.same_youth(trajectory)
            and other.end is not None
            and look_back <= other.end <= trajectory.start - timedelta(days=2)
            for other in result
        )
        trajectory.transferred = trajectory.end is not None and any(
            other.same_youth(trajectory)
            and (other.provider, other.hulpvorm) != (trajectory.provider, trajectory.hulpvorm)
            and trajectory.end <= other.start <= trajectory.end + timedelta(days=DOORSTROOM_DAYS)
            for other in result
        )
    return result


def _trajectory(records: list[CareRecord]) -> Trajectory:
    is_open = any(r.end is None for r in records)
    last = (
        None if is_open else max(records, key=lambda r: (r.end, r.start, r.municipality, r.number))
    )
    return Trajectory(
        records=list(records),
        start=records[0].start,
        end=None if last is None else last.end,
        end_reason=None if last is None else last.end_reason,
        start_municipality=records[0].municipality,
        end_municipality=None if last is None else last.municipality,
        last=last,
    )


# ------------------------------------------------------------------ CSV / XLSX (docs/contract.md §2.5)


def read_table(path: Path) -> list[dict]:
    """Rows of a delivered CSV (UTF-8 with or without BOM, `;` or `,`, quoted fields) or of the
    first sheet of an XLSX, as {header: value}; CSV values are stripped strings, XLSX values as
    openpyxl gives them."""
    if path.suffix.lower() == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
        header = [str(h).strip() for h in rows[0]]
        return [dict(zip(header, r)) for r in rows[1:] if any(v not in (None, "") for v in r)]
    text = path.read_bytes().decode("utf-8-sig")
    first_line = text.splitlines()[0]
    separator = ";" if first_line.count(";") > first_line.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    header = [h.strip() for h in rows[0]]
    return [
        dict(zip(header, (v.strip() for v in r))) for r in rows[1:] if any(v.strip() for v in r)
    ]


def to_decimal(value) -> Decimal | None:
    """A delivered amount: a number, or text with a decimal comma or point (thousands separators
    allowed when both occur)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return Decimal(repr(value))
    text = str(value).strip().replace(" ", "")
    if "," in text and "." in text:
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    return Decimal(text.replace(",", "."))


def to_date(value) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if len(text) == 10 and text[2] == "-" and text[5] == "-":  # dd-mm-yyyy
        return date(int(text[6:]), int(text[3:5]), int(text[:2]))
    return date.fromisoformat(text[:10])


def municipality_code(value) -> str:
    """'546', '0546', 546 or 'GM0546' -> 'GM0546'."""
    text = str(value).strip().upper().removeprefix("GM")
    return "GM" + text.zfill(4)


def agb_code(value) -> str:
    return str(value).strip().zfill(8)


@dataclass(frozen=True)
class AccountabilityRow:
    file: Path
    year: int
    provider: str
    municipality: str
    category: str
    code: str
    amount: Decimal
    delivered: date | None  # datum_aanlevering


def read_accountability(folder: Path) -> list[AccountabilityRow]:
    """Every row of every archived verantwoording file (docs/contract.md §2.3)."""
    rows = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".csv", ".xlsx")):
        for row in read_table(path):
            rows.append(
                AccountabilityRow(
                    file=path,
                    year=int(str(row["boekjaar"]).strip()),
                    provider=agb_code(row["agb_code"]),
                    municipality=municipality_code(row["gemeente_code"]),
                    category=str(row["productcategorie"]).strip(),
                    code=str(row["productcode"]).strip(),
                    amount=to_decimal(row["bedrag_eur"]),
                    delivered=to_date(row["datum_aanlevering"]),
                )
            )
    return rows


def read_budget_ceilings(reference: Path) -> dict[tuple[str, int], Decimal]:
    """(agb_code, year) -> ceiling in euros, summed when a provider-year has several rows."""
    ceilings: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for path in sorted(reference.rglob("budget_ceilings*")):
        for row in read_table(path):
            ceilings[(agb_code(row["agb_code"]), int(str(row["year"]).strip()))] += to_decimal(
                row["budget_ceiling_eur"]
            )
    return dict(ceilings)


def read_providers(reference: Path) -> dict[str, dict]:
    """agb_code -> {name, contract_type}; the first row of a code counts."""
    providers: dict[str, dict] = {}
    for path in sorted(reference.rglob("providers*")):
        for row in read_table(path):
            providers.setdefault(
                agb_code(row["agb_code"]),
                {"name": row["name"], "contract_type": row["contract_type"]},
            )
    return providers


def read_programme_budget(reference: Path, as_of: date) -> dict[int, dict[str, Decimal]]:
    """year -> {segment (lower case): budget} as it stands on `as_of`: of every delivered row
    adopted by then, the latest adopted_on per year × segment (docs/contract.md §2.2)."""
    latest: dict[tuple[int, str], tuple[date, Decimal]] = {}
    for path in sorted(reference.rglob("programme_budget*")):
        for row in read_table(path):
            adopted = to_date(row["adopted_on"])
            if adopted > as_of:
                continue
            key = (int(str(row["year"]).strip()), str(row["segment"]).strip().lower())
            if key not in latest or adopted >= latest[key][0]:
                latest[key] = (adopted, to_decimal(row["budget_eur"]))
    out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for (year, segment), (_, amount) in latest.items():
        out[year][segment] = amount
    return dict(out)


def read_product_segments(reference: Path) -> list[dict]:
    """The rows of products.csv (the one delivery of the tiny landing zone) with typed validity."""
    rows = []
    for path in sorted(reference.rglob("products*")):
        for row in read_table(path):
            rows.append(
                {
                    "category": str(row["product_category"]).strip().zfill(2),
                    "code": str(row["product_code"]).strip(),
                    "valid_from": to_date(row["valid_from"]),
                    "valid_to": to_date(row["valid_to"]),
                    "segment": (row["segment"] or "").strip() or None,
                }
            )
    return rows
