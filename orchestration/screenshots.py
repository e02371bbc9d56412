"""Screenshots of the Dagster UI with headless Chromium: the asset graph, an asset with its checks
and the automation page (schedules and sensors).

    # with the UI running (`jeugdhulp ui`, default http://127.0.0.1:3000):
    .venv/bin/python -m orchestration.screenshots --url http://127.0.0.1:3000 --out docs/screenshots

Needs a Chromium binary (`--chromium`, default: chromium, chromium-browser or google-chrome on the
PATH, or /usr/bin/chromium); without one it says so and exits with status 3. Chromium's own
`--screenshot` mode is enough: the UI is a single-page app, so each page gets a virtual-time
budget to fetch its data over GraphQL before the picture is taken. No network beyond the UI's
address is used.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PAGES = {
    "asset_graph.png": "/asset-groups",
    "asset_with_checks.png": "/assets/marts/mart_costs_monthly?view=checks",
    "automation.png": "/automation",
}
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "/usr/bin/chromium")


def find_chromium(explicit: str | None = None) -> str | None:
    for candidate in [explicit] if explicit else CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def take_screenshots(
    base_url: str,
    out_dir: Path,
    *,
    chromium: str,
    width: int = 1600,
    height: int = 1000,
    budget_ms: int = 20000,
) -> list[Path]:
    """One PNG per page of PAGES in `out_dir`; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, path in PAGES.items():
        target = out_dir / name
        with tempfile.TemporaryDirectory(prefix="jeugdhulp-chromium-") as profile:
            subprocess.run(
                [
                    chromium,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--hide-scrollbars",
                    f"--user-data-dir={profile}",
                    f"--window-size={width},{height}",
                    f"--virtual-time-budget={budget_ms}",
                    f"--screenshot={target}",
                    base_url.rstrip("/") + path,
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.screenshots", description=__doc__
    )
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the running Dagster UI")
    parser.add_argument("--out", default="docs/screenshots", help="directory for the PNG files")
    parser.add_argument("--chromium", help="path of the Chromium binary")
    args = parser.parse_args(argv)
    chromium = find_chromium(args.chromium)
    if chromium is None:
        print(
            "no Chromium found (tried: " + ", ".join(CANDIDATES) + "); install one or pass "
            "--chromium PATH",
            file=sys.stderr,
        )
        return 3
    for path in take_screenshots(args.url, Path(args.out), chromium=chromium):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
