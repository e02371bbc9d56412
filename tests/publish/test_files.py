"""Publishing to municipalities: folders, suppression, privacy, Dutch CSV, atomic and idempotent runs."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jeugdhulp.privacy.bsn import nth_test_bsn
from jeugdhulp.publish import publish
from jeugdhulp.publish.catalogue import DUTCH_LABELS, LABELLED
from jeugdhulp.publish.dutch import half_year_label
from jeugdhulp.publish.files import HALF_YEAR_COLUMNS, VALUE_LABELS
from jeugdhulp.publish.warehouse import PublishError
from jeugdhulp.settings import Settings
from tests.support.publish_warehouse import (
    AS_OF,
    CATEGORY_NAMES,
    CELLS,
    NAMES,
    PRODUCT_NAMES,
    PROVIDERS,
    REFERRER_NAMES,
    SEGMENT_NAMES,
    build_warehouse,
)

MUNICIPALITIES = sorted(NAMES)
TABLES = [
    "mart_costs_monthly",
    "mart_kpi_annual",
    "mart_invoice_timeliness",
    "mart_invoicing_completeness",
    "mart_budget_utilisation",
    "mart_throughput",
    "mart_accountability_reconciliation",
    "mart_settlement",
    "mart_cost_concentration",
    "mart_referrers",
    "mart_segment_budget",
    "mart_local_team",
    "mart_waiting_times",
    "mart_residence_signals",
    "mart_costs_by_financing",
    "mart_clients_by_dimension",
    "mart_youths_unknown_to_municipality",
    "mart_cost_change",
    "mart_top_clients",
    "mart_product_norms",
    "dq_findings_summary",
    "rpt_costs_provider_year",
    "rpt_costs_segment_month",
    "rpt_costs_product_year",
    "rpt_report_monthly",
    "rpt_report_budget",
    "rpt_report_kpi",
    "rpt_report_lateness",
    "rpt_report_accountability",
    "rpt_report_completeness",
    "rpt_report_dq",
    "rpt_report_referrers",
    "rpt_report_throughput",
]
OPENBAAR = ["rpt_costs_provider_year", "rpt_costs_segment_month", "rpt_costs_product_year"]
PROVIDER_LEVEL = [
    "mart_invoice_timeliness",
    "mart_budget_utilisation",
    "mart_waiting_times",
    "mart_product_norms",  # the product rows (provider_agb NULL) stay in the region set
]
REGION_LEVEL = ["mart_segment_budget"]  # the region's own figures: every reader gets them whole
# Counts of persons (or of records, at least one per person), listed here independently of the code.
PERSON_COUNTS = {
    "clients",
    "unique_youths",
    "non_unique_youths",
    "youths",
    "started",
    "started_repeat",
    "ended",
    "ended_by_plan",
    "running_at_end",
    "allocations",
    "lines",
    "expected_care_months",
    "youths_team_only",
    "youths_team_then_specialist",
    "youths_specialist_without_team",
    "youths_total",
    "waiting_count",
    "months_billed_to_two",
    "overlapping_allocations",
    "invoice_other_than_allocation",
    "move_with_running_allocation",
    "persons",
}


def settings_for(data_dir: Path, dsn: str | None = None) -> Settings:
    return Settings(data_dir=data_dir, as_of=AS_OF, pseudonym_key=None, postgres_dsn=dsn)


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("publish")
    build_warehouse(data_dir / "warehouse" / "warehouse.duckdb")
    report = publish(settings_for(data_dir))
    return data_dir, report


def read(path: Path) -> pa.Table:
    return pq.read_table(path)


def rows(path: Path) -> list[dict]:
    return read(path).to_pylist()


def passes_11_proef(digits: str) -> bool:
    total = sum(weight * int(d) for weight, d in zip((9, 8, 7, 6, 5, 4, 3, 2, -1), digits))
    return digits != "000000000" and total % 11 == 0


def every_published_file(published_dir: Path) -> list[Path]:
    return sorted(
        path for path in published_dir.rglob("*") if path.is_file() and path.name != ".publish.lock"
    )


def file_text(path: Path) -> str:
    """All text a reader could see: CSV/HTML as is, Parquet as column names and values."""
    if path.suffix == ".parquet":
        table = read(path)
        values = [str(v) for column in table.columns for v in column.to_pylist()]
        return "\n".join(table.column_names + values)
    return path.read_text(encoding="utf-8-sig")


def test_every_target_gets_parquet_csv_and_a_report(published):
    data_dir, report = published
    out = data_dir / "published"
    assert report.municipalities == MUNICIPALITIES
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "intern",
        "openbaar",
    ]
    for tier, tables in (("intern", TABLES), ("openbaar", OPENBAAR)):
        folders = sorted(p.name for p in (out / tier).iterdir())
        assert folders == sorted(MUNICIPALITIES + ["regio"]), tier
        expected = sorted(
            [f"{t}.{ext}" for t in tables for ext in ("csv", "parquet")] + ["index.html"]
        )
        for folder in folders:
            assert sorted(p.name for p in (out / tier / folder).iterdir()) == expected, folder
    assert report.skipped_marts == {}
    assert report.openbaar_tables == OPENBAAR
    assert not report.postgres
    assert len(report.paths) == 5 * (2 * len(TABLES) + 1) + 5 * (2 * len(OPENBAAR) + 1)
    for tier in ("intern", "openbaar"):
        html = (out / tier / "GM0546" / "index.html").read_text(encoding="utf-8")
        assert "Jeugdhulp in Leiden" in html


def test_a_municipality_folder_holds_only_its_own_rows(published):
    data_dir, _ = published
    out = data_dir / "published" / "intern"
    for code in MUNICIPALITIES:
        for table in TABLES:
            if table in PROVIDER_LEVEL:
                continue
            if table in REGION_LEVEL:  # the same file everywhere
                assert file_text(out / code / f"{table}.csv") == file_text(
                    out / "regio" / f"{table}.csv"
                )
                continue
            found = {row["municipality_code"] for row in rows(out / code / f"{table}.parquet")}
            assert found <= {code}, (code, table, found)
        # provider-level marts: only the providers that invoiced this municipality
        own_providers = {provider for (m, provider, _) in CELLS if m == code}
        for table in PROVIDER_LEVEL:
            found = {row["provider_agb"] for row in rows(out / code / f"{table}.parquet")}
            assert found == own_providers, (code, table)
    assert {
        r["provider_agb"] for r in rows(out / "GM1884" / "mart_invoice_timeliness.parquet")
    } == {"22222222"}
    regio_costs = rows(out / "regio" / "mart_costs_monthly.parquet")
    assert {row["municipality_code"] for row in regio_costs} == set(MUNICIPALITIES)
    # every row reaches its own municipality's folder once: the folders partition the region set
    total = sum(read(out / code / "mart_costs_monthly.parquet").num_rows for code in MUNICIPALITIES)
    assert total == len(regio_costs) == 210


def test_no_client_key_and_no_bsn_in_any_published_file(published):
    data_dir, _ = published
    files = every_published_file(data_dir / "published")
    assert files
    for path in files:
        text = file_text(path)
        assert "client_key" not in text.lower(), path
        assert "a" * 32 not in text, path  # the fabricated client_key value of fct_invoice_lines
        for number in re.findall(r"(?<!\d)\d{9}(?!\d)", text):
            assert not passes_11_proef(number), (path, number)
        if path.suffix == ".parquet":
            assert not [
                c for c in read(path).column_names if c == "client_key" or "bsn" in c.lower()
            ]
    assert not any("fct_invoice_lines" in p.name for p in files)


def test_no_published_person_count_is_between_1_and_4(published):
    data_dir, _ = published
    checked = 0
    for path in (data_dir / "published" / "openbaar").rglob("*.parquet"):
        table = read(path)
        for column in PERSON_COUNTS & set(table.column_names):
            for value in table.column(column).to_pylist():
                assert value is None or value == 0 or value >= 5, (path, column, value)
                checked += 1
    assert checked > 500
    # the intern tier is the warehouse's: its small counts are there
    intern = rows(data_dir / "published" / "intern" / "GM1884" / "mart_costs_monthly.parquet")
    assert intern and all(r["clients"] == 2 and r["amount_eur"] is not None for r in intern)


def test_the_suppressed_cell_count_is_the_number_of_values_hidden(published):
    data_dir, report = published
    hidden = 0
    for table in OPENBAAR:
        published_table = read(data_dir / "published" / "openbaar" / "regio" / f"{table}.parquet")
        hidden += sum(published_table.column(c).null_count for c in ("persons", "amount_eur"))
    assert hidden == report.suppressed_cells == sum(report.suppressed_cells_per_mart.values())
    assert hidden > 0


def _parse(text: str, data_type: pa.DataType):
    """Read a Dutch-Excel CSV field the way a controller's tool would."""
    if text == "":
        return None
    if pa.types.is_decimal(data_type):
        return Decimal(text.replace(",", "."))
    if pa.types.is_floating(data_type):
        return float(text.replace(",", "."))
    if pa.types.is_integer(data_type):
        return int(text)
    if pa.types.is_boolean(data_type):
        return {"ja": True, "nee": False}[text]
    if pa.types.is_date(data_type):
        return date.fromisoformat(text)
    return text


def dutch_value(name: str, row: dict) -> str:
    value = row[name]
    if name in HALF_YEAR_COLUMNS:
        return half_year_label(value)
    return VALUE_LABELS.get(name, {}).get(value, value)


def test_csv_reads_back_with_semicolon_decimal_comma_and_bom(published):
    data_dir, _ = published
    compared = 0
    for folder in ["regio", *MUNICIPALITIES]:
        for table_name in TABLES:
            raw = (data_dir / "published" / "intern" / folder / f"{table_name}.csv").read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")
            records = list(
                csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline=""), delimiter=";")
            )
            table = read(data_dir / "published" / "intern" / folder / f"{table_name}.parquet")
            assert records[0] == [DUTCH_LABELS[c] for c in table.column_names]
            assert len(records) - 1 == table.num_rows
            for record, expected in zip(records[1:], table.to_pylist()):
                for field, text in zip(table.schema, record):
                    value = _parse(text, field.type)
                    # a coded value the CSV shows in Dutch words (files.VALUE_LABELS)
                    if isinstance(expected[field.name], str):
                        expected = {**expected, field.name: dutch_value(field.name, expected)}
                    if pa.types.is_floating(field.type) and value is not None:
                        assert value == pytest.approx(expected[field.name], abs=5e-7)
                    else:
                        assert value == expected[field.name], (folder, table_name, field.name, text)
                    compared += 1
    assert compared > 5000
    costs = (data_dir / "published" / "intern" / "GM0546" / "mart_costs_monthly.csv").read_text(
        encoding="utf-8-sig"
    )
    # text quoted (codes stay text: "45"), numbers bare
    assert (
        costs.splitlines()[1]
        == '"GM0546";"Leiden";"11111111";"Jeugdzorg Rijnland";"45";"Jeugdhulp ambulant";'
        '"45A48";"Ambulante jeugdhulp individueel";"ambulant";"Ambulante jeugdhulp";'
        "2024-01-01;24960,00;320,00;40"
    )
    reconciliation = (
        data_dir / "published" / "intern" / "GM0546" / "mart_accountability_reconciliation.csv"
    ).read_text(encoding="utf-8-sig")
    assert '-250,00;"verschil";ja' in reconciliation


def test_the_openbaar_region_set_is_suppressed_too(published):
    data_dir, _ = published
    costs = rows(data_dir / "published" / "openbaar" / "regio" / "rpt_costs_provider_year.parquet")
    small = [r for r in costs if r["municipality_code"] == "GM1884"]
    assert small and all(r["persons"] is None and r["amount_eur"] is None for r in small)
    assert all(r["suppressed"] == "primair" for r in small)


def test_dq_findings_reach_municipalities_only_as_counts_per_rule(published):
    data_dir, _ = published
    out = data_dir / "published" / "intern"
    table = read(out / "GM0546" / "dq_findings_summary.parquet")
    assert table.column_names == [
        "municipality_code",
        "municipality_name",
        "provider_agb",
        "provider_name",
        "rule_id",
        "severity",
        "findings",
    ]
    assert table.to_pylist() == [
        {
            "municipality_code": "GM0546",
            "municipality_name": "Leiden",
            "provider_agb": "11111111",
            "provider_name": "Jeugdzorg Rijnland",
            "rule_id": "0611",
            "severity": "warn",
            "findings": 1,
        },
        {
            "municipality_code": "GM0546",
            "municipality_name": "Leiden",
            "provider_agb": "22222222",
            "provider_name": "Kind & GGZ Holland",
            "rule_id": "9346",
            "severity": "error",
            "findings": 2,
        },
    ]
    regio = rows(out / "regio" / "dq_findings_summary.parquet")
    assert sum(r["findings"] for r in regio) == 6
    for path in every_published_file(out):
        assert "landing/ijw" not in file_text(path) and "ref-1" not in file_text(path)


def _section(html: str, anchor: str) -> str:
    found = re.search(f'<section id="{anchor}".*?</section>', html, re.S)
    assert found, anchor
    return found.group(0)


def test_product_norms_reach_the_region_whole_and_a_municipality_for_its_providers(published):
    data_dir, _ = published
    out = data_dir / "published" / "intern"
    regio = rows(out / "regio" / "mart_product_norms.parquet")
    assert len(regio) == 7
    assert [(r["product_code"], r["provider_agb"]) for r in regio if r["level"] == "product"] == [
        ("44A27", None),
        ("45A48", None),
        ("54001", None),
    ]
    # Kaag en Braassem: Kind & GGZ Holland's row only (no product rows: those cover providers
    # that never invoiced it)
    small = rows(out / "GM1884" / "mart_product_norms.parquet")
    assert [(r["level"], r["product_code"], r["provider_agb"]) for r in small] == [
        ("provider", "54001", "22222222")
    ]
    assert small[0]["norm_amount_per_care_month"] == Decimal("871.39")
    assert not (data_dir / "published" / "openbaar" / "regio" / "mart_product_norms.csv").exists()


def test_the_product_norms_section_shows_the_marts_flags_with_names(published):
    data_dir, _ = published
    eur = "€\u00a0"
    regio = (data_dir / "published" / "intern" / "regio" / "index.html").read_text(encoding="utf-8")
    assert '<a href="#productnormen">Productnormen</a>' in regio
    section = _section(regio, "productnormen")
    # the norm and spread of every product, the largest first
    assert (
        section.index('<th scope="row">45A48</th>')
        < section.index('<th scope="row">44A27</th>')
        < section.index('<th scope="row">54001</th>')
    )
    assert (
        '<th scope="row">54001</th><td class="num">21</td><td class="num">171</td>'
        f'<td class="num">{eur}871</td><td class="num">{eur}788 ({eur}788–{eur}920)</td>'
        f'<td class="num">{eur}120</td><td class="num">6,6</td><td class="num">6,0 (6,0–7,0)</td>'
        '<td class="num">0,9</td><td class="num">1</td>'
    ) in section
    # the outlier, against the norm and the providers' median
    assert (
        '<th scope="row">45A48</th><td>Dyslexiepraktijk Leiden (44444444)</td>'
        f'<td class="num">12</td><td class="num">90</td><td class="num">{eur}1.560</td>'
        f'<td class="num">{eur}768</td><td class="num">{eur}640</td><td class="num">203,1</td>'
        '<td class="num">203,1</td><td class="num">15,51</td>'
    ) in section
    # the rise of units per client, for the product and its provider
    rise = (
        '<td class="num">20</td><td class="num">21</td><td class="num">40,0</td>'
        '<td class="num">54,0</td><td class="num">+35,0</td><td class="num">2,80</td>'
    )
    assert f'<th scope="row">54001</th><td>Alle aanbieders</td>{rise}' in section
    assert f'<th scope="row">54001</th><td>Kind &amp; GGZ Holland (22222222)</td>{rise}' in section
    # volume growth of the product
    assert (
        '<th scope="row">45A48</th><td>Alle aanbieders</td><td class="num">50</td>'
        '<td class="num">72</td><td class="num">+44,0</td><td class="num">+47,7</td>'
        '<td class="num">1,99</td>'
    ) in section
    # a municipality sees its providers only: Kaag en Braassem's one provider, no outlier
    own = (data_dir / "published" / "intern" / "GM1884" / "index.html").read_text(encoding="utf-8")
    section = _section(own, "productnormen")
    assert "44444444" not in section and "Alle aanbieders" not in section
    assert "Geen aanbieder ver boven de norm van een product in 2025." in section
    assert f'<th scope="row">54001</th><td>Kind &amp; GGZ Holland (22222222)</td>{rise}' in section
    assert "Geen significante volumegroei in 2025." in section
    # openbaar: no publication model, no section
    for code in ("regio", "GM1884"):
        html = (data_dir / "published" / "openbaar" / code / "index.html").read_text(
            encoding="utf-8"
        )
        assert "productnormen" not in html


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_republishing_the_same_marts_gives_the_same_bytes(published):
    data_dir, _ = published
    before = _hashes(data_dir / "published")
    again = publish(settings_for(data_dir))
    assert _hashes(data_dir / "published") == before
    assert again.changed_folders == []


def test_a_run_swaps_folders_whole_keeps_foreign_entries_and_retires_stale_ones(tmp_path):
    warehouse = build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")
    first = publish(settings_for(tmp_path))
    targets = ["regio", *MUNICIPALITIES]
    assert first.changed_folders == [f"{t}/{c}" for t in ("intern", "openbaar") for c in targets]
    docs = tmp_path / "published" / "regio" / "kwaliteit"  # the Data Docs, beside the tiers
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("Data Docs")
    (tmp_path / "published" / "regio" / "index.html").write_text("old layout")
    for stale in ("GM9999", "intern/GM9999"):  # the layout before the tiers, and a stale code
        (tmp_path / "published" / stale).mkdir()
        (tmp_path / "published" / stale / "mart_costs_monthly.csv").write_text("old")
    con = duckdb.connect(str(warehouse))
    con.execute(
        "UPDATE marts.mart_referrers SET cost_eur = cost_eur + 1 WHERE municipality_code = 'GM0546'"
    )
    con.close()
    second = publish(settings_for(tmp_path))
    assert second.changed_folders == ["intern/regio", "intern/GM0546"]  # referrers: intern only
    assert second.removed_folders == ["intern/GM9999", "GM9999"]
    assert (docs / "index.html").read_text() == "Data Docs"
    assert not (tmp_path / "published" / "regio" / "index.html").exists()
    hidden = [p.name for p in (tmp_path / "published").iterdir() if p.name.startswith(".")]
    assert hidden == [".publish.lock"]  # no staging or retired folders left behind
    referrers = rows(tmp_path / "published" / "intern" / "GM0546" / "mart_referrers.parquet")
    assert referrers[0]["cost_eur"] == Decimal("250001.00")


# the name each code should have, from the fabricated reference data (not from the publisher)
EXPECTED_NAMES = {
    "municipality_code": ("municipality_name", {**NAMES, "regio": "Regio (alle gemeenten)"}),
    "provider_agb": ("provider_name", {**PROVIDERS, "totaal": "Alle aanbieders"}),
    "product_category": (
        "product_category_name",
        {**CATEGORY_NAMES, "totaal": "Alle productcategorieën"},
    ),
    "product_code": ("product_name", PRODUCT_NAMES),
    "segment": ("segment_name", SEGMENT_NAMES),
    "referrer_type": ("referrer_description", REFERRER_NAMES),
}
# names the tables carry themselves (the fabricated rpt_* models, the marts' own descriptions)
OWN_NAMES = {
    ("rpt_costs_segment_month", "segment_name"),
    ("rpt_report_referrers", "referrer_description"),
}


def test_every_code_in_every_intern_file_has_its_dutch_name_beside_it(published):
    data_dir, _ = published
    assert {code: name for code, (_, name) in LABELLED.items()} == {
        code: name for code, (name, _) in EXPECTED_NAMES.items()
    }
    checked = 0
    for folder in ["regio", *MUNICIPALITIES]:
        for table_name in TABLES:
            path = data_dir / "published" / "intern" / folder / f"{table_name}.parquet"
            table = read(path)
            columns = table.column_names
            for code, (name, names) in EXPECTED_NAMES.items():
                if code not in columns:
                    continue
                if code == "product_category" and "product_category_description" in columns:
                    continue  # the mart names the category itself
                assert columns[columns.index(code) + 1] == name, (table_name, code)
                if (table_name, name) in OWN_NAMES:
                    continue
                for row in table.to_pylist():
                    assert row[name] == names.get(row[code]), (table_name, code, row[code])
                    checked += 1
            header = next(
                csv.reader(
                    io.StringIO(path.with_suffix(".csv").read_text(encoding="utf-8-sig")),
                    delimiter=";",
                )
            )
            assert header == [DUTCH_LABELS[c] for c in columns]
    assert checked > 1000
    # a few codes by hand: the provider, a referrer type (COD327), a product, and codes without
    # a label (product 44A27, referrer 08) published with an empty name, never a made-up one
    out = data_dir / "published" / "intern" / "GM0546"
    costs = rows(out / "mart_costs_monthly.parquet")
    row = next(r for r in costs if r["provider_agb"] == "22222222")
    assert row["provider_name"] == "Kind & GGZ Holland"
    assert row["municipality_name"] == "Leiden"
    assert (row["product_code"], row["product_name"]) == ("54001", "Jeugd-ggz behandeling")
    assert (row["segment"], row["segment_name"]) == ("jeugd-ggz", "Jeugd-ggz")
    assert (row["product_category"], row["product_category_name"]) == ("54", "Jeugd-ggz")
    assert {r["product_name"] for r in costs if r["product_code"] == "44A27"} == {None}
    referrers = {r["referrer_type"]: r for r in rows(out / "mart_referrers.parquet")}
    assert referrers["01"]["referrer_description"] == "Gemeente"
    assert referrers["08"]["referrer_description"] is None
    referrer_csv = list(
        csv.reader(
            io.StringIO((out / "mart_referrers.csv").read_text(encoding="utf-8-sig")),
            delimiter=";",
        )
    )
    assert referrer_csv[0][:4] == [
        "Gemeentecode",
        "Gemeente",
        "Verwijzer (COD327)",
        "Verwijzer (omschrijving)",
    ]
    assert ["GM0546", "Leiden", "08", "", "2025"] in [line[:5] for line in referrer_csv]
    costs_csv = (out / "mart_costs_monthly.csv").read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(costs_csv), delimiter=";"))
    assert header[:10] == [
        "Gemeentecode",
        "Gemeente",
        "AGB-code aanbieder",
        "Naam aanbieder",
        "Productcategorie",
        "Productcategorie (naam)",
        "Productcode",
        "Product (naam)",
        "Segment",
        "Segment (naam)",
    ]


def test_absent_marts_are_skipped_and_said_so_and_names_fall_back_to_codes(tmp_path):
    missing = {"mart_settlement", "mart_budget_utilisation", "mart_throughput"}
    # an older warehouse, from before publication.rpt_labels: codes without names, said so
    build_warehouse(
        tmp_path / "warehouse" / "warehouse.duckdb", omit=missing | {"rpt_labels"}, names=False
    )
    report = publish(settings_for(tmp_path))
    assert any("rpt_labels does not exist" in note for note in report.notes)
    costs = read(tmp_path / "published" / "intern" / "GM0546" / "mart_costs_monthly.parquet")
    assert costs.column_names[:3] == ["municipality_code", "provider_agb", "product_category"]
    # dbt builds rpt_report_budget and rpt_report_throughput from the marts left out
    assert set(report.skipped_marts) == missing | {"rpt_report_budget", "rpt_report_throughput"}
    assert "does not exist" in report.skipped_marts["mart_settlement"]
    names = {p.name for p in (tmp_path / "published" / "intern" / "GM0546").iterdir()}
    assert "mart_settlement.csv" not in names and "mart_costs_monthly.csv" in names
    html = (tmp_path / "published" / "intern" / "GM0546" / "index.html").read_text(encoding="utf-8")
    assert "Nog niet beschikbaar in deze publicatie" in html
    assert "<code>mart_settlement</code>" in html
    assert "budgetbenutting per aanbieder is nog niet beschikbaar" in html
    assert 'data-chart="kosten-cumulatief"' in html  # what exists is still shown
    assert "Jeugdhulp in GM0546" in html and "AGB 11111111" in html  # no name lookups


def test_stray_identifying_columns_are_never_published(tmp_path):
    warehouse = build_warehouse(tmp_path / "warehouse" / "warehouse.duckdb")
    bsn = nth_test_bsn(3)
    con = duckdb.connect(str(warehouse))
    con.execute("ALTER TABLE marts.mart_referrers ADD COLUMN client_key VARCHAR DEFAULT 'k-123'")
    con.execute(f"ALTER TABLE marts.mart_referrers ADD COLUMN youth_bsn VARCHAR DEFAULT '{bsn}'")
    con.close()
    report = publish(settings_for(tmp_path))
    assert any("client_key" in note and "youth_bsn" in note for note in report.notes)
    for path in every_published_file(tmp_path / "published"):
        text = file_text(path)
        assert bsn not in text and "k-123" not in text and "youth_bsn" not in text, path


def test_without_a_warehouse_the_error_says_what_to_do(tmp_path):
    with pytest.raises(PublishError, match="no warehouse at .*jeugdhulp run"):
        publish(settings_for(tmp_path))


def test_coded_values_read_as_dutch_words_in_the_csv_and_stay_codes_in_parquet(tmp_path):
    from jeugdhulp.publish.files import write_csv, write_parquet

    table = pa.table(
        {
            "signal": ["op_koers", "dreigende_overschrijding", None],
            "status": ["geen_verantwoording", "akkoord", "verschil"],
            "severity": ["warn", "error", "warn"],
            "half_year": ["2025-H1", "2025-H2", "2026-H1"],
            "referrer_type": ["01", "02", "06"],
        }
    )
    write_csv(table, tmp_path / "t.csv")
    write_parquet(table, tmp_path / "t.parquet")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    records = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert records[1:] == [
        ["op koers", "geen verantwoording", "waarschuwing", "1e halfjaar 2025", "01"],
        ["dreigende overschrijding", "akkoord", "fout", "2e halfjaar 2025", "02"],
        ["", "verschil", "waarschuwing", "1e halfjaar 2026", "06"],
    ]
    assert '"01"' in text  # a code is a quoted text field
    assert pq.read_table(tmp_path / "t.parquet").to_pylist()[0]["signal"] == "op_koers"


def test_naming_the_codes_keeps_the_rows_and_refuses_a_code_with_two_names(tmp_path):
    from jeugdhulp.publish.warehouse import open_work_copy

    warehouse = build_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(warehouse), read_only=True)
    before = con.execute("SELECT * FROM marts.mart_costs_monthly").fetchall()
    con.close()
    with open_work_copy(warehouse) as work:
        after = work.con.execute(
            "SELECT municipality_code, provider_agb, product_category, product_code, segment, "
            "service_month, amount_eur, volume, clients FROM src.mart_costs_monthly"
        ).fetchall()
        assert not [note for note in work.notes if "rpt_labels" in note]
    assert after == before  # the same rows in the same order, the figures untouched
    con = duckdb.connect(str(warehouse))
    con.execute("INSERT INTO publication.rpt_labels VALUES ('provider', '22222222', 'Tweede naam')")
    con.close()
    with pytest.raises(PublishError, match="one label per kind and code"):
        open_work_copy(warehouse)


def test_the_suppression_status_is_a_quoted_text_field_like_any_other(tmp_path):
    """docs/publishing.md: every text field in double quotes, the openbaar tier's status column
    (Geheimhouding) too; a suppressed measure shows its marker."""
    from jeugdhulp.publish.files import write_csv

    table = pa.table(
        {
            "provider_agb": ["11111111", "22222222", "33333333"],
            "persons": pa.array([12, None, None], pa.int64()),
            "suppressed": [None, "primair", "secundair"],
        }
    )
    write_csv(table, tmp_path / "t.csv", markers={"persons": {"primair": "<5", "secundair": "x"}})
    lines = (tmp_path / "t.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    assert lines[1:4] == [
        '"11111111";12;',
        '"22222222";<5;"primair (minder dan 5 personen)"',
        '"33333333";x;"secundair"',
    ]
