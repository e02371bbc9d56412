"""The built-in development key runs on data `jeugdhulp generate` made, and on nothing else.

The development key is public (it is in this repository), so a pseudonym made with it can be
reversed by anyone holding a list of BSNs: run on real deliveries it would publish their BSNs in
all but name. Refusing a missing key (runner.py) is not enough, because the key is also taken
when the data dir holds a synthetic region (cli.py) or when a run's config allows it.

So the generator records what it made: every file it writes is listed, by SHA-256, in
`<data dir>/generated-files.sha256` (the format of `sha256sum`: "<digest>  <path>"). Ingestion
under the development key compares the SHA-256 of every file it reads with that list before
anything of the file is stored, and stops with `DevelopmentKeyRefused` at the first file that is
not on it, or at once when there is no list. A file that was generated and then changed by hand
is not generated data any more, and is refused too.

The check costs nothing under a real key; under the development key the list is read once per
source into a DuckDB temporary table (memory flat in its length) and each chunk of files is
checked with one join.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from jeugdhulp.settings import SettingsError

MANIFEST_NAME = "generated-files.sha256"
_PARTS_FOLDER = ".generated-files"  # one part per writing process, merged at the end


class DevelopmentKeyRefused(SettingsError):
    """The development key met data the generator did not make."""


def manifest_path(data_dir: Path) -> Path:
    return Path(data_dir) / MANIFEST_NAME


class ManifestPart:
    """The list of the files one process of the generator writes (`part` names it; parts are
    merged in the order of their names, so name them reproducibly)."""

    def __init__(self, out: Path, part: str) -> None:
        self.path = Path(out) / _PARTS_FOLDER / f"{part}.sha256"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lines: list[str] = []

    def add(self, relative: str, data: bytes) -> None:
        self._lines.append(f"{hashlib.sha256(data).hexdigest()}  {relative}\n")
        if len(self._lines) >= 10_000:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            with open(self.path, "a", encoding="utf-8") as stream:
                stream.writelines(self._lines)
            self._lines = []


def merge_manifest(out: Path) -> Path:
    """Append the parts (in name order) to the data dir's manifest; remove the parts."""
    target = manifest_path(out)
    parts = Path(out) / _PARTS_FOLDER
    if parts.is_dir():
        with open(target, "a", encoding="utf-8") as merged:
            for part in sorted(parts.iterdir()):
                with open(part, encoding="utf-8") as stream:
                    shutil.copyfileobj(stream, merged)
        shutil.rmtree(parts)
    return target


class GeneratedFiles:
    """The manifest, loaded into a temporary table of the ingestion's DuckDB connection."""

    _TABLE = "_generated_files"

    def __init__(self, con, data_dir: Path) -> None:
        path = manifest_path(data_dir)
        if not path.is_file():
            raise DevelopmentKeyRefused(
                "the built-in development key runs only on data `jeugdhulp generate` made, and "
                f"this data dir has no list of generated files ({path.name}). Set "
                "JEUGDHULP_PSEUDONYM_KEY to your organisation's secret key to run on real data."
            )
        self.con = con
        self.path = path
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {self._TABLE} AS "
            "SELECT DISTINCT left(line, 64) AS file_id FROM read_csv(?, header = false, "
            "delim = '\t', quote = '', escape = '', columns = {'line': 'VARCHAR'})",
            [os.fspath(path)],
        )

    def refuse_foreign(self, source: str, read: list[tuple[str, str]]) -> None:
        """Raise DevelopmentKeyRefused when a read file (landed path, file id) is not listed."""
        if not read:
            return
        import pyarrow as pa

        _read_files = pa.table(
            {"landed_path": [p for p, _ in read], "file_id": [f for _, f in read]}
        )
        foreign = self.con.execute(
            f"SELECT landed_path FROM _read_files ANTI JOIN {self._TABLE} USING (file_id) "
            "ORDER BY landed_path"
        ).fetchall()
        if foreign:
            raise DevelopmentKeyRefused(
                f"the built-in development key runs only on data `jeugdhulp generate` made: "
                f"{len(foreign)} file(s) of landing/{source}/ in this batch are not on its list "
                f"({self.path.name}), the first {foreign[0][0]}. Nothing of them was stored. Set "
                "JEUGDHULP_PSEUDONYM_KEY to your organisation's secret key to run on real data."
            )

    def close(self) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self._TABLE}")
