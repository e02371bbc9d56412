"""The generator's team exports and waiting-time deliveries (jeugdhulp/synthetic/local_team.py,
waiting_times.py) against its own ground truth: what the files hold, not what the pipeline makes
of them (tests/e2e/test_access_tiny.py)."""

from __future__ import annotations

import hashlib
from datetime import date

from jeugdhulp.privacy.bsn import is_valid_bsn
from tests.support.ingest_files import tabular_rows

AS_OF = date(2026, 10, 15)


def _day(value) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value if not hasattr(value, "date") else value.date()
    day, month, year = str(value).split("-")
    return date(int(year), int(month), int(day))


def test_team_exports_hold_exactly_the_registered_paths(generated_tiny):
    out, truth = generated_tiny
    files = sorted((out / "landing" / "lokaal_team").rglob("*.*"))
    assert {f.suffix for f in files} == {".csv", ".xlsx"}  # one municipality exports XLSX
    registered = set()
    for path in files:
        for row in tabular_rows(path):
            bsn = str(row["bsn"])
            assert is_valid_bsn(bsn) and bsn.startswith("9999")
            start, end = _day(row["startdatum"]), _day(row["einddatum"])
            assert start <= AS_OF and (end is None or start <= end <= AS_OF)
            registered.add((f"GM{row['gemeente_code']}", bsn, start.isoformat()))
    expected = {
        (e["municipality_code"], e["bsn"], e["team_start"]) for e in truth["local_team"]["paths"]
    }
    assert registered == expected
    paths = [e["path"] for e in truth["local_team"]["paths"]]
    assert paths.count("team_only") >= 8 and paths.count("team_then_specialist") >= 2
    for entry in truth["local_team"]["paths"]:
        if entry["path"] == "team_then_specialist":
            assert 14 <= entry["days_team_to_specialist"] <= 56


def test_waiting_time_files_leave_out_exactly_the_missing_deliveries(generated_tiny):
    out, truth = generated_tiny
    waiting = truth["waiting_times"]
    delivered = set()
    for path in (out / "landing" / "beschikbaarheid").rglob("*.csv"):
        for row in tabular_rows(path):
            month = row["peildatum"][:7]
            delivered.add(f"{row['agb_code']}|{row['productcategorie']}|{month}")
            assert row["capaciteit_beschikbaar"] in ("ja", "nee")
            assert int(row["aantal_wachtend"]) >= 0
            assert float(row["wachttijd_weken"].replace(",", ".")) >= 0
    assert waiting["missing"] and not set(waiting["missing"]) & delivered
    assert all(m[-7:] <= waiting["last_month_due"] for m in waiting["missing"])
    assert min(key[-7:] for key in delivered) == waiting["first_month"]
    punctual = set(truth["punctual_providers"])
    assert not any(m.split("|")[0] in punctual for m in waiting["missing"])
    assert set(waiting["growing"]) == set(truth["ceiling_crossing_providers"])


def test_the_development_key_manifest_lists_the_new_files(generated_tiny):
    out, _ = generated_tiny
    listed = {}
    for line in (out / "generated-files.sha256").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    for source in ("lokaal_team", "beschikbaarheid"):
        files = [f for f in (out / "landing" / source).rglob("*") if f.is_file()]
        assert files, source
        for path in files:
            relative = path.relative_to(out).as_posix()
            assert listed[relative] == hashlib.sha256(path.read_bytes()).hexdigest(), relative
