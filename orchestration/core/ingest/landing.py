"""The landing zone on disk: which files wait, and where each one goes once it has been handled.

`landing/<source>/<relative path>` moves to `archive/<source>/<relative path>` after its rows
committed, or to `quarantine/<source>/<relative path>` with `<name>.reason.txt` beside it. A move
never overwrites: when the target name is taken, the file keeps its name with the first 12
characters of its SHA-256 added (`x.xml` -> `x.1a2b3c4d5e6f.xml`), then a counter if needed.

Names starting with a dot are skipped (left in place, not dropped): the usual convention for a
delivery still being uploaded (`.x.xml.part`) and for editor or OS clutter (`.DS_Store`).
Files directly in `landing/` or under a folder that is not a known source are quarantined under
`quarantine/_unknown/` by `ingest_all`, so nothing that arrives is silently ignored.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SOURCES: tuple[str, ...] = ("reference", "ijw", "verantwoording", "pgb")
UNKNOWN_SOURCE = "_unknown"
REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True, slots=True)
class LandedFile:
    path: Path  # absolute path in landing/
    source: str  # one of SOURCES, or UNKNOWN_SOURCE
    relative: str  # POSIX path below landing/<source>/ (below landing/ for UNKNOWN_SOURCE)
    size: int

    @property
    def landed_path(self) -> str:
        """Path relative to landing/, as the registry records it."""
        return self.relative if self.source == UNKNOWN_SOURCE else f"{self.source}/{self.relative}"


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _walk(root: Path) -> list[tuple[str, Path, int]]:
    """(relative POSIX path, absolute path, size) of every visible file below root, sorted."""
    found: list[tuple[str, str, int]] = []

    def scan(directory: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir(follow_symlinks=False):
                scan(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file():
                try:
                    size = entry.stat().st_size
                except FileNotFoundError:  # moved away while we looked
                    continue
                found.append((f"{prefix}{entry.name}", entry.path, size))

    scan(str(root), "")
    found.sort(key=lambda item: item[0])
    return [(relative, Path(path), size) for relative, path, size in found]


def landed_files(landing_dir: Path, source: str) -> list[LandedFile]:
    """Files waiting in landing/<source>/, sorted by relative path (the processing order)."""
    if source not in SOURCES:
        raise ValueError(f"unknown landing source {source!r}; expected one of {', '.join(SOURCES)}")
    return [
        LandedFile(path, source, relative, size)
        for relative, path, size in _walk(landing_dir / source)
    ]


def unknown_files(landing_dir: Path) -> list[LandedFile]:
    """Files in landing/ that belong to no known source: directly in landing/ or in another folder."""
    return [
        LandedFile(path, UNKNOWN_SOURCE, relative, size)
        for relative, path, size in _walk(landing_dir)
        if relative.split("/", 1)[0] not in SOURCES
    ]


def free_target(directory: str | Path, relative: str, file_id: str, *, with_reason: bool = False) -> str:
    """Where a file may go below `directory` without overwriting anything (see module docstring).

    `with_reason`: the file gets a `.reason.txt` beside it, whose name must be free too.
    """
    # plain strings and os.path: this runs once per file, ~150k times for a region
    target = os.path.join(directory, relative)

    def taken(path: str) -> bool:
        return os.path.lexists(path) or (with_reason and os.path.lexists(path + REASON_SUFFIX))

    if not taken(target):
        return target
    head, name = os.path.split(target)
    stem, suffix = os.path.splitext(name)
    candidate = os.path.join(head, f"{stem}.{file_id[:12]}{suffix}")
    counter = 2
    while taken(candidate):
        candidate = os.path.join(head, f"{stem}.{file_id[:12]}-{counter}{suffix}")
        counter += 1
    return candidate


def move_file(source: str | Path, target: str | Path) -> None:
    """Move a file to a target that must not exist yet, creating the target's folder if needed."""
    if os.path.lexists(target):
        raise FileExistsError(f"refusing to overwrite {target}")
    try:
        os.rename(source, target)
    except FileNotFoundError:
        if not os.path.exists(source):
            raise
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _rename_or_copy(source, target)
    except OSError:
        _rename_or_copy(source, target)


def _rename_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.rename(source, target)
    except OSError:
        # another file system: copy then delete, still never overwriting
        with open(source, "rb") as original, open(target, "xb") as copy:
            shutil.copyfileobj(original, copy)
        shutil.copystat(source, target)
        os.unlink(source)


def write_reason(target: str | Path, landed_path: str, file_id: str, reason: str) -> Path:
    """The `<name>.reason.txt` beside a quarantined file: what was wrong, in plain text."""
    reason_path = Path(str(target) + REASON_SUFFIX)
    reason_path.parent.mkdir(parents=True, exist_ok=True)
    reason_path.write_text(
        f"file: {landed_path}\n"
        f"sha256: {file_id}\n"
        f"quarantined at: {datetime.now().isoformat(timespec='seconds')}\n"
        f"reason: {reason}\n",
        encoding="utf-8",
    )
    return reason_path

