"""The synthetic landing-zone generator: determinism, the as_of cut, referential integrity, defects and ground truth.

The iJw files are read back here with lxml, independently of the project's reader, so the ground
truth is checked against what is really on disk.
"""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from jeugdhulp.privacy.bsn import count_test_bsns, is_valid_bsn
from jeugdhulp.synthetic import GenerationError, ProfileError, generate
from jeugdhulp.synthetic.profiles import resolve
from jeugdhulp.synthetic.youths import valid_test_bsns
from tests.support.pipeline import IJW_SHARED as SHARED

AS_OF = date(2026, 10, 15)
SEED = 7

BROKEN = ("malformed_xml", "wrong_version")


# --- reading the generated files back, without the project's reader ------------------------------


def _text(element, path: str) -> str | None:
    found = element.find(path)
    return None if found is None else found.text


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


class Landing:
    """Everything tiny wrote, parsed once."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
        self.broken = {d["file"] for d in self.truth["defects"] if d["kind"] in BROKEN}
        self.files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
        self.messages: list[dict] = []
        for relative in self.files:
            if relative.startswith("landing/ijw/") and relative not in self.broken:
                self.messages.append(self._parse(relative))

    def _parse(self, relative: str) -> dict:
        root = etree.parse(str(self.out / relative)).getroot()
        namespace = etree.QName(root).namespace
        kind = namespace.split("/")[-2].upper()
        header = root.find("{*}Header")
        message = {
            "file": relative,
            "type": kind,
            "namespace": namespace,
            "sender": _text(header, "{*}Afzender"),
            "receiver": _text(header, "{*}Ontvanger"),
            "id": _text(header, "{*}BerichtIdentificatie/{*}Identificatie"),
            "date": _date(_text(header, "{*}BerichtIdentificatie/{*}Dagtekening")),
            "records": [],
        }
        if kind in ("JW323", "JW325"):
            body = (
                root.find("{*}Declaratie")
                if kind == "JW323"
                else root.find("{*}DeclaratieAntwoord")
            )
            message["declaration_number"] = _text(body, "{*}DeclaratieNummer")
            message["declaration_date"] = _date(_text(body, "{*}DeclaratieDagtekening"))
            for client in body.iterfind("{*}Clienten/{*}Client"):
                bsn = _text(client, "{*}Bsn")
                for line in client.iterfind("{*}Prestaties/{*}Prestatie"):
                    tariff = _text(line, "{*}ProductTarief")
                    message["records"].append(
                        {
                            "bsn": bsn,
                            "reference": _text(line, "{*}ProductReferentie/{*}ReferentieNummer"),
                            "previous": _text(
                                line, "{*}ProductReferentie/{*}VorigReferentieNummer"
                            ),
                            "allocation": _text(line, "{*}ToewijzingNummer"),
                            "product_code": _text(line, "{*}ProductCode"),
                            "start": _date(_text(line, "{*}ProductPeriode/{*}Begindatum")),
                            "end": _date(_text(line, "{*}ProductPeriode/{*}Einddatum")),
                            "volume": int(_text(line, "{*}GeleverdVolume")),
                            "unit": _text(line, "{*}Eenheid"),
                            "tariff": None if tariff is None else int(tariff),
                            "amount": int(_text(line, "{*}IngediendBedrag/{*}Bedrag")),
                            "debit_credit": _text(line, "{*}IngediendBedrag/{*}DebetCredit"),
                        }
                    )
        else:
            client = root.find("{*}Client")
            bsn = _text(client, "{*}Bsn")
            for record in client.iter(
                "{*}ToegewezenProduct", "{*}StartProduct", "{*}StopProduct", "{*}AangevraagdProduct"
            ):
                message["records"].append(
                    {
                        "bsn": bsn,
                        "allocation": _text(record, "{*}ToewijzingNummer"),
                        "start": _date(_text(record, "{*}Ingangsdatum")),
                        "end": _date(_text(record, "{*}Einddatum")),
                        "reason": _text(record, "{*}RedenWijziging"),
                        "care_start": _date(_text(record, "{*}Begindatum")),
                        "status": _text(record, "{*}StatusAanlevering"),
                        "end_reason": _text(record, "{*}RedenBeeindiging"),
                        "reference": _text(record, "{*}ReferentieAanbieder"),
                        "referrer": _text(record, "{*}Verwijzer/{*}Type"),
                        "frequency": _text(record, "{*}Omvang/{*}Frequentie"),
                    }
                )
        return message

    def of_type(self, kind: str) -> list[dict]:
        return [m for m in self.messages if m["type"] == kind]

    def defects(self, kind: str) -> list[dict]:
        return [d for d in self.truth["defects"] if d["kind"] == kind]

    def defect_references(self, *kinds: str) -> set[str]:
        return {d["reference"] for d in self.truth["defects"] if d["kind"] in kinds}

    def csv_rows(self, relative: str) -> list[dict]:
        text = (self.out / relative).read_bytes().decode("utf-8-sig")
        delimiter = ";" if text.split("\n", 1)[0].count(";") else ","
        return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Landing:
    out = tmp_path_factory.mktemp("tiny")
    started = time.process_time()
    summary = generate(out, "tiny", seed=SEED, as_of=AS_OF, progress=False)
    cpu_seconds = time.process_time() - started
    landing = Landing(out)
    landing.summary = summary
    landing.cpu_seconds = cpu_seconds
    return landing


def _end_of_next_month(day: date) -> date:
    first_after = date(day.year + (day.month >= 11), (day.month + 1) % 12 + 1, 1)
    return date.fromordinal(first_after.toordinal() - 1)


def _lines(landing: Landing):
    """(JW323 message, line) for every invoice line in an ingestible JW323."""
    for message in landing.of_type("JW323"):
        for line in message["records"]:
            yield message, line


# --- determinism and timing ------------------------------------------------------------------------


def test_tiny_is_fast(tiny):
    assert tiny.cpu_seconds < 2.0


def test_same_seed_gives_identical_bytes_other_seed_differs(tiny, tmp_path):
    again = tmp_path / "again"
    generate(again, "tiny", seed=SEED, as_of=AS_OF, progress=False)
    names = sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    assert names == tiny.files
    for name in names:
        assert (again / name).read_bytes() == (tiny.out / name).read_bytes(), name
    assert any(name.endswith(".xlsx") for name in names)

    other = tmp_path / "other"
    generate(other, "tiny", seed=SEED + 1, as_of=AS_OF, progress=False)
    other_truth = (other / "ground_truth.json").read_bytes()
    assert other_truth != (tiny.out / "ground_truth.json").read_bytes()
    assert (other / "landing/reference/providers.csv").read_bytes() != (
        tiny.out / "landing/reference/providers.csv"
    ).read_bytes()


def test_xlsx_has_fixed_timestamps(tiny):
    [xlsx] = [
        f for f in tiny.files if f.startswith("landing/verantwoording/") and f.endswith(".xlsx")
    ]
    with zipfile.ZipFile(tiny.out / xlsx) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode()
    assert "2026-05-12T09:00:00Z" in core  # the delivery date, not the moment of generation


def test_refuses_a_landing_zone_that_holds_files(tiny):
    with pytest.raises(GenerationError, match="already holds files"):
        generate(tiny.out, "tiny", seed=SEED, as_of=AS_OF, progress=False)


def test_unknown_profile_is_refused(tmp_path):
    with pytest.raises(ProfileError, match="unknown profile"):
        generate(tmp_path, "huge", seed=1, as_of=AS_OF, progress=False)


# --- the as_of cut ---------------------------------------------------------------------------------


def test_nothing_is_dated_after_as_of(tiny):
    for message in tiny.messages:
        assert message["date"] <= AS_OF, message["file"]
        if message["type"] == "JW323":
            assert message["declaration_date"] <= AS_OF
        for record in message["records"]:
            if message["type"] == "JW323":
                assert record["end"] <= AS_OF
            if message["type"] in ("JW305", "JW307"):
                assert record["care_start"] <= message["date"]
            if message["type"] == "JW307":
                assert record["end"] <= message["date"]
    for relative in tiny.files:
        if relative.startswith("landing/verantwoording/") and relative.endswith(".csv"):
            for row in tiny.csv_rows(relative):
                assert date.fromisoformat(row["datum_aanlevering"]) <= AS_OF
        if relative.startswith("landing/pgb/"):
            for row in tiny.csv_rows(relative):
                assert row["maand"] < AS_OF.isoformat()[:7]


# --- referential integrity and amounts -------------------------------------------------------------


def test_every_invoice_line_points_at_an_allocation_of_the_same_client_and_provider(tiny):
    allocations = {
        (m["receiver"], r["bsn"], r["allocation"])
        for m in tiny.of_type("JW301")
        for r in m["records"]
    }
    exempt = tiny.defect_references("9338", "invalid_bsn") | {
        # woonplaatsbeginsel: a line invoiced under another municipality's allocation
        line["reference"]
        for case in tiny.truth["residence_cases"]
        if case["kind"] == "invoice_other_municipality"
        for line in case["lines"]
    }
    unmatched = [
        line["reference"]
        for message, line in _lines(tiny)
        if (message["sender"], line["bsn"], line["allocation"]) not in allocations
    ]
    assert unmatched, "the 9338 and invalid-BSN defects must show up as unmatched lines"
    assert set(unmatched) <= exempt


def test_amount_is_volume_times_tariff_except_9346_and_euro_units(tiny):
    exempt = tiny.defect_references("9346")
    wrong = [
        line["reference"]
        for _, line in _lines(tiny)
        if line["unit"] != "83" and line["amount"] != line["volume"] * line["tariff"]
    ]
    assert wrong and set(wrong) <= exempt
    euro_lines = [line for _, line in _lines(tiny) if line["unit"] == "83"]
    assert euro_lines and all(line["tariff"] is None for line in euro_lines)


def test_all_bsns_are_valid_test_bsns_except_the_injected_ones(tiny):
    invalid = tiny.defect_references("invalid_bsn")
    valid_range = set(valid_test_bsns())
    seen_invalid = set()
    for message in tiny.messages:
        for record in message["records"]:
            if record["bsn"] in valid_range:
                continue
            assert message["type"] in ("JW323", "JW325") and record["reference"] in invalid, record
            assert not is_valid_bsn(record["bsn"]) and record["bsn"].startswith("9999")
            seen_invalid.add(record["reference"])
    assert seen_invalid == invalid
    for relative in tiny.files:
        if relative.startswith("landing/pgb/"):
            assert all(row["bsn"] in valid_range for row in tiny.csv_rows(relative))


def test_the_generator_knows_every_valid_test_bsn():
    assert len(valid_test_bsns()) == count_test_bsns() == 9091
    assert all(is_valid_bsn(bsn) for bsn in valid_test_bsns())


def test_identifiers_are_unique(tiny):
    ids = Counter(m["id"] for m in tiny.messages)
    assert max(ids.values()) == 1
    per_provider = Counter((m["sender"], line["reference"]) for m, line in _lines(tiny))
    assert max(per_provider.values()) == 1


def test_headers_use_agb_and_cbs_codes(tiny):
    for message in tiny.messages:
        provider, municipality = (
            (message["receiver"], message["sender"])
            if message["type"] in ("JW301", "JW325")
            else (message["sender"], message["receiver"])
        )
        assert len(provider) == 8 and provider.isdigit()
        assert len(municipality) == 4 and municipality.isdigit()


# --- behaviours the pipeline must meet ---------------------------------------------------------------


def test_tiny_shows_every_behaviour(tiny):
    records = {
        kind: [r for m in tiny.of_type(kind) for r in m["records"]]
        for kind in ("JW301", "JW305", "JW307", "JW315")
    }
    reasons = Counter(r["reason"] for r in records["JW301"])
    assert reasons["04"] and reasons["13"] and reasons["07"]  # extension, deletion, move
    assert any(r["status"] == "3" for r in records["JW305"])
    end_reasons = Counter(r["end_reason"] for r in records["JW307"])
    assert end_reasons["31"] and end_reasons["20"] and end_reasons["02"]
    assert any(reason in end_reasons for reason in ("32", "33", "34", "35", "36", "37", "38", "39"))
    referrers = Counter(r["referrer"] for r in records["JW315"])
    assert {"01", "02"} <= set(referrers)
    # the JW301 carries the ReferentieAanbieder of the request
    requested = {r["reference"] for r in records["JW315"]}
    assert {r["reference"] for r in records["JW301"]} <= requested
    # credits name the debit they cancel; late lines; rejections
    lines = [line for _, line in _lines(tiny)]
    debits = {
        (m["sender"], line["reference"]) for m, line in _lines(tiny) if line["debit_credit"] == "D"
    }
    credits = [(m["sender"], line) for m, line in _lines(tiny) if line["debit_credit"] == "C"]
    credit_without_debit = tiny.defect_references("8017")
    assert credits
    for sender, credit in credits:
        assert (sender, credit["previous"]) in debits or credit["reference"] in credit_without_debit
    assert any(
        m["declaration_date"] > _end_of_next_month(line["start"]) for m, line in _lines(tiny)
    )
    assert sum(len(m["records"]) for m in tiny.of_type("JW325")) >= 1
    assert len(lines) > 300
    truth = tiny.truth
    assert truth["skipping_providers"] and truth["punctual_providers"]
    assert truth["ceiling_crossing_providers"] and truth["underspending_providers"]
    statuses = truth["accountability"]
    for status in ("late", "not_delivered", "differing", "xlsx", "excel_dialect", "on_time"):
        assert statuses[status], status
    assert any(f.startswith("landing/pgb/") for f in tiny.files)


def test_skipping_provider_sends_nothing_for_its_skipped_months(tiny):
    for agb in tiny.truth["skipping_providers"]:
        skipped = set(tiny.truth["skipped_months"][agb])
        periods = {
            _declaration_period(tiny.out / m["file"])
            for m in tiny.of_type("JW323")
            if m["sender"] == agb
        }
        assert skipped and periods
        assert not skipped & periods
        # and catches up: care of a skipped month is invoiced in a later declaration
        care_months = {
            line["start"].isoformat()[:7] for m, line in _lines(tiny) if m["sender"] == agb
        }
        assert skipped & care_months


def _declaration_period(path: Path) -> str:
    root = etree.parse(str(path)).getroot()
    return root.find("{*}Declaratie/{*}DeclaratiePeriode/{*}Begindatum").text[:7]


def test_punctual_provider_invoices_every_month_on_time_and_clean(tiny):
    defect_agbs = {
        d["provider_agb"] for d in tiny.truth["defects"] if d["kind"] != "excel_dialect_csv"
    }
    for agb in tiny.truth["punctual_providers"]:
        assert agb not in defect_agbs
        for message, line in _lines(tiny):
            if message["sender"] == agb:
                assert (
                    line["start"] < message["declaration_date"] <= _end_of_next_month(line["start"])
                )
                assert line["debit_credit"] == "D"
        rejected = [r for m in tiny.of_type("JW325") if m["receiver"] == agb for r in m["records"]]
        assert rejected == []


def test_invoicing_starts_with_the_first_generated_year(tiny):
    assert tiny.truth["invoices_from"] == "2025-01"
    assert min(line["start"] for _, line in _lines(tiny)) >= date(2025, 1, 1)
    assert min(m["date"] for m in tiny.of_type("JW301")) < date(2025, 1, 1)  # running allocations


def test_punctual_providers_invoice_every_expected_care_month(tiny):
    """The completeness rule (docs/contract.md §3), applied to the punctual providers: 100% invoiced."""
    punctual = set(tiny.truth["punctual_providers"])
    allocations, starts, ends = {}, {}, {}
    for message in sorted(
        tiny.of_type("JW301") + tiny.of_type("JW305") + tiny.of_type("JW307"),
        key=lambda m: (m["date"], m["id"]),
    ):
        agb = message["receiver"] if message["type"] == "JW301" else message["sender"]
        if agb not in punctual:
            continue
        for record in message["records"]:
            key = (agb, record["allocation"])
            if message["type"] == "JW301":
                allocations[key] = record
            elif message["type"] == "JW305" and record["status"] == "1":
                starts[key] = min(starts.get(key, record["care_start"]), record["care_start"])
            elif message["type"] == "JW307" and record["end_reason"] != "20":
                ends[key] = record["end"]
    net: Counter = Counter()
    rejected = {
        (m["receiver"], m["declaration_number"], r["reference"])
        for m in tiny.of_type("JW325")
        for r in m["records"]
    }
    for message, line in _lines(tiny):
        if (message["sender"], message["declaration_number"], line["reference"]) not in rejected:
            signed = -line["amount"] if line["debit_credit"] == "C" else line["amount"]
            net[(message["sender"], line["allocation"], line["start"].isoformat()[:7])] += signed
    expected = 0
    invoices_from = date.fromisoformat(tiny.truth["invoices_from"] + "-01")
    for key, allocation in allocations.items():
        if (
            allocation["frequency"] not in ("1", "2", "4")
            or allocation["reason"] == "13"
            or key not in starts
        ):
            continue
        # invoicing starts with the first generated year; earlier months are allocation history only
        month = max(date(allocation["start"].year, allocation["start"].month, 1), invoices_from)
        while month <= allocation["end"] and _end_of_next_month(month) < AS_OF:
            following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
            last = date.fromordinal(following.toordinal() - 1)
            ended_before = key in ends and ends[key] < month
            if starts[key] <= last and not ended_before:
                expected += 1
                assert net[(key[0], key[1], month.isoformat()[:7])] > 0, (key, month)
            month = following
    assert expected > 20


# --- defects and ground truth ----------------------------------------------------------------------


def test_every_recorded_defect_exists_in_the_named_file(tiny):
    kinds = Counter(d["kind"] for d in tiny.truth["defects"])
    expected = {
        "9346",
        "9338",
        "8017",
        "9333",
        "9389",
        "9307",
        "9308",
        "invalid_bsn",
        "malformed_xml",
        "wrong_version",
        "excel_dialect_csv",
    }
    assert set(kinds) == expected
    assert tiny.truth["unplaced_defects"] == []
    by_file = {m["file"]: m for m in tiny.messages}
    allocations: dict[tuple[str, str], tuple[date, date]] = {}
    for message in sorted(tiny.of_type("JW301"), key=lambda m: m["date"]):
        for record in message["records"]:
            allocations[(message["receiver"], record["allocation"])] = (
                record["start"],
                record["end"],
            )
    for defect in tiny.truth["defects"]:
        path = tiny.out / defect["file"]
        assert path.is_file(), defect
        kind = defect["kind"]
        if kind == "malformed_xml":
            with pytest.raises(etree.XMLSyntaxError):
                etree.parse(str(path))
            assert defect["resent_as"] in by_file
            continue
        if kind == "wrong_version":
            assert "/ijw/3_0/" in etree.parse(str(path)).getroot().tag
            assert defect["resent_as"] in by_file
            continue
        if kind == "excel_dialect_csv":
            data = path.read_bytes()
            assert data.startswith(b"\xef\xbb\xbf") and b";" in data.split(b"\n")[0]
            rows = tiny.csv_rows(defect["file"])
            assert len(rows) == defect["rows"] and all("," in row["bedrag_eur"] for row in rows)
            continue
        message = by_file[defect["file"]]
        agb = message["sender"]
        if kind == "9333":
            number = message["declaration_number"]
            assert defect["reference"] == f"DeclaratieNummer {number}"
            others = [
                m
                for m in tiny.of_type("JW323")
                if m["sender"] == agb
                and m["file"] != defect["file"]
                and m["declaration_number"] == number
            ]
            assert others
            continue
        [line] = [r for r in message["records"] if r["reference"] == defect["reference"]]
        if kind == "9346":
            assert line["amount"] != line["volume"] * line["tariff"]
        elif kind == "9338":
            assert (agb, line["allocation"]) not in allocations
        elif kind == "8017":
            debits = {ln["reference"] for m, ln in _lines(tiny) if m["sender"] == agb}
            assert line["debit_credit"] == "C" and line["previous"] not in debits
        elif kind == "9389":
            same = [
                ln
                for m, ln in _lines(tiny)
                if m["sender"] == agb
                and ln["reference"] != line["reference"]
                and (ln["bsn"], ln["allocation"], ln["product_code"], ln["start"], ln["amount"])
                == (
                    line["bsn"],
                    line["allocation"],
                    line["product_code"],
                    line["start"],
                    line["amount"],
                )
                and ln["debit_credit"] == "D"
            ]
            assert same
        elif kind == "9307":
            assert line["start"] < allocations[(agb, line["allocation"])][0]
        elif kind == "9308":
            assert line["end"] > allocations[(agb, line["allocation"])][1]
        elif kind == "invalid_bsn":
            assert not is_valid_bsn(line["bsn"])
        if defect.get("rejected_in_jw325"):
            answer = by_file[defect["jw325_file"]]
            assert answer["declaration_number"] == message["declaration_number"]
            assert defect["reference"] in {r["reference"] for r in answer["records"]}


def test_ground_truth_cost_equals_a_recomputation_from_the_xml(tiny):
    rejected = {
        (m["receiver"], m["declaration_number"], r["reference"])
        for m in tiny.of_type("JW325")
        for r in m["records"]
    }
    by_municipality: Counter = Counter()
    by_provider: Counter = Counter()
    lines_by_year: Counter = Counter()
    for message, line in _lines(tiny):
        assert "/3_2/" in message["namespace"]
        year = line["start"].year
        lines_by_year[year] += 1
        if (message["sender"], message["declaration_number"], line["reference"]) in rejected:
            continue
        signed = -line["amount"] if line["debit_credit"] == "C" else line["amount"]
        by_municipality[f"GM{message['receiver']}|{year}"] += signed
        by_provider[f"{message['sender']}|{year}"] += signed
    truth = tiny.truth["accepted_cost_eur"]

    def as_text(counter):
        return {key: f"{cents / 100:.2f}" for key, cents in sorted(counter.items())}

    assert truth["by_municipality_year"] == as_text(by_municipality)
    assert truth["by_provider_year"] == as_text(by_provider)
    for year, totals in tiny.truth["totals_by_year"].items():
        assert totals["lines"] == lines_by_year[int(year)]
        cost = sum(c for k, c in by_municipality.items() if k.endswith(f"|{year}"))
        assert totals["cost_eur"] == f"{cost / 100:.2f}"
    assert set(by_municipality) == {"GM0546|2025", "GM0546|2026", "GM0638|2025", "GM0638|2026"}


def test_ground_truth_youths_and_care_months_equal_a_recomputation(tiny):
    rejected = {
        (m["receiver"], m["declaration_number"], r["reference"])
        for m in tiny.of_type("JW325")
        for r in m["records"]
    }
    per_municipality: Counter = Counter()
    region: Counter = Counter()
    for message, line in _lines(tiny):
        if (message["sender"], message["declaration_number"], line["reference"]) in rejected:
            continue
        signed = -line["amount"] if line["debit_credit"] == "C" else line["amount"]
        key = (line["bsn"], message["sender"], line["product_code"], line["start"].isoformat()[:7])
        per_municipality[(message["receiver"], *key)] += signed
        region[key] += signed
    kpis: dict[str, dict] = {}
    for (code, bsn, _, _, month), cents in per_municipality.items():
        if cents > 0:
            slot = kpis.setdefault(f"GM{code}|{month[:4]}", {"youths": set(), "care_months": 0})
            slot["youths"].add(bsn)
            slot["care_months"] += 1
    assert tiny.truth["kpis_by_municipality_year"] == {
        key: {"unique_youths": len(v["youths"]), "care_months": v["care_months"]}
        for key, v in sorted(kpis.items())
    }
    for year, totals in tiny.truth["totals_by_year"].items():
        months = [key for key, cents in region.items() if cents > 0 and key[3].startswith(year)]
        assert totals["care_months"] == len(months)
        assert totals["youths"] == len({key[0] for key in months})


def test_summary_counts_match_the_files_on_disk(tiny):
    summary = tiny.summary
    for source in ("ijw", "reference", "verantwoording", "pgb"):
        on_disk = [f for f in tiny.files if f.startswith(f"landing/{source}/")]
        assert summary.files_by_source[source] == len(on_disk), source
    assert summary.ground_truth_path == tiny.out / "ground_truth.json"
    assert summary.years == (2025, 2026)
    assert sorted(f for f in tiny.files if f.startswith("landing/reference/")) == [
        f"landing/reference/{name}.csv"
        for name in (
            "budget_ceilings",
            "population",
            "products",
            "programme_budget",
            "programme_budget_wijziging_2026",
            "providers",
        )
    ]


def test_reference_files_follow_the_contract(tiny):
    products = tiny.csv_rows("landing/reference/products.csv")
    assert list(products[0]) == [
        "product_category",
        "product_code",
        "description",
        "unit",
        "tariff_eur",
        "valid_from",
        "valid_to",
        "segment",
    ]
    units = {row["unit"] for row in products}
    assert units == {"01", "04", "14", "16", "82", "83"}
    assert {row["segment"] for row in products} >= {
        "ambulant",
        "dagbehandeling",
        "verblijf",
        "ggz",
        "dyslexie",
        "vervoer",
    }
    tariffs_2024 = {
        row["product_code"]: row["tariff_eur"]
        for row in products
        if row["valid_from"] == "2025-01-01"
    }
    assert tariffs_2024["45A48"] == "81.12"  # the 2024 tariff of 78.00 indexed by 4%
    ceilings = tiny.csv_rows("landing/reference/budget_ceilings.csv")
    assert {row["agb_code"] for row in ceilings} == {
        row["agb_code"] for row in tiny.csv_rows("landing/reference/providers.csv")
    }
    population = tiny.csv_rows("landing/reference/population.csv")
    assert {row["municipality_code"] for row in population} == {"0546", "0638"}


@pytest.mark.skipif(
    not (SHARED / "xsd").is_dir(), reason="the iJw 3.2 XSDs (../shared/ijw-3.2) are absent"
)
def test_every_ingestible_ijw_file_is_schema_valid(tiny):
    xmlschema = pytest.importorskip("xmlschema")
    schemas: dict[str, object] = {}
    for message in tiny.messages:
        kind = message["type"]
        if kind not in schemas:
            schemas[kind] = xmlschema.XMLSchema(str(SHARED / "xsd" / f"{kind}.xsd"))
        schemas[kind].validate(str(tiny.out / message["file"]))


def test_region_profile_shape():
    world = resolve("region", 1, AS_OF, None)
    assert world.years == [2023, 2024, 2025, 2026]
    codes = [m.code for m in world.municipalities]
    assert codes == [
        "0484",
        "0534",
        "1884",
        "0537",
        "0546",
        "0547",
        "0553",
        "0569",
        "0575",
        "0579",
        "1525",
        "0638",
    ]
    agbs = [p.agb for p in world.providers]
    assert len(agbs) == len(set(agbs)) == 150 and all(len(a) == 8 and a.isdigit() for a in agbs)
    assert {p.contract_type for p in world.providers} == {
        "raamcontract",
        "maatwerk",
        "nee_tenzij",
        "expertteam",
    }
    assert round(sum(m.youths_in_care for m in world.municipalities)) == 8000
    assert resolve("region", 1, AS_OF, 1).years == [2026]
