"""Absurd values and iJw rule breaches become findings; the run completes and publishes.

One pipeline run on the tiny region plus hand-made messages (copies of a generated JW323 and
JW325, edited with lxml):
- a JW323 line with IngediendBedrag 10^17 cents, one with GeleverdVolume 10^18 - 1 (the largest
  the reader takes: 18 digits), one with ProductTarief 10^17: each is kept out of every sum and
  reported as `implausible_value`; nothing overflows (DECIMAL(9,2) in mart_budget_utilisation,
  sums in int_care_months_netted, volume × tariff in the GX suite of raw.ijw_invoice_lines);
- a JW323 line whose ProductPeriode spans two calendar months: 9319;
- a JW325 answering a declaration that was never received: `jw325_unknown_declaration`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from lxml import etree

from tests.support.pipeline import generate, run_cli

pytestmark = pytest.mark.slow

NS_BASE = "{http://www.istandaarden.nl/ijw/3_2/basisschema/schema}"


def _ns(root: etree._Element) -> str:
    return root.tag[: root.tag.index("}") + 1]


def _one_line_message(source: Path, tag: str, edit) -> bytes:
    """The message in `source` with one client and one Prestatie left, renamed (message id,
    declaration number, reference), edited by `edit(prestatie, m)`."""
    root = etree.fromstring(source.read_bytes())
    m = _ns(root)
    root.find(f".//{NS_BASE}Identificatie").text = f"X{tag}"
    number = root.find(f".//{m}DeclaratieNummer")
    number.text = f"X{tag}" if "unknown" in tag else f"{number.text[:14]}{tag}"[:20]
    clients = root.find(f".//{m}Clienten")
    # the first line with a tariff (unit 83, euro's, has none), alone in its client
    lines = list(clients.iter(f"{m}Prestatie"))
    prestatie = next((p for p in lines if p.find(f"{m}ProductTarief") is not None), lines[0])
    client = prestatie.getparent().getparent()
    for other in list(clients):
        if other is not client:
            clients.remove(other)
    for line in list(prestatie.getparent()):
        if line is not prestatie:
            prestatie.getparent().remove(line)
    prestatie.find(f".//{NS_BASE}ReferentieNummer").text = f"X{tag}"
    previous = prestatie.find(f".//{NS_BASE}VorigReferentieNummer")
    if previous is not None:
        previous.getparent().remove(previous)
    prestatie.find(f".//{NS_BASE}DebetCredit").text = "D"
    edit(prestatie, m)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _set(tag: str, value: str):
    def edit(prestatie, m):
        element = prestatie.find(f".//{m}{tag}")
        if element is None:
            element = prestatie.find(f".//{NS_BASE}{tag}")
        element.text = value

    return edit


def _spanning(prestatie, m):
    period = prestatie.find(f"{m}ProductPeriode")
    start = period.find(f"{NS_BASE}Begindatum").text
    year, month = int(start[:4]), int(start[5:7])
    following = (year + month // 12, month % 12 + 1)
    period.find(f"{NS_BASE}Begindatum").text = f"{year:04d}-{month:02d}-20"
    period.find(f"{NS_BASE}Einddatum").text = f"{following[0]:04d}-{following[1]:02d}-10"


def _a_regular(landing: Path, prefix: str, needs: str = "Prestatie") -> Path:
    """A generated, well-formed iJw 3.2 message of the type with a DeclaratieNummer."""
    for path in sorted((landing / "ijw").rglob(f"{prefix}*.xml")):
        try:
            root = etree.fromstring(path.read_bytes())
        except etree.XMLSyntaxError:
            continue
        if "3_2" in root.tag and root.find(f".//{_ns(root)}{needs}") is not None:
            return path
    raise AssertionError(f"no {prefix} file")


def test_absurd_values_become_findings_and_the_run_publishes(tmp_path):
    data_dir = tmp_path / "absurd"
    env = generate(data_dir)  # the tiny region, seed 7, as of 2026-10-15
    landing = data_dir / "landing"
    jw323, jw325 = _a_regular(landing, "JW323", "ProductTarief"), _a_regular(landing, "JW325")
    made = {
        "AMOUNT": _one_line_message(jw323, "AMOUNT", _set("Bedrag", str(10**17))),
        "VOLUME": _one_line_message(jw323, "VOLUME", _set("GeleverdVolume", str(10**18 - 1))),
        "TARIFF": _one_line_message(jw323, "TARIFF", _set("ProductTarief", str(10**17))),
        "SPANS": _one_line_message(jw323, "SPANS", _spanning),
        "unknown": _one_line_message(jw325, "unknown", lambda p, m: None),
    }
    for tag, data in made.items():
        (jw323.parent / f"JW3XX_hand_{tag}.xml").write_bytes(data)

    result = run_cli(["run"], env)
    output = result.stdout + result.stderr[-3000:]
    assert result.returncode == 0, output
    assert "published:" in result.stdout, output

    warehouse = data_dir / "warehouse" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        loaded = con.execute(
            "select count(*) from raw.file_registry "
            "where landed_path like '%JW3XX_hand_%' and status = 'ingested'"
        ).fetchone()[0]
        assert loaded == len(made)
        findings = con.execute(
            "select rule_id, record_ref, severity from marts.dq_findings where record_ref like 'X%'"
        ).fetchall()
        # the absurd lines are not in the invoice facts, so not in any sum
        kept = con.execute(
            "select count(*) from marts.fct_invoice_lines where reference_number in "
            "('XAMOUNT', 'XVOLUME', 'XTARIFF')"
        ).fetchone()[0]
        largest = con.execute("select max(abs(amount_eur)) from marts.fct_invoice_lines").fetchone()
    assert ("implausible_value", "XAMOUNT", "error") in findings
    assert ("implausible_value", "XVOLUME", "error") in findings
    assert ("implausible_value", "XTARIFF", "error") in findings
    assert ("9319", "XSPANS", "error") in findings
    assert ("jw325_unknown_declaration", "Xunknown", "error") in findings
    assert kept == 0 and largest[0] < 1_000_000
