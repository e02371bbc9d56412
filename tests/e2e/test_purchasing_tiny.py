"""The purchasing office's marts on the tiny profile against an independent calculation.

`jeugdhulp run` on tiny (seed 7, as of 2026-10-15, the shared `tiny_run`); the expected rows of
mart_cost_change, mart_top_clients and mart_product_norms are computed here in plain Python from
the archived iJw XML (tests/support/independent.py), following docs/purchasing_marts.md — never
from the warehouse's staging or intermediate tables. Only the mart under test is read.

Tiny has two years (2025 complete, 2026 observed January-August as of 15 October with a
one-month invoicing term), two municipalities and three providers: the outlier rule never
applies there (too few providers: the dbt unit tests cover it); the tariff indexation of
1 January 2026 gives every category a price effect.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from jeugdhulp.privacy.case_key import case_key, case_key_secret
from jeugdhulp.privacy.pseudonym import Pseudonymiser
from tests.support.independent import read_archive
from tests.support.pipeline import TINY_AS_OF

pytestmark = pytest.mark.slow

AS_OF = date.fromisoformat(TINY_AS_OF)
KEY = "test-key-not-secret"  # the pipeline's pseudonym key (tests/support/pipeline.py)
CENT = Decimal("0.01")
# months whose invoice deadline (end of the next month) passed by 15 October 2026: January-August
OBSERVED = {2025: 12, 2026: 8}


def cents(value) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def client_months(tiny_run) -> dict[tuple, list]:
    """(municipality, bsn, provider, product, month) -> [category, amount, units] of the accepted
    lines declared by as_of for care up to it, credits netted."""
    landed = read_archive(tiny_run.data_dir / "archive" / "ijw")
    months: dict[tuple, list] = {}
    for line in landed.accepted():
        if line.declaration_date > AS_OF or line.service_month > AS_OF:
            continue
        key = (line.municipality, line.bsn, line.provider, line.code, line.service_month)
        slot = months.setdefault(key, [line.category, Decimal(0), 0])
        slot[1] += line.amount
        slot[2] += -line.volume if line.amount < 0 else line.volume  # a credit nets its units
    return months


# ----------------------------------------------------------------------------- cost change


def expected_cost_change(client_months) -> list[tuple]:
    per_product: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0, Decimal(0), 0])
    per_client: dict[tuple, list] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for (municipality, bsn, _provider, code, month), (
        category,
        amount,
        units,
    ) in client_months.items():
        for year, slot in ((month.year, 0), (month.year + 1, 1)):  # current, previous
            if year not in OBSERVED or year == min(OBSERVED) or month.month > OBSERVED[year]:
                continue
            product = per_product[(municipality, category, year, code)]
            product[2 * slot] += amount
            product[2 * slot + 1] += units
            per_client[(municipality, category, year, bsn)][slot] += amount
    rows = {}
    for (municipality, category, year, _code), (c1, u1, c0, u0) in per_product.items():
        row = rows.setdefault((municipality, category, year), [Decimal(0)] * 3)
        row[0] += c1
        row[1] += c0
        row[2] += (Decimal(u1) * c0 / u0) if u0 > 0 and c0 > 0 and u1 != 0 else c1
    clients: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (municipality, category, year, _bsn), (c1, c0) in per_client.items():
        clients[(municipality, category, year)][0] += c1 > 0
        clients[(municipality, category, year)][1] += c0 > 0
    result = []
    for key, (c1, c0, at_old_prices) in sorted(rows.items()):
        v1, v0 = clients[key]
        star = cents(at_old_prices)
        volume = cents(Decimal(v1 - v0) * c0 / v0) if v0 > 0 else star - c0
        intensity = star - c0 - volume
        price = c1 - star
        result.append((*key, cents(c1), cents(c0), v1, v0, star, volume, intensity, price))
    return result


def test_cost_change_splits_exactly_as_recomputed(tiny_run, client_months):
    expected = expected_cost_change(client_months)
    actual = tiny_run.dicts(
        "select municipality_code, product_category, year, cost_eur, previous_cost_eur, clients, "
        "previous_clients, cost_at_previous_prices_eur, volume_effect_eur, intensity_effect_eur, "
        "price_effect_eur, cost_change_eur, months_compared "
        "from marts.mart_cost_change order by all"
    )
    assert [tuple(list(r.values())[:11]) for r in actual] == expected
    for row in actual:
        assert row["months_compared"] == OBSERVED[2026]
        assert row["cost_change_eur"] == (
            row["volume_effect_eur"] + row["intensity_effect_eur"] + row["price_effect_eur"]
        )
    # what tiny exercises: both municipalities, 2026 against January-August 2025, and the
    # indexation of 1 January 2026 as a price effect
    assert {r["municipality_code"] for r in actual} == {"GM0546", "GM0638"}
    assert {r["year"] for r in actual} == {2026}
    assert sum(r["price_effect_eur"] > 0 for r in actual) >= 3


# ----------------------------------------------------------------------------- top clients


def test_top_clients_are_the_ten_most_expensive_under_their_case_keys(tiny_run, client_months):
    pseudonym = Pseudonymiser(KEY)
    secret = case_key_secret(KEY)
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    care: dict[tuple, set] = defaultdict(set)
    for (municipality, bsn, provider, code, month), (_cat, amount, _units) in client_months.items():
        key = (municipality, month.year, bsn)
        totals[key] += amount
        if amount > 0:
            care[key].add((provider, code, month))
    ranked: dict[tuple, list] = defaultdict(list)
    for (municipality, year, bsn), amount in totals.items():
        if amount > 0:
            ranked[(municipality, year)].append(
                (amount, case_key(secret, municipality, pseudonym(bsn)), bsn)
            )
    expected = []
    for (municipality, year), clients in sorted(ranked.items()):
        clients.sort(key=lambda c: (-c[0], c[1]))
        for rank, (amount, key, bsn) in enumerate(clients[:10], start=1):
            months = care[(municipality, year, bsn)]
            expected.append(
                (
                    municipality,
                    year,
                    rank,
                    key,
                    cents(amount),
                    len({m[0] for m in months}),
                    len({m[1] for m in months}),
                    len({m[2] for m in months}),
                    ",".join(sorted({m[1] for m in months})),
                )
            )
    actual = tiny_run.dicts("select * from marts.mart_top_clients order by all")
    assert [tuple(r.values()) for r in actual] == expected
    assert "client_key" not in actual[0]
    # the ten amounts are mart_cost_concentration's top-10 cost
    concentration = {
        (r["municipality_code"], r["year"]): r["top10_cost_eur"]
        for r in tiny_run.dicts("select * from marts.mart_cost_concentration")
    }
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in actual:
        sums[(row["municipality_code"], row["year"])] += row["amount_eur"]
    assert sums == concentration
    # no case key is a piece of a client_key, and a client's keys differ per municipality
    client_keys = {pseudonym(bsn) for (_m, bsn, *_rest) in client_months}
    assert not any(row["case_key"] in ck for row in actual for ck in client_keys)
    some = next(iter(client_keys))
    assert case_key(secret, "GM0546", some) != case_key(secret, "GM0638", some)


# ----------------------------------------------------------------------------- product norms


def _quantile(values: list, q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_product_norms_as_recomputed(tiny_run, client_months):
    care_months: dict[tuple, list] = defaultdict(lambda: [Decimal(0), 0])
    for (_m, bsn, provider, code, month), (_cat, amount, units) in client_months.items():
        slot = care_months[(bsn, provider, code, month)]
        slot[0] += amount
        slot[1] += units
    groups: dict[tuple, list] = defaultdict(list)  # (product, year, provider or None)
    client_units: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for (bsn, provider, code, month), (amount, units) in care_months.items():
        if amount <= 0:
            continue
        for year, period in ((month.year, "current"), (month.year + 1, "previous")):
            if year in OBSERVED and month.month <= OBSERVED[year]:
                for who in (None, provider):
                    client_units[(code, year, who, period)][bsn] += units
        if month.month <= OBSERVED[month.year]:
            for who in (None, provider):
                groups[(code, month.year, who)].append((bsn, float(amount), units))
    actual = {
        (r["product_code"], r["year"], r["provider_agb"]): r
        for r in tiny_run.dicts("select * from marts.mart_product_norms")
    }
    assert set(actual) == set(groups)
    for key, rows in groups.items():
        row = actual[key]
        amounts = [a for _, a, _ in rows]
        units = [u for _, _, u in rows]
        assert row["level"] == ("product" if key[2] is None else "provider")
        assert row["clients"] == len({b for b, _, _ in rows})
        assert row["care_months"] == len(rows)
        assert row["amount_eur"] == cents(sum(Decimal(str(a)) for a in amounts))
        assert row["units"] == sum(units)
        for name, values in (("amount", amounts), ("units", units)):
            figures = {
                "avg": statistics.fmean(values),
                "p25": _quantile(values, 0.25),
                "median": _quantile(values, 0.5),
                "p75": _quantile(values, 0.75),
            }
            if len(values) > 1:
                figures["stddev"] = statistics.stdev(values)
            for stat, value in figures.items():
                assert abs(float(row[f"{name}_per_care_month_{stat}"]) - value) <= 0.0051, (
                    key,
                    name,
                    stat,
                )
        norm = statistics.fmean([a for _, a, _ in groups[(key[0], key[1], None)]])
        assert abs(float(row["amount_index"]) - 100 * statistics.fmean(amounts) / norm) <= 0.0051
        # units per client against the same months of the year before, and the Welch test
        now = list(client_units[(key[0], key[1], key[2], "current")].values())
        before = list(client_units[(key[0], key[1], key[2], "previous")].values())
        assert row["previous_clients"] == len(before)
        if before:
            change = 100 * statistics.fmean(now) / statistics.fmean(before) - 100
            assert abs(float(row["units_per_client_change_pct"]) - change) <= 0.0051
            t = None
            if len(now) > 1 and len(before) > 1:
                spread = statistics.variance(now) / len(now) + statistics.variance(before) / len(
                    before
                )
                t = (statistics.fmean(now) - statistics.fmean(before)) / math.sqrt(spread)
            rise = len(now) >= 10 and len(before) >= 10 and change >= 10 and t is not None
            assert row["is_significant_rise"] == (rise and t > 1.96), key
        else:
            assert row["units_per_client_change_pct"] is None
            assert not row["is_significant_rise"]
        # three providers: the outlier rule never applies on tiny
        assert not row["outlier_rule_applies"] and not row["is_outlier"]
    # what tiny exercises: both years, product and provider rows, a comparison with 2025
    assert {k[1] for k in groups} == {2025, 2026}
    assert any(k[2] is None for k in groups) and any(k[2] is not None for k in groups)
    assert any(r["previous_clients"] for r in actual.values())


def test_the_intern_page_shows_the_cost_change_and_top_clients_and_openbaar_neither(tiny_run):
    from jeugdhulp.publish.dutch import euro

    published = tiny_run.data_dir / "published"
    for code in ("GM0546", "GM0638"):
        intern = (published / "intern" / code / "index.html").read_text(encoding="utf-8")
        openbaar = (published / "openbaar" / code / "index.html").read_text(encoding="utf-8")
        year = date.fromisoformat(TINY_AS_OF).year  # the report's year
        changes = tiny_run.dicts(
            f"select * from marts.mart_cost_change where municipality_code = '{code}' "
            f"and year = {year}"
        )
        top = tiny_run.dicts(
            f"select * from marts.mart_top_clients where municipality_code = '{code}' "
            f"and year = {year} order by rank"
        )
        assert changes and top
        assert 'id="inkoop"' in intern
        for row in changes:
            assert f'<td class="num">{euro(row["cost_change_eur"])}</td>' in intern, row
            assert f'<td class="num">{euro(row["price_effect_eur"])}</td>' in intern, row
        for row in top:
            assert f"<td>{row['case_key']}</td>" in intern, row
        assert 'id="inkoop"' not in openbaar
        assert not any(row["case_key"] in openbaar for row in top)


def test_the_region_page_shows_every_product_norm_and_flag_of_the_report_year(tiny_run):
    """The intern pages' Productnormen section against mart_product_norms of the report year:
    the region page lists every product's norm and every flagged row (tiny has none: the page
    says so; tests/publish/test_files.py renders flagged rows), a municipality page the rows of
    the providers that invoiced it."""
    import re
    from html import escape

    from jeugdhulp.publish.dutch import euro, number

    year = AS_OF.year  # the report's year: the latest with costs
    published = tiny_run.data_dir / "published"
    norms = tiny_run.dicts(
        f"select * from marts.mart_product_norms where year = {year} "
        "order by product_code, provider_agb nulls first"
    )
    labels = {
        r["dimension_value"]: r["dimension_label"]
        for r in tiny_run.dicts(
            "select distinct dimension_value, dimension_label from marts.mart_clients_by_dimension "
            "where dimension = 'product_code'"
        )
    }
    assert norms and set(labels) >= {r["product_code"] for r in norms}

    def section(code: str) -> str:
        html = (published / "intern" / code / "index.html").read_text(encoding="utf-8")
        found = re.search(r'<section id="productnormen".*?</section>', html, re.S)
        assert found and '<a href="#productnormen">Productnormen</a>' in html, code
        return found.group(0)

    def product(row: dict) -> str:
        return escape(f"{labels[row['product_code']]} ({row['product_code']})")

    regio = section("regio")
    products = [r for r in norms if r["level"] == "product"]
    for row in products:
        assert (
            f'<th scope="row">{product(row)}</th><td class="num">{number(row["clients"])}</td>'
            f'<td class="num">{number(row["care_months"])}</td>'
            f'<td class="num">{euro(row["amount_per_care_month_avg"])}</td>'
        ) in regio, row
    # each flagged row of the mart in its table, or the sentence that there is none (tiny, with
    # three providers and no planted case, has none: docs/purchasing_marts.md)
    flags = {
        "is_outlier": f"Geen aanbieder ver boven de norm van een product in {year}.",
        "is_significant_rise": f"Geen significante stijging van de eenheden per cliënt in {year}.",
        "is_significant_volume_growth": f"Geen significante volumegroei in {year}.",
    }
    shown = len(products)
    for flag, none in flags.items():
        rows = [
            r
            for r in (products if flag == "is_significant_volume_growth" else norms)
            if r[flag] and (flag != "is_outlier" or r["level"] == "provider")
        ]
        shown += len(rows)
        assert (none in regio) == (not rows), flag
        for row in rows:
            who = f"({row['provider_agb']})" if row["provider_agb"] else "Alle aanbieders"
            assert re.search(
                f'<th scope="row">{re.escape(product(row))}</th><td>[^<]*{re.escape(who)}</td>'
                f'<td class="num">',
                regio,
            ), (flag, row)
    assert regio.count('<tr><th scope="row">') == shown
    for code in ("GM0546", "GM0638"):
        providers = {
            r["provider_agb"]
            for r in tiny_run.dicts(
                "select distinct provider_agb from marts.mart_costs_monthly "
                f"where municipality_code = '{code}'"
            )
        }
        own = section(code)
        shown = [r for r in norms if r["provider_agb"] in providers]
        assert shown and own.count('<tr><th scope="row">') == len(shown), code
        for row in shown:
            assert re.search(
                f'<th scope="row">{re.escape(product(row))}</th><td>[^<]*'
                f"\\({row['provider_agb']}\\)</td>"
                f'<td class="num">{number(row["clients"])}</td>'
                f'<td class="num">{number(row["care_months"])}</td>'
                f'<td class="num">{re.escape(euro(row["amount_per_care_month_avg"]))}</td>'
                f'<td class="num">{re.escape(euro(row["norm_amount_per_care_month"]))}</td>'
                f'<td class="num">{re.escape(number(row["amount_index"], 1))}</td>',
                own,
            ), (code, row)
        assert "Alle aanbieders" not in own
        openbaar = (published / "openbaar" / code / "index.html").read_text(encoding="utf-8")
        assert 'id="productnormen"' not in openbaar
