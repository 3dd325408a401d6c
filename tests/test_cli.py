"""The `mailarchive` command as a user runs it: real processes, real files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailarchive.cli import main
from mailarchive.sources.mbox import read_mbox

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "salon.mbox"


def cli(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailarchive", *args], input=stdin,
                          capture_output=True, env=env, check=False,
                          text=stdin is None)  # type: ignore[call-overload, no-any-return]


def test_import_stats_export_round_trip(tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    first = cli("import", "--archive", archive, "salon", str(SAMPLE), "--subject-prefix",
                "[Salon]", "--title", "The Salon", "--address", "salon@lists.example.org")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("salon: read 56, added 56, already present 0")
    again = cli("import", "--archive", archive, "salon", str(SAMPLE))
    assert "added 0, already present 56" in again.stdout
    stats = json.loads(cli("stats", "salon", "--json", "--archive", archive).stdout)
    assert stats["messages"] == 56 and stats["months"] == 3 and 1 < stats["threads"] < 56
    out = tmp_path / "out.mbox"
    assert cli("export-mbox", "salon", "-o", str(out), "--archive", archive).returncode == 0
    assert out.read_bytes() == SAMPLE.read_bytes()


def test_one_message_on_stdin(tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    message = b"From: a@example.org\nSubject: hello\nMessage-ID: <one@x>\n\nHi\n"
    done = cli("import", "--archive", archive, "l", "-", stdin=message)
    assert done.returncode == 0 and b"added 1" in done.stdout
    out = cli("export-mbox", "l", "--archive", archive)
    assert out.stdout.endswith(
        "\nFrom: a@example.org\nSubject: hello\nMessage-ID: <one@x>\n\nHi\n\n")


def test_empty_input_is_no_message(tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    empty = cli("import", "--archive", archive, "l", "-", stdin=b"")
    assert empty.returncode == 1
    assert empty.stderr.strip() == (b"Error: standard input was empty: there was no message to "
                                    b"import")
    (tmp_path / "empty.mbox").write_bytes(b"")
    done = cli("import", "--archive", archive, "l", str(tmp_path / "empty.mbox"))
    assert done.returncode == 0 and "read 0, added 0" in done.stdout
    assert cli("export-mbox", "l", "--archive", archive).stdout == ""


def test_search_command(tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    cli("import", "--archive", archive, "salon", str(SAMPLE), "--subject-prefix", "[Salon]")
    data = json.loads(cli("search", "--archive", archive, "--json", "salon").stdout)
    assert data["total"] > 0
    hit = data["hits"][0]
    assert set(hit) >= {"list", "number", "message_id", "subject", "from", "date", "url",
                        "snippet"}
    assert hit["url"] == f"/salon/msg{hit['number']}.html"


@pytest.mark.parametrize("args,message", [
    (["stats", "--archive", "/nonexistent/archive"], "no archive here"),
    (["import", "--archive", "{tmp}", "salon", "/no/such.mbox"], "no such file or folder"),
    (["import", "--archive", "{tmp}", "../evil", str(SAMPLE)], "cannot be a list name"),
    (["stats", "nolist", "--archive", "{archive}"], "no list called 'nolist'"),
    (["search", '"unclosed', "--archive", "{archive}"], "Unbalanced quote"),
    (["--config", "/no/such.toml", "stats"], "no such configuration file"),
    (["stats", "--archive", "{garbage}"], "not a usable archive database (file is not a database)"),
    (["export-mbox", "salon", "-o", "/no/such/dir/out.mbox", "--archive", "{archive}"],
     "cannot write /no/such/dir/out.mbox: No such file or directory"),
])
def test_errors_are_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    archive = tmp_path / "archive"
    CliRunner().invoke(main, ["import", "--archive", str(archive), "salon", str(SAMPLE)])
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "mailarchive.sqlite3").write_bytes(b"not an SQLite file at all\n" * 200)
    args = [a.format(tmp=tmp_path / "t", archive=archive, garbage=garbage) for a in args]
    done = cli(*args)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_config_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "ma.toml"
    config.write_text(f'archive = "{tmp_path / "from-config"}"\nmax_parts = 5\n')
    done = CliRunner().invoke(main, ["--config", str(config), "import", "l", str(SAMPLE)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "from-config" / "mailarchive.sqlite3").exists()
    config.write_text("max_parts = -3\n")
    bad = cli("--config", str(config), "stats")
    assert "max_parts = -3 is not a valid positive whole number" in bad.stderr
    config.write_text("colour = 'blue'\n")
    assert "unknown setting 'colour'" in cli("--config", str(config), "stats").stderr


def test_remove_purges_and_leaves_a_tombstone(tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    cli("import", "--archive", archive, "salon", str(SAMPLE), "--subject-prefix", "[Salon]")
    before = json.loads(cli("search", "--archive", archive, "--json", "--limit", "100",
                            "salon").stdout)
    victim = before["hits"][0]["number"]
    done = cli("remove", "salon", str(victim), "--reason", "posted by mistake", "--archive",
               archive)
    assert done.stdout.strip() == f"salon/{victim}: removed"
    after = json.loads(cli("search", "--archive", archive, "--json", "--limit", "100",
                           "salon").stdout)
    assert after["total"] == before["total"] - 1
    assert victim not in [h["number"] for h in after["hits"]]
    from mailarchive.store import Store

    store = Store(archive, create=False)
    mlist = store.get_list("salon")
    assert mlist is not None
    assert store.tombstone(mlist, victim) == "posted by mistake"
    assert store.message(mlist, victim) is None
    assert all(row.num != victim for row, _ in store.iter_raw(mlist))
    again = cli("remove", "salon", str(victim), "--reason", "x", "--archive", archive)
    assert "not found" in again.stdout


def test_configure_changes_list_settings(tmp_path: Path) -> None:
    archive = str(tmp_path / "a")
    cli("import", "--archive", archive, "salon", str(SAMPLE))
    done = cli("configure", "salon", "--no-obfuscate", "--title", "Salon", "--archive", archive)
    assert done.stdout.strip() == ("salon: title 'Salon', address '', subject prefix '', "
                                   "addresses shown")
    done = cli("configure", "salon", "--obfuscate", "--archive", archive)
    assert done.stdout.strip().endswith("addresses hidden")


def test_configured_limits_apply_to_display_too(tmp_path: Path) -> None:
    from mailarchive.parse import DEFAULT_LIMITS, limits_in_use, use_limits
    from mailarchive.render.body import parts_of

    files = b"".join(b"--b\nContent-Type: application/octet-stream\n"
                     b'Content-Disposition: attachment; filename="f%d.bin"\n\nx\n' % i
                     for i in range(6))
    data = (b"From: a@example.org\nSubject: files\nMIME-Version: 1.0\n"
            b'Content-Type: multipart/mixed; boundary="b"\n\n' + files + b"--b--\n")
    config = tmp_path / "ma.toml"
    config.write_text(f'archive = "{tmp_path / "a"}"\nmax_parts = 4\n')
    try:
        done = CliRunner().invoke(main, ["--config", str(config), "import", "l", "-"],
                                  input=b"From x Mon Jun  2 10:00:00 2025\n" + data)
        assert done.exit_code == 0, done.output
        assert limits_in_use().max_parts == 4  # what `serve` and `export` then display with
        assert [p.filename for p in parts_of(data)] == ["f0.bin", "f1.bin", "f2.bin", "f3.bin"]
    finally:
        use_limits(DEFAULT_LIMITS)
    assert len(parts_of(data)) == 6


def test_a_bulk_import_folds_the_search_index(tmp_path: Path) -> None:
    """After a bulk import the full-text index is one b-tree (a search looks its words up in
    each), and still finds what was in each of the imports before."""
    import apsw

    from mailarchive.cli import CHECKPOINT_AFTER

    archive = tmp_path / "a"
    assert cli("import", "--archive", str(archive), "salon", str(SAMPLE)).returncode == 0
    bulk = tmp_path / "bulk.mbox"
    bulk.write_bytes(b"".join(
        b"From bulk@example.org Mon Jan  1 00:00:00 2024\n"
        b"From: Bulk <bulk@example.org>\nSubject: note %d\nMessage-ID: <bulk%d@example.org>\n"
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nzebracorn number %d\n\n" % (i, i, i)
        for i in range(CHECKPOINT_AFTER)))
    done = cli("import", "--archive", str(archive), "salon", str(bulk))
    assert f"added {CHECKPOINT_AFTER}," in done.stdout, done.stderr
    db = apsw.Connection(str(archive / "mailarchive.sqlite3"))
    assert db.execute("SELECT count(DISTINCT segid) FROM fts_idx").fetchall() == [(1,)]
    merging = db.execute("SELECT k, v FROM fts_config WHERE k LIKE '%merge' ORDER BY k")
    assert merging.fetchall() == [("automerge", 4), ("crisismerge", 16)]  # FTS5's own again
    for query, at_least in (("zebracorn", 20), ("prince", 1)):
        found = json.loads(cli("search", "--archive", str(archive), "--json", query).stdout)
        assert found["total"] >= at_least


def test_while_a_bulk_import_writes_the_search_index_is_merged_only_at_its_end(
        tmp_path: Path) -> None:
    """Inside `bulk_indexing` every commit leaves its own b-tree (FTS5 merges none of them),
    where its own settings merge as they go; FTS5's settings come back after, even when the
    import fails, and the fold at the end makes one b-tree of them all."""
    from mailarchive.ingest import add_one
    from mailarchive.model import RawMessage
    from mailarchive.store import BULK_CACHE_KIB, Store

    store = Store(tmp_path / "a")
    mlist = store.ensure_list("l")

    def b_trees() -> int:
        return int(store.db.execute("SELECT count(DISTINCT segid) FROM fts_idx").fetchone()[0])

    def settings() -> dict[str, int]:
        return dict(store.db.execute("SELECT k, v FROM fts_config WHERE k LIKE '%merge'"))

    def deliver(numbers: range) -> None:
        for i in numbers:
            data = b"From: a@example.org\nMessage-ID: <m%d@example.org>\n\nword%d\n" % (i, i)
            assert add_one(store, mlist, RawMessage(data, f"test:{i}")) is not None

    deliver(range(30))
    assert b_trees() < 30  # merged as they came
    before = b_trees()
    cache = store.db.execute("PRAGMA cache_size").fetchone()[0]
    with pytest.raises(RuntimeError), store.bulk_indexing():
        assert settings() == {"automerge": 0, "crisismerge": 64}
        assert store.db.execute("PRAGMA cache_size").fetchone()[0] == -BULK_CACHE_KIB
        deliver(range(30, 60))
        assert b_trees() == before + 30
        raise RuntimeError("the import fails")
    assert settings() == {"automerge": 4, "crisismerge": 16}
    assert store.db.execute("PRAGMA cache_size").fetchone()[0] == cache
    assert store.fold_search_index(60) == "folded" and b_trees() == 1


def test_a_small_bulk_import_into_a_big_archive_merges_for_its_own_size(tmp_path: Path) -> None:
    """Folding rewrites the whole index: an import of less than a quarter of the archive only
    merges about as many pages as it added (FTS5 goes on where the last merge stopped)."""
    from mailarchive.store import Store

    archive = tmp_path / "a"
    assert cli("import", "--archive", str(archive), "salon", str(SAMPLE)).returncode == 0
    store = Store(archive)
    messages = 56
    assert store.fold_search_index(messages // 4 - 1) == "merged"
    assert store.fold_search_index(messages // 4) == "folded"
    found = json.loads(cli("search", "--archive", str(archive), "--json", "prince").stdout)
    assert found["total"] >= 1


@pytest.mark.parametrize("suffix,compress", [(".xz", "lzma"), (".gz", "gzip")])
def test_a_truncated_compressed_mbox_is_one_line_and_keeps_what_came_before(
        tmp_path: Path, suffix: str, compress: str) -> None:
    import importlib

    packed = importlib.import_module(compress).compress(SAMPLE.read_bytes())
    path = tmp_path / f"salon.mbox{suffix}"
    path.write_bytes(packed[: len(packed) * 3 // 4])
    archive = str(tmp_path / "a")
    done = cli("import", "--archive", archive, "salon", str(path))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"Error: {path}: the compressed file is truncated (")
    assert done.stderr.endswith("(what was read before it is archived)\n")
    from mailarchive import sources

    whole = [raw.data for raw in sources.read(str(SAMPLE))]
    out = tmp_path / "kept.mbox"
    assert cli("export-mbox", "salon", "-o", str(out), "--archive", archive).returncode == 0
    stored = [raw.data for raw in read_mbox(io.BytesIO(out.read_bytes()), "x")]
    assert 30 < len(stored) < 56 and stored == whole[:len(stored)]  # all but the one cut off
