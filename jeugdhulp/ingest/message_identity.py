"""Message identity: is a landed iJw message a re-delivery of one the warehouse already holds?

An iJw message is identified by its sender, receiver, message type (BerichtCode) and
BerichtIdentificatie (Identificatie + Dagtekening), not by its bytes: a provider may re-send the
same message compact instead of pretty-printed, in another encoding, with other namespace
prefixes. `file_id` (the SHA-256 of the bytes) catches only byte-identical copies.

`decide_redelivery` compares the parsed rows of a new file with the rows already loaded under the
same identity, by a digest of their content (every raw column but the diagnostics `file_id` and
`source_line`; `record_position` is the record's ordinal in the message, so it is content):
- no message with that identity yet: `new`, load it;
- the same content: `same_content`, a no-op (register the file as a duplicate, load no rows);
- different content: `conflict`, quarantine the file with `Decision.reason`
  (`conflicting_redelivery: ...`), because two different messages under one identity cannot both
  be right and neither may silently replace the other.

The digest is computed the same way from parsed rows (`ParsedFile`) and from rows read back from
the raw table, so nothing new needs to be stored. A message without records (a JW325 rejecting
nothing) has no rows to identify it by: it is always `new` (loading it adds no rows anyway).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from jeugdhulp.ingest.ijw_rows import TABLE_OF_MESSAGE
from jeugdhulp.ingest.parsed import ParsedFile

DIAGNOSTIC_COLUMNS = frozenset({"file_id", "source_line"})
_IDENTITY_COLUMNS = ("sender", "receiver", "message_id", "message_date")


@dataclass(frozen=True, slots=True)
class MessageIdentity:
    message_type: str  # JW301 ... (BerichtCode, from the root namespace)
    sender: str
    receiver: str
    message_id: str  # BerichtIdentificatie/Identificatie
    message_date: date  # BerichtIdentificatie/Dagtekening


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str  # new | same_content | conflict
    identity: MessageIdentity | None
    earlier_file_id: str | None = None  # the file holding the message already
    reason: str | None = None  # for a conflict: the quarantine reason
    digest: str | None = None  # content digest of the decided file (to pass in `earlier`)

    @property
    def load(self) -> bool:
        return self.kind == "new"


def _canonical(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (int, Decimal)):
        return str(value)
    return "s" + str(value)


def content_digest(columns: tuple[str, ...] | list[str], rows: list[tuple]) -> str:
    """SHA-256 of the rows' content: diagnostic columns left out, rows in record order (by
    record_position when present), values in a canonical text form."""
    keep = [i for i, column in enumerate(columns) if column not in DIAGNOSTIC_COLUMNS]
    position = list(columns).index("record_position") if "record_position" in columns else None
    ordered = sorted(rows, key=lambda row: row[position]) if position is not None else rows
    digest = hashlib.sha256()
    for column in (columns[i] for i in keep):
        digest.update(column.encode() + b"\x1f")
    digest.update(b"\x1e")
    for row in ordered:
        for i in keep:
            digest.update(_canonical(row[i]).encode("utf-8") + b"\x1f")
        digest.update(b"\x1e")
    return digest.hexdigest()


def identity_of(parsed: ParsedFile) -> MessageIdentity | None:
    """The identity of a parsed iJw message, from its rows' header; None without rows."""
    table = TABLE_OF_MESSAGE.get(parsed.content_type)
    if table is None or table not in parsed.tables or not parsed.tables[table].rows:
        return None
    columns = parsed.tables[table].columns
    first = parsed.tables[table].rows[0]
    values = {c: first[columns.index(c)] for c in _IDENTITY_COLUMNS}
    return MessageIdentity(parsed.content_type, **values)


def loaded_digests(con, identity: MessageIdentity) -> dict[str, str]:
    """file_id -> content digest of every loaded file holding a message with `identity`."""
    table = TABLE_OF_MESSAGE[identity.message_type]
    cursor = con.execute(
        f"select * from raw.{table} where sender = ? and receiver = ? and message_id = ? "
        "and message_date = ? order by file_id, record_position",
        [identity.sender, identity.receiver, identity.message_id, identity.message_date],
    )
    columns = [d[0] for d in cursor.description]
    file_at = columns.index("file_id")
    by_file: dict[str, list[tuple]] = {}
    for row in cursor.fetchall():
        by_file.setdefault(row[file_at], []).append(row)
    return {file_id: content_digest(columns, rows) for file_id, rows in by_file.items()}


def decide_redelivery(
    con,
    parsed: ParsedFile,
    earlier: dict[MessageIdentity, dict[str, str]] | None = None,
) -> Decision:
    """new, same_content (a no-op) or conflict (quarantine) for a parsed iJw file, against what
    the warehouse (`con`, a DuckDB connection with the raw schema) already holds and, when given,
    `earlier`: identity -> {file_id: digest} of files decided `new` earlier in the same batch but
    not inserted yet (add `{decision.identity: {file_id: decision.digest}}` after each)."""
    identity = identity_of(parsed)
    if identity is None:
        return Decision("new", None)
    known = {**loaded_digests(con, identity), **(earlier or {}).get(identity, {})}
    table = TABLE_OF_MESSAGE[identity.message_type]
    # the raw table's columns in its DDL order, as loaded_digests reads them back
    rows = parsed.tables[table]
    stored_columns = [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]
    order = [rows.columns.index(c) if c in rows.columns else None for c in stored_columns]
    aligned = [tuple(None if i is None else row[i] for i in order) for row in rows.rows]
    digest = content_digest(stored_columns, aligned)
    if not known:
        return Decision("new", identity, digest=digest)
    for file_id, known_digest in known.items():
        if known_digest == digest:
            return Decision("same_content", identity, earlier_file_id=file_id, digest=digest)
    first = next(iter(known))
    return Decision(
        "conflict",
        identity,
        earlier_file_id=first,
        digest=digest,
        reason=(
            f"conflicting_redelivery: {identity.message_type} {identity.message_id} of "
            f"{identity.message_date.isoformat()} from {identity.sender} to {identity.receiver} "
            f"was already loaded (file {first[:12]}) with different content"
        ),
    )
