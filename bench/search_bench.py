#!/usr/bin/env python3
"""Search benchmark: mailarchive's FTS5 search at ~1M messages, and against notmuch.

    .venv/bin/python bench/search_bench.py                 # everything (reuses cached work)
    .venv/bin/python bench/search_bench.py --queries 50    # quicker, fewer queries per kind
    .venv/bin/python bench/search_bench.py --quick --queries 50 --kinds phrase --sizes 1m
                                                           # latency only, cached archives
    .venv/bin/python bench/search_bench.py --fresh         # rebuild archives and notmuch db

Work (all cached under bench/out/, git-ignored):

* bench/out/gen/*.mbox          generated mail (bench/gen_corpus.py; 940,000 messages)
* bench/out/search-archive      mailarchive archive: real linux-mips (60,680) + generated (~1M)
* bench/out/search-archive-60k  mailarchive archive: the real corpus only
* bench/out/maildir             the real corpus as a maildir + its notmuch database (.notmuch)

notmuch indexes ~400-800 msg/s here, so notmuch gets the real 60k corpus only: the comparison
with notmuch is at 60k messages; mailarchive is also reported alone at ~1M.

Latency: each query is timed once, in-process, warm page cache. mailarchive: the library call
``search(store, q, per_page=20)`` (with snippets, as the web page does: 20 a page); then the
same call again through a statement timer, for the split into the rows statement and the
count(*) statement (the timer's own cost is kept out of the latency). notmuch: the notmuch2
binding under the system Python, ``db.threads(q)`` newest first, the first 20 threads with their
authors, subject and date read (what ``notmuch search --limit=20`` prints), no process start-up,
timed inside its own process. The two take turns query by query, so that the machine's drifts
in speed (up to 2x within minutes here) fall on both alike. --per-page changes both.

Results: printed, written to bench/out/search-results.json and (table) to bench/SEARCH.md.
"""

from __future__ import annotations

import argparse
import datetime
import email
import io
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# bench/profile.py (someone else's) would shadow the standard library's profile module
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, str(_HERE))

import gen_corpus  # noqa: E402
from common import (  # noqa: E402
    ALL_YEARS,
    BENCH,
    LIST,
    OUT,
    cpu_jiffies,
    dir_size,
    log,
    mailarchive_bin,
    mbox_spans,
    measure,
    message_bytes,
    mib,
    other_cpu_share,
    read_span,
    tree_cpu_seconds,
    wait_quiet,
    write_json,
    write_maildir,
    yearly_mboxes,
)

SYSTEM_PYTHON = "/usr/bin/python3"
KINDS = ("rare word", "common word", "phrase", "from:", "date range", "combined")
P50_MS, P95_MS, IMPORT_RATE = 20.0, 100.0, 3000.0
QUIET = 40.0  # seconds each timing may wait for an idle second first (QUIET_BUDGET caps the sum)
PER_PAGE = [20]  # results per query, both tools: the web page's page size (set by --per-page)
ALPHA = re.compile(r"^[a-z]{3,20}$")
OPERATORS = {"and", "or", "not", "near", "adj", "xor"}  # query operators for notmuch (any case)

_NM_SERVER = r"""
import json, sys, time, notmuch2
from itertools import islice
db = notmuch2.Database(mode=notmuch2.Database.MODE.READ_ONLY)
limit = int(sys.argv[1])
for line in sys.stdin:
    q = json.loads(line)
    t, c = time.perf_counter(), time.thread_time()
    n, error = 0, None
    try:
        for th in islice(db.threads(q, sort=notmuch2.Database.SORT.NEWEST_FIRST), limit):
            th.authors; th.subject; th.last; th.matched
            n += 1
    except notmuch2.NotmuchError as exc:
        error = str(exc)
    out = {"t": time.perf_counter() - t, "cpu": time.thread_time() - c, "n": n, "error": error}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


# building -------------------------------------------------------------------------------------

def read_only(path: Path) -> Any:
    """A read-only connection through mailarchive's own SQLite (apsw): this process searches
    the same files through a Store, and two SQLite copies in one process break each other's
    locks."""
    from mailarchive.store import connect

    return connect(path, readonly=True)


def sqlite_version() -> str:
    import apsw

    return str(apsw.sqlite_lib_version())


def db_sizes(folder: Path) -> dict[str, float]:
    """Archive DB size and the FTS part (dbstat pages of the fts* tables), in MiB."""
    path = folder / "mailarchive.sqlite3"
    db = read_only(path)
    try:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        count = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        db.close()
    by = {name: size for name, size in rows}
    fts = sum(s for n, s in by.items() if n.startswith("fts"))
    raw = sum(s for n, s in by.items() if n == "raw")
    return {"messages": count, "db_mib": mib(sum(by.values())), "file_mib": mib(dir_size(folder)),
            "fts_mib": mib(fts), "raw_mib": mib(raw),
            "tables_mib": {n: round(mib(s), 1)
                           for n, s in sorted(by.items(), key=lambda x: -x[1])[:12]}}


def keeps_text_recipes(folder: Path) -> bool:
    """Whether every message of the archive has the text recipe an import now keeps."""
    db = read_only(folder / "mailarchive.sqlite3")
    try:
        columns = [row[1] for row in db.execute("PRAGMA table_info(messages)")]
        return "text_recipe" in columns and db.execute(
            "SELECT count(*) FROM messages WHERE text_recipe IS NULL").fetchone()[0] == 0
    finally:
        db.close()


def give_text_recipes(folder: Path) -> None:
    """Refresh a cached archive made before imports kept text recipes, as a user upgrades one."""
    if not keeps_text_recipes(folder):
        log(f"refreshing {folder}: its messages keep no text recipes")
        run = measure([mailarchive_bin(), "refresh", "--archive", str(folder)])
        if run.rc != 0:
            sys.exit(f"refresh failed: {run.stderr_tail}")


def build_archive(folder: Path, files: list[Path], fresh: bool) -> dict:
    done = folder.parent / f"{folder.name}.json"
    if done.exists() and (folder / "mailarchive.sqlite3").exists() and not fresh:
        log(f"reusing {folder}")
        give_text_recipes(folder)
        return json.loads(done.read_text())
    if folder.exists():
        shutil.rmtree(folder)
    log(f"importing {len(files)} files into {folder}")
    run = measure([mailarchive_bin(), "import", LIST, *map(str, files), "--archive", str(folder)],
                  log_to=OUT / f"{folder.name}-import.log")
    if run.rc != 0:
        sys.exit(f"import failed: {run.stderr_tail}")
    sizes = db_sizes(folder)
    info = {"files": [str(f) for f in files], "wall_s": round(run.wall, 1),
            "msgs_per_s": round(sizes["messages"] / run.wall, 1),
            "peak_rss_mib": run.peak_rss_mib, "other_cpu": run.other_cpu, **sizes}
    done.write_text(json.dumps(info, indent=1))
    log(f"imported {sizes['messages']} messages in {run.wall:.0f} s "
        f"({info['msgs_per_s']:.0f} msg/s); fts {sizes['fts_mib']:.0f} MiB")
    return info


def nm_env(folder: Path) -> dict[str, str]:
    cfg = OUT / "maildir.notmuch-config"
    cfg.write_text(f"[database]\npath={folder}\n[new]\ntags=\nignore=\n[search]\n"
                   "exclude_tags=\n[maildir]\nsynchronize_flags=false\n[user]\n"
                   "name=bench\nprimary_email=bench@example.invalid\n")
    return {"NOTMUCH_CONFIG": str(cfg)}


def build_notmuch(real: list[Path], fresh: bool) -> dict:
    folder = OUT / "maildir"
    done = OUT / "maildir.json"
    if done.exists() and (folder / ".notmuch").exists() and not fresh:
        log("reusing the notmuch database")
        return json.loads(done.read_text())
    spans = [s for path in real for s in mbox_spans(path)]
    log(f"writing a maildir of {len(spans)} messages (untimed)")
    write_maildir(spans, folder)
    log("notmuch new (timed)")
    run = measure(["notmuch", "new", "--quiet"], env=nm_env(folder),
                  log_to=OUT / "maildir-notmuch-new.log")
    if run.rc != 0:
        sys.exit(f"notmuch new failed: {run.stderr_tail}")
    count = int(subprocess.run(["notmuch", "count", "*"], env={**os.environ, **nm_env(folder)},
                               capture_output=True, text=True).stdout.strip() or 0)
    info = {"files": len(spans), "messages": count, "wall_s": round(run.wall, 1),
            "msgs_per_s": round(len(spans) / run.wall, 1),
            "xapian_mib": mib(dir_size(folder / ".notmuch" / "xapian")),
            "notmuch_dir_mib": mib(dir_size(folder / ".notmuch"))}
    done.write_text(json.dumps(info, indent=1))
    log(f"notmuch: {count} messages in {run.wall:.0f} s; xapian {info['xapian_mib']:.0f} MiB")
    return info


# queries --------------------------------------------------------------------------------------

def _surname(name: str) -> str | None:
    words = [w.lower() for w in re.findall(r"[A-Za-z]+", name)]
    words = [w for w in words if ALPHA.match(w) and w not in OPERATORS]
    return words[-1] if words else None


def _month_range(rng: random.Random, lo: int, hi: int) -> tuple[datetime.date, datetime.date]:
    """A random range of 1-3 whole months between two timestamps."""
    a = datetime.datetime.utcfromtimestamp(lo)
    b = datetime.datetime.utcfromtimestamp(hi)
    months = (b.year - a.year) * 12 + b.month - a.month
    k = rng.randrange(max(1, months - 2))
    y, m = divmod(a.year * 12 + a.month - 1 + k, 12)
    start = datetime.date(y, m + 1, 1)
    y2, m2 = divmod(y * 12 + m + rng.randint(1, 3), 12)
    end = datetime.date(y2, m2 + 1, 1) - datetime.timedelta(days=1)
    return start, end


def real_phrases(real: list[Path], n: int, rng: random.Random) -> list[str]:
    """Two adjacent words from the author's own lines of randomly chosen real messages."""
    spans = [s for path in real for s in mbox_spans(path)]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        msg = email.message_from_bytes(message_bytes(read_span(rng.choice(spans))))
        try:
            text = gen_corpus._text(msg)
        except Exception:
            continue
        lines = [ln for ln in text.splitlines()
                 if ln.strip() and not ln.startswith((">", "+", "-", " ", "\t", "@@", "diff"))]
        rng.shuffle(lines)
        for line in lines[:5]:
            words = line.lower().split()
            pairs = [(a, b) for a, b in zip(words, words[1:], strict=False)
                     if ALPHA.match(a) and ALPHA.match(b) and not {a, b} & OPERATORS]
            if pairs:
                a, b = rng.choice(pairs)
                if f"{a} {b}" not in seen:
                    seen.add(f"{a} {b}")
                    out.append(f'"{a} {b}"')
                break
    return out


def queries_file(folder: Path, n: int, seed: int) -> Path:
    """Where `query_sets` keeps the query sets it drew for an archive."""
    return folder.parent / f"{folder.name}-queries-{n}-{seed}.json"


def cached_queries(folder: Path, seed: int, n: int = 200) -> dict[str, list[str]]:
    """The query sets an earlier run drew for this archive (the modes that only time), with
    the archive brought up to date first."""
    give_text_recipes(folder)
    return json.loads(queries_file(folder, n, seed).read_text())


def one_kind_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options of the scripts that time one kind of the cached queries at 60k
    (`instructions.py`, `search_phases.py`)."""
    ap = argparse.ArgumentParser(description=doc,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    folder = OUT / "search-archive-60k"
    ap.add_argument("--archive", default=str(folder))
    ap.add_argument("--queries-file", default=str(queries_file(folder, 200, 1)))
    ap.add_argument("--kind", default="rare word")
    return ap


def query_sets(folder: Path, real: list[Path], n: int, seed: int) -> dict[str, list[str]]:
    """n queries of each kind, drawn from this archive's vocabulary, senders and dates."""
    cache = queries_file(folder, n, seed)
    if cache.exists():
        return json.loads(cache.read_text())
    log(f"drawing {n} queries of each kind from {folder.name}")
    rng = random.Random(seed)
    db = read_only(folder / "mailarchive.sqlite3")
    db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, 'fts', 'row')")
    vocab = [(t, d) for t, d in db.execute("SELECT term, doc FROM temp.vocab")
             if ALPHA.match(t) and t not in OPERATORS]
    total = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    # the 1st..99th percentile of dates (a few messages carry absurd dates)
    lo, hi = (db.execute("SELECT date FROM messages ORDER BY date LIMIT 1 OFFSET ?",
                         (int(total * f),)).fetchone()[0] for f in (0.01, 0.99))
    maxid = db.execute("SELECT max(id) FROM messages").fetchone()[0]
    rare_hi = max(3, total // 20000)  # at most ~0.005% of the messages (3 at 60k, 50 at 1M)
    rare = [t for t, d in vocab if 2 <= d <= rare_hi and len(t) >= 5]
    common = [t for t, d in sorted(vocab, key=lambda x: -x[1])[:300]]
    qs: dict[str, list[str]] = {"rare word": rng.sample(rare, min(n, len(rare))),
                                "common word": [rng.choice(common) for _ in range(n)]}
    qs["phrase"] = real_phrases(real, n, rng)

    def random_message() -> tuple[str, int, str]:
        while True:
            row = db.execute("SELECT from_name, from_addr, date, subject FROM messages "
                             "WHERE id = ?",
                             (rng.randint(1, maxid),)).fetchone()
            if row and row[2] > 0:
                name = _surname(row[0]) or _surname(row[1].split("@")[0])
                if name:
                    return name, row[2], row[3]
    qs["from:"] = [f"from:{random_message()[0]}" for _ in range(n)]
    qs["date range"] = []
    for _ in range(n):
        a, b = _month_range(rng, lo, hi)
        qs["date range"].append(f"date:{a.isoformat()}..{b.isoformat()}")
    combined = []
    while len(combined) < n:
        name, stamp, subject = random_message()
        words = [w for w in re.findall(r"[a-z]+", subject.lower())
                 if len(w) >= 4 and ALPHA.match(w) and w not in OPERATORS]
        if not words:
            continue
        year = datetime.datetime.utcfromtimestamp(stamp).year
        combined.append(f"{rng.choice(words)} from:{name} date:{year}-01-01..{year}-12-31")
    qs["combined"] = combined
    db.close()
    cache.write_text(json.dumps(qs, indent=1))
    return qs


# timing ---------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[max(0, math.ceil(p * len(s)) - 1)]


def warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


class _TimedCursor:
    def __init__(self, cur: Any, owner: _TimedDB, kind: str, start: float) -> None:
        self.cur, self.owner, self.kind, self.start = cur, owner, kind, start

    def _done(self, value: object) -> object:
        self.owner.spent[self.kind] += time.perf_counter() - self.start
        return value

    def fetchall(self) -> list:
        return self._done(self.cur.fetchall())  # type: ignore[return-value]

    def fetchone(self) -> object:
        return self._done(self.cur.fetchone())

    def __iter__(self):  # noqa: ANN204
        return iter(self.fetchall())  # type: ignore[arg-type]


class _TimedDB:
    """Stands in for Store.db: times each statement (execute + fetch) by its kind, so one run of
    search() gives the total, the rows statements (the ranking window's and the page's), the
    count(*) statement and the rest (snippets: reading and parsing the raw messages)."""

    def __init__(self, db: Any) -> None:
        self.db = db
        self.spent = {"rows": 0.0, "count": 0.0, "other": 0.0}

    def execute(self, sql: str, params: object = ()) -> _TimedCursor:
        kind = ("count" if sql.lstrip().startswith("SELECT count(") else
                "rows" if "LIMIT ? OFFSET ?" in sql or "rowid DESC" in sql else
                "other")
        start = time.perf_counter()
        return _TimedCursor(self.db.execute(sql, params), self, kind, start)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def forget_rankings(kept: Any) -> None:
    """Drop the rankings searches kept (a server has none for a query it has not seen); the
    archive's list of lists stays kept, as in a server that has answered any search before."""
    with kept.lock:
        for key in [key for key in kept.values if key[1:2] == ("ranking",)]:
            del kept.values[key]


class _MailarchiveTimer:
    """mailarchive's side: one query timed as served (the statement timer's own cost is not
    the search's), then once more through the timer for the split by statement."""

    def __init__(self, folder: Path, qs: dict[str, list[str]]) -> None:
        from mailarchive.search import service
        from mailarchive.search.kept import KEPT
        from mailarchive.store import Store

        self.service, self.kept = service, KEPT
        warm(folder / "mailarchive.sqlite3")
        self.store = Store(folder, create=False)
        self.store.map_for_reading()  # as the server's connections read
        for q in [q for queries in qs.values() for q in queries[-3:]]:  # warm-up, untimed
            service.search(self.store, q, per_page=PER_PAGE[0])
        self.real_db, self.timed = self.store.db, _TimedDB(self.store.db)

    def one(self, q: str, into: dict[str, list[float]]) -> None:
        forget_rankings(self.kept)  # none kept from an earlier query (common words repeat)
        t, c = time.perf_counter(), time.thread_time()
        res = self.service.search(self.store, q, per_page=PER_PAGE[0])
        into["full"].append(time.perf_counter() - t)
        into["cpu"].append(time.thread_time() - c)
        into["totals"].append(res.total)
        forget_rankings(self.kept)
        self.timed.spent = {"rows": 0.0, "count": 0.0, "other": 0.0}
        self.store.db = self.timed  # type: ignore[assignment]
        try:
            self.service.search(self.store, q, per_page=PER_PAGE[0])
        finally:
            self.store.db = self.real_db
        into["rows"].append(self.timed.spent["rows"])
        into["count"].append(self.timed.spent["count"])

    def close(self) -> None:
        self.store.close()


def _ma_summary(kind: str, t: dict[str, list[float]]) -> dict:
    sql_t = [a + b for a, b in zip(t["rows"], t["count"], strict=True)]
    log(f"  {kind}: n={len(t['full'])} p50 {pct(t['full'], .5) * 1e3:.1f} ms, "
        f"p95 {pct(t['full'], .95) * 1e3:.1f} ms (sql p50 {pct(sql_t, .5) * 1e3:.1f} ms, "
        f"count p50 {pct(t['count'], .5) * 1e3:.1f} ms)")
    return {"n": len(t["full"]), "sql": sql_t, **t}


def _empty() -> dict[str, list[float]]:
    return {"full": [], "cpu": [], "rows": [], "count": [], "totals": []}


def _nm_empty() -> dict[str, list]:
    return {"times": [], "cpu": [], "results": [], "errors": []}


def time_mailarchive(folder: Path, qs: dict[str, list[str]], budget: float) -> dict:
    timer, out = _MailarchiveTimer(folder, qs), {}
    for kind, queries in qs.items():
        t, start = _empty(), time.perf_counter()
        for q in queries:
            timer.one(q, t)
            if time.perf_counter() - start > budget:
                log(f"  {kind}: time budget spent after {len(t['full'])} queries")
                break
        out[kind] = _ma_summary(kind, t)
    timer.close()
    return out


def time_side_by_side(folder: Path, qs: dict[str, list[str]], budget: float
                      ) -> tuple[dict, dict]:
    """mailarchive and notmuch on the same queries, alternating query by query (each tool
    first every other time): the machine's speed drifts within minutes, and both then see
    the same drift. notmuch answers from a process of its own, timed inside it."""
    maildir = OUT / "maildir"
    for p in (maildir / ".notmuch" / "xapian").iterdir():
        if p.is_file():
            warm(p)
    server = subprocess.Popen([SYSTEM_PYTHON, "-c", _NM_SERVER, str(PER_PAGE[0])],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, **nm_env(maildir)})
    assert server.stdin is not None and server.stdout is not None
    stdin, stdout = server.stdin, server.stdout

    def nm_one(q: str, into: dict[str, list]) -> None:
        stdin.write(json.dumps(q) + "\n")
        stdin.flush()
        got = json.loads(stdout.readline())
        if got["error"] is not None:
            into["errors"].append([q, got["error"]])
            return
        into["times"].append(got["t"])
        into["cpu"].append(got["cpu"])
        into["results"].append(got["n"])

    timer, ma, nm = _MailarchiveTimer(folder, qs), {}, {}
    try:
        for q in [q for queries in qs.values() for q in queries[-3:]]:  # notmuch's warm-up
            nm_one(q, _nm_empty())
        for kind, queries in qs.items():
            t, n, start = _empty(), _nm_empty(), time.perf_counter()
            turns: list[tuple[Callable[[str, Any], None], dict]] = [(timer.one, t), (nm_one, n)]
            for i, q in enumerate(queries):
                for tool, into in turns if i % 2 == 0 else turns[::-1]:
                    tool(q, into)
                if time.perf_counter() - start > budget:
                    log(f"  {kind}: time budget spent after {len(t['full'])} queries")
                    break
            ma[kind], nm[kind] = _ma_summary(kind, t), n
            log(f"  {kind}: notmuch p50 {ms(pct(n['times'], .5))} ms "
                f"p95 {ms(pct(n['times'], .95))} ms")
    finally:
        timer.close()
        stdin.close()
        server.wait(timeout=60)
    return ma, nm


def with_load(run: Callable[[], dict], quiet: float = 0.0) -> tuple[dict, float]:
    """run()'s result, and the share of all cores other processes used meanwhile (0-1); first
    waits up to `quiet` seconds for an idle second (the machine is shared)."""
    if quiet:
        wait_quiet(quiet)
    busy0, _ = cpu_jiffies()
    cpu0, start = _all_cpu(), time.perf_counter()
    result = run()
    busy1, _ = cpu_jiffies()
    return result, round(other_cpu_share(busy0, busy1, _all_cpu() - cpu0,
                                         time.perf_counter() - start), 2)


def _all_cpu() -> float:
    """CPU seconds of this process and its finished children (the notmuch timer)."""
    import resource
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def profile_queries(folder: Path, qs: dict[str, list[str]]) -> dict:
    """EXPLAIN QUERY PLAN for one query of each kind, and a cProfile of the slowest kind."""
    from mailarchive.search import service
    from mailarchive.search.fts5 import plan
    from mailarchive.search.query import parse_query
    from mailarchive.store import Store

    store = Store(folder, create=False)
    by_name, _ = service._lists(store)
    plans = {}
    for kind, queries in qs.items():
        body, score, params = service._sql(plan(parse_query(queries[0]), by_name), by_name, None)
        sql = (f"SELECT {service.MESSAGE_COLUMNS}, {score} AS score, 1 {body} "
               "ORDER BY score, m.date DESC LIMIT ? OFFSET ?")
        eqp = store.db.execute("EXPLAIN QUERY PLAN " + sql, (*params, 50, 0)).fetchall()
        plans[kind] = {"query": queries[0], "plan": [r[-1] for r in eqp]}
    prof = cProfile.Profile()
    prof.enable()
    for q in qs["common word"][:10]:
        service.search(store, q, per_page=PER_PAGE[0])
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(18)
    store.close()
    return {"plans": plans, "cprofile_common_word_10": buf.getvalue()}


def pages_in_process(folder: Path, qs: dict[str, list[str]]) -> str:
    """What a server process does for each of the wrk run's distinct queries (the search and
    its page), timed in this process: steadier than wrk on a shared machine, for comparing two
    versions of the code in turn (`PYTHONPATH=/other/src`)."""
    from mailarchive.render import SEARCHABLE, compile_templates
    from mailarchive.store import Store
    from mailarchive.web_search import BadRequest, Params, run, search_html

    compile_templates()
    SEARCHABLE.set(True)
    store = Store(folder, create=False)
    spent: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for group in zip(*[[(kind, q) for q in qs[kind]] for kind in KINDS], strict=False):
        for kind, q in group:
            params = Params(q, None, "relevance", False, 1)
            started = time.perf_counter()
            try:
                search_html(store, params, results=run(store, params))
            except BadRequest:
                continue
            spent[kind].append(time.perf_counter() - started)
    store.close()
    every = [t for times in spent.values() for t in times]
    lines = [f"mean {sum(every) / len(every) * 1e3:.2f} ms a page over {len(every)} queries"]
    lines += [f"  {kind:12} {sum(t) / len(t) * 1e3:6.2f} ms" for kind, t in spent.items() if t]
    return "\n".join(lines)


def diagnose(folder: Path, qs: dict[str, list[str]], n: int = 25) -> dict:
    """Median ms of today's statements against cheaper alternatives (proposals for
    src/mailarchive/search/), on the first n queries of the slow kinds."""
    from mailarchive.search import service
    from mailarchive.search.fts5 import plan
    from mailarchive.search.query import parse_query
    from mailarchive.search.ranking import bm25_call
    from mailarchive.store import Store

    store = Store(folder, create=False)
    db = store.db
    by_name, _ = service._lists(store)

    def run(sql: str, params: object) -> tuple[float, list]:
        t = time.perf_counter()
        rows = db.execute(sql, params).fetchall()  # type: ignore[arg-type]
        return (time.perf_counter() - t) * 1e3, rows

    def med(values: list[float]) -> float:
        return round(pct(values, .5) or 0.0, 2)

    out: dict[str, dict] = {}
    for kind in ("common word", "from:", "phrase"):
        col: dict[str, list[float]] = {k: [] for k in (
            "rows_now", "rows_fts_top500_then_join", "bm25_newest_5000_rowids", "count_now",
            "count_fts_only", "count_capped_1001")}
        same = 0
        for q in qs[kind][:n]:
            body, score, params = service._sql(plan(parse_query(q), by_name), by_name, None)
            match = params[0]
            a, ra = run(f"SELECT m.id, {score} AS score {body} ORDER BY score, m.date DESC "
                        "LIMIT 50", params)
            now = service.today()  # the "now" of the ranking compared against
            b, rb = run(f"WITH top AS (SELECT rowid AS id, {bm25_call()} AS s FROM fts "
                        "WHERE fts MATCH ? ORDER BY s LIMIT 500) SELECT m.id, top.s * (1.0 + 0.25 "
                        f"/ (1.0 + max(0, {now} - m.date) / 31557600.0)) AS score FROM top JOIN "
                        "messages m ON m.id = top.id WHERE m.removed IS NULL "
                        "ORDER BY score, m.date DESC LIMIT 50", (match,))
            same += [r[0] for r in ra] == [r[0] for r in rb]
            col["rows_now"].append(a)
            col["rows_fts_top500_then_join"].append(b)
            col["bm25_newest_5000_rowids"].append(run(
                f"SELECT rowid, {bm25_call()} FROM fts WHERE fts MATCH ? "
                "ORDER BY rowid DESC LIMIT 5000", (match,))[0])
            col["count_now"].append(run(f"SELECT count(*) {body}", params)[0])
            col["count_fts_only"].append(run("SELECT count(*) FROM fts WHERE fts MATCH ?",
                                             (match,))[0])
            col["count_capped_1001"].append(run(
                "SELECT count(*) FROM (SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1001)",
                (match,))[0])
        out[kind] = {k: med(v) for k, v in col.items()}
        out[kind]["top50_identical_two_stage"] = f"{same}/{min(n, len(qs[kind]))}"
    col = {k: [] for k in ("rows_now", "rows_list_date_index", "count_now",
                           "count_list_date_index")}
    same = 0
    for q in qs["date range"][:n]:
        body, score, params = service._sql(plan(parse_query(q), by_name), by_name, None)
        where = ("FROM messages m WHERE m.list_id IN (SELECT id FROM lists) AND m.date >= ? "
                 "AND m.date < ? AND m.removed IS NULL")
        a, ra = run(f"SELECT m.id {body} ORDER BY {score}, m.date DESC LIMIT 50", params)
        b, rb = run(f"SELECT m.id {where} ORDER BY m.date DESC, m.id DESC LIMIT 50", params)
        same += [r[0] for r in ra] == [r[0] for r in rb]
        col["rows_now"].append(a)
        col["rows_list_date_index"].append(b)
        col["count_now"].append(run(f"SELECT count(*) {body}", params)[0])
        col["count_list_date_index"].append(run(f"SELECT count(*) {where}", params)[0])
    out["date range"] = {k: med(v) for k, v in col.items()}
    out["date range"]["top50_identical"] = f"{same}/{min(n, len(qs['date range']))} (ties)"
    store.close()
    return out


# web ------------------------------------------------------------------------------------------

def wrk_search(folder: Path, qs: dict[str, list[str]]) -> dict:
    """/search with wrk (if the web app has such a route)."""
    if not shutil.which("wrk"):
        return {"note": "wrk not installed"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # what a user runs: `serve` with its defaults (one process per core), no page warming
    server = subprocess.Popen([mailarchive_bin(), "serve", "--host", "127.0.0.1", "--port",
                               str(port), "--archive", str(folder), "--no-warm"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/", timeout=2).read()
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.1)
        route = None
        for path in ("/search?q=kernel", f"/{LIST}/search?q=kernel", "/api/search?q=kernel"):
            try:
                urllib.request.urlopen(base + path, timeout=30).read()
                route = path.split("?")[0]
                break
            except urllib.error.HTTPError:
                continue
        if route is None:
            return {"note": "the web app has no /search route yet (tried /search, "
                            f"/{LIST}/search, /api/search): not measured"}
        typical = qs["rare word"][:20] + qs["phrase"][:20] + qs["from:"][:20] + qs["combined"][:20]
        # every query once (interleaved kinds, so a short run sees them all): what a cold server
        # does; then the 80 typical ones over and over, what a server with popular queries does
        distinct = [q for group in zip(*(qs[k] for k in KINDS), strict=False) for q in group]
        out = {"route": route}
        # wrk's two threads take turns through the list (each its own Lua state: with one
        # counter each, both would ask for every query); 3 s of distinct queries stay within
        # the 1,200 below 400 req/s, and the report says if a run went round (then repeats)
        for name, queries, seconds in (("distinct", distinct, 3), ("repeated", typical, 20)):
            lua = OUT / f"wrk-search-{name}.lua"
            paths = [route + "?q=" + urllib.parse.quote(q) for q in queries]
            lua.write_text("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
                           "local made = 0\n"
                           "function setup(thread) thread:set('id', made); made = made + 1 end\n"
                           "function init(args) i = id end\n"
                           "request = function()\n local path = paths[i % #paths + 1]\n"
                           " i = i + 2\n return wrk.format('GET', path)\nend\n")
            wait_quiet(QUIET)
            busy0, _ = cpu_jiffies()
            cpu0, start = tree_cpu_seconds(server.pid), time.perf_counter()
            text = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "-s", str(lua), base],
                                  capture_output=True, text=True).stdout
            busy1, _ = cpu_jiffies()
            ours = tree_cpu_seconds(server.pid) - cpu0
            rps = re.search(r"Requests/sec:\s+([0-9.]+)", text)
            count = re.search(r"(\d+) requests in", text)
            out[name] = {"rps": float(rps.group(1)) if rps else None, "queries": len(paths),
                         "requests": int(count.group(1)) if count else None, "seconds": seconds,
                         "other_cpu": round(other_cpu_share(
                             busy0, busy1, ours, time.perf_counter() - start), 2),
                         "wrk": text}
        out["rps"] = out["repeated"]["rps"]
        return out
    finally:
        server.terminate()
        server.wait()


# report ---------------------------------------------------------------------------------------

def ms(x: float | None) -> str:
    return "-" if x is None else f"{x * 1e3:.1f}"


def table(big: dict | None, small: dict, nm: dict | None) -> list[str]:
    lines = ["| kind | n (1M / 60k / nm) | 1M full p50 / p95 ms (CPU p50) | 1M SQL p50 / p95 "
             "| 1M count(*) p50 "
             "| 1M target (p50<20, p95<100) | 60k full p50 / p95 (CPU p50) | 60k SQL p50 / p95 "
             "| notmuch 60k p50 / p95 (CPU p50) | ratio p50 ma/nm full (SQL) [CPU] | vs notmuch |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for kind in KINDS:
        b = big.get(kind) if big else None
        s = small[kind]
        n = nm.get(kind) if nm else None
        cell_b = cell_sql = cell_cnt = target = "-"
        if b:
            p50, p95 = pct(b["full"], .5), pct(b["full"], .95)
            cpu = f" ({ms(pct(b['cpu'], .5))})" if "cpu" in b else ""
            cell_b = f"{ms(p50)} / {ms(p95)}{cpu}"
            cell_sql = f"{ms(pct(b['sql'], .5))} / {ms(pct(b['sql'], .95))}"
            cell_cnt = ms(pct(b["count"], .5))
            ok = p50 * 1e3 < P50_MS and p95 * 1e3 < P95_MS and b["n"] >= 200
            target = "PASS" if ok else "FAIL"
        cpu_s = f" ({ms(pct(s['cpu'], .5))})" if "cpu" in s else ""
        cell_s = f"{ms(pct(s['full'], .5))} / {ms(pct(s['full'], .95))}{cpu_s}"
        cell_ssql = f"{ms(pct(s['sql'], .5))} / {ms(pct(s['sql'], .95))}"
        cell_n = ratio = verdict = "-"
        if n and n["times"]:
            cpu_n = f" ({ms(pct(n['cpu'], .5))})" if n.get("cpu") else ""
            cell_n = f"{ms(pct(n['times'], .5))} / {ms(pct(n['times'], .95))}{cpu_n}"
            r = pct(s["full"], .5) / pct(n["times"], .5)
            r_sql = pct(s["sql"], .5) / pct(n["times"], .5)
            ratio = f"{r:.2f} ({r_sql:.2f})"
            if n.get("cpu") and "cpu" in s:
                ratio += f" [{pct(s['cpu'], .5) / pct(n['cpu'], .5):.2f}]"
            verdict = "PASS" if r <= 1.0 else "FAIL"
        nn = f"{b['n'] if b else '-'} / {s['n']} / {len(n['times']) if n else '-'}"
        lines.append(f"| {kind} | {nn} | {cell_b} | {cell_sql} | {cell_cnt} | {target} | {cell_s} "
                     f"| {cell_ssql} | {cell_n} | {ratio} | {verdict} |")
    return lines


def summary_lines(results: dict) -> list[str]:
    small_info, big_info = results["import_60k"], results["import_1m"]
    nm_info, web = results["notmuch_60k"], results.get("web")
    info = big_info or small_info
    lines = [
        f"- import ({info['messages']} messages): {info['wall_s']} s = "
        f"**{info['msgs_per_s']:.0f} msg/s** (target ≥ {IMPORT_RATE:.0f}: "
        f"{'PASS' if info['msgs_per_s'] >= IMPORT_RATE else 'FAIL'}); at 60k: "
        f"{small_info['msgs_per_s']:.0f} msg/s (other processes' share of the CPU meanwhile: "
        f"{(info.get('other_cpu') or 0) * 100:.0f}% / "
        f"{(small_info.get('other_cpu') or 0) * 100:.0f}%)",
        f"- archive DB at {info['messages']}: {info['db_mib']:.0f} MiB, of which FTS (fts*) "
        f"**{info['fts_mib']:.0f} MiB**, raw {info['raw_mib']:.0f} MiB; at 60k: DB "
        f"{small_info['db_mib']:.0f} MiB, FTS **{small_info['fts_mib']:.0f} MiB**",
    ]
    if nm_info:
        r60 = small_info["fts_mib"] / nm_info["xapian_mib"]
        lines.append(
            f"- notmuch at 60k ({nm_info['messages']} messages): "
            f"`notmuch new` {nm_info['wall_s']} s "
            f"({nm_info['msgs_per_s']:.0f} msg/s), Xapian **{nm_info['xapian_mib']:.0f} MiB**; "
            f"FTS/Xapian = **{r60:.2f}** (target ≤ 0.5: {'PASS' if r60 <= 0.5 else 'FAIL'})")
        if big_info:
            est = nm_info["xapian_mib"] * big_info["messages"] / nm_info["messages"]
            lines.append(
                f"- at 1M, against notmuch extrapolated linearly from 60k ({est:.0f} MiB, not "
                f"measured): FTS/Xapian ≈ {big_info['fts_mib'] / est:.2f}")
    load = results.get("load")
    if load:
        lines.append("- other processes' share of the CPU during the latency timings (2 shared "
                     "cores): " + ", ".join(f"{k} {v * 100:.0f}%" for k, v in load.items()))
    return lines + web_lines(web)


def web_lines(web: dict | None) -> list[str]:
    if not web:
        return []
    lines = ["- /search with wrk -t2 -c8 (`mailarchive serve`, one process per core): "
             f"{web.get('note', '')}"]
    for name, label in (("distinct", "every query different (nothing kept helps)"),
                        ("repeated", "80 typical queries (rare, phrase, from:, combined) "
                                     "over and over (kept result pages answer)")):
        run = web.get(name)
        if run and run.get("rps"):
            verdict = "PASS" if run["rps"] >= 200 else "FAIL"
            wrapped = (" — it went round the list, so some were repeats"
                       if name == "distinct" and (run["requests"] or 0) > run["queries"] else "")
            lines.append(f"  - {label}: **{run['rps']:.0f} req/s** (target ≥ 200: {verdict}; "
                         f"{run['requests']} requests of {run['queries']} queries in "
                         f"{run['seconds']} s{wrapped}; other processes' share of the CPU "
                         f"{run['other_cpu'] * 100:.0f}%)")
    return lines


def report(results: dict) -> None:
    rows = table(results["mailarchive_1m"], results["mailarchive_60k"],
                 results["notmuch_times_60k"])
    size_lines = summary_lines(results)
    diag = results.get("diagnosis_1m")
    if diag:
        rows = [*rows, "", "Diagnosis at 1M (median ms over 25 queries; the first round's "
                "statements and the alternatives it considered):", "",
                "| kind | " + " | ".join(diag["common word"]) + " |",
                "|---" * (len(diag["common word"]) + 1) + "|"]
        rows += [f"| {k} | " + " | ".join(str(v) for v in diag[k].values()) + " |"
                 for k in ("common word", "from:", "phrase")]
        rows += ["", "| date range | " + " | ".join(diag["date range"]) + " |",
                 "|---" * (len(diag["date range"]) + 1) + "|",
                 "| | " + " | ".join(str(v) for v in diag["date range"].values()) + " |"]
    results["table"], results["summary"] = rows, size_lines
    write_json(OUT / "search-results.json", results)
    print("\n".join(size_lines))
    print()
    print("\n".join(rows))
    write_report(rows, size_lines, results)


def quick(args: argparse.Namespace) -> None:
    """Latency only, on the cached archives: for comparing a change before/after."""
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    folders = {"1m": OUT / "search-archive", "60k": OUT / "search-archive-60k"}
    for size in args.sizes.split(","):
        folder = folders[size.strip()]
        cached = cached_queries(folder, args.seed)
        qs = {k: cached[k][:args.queries] for k in kinds}
        times, other = with_load(partial(time_mailarchive, folder, qs, args.budget))
        print(f"{size}: other processes' share of the CPU meanwhile {other * 100:.0f}%")
        for kind, t in times.items():
            rest = [a - b for a, b in zip(t["full"], t["sql"], strict=True)]
            print(f"  {kind:12} n={t['n']:3} full p50 {ms(pct(t['full'], .5))} "
                  f"p95 {ms(pct(t['full'], .95))} (cpu p50 {ms(pct(t['cpu'], .5))}) "
                  f"| rows p50 {ms(pct(t['rows'], .5))} "
                  f"count p50 {ms(pct(t['count'], .5))} rest p50 {ms(pct(rest, .5))} "
                  f"p95 {ms(pct(rest, .95))}")


def against_notmuch(args: argparse.Namespace) -> str:
    """The side-by-side timing of some kinds at 60k, repeated: one run's p50 ratio moves by
    10-40% with the machine, so a change is judged on several."""
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    cached = cached_queries(OUT / "search-archive-60k", args.seed)
    qs = {k: cached[k][:args.queries] for k in kinds}
    ratios: dict[str, list[float]] = {k: [] for k in kinds}
    for run in range(args.against_notmuch):
        ma, nm = time_side_by_side(OUT / "search-archive-60k", qs, args.budget)
        for kind in kinds:
            mine, theirs = pct(ma[kind]["full"], .5), pct(nm[kind]["times"], .5)
            if mine is not None and theirs:
                ratios[kind].append(mine / theirs)
                log(f"run {run + 1}: {kind}: {mine * 1e3:.3f} against {theirs * 1e3:.3f} ms "
                    f"p50, ratio {mine / theirs:.2f}")
    return "\n".join(f"{kind}: p50 ratios {', '.join(f'{r:.2f}' for r in sorted(found))}; "
                     f"median {pct(found, .5):.2f}" for kind, found in ratios.items() if found)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gen", type=int, default=940_000, help="generated messages (0: real only)")
    ap.add_argument("--queries", type=int, default=200, help="queries of each kind")
    ap.add_argument("--budget", type=float, default=400.0,
                    help="seconds per kind and archive at most (then the kind stops early)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-page", type=int, default=20,
                    help="results read per query, mailarchive and notmuch alike")
    ap.add_argument("--fresh", action="store_true", help="rebuild archives and notmuch db")
    ap.add_argument("--no-notmuch", action="store_true")
    ap.add_argument("--no-wrk", action="store_true")
    ap.add_argument("--diagnose", action="store_true",
                    help="only time the alternative statements at 1M (and re-render)")
    ap.add_argument("--report", action="store_true",
                    help="only re-render the table from bench/out/search-results.json")
    ap.add_argument("--quick", action="store_true",
                    help="only time mailarchive on the cached archives and query sets (first "
                         "--queries of each kind), print, write nothing")
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help="with --quick: comma-separated kinds (default: all)")
    ap.add_argument("--sizes", default="1m,60k", help="with --quick: archives, of 1m,60k")
    ap.add_argument("--wrk-only", action="store_true",
                    help="only the /search wrk runs on the cached 1M archive, printed")
    ap.add_argument("--against-notmuch", type=int, default=0, metavar="N",
                    help="only the side-by-side timing at 60k, N times over (--kinds; e.g. "
                         "--kinds 'rare word'): each run's p50 ratio, printed")
    ap.add_argument("--pages-in-process", action="store_true",
                    help="the wrk run's distinct queries as search pages in this process (no "
                         "HTTP, one core): mean ms a page by kind, printed")
    args = ap.parse_args()
    PER_PAGE[0] = args.per_page
    if args.pages_in_process:
        qs = cached_queries(OUT / "search-archive", args.seed)
        print(pages_in_process(OUT / "search-archive", qs))
        return
    if args.against_notmuch:
        print(against_notmuch(args))
        return
    if args.wrk_only:
        qs = cached_queries(OUT / "search-archive", args.seed)
        web = wrk_search(OUT / "search-archive", qs)
        print("\n".join(web_lines(web)))
        return
    if args.quick:
        quick(args)
        return
    if args.report or args.diagnose:
        results = json.loads((OUT / "search-results.json").read_text())
        if args.diagnose:
            qs = cached_queries(OUT / "search-archive", args.seed, args.queries)
            results["diagnosis_1m"] = diagnose(OUT / "search-archive", qs)
        report(results)
        return
    t0 = time.time()
    real = yearly_mboxes(ALL_YEARS)
    gen = gen_corpus.generate(args.gen, 100_000, args.seed, os.cpu_count() or 2) if args.gen else []
    small_info = build_archive(OUT / "search-archive-60k", real, args.fresh)
    big_info = build_archive(OUT / "search-archive", real + gen, args.fresh) if gen else None
    nm_info = None if args.no_notmuch else build_notmuch(real, args.fresh)

    results: dict = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                     "command": " ".join(["bench/search_bench.py", *sys.argv[1:]]),
                     "sqlite": sqlite_version(), "cores": os.cpu_count(),
                     "import_60k": small_info, "import_1m": big_info, "notmuch_60k": nm_info}
    qs_small = query_sets(OUT / "search-archive-60k", real, args.queries, args.seed)
    nm = None
    if nm_info:
        log("timing mailarchive and notmuch at 60k, query by query in turn")
        (small, nm), load_small = with_load(lambda: time_side_by_side(
            OUT / "search-archive-60k", qs_small, args.budget), QUIET)
    else:
        log("timing mailarchive at 60k")
        small, load_small = with_load(lambda: time_mailarchive(
            OUT / "search-archive-60k", qs_small, args.budget), QUIET)
    results["load"] = {"60k (with notmuch)" if nm else "60k": load_small}
    big = qs_big = None
    if big_info:
        qs_big = query_sets(OUT / "search-archive", real, args.queries, args.seed)
        log("timing mailarchive at 1M")
        big, results["load"]["1m"] = with_load(lambda: time_mailarchive(
            OUT / "search-archive", qs_big, args.budget), QUIET)
        results["profile_1m"] = profile_queries(OUT / "search-archive", qs_big)
        results["diagnosis_1m"] = diagnose(OUT / "search-archive", qs_big)
    web = None
    if not args.no_wrk:
        log("wrk on /search")
        web = wrk_search(OUT / "search-archive" if big_info else OUT / "search-archive-60k",
                         qs_big or qs_small)
    results.update({"queries_60k": qs_small, "queries_1m": qs_big, "mailarchive_60k": small,
                    "mailarchive_1m": big, "notmuch_times_60k": nm, "web": web})

    results["total_seconds"] = round(time.time() - t0)
    report(results)
    log(f"done in {time.time() - t0:.0f} s")


def write_report(rows: list[str], size_lines: list[str], results: dict) -> None:
    """Replace the results section of bench/SEARCH.md (between the markers)."""
    md = BENCH / "SEARCH.md"
    text = (md.read_text() if md.exists()
            else "# Search benchmark\n\n<!-- results -->\n<!-- /results -->\n")
    block = ["<!-- results -->", f"Run {results['date']}: `{results['command']}` "
             f"({results['total_seconds']} s, SQLite {results['sqlite']}, "
             f"{results['cores']} cores).",
             "", *size_lines, "", *rows, "", "<!-- /results -->"]
    if "<!-- results -->" in text:
        head, rest = text.split("<!-- results -->", 1)
        tail = rest.split("<!-- /results -->", 1)[1] if "<!-- /results -->" in rest else ""
        text = head + "\n".join(block) + tail
    else:
        text += "\n" + "\n".join(block) + "\n"
    md.write_text(text)


if __name__ == "__main__":
    main()
