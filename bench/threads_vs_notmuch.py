#!/usr/bin/env python3
"""Compare mailarchive's thread membership with notmuch's on the same mail.

    .venv/bin/python bench/threads_vs_notmuch.py                    # whole corpus (1996-2015)
    .venv/bin/python bench/threads_vs_notmuch.py --years 2000-2003

Imports the selected yearly mbox files into a fresh mailarchive archive and (as a maildir, one file
per message) into a fresh notmuch database, then compares, message by message (keyed by
Message-ID), the set of Message-IDs each tool puts in the message's thread. Every disagreement is
explained by the link that makes one tool join what the other splits, and counted by class.
Run it with the project's venv Python; notmuch is read through the notmuch2 bindings of the system
Python (Debian: python3-notmuch2) when present, else through `notmuch show --format=json`.
Results: printed, and written to bench/out/threads-<years>/threads.json. Explained in
docs/threading.md.
"""

from __future__ import annotations

import argparse
import collections
import email.parser
import email.policy
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    LIST,
    OUT,
    log,
    mailarchive_bin,
    mbox_spans,
    message_bytes,
    parse_years,
    read_span,
    write_json,
    write_maildir,
    yearly_mboxes,
    years_label,
)

SYSTEM_PYTHON = "/usr/bin/python3"
SUBJECT_WINDOW = 90 * 86400  # mailarchive's store.SUBJECT_WINDOW

_DUMP = r"""
import sys, notmuch2
db = notmuch2.Database(mode=notmuch2.Database.MODE.READ_ONLY)
with open(sys.argv[1], "w", encoding="utf-8", errors="surrogateescape") as out:
    for msg in db.messages("*"):
        names = ",".join(str(p).rsplit("/", 1)[-1].split(".", 1)[0] for p in msg.filenames())
        out.write(f"{msg.messageid}\t{msg.threadid}\t{names}\n")
"""


# reading both tools -------------------------------------------------------------------------------

def notmuch_threads(env: dict[str, str], work: Path) -> tuple[dict[str, str], dict[str, list[int]],
                                                               str]:
    """notmuch's view: Message-ID -> thread id, and Message-ID -> corpus positions of its files."""
    tsv = work / "notmuch-threads.tsv"
    full_env = {**os.environ, **env}
    how = "notmuch2 bindings"
    ok = os.path.exists(SYSTEM_PYTHON) and subprocess.run(
        [SYSTEM_PYTHON, "-c", "import notmuch2"], capture_output=True).returncode == 0
    if ok:
        subprocess.run([SYSTEM_PYTHON, "-c", _DUMP, str(tsv)], env=full_env, check=True)
        thread, files = {}, {}
        for line in tsv.read_text(encoding="utf-8", errors="surrogateescape").splitlines():
            mid, tid, names = line.split("\t")
            thread[mid] = tid
            files[mid] = [int(n) for n in names.split(",") if n.isdigit()]
        return thread, files, how
    how = "notmuch show --format=json"
    out = subprocess.run(["notmuch", "show", "--format=json", "--body=false",
                          "--entire-thread=false", "*"], env=full_env, check=True,
                         capture_output=True).stdout
    thread, files = {}, {}

    def walk(node: object, tid: str) -> None:
        if isinstance(node, dict):
            thread[node["id"]] = tid
            names = node.get("filename") or []
            names = names if isinstance(names, list) else [names]
            files[node["id"]] = [int(n.rsplit("/", 1)[-1].split(".", 1)[0]) for n in names]
        elif isinstance(node, list):
            for item in node:
                walk(item, tid)

    for i, t in enumerate(json.loads(out)):
        walk(t, f"t{i}")
    return thread, files, how


def mailarchive_rows(archive: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(f"file:{archive / 'mailarchive.sqlite3'}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT m.num, m.message_id, m.synthetic_id, m.thread, m.in_reply_to, m.refs, "
            "m.subject, m.subject_norm, m.date, m.hash, m.from_name, m.from_addr "
            "FROM messages m JOIN lists l ON l.id = m.list_id "
            "WHERE l.name = ? ORDER BY m.num", (LIST,)).fetchall()
    finally:
        db.close()
    keys = ("num", "mid", "synthetic", "thread", "irt", "refs", "subject", "norm", "date", "hash",
            "from_name", "from_addr")
    out = []
    for r in rows:
        d = dict(zip(keys, r, strict=False))
        d["refs"] = tuple(str(d["refs"]).split()) if d["refs"] else ()
        out.append(d)
    return out


# raw headers, read the way notmuch reads them ----------------------------------------------------

_NM_ID = re.compile(r"<([^<>]*)>")
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.compat32)


def nm_ids(value: str | None) -> list[str]:
    """Message-IDs of a References / In-Reply-To value the notmuch way: every <...>, with
    whitespace inside the brackets dropped."""
    if not value:
        return []
    return [re.sub(r"\s+", "", m) for m in _NM_ID.findall(value) if m.strip()]


def headers_of(raw: bytes) -> dict[str, str | None]:
    msg = _HEADERS.parsebytes(raw)

    def get(name: str) -> str | None:
        values = msg.get_all(name)
        return None if not values else " ".join(str(v) for v in values)

    return {"message-id": get("message-id"), "in-reply-to": get("in-reply-to"),
            "references": get("references"), "message-id-count": str(len(msg.get_all(
                "message-id") or []))}


# comparing ----------------------------------------------------------------------------------------

def pairs(n: int) -> int:
    return n * (n - 1) // 2


def compare(a: dict[str, object], b: dict[str, object]) -> dict[str, object]:
    """Pair and whole-thread agreement of two partitions of the same keys."""
    groups_a: dict[object, list[str]] = collections.defaultdict(list)
    groups_b: dict[object, list[str]] = collections.defaultdict(list)
    cells: collections.Counter[tuple[object, object]] = collections.Counter()
    for key in a:
        groups_a[a[key]].append(key)
        groups_b[b[key]].append(key)
        cells[(a[key], b[key])] += 1
    pa = sum(pairs(len(v)) for v in groups_a.values())
    pb = sum(pairs(len(v)) for v in groups_b.values())
    both = sum(pairs(n) for n in cells.values())
    same = sum(1 for k in a if cells[(a[k], b[k])] == len(groups_a[a[k]]) == len(groups_b[b[k]]))
    same_threads = sum(1 for (x, y), n in cells.items()
                       if n == len(groups_a[x]) == len(groups_b[y]))
    return {
        "messages": len(a), "threads_mailarchive": len(groups_a), "threads_notmuch": len(groups_b),
        "identical_threads": same_threads,
        "pairs_mailarchive": pa, "pairs_notmuch": pb, "pairs_both": both,
        "pairs_either": pa + pb - both,
        "pair_agreement": both / (pa + pb - both) if pa + pb - both else 1.0,
        "messages_same_thread_set": same, "messages_same_thread_set_fraction": same / len(a),
        "groups_a": groups_a, "groups_b": groups_b,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", default="all", help="e.g. 2000-2003 (default: all, 1996-2015)")
    parser.add_argument("--examples", type=int, default=4, help="examples listed per class")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the archive and notmuch database of the previous run")
    args = parser.parse_args()
    years = parse_years(args.years)
    label = years_label(years)
    files = yearly_mboxes(years)
    work = OUT / f"threads-{label}"
    archive, maildir = work / "ma", work / "maildir"
    nm_env = {"NOTMUCH_CONFIG": str(work / "notmuch-config")}
    started = time.monotonic()
    spans = [s for f in files for s in mbox_spans(f)]
    if not (args.reuse and archive.exists() and (maildir / ".notmuch").exists()):
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        log(f"mailarchive import of {len(spans)} messages ({label})")
        subprocess.run([mailarchive_bin(), "import", LIST, *map(str, files), "--archive",
                        str(archive)], check=True, stdout=subprocess.DEVNULL)
        log("writing the maildir for notmuch")
        write_maildir(spans, maildir)
        (work / "notmuch-config").write_text(
            f"[database]\npath={maildir}\n[new]\ntags=\nignore=\n[search]\nexclude_tags=\n"
            "[maildir]\nsynchronize_flags=false\n[user]\nname=bench\n"
            "primary_email=bench@example.invalid\n")
        log("notmuch new")
        subprocess.run(["notmuch", "new", "--quiet"], env={**os.environ, **nm_env}, check=True,
                       stderr=subprocess.DEVNULL)
    log("reading thread membership from both")
    nm_thread, nm_files, how = notmuch_threads(nm_env, work)
    rows = mailarchive_rows(archive)

    # per corpus position: the raw headers (for explaining differences)
    log("reading raw headers")
    heads, pos_of_hash = [], {}
    for i, span in enumerate(spans):
        data = message_bytes(read_span(span))
        heads.append(headers_of(data))
        pos_of_hash.setdefault(hashlib.sha256(data).digest(), i)
    for r in rows:
        r["pos"] = pos_of_hash.get(bytes(r["hash"]))  # type: ignore[arg-type]
    nm_id_at = {p: mid for mid, ps in nm_files.items() for p in ps}

    by_mid: dict[str, list[dict[str, object]]] = collections.defaultdict(list)
    for r in rows:
        by_mid[str(r["mid"])].append(r)
    ma_thread = {mid: rs[0]["thread"] for mid, rs in by_mid.items()}
    dup_threads = sum(1 for rs in by_mid.values() if len({r["thread"] for r in rs}) > 1)
    dup_ids = {mid: len(rs) for mid, rs in by_mid.items() if len(rs) > 1}
    synthetic = [mid for mid, rs in by_mid.items() if rs[0]["synthetic"]]
    # the same message under two different ids (no Message-ID, or an id read differently):
    # matched through the corpus position of its bytes
    alias: dict[str, str] = {}
    for mid, rs in by_mid.items():
        if mid not in nm_thread:
            other = nm_id_at.get(rs[0]["pos"])  # type: ignore[arg-type]
            if other is not None and other not in ma_thread:
                alias[mid] = other
    common = [mid for mid in ma_thread if mid in nm_thread or mid in alias]
    only_ma = [mid for mid in ma_thread if mid not in nm_thread and mid not in alias]
    matched = set(alias.values())
    only_nm = [mid for mid in nm_thread if mid not in ma_thread and mid not in matched]
    a = {mid: ma_thread[mid] for mid in common}
    b = {mid: nm_thread[alias.get(mid, mid)] for mid in common}
    result = compare(a, b)
    groups_a, groups_b = result.pop("groups_a"), result.pop("groups_b")

    # explaining: every link one tool follows between two threads of the other -------------
    ma_groups_of = a
    nm_groups_of = b
    first_row = {mid: rs[0] for mid, rs in by_mid.items()}
    by_norm: dict[str, list[dict[str, object]]] = collections.defaultdict(list)
    for r in rows:
        if r["norm"]:
            by_norm[str(r["norm"])].append(r)

    from mailarchive.thread import is_reply  # the project's own rule, read-only use

    def subject_target(r: dict[str, object]) -> dict[str, object] | None:
        """The message a keyless reply was joined to by subject (mailarchive's fallback)."""
        if r["refs"] or r["irt"] or not is_reply(str(r["subject"])) or not r["norm"]:
            return None
        date = int(r["date"])  # type: ignore[call-overload]
        best = None
        for o in by_norm[str(r["norm"])]:
            if o["num"] >= r["num"]:  # type: ignore[operator]
                break
            if date - SUBJECT_WINDOW <= int(o["date"]) <= date and (  # type: ignore[call-overload]
                    best is None or o["date"] >= best["date"]):  # type: ignore[operator]
                best = o
        return best

    # (1) mailarchive joins what notmuch splits: links mailarchive followed across notmuch threads
    joins: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    split_groups = {g for g, mids in groups_a.items() if len({b[m] for m in mids}) > 1}
    phantom_parts: dict[str, set[object]] = collections.defaultdict(set)
    phantom_members: dict[str, list[str]] = collections.defaultdict(list)
    phantom_kinds: dict[str, set[str]] = collections.defaultdict(set)

    def missing_kind(key: str, r: dict[str, object]) -> str:
        """How mailarchive came to read `key` (an id of no message in the archive) in row r."""
        if r["pos"] is None:
            return "other"
        h = heads[r["pos"]]  # type: ignore[index]
        irt, refs = h["in-reply-to"] or "", h["references"] or ""
        if len(key) == 1:
            return "one-char"
        if f"<{key}>" not in irt + refs:
            return "bare"
        at = irt.find(f"<{key}>")
        if at > 0 and re.search(r"[A-Za-z\"]", irt[:at]) and "@" in key:
            return "address"
        return "other"

    for g in split_groups:
        for mid in groups_a[g]:
            for r in by_mid[mid]:
                copy = r is not by_mid[mid][0]
                keys = [(k, "References") for k in r["refs"]]  # type: ignore[attr-defined]
                if r["irt"] and r["irt"] not in r["refs"]:  # type: ignore[operator]
                    keys.append((str(r["irt"]), "In-Reply-To"))
                for key, where in keys:
                    if key in b:
                        if b[key] != b[mid]:
                            raw = (heads[r["pos"]][where.lower()] or "") \
                                if r["pos"] is not None else ""  # type: ignore[index]
                            if copy:
                                cls = "duplicate Message-ID: another copy's " + where
                            elif f"<{key}>" not in raw:
                                cls = (f"{where} id not in its own <> (bare, or '<Message-ID: "
                                       "<id>>'): mailarchive reads it, notmuch does not")
                            else:
                                cls = f"{where} link notmuch did not follow"
                            joins[cls].append({"message": mid, "links_to": key,
                                               "header": raw[:120]})
                    elif key not in ma_thread:
                        phantom_parts[key].add(b[mid])
                        phantom_members[key].append(mid)
                        phantom_kinds[key].add(missing_kind(key, r))
                target = subject_target(r)
                if target is not None and str(target["mid"]) in b and \
                        b[str(target["mid"])] != b[mid]:
                    joins["subject fallback (bare Re: without References/In-Reply-To)"].append(
                        {"message": mid, "links_to": str(target["mid"]),
                         "subject": str(r["subject"])[:80]})
    missing_classes = {
        "one-char": "a one-character id (<y>, <n>: answers typed at git send-email's "
                    "In-Reply-To prompt); notmuch ignores ids that short",
        "address": "an address taken for the In-Reply-To id ('Name <addr>', MH/Zmail style "
                   "'Message from X <addr> of DATE')",
        "bare": "an id read out of free text without <> (like \"x@y's message of DATE\")",
        "other": "shared reference to a message missing from the archive",
    }
    for key, parts in phantom_parts.items():
        if len(parts) < 2:
            continue
        members = phantom_members[key]
        kind = next(k for k in missing_classes if k in phantom_kinds[key])
        joins[missing_classes[kind]].append(
            {"missing": key, "notmuch_threads": str(len(parts)), "message": members[0],
             "messages": ", ".join(members[:4])})

    # (2) notmuch joins what mailarchive splits: links in the raw headers, read notmuch's way
    splits: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    split_nm = {g for g, mids in groups_b.items() if len({a[m] for m in mids}) > 1}
    nm_members = {m for g in split_nm for m in groups_b[g]}
    for mid in nm_members:
        for pos in nm_files.get(mid, []):
            if pos >= len(heads):
                continue
            h = heads[pos]
            copy = len(nm_files[mid]) > 1
            ma_refs = set(first_row[mid]["refs"]) | ({first_row[mid]["irt"]} - {None})
            for where in ("references", "in-reply-to"):
                for key in nm_ids(h[where]):
                    if key not in a or a[key] == a[mid] or key == mid:
                        continue
                    if key in ma_refs:
                        cls = "link mailarchive has but did not merge on"
                    elif copy:
                        cls = "duplicate Message-ID: notmuch merged the copies' links"
                    elif where == "in-reply-to" and key != (nm_ids(h[where]) or [None])[0]:
                        cls = ("In-Reply-To with several <...>: mailarchive reads only the first "
                               "(an address or an older id)")
                    elif re.search(r"<[^<>]*\s[^<>]*>", h[where] or ""):
                        cls = ("id folded across lines (whitespace inside <>): notmuch removes "
                               "the whitespace, mailarchive skips the id")
                    elif len(ma_refs) == 0 and not first_row[mid]["refs"]:
                        cls = f"{where.title()} that mailarchive could not parse"
                    else:
                        cls = f"{where.title()} id mailarchive reads differently"
                    splits[cls].append({"message": mid, "links_to": key,
                                        "header": (h[where] or "")[:160]})
    # notmuch threads joined only through its own id for a message without Message-ID etc.
    unexplained_nm = [g for g in split_nm if not any(
        e["message"] in groups_b[g] for es in splits.values() for e in es)]
    unexplained_ma = [g for g in split_groups if not any(
        e.get("message") in groups_a[g] for es in joins.values() for e in es)]

    def impact(classes: dict[str, list[dict[str, str]]], part_of: dict[str, object],
               groups: dict[object, list[str]], other: dict[str, object]
               ) -> dict[str, tuple[int, int]]:
        """Per class: (threads, message pairs the joining tool puts together there and the other
        tool does not). Each thread counts once, for the first class (in the order: broken ids
        first, subject fallback last) that has a link in it."""
        order = sorted(classes, key=lambda c: ("subject fallback" in c, -len(classes[c])))
        done: set[object] = set()
        out = {}
        for cls in order:
            touched = {part_of[e["message"]] for e in classes[cls]
                       if e.get("message") in part_of} - done
            done |= touched
            extra = 0
            for g in touched:
                members = groups[g]
                counts = collections.Counter(other[m] for m in members)
                extra += pairs(len(members)) - sum(pairs(n) for n in counts.values())
            out[cls] = (len(touched), extra)
        return out

    join_impact = impact(joins, a, groups_a, b)
    split_impact = impact(splits, b, groups_b, a)
    biggest = max(groups_a.values(), key=len)
    rest = {k: v for k, v in a.items() if k not in set(biggest)}
    without_biggest = compare(rest, {k: b[k] for k in rest}) if rest else None

    # how often a subject-fallback join is backed by the reply's own text: its body names an
    # author of the message it was joined to ("X wrote:") or quotes that message's Message-ID
    sub = joins.get("subject fallback (bare Re: without References/In-Reply-To)", [])
    backed = 0
    for e in sub:
        r, t = first_row[e["message"]], first_row[e["links_to"]]
        if r["pos"] is None:
            continue
        text = message_bytes(read_span(spans[r["pos"]])).decode("utf-8", "replace").lower()
        names = [str(t["from_name"]).lower(), str(t["from_addr"]).lower(),
                 str(t["from_addr"]).split("@")[0].lower()]
        if any(n and len(n) > 2 and n in text for n in names):
            backed += 1

    report = {
        "date": time.strftime("%Y-%m-%d"), "years": label, "notmuch_read_with": how,
        "corpus_messages": len(spans), "mailarchive_rows": len(rows),
        "mailarchive_ids": len(ma_thread), "notmuch_ids": len(nm_thread),
        "compared_ids": len(common), "matched_by_position": len(alias),
        "examples_matched_by_position": list(alias.items())[:5],
        "subject_fallback_links_backed_by_text": backed,
        "only_in_mailarchive": len(only_ma),
        "only_in_notmuch": len(only_nm), "examples_only_in_mailarchive": only_ma[:5],
        "examples_only_in_notmuch": only_nm[:5], "synthetic_ids": len(synthetic),
        "duplicate_ids": len(dup_ids), "duplicate_copies": sum(dup_ids.values()),
        "duplicate_ids_in_two_threads": dup_threads,
        **result,
        "mailarchive_threads_split_by_notmuch": len(split_groups),
        "notmuch_threads_split_by_mailarchive": len(split_nm),
        "largest_threads_mailarchive": sorted((len(v) for v in groups_a.values()),
                                              reverse=True)[:5],
        "largest_threads_notmuch": sorted((len(v) for v in groups_b.values()), reverse=True)[:5],
        "largest_mailarchive_thread_first_ids": sorted(biggest)[:3],
        "pair_agreement_without_largest_mailarchive_thread":
            without_biggest["pair_agreement"] if without_biggest else None,
        "joins": {k: {"links": len(v), "threads": join_impact[k][0],
                      "extra_pairs": join_impact[k][1], "examples": v[:args.examples]}
                  for k, v in sorted(joins.items(), key=lambda kv: -join_impact[kv[0]][1])},
        "splits": {k: {"links": len(v), "threads": split_impact[k][0],
                       "extra_pairs": split_impact[k][1], "examples": v[:args.examples]}
                   for k, v in sorted(splits.items(), key=lambda kv: -split_impact[kv[0]][1])},
        "unexplained_mailarchive_joins": [sorted(groups_a[g])[:6] for g in unexplained_ma[:5]],
        "unexplained_mailarchive_join_count": len(unexplained_ma),
        "unexplained_notmuch_joins": [sorted(groups_b[g])[:6] for g in unexplained_nm[:5]],
        "unexplained_notmuch_join_count": len(unexplained_nm),
        "seconds": round(time.monotonic() - started, 1),
    }
    del ma_groups_of, nm_groups_of
    write_json(work / "threads.json", report)
    print_report(report)
    print(f"\n(details in {work / 'threads.json'})")


def print_report(r: dict[str, object]) -> None:
    p = print
    p(f"thread membership, mailarchive vs notmuch, corpus {r['years']} ({r['date']}; notmuch "
      f"read with {r['notmuch_read_with']})")
    p(f"  corpus messages {r['corpus_messages']}; mailarchive rows {r['mailarchive_rows']} "
      f"({r['mailarchive_ids']} distinct Message-IDs, {r['synthetic_ids']} synthetic, "
      f"{r['duplicate_ids']} ids with >1 copy); notmuch ids {r['notmuch_ids']}")
    p(f"  compared: {r['compared_ids']} (of which {r['matched_by_position']} under different ids, "
      f"matched by the position of their bytes); only in mailarchive "
      f"{r['only_in_mailarchive']}, only in notmuch {r['only_in_notmuch']}")
    p(f"  threads: mailarchive {r['threads_mailarchive']}, notmuch {r['threads_notmuch']}, "
      f"identical {r['identical_threads']}")
    p(f"  message pairs in one thread: mailarchive {r['pairs_mailarchive']}, notmuch "
      f"{r['pairs_notmuch']}, both {r['pairs_both']}, either {r['pairs_either']} -> "
      f"agreement (both/either) {r['pair_agreement']:.4f}")
    p(f"  messages whose whole thread (as a set of ids) is identical: "
      f"{r['messages_same_thread_set']} of {r['messages']} "
      f"({r['messages_same_thread_set_fraction']:.2%})")
    p(f"  mailarchive threads that notmuch splits: {r['mailarchive_threads_split_by_notmuch']}; "
      f"notmuch threads that mailarchive splits: {r['notmuch_threads_split_by_mailarchive']}")
    p(f"  largest threads: mailarchive {r['largest_threads_mailarchive']}, notmuch "
      f"{r['largest_threads_notmuch']}; pair agreement without mailarchive's largest thread: "
      f"{r['pair_agreement_without_largest_mailarchive_thread']:.4f}")
    p("\n  per class: links = crossing links found; threads = threads of the joining tool "
      "explained by it;\n  pairs = message pairs co-threaded there by the joining tool only. "
      "A thread counts once,\n  for its first class: broken ids first, subject fallback last.")
    for title, key in (("links mailarchive follows and notmuch does not (mailarchive joins)",
                        "joins"),
                       ("links notmuch follows and mailarchive does not (notmuch joins)",
                        "splits")):
        p(f"\n  {title}:")
        for cls, v in r[key].items():  # type: ignore[attr-defined]
            p(f"    {v['links']:6d} links, {v['threads']:4d} threads, {v['extra_pairs']:7d} pairs"
              f"  {cls}")
            for e in v["examples"]:
                p(f"            e.g. {json.dumps(e, ensure_ascii=False)[:220]}")
    sub = r["joins"].get("subject fallback (bare Re: without References/In-Reply-To)")  # type: ignore[attr-defined]
    if sub:
        p(f"\n  subject-fallback links whose reply names an author of the joined message "
          f"(name or address in its text): {r['subject_fallback_links_backed_by_text']} of "
          f"{sub['links']}")
    p(f"\n  unexplained: mailarchive joins {r['unexplained_mailarchive_join_count']}, "
      f"notmuch joins {r['unexplained_notmuch_join_count']}")


if __name__ == "__main__":
    main()
