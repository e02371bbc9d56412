r"""The landing zone on disk: which files wait, and where each one goes once it has been handled.

`landing/<source>/<relative path>` moves to `archive/<source>/<relative path>` after its rows
committed, or to `quarantine/<source>/<relative path>` with `<name>.reason.txt` beside it. A move
never overwrites: when the target name is taken, the file keeps its name with the first 12
characters of its SHA-256 added (`x.xml` -> `x.1a2b3c4d5e6f.xml`), then a counter if needed.

Names starting with a dot are skipped (left in place, not dropped): the usual convention for a
delivery still being uploaded (`.x.xml.part`) and for editor or OS clutter (`.DS_Store`).
Files directly in `landing/` or under a folder that is not a known source are quarantined under
`quarantine/_unknown/` by `ingest_all`, so nothing that arrives is silently ignored.

Special entries: a symlink (to a file or a folder) is never followed; a FIFO, a socket or a device
is never opened; a folder named like a delivery (`x.xml/`, see DELIVERY_SUFFIXES) is not a
delivery and not descended into. Each is listed (`LandedFile.kind` names what it is), reported by
the run and left untouched, link and target alike. Sizes come from `lstat`.

File names: any bytes. Paths keep the bytes the system gave (`str` with surrogate escapes, as
`os` returns them) for every file operation. Where a path is kept as text (the registry, reports,
reason files) it is `path_text`: the UTF-8 characters as they are, every byte that is not UTF-8
and every control character as `\xNN`, a backslash as `\\`, so the text is printable and maps
back to the exact bytes (`path_bytes`); except that a BSN in it is masked (privacy/mask.py), in the
text and in the archive and quarantine names too (`LandedFile.stored_relative`).

Memory: `iter_landed_files` lists a source folder lazily, in processing order, one directory at a
time, so a national load (millions of files) never holds the whole listing. A move is one
`renameat2(RENAME_NOREPLACE)` where the system offers it (atomic, refuses an existing target),
else `link` + `unlink`, which refuses one too.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
from collections.abc import Container, Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from jeugdhulp.privacy.mask import mask_bsns
from jeugdhulp.sources import SOURCES

UNKNOWN_SOURCE = "_unknown"
REASON_SUFFIX = ".reason.txt"
# a folder whose name ends in one of these is a delivery gone wrong, not a sub-folder to read
DELIVERY_SUFFIXES = (".xml", ".csv", ".xlsx", ".xls", ".txt", ".zip")
FILE = "file"  # LandedFile.kind of a regular file; anything else is a special entry
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def path_text(path: str) -> str:
    """A path as text fit to keep and show (see the module docstring), BSNs masked."""
    if path.isascii() and path.isprintable() and "\\" not in path:
        return mask_bsns(path)  # nearly always: one regex search
    # masked before escaping too: an escaped byte's hex digits (`\\x93` of a Windows-1252 quote)
    # would join the digits after it and hide a BSN from the mask
    masked = mask_bsns(path)
    text = os.fsencode(masked).replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")
    return mask_bsns(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text))


def path_bytes(text: str) -> bytes:
    """The bytes of a path `path_text` made (a masked BSN stays masked)."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += text[position : match.start()].encode("utf-8")
        escaped = match.group(1)
        out += b"\\" if escaped == "\\" else bytes([int(escaped[1:], 16)])
        position = match.end()
    out += text[position:].encode("utf-8")
    return bytes(out)


class LandedFile(NamedTuple):
    """A file waiting in landing/ (a tuple: a national load lists millions)."""

    location: str  # absolute path in landing/
    source: str  # one of SOURCES, or UNKNOWN_SOURCE
    relative: str  # POSIX path below landing/<source>/ (below landing/ for UNKNOWN_SOURCE)
    size: int  # lstat
    kind: str = FILE  # or symlink | fifo | socket | device | directory | other: left untouched

    @property
    def landed_path(self) -> str:
        """Path relative to landing/ as text (`path_text`), as the registry records it."""
        relative = (
            self.relative if self.source == UNKNOWN_SOURCE else f"{self.source}/{self.relative}"
        )
        return path_text(relative)

    @property
    def stored_relative(self) -> str:
        """The relative path the file gets below archive/ or quarantine/: its own, BSNs masked."""
        return mask_bsns(self.relative)

    @property
    def path(self) -> Path:
        """The absolute path in landing/."""
        return Path(self.location)


def _is_hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _iter_walk(root: str) -> Iterator[tuple[str, str, int, str]]:
    """(relative POSIX path, absolute path, size, kind) of every visible file and special entry
    below root, in order of the relative path, read one directory at a time.

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
        _key, path, relative, kind = entry
        if kind is None:  # a folder
            stack.append(_sorted_entries(path, relative + "/"))
            continue
        if kind != FILE:
            yield relative, path, 0, kind
            continue
        try:
            size = os.lstat(path).st_size
        except FileNotFoundError:  # moved away while we looked
            continue
        yield relative, path, size, kind


def entry_kind(entry: os.DirEntry) -> str | None:
    """What a directory entry is, following no symlink: FILE, a special kind, or None for a
    folder to descend into."""
    if entry.is_symlink():
        return "symlink"
    if entry.is_dir(follow_symlinks=False):
        return "directory" if entry.name.lower().endswith(DELIVERY_SUFFIXES) else None
    if entry.is_file(follow_symlinks=False):
        return FILE
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except FileNotFoundError:
        return "other"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "other"


def _sorted_entries(directory: str, prefix: str) -> Iterator[tuple[str, str, str, str | None]]:
    try:
        with os.scandir(directory) as scan:
            entries = list(scan)
    except (FileNotFoundError, NotADirectoryError):
        return iter(())
    found = []
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        kind = entry_kind(entry)
        if kind is None:
            found.append((name + "/", entry.path, prefix + name, None))
        else:
            found.append((name, entry.path, prefix + name, kind))
    found.sort(key=lambda item: item[0])
    return iter(found)


def landed_files(landing_dir: Path, source: str) -> list[LandedFile]:
    """Files waiting in landing/<source>/, sorted by relative path (the processing order)."""
    return list(iter_landed_files(landing_dir, source))


def iter_landed_files(landing_dir: Path, source: str) -> Iterator[LandedFile]:
    """As `landed_files`, lazily (see the module docstring)."""
    if source not in SOURCES:
        raise ValueError(f"unknown landing source {source!r}; expected one of {', '.join(SOURCES)}")
    root = landing_dir / source
    if os.path.islink(root):  # a symlinked source folder is not followed (unknown_files lists it)
        return
    for relative, path, size, kind in _iter_walk(str(root)):
        yield LandedFile(path, source, relative, size, kind)


def count_landed_files(
    landing_dir: Path, source: str, *, sizes_of_first: int = 0
) -> tuple[int, int]:
    """(files, bytes) waiting in landing/<source>/, counted without sorting; the bytes are those of
    the first `sizes_of_first` files met (all of them when there are no more): enough to tell
    whether a run is worth a pool of workers without a `stat` per file of a national load."""
    if source not in SOURCES:
        raise ValueError(f"unknown landing source {source!r}; expected one of {', '.join(SOURCES)}")
    count = size = 0
    root = landing_dir / source
    todo = [] if os.path.islink(root) else [str(root)]
    while todo:
        try:
            with os.scandir(todo.pop()) as scan:
                for entry in scan:
                    if entry.name.startswith("."):
                        continue
                    kind = entry_kind(entry)
                    if kind is None:
                        todo.append(entry.path)
                        continue
                    if kind == FILE and count < sizes_of_first:
                        try:
                            size += entry.stat(follow_symlinks=False).st_size
                        except FileNotFoundError:
                            continue
                    count += 1
        except (FileNotFoundError, NotADirectoryError):
            continue
    return count, size


def unknown_files(landing_dir: Path) -> list[LandedFile]:
    """Files in landing/ that belong to no known source: directly in landing/ or in another folder."""
    return [
        LandedFile(path, UNKNOWN_SOURCE, relative, size, kind)
        for relative, path, size, kind in _iter_walk(str(landing_dir))
        # a file or special entry named like a source (a symlinked `ijw`) is a stray too
        if relative.split("/", 1)[0] not in SOURCES or "/" not in relative
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
    """The `<name>.reason.txt` beside a quarantined file: what was wrong, in plain text (the path
    as `path_text`, BSNs masked in both)."""
    reason_path = Path(str(target) + REASON_SUFFIX)
    reason_path.parent.mkdir(parents=True, exist_ok=True)
    reason_path.write_text(
        f"file: {mask_bsns(landed_path)}\n"
        f"sha256: {file_id}\n"
        f"quarantined at: {datetime.now().isoformat(timespec='seconds')}\n"
        f"reason: {mask_bsns(reason)}\n",
        encoding="utf-8",
        errors="backslashreplace",
    )
    return reason_path
