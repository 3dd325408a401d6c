#!/usr/bin/env python3
"""Benchmark mailarchive against MHonArc, public-inbox and notmuch on the same mbox.

    .venv/bin/python bench/run.py                      # the whole corpus (1996-2015)
    .venv/bin/python bench/run.py --years 2000-2003    # a subset
    .venv/bin/python bench/run.py --tasks import,incremental --peers mhonarc

Standard library only. Work files go to bench/out/ (git-ignored); the results table is printed and
written to bench/out/results.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import smtplib
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    LIST,
    OUT,
    QUIET_BUDGET,
    QUIET_WAIT,
    Run,
    Span,
    command_exists,
    cpu_jiffies,
    dir_size,
    log,
    mailarchive_bin,
    mbox_spans,
    measure,
    median,
    message_bytes,
    mib,
    other_cpu_share,
    parse_years,
    read_span,
    remove_tree,
    settle,
    sha256_files,
    tree_cpu_seconds,
    wait_for_freed_inodes,
    write_json,
    write_maildir,
    write_spans,
    yearly_mboxes,
    years_label,
)

TASKS = ("import", "export", "serve", "memory", "incremental", "size", "roundtrip")
PEERS = ("mhonarc", "public-inbox", "notmuch")
PEER_BINS = {"mhonarc": "mhonarc", "public-inbox": "public-inbox-init", "notmuch": "notmuch"}
MEMORY_POINTS = (10_000, 30_000)
SMALL = 1_000
LMTP_SAMPLES = 45  # deliveries into each archive for the LMTP add-one rows (of the held-out mail)

# targets (see bench/README.md)
IMPORT_VS_MHONARC = 3.0
IMPORT_RATE = 3000.0
PEAK_MEMORY_MIB = 500.0
EXPORT_VS_MHONARC = 3.0
ADD_ONE_MS = 50.0
ADD_ONE_TOLERANCE = 1.10  # "not slower at N than at 1k": big median <= 1.10 x small median
MSG_PAGE_RPS = 1000.0
MONTH_PAGE_RPS = 300.0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.years = parse_years(args.years)
        self.label = years_label(self.years)
        self.ma = mailarchive_bin()
        self.sel = OUT / f"sel-{self.label}"
        self.work = OUT / f"run-{self.label}"
        self.logs = self.work / "logs"
        self.rows: list[dict[str, object]] = []
        self.results: dict[str, object] = {}
        self.targets: list[dict[str, object]] = []
        self.peers = [p for p in args.peers.split(",") if p] if args.peers != "none" else []
        self.tasks = [t for t in args.tasks.split(",") if t]
        for name in self.tasks:
            if name not in TASKS:
                sys.exit(f"unknown task {name!r}; tasks: {','.join(TASKS)}")
        for name in self.peers:
            if name not in PEERS:
                sys.exit(f"unknown peer {name!r}; peers: {','.join(PEERS)}")
        self.missing_peers = [p for p in self.peers if not shutil.which(PEER_BINS[p])]
        self.peers = [p for p in self.peers if p not in self.missing_peers]
        self.ma_ready = False  # the full archive holds exactly main.mbox
        self.pi_env = {"PI_CONFIG": str(self.work / "pi-config"),
                       "GIT_COMMITTER_NAME": "bench",
                       "GIT_COMMITTER_EMAIL": "bench@example.invalid",
                       "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid"}

    # preparing ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        # byte code as a regular install has it (this machine sets PYTHONDONTWRITEBYTECODE)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(BENCH.parent / "src")],
                       check=True, stdout=subprocess.DEVNULL)
        self.files = yearly_mboxes(self.years)
        spans: list[Span] = []
        for path in self.files:
            spans.extend(mbox_spans(path))
        self.spans = spans
        total = len(spans)
        self.held_n = min(self.args.held, max(5, total // 20))
        self.main_spans, self.held_spans = spans[:-self.held_n], spans[-self.held_n:]
        self.n_main = len(self.main_spans)
        self.small = min(SMALL, self.n_main // 2)  # the "small archive" of the add-one test
        self.sel.mkdir(parents=True, exist_ok=True)
        stamp = self.sel / "stamp"
        key = f"{total} {self.held_n} {[p.stat().st_size for p in self.files]}"
        self.main = self.sel / "main.mbox"
        self.held = self.sel / "held.mbox"
        self.raw_size = sum(s.end - s.start for s in self.main_spans)
        if not (stamp.exists() and stamp.read_text() == key):
            log(f"writing the selection {self.label}: {total} messages, {self.held_n} held out")
            write_spans(self.main_spans, self.main)
            write_spans(self.held_spans, self.held)
            for n in (self.small, *MEMORY_POINTS):
                if n < self.n_main:
                    write_spans(self.main_spans[:n], self.sel / f"head-{n}.mbox")
            stamp.write_text(key)
        for k, span in enumerate(self.held_spans[: self.args.add_one], 1):
            if not (self.sel / f"held-{k}.eml").exists():  # a cached selection, more asked
                write_spans([span], self.sel / f"held-{k}.mbox")
                (self.sel / f"held-{k}.eml").write_bytes(message_bytes(read_span(span)))
        if self.work.exists():
            log(f"removing the previous run's work folder {self.work}")
            remove_tree(self.work)
        self.results["waited_for_freed_inodes_s"] = round(wait_for_freed_inodes(), 1)
        self.logs.mkdir(parents=True)
        self.results["corpus"] = {
            "years": self.label, "files": [p.name for p in self.files], "messages": total,
            "main_messages": self.n_main, "held_out": self.held_n,
            "main_mbox_mib": round(mib(self.raw_size) or 0, 1),
        }

    # helpers ----------------------------------------------------------------------------------

    def row(self, tool: str, task: str, messages: int | None, run: Run | None,
            output: int | None = None, note: str = "", wall: float | None = None,
            rate: bool = True) -> dict:
        w = wall if wall is not None else (run.wall if run else None)
        row = {
            "tool": tool, "task": task, "messages": messages,
            "wall_s": round(w, 3) if w is not None else None,
            "msgs_per_s": round(messages / w, 1) if (messages and w and rate) else None,
            "peak_rss_mib": round(run.peak_rss_mib, 1) if run and run.peak_rss_mib else None,
            "tree_pss_mib": round(run.tree_pss_mib, 1) if run and run.tree_pss_mib else None,
            "output_mib": round(mib(output) or 0, 1) if output is not None else None,
            "other_cpu_pct": round(run.other_cpu * 100) if run and run.other_cpu is not None
            else None,
            "cpu_s": round(run.cpu_s, 1) if run and run.cpu_s is not None else None,
            "note": note,
        }
        self.rows.append(row)
        return row

    def unavailable(self, tool: str, task: str, why: str) -> None:
        self.rows.append({"tool": tool, "task": task, "messages": None, "wall_s": None,
                          "msgs_per_s": None, "peak_rss_mib": None, "tree_pss_mib": None,
                          "output_mib": None, "note": why})

    def check(self, run: Run, what: str) -> None:
        if run.rc != 0:
            sys.exit(f"{what} failed (exit {run.rc}): {' '.join(run.argv)}\n{run.stderr_tail}")

    def ma_import(self, archive: Path, source: Path | str, name: str,
                  stdin: Path | None = None, sample: bool = True) -> tuple[Run, int]:
        argv = [self.ma, "import", LIST, str(source), "--archive", str(archive)]
        run = measure(argv, stdin=stdin, log_to=self.logs / f"{name}.log", sample=sample)
        self.check(run, f"mailarchive import ({name})")
        match = re.search(r"added (\d+)", run.stdout)
        return run, int(match.group(1)) if match else -1

    def ensure_ma(self) -> Path:
        archive = self.work / "ma"
        if not self.ma_ready:
            log("importing main.mbox into mailarchive (untimed: the import task did not run)")
            self.ma_import(archive, self.main, "ma-import-untimed")
            self.ma_ready = True
        return archive

    def db_query(self, archive: Path, sql: str, params: tuple = ()) -> list[tuple]:
        db = sqlite3.connect(f"file:{archive / 'mailarchive.sqlite3'}?mode=ro", uri=True)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def pi_init(self, name: str, folder: Path) -> None:
        subprocess.run(["public-inbox-init", "-V2", "-L", "full", name, str(folder),
                        f"http://127.0.0.1/{name}", f"{name}@example.invalid"],
                       env={**os.environ, **self.pi_env}, check=True,
                       stdout=subprocess.DEVNULL)

    def pi_import(self, name: str, mbox: Path, log_name: str, sample: bool = True) -> Run:
        run = measure(["perl", str(BENCH / "pi_import.pl"), name, str(mbox)], env=self.pi_env,
                      log_to=self.logs / f"{log_name}.log", sample=sample)
        self.check(run, f"public-inbox import ({log_name})")
        return run

    def pi_count(self, folder: Path) -> int:
        db = sqlite3.connect(f"file:{folder / 'msgmap.sqlite3'}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM msgmap").fetchone()[0])
        finally:
            db.close()

    def nm_config(self, folder: Path) -> dict[str, str]:
        cfg = folder.parent / f"{folder.name}.notmuch-config"
        cfg.write_text(f"[database]\npath={folder}\n[new]\ntags=\nignore=\n[search]\n"
                       "exclude_tags=\n[maildir]\nsynchronize_flags=false\n[user]\n"
                       "name=bench\nprimary_email=bench@example.invalid\n")
        return {"NOTMUCH_CONFIG": str(cfg)}

    def nm_new(self, folder: Path, log_name: str, sample: bool = True) -> Run:
        run = measure(["notmuch", "new", "--quiet"], env=self.nm_config(folder),
                      log_to=self.logs / f"{log_name}.log", sample=sample)
        self.check(run, f"notmuch new ({log_name})")
        return run

    def nm_count(self, folder: Path) -> int:
        out = subprocess.run(["notmuch", "count", "*"], env={**os.environ,
                             **self.nm_config(folder)}, capture_output=True, text=True)
        return int(out.stdout.strip() or 0)

    def mh_convert(self, folder: Path, mbox: Path, log_name: str, add: bool = False,
                   sample: bool = True) -> Run:
        folder.mkdir(parents=True, exist_ok=True)
        argv = ["mhonarc", *(["-add"] if add else []), "-outdir", str(folder), "-quiet",
                str(mbox)]
        run = measure(argv, log_to=self.logs / f"{log_name}.log", sample=sample)
        self.check(run, f"mhonarc ({log_name})")
        return run

    @staticmethod
    def mh_count(folder: Path) -> int:
        return sum(1 for p in folder.glob("msg*.html"))

    # tasks ------------------------------------------------------------------------------------

    def task_import(self) -> None:
        n = self.n_main
        log(f"import: mailarchive, {n} messages")
        archive = self.work / "ma"
        run, added = self.ma_import(archive, self.main, "ma-import")
        self.ma_ready = True
        stored = self.db_query(archive, "SELECT count(*) FROM messages")[0][0]
        ma_row = self.row("mailarchive", "import", n, run, dir_size(archive),
                          f"stored {stored} (byte-identical copies kept once); jobs = cores")
        self.results["import"] = {"mailarchive": ma_row}
        if "mhonarc" in self.peers:
            log(f"import: MHonArc, {n} messages")
            folder = self.work / "mh"
            run = self.mh_convert(folder, self.main, "mh-import")
            self.results["import"]["mhonarc"] = self.row(
                "mhonarc", "import (= its export)", n, run, dir_size(folder),
                f"{self.mh_count(folder)} msg pages (duplicate Message-IDs skipped)")
        if "public-inbox" in self.peers:
            log(f"import: public-inbox v2 (git + SQLite + Xapian 'full'), {n} messages")
            folder = self.work / "pi"
            self.pi_init(LIST, folder)
            run = self.pi_import(LIST, self.main, "pi-import")
            self.results["import"]["public-inbox"] = self.row(
                "public-inbox", "import+index", n, run, dir_size(folder),
                f"{self.pi_count(folder)} in msgmap; "
                f"{len(list(folder.glob('xap*/[0-9]*')))} Xapian shards")
        if "notmuch" in self.peers:
            folder = self.work / "nm"
            log("import: writing a maildir for notmuch (untimed)")
            write_maildir(self.main_spans, folder)
            log(f"import: notmuch new, {n} messages")
            run = self.nm_new(folder, "nm-import")
            self.results["import"]["notmuch"] = self.row(
                "notmuch", "index (notmuch new)", n, run, dir_size(folder / ".notmuch"),
                f"{self.nm_count(folder)} ids; maildir not counted in size")
        for peer in self.missing_peers:
            self.unavailable(peer, "import", "not installed")

    def task_size(self) -> None:
        archive = self.ensure_ma()
        size = dir_size(archive)
        self.results["size"] = {"raw_mbox_bytes": self.raw_size, "archive_bytes": size,
                                "ratio": round(size / self.raw_size, 3)}
        self.row("raw mbox", "size", self.n_main, None, self.raw_size, "main.mbox, uncompressed")

    def task_export(self) -> None:
        if not command_exists([self.ma, "export"]):
            self.unavailable("mailarchive", "export (static site)", "not available yet")
            self.results["export"] = {"available": False}
            return
        archive = self.ensure_ma()
        out = self.work / "ma-export"
        log("export: mailarchive export (static site)")
        run = measure([self.ma, "export", str(out), "--archive", str(archive)],
                      log_to=self.logs / "ma-export.log")
        files = sum(1 for p in out.rglob("*") if p.is_file()) if out.exists() else 0
        if run.rc != 0:
            self.unavailable("mailarchive", "export (static site)",
                             f"failed (exit {run.rc}): {run.stderr_tail[-200:]!r}")
            self.results["export"] = {"available": True, "rc": run.rc}
            return
        row = self.row("mailarchive", "export (static site)", self.n_main, run, dir_size(out),
                       f"{files} files")
        self.results["export"] = {"available": True, "mailarchive": row}

    def task_serve(self) -> None:
        if not shutil.which("wrk"):
            self.results["serve"] = {"error": "wrk not installed"}
            return
        archive = self.ensure_ma()
        total = self.db_query(archive, "SELECT count(*) FROM messages")[0][0]
        min_num, total_max = self.db_query(archive, "SELECT min(num), max(num) FROM messages")[0]
        num, mid = self.db_query(archive, "SELECT num, message_id FROM messages WHERE num >= ? "
                                 "AND synthetic_id = 0 ORDER BY num LIMIT 1", (total // 2,))[0]
        months = self.db_query(archive, "SELECT month, count(*) FROM messages GROUP BY month "
                               "ORDER BY count(*), month")
        median_month = months[len(months) // 2]
        busiest = max(months, key=lambda m: m[1])
        serve: dict[str, object] = {"message": {"num": num, "message_id": mid}}
        if command_exists([self.ma, "serve"]):
            # one URL again and again (after the first request, a page cache may answer), and
            # random URLs over the whole archive (what a crawler or many readers do)
            random_msg = self.work / "wrk-random-message.lua"
            random_msg.write_text(WRK_RANDOM % (
                f"local first, last = {min_num}, {total_max}\n"
                f"local function pick() return string.format('/{LIST}/msg%d.html', "
                "math.random(first, last)) end\n"))
            random_month = self.work / "wrk-random-month.lua"
            random_month.write_text(WRK_RANDOM % (
                "local paths = {" + ",".join(f'"/{LIST}/{m.replace("-", "/")}/"'
                                            for m, _n in months) + "}\n"
                "local function pick() return paths[math.random(#paths)] end\n"))
            pages = [("message page (one URL)", f"/{LIST}/msg{num}.html", MSG_PAGE_RPS),
                     (f"message page (random of {total})", f"/{LIST}/msg{num}.html",
                      MSG_PAGE_RPS, random_msg),
                     (f"month index (one URL: median month {median_month[0]}, "
                      f"{median_month[1]} msgs)",
                      f"/{LIST}/{median_month[0].replace('-', '/')}/", MONTH_PAGE_RPS),
                     (f"month index (one URL: busiest month {busiest[0]}, {busiest[1]} msgs)",
                      f"/{LIST}/{busiest[0].replace('-', '/')}/", MONTH_PAGE_RPS),
                     (f"month index (random of {len(months)} months)",
                      f"/{LIST}/{median_month[0].replace('-', '/')}/", MONTH_PAGE_RPS,
                      random_month)]
            # cold: no pages kept in the archive folder, none rendered ahead during the run
            for kept in archive.glob("pages.sqlite3*"):
                kept.unlink()
            port = free_port()
            argv = [self.ma, "serve", "--host", "127.0.0.1", "--port", str(port),
                    "--archive", str(archive), "--no-warm"]
            serve["mailarchive"] = self.wrk_server("mailarchive", argv, {}, port, pages)
            if command_exists([self.ma, "render"]):
                self.serve_rendered(archive, serve, pages[1], pages[4])
        else:
            serve["mailarchive"] = {"available": False}
            self.unavailable("mailarchive", "serve", "not available yet")
        if "public-inbox" in self.peers and (self.work / "pi").exists():
            quoted = urllib.parse.quote(mid, safe="@!$&'()*+,;=:~-._")
            pages = [("message page", f"/{LIST}/{quoted}/", None),
                     ("inbox top page (latest topics; no month index)", f"/{LIST}/", None)]
            port = free_port()
            argv = ["public-inbox-httpd", "-l", f"http://127.0.0.1:{port}"]
            serve["public-inbox"] = self.wrk_server("public-inbox-httpd", argv, self.pi_env,
                                                    port, pages)
        self.results["serve"] = serve

    def serve_rendered(self, archive: Path, serve: dict[str, object], message: tuple,
                       month: tuple) -> None:
        """The same random pages again, after `mailarchive render` kept pages in the archive
        folder (as `serve` does in the background), by a freshly started server."""
        log("serve: mailarchive render (pages kept for serve)")
        run = measure([self.ma, "render", "--archive", str(archive)],
                      log_to=self.logs / "ma-render.log", sample=False)
        self.check(run, "mailarchive render")
        pages_size = dir_size(archive / "pages.sqlite3")
        whole = dir_size(archive)
        note = (f"{run.stdout.strip().split(': ', 1)[-1]}; archive with pages "
                f"{whole / self.raw_size:.2f}x the raw mbox")
        self.row("mailarchive", "render (pages kept for serve)", self.n_main, run, pages_size,
                 note)
        serve["rendered"] = {"wall_s": run.wall, "pages_bytes": pages_size,
                             "archive_bytes": whole, "ratio": round(whole / self.raw_size, 3)}
        port = free_port()
        argv = [self.ma, "serve", "--host", "127.0.0.1", "--port", str(port),
                "--archive", str(archive), "--no-warm"]
        after = [(f"{title}, after render", *rest) for title, *rest in (message, month)]
        done = self.wrk_server("mailarchive", argv, {}, port, after)
        cold = serve["mailarchive"]
        if isinstance(cold, dict):
            cold.setdefault("pages", []).extend(done.get("pages", []))  # type: ignore[union-attr]

    def wrk_server(self, tool: str, argv: list[str], env: dict[str, str], port: int,
                   pages: list[tuple]) -> dict[str, object]:
        log(f"serve: starting {tool} on 127.0.0.1:{port}")
        logf = open(self.logs / f"serve-{tool}.log", "wb")
        proc = subprocess.Popen(argv, stdout=logf, stderr=logf, stdin=subprocess.DEVNULL,
                                env={**os.environ, **env}, start_new_session=True)
        out: dict[str, object] = {"available": True, "pages": []}
        try:
            if not wait_port(port, 60, proc):
                out["error"] = f"did not listen on port {port} (exit {proc.poll()})"
                self.unavailable(tool, "serve", str(out["error"]))
                return out
            for title, path, target, *script in pages:
                url = f"http://127.0.0.1:{port}{path}"
                status, size = http_get(url)
                page: dict[str, object] = {"page": title, "path": path, "status": status,
                                           "bytes": size}
                if status == 200:
                    log(f"serve: wrk {self.args.wrk_seconds}s on {path}")
                    settle(self.args.quiet_wait)
                    busy0, _ = cpu_jiffies()
                    cpu0 = tree_cpu_seconds(proc.pid) + own_cpu()
                    t0 = time.perf_counter()
                    page.update(run_wrk(url, self.args.wrk_seconds, *script))
                    took = time.perf_counter() - t0
                    busy1, _ = cpu_jiffies()
                    ours = tree_cpu_seconds(proc.pid) + own_cpu() - cpu0
                    page["other_cpu_pct"] = round(other_cpu_share(busy0, busy1, ours, took) * 100)
                    note = f"{page['rps']:.0f} req/s, {size} B page"
                    if page.get("non_2xx"):
                        note += f", {page['non_2xx']} non-2xx"
                else:
                    note = f"GET {path} gave {status}"
                page["target"] = target
                out["pages"].append(page)  # type: ignore[union-attr]
                self.rows.append({"tool": tool, "task": f"serve: {title}", "messages": None,
                                  "wall_s": None, "msgs_per_s": None, "peak_rss_mib": None,
                                  "tree_pss_mib": None, "output_mib": None, "note": note,
                                  "rps": page.get("rps"),
                                  "other_cpu_pct": page.get("other_cpu_pct")})
        finally:
            stop(proc)
            logf.close()
        return out

    def task_memory(self) -> None:
        points: dict[int, dict[str, object]] = {}
        for n in MEMORY_POINTS:
            if n >= self.n_main:
                continue
            log(f"memory: mailarchive import of the first {n} messages")
            archive = self.work / f"ma-{n}"
            run, _ = self.ma_import(archive, self.sel / f"head-{n}.mbox", f"ma-import-{n}")
            self.row("mailarchive", f"import first {n}", n, run, dir_size(archive))
            points[n] = {"peak_rss_mib": run.peak_rss_mib, "tree_pss_mib": run.tree_pss_mib,
                         "wall_s": run.wall}
            shutil.rmtree(archive)
        full = (self.results.get("import") or {}).get("mailarchive")  # type: ignore[union-attr]
        if full:
            points[self.n_main] = {"peak_rss_mib": full["peak_rss_mib"],
                                   "tree_pss_mib": full["tree_pss_mib"], "wall_s": full["wall_s"]}
        self.results["memory"] = points

    def task_incremental(self) -> None:
        k_max = min(self.args.add_one, self.held_n)
        inc: dict[str, object] = {}
        # what any mailarchive command costs before doing anything: interpreter + imports
        base = [measure([self.ma, "--version"], sample=False).wall for _ in range(5)]
        py = [measure([sys.executable, "-c", "pass"], sample=False).wall for _ in range(5)]
        inc["startup_ms"] = {"mailarchive --version": round(median(base) * 1000, 1),
                             "python -c pass": round(median(py) * 1000, 1)}
        small = self.work / "ma-1k"
        log(f"incremental: building a {self.small}-message mailarchive archive")
        self.ma_import(small, self.sel / f"head-{self.small}.mbox", "ma-import-1k", sample=False)
        big = self.ensure_ma()
        # interleaved (small, big, big, small, ...) so that a change in background load hits both,
        # and each goes first every other time
        targets = (("1k", small, self.small), ("full", big, self.n_main))
        times: dict[str, list[float]] = {"1k": [], "full": []}
        others: list[float] = []
        for k in range(1, k_max + 1):
            for label, archive, _size in targets[::1 if k % 2 else -1]:
                run, added = self.ma_import(archive, "-", f"ma-add-{label}",
                                            stdin=self.sel / f"held-{k}.mbox", sample=False)
                if added != 1:
                    sys.exit(f"add-one to {archive}: expected 'added 1', got {run.stdout!r}")
                times[label].append(run.wall)
                others.append(run.other_cpu or 0)
        startup = median(base)
        for label, _archive, size in targets:
            t = times[label]
            inc[f"mailarchive_{label}"] = {"archive_messages": size,
                                           "times_ms": [round(x * 1000, 1) for x in t],
                                           "median_ms": round(median(t) * 1000, 1),
                                           "median_minus_startup_ms":
                                           round((median(t) - startup) * 1000, 1)}
            self.row("mailarchive", f"add one (archive of {size})", 1, None, None,
                     f"median of {k_max}: {median(t) * 1000:.1f} ms "
                     f"({', '.join(f'{x * 1000:.0f}' for x in t)}); "
                     f"{(median(t) - startup) * 1000:.0f} ms beyond start-up", wall=median(t),
                     rate=False)
            self.rows[-1]["other_cpu_pct"] = round(median(others) * 100)
        # on a copy: mail delivered live has its own From_ line, and the round trip below
        # compares the full archive's export with the input files byte for byte
        copy = self.work / "ma-lmtp"
        shutil.copytree(big, copy)
        os.sync()  # else the copy's dirty pages are written during, and by, its deliveries
        self.lmtp_add(inc, (("1k", small, self.small), ("full", copy, self.n_main)), k_max)
        shutil.rmtree(copy)
        shutil.rmtree(small)
        if "mhonarc" in self.peers:
            mh_small = self.work / "mh-1k"
            log(f"incremental: MHonArc -add {self.held_n} to {self.small} and to {self.n_main}")
            self.mh_convert(mh_small, self.sel / f"head-{self.small}.mbox", "mh-import-1k",
                            sample=False)
            for label, folder, size in (("1k", mh_small, self.small),
                                        ("full", self.work / "mh", self.n_main)):
                if not folder.exists():
                    self.mh_convert(folder, self.main, "mh-import-untimed", sample=False)
                run = self.mh_convert(folder, self.held, f"mh-add-{label}", add=True,
                                      sample=False)
                per = run.wall / self.held_n
                inc[f"mhonarc_{label}"] = {"archive_messages": size, "added": self.held_n,
                                           "wall_s": round(run.wall, 3),
                                           "per_message_ms": round(per * 1000, 1)}
                self.row("mhonarc", f"-add {self.held_n} (archive of {size})", self.held_n, run,
                         None, f"{per * 1000:.1f} ms per message")
            shutil.rmtree(mh_small)
        if "public-inbox" in self.peers and (self.work / "pi").exists():
            log("incremental: public-inbox, one message at a time")
            pi_small = self.work / "pi-1k"
            self.pi_init("lm1k", pi_small)
            self.pi_import("lm1k", self.sel / f"head-{self.small}.mbox", "pi-import-1k",
                           sample=False)
            for label, name, size in (("1k", "lm1k", self.small), ("full", LIST, self.n_main)):
                times = [self.pi_import(name, self.sel / f"held-{k}.mbox", f"pi-add-{label}",
                                        sample=False).wall for k in range(1, k_max + 1)]
                inc[f"public-inbox_{label}"] = {"archive_messages": size,
                                                "median_ms": round(median(times) * 1000, 1)}
                self.row("public-inbox", f"add one (archive of {size})", 1, None, None,
                         f"median of {k_max}: {median(times) * 1000:.0f} ms", wall=median(times),
                         rate=False)
        if "notmuch" in self.peers and (self.work / "nm").exists():
            log("incremental: notmuch, one new file + notmuch new")
            nm_small = self.work / "nm-1k"
            write_maildir(self.main_spans[:self.small], nm_small)
            self.nm_new(nm_small, "nm-import-1k", sample=False)
            for label, folder, size in (("1k", nm_small, self.small),
                                        ("full", self.work / "nm", self.n_main)):
                times = []
                for k in range(1, k_max + 1):
                    shutil.copy(self.sel / f"held-{k}.eml",
                                folder / "cur" / f"held-{k:03d}.bench:2,")
                    times.append(self.nm_new(folder, f"nm-add-{label}", sample=False).wall)
                inc[f"notmuch_{label}"] = {"archive_messages": size,
                                           "median_ms": round(median(times) * 1000, 1)}
                self.row("notmuch", f"add one (archive of {size})", 1, None, None,
                         f"median of {k_max}: {median(times) * 1000:.0f} ms", wall=median(times),
                         rate=False)
        self.results["incremental"] = inc

    def lmtp_add(self, inc: dict[str, object], targets: tuple[tuple[str, Path, int], ...],
                 k_max: int) -> None:
        """Add one through a running `mailarchive lmtp`, as a mail server delivers: one
        connection per message (LHLO, MAIL, RCPT, DATA, QUIT), timed from connect to the reply.
        A delivery takes milliseconds, so up to LMTP_SAMPLES of them: a median of five moved by
        a third between runs (its first delivery is a cold one)."""
        spans = self.held_spans[k_max:k_max + LMTP_SAMPLES]  # not the ones the command added
        if not spans:
            log("incremental: no held-out message left for LMTP (give --held more)")
            return
        blobs = [message_bytes(read_span(span)) for span in spans]
        times: dict[str, list[float]] = {label: [] for label, _a, _s in targets}
        servers = {}
        try:
            for label, archive, _size in targets:
                port = free_port()
                proc = subprocess.Popen([self.ma, "lmtp", "--archive", str(archive), "--port",
                                         str(port)], stderr=subprocess.DEVNULL,
                                        start_new_session=True)
                if not wait_port(port, 30, proc):
                    sys.exit(f"mailarchive lmtp on {archive} did not start")
                servers[label] = (proc, port, archive)
            counts = {label: self.count_ma(archive) for label, (_p, _port, archive)
                      in servers.items()}
            order = list(servers.items())
            for blob in blobs:
                order.reverse()  # each archive goes first every other time: no order favours one
                for label, (_proc, port, _archive) in order:
                    t0 = time.perf_counter()
                    with smtplib.LMTP("127.0.0.1", port) as client:
                        client.sendmail("bench@example.invalid", [f"{LIST}@bench.invalid"], blob)
                    times[label].append(time.perf_counter() - t0)
            for label, (_proc, _port, archive) in servers.items():
                added = self.count_ma(archive) - counts[label]
                if added != len(blobs):
                    sys.exit(f"LMTP into {archive}: {added} archived of {len(blobs)} delivered")
        finally:
            for proc, _port, _archive in servers.values():
                stop(proc)
        for label, _archive, size in targets:
            t = times[label]
            inc[f"mailarchive_lmtp_{label}"] = {"archive_messages": size,
                                                "times_ms": [round(x * 1000, 1) for x in t],
                                                "median_ms": round(median(t) * 1000, 1)}
            ordered = sorted(t)
            self.row("mailarchive", f"add one by LMTP, running server (archive of {size})", 1,
                     None, None, f"median of {len(t)}: {median(t) * 1000:.1f} ms (p90 "
                     f"{ordered[int(0.9 * (len(t) - 1))] * 1000:.1f}, {ordered[0] * 1000:.1f}-"
                     f"{ordered[-1] * 1000:.1f}; first {t[0] * 1000:.1f})", wall=median(t),
                     rate=False)

    def count_ma(self, archive: Path) -> int:
        return int(self.db_query(archive, "SELECT count(*) FROM messages")[0][0])

    def task_roundtrip(self) -> None:
        archive = self.ensure_ma()
        log("roundtrip: importing the held-out messages (idempotent), then export-mbox")
        self.ma_import(archive, self.held, "ma-import-rest", sample=False)
        out = self.work / "export.mbox"
        run = measure([self.ma, "export-mbox", LIST, "-o", str(out), "--archive", str(archive)],
                      log_to=self.logs / "ma-export-mbox.log")
        self.check(run, "mailarchive export-mbox")
        total = len(self.spans)
        self.row("mailarchive", "export-mbox", total, run, out.stat().st_size)
        want = sha256_files(self.files)
        got = sha256_files([out])
        rt: dict[str, object] = {"input_sha256": want, "export_sha256": got,
                                 "identical": want == got,
                                 "input_bytes": sum(p.stat().st_size for p in self.files),
                                 "export_bytes": out.stat().st_size}
        if want != got:
            rt["first_difference"] = first_difference(self.files, out, self.spans)
        self.results["roundtrip"] = rt

    # report ----------------------------------------------------------------------------------

    def evaluate(self) -> None:
        def target(name: str, value: str, ok: bool | None, goal: str) -> None:
            status = "n/a" if ok is None else ("PASS" if ok else "FAIL")
            self.targets.append({"target": name, "goal": goal, "measured": value,
                                 "status": status})

        imp = self.results.get("import") or {}
        ma = imp.get("mailarchive")  # type: ignore[union-attr]
        mh = imp.get("mhonarc")  # type: ignore[union-attr]
        if ma:
            target("import rate", f"{ma['msgs_per_s']:.0f} msg/s",
                   ma["msgs_per_s"] >= IMPORT_RATE, f">= {IMPORT_RATE:.0f} msg/s")
            if mh:
                ratio = ma["msgs_per_s"] / mh["msgs_per_s"]
                target("import vs MHonArc", f"{ratio:.2f}x", ratio >= IMPORT_VS_MHONARC,
                       f">= {IMPORT_VS_MHONARC:.0f}x")
        mem = self.results.get("memory") or {}
        peaks = [(n, max(v.get("peak_rss_mib") or 0, v.get("tree_pss_mib") or 0))
                 for n, v in sorted(mem.items())]  # type: ignore[union-attr]
        if peaks:
            worst = max(p for _, p in peaks)
            target("import peak memory", ", ".join(f"{n}: {p:.0f} MiB" for n, p in peaks),
                   worst < PEAK_MEMORY_MIB,
                   f"< {PEAK_MEMORY_MIB:.0f} MiB (max of largest-process RSS and tree PSS)")
        exp = self.results.get("export") or {}
        if exp.get("available") is False:  # type: ignore[union-attr]
            target("export vs MHonArc", "mailarchive export not available yet", None, ">= 3x")
        elif exp.get("mailarchive") and mh:  # type: ignore[union-attr]
            ratio = mh["wall_s"] / exp["mailarchive"]["wall_s"]  # type: ignore[index]
            target("export vs MHonArc", f"{ratio:.2f}x", ratio >= EXPORT_VS_MHONARC,
                   f">= {EXPORT_VS_MHONARC:.0f}x faster")
        inc = self.results.get("incremental") or {}
        for how, key in (("", "mailarchive"), (" by LMTP", "mailarchive_lmtp")):
            small, big = inc.get(f"{key}_1k"), inc.get(f"{key}_full")  # type: ignore[union-attr]
            if not (small and big):
                continue
            for d in (small, big):
                target(f"add one message{how} (archive of {d['archive_messages']})",
                       f"{d['median_ms']:.1f} ms", d["median_ms"] < ADD_ONE_MS,
                       f"< {ADD_ONE_MS:.0f} ms")
            target(f"add one{how}: no slower when big", f"{big['median_ms']:.1f} vs "
                   f"{small['median_ms']:.1f} ms",
                   big["median_ms"] <= small["median_ms"] * ADD_ONE_TOLERANCE,
                   f"median at {big['archive_messages']} <= {ADD_ONE_TOLERANCE:.2f} x median at "
                   f"{small['archive_messages']}")
        size = self.results.get("size")
        if size:
            target("archive size vs raw mbox", f"{size['ratio']:.2f}x "
                   f"({mib(size['archive_bytes']):.0f} / {mib(size['raw_mbox_bytes']):.0f} MiB)",
                   size["ratio"] <= 1.0, "<= 1.0x")
        serve = (self.results.get("serve") or {}).get("mailarchive")  # type: ignore[union-attr]
        if serve is not None:
            if not serve.get("available"):
                target("serve", "mailarchive serve not available yet", None,
                       ">= 1000 / >= 300 req/s")
            for page in serve.get("pages", []):
                rps = page.get("rps")
                target(f"serve {page['page']}",
                       f"{rps:.0f} req/s" if rps else f"HTTP {page['status']}",
                       (rps or 0) >= page["target"], f">= {page['target']:.0f} req/s")
        rt = self.results.get("roundtrip")
        if rt:
            target("export-mbox round trip", "sha256 equal" if rt["identical"]
                   else "sha256 differs", bool(rt["identical"]), "byte-identical")

    def report(self) -> str:
        lines = [f"mailarchive benchmark, corpus {self.label} "
                 f"({self.results['corpus']['messages']} messages; "  # type: ignore[index]
                 f"main.mbox {self.n_main} messages, {mib(self.raw_size):.1f} MiB), "
                 f"{time.strftime('%Y-%m-%d')}", ""]
        head = ("tool", "task", "msgs", "wall s", "CPU s", "msg/s", "RSS MiB", "tree MiB",
                "out MiB", "bg%", "note")
        table = [head]
        for r in self.rows:
            table.append((r["tool"], r["task"], fmt(r["messages"]), fmt(r["wall_s"], 2),
                          fmt(r.get("cpu_s"), 1), fmt(r["msgs_per_s"], 0),
                          fmt(r["peak_rss_mib"], 0), fmt(r["tree_pss_mib"], 0),
                          fmt(r["output_mib"], 1),
                          fmt(r.get("other_cpu_pct")), r["note"]))
        lines += render(table)
        lines += ["", "CPU s = user + system CPU of the command and its children (GNU time); every "
                  "timed run starts after sync(), so no run pays for an earlier one's write-back.",
                  "RSS = peak RSS of the largest single process (GNU time); tree = peak of the "
                  "summed PSS of the whole process tree, sampled every 0.2 s; bg% = CPU used by "
                  "OTHER processes during the run, as a share of all cores (busy machine -> "
                  "pessimistic figure)."]
        imp = self.results.get("import") or {}
        ma = imp.get("mailarchive")  # type: ignore[union-attr]
        if ma and len(imp) > 1:  # type: ignore[arg-type]
            lines += ["", "mailarchive vs each peer on import (>1 = mailarchive faster / "
                      "smaller / leaner):"]
            table = [("peer", "speed", "peak RSS", "tree PSS", "output size")]
            for peer, r in imp.items():  # type: ignore[union-attr]
                if peer == "mailarchive":
                    continue
                table.append((peer, ratio(r["wall_s"], ma["wall_s"]),
                              ratio(r["peak_rss_mib"], ma["peak_rss_mib"]),
                              ratio(r["tree_pss_mib"], ma["tree_pss_mib"]),
                              ratio(r["output_mib"], ma["output_mib"])))
            lines += render(table)
        inc = self.results.get("incremental")
        if inc:
            lines += ["", "process start-up (median of 5): " + ", ".join(
                f"{k} {v} ms" for k, v in inc["startup_ms"].items())]  # type: ignore[index]
        rt = self.results.get("roundtrip")
        if rt:
            lines += ["", f"export-mbox round trip over {len(self.files)} file(s): "
                      f"input sha256 {rt['input_sha256'][:16]}..., export sha256 "
                      f"{rt['export_sha256'][:16]}... -> "
                      f"{'IDENTICAL' if rt['identical'] else 'DIFFERENT'}"]
            if not rt["identical"]:
                lines.append(f"  first difference: {rt['first_difference']}")
        lines += ["", "targets:"]
        lines += render([("target", "goal", "measured", "status")] +
                        [(t["target"], t["goal"], t["measured"], t["status"])
                         for t in self.targets])
        return "\n".join(lines)

    def versions(self) -> dict[str, str]:
        def first_line(argv: list[str]) -> str:
            try:
                out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
                return (out.stdout or out.stderr).strip().splitlines()[0].strip()
            except (OSError, IndexError, subprocess.TimeoutExpired):
                return "not installed"
        return {
            "mailarchive": first_line([self.ma, "--version"]),
            "mhonarc": first_line(["mhonarc", "-v"]),
            "public-inbox": first_line(["dpkg-query", "-W", "-f", "${Version}", "public-inbox"]),
            "notmuch": first_line(["notmuch", "--version"]),
            "wrk": first_line(["wrk", "-v"]),
            "python": sys.version.split()[0],
            "sqlite": sqlite3.sqlite_version,
            "machine": f"{platform.platform()}, {os.cpu_count()} cores",
        }


# small helpers ----------------------------------------------------------------------------------

def fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def ratio(peer: float | None, ours: float | None) -> str:
    if not peer or not ours:
        return "-"
    return f"{peer / ours:.2f}x"


def render(rows: list[tuple]) -> list[str]:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, r in enumerate(rows):
        cells = [str(c).ljust(w) if i in (0, 1) or i == len(r) - 1 else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths, strict=False))]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def own_cpu() -> float:
    """CPU seconds of this script and its reaped children (wrk)."""
    import resource
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, seconds: float, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def http_get(url: str) -> tuple[int, int]:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.status, len(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, 0
    except OSError:
        return 0, 0


WRK_RANDOM = """-- made by bench/run.py: each request asks for a random page
%s
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n * 7919) end
function init(args) math.randomseed(seed) end
request = function() return wrk.format("GET", pick()) end
"""


def run_wrk(url: str, seconds: int, script: Path | None = None) -> dict[str, object]:
    argv = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency",
            *(["-s", str(script)] if script else []), url]
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    return {"rps": float(rps.group(1)) if rps else 0.0, "non_2xx": int(non.group(1)) if non else 0,
            "latency_p50": p50.group(1) if p50 else None,
            "latency_p99": p99.group(1) if p99 else None}


def stop(proc: subprocess.Popen) -> None:
    """Stop a server this script started (its own process group, made at start)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def first_difference(files: list[Path], out: Path, spans: list[Span]) -> str:
    """Where the export first differs from the input: byte offset and message index."""
    pos = 0
    with open(out, "rb") as got:
        for path in files:
            with open(path, "rb") as want:
                while True:
                    a = want.read(1 << 20)
                    if not a:
                        break
                    b = got.read(len(a))
                    if a != b:
                        i = next(i for i in range(len(a)) if i >= len(b) or a[i] != b[i])
                        off = pos + i
                        base = 0
                        for idx, span in enumerate(spans):
                            length = span.end - span.start
                            if off < base + length:
                                return (f"byte {off} (message #{idx + 1} of the input, "
                                        f"{off - base} bytes into it)")
                            base += length
                        return f"byte {off}"
                    pos += len(a)
        if got.read(1):
            return f"the export is longer than the input (input ends at byte {pos})"
    return "none found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", default="all", help="e.g. 2000-2003 (default: all, 1996-2015)")
    parser.add_argument("--tasks", default=",".join(TASKS),
                        help=f"comma-separated subset of {','.join(TASKS)}")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated subset of {','.join(PEERS)}, or none")
    parser.add_argument("--held", type=int, default=100,
                        help="messages held out of main.mbox for the incremental tests")
    parser.add_argument("--add-one", type=int, default=15,
                        help="add-one repetitions (median)")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--keep", action="store_true",
                        help="keep the archives and peer outputs in bench/out/run-<years>/ "
                        "(default: removed at the end, keeping logs/ and results.json)")
    parser.add_argument("--quiet-wait", type=float, default=10,
                        help="before each timed run, wait up to this many seconds for the machine "
                        "to be idle (other processes < 15%% CPU); 0 = never wait")
    parser.add_argument("--quiet-budget", type=float, default=120,
                        help="total seconds those waits may take in one run (default 120)")
    args = parser.parse_args()
    QUIET_WAIT[0] = args.quiet_wait
    QUIET_BUDGET[0] = args.quiet_budget
    bench = Bench(args)
    started = time.monotonic()
    bench.prepare()
    order = ["import", "size", "export", "serve", "memory", "incremental", "roundtrip"]
    for name in order:
        if name in bench.tasks:
            getattr(bench, f"task_{name}")()
    bench.evaluate()
    text = bench.report()
    elapsed = time.monotonic() - started
    print(text)
    print(f"\n(total benchmark time {elapsed / 60:.1f} min; work files in {bench.work})")
    data = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(sys.argv),
            "versions": bench.versions(), "total_seconds": round(elapsed, 1),
            "rows": bench.rows, "targets": bench.targets, **bench.results, "table": text}
    write_json(OUT / "results.json", data)
    write_json(bench.work / "results.json", data)
    if not args.keep:
        log("removing the archives and peer outputs (--keep keeps them)")
        for child in bench.work.iterdir():
            if child.is_dir() and child.name != "logs":
                remove_tree(child)


if __name__ == "__main__":
    main()
