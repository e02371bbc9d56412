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


def _raw_columns(con, table: str) -> list[str]:
    """The columns of raw.<table> in their DDL order."""
    return [
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' "
            "and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    ]


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
    stored_columns = _raw_columns(con, table)
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
        reason=_conflict_reason(identity, first),
    )


# --- the runner's side: an index of the identities loaded, decisions per chunk -------------------
#
# Every loaded iJw message leaves one row in raw.ijw_message_identities: its identity, a 64-bit
# key made of it and its file. A chunk's identities are probed against the index in one join
# (a few milliseconds at millions of messages); only a hit, which is rare, reads rows back to
# compare contents. The index is written in the transaction that loads the message's rows, and
# left by whatever takes those rows out (raw tables are cleared by file_id).

IDENTITY_TABLE = "raw.ijw_message_identities"
_IDENTITY_COLUMNS_DDL = (
    "message_key UBIGINT NOT NULL, message_type VARCHAR NOT NULL, sender VARCHAR NOT NULL, "
    "receiver VARCHAR NOT NULL, message_id VARCHAR NOT NULL, message_date DATE NOT NULL, "
    "file_id VARCHAR NOT NULL"
)


def key_of(message_type: str, sender: str, receiver: str, message_id: str, message_date) -> int:
    """A 64-bit key of an identity (a hit is confirmed on the identity itself)."""
    text = f"{message_type}\x1f{sender}\x1f{receiver}\x1f{message_id}\x1f{message_date.isoformat()}"
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def message_key(identity: MessageIdentity) -> int:
    return key_of(
        identity.message_type,
        identity.sender,
        identity.receiver,
        identity.message_id,
        identity.message_date,
    )


# A message as the workers hand it over: (file_id, message type, (sender, receiver, message_id,
# message_date, key)), the key computed in the worker (worker.py)
Entry = tuple[str, str, tuple]


def entry_of(file_id: str, identity: MessageIdentity) -> Entry:
    i = identity
    return (
        file_id,
        i.message_type,
        (i.sender, i.receiver, i.message_id, i.message_date, message_key(i)),
    )


def _index_rows(entries: list[Entry]):
    import pyarrow as pa

    file_ids, types, messages = zip(*entries)
    senders, receivers, ids, dates, keys = zip(*messages)
    return pa.table(
        {
            "message_key": pa.array(keys, pa.uint64()),
            "message_type": pa.array(types, pa.string()),
            "sender": pa.array(senders, pa.string()),
            "receiver": pa.array(receivers, pa.string()),
            "message_id": pa.array(ids, pa.string()),
            "message_date": pa.array(dates, pa.date32()),
            "file_id": pa.array(file_ids, pa.string()),
        }
    )


def ensure_identity_index(con) -> None:
    """Create the index; in a warehouse loaded before it existed, fill it from the raw tables."""
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'raw' and table_name = 'ijw_message_identities'"
    ).fetchone()[0]
    if exists:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE TABLE {IDENTITY_TABLE} ({_IDENTITY_COLUMNS_DDL})")
        for message_type, table in TABLE_OF_MESSAGE.items():
            found = con.execute(
                f"select distinct file_id, {', '.join(_IDENTITY_COLUMNS)} from raw.{table} "
                f"where {' and '.join(c + ' is not null' for c in _IDENTITY_COLUMNS)}"
            ).fetchall()
            record_identities(
                con, [entry_of(row[0], MessageIdentity(message_type, *row[1:])) for row in found]
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def record_identities(con, entries: list[Entry]) -> None:
    """Add loaded messages to the index (in the caller's transaction)."""
    if not entries:
        return
    _identity_rows = _index_rows(entries)  # DuckDB scans it by this name
    con.execute(f"INSERT INTO {IDENTITY_TABLE} BY NAME SELECT * FROM _identity_rows")


def identities_in(tables: dict, file_ids) -> dict[str, MessageIdentity]:
    """file_id -> identity of the wanted files, from a chunk's Arrow tables (files without rows
    have none)."""
    wanted = set(file_ids)
    found: dict[str, MessageIdentity] = {}
    for message_type, name in TABLE_OF_MESSAGE.items():
        table = tables.get(name)
        if table is None or table.num_rows == 0:
            continue
        headers = table.select(["file_id", *_IDENTITY_COLUMNS])
        for row in headers.group_by(headers.column_names).aggregate([]).to_pylist():
            # an incomplete header (refused by the raw table anyway) identifies nothing
            if row["file_id"] in wanted and all(row[c] is not None for c in _IDENTITY_COLUMNS):
                found[row["file_id"]] = MessageIdentity(
                    message_type, *(row[c] for c in _IDENTITY_COLUMNS)
                )
    return found


def _digest_of_chunk_file(con, tables: dict, identity: MessageIdentity, file_id: str) -> str:
    """The content digest of one file's rows in a chunk, typed as the raw table types them (so it
    equals `loaded_digests` of the same rows once loaded)."""
    import pyarrow.compute as pc

    name = TABLE_OF_MESSAGE[identity.message_type]
    table = tables.get(name)
    if table is None or table.num_rows == 0:  # a message without rows
        return _empty_digest(con, name)
    _redelivery_rows = table.filter(pc.equal(table.column("file_id"), file_id))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _redelivery_probe AS FROM raw.{name} LIMIT 0")
    try:
        con.execute("INSERT INTO _redelivery_probe BY NAME SELECT * FROM _redelivery_rows")
        cursor = con.execute("SELECT * FROM _redelivery_probe")
        columns = [d[0] for d in cursor.description]
        return content_digest(columns, cursor.fetchall())
    finally:
        con.execute("DROP TABLE _redelivery_probe")


def _empty_digest(con, table: str) -> str:
    """The digest of a message without rows (a JW325 rejecting nothing)."""
    return content_digest(_raw_columns(con, table), [])


def decide_chunk(
    con, tables: dict, file_ids: list[str], known: dict[str, MessageIdentity] | None = None
) -> dict[str, Decision]:
    """new / same_content / conflict for the files `file_ids` (in order) of a parsed chunk whose
    rows are in `tables` (raw table -> Arrow table with file_id), against the index and against
    the files before them in the chunk. `known`: file_id -> identity, as the reader found it in
    each message's header (rows or none); without it, identities are read from the rows. A
    message whose identity is unknown gets no decision: it is loaded."""
    import pyarrow as pa

    wanted = set(file_ids)
    if known is None:
        identities = identities_in(tables, file_ids)
    else:
        identities = {f: i for f, i in known.items() if f in wanted}
    if not identities:
        return {}
    keys = sorted({message_key(i) for i in identities.values()})
    _identity_probe = pa.table({"message_key": pa.array(keys, pa.uint64())})
    loaded: dict[MessageIdentity, list[str]] = {}
    for row in con.execute(
        f"SELECT known.message_type, {', '.join('known.' + c for c in _IDENTITY_COLUMNS)}, "
        f"known.file_id FROM {IDENTITY_TABLE} AS known "
        "SEMI JOIN _identity_probe AS probe ON known.message_key = probe.message_key "
        "ORDER BY known.file_id"
    ).fetchall():
        loaded.setdefault(MessageIdentity(*row[:5]), []).append(row[5])

    decisions: dict[str, Decision] = {}
    in_chunk: dict[MessageIdentity, list[str]] = {}  # files of this chunk decided new
    digests: dict[str, str] = {}  # file_id -> digest, computed when needed

    def digest_of(identity: MessageIdentity, file_id: str, from_chunk: bool) -> str:
        if file_id not in digests:
            if from_chunk:
                digests[file_id] = _digest_of_chunk_file(con, tables, identity, file_id)
            else:
                digests.update(loaded_digests(con, identity))
                if file_id not in digests:  # a message loaded without rows
                    name = TABLE_OF_MESSAGE[identity.message_type]
                    digests[file_id] = _empty_digest(con, name)
        return digests[file_id]

    for file_id in file_ids:
        identity = identities.get(file_id)
        if identity is None:
            continue
        earlier = [(f, False) for f in loaded.get(identity, ())] + [
            (f, True) for f in in_chunk.get(identity, ())
        ]
        if not earlier:
            decisions[file_id] = Decision("new", identity)
            in_chunk.setdefault(identity, []).append(file_id)
            continue
        digest = digest_of(identity, file_id, True)
        same = next((f for f, chunk in earlier if digest_of(identity, f, chunk) == digest), None)
        if same is not None:
            decisions[file_id] = Decision("same_content", identity, same, digest=digest)
        else:
            first = earlier[0][0]
            decisions[file_id] = Decision(
                "conflict", identity, first, _conflict_reason(identity, first), digest
            )
    return decisions


INDEX_TABLE = IDENTITY_TABLE.removeprefix("raw.")  # its name among a chunk's tables


def index_rows(entries: list[Entry]):
    """The index's rows of these messages (the workers add them to their chunk's tables)."""
    return _index_rows(entries)


def decide_messages(con, tables: dict, load_ids) -> dict[str, Decision]:
    """The decisions for a chunk's messages to load (`load_ids`) that are not new, from the
    chunk's rows of the index (`tables[INDEX_TABLE]`, in file order): one probe of the index by
    key and a look for keys repeated within the chunk; only the files so found are decided one by
    one (`decide_chunk`). Every file without a decision is new."""
    import pyarrow as pa
    import pyarrow.compute as pc

    index = tables.get(INDEX_TABLE)
    if index is None or index.num_rows == 0:
        return {}
    if index.num_rows != len(load_ids):  # rows of files that are not loaded (duplicates, ...)
        wanted = pa.array(list(load_ids), pa.string())
        index = index.filter(pc.is_in(index.column("file_id"), value_set=wanted))
        if index.num_rows == 0:
            return {}
    _identity_probe = index.select(["message_key"])
    suspect = {
        key
        for (key,) in con.execute(
            f"SELECT DISTINCT known.message_key FROM {IDENTITY_TABLE} AS known "
            "SEMI JOIN _identity_probe AS probe ON known.message_key = probe.message_key"
        ).fetchall()
    }
    keys = index.column("message_key")
    if pc.count_distinct(keys).as_py() < index.num_rows:  # the same key twice in the chunk
        counts = pc.value_counts(keys)
        repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
        suspect.update(repeated.to_pylist())
    if not suspect:
        return {}
    found = index.filter(pc.is_in(keys, value_set=pa.array(sorted(suspect), pa.uint64())))
    files = {
        row["file_id"]: MessageIdentity(row["message_type"], *(row[c] for c in _IDENTITY_COLUMNS))
        for row in found.to_pylist()
    }
    decisions = decide_chunk(con, tables, list(files), files)
    return {f: d for f, d in decisions.items() if d.kind != "new"}


def same_message_note(decision: Decision) -> str:
    identity = decision.identity
    return (
        f"same_message: {_describe(identity)} was already loaded from file "
        f"{decision.earlier_file_id[:12]} with the same content; nothing loaded"
    )


def _describe(identity: MessageIdentity) -> str:
    return (
        f"{identity.message_type} {identity.message_id} of {identity.message_date.isoformat()} "
        f"from {identity.sender} to {identity.receiver}"
    )


def _conflict_reason(identity: MessageIdentity, earlier_file_id: str) -> str:
    return (
        f"conflicting_redelivery: {_describe(identity)} was already loaded (file "
        f"{earlier_file_id[:12]}) with different content; a corrected message needs a new "
        "BerichtIdentificatie"
    )
