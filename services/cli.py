"""``renshe``: run a service process, the local stack, or an operator task."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from services.platform import ENTRY_POINTS, SERVICES, Service

if TYPE_CHECKING:
    from services.runtime.rebuild import RebuildReport

app = typer.Typer(help="renshe: the grassroots labour and social-security platform.", no_args_is_help=True)
stack = typer.Typer(help="The local stack (make up / make down).", no_args_is_help=True)

DataDir = Annotated[Path, typer.Option(help="Where the stack keeps its data, logs and stack.env")]
PortBase = Annotated[int, typer.Option(help="First of the ports the stack listens on", envvar="RENSHE_PORT_BASE")]


def _run(service: Service, role: str) -> Callable[[], None]:
    """``renshe <service> <role>``: import the service's app module only when the command runs (starting
    one process must not import every service)."""

    def run() -> None:
        getattr(importlib.import_module(service.module), ENTRY_POINTS[role])()

    run.__doc__ = service.describe(role)
    return run


def service_commands(cli: typer.Typer, services: Sequence[Service] = SERVICES) -> dict[str, typer.Typer]:
    """One command group per listed service with a command per process it runs; returns the groups, to
    which a service adds its own commands."""
    groups = {}
    for service in services:
        group = typer.Typer(help=service.summary, no_args_is_help=True)
        for role in service.processes:
            group.command(role)(_run(service, role))
        cli.add_typer(group, name=service.name)
        groups[service.name] = group
    return groups


GROUPS = service_commands(app)
registration = GROUPS["registration"]
reporting = GROUPS["reporting"]
app.add_typer(stack, name="stack")


@registration.command("import-regions")
def registration_import_regions(
    file: Annotated[Path, typer.Argument(help="CSV with columns code,name,level,parent,urban_rural_class")],
) -> None:
    """Load the official division list into registration's region table (DATABASE_URL); exit 2 on a bad row."""
    import asyncio

    from services.registration.app import RegistrationSettings
    from services.registration.imports import import_regions, read_regions_file
    from services.runtime import regions
    from services.runtime.db import migrate, open_pool

    try:
        divisions = read_regions_file(file)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        typer.echo(f"renshe: {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    settings = RegistrationSettings()

    async def load() -> tuple[int, int]:
        pool = open_pool(settings.database_url, settings.schema_name, min_size=1, max_size=1)
        await pool.open(wait=True, timeout=30)
        try:
            async with pool.connection() as conn:
                await migrate(conn, settings.schema_name, regions.DDL)
                return await import_regions(conn, divisions)
        finally:
            await pool.close()

    try:
        new, updated = asyncio.run(load())
    except ValueError as exc:
        typer.echo(f"renshe: {file}: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"loaded {len(divisions)} regions from {file}: {new} new, {updated} updated")


@reporting.command("rebuild")
def reporting_rebuild(
    env_file: Annotated[
        Path | None, typer.Option(help="Read settings from this file too, e.g. .data/stack.env after make up")
    ] = None,
    batch: Annotated[int | None, typer.Option(min=100, help="Events per transaction (default 20,000)")] = None,
    shards: Annotated[
        int | None,
        typer.Option(min=1, help="Processes reading the topics in parallel (default: one per CPU)"),
    ] = None,
) -> None:
    """Drop every read model and rebuild it from the topics (and the producers' stores when a topic lost history).

    The running worker waits while the rebuild runs and then goes on; see docs/adr/0003-rebuild.md.
    """
    import asyncio

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from services.reporting.app import ReportingSettings
    from services.reporting.rebuild import rebuild_read_models
    from services.runtime.process import configure_logging
    from services.runtime.rebuild import RebuildFailed, RebuildProgress

    if env_file is not None and not env_file.exists():
        typer.echo(f"renshe: --env-file {env_file} does not exist", err=True)
        raise typer.Exit(2)
    settings = ReportingSettings(_env_file=env_file)
    configure_logging("WARNING")
    console = Console(stderr=True)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>9,.0f} events/s"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("rebuilding", total=None, rate=0.0)

        def show(progress: RebuildProgress) -> None:
            elapsed = bar.tasks[task].elapsed or 0.0
            rate = progress.read / elapsed if elapsed > 0 else 0.0
            bar.update(task, description=progress.phase, completed=progress.read, total=progress.total, rate=rate)

        try:
            asyncio.run(
                rebuild_read_models(
                    settings, batch_size=batch, shards=shards, on_progress=show, on_report=_print_rebuild
                )
            )
        except RebuildFailed as exc:
            typer.echo(f"renshe: rebuild incomplete: {exc}", err=True)
            raise typer.Exit(1) from exc


def _print_rebuild(report: RebuildReport) -> None:
    """What one read model's rebuild read, applied and checked."""
    for found in report.topics:
        if found.complete is None:
            check = "not checked against the store (no relay URL for this topic)"
        elif found.replayed_after is not None:
            check = f"history was missing; the relay republished after position {found.replayed_after}"
        else:
            check = f"holds all {found.store_events:,} events of the store"
        typer.echo(f"  {found.topic}: {found.messages:,} messages; {check}")
    typer.echo(
        f"rebuilt {report.consumer}: {report.applied:,} events applied from {report.read:,} messages"
        f" in {report.seconds:.1f} s ({report.events_per_second:,.0f} events/s); {report.dead_letters} dead letters"
    )


@stack.command("up")
def stack_up(
    data_dir: DataDir = Path(".data"),
    port_base: PortBase = 18100,
    demo: Annotated[bool, typer.Option(help="Also load the synthetic population (make demo)")] = False,
    demo_persons: Annotated[int, typer.Option(help="Persons the demo registers")] = 20_000,
    ready_timeout: Annotated[float, typer.Option(help="Seconds every process may take to become ready")] = 60.0,
) -> None:
    """Start the whole platform locally and write DATA_DIR/stack.env."""
    from services import stack as local

    try:
        values = local.up(data_dir, port_base, timeout=ready_timeout)
    except TimeoutError as exc:
        typer.echo(f"renshe: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"renshe is up in {values['STACK_READY_SECONDS']} s. Wrote {data_dir / 'stack.env'}:")
    for key, value in values.items():
        typer.echo(f"  {key}={value}")
    typer.echo("Open the API docs at $REGISTRATION_URL/docs and $REPORTING_URL/docs.")
    if demo:
        stack_demo(data_dir, demo_persons)


@stack.command("demo")
def stack_demo(
    data_dir: DataDir = Path(".data"),
    persons: Annotated[int, typer.Option(help="Persons to register")] = 20_000,
    seed: Annotated[int, typer.Option(help="The same seed gives the same county")] = 430527,
) -> None:
    """Simulate the demo county's last two years through the running stack's APIs."""
    import time

    from services import stack as local
    from services.demo import load_demo, staff_secret

    values = {**local.read_env(data_dir), **staff_secret(data_dir)}
    started = time.monotonic()
    typer.echo(f"Simulating the demo county ({persons:,} persons) through the services' APIs ...")
    counts = load_demo(values, persons=persons, seed=seed)
    for kind, count in counts.items():
        typer.echo(f"  {kind}: {count:,}")
    typer.echo(f"Demo loaded in {time.monotonic() - started:.1f} s.")
    typer.echo("Open the reporting dashboard at $DASHBOARD_URL (the link carries the development token).")


@stack.command("down")
def stack_down(data_dir: DataDir = Path(".data")) -> None:
    """Stop everything `stack up` started."""
    from services import stack as local

    local.down(data_dir)
    typer.echo("renshe is down.")


@stack.command("ctl", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def stack_ctl(ctx: typer.Context, data_dir: DataDir = Path(".data")) -> None:
    """Pass a command to supervisorctl, e.g. `renshe stack ctl restart reporting-worker`."""
    from services import stack as local

    result = local.stack_at(data_dir, 0).ctl(*ctx.args, check=False)
    typer.echo(result.stdout.rstrip())
    raise typer.Exit(result.returncode)


@app.command("token")
def token(
    role: Annotated[str, typer.Option(help="village, township, county, analyst, inspector or admin")] = "admin",
    region: Annotated[str, typer.Option(help="Region scope, 6 or 12 digits")] = "430527",
    subject: Annotated[str, typer.Option(help="Staff id")] = "dev-admin",
    data_dir: DataDir = Path(".data"),
) -> None:
    """Print a development token signed with the local stack's secret."""
    from services import stack as local
    from services.runtime.auth import Role, issue_token

    try:
        parsed_role = Role(role)
    except ValueError:
        typer.echo(f"renshe: --role must be one of {', '.join(r.value for r in Role)}", err=True)
        raise typer.Exit(2) from None
    secret = os.environ.get("JWT_SECRET") or local.stack_at(data_dir, 0).secrets()["JWT_SECRET"]
    try:
        typer.echo(issue_token(secret, subject=subject, role=parsed_role, region=region))
    except ValueError as exc:
        typer.echo(f"renshe: --region: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command("contracts")
def contracts(out: Annotated[Path, typer.Option(help="Folder to write into")] = Path("contracts")) -> None:
    """Write the JSON Schema of every event and the AsyncAPI document."""
    from services.contracts_docs import write_contract_documents
    from services.deploy_docs import write_kafka_topics, write_service_manifests

    for path in [*write_contract_documents(out), write_kafka_topics(Path(".")), *write_service_manifests(Path("."))]:
        typer.echo(f"wrote {path}")


def main() -> None:
    """Entry point of the `renshe` command."""
    app()
