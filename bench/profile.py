#!/usr/bin/env python3
"""Where mailarchive's time goes: start-up, bulk import, static export, serve, adding one message.

    .venv/bin/python bench/profile.py                    # uses the 2000-2003 selection
    .venv/bin/python bench/profile.py --years 2000-2003 --top 25

Standard library only (cProfile, -X importtime); the serve part samples the server with
py-spy (`.venv/bin/pip install py-spy`) and is skipped without it. Uses the selection files that
bench/run.py writes (bench/out/sel-<years>/; made here if missing). Profiles go to
bench/out/profile-<years>/
(.prof files open with `python -m pstats` or snakeviz). The bulk import is profiled with --jobs 1 so
that parsing and storing run in one process and show up in one profile.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import pstats
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    LIST,
    OUT,
    REPO,
    log,
    mbox_spans,
    parse_years,
    write_spans,
    yearly_mboxes,  # noqa: E402
    years_label,
)

PY = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv").exists() else sys.executable


def import_times(top: int) -> str:
    """`-X importtime` of `mailarchive --version`: the modules that cost the most to import."""
    err = subprocess.run([PY, "-X", "importtime", "-m", "mailarchive", "--version"],
                         capture_output=True, text=True).stderr
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), int(m.group(1)), len(m.group(3)) // 2, m.group(4)))
    total = sum(r[1] for r in rows)
    out = [f"total import time {total / 1000:.0f} ms (self times summed); "
           f"modules imported at the top two levels, by cumulative time:"]
    best: dict[str, int] = {}
    for cum, _own, level, name in rows:
        if level <= 1:  # the top-level imports and what they import directly
            best[name] = max(cum, best.get(name, 0))
    tops = sorted(((c, 0, 0, n) for n, c in best.items()), reverse=True)[:top]
    out += [f"  {cum / 1000:8.1f} ms  {name}" for cum, _, _, name in tops]
    return "\n".join(out)


def profile(argv: list[str], prof: Path, stdin: Path | None = None) -> float:
    start = time.perf_counter()
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fh:
        subprocess.run([PY, "-m", "cProfile", "-o", str(prof), "-m", "mailarchive", *argv],
                       stdin=fh, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


_DRIVER = """
import sys
from mailarchive import sources
from mailarchive.ingest import ingest
from mailarchive.store import Store
store = Store(sys.argv[1], create=True)
mlist = store.ensure_list(sys.argv[2])
print(ingest(store, mlist, sources.read(sys.argv[3]), 0).line())
"""


def profile_inprocess(archive: Path, mbox: Path, prof: Path) -> float | str:
    """The whole import in ONE process (library call, no worker pool): parse and store together."""
    driver = prof.with_suffix(".driver.py")
    driver.write_text(_DRIVER)
    start = time.perf_counter()
    done = subprocess.run([PY, "-m", "cProfile", "-o", str(prof), str(driver), str(archive), LIST,
                           str(mbox)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"failed (the library API may have changed): {done.stderr[-300:]}"
    return time.perf_counter() - start


def pyspy_bin() -> str | None:
    venv = REPO / ".venv" / "bin" / "py-spy"
    return str(venv) if venv.exists() else shutil.which("py-spy")


def collapse(raw: Path, top: int) -> str:
    """Self and cumulative shares per function from py-spy's raw (collapsed-stack) output."""
    own: collections.Counter[str] = collections.Counter()
    cum: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        total += n
        frames = [re.sub(r" \(/\S*?/(site-packages/|src/)?", " (", f) for f in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            cum[frame] += n
    if not total:
        return "(no samples)"
    lines = [f"{total} samples, all threads; self time:"]
    lines += [f"  {c / total:6.1%}  {f[:130]}" for f, c in own.most_common(top)]
    lines.append("cumulative (mailarchive frames):")
    lines += [f"  {c / total:6.1%}  {f[:130]}" for f, c in cum.most_common()
              if "mailarchive/" in f and "cli.py" not in f][:top]
    return "\n".join(lines)


def profile_serve(archive: Path, work: Path, top: int) -> list[str]:
    """Sample a running `mailarchive serve` with py-spy (every thread: page handlers run in a
    worker thread, which cProfile does not see) while wrk loads one page at a time."""
    import signal
    import socket
    import sqlite3

    spy = pyspy_bin()
    if not spy or not shutil.which("wrk"):
        return ["== serve: skipped (needs py-spy: `.venv/bin/pip install py-spy`, and wrk) =="]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    db = sqlite3.connect(f"file:{archive / 'mailarchive.sqlite3'}?mode=ro", uri=True)
    total = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    months = [m for m, in db.execute("SELECT month FROM messages GROUP BY month ORDER BY "
                                     "count(*), month")]
    db.close()
    # random URLs, so that the server's page cache (if any) mostly misses and the real work shows
    lua = """%s
local n = 0
function setup(thread) n = n + 1; thread:set("seed", n * 7919) end
function init(args) math.randomseed(seed) end
request = function() return wrk.format("GET", pick()) end
"""
    (work / "random-message.lua").write_text(lua % (
        f"local function pick() return string.format('/{LIST}/msg%d.html', "
        f"math.random(1, {total})) end"))
    (work / "random-month.lua").write_text(lua % (
        "local paths = {" + ",".join(f'"/{LIST}/{m.replace("-", "/")}/"' for m in months) +
        "}\nlocal function pick() return paths[math.random(#paths)] end"))
    pages = [("message page (random)", work / "random-message.lua"),
             ("month index (random)", work / "random-month.lua")]
    report = []
    proc = subprocess.Popen([PY, "-m", "mailarchive", "serve", "--host", "127.0.0.1", "--port",
                             str(port), "--archive", str(archive)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for title, script in pages:
            raw = work / f"serve-{title.split()[0]}.raw"
            spy_proc = subprocess.Popen([spy, "record", "-p", str(proc.pid), "-d", "11", "-r",
                                         "200", "-f", "raw", "-o", str(raw), "--nonblocking"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            out = subprocess.run(["wrk", "-t2", "-c16", "-d10s", "-s", str(script),
                                  f"http://127.0.0.1:{port}/"], capture_output=True,
                                 text=True).stdout
            spy_proc.wait(30)
            rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
            report += [f"== serve {title}: {rps.group(1) if rps else '?'} req/s "
                       "(wrk -t2 -c16 -d10s, sampled by py-spy at 200 Hz) ==",
                       collapse(raw, top) if raw.exists() else "(py-spy wrote nothing)", ""]
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return report


def summary(prof: Path, top: int, sort: str) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(str(prof), stream=buf)
    stats.strip_dirs().sort_stats(sort).print_stats(top)
    text = buf.getvalue()
    return text[text.index("ncalls") - 4:] if "ncalls" in text else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", default="2000-2003")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    years = parse_years(args.years)
    label = years_label(years)
    files = yearly_mboxes(years)
    sel = OUT / f"sel-{label}"
    main_mbox, held = sel / "main.mbox", sel / "held-1.mbox"
    if not (main_mbox.exists() and held.exists()):
        spans = [s for f in files for s in mbox_spans(f)]
        sel.mkdir(parents=True, exist_ok=True)
        write_spans(spans[:-1], main_mbox)
        write_spans(spans[-1:], held)
    work = OUT / f"profile-{label}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    archive = work / "ma"
    report = [f"mailarchive profile, corpus {label}, {time.strftime('%Y-%m-%d')}", ""]

    log("start-up: -X importtime")
    report += ["== start-up (mailarchive --version) ==", import_times(args.top), ""]

    log("bulk import in one process under cProfile")
    one = profile_inprocess(work / "ma-inprocess", main_mbox, work / "import-inprocess.prof")
    if isinstance(one, str):
        report += ["== bulk import in one process: " + one, ""]
    else:
        report += [f"== bulk import in ONE process (ingest(..., workers=0)), {main_mbox.name}: "
                   f"{one:.1f} s under cProfile ==",
                   "-- by internal time --",
                   summary(work / "import-inprocess.prof", args.top, "tottime"),
                   "-- by cumulative time --",
                   summary(work / "import-inprocess.prof", args.top, "cumulative")]
    log("bulk import via the CLI under cProfile (--jobs 1: the main process only)")
    wall = profile(["import", LIST, str(main_mbox), "--archive", str(archive), "--jobs", "1"],
                   work / "import.prof")
    report += [f"== CLI bulk import, --jobs 1, {main_mbox.name}: {wall:.1f} s; the MAIN process "
               "(read, hash, store, thread, index; waits on the parser process in "
               "'acquire') ==",
               summary(work / "import.prof", args.top, "tottime")]

    log("static export under cProfile (--jobs 1: in one process)")
    try:
        wall = profile(["export", str(work / "site"), "--archive", str(archive), "--jobs", "1"],
                       work / "export.prof")
        report += [f"== static export, --jobs 1: {wall:.1f} s under cProfile ==",
                   summary(work / "export.prof", args.top, "tottime"),
                   "-- by cumulative time --",
                   summary(work / "export.prof", args.top, "cumulative")]
    except subprocess.CalledProcessError as error:
        report += [f"== static export: not available ({error})", ""]

    log("serve under py-spy")
    try:
        report += profile_serve(archive, work, args.top)
    except Exception as error:  # serve may not exist yet
        report += [f"== serve: not available ({error})", ""]

    log("add one message under cProfile")
    wall = profile(["import", LIST, "-", "--archive", str(archive)], work / "add-one.prof", held)
    report += [f"== add one message to that archive: {wall * 1000:.0f} ms under cProfile ==",
               summary(work / "add-one.prof", args.top, "cumulative")]
    text = "\n".join(report)
    (work / "profile.txt").write_text(text)
    print(text)
    print(f"(profiles in {work})")


if __name__ == "__main__":
    main()
