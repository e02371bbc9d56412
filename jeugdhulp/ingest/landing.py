r"""The landing zone on disk: which files wait, and where each one goes once it has been handled.

`landing/<source>/<relative path>` moves to `archive/<source>/<relative path>` after its rows
committed, or to `quarantine/<source>/<relative path>` with `<name>.reason.txt` beside it.

Names below archive/ and quarantine/ (`free_target`, chosen before the commit): a move never
overwrites, and a target is a path that can be created. When the target name is taken, the file
keeps its name with the first 12 characters of its SHA-256 added (`x.xml` -> `x.1a2b3c4d5e6f.xml`),
then a counter (`x.1a2b3c4d5e6f-2.xml`). A folder on the way that exists as a file (`2025-06`
delivered as a file, later `2025-06/x.xml`) is replaced by `<name>.folder` (then `.folder-2`, ...:
the first that is a folder or free), the same for every file of that folder. Every name fits the
file system's NAME_MAX (255 bytes; a quarantined file's name leaves room for `.reason.txt`): a
longer one (a long name with the SHA-256 prefix added, or grown by masking a BSN) is cut, whole
characters from the end of its stem, keeping the extension; a cut file name always gets the
SHA-256 prefix (`<cut stem>.1a2b3c4d5e6f.xml`), a cut folder name does not; a cut inside a run of
digits drops the rest of the run (no shorter run can become a BSN). A move that fails all the same
goes to a fallback name (see runner.py, "Moves that fail").

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
    """Where a file may go below `directory` without overwriting anything, on a path that can be
    created (see the module docstring, "Names below archive/ and quarantine/").

    `with_reason`: the file gets a `.reason.txt` beside it, whose name must be free too.
    `taken`: paths promised to other files already, which may not exist yet.
    """
    # plain strings and os.path: this runs once per file, ~150k times for a region
    directory = os.fspath(directory)
    target = os.path.join(directory, relative)
    limit = name_max(directory)
    fitting = fits(relative, limit, with_reason)
    state = _state(target, with_reason, taken) if fitting else _BLOCKED
    if state == _FREE:
        return target  # nearly always: one lstat
    folder, name = os.path.split(relative)
    if state == _TAKEN and fitting:  # the path resolved: its folders are folders
        folder = os.path.dirname(target)
    else:
        folder = _usable_folder(directory, folder, limit, taken)
        if fits(name, limit, with_reason):
            candidate = os.path.join(folder, name)
            if _state(candidate, with_reason, taken) != _TAKEN:
                return candidate
    extra = _REASON_BYTES if with_reason else 0
    stem, suffix = os.path.splitext(name)
    if _size(suffix) > limit // 4:  # not an extension worth keeping whole
        stem, suffix = name, ""
    counter = 1
    while True:
        tail = f".{file_id[:12]}{'' if counter == 1 else f'-{counter}'}{suffix}"
        candidate = os.path.join(folder, _shorten(stem, tail, limit - extra) + tail)
        # _BLOCKED by what no name helps (no permission, ...): the move fails, see runner.py
        if _state(candidate, with_reason, taken) != _TAKEN:
            return candidate
        counter += 1


_FREE, _TAKEN, _BLOCKED = 0, 1, 2
_REASON_BYTES = len(REASON_SUFFIX)
_FOLDER_SUFFIX = ".folder"
_DIGITS = "0123456789"
_name_max: dict[str, int] = {}


def name_max(directory: str) -> int:
    """The longest file name (bytes) the file system of `directory` takes (255 on most)."""
    limit = _name_max.get(directory)
    if limit is None:
        limit = 255
        probe = directory
        while probe:
            try:
                limit = os.pathconf(probe, "PC_NAME_MAX")
                break
            except (OSError, ValueError, AttributeError):  # missing yet, or not offered here
                parent = os.path.dirname(probe)
                probe = parent if parent != probe else ""
        _name_max[directory] = limit = limit if limit > 0 else 255
    return limit


def fits(relative: str, limit: int, with_reason: bool = False) -> bool:
    """Every name in `relative` fits `limit` bytes (the file's with `.reason.txt` added)."""
    extra = _REASON_BYTES if with_reason else 0
    if len(relative) * 4 + extra <= limit:  # a character is at most 4 bytes: nearly always
        return True
    *folders, name = relative.split("/")
    return _size(name) + extra <= limit and all(_size(part) <= limit for part in folders)


def _size(name: str) -> int:
    return len(os.fsencode(name))


def _state(path: str, with_reason: bool, taken: Container[str]) -> int:
    """_FREE, _TAKEN (the path or its reason file exists or is promised) or _BLOCKED (it cannot be
    created: a folder on the way is a file, a name too long, no permission...)."""
    if path in taken:
        return _TAKEN
    try:
        os.lstat(path)
        return _TAKEN
    except FileNotFoundError:  # every folder up to the first missing one is a folder
        pass
    except OSError:
        return _BLOCKED
    if with_reason:
        reason = path + REASON_SUFFIX
        if reason in taken or os.path.lexists(reason):
            return _TAKEN
    return _FREE


def _usable_folder(directory: str, folder: str, limit: int, taken: Container[str]) -> str:
    """`directory`/`folder` with every name cut to `limit` and every one that exists and is not a
    folder (or is promised to a file) replaced by `<name>.folder` (then `.folder-2`, ...)."""
    path = directory
    for part in folder.split("/") if folder else ():
        candidate = os.path.join(path, _shorten(part, "", limit))
        counter = 1
        while not _may_be_folder(candidate, taken):
            tail = _FOLDER_SUFFIX + ("" if counter == 1 else f"-{counter}")
            candidate = os.path.join(path, _shorten(part, tail, limit) + tail)
            counter += 1
        path = candidate
    return path


def _may_be_folder(path: str, taken: Container[str]) -> bool:
    if path in taken:
        return False
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        return not os.path.lexists(path)  # a dangling symlink is no folder either
    except OSError:  # other trouble (no permission...): the move will say
        return True


def _shorten(stem: str, tail: str, limit: int) -> str:
    """`stem` cut (whole characters) so that `stem + tail` fits `limit` bytes. A cut inside a run
    of digits drops the run's rest, so a shorter run can never become a BSN to mask."""
    budget = limit - _size(tail)
    if _size(stem) <= budget:
        return stem
    size = 0
    for index, character in enumerate(stem):
        size += _size(character)
        if size > budget:
            cut = stem[:index]
            if cut.endswith(tuple(_DIGITS)) and character in _DIGITS:
                cut = cut.rstrip(_DIGITS)
            return cut or "_"
    return stem


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
        try:
            shutil.copyfileobj(original, copy)
        except BaseException:
            os.unlink(target)  # ours, half written: no partial file left under the name
            raise
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
