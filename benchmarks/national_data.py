"""Generates (once) and caches the benchmark's national landing zones, optionally a fraction of national.

A fraction keeps youth-care regions (their municipalities and the providers serving them) in
order until the share of youths in care reaches `scale` (the last region may be cut short): a
region's shape (providers per youth, files per provider) stays national, only their number shrinks.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from jeugdhulp.synthetic import engine, generate

OUT = Path(__file__).resolve().parent / "out"
SEED = 20250
_DONE = "generated.json"


def subset_world(world, scale: float):
    """The world restricted to whole regions holding about `scale` of its youths in care."""
    if scale >= 1.0:
        return world
    total = sum(m.youths_in_care for m in world.municipalities)
    by_region: dict[int, list] = {}
    for municipality in world.municipalities:
        by_region.setdefault(municipality.region, []).append(municipality)
    kept, in_care = [], 0.0
    for region in sorted(by_region):
        for municipality in by_region[region]:  # the last region may be cut short
            if kept and in_care >= scale * total:
                break
            kept.append(municipality)
            in_care += municipality.youths_in_care
    codes = {m.code for m in kept}
    providers = [p for p in world.providers if any(p.serves(code) for code in codes)]
    indexes = {m.index for m in kept}
    return dataclasses.replace(
        world,
        municipalities=kept,
        providers=providers,
        defects={i: kinds for i, kinds in world.defects.items() if i in indexes},
        scripts={i: s for i, s in world.scripts.items() if i in indexes},
    )


@contextmanager
def _scaled_profiles(scale: float):
    """Let `generate` resolve the national profile to a fraction of it (the generator has no such knob)."""
    original = engine.resolve

    def resolve(profile, seed, as_of, years):
        world = original(profile, seed, as_of, years)
        return subset_world(world, scale) if profile == "national" else world

    engine.resolve = resolve
    try:
        yield
    finally:
        engine.resolve = original


def generator_fingerprint() -> str:
    """A hash of the generator's and the iJw writer's source: a changed generator means new data."""
    package = Path(engine.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(
        [
            *package.glob("*.py"),
            package.parent / "ijw" / "records.py",
        ]
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def dataset_dir(scale: float, years: int, as_of: date) -> Path:
    return OUT / f"national-s{scale:g}-y{years}-{as_of.isoformat()}-g{generator_fingerprint()}"


def national_landing(scale: float, years: int, as_of: date, *, progress: bool = True) -> Path:
    """A pristine generated data dir (landing/ + ground_truth.json), generated on first use only.

    Callers copy (hard-link) it before ingesting, because ingestion moves files out of landing/.
    """
    target = dataset_dir(scale, years, as_of)
    marker = target / _DONE
    if marker.exists():
        return target
    if target.exists():
        shutil.rmtree(target)  # a generation that did not finish
    _drop_stale(target)
    with _scaled_profiles(scale):
        summary = generate(
            target, profile="national", seed=SEED, as_of=as_of, progress=progress, years=years
        )
    marker.write_text(
        json.dumps(
            {
                "scale": scale,
                "years": list(summary.years),
                "as_of": as_of.isoformat(),
                "files_by_source": summary.files_by_source,
                "messages": summary.ijw_messages_by_type,
                "generation_seconds": summary.seconds,
                "totals_by_year": {str(k): v for k, v in summary.totals_by_year.items()},
            },
            indent=2,
            default=str,
        )
    )
    return target


def _drop_stale(target: Path) -> None:
    """Remove data an earlier version of the generator made for the same scale, years and date,
    and the caches derived from it (named after it)."""
    base = target.name.rsplit("-g", 1)[0]
    for stale in OUT.glob(f"*{base}*"):
        if stale.name != target.name and target.name not in stale.name:
            if stale.is_dir():
                shutil.rmtree(stale)
            else:
                stale.unlink()


def describe(data_dir: Path) -> dict:
    return json.loads((data_dir / _DONE).read_text())
