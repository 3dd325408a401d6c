#!/usr/bin/env python3
"""Generate synthetic mailing-list mail whose words and thread shapes follow the real corpus.

    .venv/bin/python bench/gen_corpus.py                 # 940,000 messages → bench/out/gen/
    .venv/bin/python bench/gen_corpus.py -n 100000 --per-file 50000 --seed 7

Two steps, both cached under bench/out/gen/:

1. *learn* (model.json): one pass over the real linux-mips mbox files (both cores) collects
   - the unigram table of the words people write themselves (not quoted, not patch, not
     signature), lower-cased: it is Zipf-like, and every word keeps its real count;
   - the table of subject words and of subject lengths, and how many roots carry [PATCH];
   - the table of tokens on patch lines and the patch length (lines) distribution;
   - the distribution of own-text length (words) of roots and of replies;
   - for replies: how often they quote and how many lines;
   - the sender pool with each sender's message count; names and addresses are replaced by
     pronounceable pseudonyms derived from a hash of the real address, at example.org/.net/.com
     (no real address or name is republished; the same person always gets the same pseudonym);
   - thread shapes: thread sizes (In-Reply-To / References, union of the real threads), for
     each reply whether its parent is the previous message of the thread (a chain) or an
     earlier one, and the reply delays.
2. *sample* (gen-NN.mbox): threads are drawn one at a time: size from the real size
   distribution, each reply's parent by the learned chain probability (else uniform among the
   earlier messages), own text from the unigram table with the real length distribution, a
   quote of the parent's own lines as often and as long as real replies quote, a patch (from
   the patch-token table) as often as real roots/replies carry one. Thread start dates are
   uniform over 1996-01-01..2025-12-31; replies follow after a real reply delay. Files are
   mboxrd, plain, `--per-file` messages each; file k is drawn from seed (seed, k) so the output
   is the same for any number of processes.

Standard library only.
"""

from __future__ import annotations

import argparse
import email
import email.header
import email.policy
import email.utils
import hashlib
import itertools
import json
import multiprocessing
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ALL_YEARS, OUT, log, mbox_spans, message_bytes, read_span, yearly_mboxes  # noqa: E402

GEN = OUT / "gen"
MODEL = GEN / "model.json"
MODEL_VERSION = 3
WORD = re.compile(r"[a-z][a-z0-9_']{0,29}")
CODE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}|[0-9]+|[{}()\[\];,=*&<>+\-/.]")
B64 = re.compile(r"^[A-Za-z0-9+/=]{40,}$")
PATCH_START = re.compile(r"^(diff |Index: |--- \S|\+\+\+ \S|@@ )")
START = 820_454_400  # 1996-01-01
END = 1_767_225_600  # 2026-01-01


# learning -------------------------------------------------------------------------------------

def _header(msg: email.message.Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(email.header.make_header(email.header.decode_header(str(value))))
    except Exception:
        return str(value)


def _text(msg: email.message.Message) -> str:
    parts = []
    for part in msg.walk() if msg.is_multipart() else [msg]:
        if part.get_content_maintype() != "text" or part.get_content_subtype() != "plain":
            continue
        try:
            data = part.get_payload(decode=True) or b""
        except Exception:
            continue
        if not isinstance(data, bytes):
            parts.append(str(data))
            continue
        try:
            parts.append(data.decode(part.get_content_charset() or "latin-1", "replace"))
        except (LookupError, ValueError):
            parts.append(data.decode("latin-1"))
    return "\n".join(parts)


def _learn_file(path: str) -> dict:
    words: Counter[str] = Counter()
    subj_words: Counter[str] = Counter()
    code: Counter[str] = Counter()
    msgs = []
    for span in mbox_spans(Path(path)):
        raw = message_bytes(read_span(span))
        try:
            msg = email.message_from_bytes(raw)
        except Exception:
            continue
        mid = str(msg.get("Message-ID", "") or "").strip()
        irt = re.findall(r"<[^>]+>", str(msg.get("In-Reply-To", "") or ""))
        refs = re.findall(r"<[^>]+>", str(msg.get("References", "") or ""))
        parent = irt[0] if irt else (refs[-1] if refs else "")
        try:
            date = email.utils.parsedate_to_datetime(str(msg.get("Date", ""))).timestamp()
        except Exception:
            date = None
        name, addr = email.utils.parseaddr(_header(msg, "From"))
        subject = _header(msg, "Subject")
        own = quoted = patch = 0
        in_patch = in_sig = False
        try:
            body = _text(msg)
        except Exception:
            body = ""
        for line in body.splitlines():
            if line == "-- " or line == "--":
                in_sig = True
            if in_sig:
                continue
            if PATCH_START.match(line):
                in_patch = True
            if in_patch:
                patch += 1
                code.update(CODE.findall(line[1:] if line[:1] in "+- " else line))
                continue
            if line.startswith(">"):
                quoted += 1
                continue
            if B64.match(line):
                continue
            found = WORD.findall(line.lower())
            own += len(found)
            words.update(found)
        clean = re.sub(r"^((re|fwd?|aw)\s*:\s*|\[[^\]]*\]\s*)*", "", subject, flags=re.I)
        sw = WORD.findall(clean.lower())
        subj_words.update(sw)
        msgs.append({"mid": mid, "parent": parent, "date": date, "addr": addr.lower(),
                     "name": name, "own": own, "quoted": quoted, "patch": patch,
                     "subj_len": len(sw), "patch_tag": "[patch" in subject.lower()})
    return {"words": words, "subj_words": subj_words, "code": code, "msgs": msgs}


_SYL = ["ba", "ke", "lo", "mi", "nu", "ra", "se", "ti", "vo", "za", "dor", "fen", "gal", "hir",
        "jun", "kas", "lem", "mor", "nix", "pel", "quin", "ros", "tam", "val", "wen", "yor",
        "bre", "cla", "dru", "fro", "gri", "pla", "sto", "tre", "ven", "xan", "ald", "eri",
        "oss", "una"]


def pseudonym(addr: str) -> tuple[str, str]:
    """A stable invented 'First Last' and address for a real address (nothing real kept)."""
    h = hashlib.sha256(b"mailarchive-bench:" + addr.encode()).digest()
    first = "".join(_SYL[b % len(_SYL)] for b in h[0:2]).capitalize()
    last = "".join(_SYL[b % len(_SYL)] for b in h[2:2 + 2 + h[5] % 2]).capitalize()
    domain = ("example.org", "example.net", "example.com")[h[6] % 3]
    return f"{first} {last}", f"{first.lower()}.{last.lower()}@{domain}"


def learn(paths: list[Path]) -> dict:
    with multiprocessing.Pool(min(2, multiprocessing.cpu_count())) as pool:
        biggest_first = sorted(paths, key=lambda p: -p.stat().st_size)
        parts = pool.map(_learn_file, [str(p) for p in biggest_first])
    words: Counter[str] = Counter()
    subj: Counter[str] = Counter()
    code: Counter[str] = Counter()
    msgs = []
    for p in parts:
        words.update(p["words"])
        subj.update(p["subj_words"])
        code.update(p["code"])
        msgs.extend(p["msgs"])
    # threads: parent links inside the corpus, then union into threads
    by_mid = {m["mid"]: i for i, m in enumerate(msgs) if m["mid"]}
    parent = [by_mid.get(m["parent"], -1) for m in msgs]
    for i, p in enumerate(parent):
        if p == i:
            parent[i] = -1
    root = list(range(len(msgs)))

    def find(i: int) -> int:
        seen = []
        while parent[i] != -1 and len(seen) < 1000 and parent[i] not in seen:
            seen.append(i)
            i = parent[i]
        return i
    threads: dict[int, list[int]] = {}
    for i in range(len(msgs)):
        root[i] = find(i)
        threads.setdefault(root[i], []).append(i)
    sizes = [len(t) for t in threads.values()]
    chain = earlier = 0
    delays = []
    depth_hist: Counter[int] = Counter()
    for members in threads.values():
        members.sort(key=lambda i: (msgs[i]["date"] or 0))
        pos = {m: k for k, m in enumerate(members)}
        depth = {}
        for k, i in enumerate(members):
            p = parent[i]
            if p == -1 or p not in pos:
                depth[i] = 0
            else:
                depth[i] = depth.get(p, 0) + 1
                if pos[p] == k - 1:
                    chain += 1
                else:
                    earlier += 1
                if msgs[i]["date"] and msgs[p]["date"]:
                    delays.append(int(min(max(msgs[i]["date"] - msgs[p]["date"], 60), 30 * 86400)))
            depth_hist[min(depth[i], 20)] += 1
    roots = [m for i, m in enumerate(msgs) if parent[i] == -1]
    replies = [m for i, m in enumerate(msgs) if parent[i] != -1]
    senders: Counter[str] = Counter(m["addr"] for m in msgs if m["addr"])
    pool_ = []
    for addr, n in senders.most_common():
        name, fake = pseudonym(addr)
        pool_.append([name, fake, n])
    keep = [(w, c) for w, c in words.most_common() if c >= 2]  # hapaxes: mostly typos/noise
    return {
        "version": MODEL_VERSION,
        "messages": len(msgs),
        "words": keep,
        "subject_words": [(w, c) for w, c in subj.most_common() if c >= 2],
        "code": [(w, c) for w, c in code.most_common(20000)],
        "root_own": sorted(m["own"] for m in roots),
        "reply_own": sorted(m["own"] for m in replies),
        "subject_len": sorted(max(1, m["subj_len"]) for m in roots),
        "p_patch_root": sum(1 for m in roots if m["patch"]) / max(1, len(roots)),
        "p_patch_reply": sum(1 for m in replies if m["patch"]) / max(1, len(replies)),
        "patch_lines": sorted(m["patch"] for m in msgs if m["patch"]),
        "p_patch_tag": (sum(1 for m in roots if m["patch"] and m["patch_tag"])
                        / max(1, sum(1 for m in roots if m["patch"]))),
        "p_quote": sum(1 for m in replies if m["quoted"]) / max(1, len(replies)),
        "quote_lines": sorted(m["quoted"] for m in replies if m["quoted"]),
        "thread_sizes": sorted(sizes),
        "p_chain": chain / max(1, chain + earlier),
        "delays": sorted(delays),
        "depth_hist": sorted(depth_hist.items()),
        "senders": pool_,
    }


def load_model() -> dict:
    if MODEL.exists():
        model = json.loads(MODEL.read_text())
        if model.get("version") == MODEL_VERSION:
            return model
    log("learning the model from the real corpus")
    t = time.time()
    model = learn(yearly_mboxes(ALL_YEARS))
    GEN.mkdir(parents=True, exist_ok=True)
    MODEL.write_text(json.dumps(model))
    log(f"model: {model['messages']} messages, {len(model['words'])} words, "
        f"{len(model['senders'])} senders, {len(model['thread_sizes'])} threads "
        f"({time.time() - t:.0f} s)")
    return model


# sampling -------------------------------------------------------------------------------------

class Sampler:
    def __init__(self, model: dict, rng: random.Random) -> None:
        self.m, self.rng = model, rng
        self.words = [w for w, _ in model["words"]]
        self.word_cum = list(itertools.accumulate(c for _, c in model["words"]))
        self.subj = [w for w, _ in model["subject_words"]]
        self.subj_cum = list(itertools.accumulate(c for _, c in model["subject_words"]))
        self.code = [w for w, _ in model["code"]]
        self.code_cum = list(itertools.accumulate(c for _, c in model["code"]))
        self.senders = model["senders"]
        self.send_cum = list(itertools.accumulate(n for _, _, n in self.senders))

    def pick(self, values: list) -> object:
        return values[int(self.rng.random() * len(values))]

    def text(self, n: int) -> list[str]:
        """n words of own text as lines of ≤ 72 characters, in paragraphs."""
        ws = self.rng.choices(self.words, cum_weights=self.word_cum, k=n)
        lines, line, width = [], [], 0
        rnd = self.rng.random
        for w in ws:
            if width + len(w) > 72:
                lines.append(" ".join(line))
                line, width = [], 0
                if rnd() < 0.15:
                    lines.append("")
            line.append(w)
            width += len(w) + 1
        if line:
            lines.append(" ".join(line))
        return lines

    def patch(self, n: int) -> list[str]:
        rnd, out = self.rng.random, []
        out.append(f"diff --git a/arch/mips/{self.pick(self.words)}.c b/arch/mips/"
                   f"{self.pick(self.words)}.c")
        toks = self.rng.choices(self.code, cum_weights=self.code_cum, k=n * 6)
        for i in range(n):
            r = rnd()
            mark = "+" if r < 0.35 else "-" if r < 0.55 else " "
            out.append(mark + "\t" + " ".join(toks[i * 6:i * 6 + 1 + int(rnd() * 6)]))
        return out

    def subject(self) -> str:
        k = min(int(self.pick(self.m["subject_len"])), 14)
        return " ".join(self.rng.choices(self.subj, cum_weights=self.subj_cum, k=k)).capitalize()

    def sender(self) -> tuple[str, str]:
        name, addr, _ = self.rng.choices(self.senders, cum_weights=self.send_cum, k=1)[0]
        return name, addr


def _date(stamp: float) -> str:
    return email.utils.formatdate(stamp, localtime=False)


def _mbox_date(stamp: float) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(stamp))


_FROM = re.compile(r"(?m)^(>*From )")


def gen_file(args: tuple[int, int, int, int, str]) -> tuple[str, int]:
    index, count, seed, first_number, out = args
    model = load_model()
    rng = random.Random(f"{seed}:{index}")
    s = Sampler(model, rng)
    sizes, delays = model["thread_sizes"], model["delays"]
    root_own, reply_own = model["root_own"], model["reply_own"]
    p_chain, p_quote = model["p_chain"], model["p_quote"]
    written = 0
    tmp = Path(out).with_suffix(".tmp")
    with open(tmp, "w", encoding="ascii", newline="\n") as fh:
        while written < count:
            size = min(int(s.pick(sizes)), count - written)
            start = START + rng.random() * (END - START - 40 * 86400)
            thread: list[dict] = []
            is_patch = rng.random() < model["p_patch_root"]
            subject = s.subject()
            if is_patch and rng.random() < model["p_patch_tag"]:
                subject = "[PATCH] " + subject
            for k in range(size):
                number = first_number + written
                written += 1
                if k == 0:
                    parent = None
                    date = start
                    own_n = int(s.pick(root_own))
                    patch_n = int(s.pick(model["patch_lines"])) if is_patch else 0
                else:
                    parent = (thread[-1] if rng.random() < p_chain
                              else thread[int(rng.random() * len(thread))])
                    date = max(parent["date"] + int(s.pick(delays)), thread[-1]["date"] + 1)
                    own_n = int(s.pick(reply_own))
                    patch_n = (int(s.pick(model["patch_lines"]))
                               if rng.random() < model["p_patch_reply"] else 0)
                own_n = min(own_n, 3000)
                patch_n = min(patch_n, 3000)
                name, addr = s.sender()
                tag = hashlib.md5(str(number).encode()).hexdigest()[:10]
                mid = f"<gen.{number}.{tag}@example.org>"
                own = s.text(max(own_n, 1))
                body: list[str] = []
                if parent is not None:
                    body.append(f"On {_date(parent['date'])}, {parent['name']} wrote:")
                    if rng.random() < p_quote and parent["own"]:
                        q = min(int(s.pick(model["quote_lines"])), len(parent["own"]))
                        at = int(rng.random() * (len(parent["own"]) - q + 1))
                        body.extend("> " + line if line else ">"
                                    for line in parent["own"][at:at + q])
                        body.append("")
                body.extend(own)
                if patch_n:
                    body.append("")
                    body.append("Signed-off-by: " + f"{name} <{addr}>")
                    body.append("---")
                    body.extend(s.patch(patch_n))
                body.append("")
                body.append("-- ")
                body.append(name)
                ccs = {s.sender()[1] for _ in range(int(rng.random() * 3))}
                headers = [
                    f"From {addr} {_mbox_date(date)}",
                    "Received: from mail.example.org by linux-mips.example.org with ESMTP id "
                    f"<S{number}>; {_date(date + 5)}",
                    f"Date: {_date(date)}",
                    f"From: {name} <{addr}>",
                    "To: linux-mips@linux-mips.org",
                ]
                if ccs:
                    headers.append("Cc: " + ", ".join(sorted(ccs)))
                headers.append(f"Subject: {subject if k == 0 else 'Re: ' + subject}")
                headers.append(f"Message-ID: {mid}")
                if parent is not None:
                    headers.append(f"In-Reply-To: {parent['mid']}")
                    headers.append(f"References: {' '.join(parent['refs'] + [parent['mid']])}")
                headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii",
                            "Content-Transfer-Encoding: 7bit", "Precedence: bulk",
                            "X-list: linux-mips"]
                text = "\n".join(headers) + "\n\n" + _FROM.sub(r">\1", "\n".join(body)) + "\n\n"
                fh.write(text)
                refs = (parent["refs"] + [parent["mid"]])[-10:] if parent is not None else []
                thread.append({"mid": mid, "date": date, "name": name, "own": own, "refs": refs})
    tmp.rename(out)
    return out, written


def generate(n: int, per_file: int, seed: int, jobs: int) -> list[Path]:
    """The generated files (made if missing; kept if present with a matching manifest)."""
    GEN.mkdir(parents=True, exist_ok=True)
    manifest = GEN / f"manifest-{n}-{per_file}-{seed}.json"
    files = [GEN / f"gen-{seed}-{i:02d}.mbox" for i in range((n + per_file - 1) // per_file)]
    if manifest.exists() and all(f.exists() for f in files):
        return files
    load_model()  # learn once, before the workers
    jobs_ = [(i, min(per_file, n - i * per_file), seed, 1 + i * per_file, str(f))
             for i, f in enumerate(files) if not f.exists()]
    t = time.time()
    with multiprocessing.Pool(jobs) as pool:
        for out, count in pool.imap_unordered(gen_file, jobs_):
            log(f"wrote {out} ({count} messages, {time.time() - t:.0f} s)")
    manifest.write_text(json.dumps({"n": n, "per_file": per_file, "seed": seed,
                                    "files": [f.name for f in files],
                                    "seconds": round(time.time() - t, 1)}))
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=940_000, help="messages to generate")
    ap.add_argument("--per-file", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    ap.add_argument("--stats", action="store_true", help="print the learned model's summary")
    a = ap.parse_args()
    if a.stats:
        m = load_model()
        print(json.dumps(summary(m), indent=1))
        return
    for f in generate(a.n, a.per_file, a.seed, a.jobs):
        print(f)


def summary(m: dict) -> dict:
    def q(values: list, p: float) -> object:
        return values[min(len(values) - 1, int(p * len(values)))] if values else None
    return {
        "messages": m["messages"], "vocabulary (count ≥ 2)": len(m["words"]),
        "top words": [w for w, _ in m["words"][:15]],
        "senders": len(m["senders"]), "threads": len(m["thread_sizes"]),
        "thread size p50/p90/p99/max": [q(m["thread_sizes"], p) for p in (.5, .9, .99, 1.0)],
        "mean thread size": round(sum(m["thread_sizes"]) / len(m["thread_sizes"]), 2),
        "p(reply's parent = previous message)": round(m["p_chain"], 3),
        "depth histogram": m["depth_hist"],
        "own words root p50/p90": [q(m["root_own"], .5), q(m["root_own"], .9)],
        "own words reply p50/p90": [q(m["reply_own"], .5), q(m["reply_own"], .9)],
        "p(patch | root)": round(m["p_patch_root"], 3),
        "p(patch | reply)": round(m["p_patch_reply"], 3),
        "patch lines p50/p90": [q(m["patch_lines"], .5), q(m["patch_lines"], .9)],
        "p(quote | reply)": round(m["p_quote"], 3),
        "quoted lines p50/p90": [q(m["quote_lines"], .5), q(m["quote_lines"], .9)],
        "reply delay p50 (s)": q(m["delays"], .5),
    }


if __name__ == "__main__":
    main()
