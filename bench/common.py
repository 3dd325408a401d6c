"""Shared helpers for the benchmark scripts: the corpus, selections of it, and measuring a child.

Standard library only. Nothing here is part of the test suite.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
CORPUS_NAME = "linux-mips"
ALL_YEARS = list(range(1996, 2016))
GNU_TIME = "/usr/bin/time"
QUIET_WAIT = [0.0]  # seconds measure() may wait for an idle machine first (set by the scripts)
QUIET_BUDGET = [120.0]  # seconds all those waits may add up to in one run; then no more waiting
LIST = "lm"  # the list name every tool uses


def corpora_dir() -> Path:
    return Path(os.environ.get("MAILARCHIVE_CORPORA", REPO.parent / "shared" / "corpora"))


def mailarchive_bin() -> str:
    """The mailarchive command of this checkout's venv (else the one on PATH)."""
    venv = REPO / ".venv" / "bin" / "mailarchive"
    if venv.exists():
        return str(venv)
    found = shutil.which("mailarchive")
    if not found:
        sys.exit("mailarchive is not installed: run `pip install -e .` in the repo's venv")
    return found


def parse_years(spec: str) -> list[int]:
    """'2000-2003', '2001', '1996,2000-2001' or 'all' → sorted years."""
    if spec in ("", "all"):
        return list(ALL_YEARS)
    years: set[int] = set()
    for part in spec.split(","):
        if "-" in part:
            lo, hi = (int(x) for x in part.split("-", 1))
            years.update(range(lo, hi + 1))
        else:
            years.add(int(part))
    bad = sorted(y for y in years if y not in ALL_YEARS)
    if bad:
        sys.exit(f"no corpus for year(s) {bad}: the corpus has {ALL_YEARS[0]}..{ALL_YEARS[-1]}")
    return sorted(years)


def years_label(years: list[int]) -> str:
    if years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}" if len(years) > 1 else str(years[0])
    return ",".join(map(str, years))


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# corpus ---------------------------------------------------------------------------------------

def yearly_mboxes(years: list[int]) -> list[Path]:
    """The decompressed yearly mbox files (decompressed once into bench/out/corpus/)."""
    src = corpora_dir() / CORPUS_NAME
    dst = OUT / "corpus"
    dst.mkdir(parents=True, exist_ok=True)
    paths = []
    for year in years:
        xz = src / f"{CORPUS_NAME}-{year}.mbox.xz"
        out = dst / f"{CORPUS_NAME}-{year}.mbox"
        if not out.exists() or out.stat().st_mtime < xz.stat().st_mtime:
            if not xz.exists():
                sys.exit(f"{xz}: missing (set MAILARCHIVE_CORPORA to the corpora folder)")
            log(f"decompressing {xz.name}")
            tmp = out.with_suffix(".tmp")
            with open(tmp, "wb") as sink:
                if shutil.which("xz"):
                    subprocess.run(["xz", "-dc", str(xz)], stdout=sink, check=True)
                else:
                    import lzma
                    with lzma.open(xz) as source:
                        shutil.copyfileobj(source, sink, 1 << 20)
            tmp.rename(out)
        paths.append(out)
    return paths


_SEP = re.compile(rb"\n\r?\nFrom ")


@dataclass(frozen=True)
class Span:
    """One message of an mbox file: bytes [start, end) including its From_ line and blank line."""

    path: Path
    start: int
    end: int


def mbox_spans(path: Path) -> list[Span]:
    """Message boundaries by mailarchive's own rule: a From_ line starts a message only at the
    start of the file or after a blank line."""
    size = path.stat().st_size
    if size == 0:
        return []
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        starts = [0] if data[:5] == b"From " else []
        starts.extend(m.end() - 5 for m in _SEP.finditer(data))
    ends = starts[1:] + [size]
    return [Span(path, s, e) for s, e in zip(starts, ends, strict=False)]


_RD = re.compile(rb"(?m)^>(>*From )")


def message_bytes(raw: bytes) -> bytes:
    """A message as stored: From_ line dropped, mboxrd quoting undone, the separating blank
    line removed (what mailarchive's mbox reader yields)."""
    body = raw[raw.index(b"\n") + 1:]
    if body.endswith(b"\r\n\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n\n"):
        body = body[:-1]
    return _RD.sub(rb"\1", body)


def write_spans(spans: list[Span], dest: Path) -> None:
    tmp = dest.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        handles: dict[Path, object] = {}
        try:
            for span in spans:
                fh = handles.get(span.path)
                if fh is None:
                    fh = handles[span.path] = open(span.path, "rb")
                fh.seek(span.start)  # type: ignore[attr-defined]
                out.write(fh.read(span.end - span.start))  # type: ignore[attr-defined]
        finally:
            for fh in handles.values():
                fh.close()  # type: ignore[attr-defined]
    tmp.rename(dest)


def read_span(span: Span) -> bytes:
    with open(span.path, "rb") as fh:
        fh.seek(span.start)
        return fh.read(span.end - span.start)


def write_maildir(spans: list[Span], folder: Path) -> None:
    """One file per message in folder/cur (named by position, so a file name gives its index)."""
    if folder.exists():
        shutil.rmtree(folder)
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    cur = folder / "cur"
    for i, span in enumerate(spans):
        (cur / f"{i:07d}.bench:2,").write_bytes(message_bytes(read_span(span)))


def sha256_files(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def dir_size(path: Path) -> int:
    """Bytes on disk (allocated blocks) of a folder or file, like `du -s`."""
    if not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_blocks * 512
    total = 0
    seen: set[tuple[int, int]] = set()
    for root, _dirs, files in os.walk(path):
        for name in [*files, "."]:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key not in seen:
                seen.add(key)
                total += st.st_blocks * 512
    return total


def mib(n: float | int | None) -> float | None:
    return None if n is None else n / 1048576


# measuring ------------------------------------------------------------------------------------

@dataclass
class Run:
    argv: list[str]
    wall: float
    rc: int
    peak_rss_mib: float | None  # largest single process (GNU time %M / ru_maxrss)
    tree_pss_mib: float | None  # sampled sum of PSS over the whole process tree (0.2 s period)
    other_cpu: float | None = None  # share of all cores busy with OTHER processes meanwhile
    cpu_s: float | None = None  # user + system CPU seconds of the child and its descendants
    stdout: str = ""
    stderr_tail: str = ""
    extra: dict[str, object] = field(default_factory=dict)


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) CPU time of the whole machine so far, in clock ticks (/proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle, sum(fields[:8])


def settle(max_wait: float) -> float:
    """Before a timed run: write back what earlier runs left in the page cache (an export leaves
    gigabytes dirty, and the kernel's flushing would otherwise land in the next run, whichever
    tool it times), then wait for the machine to be quiet. Returns the seconds waited."""
    start = time.monotonic()
    os.sync()
    if max_wait > 0:
        wait_quiet(max_wait)
    return time.monotonic() - start


# This machine's root filesystem is ext4 without a journal. There, making a file skips every
# free inode whose deletion is recent (the kernel's `recently_deleted`: 60 s, and up to 6 min
# while its inode table block is dirty, as it is once files are made next to it), looking each
# one up. After a run's outputs are deleted, the next tools to make many files pay for it:
# 180,000 files and 60,000 folders took 9.2 s, 70.7 s right after deleting as many, and 24.4 s
# five minutes after. The static export makes 280,000; MHonArc 61,000.
FREED_INODES_WAIT = 400.0  # seconds after a big deletion before the first timed run
FREED_MARK = OUT / ".big-removal"
BIG_REMOVAL = 10_000  # files and folders


def remove_tree(path: Path) -> None:
    """`shutil.rmtree`, noting when a big tree was removed (see FREED_INODES_WAIT)."""
    count = sum(len(dirs) + len(files) for _, dirs, files in os.walk(path))
    shutil.rmtree(path, ignore_errors=True)
    if count >= BIG_REMOVAL:
        FREED_MARK.write_text(f"{time.time()} {count}\n")


def wait_for_freed_inodes() -> float:
    """Wait until the last big removal is FREED_INODES_WAIT seconds old. Returns the wait."""
    try:
        removed_at, count = FREED_MARK.read_text().split()
    except (OSError, ValueError):
        return 0.0
    left = float(removed_at) + FREED_INODES_WAIT - time.time()
    if left <= 0:
        return 0.0
    ago = time.time() - float(removed_at)
    log(f"waiting {left:.0f} s: {count} files and folders were deleted {ago:.0f} s ago, and "
        "making files is slow for minutes after that on this filesystem")
    time.sleep(left)
    return left


def wait_quiet(max_wait: float, threshold: float = 0.15) -> float:
    """Wait (at most max_wait seconds) for a second in which the machine is < threshold busy;
    other people's test runs on a 2-core machine skew timings. Returns the seconds waited."""
    start = time.monotonic()
    max_wait = min(max_wait, QUIET_BUDGET[0])
    while time.monotonic() - start < max_wait:
        b0, t0 = cpu_jiffies()
        time.sleep(1.0)
        b1, t1 = cpu_jiffies()
        if t1 > t0 and (b1 - b0) / (t1 - t0) < threshold:
            break
    waited = time.monotonic() - start
    QUIET_BUDGET[0] = max(0.0, QUIET_BUDGET[0] - waited)
    return waited


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _tree_pss_kib(root: int) -> int:
    kids = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
                for line in fh:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def tree_cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a process and its live descendants."""
    kids = _children_map()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def other_cpu_share(busy0: int, busy1: int, ours: float, seconds: float) -> float:
    """The share of all cores used by processes other than `ours` CPU seconds, over a period."""
    others = (busy1 - busy0) / os.sysconf("SC_CLK_TCK") - ours
    return max(0.0, others / (seconds * (os.cpu_count() or 1)))


class _Sampler(threading.Thread):
    def __init__(self, pid: int, period: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.period, self.peak = pid, period, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.peak = max(self.peak, _tree_pss_kib(self.pid))
            except Exception:  # a process vanishing mid-scan is normal
                pass
            self.done.wait(self.period)


_RUSAGE_WRAPPER = (
    "import resource,subprocess,sys\n"
    "rc=subprocess.call(sys.argv[2:])\n"
    "u=resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1],'w').write('0 %f %f %d\\n'%(u.ru_utime,u.ru_stime,u.ru_maxrss))\n"
    "sys.exit(rc)\n"
)


def _self_cpu() -> float:
    import resource
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def measure(argv: list[str], *, stdin: Path | None = None, env: dict[str, str] | None = None,
            cwd: Path | None = None, log_to: Path | None = None, sample: bool = True) -> Run:
    """Run one child, fresh, and measure wall time, peak RSS and the sampled tree PSS."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        timefile = tf.name
    if os.path.exists(GNU_TIME):
        full = [GNU_TIME, "-f", "%e %U %S %M", "-o", timefile, *argv]
    else:
        full = [sys.executable, "-c", _RUSAGE_WRAPPER, timefile, *argv]
    child_env = {**os.environ, **(env or {})}
    stdin_fh = open(stdin, "rb") if stdin else subprocess.DEVNULL
    err_fh = open(log_to, "ab") if log_to else tempfile.TemporaryFile()
    try:
        settle(QUIET_WAIT[0])
        busy0, _ = cpu_jiffies()
        self0 = _self_cpu()
        start = time.perf_counter()
        proc = subprocess.Popen(full, stdin=stdin_fh, stdout=subprocess.PIPE, stderr=err_fh,
                                env=child_env, cwd=cwd)
        sampler = _Sampler(proc.pid) if sample else None
        if sampler:
            sampler.start()
        out, _ = proc.communicate()
        wall = time.perf_counter() - start
        busy1, _ = cpu_jiffies()
        self1 = _self_cpu()
        if sampler:
            sampler.done.set()
            sampler.join()
        err_fh.seek(0, os.SEEK_END)
        err_fh.seek(max(0, err_fh.tell() - 2000))
        tail = err_fh.read().decode("utf-8", "replace") if not log_to else ""
    finally:
        if stdin:
            stdin_fh.close()  # type: ignore[union-attr]
        err_fh.close()
    rss = other = child_cpu = None
    try:
        fields = Path(timefile).read_text().split()
        rss = int(fields[-1]) / 1024 if fields else None
        child_cpu = float(fields[-3]) + float(fields[-2])
        hz = os.sysconf("SC_CLK_TCK")
        others = (busy1 - busy0) / hz - child_cpu - (self1 - self0)
        other = max(0.0, others / (wall * (os.cpu_count() or 1)))
    except (OSError, ValueError, IndexError):
        pass
    os.unlink(timefile)
    if log_to:
        with open(log_to, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 2000))
            tail = fh.read().decode("utf-8", "replace")
    pss = sampler.peak / 1024 if sampler and sampler.peak else None
    return Run(argv, wall, proc.returncode, rss, pss, other, child_cpu,
               out.decode("utf-8", "replace"), tail)


def median(values: list[float]) -> float:
    return statistics.median(values)


def command_exists(argv: list[str]) -> bool:
    """Whether a (sub)command exists: it answers --help with exit status 0."""
    try:
        return subprocess.run([*argv, "--help"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0
    except OSError:
        return False


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
