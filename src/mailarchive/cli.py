"""The `mailarchive` command: each subcommand parses its arguments and calls one function."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from mailarchive import __version__
from mailarchive.config import Config, ConfigError
from mailarchive.config import load as load_config
from mailarchive.sources.mbox import QUOTINGS, envelope_line, quote_mboxrd
from mailarchive.store import DatabaseError, ListInfo, Store, StoreError, trouble

if TYPE_CHECKING:
    from mailarchive.ingest import Summary
    from mailarchive.model import Located, RawMessage
    from mailarchive.pagestore import Filled
    from mailarchive.parse import Limits
    from mailarchive.refresh import Summary as Refreshed

# Subcommands import what they need themselves: adding one message must not pay for the
# renderer, the search service or the parser pool (process start-up is most of its time).

CHECKPOINT_AFTER = 1000
"""A bulk import folds the search index and the write-ahead log into the database (SQLite
checkpoints small logs itself; FTS5 merges small additions itself)."""
ARCHIVE_KEY = "mailarchive.archive"
ARCHIVE_HELP = "The archive folder (default ./archive, or $MAILARCHIVE_ARCHIVE, or the config)."


F = TypeVar("F", bound=Callable[..., Any])


def archive_option(func: F) -> F:
    return click.option("--archive", "archive", default=None, help=ARCHIVE_HELP)(func)


def settings() -> Config:
    """The configuration loaded by the `mailarchive` group (defaults outside a command)."""
    context = click.get_current_context(silent=True)
    found = context.find_object(Config) if context else None
    return found if found is not None else load_config()


def open_store(folder: str | None, create: bool = False) -> Store:
    folder = folder or settings()["archive"]
    click.get_current_context().meta[ARCHIVE_KEY] = folder  # for `Commands`' messages
    try:
        return Store(folder, create=create)
    except StoreError as error:
        raise click.ClickException(str(error)) from error


def need_list(store: Store, name: str) -> ListInfo:
    found = store.get_list(name)
    if found is None:
        known = ", ".join(m.name for m in store.lists()) or "none yet"
        raise click.ClickException(f"no list called {name!r} in this archive (lists: {known})")
    return found


def check_list_name(name: str) -> None:
    from mailarchive.names import list_ok

    if not list_ok(name):
        raise click.ClickException(f"{name!r} cannot be a list name: use letters, digits, "
                                   "'.', '-' or '_' (up to 64, starting with a letter or digit)")


class Commands(click.Group):
    """The subcommands, with SQLite's failures said in one line with what to do."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DatabaseError as error:
            raise click.ClickException(trouble(error, ctx.meta.get(ARCHIVE_KEY))) from error


@click.group(cls=Commands)
@click.version_option(version=__version__, prog_name="mailarchive")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="A TOML settings file (default $MAILARCHIVE_CONFIG); see README.")
@click.pass_context
def main(context: click.Context, config_path: str | None) -> None:
    """mailarchive: archive mailing lists, thread them, serve and export them."""
    try:
        context.obj = load_config(config_path)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    from mailarchive.parse import use_limits

    use_limits(context.obj.limits)


@main.command("import")
@click.argument("list_name", metavar="LIST")
@click.argument("source", nargs=-1, required=True)
@click.option("--title", help="The list's title, shown on its pages.")
@click.option("--address", help="The list's posting address (for 'reply via email').")
@click.option("--subject-prefix", help='The tag the list puts in subjects, e.g. "[Salon]".')
@click.option("--mbox-quoting", type=click.Choice(QUOTINGS), default="mboxrd", show_default=True,
              help="How '>From ' lines are quoted in mbox sources.")
@click.option("--jobs", type=int, default=0, help="Parser processes (default: one per core).")
@archive_option
def import_cmd(list_name: str, source: tuple[str, ...], title: str | None, address: str | None,
               subject_prefix: str | None, mbox_quoting: str, jobs: int,
               archive: str | None) -> None:
    """Import mbox files (plain, .gz, .xz), maildirs, folders of messages, or - (stdin)."""
    from mailarchive import sources

    for spec in source:
        try:
            sources.check(spec)
        except sources.SourceError as error:
            raise click.ClickException(str(error)) from error
    check_list_name(list_name)
    store = open_store(archive, create=True)
    mlist = store.ensure_list(list_name, title, address, subject_prefix)
    one = source == ("-",)
    workers = 0 if one else (jobs or os.cpu_count() or 1)
    try:
        with nullcontext() if one else store.bulk_indexing():
            summary = _import(store, mlist, _items(source, mbox_quoting, workers > 0), workers,
                              settings().limits)
    except sources.SourceError as error:
        raise click.ClickException(f"{error} (what was read before it is archived)") from error
    if one and summary.read == 0:
        raise click.ClickException("standard input was empty: there was no message to import")
    if summary.added >= CHECKPOINT_AFTER:
        if sys.stderr.isatty():  # seconds of quiet after the progress bar, at a million messages
            click.echo("merging the search index...", err=True)
        store.fold_search_index(summary.added)
        store.checkpoint()
    click.echo(f"{list_name}: {summary.line()}")


def _items(specs: tuple[str, ...], quoting: str, located: bool
           ) -> Iterator[RawMessage | Located]:
    """The sources' messages; with `located`, big plain mbox files and maildirs as mail that
    the parsing processes read themselves."""
    from mailarchive import sources

    for spec in specs:
        yield from sources.items(spec, quoting) if located else sources.read(spec, quoting)


def _import(store: Store, mlist: ListInfo, raws: Iterator[RawMessage | Located], workers: int,
            limits: Limits) -> Summary:
    from mailarchive.ingest import ingest

    if not sys.stderr.isatty():
        return ingest(store, mlist, raws, workers, limits=limits)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"),
               TextColumn("{task.completed} messages"), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(f"importing into {mlist.name}", total=None)
        return ingest(store, mlist, raws, workers, lambda n: bar.advance(task, n), limits)


@main.command()
@click.argument("list_name", metavar="[LIST]", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@archive_option
def stats(list_name: str | None, as_json: bool, archive: str | None) -> None:
    """Per-list counts: messages, threads, months, messages with defects."""
    store = open_store(archive)
    lists = [need_list(store, list_name)] if list_name else store.lists()
    rows = [store.stats(m) for m in lists]
    if as_json:
        import json

        click.echo(json.dumps(rows if not list_name else rows[0], indent=2))
        return
    click.echo(f"{'list':<24}{'messages':>10}{'threads':>10}{'months':>8}{'defects':>9}")
    for row in rows:
        click.echo(f"{row['list']!s:<24}{row['messages']:>10}{row['threads']:>10}"
                   f"{row['months']:>8}{row['defects']:>9}")


@main.command("export-mbox")
@click.argument("list_name", metavar="LIST")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default="-",
              help="The mbox file to write (default: standard output).")
@archive_option
def export_mbox(list_name: str, output: str, archive: str | None) -> None:
    """Write LIST as mboxrd with every message's original bytes (the lossless export)."""
    store = open_store(archive)
    mlist = need_list(store, list_name)
    try:
        out = click.open_file(output, "wb")
    except OSError as error:  # nothing written: a file already there is left as it was
        raise _unwritable(output, error) from None
    try:
        with out:
            write_mbox(store, mlist, out)
    except BaseException as error:  # a full disk, a damaged message, Ctrl-C
        if output != "-" and Path(output).is_file():  # not /dev/null or a pipe
            Path(output).unlink(missing_ok=True)  # a cut-off mbox must not pass for a whole one
        if isinstance(error, OSError):
            raise _unwritable(output, error) from None
        raise


def _unwritable(output: str, error: OSError) -> click.ClickException:
    return click.ClickException(f"cannot write {output}: {error.strerror or error}")


def write_mbox(store: Store, mlist: ListInfo, out: IO[bytes]) -> None:
    for row, data in store.iter_raw(mlist):
        out.write(envelope_line(row.envelope, row.from_addr, row.date))
        out.write(quote_mboxrd(data))
        if not data.endswith(b"\n"):
            out.write(b"\n")
        out.write(b"\n")


@main.command()
@click.argument("query")
@click.option("--list", "list_name", help="Search only this list.")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--page", type=click.IntRange(1, 1000), default=1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the /api/search fields).")
@archive_option
def search(query: str, list_name: str | None, sort: str, limit: int, page: int, as_json: bool,
           archive: str | None) -> None:
    """Search the archive with the query language (see README): words, "phrases", from: ..."""
    from mailarchive.search.api import results_json
    from mailarchive.search.query import QueryError
    from mailarchive.search.service import search as run_search

    store = open_store(archive)
    if list_name:
        need_list(store, list_name)
    try:
        results = run_search(store, query, list_name=list_name, sort=sort, page=page,
                             per_page=limit)
    except QueryError as error:
        raise click.ClickException(str(error)) from error
    data = results_json(store, results)
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"{data['total']} messages match")
    for hit in data["hits"]:
        day = time.strftime("%Y-%m-%d", time.gmtime(hit["date"]))
        click.echo(f"{hit['list']}/{hit['number']}  {day}  {hit['from']}: {hit['subject']}")
        click.echo(f"    {hit['snippet']}")


@main.command()
@click.argument("list_name", metavar="LIST")
@click.argument("numbers", metavar="N...", nargs=-1, required=True, type=click.IntRange(1))
@click.option("--reason", required=True, help="Shown on the tombstone page, e.g. 'spam'.")
@archive_option
def remove(list_name: str, numbers: tuple[int, ...], reason: str, archive: str | None) -> None:
    """Purge messages from pages, search and downloads, leaving a tombstone with the reason."""
    store = open_store(archive)
    mlist = need_list(store, list_name)
    for num in numbers:
        done = store.remove(mlist, num, reason)
        click.echo(f"{list_name}/{num}: {'removed' if done else 'not found (or already removed)'}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(0, 64), default=0,
              help="Server processes (default: one per core).")
@click.option("--warm/--no-warm", default=True, show_default=True,
              help="Render the pages not kept yet in the background, at low priority.")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="Log every request on standard error (a reverse proxy usually does).")
@archive_option
def serve(host: str, port: int, workers: int, warm: bool, access_log: bool,
          archive: str | None) -> None:
    """Serve the archive's pages, feeds and downloads over HTTP."""
    import multiprocessing

    from mailarchive import pagestore, serving
    from mailarchive.render import compile_templates
    from mailarchive.web import ARCHIVE_VARIABLE

    folder = str(archive or settings()["archive"])
    open_store(folder).close()
    workers = workers or os.cpu_count() or 1
    try:
        sockets = serving.listen(host, port, workers)
    except serving.ListenError as error:
        raise click.ClickException(str(error)) from error
    compile_templates()
    if warm:
        multiprocessing.get_context("fork").Process(
            target=pagestore.warm, args=(folder,), daemon=True).start()
    options: dict[str, Any] = {"host": host, "port": port, "proxy_headers": True,
                               "server_header": False, "http": "mailarchive.web:NoDelayHttpTools",
                               "access_log": access_log}
    os.environ[ARCHIVE_VARIABLE] = folder
    serving.run(options, workers, sockets)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8024, show_default=True)
@click.option("--socket", "socket_path", type=click.Path(dir_okay=False),
              help="Listen on this Unix socket instead of TCP (e.g. inside Postfix's spool).")
@archive_option
def lmtp(host: str, port: int, socket_path: str | None, archive: str | None) -> None:
    """Take live mail over LMTP: each recipient names a list (by its address or its name)."""
    from mailarchive import lmtp as server

    store = open_store(archive)
    if not store.lists():
        raise click.ClickException("this archive has no lists yet: create one first with "
                                   "`mailarchive configure LIST --create --address ADDRESS`")
    try:
        server.serve(store, host, port, socket_path, settings().limits)
    except server.ListenError as error:
        raise click.ClickException(str(error)) from error


@main.command()
@click.argument("list_names", metavar="[LIST]...", nargs=-1)
@archive_option
def render(list_names: tuple[str, ...], archive: str | None) -> None:
    """Render the month indexes and message pages that are not kept yet, for `serve`."""
    from mailarchive import pagestore

    store = open_store(archive)
    for name in list_names:
        need_list(store, name)
    store.close()
    folder = str(archive or settings()["archive"])
    wanted = list(list_names) or None
    try:
        if sys.stderr.isatty():
            done = _render_with_bar(folder, wanted)
        else:
            done = pagestore.fill(folder, wanted)
    except (OSError, DatabaseError) as error:
        raise click.ClickException(f"cannot keep pages in {folder}: {error}") from error
    click.echo(f"{folder}: {done.line()}")


def _render_with_bar(folder: str, wanted: list[str] | None) -> Filled:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mailarchive import pagestore

    with Progress(TextColumn("rendering pages"), BarColumn(), TextColumn("{task.completed}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("render", total=pagestore.count(folder, wanted))
        return pagestore.fill(folder, wanted, progress=lambda n: bar.advance(task, n))


@main.command("refresh")
@click.option("--jobs", type=int, default=0, help="Parser processes (default: one per core).")
@archive_option
def refresh_cmd(jobs: int, archive: str | None) -> None:
    """Read every stored message again with this version's parser (after an upgrade)."""
    from mailarchive import refresh

    store = open_store(archive)
    workers = jobs or os.cpu_count() or 1
    with store.bulk_indexing():
        if sys.stderr.isatty():
            summary = _refresh_with_bar(store, workers)
        else:
            summary = refresh.refresh(store, workers, settings().limits)
    store.checkpoint()
    click.echo(f"{store.folder}: {summary.line()}")


def _refresh_with_bar(store: Store, workers: int) -> Refreshed:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from mailarchive import refresh

    total = sum(store.summary(mlist)[0] for mlist in store.lists())
    with Progress(TextColumn("reading messages again"), BarColumn(), TextColumn("{task.completed}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("refresh", total=total)
        return refresh.refresh(store, workers, settings().limits,
                               lambda n: bar.advance(task, n))


@main.command("export")
@click.argument("folder", metavar="DIR", type=click.Path(file_okay=False))
@click.option("--jobs", type=int, default=0, help="Processes (default: one per core).")
@archive_option
def export_cmd(folder: str, jobs: int, archive: str | None) -> None:
    """Write the archive as a static site in DIR (again: rewrites only what changed)."""
    from mailarchive.export import export
    from mailarchive.render.manifest import UnsafePath

    store = open_store(archive)
    try:
        summary = export(store, folder, jobs)
    except (UnsafePath, OSError) as error:
        raise click.ClickException(f"export to {folder} stopped: {error}") from error
    click.echo(f"{folder}: {summary.line()}")


@main.command()
@click.argument("list_name", metavar="LIST")
@click.option("--title", help="The list's title, shown on its pages.")
@click.option("--address", help="The list's posting address (for 'reply via email').")
@click.option("--subject-prefix", help='The tag the list puts in subjects, e.g. "[Salon]".')
@click.option("--obfuscate/--no-obfuscate", default=None,
              help="Hide addresses in public pages, feeds, search and downloads (default: on).")
@click.option("--create", is_flag=True, help="Create the list if it is not there yet.")
@archive_option
def configure(list_name: str, title: str | None, address: str | None,
              subject_prefix: str | None, obfuscate: bool | None, create: bool,
              archive: str | None) -> None:
    """Change a list's settings (the list's owner decides about address obfuscation)."""
    if create:
        check_list_name(list_name)
    store = open_store(archive, create=create)
    if not create:
        need_list(store, list_name)
    mlist = store.ensure_list(list_name, title, address, subject_prefix, obfuscate)
    click.echo(f"{mlist.name}: title {mlist.title!r}, address {mlist.address!r}, subject prefix "
               f"{mlist.subject_prefix!r}, addresses {'hidden' if mlist.obfuscate else 'shown'}")


def run() -> None:
    main(prog_name="mailarchive")


if __name__ == "__main__":
    run()
