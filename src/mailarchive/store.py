"""The SQLite store: raw bytes (compressed, never altered) and the metadata pages come from.

SQLite is reached through apsw, which brings its own SQLite (with FTS5) and lets search register
ranking functions. Every connection of the process to the archive must go through it: two copies
of SQLite in one process that open the same file undo each other's POSIX locks."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import apsw

from mailarchive import packing
from mailarchive.model import ParsedMessage
from mailarchive.search import ranking
from mailarchive.search.text import document as search_document
from mailarchive.thread import Member, is_reply, normalize_subject, strip_prefix, thread_keys

DB_NAME = "mailarchive.sqlite3"
FORMAT_VERSION = "1"
FOLD_SHARE = 4  # a bulk import of at least 1/FOLD_SHARE of the archive folds the search index
MERGING = {"automerge": 4, "crisismerge": 16}  # FTS5's own: keeps the index in few b-trees
BULK_MERGING = {"automerge": 0, "crisismerge": 64}  # merge only once a level holds 64
BULK_CACHE_KIB = 64 * 1024  # database pages the storing process keeps while a bulk import writes
PAGE_SIZE = 16384
SUBJECT_WINDOW = 90 * 86400  # how far back a bare "Re: subject" looks for its thread


class StoreError(Exception):
    """The archive folder cannot be used; the message says why and what to do."""


DatabaseError = apsw.Error  # what SQLite raises through apsw (locked, full, corrupt, ...)
DamagedError = apsw.CorruptError  # what a damaged database file raises when it is read


def connect(path: str | Path, busy_ms: int = 30_000, readonly: bool = False) -> apsw.Connection:
    """A connection to an SQLite file that waits up to `busy_ms` for another writer."""
    flags = (apsw.SQLITE_OPEN_READONLY if readonly
             else apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE)
    db = apsw.Connection(str(path), flags=flags)
    db.set_busy_timeout(busy_ms)
    try:
        # A file that is no database, or whose schema is damaged, says so here (FTS5's
        # function registration below would only say that it found no FTS5).
        db.execute("SELECT count(*) FROM sqlite_master")
        ranking.register(db)
    except apsw.Error:
        db.close()
        raise
    return db


def trouble(error: Exception, folder: str | Path | None = None) -> str:
    """One line saying what SQLite's `error` means for the archive in `folder`, and what to do."""
    path = Path(folder or ".") / DB_NAME
    if isinstance(error, apsw.NotADBError):
        return f"{path}: not a usable archive database ({error})"
    if isinstance(error, DamagedError):
        return (f"{path}: the database is damaged ({error}); restore it from a backup, or "
                f"save what is readable with: sqlite3 {path} .recover")
    if isinstance(error, (apsw.BusyError, apsw.LockedError)):
        return f"{path}: busy ({error}); another process is writing to it: try again later"
    if isinstance(error, apsw.FullError):
        return f"{path}: the disk is full ({error}); make room, then try again"
    return f"{path}: the database failed ({error})"


def one(db: apsw.Connection, sql: str, params: Sequence[object] = ()) -> Any:
    """The row a statement must give (an aggregate, a PRAGMA, a row known to be there)."""
    row = db.execute(sql, params).fetchone()
    if row is None:
        raise apsw.NotFoundError(f"no row from: {sql[:80]}")
    return row


def run_script(db: apsw.Connection, script: str) -> None:
    """Every statement of `script` run to its end (apsw stops at one that returns rows)."""
    for _row in db.execute(script):
        pass


@dataclass(frozen=True)
class ListInfo:
    id: int
    name: str
    title: str
    address: str
    subject_prefix: str
    obfuscate: bool


@dataclass(frozen=True)
class MessageRow:
    """A message's metadata as the pages use it."""

    id: int
    list_id: int
    num: int
    message_id: str
    synthetic_id: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    subject: str
    from_name: str
    from_addr: str
    date: int
    tz_offset: int
    date_source: str
    month: str
    thread: int
    attachments: int
    size: int
    defects: tuple[str, ...]
    envelope: str | None

    def member(self) -> Member:
        return Member(self.num, self.message_id, self.references, self.in_reply_to, self.date)


COLUMNS = ("id, list_id, num, message_id, synthetic_id, in_reply_to, refs, subject, from_name, "
            "from_addr, date, tz_offset, date_source, month, thread, attachments, size, defects, "
            "envelope")


# what `redescribe` makes again from the bytes: columns of `messages` and fields of `Record`
_DESCRIBED = ("subject", "subject_norm", "from_name", "from_addr", "date", "tz_offset",
              "date_source", "month", "attachments", "defects")


def to_row(r: Sequence[Any]) -> MessageRow:
    refs, defects = r[6] or "", r[17] or ""
    return MessageRow(
        r[0], r[1], r[2], r[3], bool(r[4]), r[5] or None, tuple(refs.split()), r[7], r[8], r[9],
        r[10], r[11], r[12], r[13], r[14], r[15], r[16],
        _loads(defects) if defects else (), r[18] or None,
    )


def copies_in(fields: Sequence[Sequence[Any]], message_id: str) -> list[int]:
    """The numbers of the messages among a thread's rows (as `Store.thread_fields` gives them)
    that have this Message-ID, in `Store.by_message_id`'s order (by id). Within a list these are
    all its copies: threading looks a message's own id up first, so a copy joins the thread of
    the first."""
    return [f[2] for f in sorted((f for f in fields if f[3] == message_id), key=lambda f: f[0])]


def month_of(stamp: int) -> str:
    t = time.gmtime(stamp)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}"


class Record(NamedTuple):
    """One message as `Store.add` writes it: every column but its number and thread, which only
    the archive can give, and what threading needs. Worked out from the bytes alone (in a worker
    process during an import), and a tuple because it then crosses to the writing process: an
    import's one writer unpickled the dataclasses it replaces at 44 us a message, a fifth of its
    time for storing one."""

    digest: bytes
    packed: bytes
    size: int
    envelope: str | None
    message_id: str
    synthetic_id: bool
    in_reply_to: str | None
    refs: str
    subject: str  # without the list's prefix
    subject_norm: str
    reply: bool
    keys: list[str]  # the Message-IDs that tie it to its thread
    from_name: str
    from_addr: str
    date: int
    tz_offset: int
    date_source: str
    month: str
    attachments: int
    defects: str
    columns: tuple[str, str, str, str, str, str]  # the search index's, in its column order
    text_recipe: str  # how a snippet finds its text (`search.message_text.text_recipe`)


def record(parsed: ParsedMessage, digest: bytes, packed: bytes, size: int, envelope: str | None,
           subject_prefix: str, text_recipe: str) -> Record:
    """What `Store.add` writes of a parsed message, for a list that tags subjects so."""
    subject = strip_prefix(parsed.subject, subject_prefix)
    return Record(
        digest, packed, size, envelope, parsed.message_id, parsed.synthetic_id,
        parsed.in_reply_to, " ".join(parsed.references), subject, normalize_subject(subject),
        is_reply(subject), thread_keys(parsed.message_id, parsed.references, parsed.in_reply_to),
        parsed.from_name, parsed.from_addr, parsed.date, parsed.tz_offset, parsed.date_source,
        month_of(parsed.date), len(parsed.attachments), _defects(parsed),
        search_document(parsed, subject).columns(), text_recipe)


READ_MAP_BYTES = 1 << 36  # 64 GiB of address space: the whole file of any archive (not memory)


class Store:
    """One archive folder. Writes go through `batch()`; every other method only reads."""

    def __init__(self, folder: str | Path, create: bool = True) -> None:
        self.folder = Path(folder)
        path = self.folder / DB_NAME
        if not path.exists():
            if not create:
                raise StoreError(f"{self.folder}: no archive here (import some mail first, or "
                                 "give the right folder with --archive)")
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"{self.folder}: cannot create the archive folder "
                                 f"({error.strerror})") from error
        try:
            self.db = connect(path)
            self._prepare()
        except apsw.Error as error:
            raise StoreError(trouble(error, self.folder)) from error
        self._next_num: dict[int, int] = {}
        self._dictionaries: dict[int, bytes] = {}
        self._dictionary: bytes | None = None

    def _prepare(self) -> None:
        """Set the connection up; create the schema only in a new archive, so that readers
        (the web server) never write and never wait for an import's lock."""
        self.db.execute("PRAGMA synchronous=NORMAL")
        found = self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
        if found and self.db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone():
            if not self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'zdicts'").fetchone():
                self.db.execute("CREATE TABLE zdicts (adler INTEGER PRIMARY KEY, "
                                "data BLOB NOT NULL)")
            self._look_for_recipes()
            return
        # Packed messages average 1.1 KiB: 4 KiB pages hold three and leave a sixth empty
        # (linux-mips 2000-2003: the archive is 3% smaller with 16 KiB, and imports no slower).
        self.db.execute(f"PRAGMA page_size={PAGE_SIZE}")
        self.db.execute("PRAGMA journal_mode=WAL")
        from importlib import resources  # only for a new archive (start-up time)

        run_script(self.db, resources.files("mailarchive").joinpath("schema.sql").read_text())
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT_VERSION,))
        self.has_recipes = True
        self._schema_seen = -1

    def _look_for_recipes(self) -> None:
        """Whether the archive keeps text recipes (it does once a writer has added their column,
        which another process may do while this one reads: looked for again when the schema
        changes)."""
        self._schema_seen = one(self.db, "PRAGMA schema_version")[0]
        self.has_recipes = any(row[1] == "text_recipe" for row in
                               self.db.execute("PRAGMA table_info(messages)"))

    def _keep_recipes(self) -> None:
        """Give an archive made before text recipes were kept their column (on its first write:
        readers never write); its older messages have none until `mailarchive refresh`. Called
        inside a batch, whose lock keeps another writer from adding it at the same time."""
        if not self.has_recipes:
            self._look_for_recipes()  # another process may have added it since
        if not self.has_recipes:
            self.db.execute("ALTER TABLE messages ADD COLUMN text_recipe TEXT")
            self.has_recipes = True

    def map_for_reading(self) -> None:
        """Read the database through a memory map: a page a query needs is then read where it
        lies instead of copied in by a system call (for the server's connections, which only
        read; 2% of a cold message page's time on the 60,000-message archive)."""
        self.db.execute(f"PRAGMA mmap_size={READ_MAP_BYTES}")

    def close(self) -> None:
        self.db.close()

    def unpack(self, blob: bytes, limit: int = 0) -> bytes:
        """Original bytes from `packing.pack`'s output, with the dictionary it names (with a
        `limit`, at most that many of the first)."""
        if not isinstance(blob, bytes):  # a damaged page whose bytes SQLite took for other data
            raise DamagedError(f"a stored message is {type(blob).__name__}, not bytes")
        try:
            wanted = packing.dictionary_wanted(blob)
            return packing.unpack(blob, None if wanted is None else self._zdict(wanted), limit)
        except packing.Unreadable as error:  # bytes damaged where SQLite cannot tell
            raise DamagedError(str(error)) from None

    def _zdict(self, wanted: int) -> bytes:
        zdict = self._dictionaries.get(wanted)
        if zdict is None:
            row = self.db.execute("SELECT data FROM zdicts WHERE adler = ?", (wanted,)).fetchone()
            if row is None:
                raise DamagedError(f"the dictionary {wanted} a stored message names is missing")
            zdict = self._dictionaries[wanted] = bytes(row[0])
        return zdict

    def dictionary(self) -> bytes | None:
        """The archive's compression dictionary, if it has trained one. Read once: reading
        its 110 KiB took a live delivery 0.1 ms. (Should two imports have trained one each,
        either packs well, and each message names the one it was packed with.)"""
        if self._dictionary is not None:
            return self._dictionary
        row = self.db.execute("SELECT data FROM zdicts ORDER BY adler LIMIT 1").fetchone()
        found = bytes(row[0]) if row else None
        if not self.db.in_transaction:  # committed: no rollback can take it away
            self._dictionary = found
        return found

    def save_dictionary(self, zdict: bytes) -> None:
        """Keep a dictionary under the id packed messages name it by (the `adler` column
        holds a zlib dictionary's Adler-32 or a Zstandard dictionary's id)."""
        self.db.execute("INSERT OR IGNORE INTO zdicts VALUES (?, ?)",
                        (packing.dictionary_id(zdict), zdict))

    def checkpoint(self) -> None:
        """Fold the write-ahead log back into the database file (after a bulk import)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def fold_search_index(self, added: int) -> str:
        """After a bulk import of `added` messages: merge the full-text index into one b-tree,
        or, when the import added less than a quarter of the archive, start or go on merging
        for about `added` pages (FTS5 picks up where the last call stopped), so that the work
        follows the import's size, not the archive's. Says which ("folded" or "merged").

        FTS5 adds a b-tree each time it flushes (every commit, and every megabyte of index)
        and merges them four at a time; a search looks its words up in each. linux-mips (60k
        messages) ends an import with 8: a rare word's lookup took 70 us, against 14 us in
        one. Folding rewrites the index once (1.2 s of a 22 s import there)."""
        total = int(one(self.db, "SELECT count(*) FROM messages")[0])
        if added * FOLD_SHARE >= total:
            self.db.execute("INSERT INTO fts(fts) VALUES ('optimize')")
            return "folded"
        self.db.execute("INSERT INTO fts(fts, rank) VALUES ('merge', ?)", (-added,))
        return "merged"

    @contextmanager
    def bulk_indexing(self) -> Iterator[None]:
        """While a bulk import writes:
        - FTS5 merges its b-trees only when one level holds 64, not four at a time after every
          flush. An import that added a thousand messages or more ends by folding the index,
          or merging for its own size (`fold_search_index`), which does that work once; the
          merges skipped were a tenth of the storing process's time at 300,000 messages. FTS5's
          own settings come back after, so that live deliveries keep the index in few b-trees
          (and merge the few a smaller import left).
        - This connection keeps 64 MiB of pages, not SQLite's 2 MiB: the indexes of message
          ids and digests take each message at a random place, and with the small cache every
          commit wrote pages out early and read them back (another tenth at 300,000)."""
        cache = one(self.db, "PRAGMA cache_size")[0]
        self._merging(BULK_MERGING)
        self.db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        try:
            yield
        finally:
            self.db.execute(f"PRAGMA cache_size = {int(cache)}")
            self._merging(MERGING)

    def _merging(self, settings: dict[str, int]) -> None:
        for name, value in settings.items():  # kept in the index (every connection sees them)
            self.db.execute("INSERT INTO fts(fts, rank) VALUES (?, ?)", (name, value))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One atomic write: all of it lands, or (killed or failed) none of it does."""
        self.db.execute("BEGIN IMMEDIATE")
        self._next_num.clear()
        had_recipes = self.has_recipes
        try:
            yield
            self.db.executemany("UPDATE lists SET next_num = ? WHERE id = ?",
                                [(num, list_id) for list_id, num in self._next_num.items()])
        except BaseException:
            self.db.execute("ROLLBACK")
            self.has_recipes = had_recipes  # a column this batch added is gone with it
            raise
        finally:
            self._next_num.clear()
        self.db.execute("COMMIT")

    # lists ------------------------------------------------------------------------------------

    def ensure_list(self, name: str, title: str | None = None, address: str | None = None,
                    subject_prefix: str | None = None, obfuscate: bool | None = None) -> ListInfo:
        """The list called `name`, created if new; given settings replace the stored ones."""
        self.db.execute("INSERT OR IGNORE INTO lists (name, title) VALUES (?, ?)", (name, name))
        for column, value in (("title", title), ("address", address),
                              ("subject_prefix", subject_prefix), ("obfuscate", obfuscate)):
            if value is not None:
                self.db.execute(f"UPDATE lists SET {column} = ? WHERE name = ?", (value, name))
        found = self.get_list(name)
        assert found is not None
        return found

    def get_list(self, name: str) -> ListInfo | None:
        row = self.db.execute(
            "SELECT id, name, title, address, subject_prefix, obfuscate FROM lists WHERE name = ?",
            (name,)).fetchone()
        return ListInfo(row[0], row[1], row[2], row[3], row[4], bool(row[5])) if row else None

    def single_list(self) -> bool:
        """Whether the archive holds one list (then all copies of a message are in its list)."""
        return bool(one(self.db, "SELECT count(*) = 1 FROM lists")[0])

    def lists(self) -> list[ListInfo]:
        rows = self.db.execute(
            "SELECT id, name, title, address, subject_prefix, obfuscate FROM lists ORDER BY name")
        return [ListInfo(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    # writing ----------------------------------------------------------------------------------

    def has(self, mlist: ListInfo, digest: bytes) -> bool:
        return self.db.execute("SELECT 1 FROM messages WHERE list_id = ? AND hash = ?",
                               (mlist.id, digest)).fetchone() is not None

    def present(self, mlist: ListInfo, digests: Sequence[bytes]) -> set[bytes]:
        """Those of `digests` already in the list (a statement per 500, not one each)."""
        found: set[bytes] = set()
        for at in range(0, len(digests), 500):
            some = digests[at:at + 500]
            found.update(bytes(r[0]) for r in self.db.execute(
                f"SELECT hash FROM messages WHERE list_id = ? AND hash IN "
                f"({','.join('?' * len(some))})", (mlist.id, *some)))
        return found

    def add(self, mlist: ListInfo, item: Record, checked: bool = False) -> int | None:
        """Store one message (call inside `batch()`); its number, or None if already present.
        `checked`: the caller found it absent inside this batch (`present`), so it is not looked
        up again."""
        if not checked and self.has(mlist, item.digest):
            return None
        self._keep_recipes()
        num = self._allocate(mlist)
        thread = self.assign_thread(mlist.id, num, item.keys, item.subject_norm, item.reply,
                                    item.date)
        self.db.execute(
            "INSERT INTO messages (list_id, num, hash, message_id, synthetic_id, in_reply_to, refs,"
            " subject, subject_norm, from_name, from_addr, date, tz_offset, date_source, month,"
            " thread, attachments, size, defects, envelope, text_recipe)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (mlist.id, num, item.digest, item.message_id, item.synthetic_id, item.in_reply_to,
             item.refs, item.subject, item.subject_norm, item.from_name, item.from_addr,
             item.date, item.tz_offset, item.date_source, item.month, thread, item.attachments,
             item.size, item.defects, item.envelope, item.text_recipe))
        rowid = self.db.last_insert_rowid()
        self.db.execute("INSERT INTO raw (id, data) VALUES (?, ?)", (rowid, item.packed))
        self.index(rowid, item.columns)
        return int(num)

    def index(self, rowid: int, columns: Sequence[str]) -> None:
        """Add a stored message's search entry (its columns, as `Record.columns` has them)."""
        self.db.execute("INSERT INTO fts (rowid, subject, sender, recipients, body, quoted, "
                        "filenames) VALUES (?,?,?,?,?,?,?)", (rowid, *columns))

    def clear_index(self) -> None:
        """Empty the search index (of every list: in one batch with `index` for every message)."""
        self.db.execute("INSERT INTO fts(fts) VALUES ('delete-all')")

    def redescribe(self, rowid: int, item: Record) -> bool:
        """Replace what was derived from a stored message's bytes (not its number, ids or
        thread) by `item`'s; whether anything shown changed (a new text recipe is not)."""
        self._keep_recipes()
        values = tuple(getattr(item, name) for name in _DESCRIBED)
        columns = ", ".join(_DESCRIBED)
        old = self.db.execute(f"SELECT {columns}, text_recipe FROM messages WHERE id = ?",
                              (rowid,)).fetchone()
        if old is not None and tuple(old) == (*values, item.text_recipe):
            return False
        self.db.execute(f"UPDATE messages SET ({columns}, text_recipe) = "
                        f"({','.join('?' * (len(values) + 1))}) WHERE id = ?",
                        (*values, item.text_recipe, rowid))
        return old is None or tuple(old[:-1]) != values

    def _allocate(self, mlist: ListInfo) -> int:
        """The next message number of a list (written back when the batch commits)."""
        num = self._next_num.get(mlist.id)
        if num is None:
            num = one(self.db, "SELECT next_num FROM lists WHERE id = ?", (mlist.id,))[0]
        self._next_num[mlist.id] = num + 1
        return int(num)

    def assign_thread(self, list_id: int, num: int, keys: list[str], subject_norm: str,
                      reply: bool, date: int) -> int:
        """The thread a new message joins, merging threads it turns out to connect (JWZ, online)."""
        marks = ",".join("?" * len(keys))
        found = {r[0] for r in self.db.execute(
            f"SELECT thread FROM msgids WHERE list_id = ? AND message_id IN ({marks})",
            (list_id, *keys))}
        if not found and reply and len(keys) == 1 and subject_norm:
            row = self.db.execute(
                "SELECT thread FROM messages WHERE list_id = ? AND subject_norm = ? AND date "
                "BETWEEN ? AND ? ORDER BY date DESC LIMIT 1",
                (list_id, subject_norm, date - SUBJECT_WINDOW, date)).fetchone()
            found = {row[0]} if row else set()
        thread = min(found) if found else num
        others = tuple(found - {thread})
        if others:
            marks = ",".join("?" * len(others))
            for table in ("messages", "msgids"):
                self.db.execute(f"UPDATE {table} SET thread = ? WHERE list_id = ? AND thread IN "
                                f"({marks})", (thread, list_id, *others))
        self.db.executemany("INSERT OR IGNORE INTO msgids VALUES (?, ?, ?)",
                            [(list_id, key, thread) for key in keys])
        return thread

    def remove(self, mlist: ListInfo, num: int, reason: str) -> bool:
        """Purge a message: its bytes and personal fields go, a tombstone with the reason stays
        (its number is never reused). Search filters it out at once. False if not there."""
        row = self.message(mlist, num)
        if row is None:
            return False
        with self.batch():
            # the empty subject_norm is also how `months` finds removed messages quickly
            self.db.execute("UPDATE messages SET removed = ?, subject = '', subject_norm = '', "
                            "from_name = '', from_addr = '', envelope = NULL WHERE id = ?",
                            (reason or "removed", row.id))
            self.db.execute("DELETE FROM raw WHERE id = ?", (row.id,))
        return True

    def tombstone(self, mlist: ListInfo, num: int) -> str | None:
        """The reason a message was removed, or None if it was not."""
        row = self.db.execute("SELECT removed FROM messages WHERE list_id = ? AND num = ?",
                              (mlist.id, num)).fetchone()
        return str(row[0]) if row and row[0] is not None else None

    # reading ----------------------------------------------------------------------------------

    def raw(self, message: MessageRow) -> bytes:
        row = self.db.execute("SELECT data FROM raw WHERE id = ?", (message.id,)).fetchone()
        try:
            return self.unpack(row[0]) if row else b""
        except DamagedError as error:
            raise self._damaged(message, error) from None

    def raws(self, ids: Sequence[int], limit: int = 0, damaged: list[DamagedError] | None = None
             ) -> dict[int, tuple[bytes, str | None]]:
        """The original bytes of some messages (at most `limit` of each, with one), each with
        its text recipe (None in an archive that has not kept it), read with one statement.
        A message whose bytes cannot be read raises DamagedError, or, given a `damaged` list, is
        left out and its error added there (a page of search hits shows the others)."""
        if not ids:
            return {}
        if not self.has_recipes and one(self.db, "PRAGMA schema_version")[0] != self._schema_seen:
            self._look_for_recipes()
        recipe = "m.text_recipe" if self.has_recipes else "NULL"
        found: dict[int, tuple[bytes, str | None]] = {}
        for rowid, data, text_recipe in self.db.execute(
                f"SELECT r.id, r.data, {recipe} FROM raw r JOIN messages m ON m.id = r.id "
                f"WHERE r.id IN ({','.join('?' * len(ids))})", ids):
            try:
                found[int(rowid)] = self.unpack(data, limit), text_recipe
            except DamagedError as error:
                row = one(self.db, f"SELECT {COLUMNS} FROM messages WHERE id = ?", (rowid,))
                if damaged is None:
                    raise self._damaged(to_row(row), error) from None
                damaged.append(self._damaged(to_row(row), error))
        return found

    def _damaged(self, message: MessageRow, error: Exception) -> DamagedError:
        """`error` (a stored message that cannot be read) with the message it is named by."""
        name = next((m.name for m in self.lists() if m.id == message.list_id), "?")
        return DamagedError(f"message {message.num} of {name}: {error}")

    def message(self, mlist: ListInfo, num: int) -> MessageRow | None:
        row = self.db.execute(f"SELECT {COLUMNS} FROM messages WHERE list_id = ? AND num = ? "
                              "AND removed IS NULL", (mlist.id, num)).fetchone()
        return to_row(row) if row else None

    def by_message_id(self, message_id: str) -> list[MessageRow]:
        rows = self.db.execute(f"SELECT {COLUMNS} FROM messages WHERE message_id = ? AND "
                               "removed IS NULL ORDER BY id", (message_id,))
        return [to_row(r) for r in rows]

    def thread_messages(self, mlist: ListInfo, thread: int) -> list[MessageRow]:
        return [to_row(r) for r in self.thread_fields(mlist, thread)]

    def thread_fields(self, mlist: ListInfo, thread: int) -> list[tuple[Any, ...]]:
        """A thread's messages as `to_row` takes them: the server digests these to know whether
        a kept page is current, without making rows."""
        # Without statistics SQLite picks messages_date and scans the whole list (19 ms a page).
        return self.db.execute(f"SELECT {COLUMNS} FROM messages INDEXED BY messages_thread "
                               "WHERE list_id = ? AND thread = ? AND removed IS NULL "
                               "ORDER BY date, num", (mlist.id, thread)).fetchall()

    def month_messages(self, mlist: ListInfo, month: str) -> list[MessageRow]:
        return [to_row(r) for r in self.month_fields(mlist, month)]

    def month_fields(self, mlist: ListInfo, month: str) -> list[tuple[Any, ...]]:
        """A month's messages as `to_row` takes them (see `thread_fields`)."""
        # Without statistics SQLite picks messages_date and scans the whole list (20 ms a page).
        return self.db.execute(f"SELECT {COLUMNS} FROM messages INDEXED BY messages_month WHERE "
                               "list_id = ? AND month = ? AND removed IS NULL ORDER BY date, num",
                               (mlist.id, month)).fetchall()

    def iter_messages(self, mlist: ListInfo) -> Iterator[MessageRow]:
        """Every message of a list by number, tombstones included (for checks and tools)."""
        rows = self.db.execute(f"SELECT {COLUMNS} FROM messages WHERE list_id = ? ORDER BY num",
                               (mlist.id,))
        for row in rows:
            yield to_row(row)

    def kept(self, mlist: ListInfo, after: int = 0, limit: int = -1) -> list[MessageRow]:
        """A list's messages that still have their bytes (not removed), by number: those
        numbered after `after`, at most `limit` of them (all, with -1)."""
        rows = self.db.execute(f"SELECT {COLUMNS} FROM messages WHERE list_id = ? AND num > ? "
                               "AND removed IS NULL ORDER BY num LIMIT ?",
                               (mlist.id, after, limit))
        return [to_row(row) for row in rows]

    def iter_raw(self, mlist: ListInfo) -> Iterator[tuple[MessageRow, bytes]]:
        """Every message of a list in number order with its original bytes (bounded memory),
        each checked against the SHA-256 recorded when it was archived: frames written before
        2026-12-08 carry no checksum, and bytes a disk changed in one may decompress to other
        bytes without an error (the check costs about 0.2 s for 60,000 messages)."""
        rows = self.db.execute(f"SELECT {COLUMNS.replace('id,', 'm.id,', 1)}, m.hash, r.data "
                               "FROM messages m JOIN raw r ON r.id = m.id WHERE m.list_id = ? "
                               "ORDER BY m.num", (mlist.id,))
        for row in rows:
            message = to_row(row[:-2])
            try:
                data = self.unpack(row[-1])
            except DamagedError as error:
                raise self._damaged(message, error) from None
            if hashlib.sha256(data).digest() != row[-2]:
                raise DamagedError(f"message {message.num} of {mlist.name} is not the bytes "
                                   "archived (its SHA-256 differs)")
            yield message, data

    def neighbours(self, message: MessageRow) -> tuple[int | None, int | None]:
        """The numbers of the messages just before and after this one by date."""
        before, after = self.neighbour_rows(message)
        return (before.num if before else None), (after.num if after else None)

    def neighbour_rows(self, message: MessageRow) -> tuple[MessageRow | None, MessageRow | None]:
        """The messages just before and after this one by date: one index seek each (a row
        value; `date < ? OR (date = ? AND ...)` cannot seek and scans the list)."""
        key = (message.list_id, message.date, message.num)
        before = self.db.execute(
            f"SELECT {COLUMNS} FROM messages INDEXED BY messages_date WHERE list_id = ? AND "
            "(date, num) < (?, ?) AND removed IS NULL ORDER BY date DESC, num DESC LIMIT 1",
            key).fetchone()
        after = self.db.execute(
            f"SELECT {COLUMNS} FROM messages INDEXED BY messages_date WHERE list_id = ? AND "
            "(date, num) > (?, ?) AND removed IS NULL ORDER BY date, num LIMIT 1", key).fetchone()
        return (to_row(before) if before else None), (to_row(after) if after else None)

    def month_neighbours(self, mlist: ListInfo, month: str) -> tuple[str | None, str | None]:
        """The months with mail just before and after `month` (index seeks, not a GROUP BY)."""
        found = []
        for sql in ("month < ? AND removed IS NULL ORDER BY month DESC",
                    "month > ? AND removed IS NULL ORDER BY month"):
            row = self.db.execute("SELECT month FROM messages INDEXED BY messages_month WHERE "
                                  f"list_id = ? AND {sql} LIMIT 1", (mlist.id, month)).fetchone()
            found.append(str(row[0]) if row else None)
        return found[0], found[1]

    def numbers_by_date(self, mlist: ListInfo) -> list[int]:
        """The numbers of a list's messages (not removed), newest first."""
        rows = self.db.execute("SELECT num FROM messages INDEXED BY messages_date WHERE "
                               "list_id = ? AND removed IS NULL ORDER BY date DESC, num DESC",
                               (mlist.id,))
        return [int(r[0]) for r in rows]

    def months(self, mlist: ListInfo) -> list[tuple[str, int]]:
        """The list's months, newest first, with their messages (not removed). Counted from
        the month index alone, less the removed messages, which `remove` leaves with an empty
        `subject_norm`, found by the subject index: reading every message to test `removed`
        took 1.5 s at a million messages, the index 0.12 s."""
        counts: dict[str, int] = dict(self.db.execute(
            "SELECT month, count(*) FROM messages INDEXED BY messages_month WHERE list_id = ? "
            "GROUP BY month", (mlist.id,)))
        for month, removed in self.db.execute(
                "SELECT month, count(*) FROM messages INDEXED BY messages_subject WHERE "
                "list_id = ? AND subject_norm = '' AND removed IS NOT NULL GROUP BY month",
                (mlist.id,)):
            counts[month] -= removed
        return sorted(((month, n) for month, n in counts.items() if n > 0), reverse=True)

    def summary(self, mlist: ListInfo) -> tuple[int, int | None]:
        """The list's messages (not removed) and the date of its newest: what the home page
        shows (`stats` reads every message for more)."""
        return sum(n for _, n in self.months(mlist)), self.last_date(mlist)

    def last_date(self, mlist: ListInfo) -> int | None:
        """The date of the list's newest message (not removed)."""
        last = self.db.execute("SELECT date FROM messages WHERE list_id = ? AND removed IS NULL "
                               "ORDER BY date DESC, num DESC LIMIT 1", (mlist.id,)).fetchone()
        return int(last[0]) if last else None

    def recent(self, mlist: ListInfo, limit: int = 20) -> list[MessageRow]:
        rows = self.db.execute(f"SELECT {COLUMNS} FROM messages WHERE list_id = ? AND removed IS "
                               "NULL ORDER BY date DESC, num DESC LIMIT ?", (mlist.id, limit))
        return [to_row(r) for r in rows]

    def recent_threads(self, mlist: ListInfo, limit: int = 20) -> list[tuple[MessageRow, int, int]]:
        """The threads with the latest activity: (first message, message count, last date).
        The newest messages are read backwards from the date index until `limit` threads have
        shown (a thread's newest message comes before its others), so the cost follows the
        recent threads, not the archive (grouping every message by thread took 0.3 s at a
        million messages)."""
        last_dates = self._latest_threads(mlist, limit)
        out = []
        for thread, last in last_dates.items():
            count = one(self.db, "SELECT count(*) FROM messages WHERE list_id = ? AND thread = ? "
                        "AND removed IS NULL", (mlist.id, thread))[0]
            # INDEXED BY: without statistics SQLite walks messages_date from the list's oldest
            # message to the thread's first (a second a thread at a million messages)
            first = one(self.db, f"SELECT {COLUMNS} FROM messages INDEXED BY messages_thread "
                        "WHERE list_id = ? AND thread = ? AND removed IS NULL "
                        "ORDER BY date, num LIMIT 1", (mlist.id, thread))
            out.append((to_row(first), int(count), last))
        return out

    def _latest_threads(self, mlist: ListInfo, limit: int) -> dict[int, int]:
        """Up to `limit` threads by their newest message's (date, number), newest first, with
        that date."""
        found: dict[int, int] = {}
        key = (2**63 - 1, 2**63 - 1)
        while len(found) < limit:
            rows: list[Any] = self.db.execute(
                "SELECT thread, date, num FROM messages WHERE list_id = ? AND (date, num) < (?, ?) "
                "AND removed IS NULL ORDER BY date DESC, num DESC LIMIT ?",
                (mlist.id, *key, 4 * limit)).fetchall()
            for thread, date, _num in rows:
                if thread not in found:
                    found[thread] = int(date)
                    if len(found) == limit:
                        break
            if len(rows) < 4 * limit:
                break
            key = (rows[-1][1], rows[-1][2])
        return found

    def stats(self, mlist: ListInfo) -> dict[str, int | str | None]:
        row = one(self.db,
                  "SELECT count(*), count(DISTINCT thread), count(DISTINCT month), "
                  "sum(defects != ''), min(date), max(date) FROM messages WHERE list_id = ? "
                  "AND removed IS NULL", (mlist.id,))
        return {"list": mlist.name, "messages": row[0], "threads": row[1], "months": row[2],
                "defects": row[3] or 0, "first": row[4], "last": row[5]}

    def thread_of(self, mlist: ListInfo, num: int) -> int | None:
        row = self.db.execute("SELECT thread FROM messages WHERE list_id = ? AND num = ?",
                              (mlist.id, num)).fetchone()
        return int(row[0]) if row else None

    def latest_change(self) -> int:
        row = one(self.db, "SELECT coalesce(max(id), 0) FROM messages")
        return int(row[0])

    def messages_by_date(self, mlist: ListInfo) -> list[MessageRow]:
        """Every message of a list not removed, by date then number (for whole-list work)."""
        rows = self.db.execute(f"SELECT {COLUMNS} FROM messages WHERE list_id = ? AND removed IS "
                               "NULL ORDER BY date, num", (mlist.id,))
        return [to_row(r) for r in rows]


def _defects(parsed: ParsedMessage) -> str:
    if not parsed.defects:
        return ""
    import json  # only for mail with defects (start-up time of adding one message)

    return json.dumps(parsed.defects, ensure_ascii=False)


def _loads(defects: str) -> tuple[str, ...]:
    import json

    return tuple(json.loads(defects))


