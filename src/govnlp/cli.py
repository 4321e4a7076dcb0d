"""The `govnlp` command: parses arguments, calls flows or the warehouse, prints with rich."""

from __future__ import annotations

import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from govnlp import arguments

app = typer.Typer(add_completion=False, no_args_is_help=True, help="govnlp: AI-governance documents into an analytical DuckDB warehouse.")
console = Console(stderr=True)
out = Console()

WarehouseOpt = Annotated[Optional[Path], typer.Option("--warehouse", "-w", help="Warehouse file, or a DuckLake: ducklake:postgres:<conninfo> or ducklake:sqlite:<file> (data folder: GOVNLP_LAKE_DATA_PATH) [env GOVNLP_WAREHOUSE; default warehouse/govnlp.duckdb].")]
ClusterOpt = Annotated[Optional[str], typer.Option("--cluster", help="Run the model stages' batches on Dask workers: local[:N] (N single-threaded worker processes on this machine) or tcp://HOST:PORT (a running dask scheduler). Default: in this process.")]


def _quiet_prefect(verbose: bool) -> None:
    """Prefect talks a lot; keep its logs and its shutdown noise out of users' faces unless asked."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
    # The first start of the ephemeral API migrates its database; 20 s is not enough on a small machine.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    # --cluster: Dask's scheduler and workers log every connection at INFO (workers inherit the variable).
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "info" if verbose else "error")


def _start_prefect_api_early(services: bool = False):
    """Boot the local Prefect API in a child process while the pipeline modules import (see flows/api.py)."""
    from flows.api import start_local_api

    return start_local_api(services)


def _wait_for_api(api) -> None:
    if api is not None:
        api.wait(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")))


def _settings(warehouse: Path | None = None, sources: list[Path] | None = None, cluster: str | None = None):
    return _checked(arguments.settings, warehouse=warehouse, sources=sources or None, cluster=cluster)


def _warehouse_name(settings) -> str:
    """The warehouse as a deployment parameter: a file's absolute path (workers start elsewhere), or the lake's name."""
    from govnlp.warehouse.target import is_lake

    return str(settings.warehouse) if is_lake(settings.warehouse) else str(settings.warehouse.absolute())


def _checked(check, *args, **kwargs):
    """Run an argument check; a bad value is one line and exit status 2, before any flow or API starts."""
    try:
        return check(*args, **kwargs)
    except ValueError as exc:
        _fail(str(exc), 2)


def _fail(message: str, code: int = 1) -> None:
    console.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _run_flow(fn, **kwargs) -> dict:
    from prefect.exceptions import CancelledRun

    from govnlp import cancel, progress
    from govnlp.warehouse import WarehouseBusy

    progress.enable(console)
    try:
        return fn(**kwargs)
    except (cancel.RunCancelled, CancelledRun):
        stopped = cancel.RunCancelled(cancel.requested() or signal.SIGINT)
        _fail(f"{stopped}; the run is recorded as cancelled and the next run goes on from there", stopped.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted; the open batch was rolled back and the next run goes on from there", 130)
    except WarehouseBusy as exc:
        _fail(str(exc), 75)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc), 2)
    except Exception as exc:
        from govnlp.fetch import SourceUnavailable

        if isinstance(exc, SourceUnavailable):
            _fail(f"{exc}; the run is recorded as failed, other sources are not affected", 1)
        raise


def _print_summary(result: dict) -> None:
    counts, seconds = result["counts"], result["seconds"]
    table = Table(title=f"run {result['run_id'][:8]} -> {result['warehouse']}", show_header=True)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key in sorted(counts):
        table.add_row(key, str(counts[key]))
    table.add_row("seconds", " ".join(f"{k}={v:.1f}" for k, v in seconds.items()) or "-")
    out.print(table)


@app.command()
def run(
    source: Annotated[Optional[list[str]], typer.Option("--source", "-s", help="A folder or file, a source name from sources.toml, or a URL (a feed, a sitemap or a page; recognised after fetching). Repeatable [default: raw/].")] = None,
    warehouse: WarehouseOpt = None,
    stages: Annotated[Optional[str], typer.Option(help="Comma-separated subset of ingest,dedup,entities,quotes,embed,themes,topics.")] = None,
    allow_private_hosts: Annotated[bool, typer.Option("--allow-private-hosts", help="Allow loopback and private addresses (tests, local mirrors); link-local and multicast stay refused.")] = False,
    cluster: ClusterOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect logs.")] = False,
) -> None:
    """Ingest new files and web documents, and bring every stored paragraph up to date with the current models and taxonomy."""
    _quiet_prefect(verbose)
    from govnlp.fetch import load_sources

    settings = _settings(warehouse, cluster=cluster)
    stage_list = _checked(arguments.stages, stages)
    configured = _checked(load_sources, settings.sources_file)
    names = {s.name for s in configured}
    _checked(arguments.run_sources, source, names)
    api = _start_prefect_api_early()
    plain_paths = source is None or all(Path(s).exists() and s not in names for s in source)
    _wait_for_api(api)
    if plain_paths:
        from flows.ingest import ingest_flow

        folders = [Path(s) for s in source] if source else settings.sources
        result = _run_flow(ingest_flow, sources=[str(s) for s in folders], warehouse=str(settings.warehouse), stages=stage_list,
                           cluster=settings.cluster)
        _print_summary(result)
        return
    from flows.sources import source_flow

    for spec in source:
        result = _run_flow(source_flow, source=spec, warehouse=str(settings.warehouse), stages=stage_list,
                           allow_private_hosts=allow_private_hosts or None, cluster=settings.cluster)
        if isinstance(result, dict) and result.get("skipped"):
            console.print(f"[yellow]{result['reason']}[/yellow]", soft_wrap=True)
            continue
        _print_summary(result)


@app.command()
def backfill(
    stages: Annotated[str, typer.Option(help="Stages to re-run over stored documents: entities,quotes,embed,themes,topics (ingest needs --source; topics re-clusters every paragraph).")] = "entities,quotes,embed,themes,topics",
    since: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Only documents published on or after this date.")] = None,
    until: Annotated[Optional[datetime], typer.Option(formats=["%Y-%m-%d"], help="Only documents published on or before this date.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Only documents from this folder or file, URL prefix, or web source (name); with --stages ingest a web source's archived pages are re-extracted from the raw store, without the network.")] = None,
    warehouse: WarehouseOpt = None,
    cluster: ClusterOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Re-process stored documents: a date range, a source, or chosen stages after a model or taxonomy change."""
    _quiet_prefect(verbose)
    from govnlp.fetch import load_sources

    settings = _settings(warehouse, cluster=cluster)
    stage_list = _checked(arguments.stages, stages)
    _checked(arguments.date_range, since, until)
    _checked(arguments.backfill_source, source, {s.name for s in _checked(load_sources, settings.sources_file)}, stage_list)
    api = _start_prefect_api_early()
    from flows.backfill import backfill_flow

    _wait_for_api(api)
    result = _run_flow(
        backfill_flow,
        stages=stage_list,
        since=since.date() if since else None,
        until=until.date() if until else None,
        source=str(source) if source else None,
        warehouse=str(settings.warehouse),
        cluster=settings.cluster,
    )
    _print_summary(result)


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="What to look for, in plain words.")],
    k: Annotated[int, typer.Option("-k", help="Number of paragraphs.")] = 5,
    warehouse: WarehouseOpt = None,
) -> None:
    """Semantic search: the stored paragraphs closest in meaning to TEXT."""
    _checked(arguments.positive, "-k", k)
    if not text.strip():
        _fail("give the words to search for", 2)
    from govnlp.embed import Embedder
    from govnlp.warehouse import WarehouseMissing, open_reader, queries

    settings = _settings(warehouse)
    try:
        con = open_reader(settings.warehouse)
    except WarehouseMissing as exc:
        _fail(str(exc))
    embedder = Embedder(settings.embed_model, settings.embed_device)
    rows = queries.semantic_search(con, embedder.encode_texts([text])[0], settings.embed_model, k)
    if not rows:
        _fail(f"no embeddings for model {settings.embed_model!r} in {settings.warehouse}")
    table = Table(show_lines=True)
    for col in ("score", "document", "date", "paragraph"):
        table.add_column(col)
    for score, title, published, pid, ptext in rows:
        table.add_row(f"{score:.3f}", (title or "")[:60], str(published or ""), ptext[:400])
    out.print(table)


@app.command()
def status(warehouse: WarehouseOpt = None) -> None:
    """What is in the warehouse, what is pending, and the last runs."""
    from govnlp.warehouse import WarehouseMissing, open_reader, queries

    settings = _settings(warehouse)
    try:
        con = open_reader(settings.warehouse)
    except WarehouseMissing as exc:
        _fail(str(exc))
    table = Table(title=str(settings.warehouse))
    table.add_column("table")
    table.add_column("rows", justify="right")
    for key, value in queries.summary(con).items():
        table.add_row(key, str(value))
    out.print(table)
    runs = Table(title="last runs")
    for col in ("run", "flow", "status", "started", "seconds", "counts"):
        runs.add_column(col)
    for run_id, flow, st, started, finished, _stages, counts in queries.recent_runs(con):
        secs = f"{(finished - started).total_seconds():.1f}" if finished else "-"
        runs.add_row(run_id[:8], flow, st, started.strftime("%Y-%m-%d %H:%M:%S"), secs, (counts or "")[:80])
    out.print(runs)


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="Cron for the folder ingestion when sources.toml schedules nothing (server time zone).")] = "0 6 * * *",
    source: Annotated[Optional[list[Path]], typer.Option("--source", "-s", help="Folders for that fallback folder ingestion.")] = None,
    warehouse: WarehouseOpt = None,
    allow_private_hosts: Annotated[bool, typer.Option("--allow-private-hosts")] = False,
    cluster: ClusterOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Serve one deployment per scheduled source in sources.toml, each on its own cron, until Ctrl-C (no Prefect server needed)."""
    _quiet_prefect(verbose)
    api = _start_prefect_api_early(services=True)
    from flows.schedule import scheduled_deployment, serve_sources, source_deployments
    from govnlp.fetch import load_sources

    settings = _settings(warehouse, source, cluster)
    try:
        configured = load_sources(settings.sources_file)
    except ValueError as exc:
        _fail(str(exc), 2)
    deployments = source_deployments(configured, _warehouse_name(settings), allow_private_hosts or settings.allow_private_hosts,
                                     settings.serve_lock_wait_seconds, settings.cluster)
    if not deployments:
        console.print(f"no source in {settings.sources_file} has a schedule: serving the folder ingestion of {', '.join(map(str, settings.sources))} on {cron!r}")
        deployments = [scheduled_deployment(cron, [str(s.absolute()) for s in settings.sources], _warehouse_name(settings), cluster=settings.cluster)]
    _wait_for_api(api)
    if api is not None:
        console.print(f"local Prefect API (with its scheduler) at {api.url}; it stops with this command")
    for d in deployments:
        console.print(f"serving [bold]{d.name}[/bold] on {d.schedules[0].schedule.cron!r}")
    serve_sources(deployments)


sources_app = typer.Typer(no_args_is_help=True, help="List, add and remove the sources in sources.toml.")
app.add_typer(sources_app, name="sources")


@sources_app.command("list")
def sources_list() -> None:
    """The configured sources."""
    from govnlp.fetch import load_sources

    settings = _settings()
    try:
        configured = load_sources(settings.sources_file)
    except ValueError as exc:
        _fail(str(exc), 2)
    table = Table(title=f"sources in {settings.sources_file}")
    for col in ("name", "kind", "location", "schedule", "publisher", "doc type"):
        table.add_column(col)
    for s in configured:
        table.add_row(s.name, s.kind, s.location, s.schedule or "-", s.publisher or "-", s.doc_type or "-")
    out.print(table)


@sources_app.command("add")
def sources_add(
    name: Annotated[str, typer.Argument(help="Lowercase name (letters, digits, dashes).")],
    location: Annotated[str, typer.Argument(help="Folder path, or the feed / sitemap / URL-list / page URL.")],
    kind: Annotated[Optional[str], typer.Option(help="folder, feed, sitemap, urls or page [default: folder for a path].")] = None,
    publisher: Annotated[Optional[str], typer.Option()] = None,
    doc_type: Annotated[Optional[str], typer.Option("--doc-type", help="Default document type when the wording rules find none.")] = None,
    language: Annotated[Optional[str], typer.Option()] = None,
    schedule: Annotated[Optional[str], typer.Option(help="Cron for `govnlp serve`, e.g. '0 * * * *'.")] = None,
    max_items: Annotated[Optional[int], typer.Option("--max-items", help="At most this many entries per run.")] = None,
) -> None:
    """Add a source to sources.toml (comments and layout kept)."""
    from govnlp.fetch import Source, add_source

    settings = _settings()
    if kind is None:
        if location.startswith(("http://", "https://")):
            _fail("give --kind feed, sitemap, urls or page for a URL", 2)
        kind = "folder"
    try:
        add_source(settings.sources_file, Source(name, kind, location, publisher, doc_type, language, schedule, max_items))
    except ValueError as exc:
        _fail(str(exc), 2)
    console.print(f"added {kind} source {name!r} to {settings.sources_file}")


@sources_app.command("remove")
def sources_remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a source from sources.toml (what it stored stays in the warehouse)."""
    from govnlp.fetch import remove_source

    settings = _settings()
    try:
        remove_source(settings.sources_file, name)
    except ValueError as exc:
        _fail(str(exc), 2)
    console.print(f"removed source {name!r} from {settings.sources_file}")


@sources_app.command("deployments")
def sources_deployments(output: Annotated[Path, typer.Option(help="Where to write it.")] = Path("prefect.yaml"), warehouse: WarehouseOpt = None) -> None:
    """Write prefect.yaml with one deployment per scheduled source, for a Prefect server and workers."""
    from flows.schedule import prefect_yaml
    from govnlp.fetch import load_sources

    settings = _settings(warehouse)
    output.write_text(prefect_yaml(load_sources(settings.sources_file), _warehouse_name(settings) if warehouse else None), encoding="utf-8")
    console.print(f"wrote {output}")


def _reader(settings):
    from govnlp.warehouse import WarehouseMissing, open_reader

    try:
        return open_reader(settings.warehouse)
    except WarehouseMissing as exc:
        _fail(str(exc))


def _writer(settings):
    from govnlp.warehouse import open_writer

    return open_writer(settings)


@app.command()
def check(warehouse: WarehouseOpt = None) -> None:
    """Integrity of the published warehouse: links between tables, half-written batches, pending work (exit 1 on problems)."""
    from govnlp.warehouse import integrity
    from govnlp.warehouse.connection import pending_migrations, schema_version

    settings = _settings(warehouse)
    con = _reader(settings)
    found = integrity.problems(con)
    pending = integrity.pending(con)
    out.print(f"warehouse {settings.warehouse}: schema version {schema_version(con)}"
              + (f", {len(pending_migrations(con))} migration(s) pending (run `govnlp migrate`)" if pending_migrations(con) else ""))
    out.print("pending paragraphs: " + ", ".join(f"{k} {v}" for k, v in pending.items()))
    for run_id, st in integrity.unfinished_runs(con):
        out.print(f"run {run_id[:8]} is {st}: the next run finishes its work")
    for stage, n, example in integrity.stage_failures(con):
        console.print(f"[yellow]skipped:[/yellow] {n} paragraph(s) made the {stage} stage fail and are skipped (table stage_errors), e.g. {example}", soft_wrap=True)
    for problem in found:
        console.print(f"[red]problem:[/red] {problem}", soft_wrap=True)
    if found:
        raise typer.Exit(1)
    out.print("[green]ok[/green]: every link resolves and no batch is half-written")


@app.command()
def migrate(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the migrations that would be applied.")] = False,
    warehouse: WarehouseOpt = None,
) -> None:
    """Bring the warehouse to the current schema (a backup copy is made first; runs do this on their own too)."""
    from govnlp.warehouse import WarehouseBusy
    from govnlp.warehouse.connection import pending_migrations, schema_version

    settings = _settings(warehouse)
    if dry_run:
        con = _reader(settings)
        todo = pending_migrations(con)
        out.print(f"schema version {schema_version(con)}; " + (f"would apply: {', '.join(n for _, n, _ in todo)}" if todo else "up to date"))
        return
    try:
        with _writer(settings) as writer:
            applied, version = writer.migrated, schema_version(writer.con)
    except WarehouseBusy as exc:
        _fail(str(exc), 75)
    from govnlp.warehouse.target import is_lake

    backup = "earlier snapshots stay readable in the lake" if is_lake(settings.warehouse) else f"backup in {settings.warehouse.parent / 'backups'}"
    out.print(f"schema version {version}; " + (f"applied {', '.join(applied)} ({backup})" if applied else "already up to date"))


@app.command("export")
def export_(
    directory: Annotated[Path, typer.Argument(help="Folder to write <table>.parquet files and schema.json into.")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Every table to Parquet, with the schema and its comments in schema.json (for sharing and backups)."""
    from govnlp.warehouse.transfer import export_tables

    counts = export_tables(_reader(_settings(warehouse)), directory)
    out.print(f"exported {sum(counts.values())} rows in {len(counts)} tables to {directory}")


@app.command("import")
def import_(
    directory: Annotated[Path, typer.Argument(help="A folder written by `govnlp export`.")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Restore an export into a new (empty) warehouse."""
    from govnlp.warehouse import WarehouseBusy
    from govnlp.warehouse.transfer import ImportRefused, import_tables

    settings = _settings(warehouse)
    try:
        with _writer(settings) as writer, writer.transaction() as con:
            counts = import_tables(con, directory)
    except (ImportRefused, FileNotFoundError) as exc:
        _fail(str(exc), 2)
    except WarehouseBusy as exc:
        _fail(str(exc), 75)
    out.print(f"imported {sum(counts.values())} rows in {len(counts)} tables into {settings.warehouse}")


def _analyst_session(settings):
    from govnlp.analyst import connect
    from govnlp.warehouse import WarehouseMissing

    try:
        return connect(settings.warehouse)
    except WarehouseMissing as exc:
        _fail(str(exc))


@app.command()
def sql(
    query: Annotated[Optional[str], typer.Argument(help="One query to run; without it an interactive prompt opens.")] = None,
    format_: Annotated[str, typer.Option("--format", "-f", help="table, csv, json or parquet (parquet needs --output).")] = "table",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the result here instead of stdout.")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """A read-only DuckDB session on the warehouse with every view, macro and search function ready."""
    import duckdb

    from govnlp.warehouse import shell

    _checked(shell.check_format, format_, output)  # before the session opens: a bad format is an argument error
    settings = _settings(warehouse)
    con = _analyst_session(settings)
    if query is None:
        shell.interactive(con, f"govnlp sql: {settings.warehouse} (read-only snapshot). {shell.HELP}")
        return
    try:
        rows = shell.run_query(con, query, format_, output)
    except (duckdb.Error, ValueError) as exc:
        _fail(str(exc))
    if output:
        console.print(f"{rows} rows written to {output}")


@app.command()
def docs(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for data-dictionary.md and data-dictionary.html.")] = Path("docs"),
    warehouse: WarehouseOpt = None,
) -> None:
    """Write the data dictionary (Markdown and HTML) generated from the schema comments."""
    from govnlp import docs as data_dictionary
    from govnlp.warehouse.connection import schema_version
    from govnlp.warehouse.dictionary import catalog

    settings = _settings(warehouse)
    con = _analyst_session(settings)
    text = data_dictionary.markdown(catalog(con), schema_version(con))
    output.mkdir(parents=True, exist_ok=True)
    (output / "data-dictionary.md").write_text(text, encoding="utf-8")
    (output / "data-dictionary.html").write_text(data_dictionary.html(text), encoding="utf-8")
    console.print(f"wrote {output / 'data-dictionary.md'} and {output / 'data-dictionary.html'}")


@app.command()
def report(
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path("report.html"),
    since: Annotated[Optional[datetime], typer.Option("--from", formats=["%Y-%m-%d"], help="First publication date.")] = None,
    until: Annotated[Optional[datetime], typer.Option("--to", formats=["%Y-%m-%d"], help="Last publication date.")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """One self-contained HTML report with charts (works offline)."""
    from govnlp.report import render_report
    from govnlp.warehouse.report_data import report_data

    _checked(arguments.date_range, since, until, ("--from", "--to"))
    settings = _settings(warehouse)
    con = _reader(settings)
    start, end = (since.date() if since else None), (until.date() if until else None)
    output.write_text(render_report(report_data(con, start, end), start, end), encoding="utf-8")
    console.print(f"wrote {output}")


def main() -> None:
    """Usage errors (unknown option, bad date, missing argument) as one line and exit status 2, like every other argument error."""
    from typer._click import exceptions as click_errors  # typer's own click (typer >= 0.20 vendors it)

    try:
        code = app(standalone_mode=False)  # returns the status of typer.Exit instead of exiting
    except typer.Abort:
        console.print("aborted")
        raise SystemExit(130) from None
    except click_errors.NoArgsIsHelpError as exc:
        exc.ctx and print(exc.ctx.get_help())
        raise SystemExit(0) from None
    except click_errors.ClickException as exc:
        command = f" {exc.ctx.command_path.split(' ', 1)[1]}" if getattr(exc, "ctx", None) and " " in exc.ctx.command_path else ""
        console.print(f"[red]error:[/red] {exc.format_message()} (see govnlp{command} --help)", soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
