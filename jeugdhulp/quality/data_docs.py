"""Builds the offline Great Expectations Data Docs site in `published/regio/kwaliteit/`.

GX renders a page per suite and per validation result into a filesystem site. Its pages load
Bootstrap, jQuery and a logo from the internet, and its index is filled in by that JavaScript, so
the site is post-processed to work offline: remote scripts, stylesheets and images are removed, a
small local stylesheet is linked, and the index is rewritten as plain HTML (in Dutch, like all
published text). The latest result of every suite is also kept as JSON under `results/`, so the
site can be rebuilt from results validated in an earlier step of the same run.

A raw table is validated incrementally (watermarks.py): its page shows the rows validated last
(the new rows of that run, with their `ingested_seq` range), and a run without new rows keeps the
page of the run before. The result of a batched validation is combined into one GX result per
suite before it is saved, so every suite still has one validation page.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from jeugdhulp.quality.results import SCOPE_NEW_ROWS, SuiteResult
from jeugdhulp.quality.suites import SUITES_DIR, load_suite, suite_path
from jeugdhulp.quality.validation import gx_context
from jeugdhulp.settings import Settings

SITE_NAME = "kwaliteit"
RESULTS_FOLDER = "results"

_REMOTE_TAG = re.compile(
    r"<script[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]*\bhref=\"https?://[^\"]*\"[^>]*>",
    re.IGNORECASE,
)
_REMOTE_IMAGE = re.compile(r"<img\b[^>]*\bsrc=\"https?://[^\"]*\"[^>]*>", re.IGNORECASE | re.DOTALL)
_REMOTE_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)", re.IGNORECASE)
_FOOTER = re.compile(r"<footer\b.*?</footer>", re.IGNORECASE | re.DOTALL)

_OFFLINE_CSS = """/* Local replacement for the CDN stylesheets GX links to: the site must work offline. */
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.ok { color: #1a7f37; } .warn { color: #9a6700; } .error { color: #cf222e; font-weight: bold; }
.fade:not(.show) { opacity: 1; } .collapse:not(.show) { display: block; }
.navbar, #ge-cta-footer, footer { display: none; }
"""


def site_dir(settings: Settings) -> Path:
    return settings.published_dir / "regio" / SITE_NAME


def save_results(settings: Settings, results: Iterable[SuiteResult]) -> None:
    """Keep each suite's latest result as JSON, replacing the one from an earlier run."""
    folder = site_dir(settings) / RESULTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for result in results:
        document = result.to_dict() | {
            "validated_at": result.validated_at or datetime.now(UTC).isoformat(timespec="seconds"),
            "gx_result": None if result.gx_result is None else result.gx_result.to_json_dict(),
        }
        target = folder / f"{result.suite_name}.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
        os.replace(temporary, target)


def load_saved_results(settings: Settings, suites_dir: Path = SUITES_DIR) -> list[SuiteResult]:
    """The latest saved result of every suite, with GX's own result restored for rendering. The
    result of a suite that no longer exists (e.g. the former mart suites) is deleted."""
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )

    folder = site_dir(settings) / RESULTS_FOLDER
    results = []
    for path in sorted(folder.glob("*.json")):
        if not suite_path(path.stem, suites_dir).exists():
            path.unlink()
            continue
        document = json.loads(path.read_text(encoding="utf-8"))
        gx_result = document.get("gx_result")
        results.append(
            SuiteResult.from_dict(
                document,
                None
                if gx_result is None
                else ExpectationSuiteValidationResultSchema().load(gx_result),
            )
        )
    return results


def build_data_docs(
    settings: Settings, results: Sequence[SuiteResult], *, suites_dir: Path = SUITES_DIR
) -> Path:
    """Render `results` as an offline GX Data Docs site; returns the path of its index.html."""
    from great_expectations.core import ExpectationSuite
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    root = site_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    # pages of earlier runs would pile up: the site shows the given results only
    for folder in ("validations", "expectations", "static"):
        shutil.rmtree(root / folder, ignore_errors=True)

    context = gx_context()
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(root),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    run_id = RunIdentifier(
        run_name=f"as-of-{settings.as_of.isoformat()}", run_time=datetime.now(UTC)
    )
    pages: dict[str, tuple[str | None, str | None]] = {}
    for result in results:
        if result.gx_result is None:
            pages[result.suite_name] = (None, None)
            continue
        suite_key = ExpectationSuiteIdentifier(name=result.suite_name)
        context.suites.add(
            ExpectationSuite(**load_suite(result.suite_name, suites_dir).to_gx_dict())
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=suite_key,
            run_id=run_id,
            batch_identifier=result.suite_name,
        )
        context.validation_results_store.set(key, result.gx_result)
        pages[result.suite_name] = (key, suite_key)
    context.build_data_docs(site_names=[SITE_NAME])

    links = {name: tuple(_page(context, root, key) for key in keys) for name, keys in pages.items()}
    _make_offline(root)
    index = root / "index.html"
    index.write_text(_index_html(settings, results, links), encoding="utf-8")
    return index


def _page(context, root: Path, key) -> str | None:
    if key is None:
        return None
    urls = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE_NAME)
    url = urls[0]["site_url"] if urls else None
    if not url or not url.startswith("file://"):
        return None
    return Path(url.removeprefix("file://")).relative_to(root).as_posix()


def _make_offline(root: Path) -> None:
    styles = root / "static" / "styles"
    styles.mkdir(parents=True, exist_ok=True)
    (styles / "offline.css").write_text(_OFFLINE_CSS, encoding="utf-8")
    for page in root.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = _REMOTE_TAG.sub("", text)
        text = _REMOTE_IMAGE.sub("", text)
        text = _REMOTE_CSS_URL.sub("none", text)
        text = _FOOTER.sub("", text)  # GX's newsletter and tutorial links
        depth = len(page.relative_to(root).parts) - 1
        stylesheet = f'<link rel="stylesheet" href="{"../" * depth}static/styles/offline.css">'
        text = text.replace("</head>", f"{stylesheet}\n</head>", 1)
        page.write_text(text, encoding="utf-8")


_STATUS = {None: ("ok", "geslaagd"), "warn": ("warn", "waarschuwing"), "error": ("error", "fout")}


def _validated_rows(result: SuiteResult) -> str:
    """Which rows the result is about, in Dutch."""
    when = f" ({result.validated_at[:16].replace('T', ' ')} UTC)" if result.validated_at else ""
    if result.scope == SCOPE_NEW_ROWS and result.seq_range is not None:
        first, last = result.seq_range
        files = f"{first}" if first == last else f"{first}–{last}"
        return f"nieuwe rijen, bestanden ingested_seq {files}{when}"
    through = (
        f", bestanden t/m ingested_seq {result.seq_through}"
        if result.seq_through is not None
        else ""
    )
    return f"alle rijen{through}{when}"


def _index_html(
    settings: Settings, results: Sequence[SuiteResult], links: dict[str, tuple[str | None, ...]]
) -> str:
    rows = []
    for result in sorted(results, key=lambda r: (r.asset_key[0] != "raw", r.suite_name)):
        css, label = _STATUS[result.severity]
        critical = sum(1 for o in result.failed if o.severity == "critical")
        warnings = len(result.failed) - critical
        validation, suite = links.get(result.suite_name, (None, None))
        name = html.escape(result.suite_name)
        name_cell = f'<a href="{html.escape(validation)}">{name}</a>' if validation else name
        suite_cell = f'<a href="{html.escape(suite)}">verwachtingen</a>' if suite else ""
        failed_list = "<br>".join(
            html.escape(o.label) + (f" ({o.unexpected_count})" if o.unexpected_count else "")
            for o in result.failed[:8]
        )
        rows.append(
            f'<tr><td>{name_cell}</td><td class="{css}">{label}</td><td>{result.row_count}</td>'
            f"<td>{html.escape(_validated_rows(result))}</td>"
            f"<td>{len(result.outcomes)}</td><td>{critical}</td><td>{warnings}</td>"
            f"<td>{failed_list}</td><td>{suite_cell}</td></tr>"
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Datakwaliteit — Great Expectations</title>
<link rel="stylesheet" href="static/styles/offline.css">
</head>
<body>
<h1>Datakwaliteit</h1>
<p>Peildatum {settings.as_of.isoformat()}, gegenereerd {generated}. Per ruwe tabel de uitkomst van de
Great Expectations-suite uit <code>expectations/</code>: <span class="error">fout</span> betekent dat
een kritieke verwachting faalt (dbt draait dan niet, er wordt niets gepubliceerd), <span class="warn">waarschuwing</span> dat
gegevens van aanbieders niet aan een regel voldoen (de regels staan ook in
<code>marts.dq_findings</code>).</p>
<p>Ruwe tabellen worden incrementeel gecontroleerd: alleen de rijen van bestanden die na de vorige
geslaagde controle binnenkwamen (<code>ingested_seq</code> in <code>raw.file_registry</code>). Een tabel
zonder nieuwe rijen houdt de uitkomst van de vorige controle; een kritieke fout wordt bij elke run
opnieuw gecontroleerd tot ze is opgelost.</p>
<table>
<thead><tr><th>tabel</th><th>status</th><th>rijen</th><th>gecontroleerd</th><th>verwachtingen</th>
<th>kritiek mislukt</th><th>waarschuwingen</th><th>mislukte verwachtingen (aantal afwijkend)</th><th>suite</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
