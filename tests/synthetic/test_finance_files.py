"""The generator's programme budget and provider forecasts (jeugdhulp/synthetic/finance.py) against
its own ground truth: what the files hold, not what the pipeline makes of them."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from tests.support.ingest_files import tabular_rows

AS_OF = date(2026, 10, 15)


def _euro(value) -> Decimal:
    if isinstance(value, float | int):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return Decimal(str(value).replace(",", "."))


def test_programme_budget_over_and_underspends_by_segment(generated_tiny):
    out, truth = generated_tiny
    budget = truth["programme_budget"]
    rows = tabular_rows(out / "landing/reference/programme_budget.csv")
    assert list(rows[0]) == ["year", "segment", "budget_eur", "adopted_on"]
    written = {(r["year"], r["segment"]): (_euro(r["budget_eur"]), r["adopted_on"]) for r in rows}
    expected = {
        (year, segment): (_euro(e["budget_eur"]), e["adopted_on"])
        for year, segments in budget["years"].items()
        for segment, e in segments.items()
    }
    assert written == expected
    assert {y for y, _ in written} == {"2025", "2026"}
    over, under = budget["overspent_segment"], budget["underspent_segment"]
    for segments in budget["years"].values():
        care = {s: _euro(e["care_delivered_eur"]) for s, e in segments.items()}
        amount = {s: _euro(e["budget_eur"]) for s, e in segments.items()}
        if over in amount:
            assert amount[over] < care[over]
        if under in amount and care[under] > 1000:
            assert amount[under] > care[under]
        # the region total lands near the realised cost
        assert abs(sum(amount.values()) / sum(care.values()) - 1) < Decimal("0.15")


def test_the_amendment_raises_the_overspent_segment_once_adopted(generated_tiny):
    out, truth = generated_tiny
    over = truth["programme_budget"]["overspent_segment"]
    entry = truth["programme_budget"]["years"]["2026"][over]
    rows = tabular_rows(out / "landing/reference/programme_budget_wijziging_2026.csv")
    assert rows == [
        {
            "year": "2026",
            "segment": over,
            "budget_eur": entry["amended_budget_eur"].replace(".", ","),
            "adopted_on": "2026-06-25",
        }
    ]
    assert _euro(entry["budget_eur"]) < _euro(entry["amended_budget_eur"])


def test_prognoses_are_biased_some_late_some_missing(generated_tiny):
    out, truth = generated_tiny
    providers = truth["prognoses"]["providers"]
    assert providers
    files = {
        p.relative_to(out).as_posix(): p
        for p in (out / "landing/prognoses").rglob("*")
        if p.is_file()
    }
    delivered = [
        (agb, r) for agb, e in providers.items() for r in e["reports"] if r["status"] == "delivered"
    ]
    assert sorted(r["file"] for _, r in delivered) == sorted(files)
    for agb, report in delivered:
        rows = tabular_rows(files[report["file"]])
        assert {str(r["agb_code"]) for r in rows} == {agb}
        assert sum(_euro(r["prognose_eur"]) for r in rows) == _euro(report["prognose_eur"])
        assert date.fromisoformat(report["delivered_on"]) <= AS_OF
    # nothing due after as_of, nor anything missing, has a file
    for entry in providers.values():
        for report in entry["reports"]:
            assert ("file" in report) == (report["status"] == "delivered")
            if report["status"] == "not_yet_delivered":
                assert date.fromisoformat(report["delivered_on"]) > AS_OF


def test_the_development_key_manifest_lists_the_finance_files(generated_tiny):
    out, truth = generated_tiny
    listed = {}
    for line in (out / "generated-files.sha256").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    files = [f for f in (out / "landing/prognoses").rglob("*") if f.is_file()]
    files += list((out / "landing/reference").glob("programme_budget*"))
    assert len(files) >= 3
    for path in files:
        relative = path.relative_to(out).as_posix()
        assert listed[relative] == hashlib.sha256(path.read_bytes()).hexdigest(), relative


def test_the_region_budgets_each_segment_on_the_care_delivered_in_its_products():
    """The region's complex cases are maatwerk (50A01) delivered by residential providers: its
    programme budget splits care by the products delivered, not by the providers' weights."""
    from jeugdhulp.synthetic.finance import care_by_delivered_segment
    from jeugdhulp.synthetic.profiles import resolve

    rows = {
        ("11111111", 2025): [("0546", "44A27", 30, 587_730, 1), ("0546", "50A01", 1, 2_200_000, 1)],
        ("22222222", 2025): [("0484", "44A25", 10, 83_550, 1), ("0484", "45A48", 4, 0, 1)],
        ("22222222", 2026): [("0484", "45A48", 4, 31_200, 2)],
    }
    assert care_by_delivered_segment(rows) == {
        2025: {"verblijf": 671_280.0, "maatwerk": 2_200_000.0},
        2026: {"ambulant": 31_200.0},
    }
    assert resolve("region", 7, AS_OF, None).budget_by_delivered_product
    assert not resolve("tiny", 7, AS_OF, None).budget_by_delivered_product
