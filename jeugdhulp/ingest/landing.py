"""The landing zone on disk: which files wait, and where each one goes once it has been handled.

`landing/<source>/<relative path>` moves to `archive/<source>/<relative path>` after its rows
committed, or to `quarantine/<source>/<relative path>` with `<name>.reason.txt` beside it. A move
never overwrites: when the target name is taken, the file keeps its name with the first 12
characters of its SHA-256 added (`x.xml` -> `x.1a2b3c4d5e6f.xml`), then a counter if needed.

Names starting with a dot are skipped (left in place, not dropped): the usual convention for a
delivery still being uploaded (`.x.xml.part`) and for editor or OS clutter (`.DS_Store`).
Files directly in `landing/` or under a folder that is not a known source are quarantined under
`quarantine/_unknown/` by `ingest_all`, so nothing that arrives is silently ignored.

Memory: `iter_landed_files` lists a source folder lazily, in processing order, one directory at a
time, so a national load (millions of files) never holds the whole listing. A move is one
`renameat2(RENAME_NOREPLACE)` where the system offers it (atomic, refuses an existing target),
else `link` + `unlink`, which refuses one too.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from collections.abc import Container, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from jeugdhulp.sources import SOURCES

UNKNOWN_SOURCE = "_unknown"
REASON_SUFFIX = ".reason.txt"


class LandedFile(NamedTuple):
    """A file waiting in landing/ (a tuple: a national load lists millions)."""

    location: str  # absolute path in landing/
    source: str  # one of SOURCES, or UNKNOWN_SOURCE
    relative: str  # POSIX path below landing/<source>/ (below landing/ for UNKNOWN_SOURCE)
    size: int

    @property
    def path(self) -> Path:
        """The absolute path in landing/."""
        return Path(self.location)

    @property
    def landed_path(self) -> str:
        """Path relative to landing/, as the registry records it."""
        return self.relative if self.source == UNKNOWN_SOURCE else f"{self.source}/{self.relative}"


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _iter_walk(root: str) -> Iterator[tuple[str, str, int]]:
    """(relative POSIX path, absolute path, size) of every visible file below root, in order of
    the relative path, read one directory at a time.

    Entries of a directory are visited in order of their name, a folder's name with "/" added:
    then every file below it sorts where its whole relative path sorts, so the walk yields
    exactly `sorted()` of all relative paths without holding them.
    """
    stack: list[Iterator[tuple[str, str, str, bool]]] = [_sorted_entries(root, "")]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        _key, path, relative, is_dir = entry
        if is_dir:
            stack.append(_sorted_entries(path, relative + "/"))
            continue
        try:
            size = os.stat(path).st_size
        except FileNotFoundError:  # moved away while we looked
            continue
        yield relative, path, size


def _sorted_entries(directory: str, prefix: str) -> Iterator[tuple[str, str, str, bool]]:
    try:
        with os.scandir(directory) as scan:
            entries = list(scan)
    except FileNotFoundError:
        return iter(())
    found = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            found.append((name + "/", entry.path, prefix + name, True))
        elif entry.is_file():
            found.append((name, entry.path, prefix + name, False))
    found.sort(key=lambda item: item[0])
    return iter(found)


def landed_files(landing_dir: Path, source: str) -> list[LandedFile]:
    """Files waiting in landing/<source>/, sorted by relative path (the processing order)."""
    return list(iter_landed_files(landing_dir, source))


def iter_landed_files(landing_dir: Path, source: str) -> Iterator[LandedFile]:
    """As `landed_files`, lazily (see the module docstring)."""
    if source not in SOURCES:
        raise ValueError(f"unknown landing source {source!r}; expected one of {', '.join(SOURCES)}")
    for relative, path, size in _iter_walk(str(landing_dir / source)):
        yield LandedFile(path, source, relative, size)


def count_landed_files(
    landing_dir: Path, source: str, *, sizes_of_first: int = 0
) -> tuple[int, int]:
    """(files, bytes) waiting in landing/<source>/, counted without sorting; the bytes are those of
    the first `sizes_of_first` files met (all of them when there are no more): enough to tell
    whether a run is worth a pool of workers without a `stat` per file of a national load."""
    if source not in SOURCES:
        raise ValueError(f"unknown landing source {source!r}; expected one of {', '.join(SOURCES)}")
    count = size = 0
    todo = [str(landing_dir / source)]
    while todo:
        try:
            with os.scandir(todo.pop()) as scan:
                for entry in scan:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
                    elif entry.is_file():
                        if count < sizes_of_first:
                            try:
                                size += entry.stat().st_size
                            except FileNotFoundError:
                                continue
                        count += 1
        except FileNotFoundError:
            continue
    return count, size


def unknown_files(landing_dir: Path) -> list[LandedFile]:
    """Files in landing/ that belong to no known source: directly in landing/ or in another folder."""
    return [
        LandedFile(path, UNKNOWN_SOURCE, relative, size)
        for relative, path, size in _iter_walk(str(landing_dir))
        if relative.split("/", 1)[0] not in SOURCES
    ]


def free_target(
    directory: str | Path,
    relative: str,
    file_id: str,
    *,
    with_reason: bool = False,
    taken: Container[str] = (),
) -> str:
    """Where a file may go below `directory` without overwriting anything (see module docstring).

    `with_reason`: the file gets a `.reason.txt` beside it, whose name must be free too.
    `taken`: paths promised to other files already, which may not exist yet.
    """
    # plain strings and os.path: this runs once per file, ~150k times for a region
    target = os.path.join(directory, relative)
    if not _taken(target, with_reason, taken):
        return target
    head, name = os.path.split(target)
    stem, suffix = os.path.splitext(name)
    candidate = os.path.join(head, f"{stem}.{file_id[:12]}{suffix}")
    counter = 2
    while _taken(candidate, with_reason, taken):
        candidate = os.path.join(head, f"{stem}.{file_id[:12]}-{counter}{suffix}")
        counter += 1
    return candidate


def _taken(path: str, with_reason: bool, taken: Container[str]) -> bool:
    if path in taken or os.path.lexists(path):
        return True
    if with_reason:
        reason = path + REASON_SUFFIX
        return reason in taken or os.path.lexists(reason)
    return False


_RENAME_NOREPLACE = 1
_AT_FDCWD = -100


def _load_renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # not Linux, or a libc before glibc 2.28
        return None
    function.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def move_file(source: str | Path, target: str | Path) -> None:
    """Move a file to a target that must not exist yet, creating the target's folder if needed.

    Never overwrites: an existing target raises FileExistsError, unless it is the very same file
    (a hard link left by a `link` + `unlink` move that was interrupted), when only the source
    name is removed. Another file system: copied, then the source removed.
    """
    source, target = os.fspath(source), os.fspath(target)
    try:
        _move(source, target)
    except FileExistsError:
        if _same_file(source, target):
            os.unlink(source)
            return
        raise FileExistsError(errno.EEXIST, f"refusing to overwrite {target}", target) from None
    except FileNotFoundError:
        if not os.path.lexists(source):
            raise
        os.makedirs(os.path.dirname(target), exist_ok=True)
        move_file(source, target)


def _move(source: str, target: str) -> None:
    global _renameat2
    if _renameat2 is not None:
        paths = (os.fsencode(source), os.fsencode(target))
        if _renameat2(_AT_FDCWD, paths[0], _AT_FDCWD, paths[1], _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code == errno.EXDEV:  # another file system
            _copy(source, target)
            return
        if code not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(code, os.strerror(code), source, None, target)  # FileExistsError, ...
        _renameat2 = None  # this file system cannot refuse to overwrite in a rename: link instead
    try:
        os.link(source, target)  # refuses an existing target
    except (FileExistsError, FileNotFoundError):
        raise
    except OSError:  # no hard links here, or another file system: copy, never overwriting
        _copy(source, target)
        return
    os.unlink(source)


def _copy(source: str, target: str) -> None:
    with open(source, "rb") as original, open(target, "xb") as copy:
        shutil.copyfileobj(original, copy)
    shutil.copystat(source, target)
    os.unlink(source)


def _same_file(source: str, target: str) -> bool:
    try:
        return os.path.samestat(os.lstat(source), os.lstat(target))
    except OSError:
        return False


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
