"""The ``phieukin`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from app import migrations
from app.settings import get_settings
from ballots import accounts, rounds, units
from ballots.db import make_engine, make_session_factory, transaction
from ballots.errors import DomainError
from ballots.vocabulary import UserRole

cli = typer.Typer(
    help="Phiếu Kín: anonymous secret-ballot feedback.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_cli = typer.Typer(help="Staff accounts.", no_args_is_help=True)
import_cli = typer.Typer(help="Import units and subjects from CSV.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(admin_cli, name="admin")
cli.add_typer(import_cli, name="import")

SAMPLE_DIR_HELP = "Folder with long_bien_units.csv and long_bien_subjects.csv."


def _factory():  # type: ignore[no-untyped-def]
    return make_session_factory(make_engine(get_settings().database_url))


def _fail(exc: DomainError) -> None:
    typer.secho(f"Error: {exc.message}", fg=typer.colors.RED, err=True)
    for problem in exc.details.get("errors", []) or []:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(code=1)


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    proxy_headers: Annotated[
        bool, typer.Option(help="Trust X-Forwarded-* from a reverse proxy you run.")
    ] = False,
) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    get_settings().secret_key_bytes()  # create the key file once, before workers race
    uvicorn.run(
        "app.asgi:app",
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        log_config=None,
    )


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema."""
    settings = get_settings()
    migrations.upgrade(settings.database_url)
    settings.secret_key_bytes()  # the key belongs with the database: make it now
    typer.echo("Database is at the newest schema.")


def _read_password() -> str:
    if sys.stdin.isatty():
        password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return password
    return sys.stdin.readline().rstrip("\n")


@admin_cli.command("create")
def admin_create(
    username: str,
    full_name: Annotated[str, typer.Option("--full-name", help="Shown on pages.")] = "",
    role: Annotated[UserRole, typer.Option(help="admin or observer.")] = UserRole.ADMIN,
) -> None:
    """Create a staff account; the password is read from a prompt or standard input."""
    password = _read_password()
    try:
        with transaction(_factory()) as session:
            user = accounts.create_user(
                session,
                username=username,
                full_name=full_name or username,
                role=role,
                password=password,
            )
            typer.echo(f"Created {user.role.value} {user.username}.")
    except DomainError as exc:
        _fail(exc)


@import_cli.command("units")
def import_units(file: Path) -> None:
    """Create or update units from CSV (code,kind,level,name,ward[,electorate])."""
    try:
        with transaction(_factory()) as session:
            summary = units.import_units(session, file.read_bytes())
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"Units: {summary.created} created, {summary.updated} updated.")


@import_cli.command("subjects")
def import_subjects(
    file: Path, round_id: Annotated[int, typer.Option("--round", help="Round id.")]
) -> None:
    """Record who heads each unit in a round from CSV (unit_code,role,full_name)."""
    try:
        with transaction(_factory()) as session:
            created, updated = rounds.import_subjects(session, round_id, file.read_bytes())
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"Subjects: {created} created, {updated} updated.")


@cli.command()
def demo(
    sample_dir: Annotated[Path | None, typer.Option(help=SAMPLE_DIR_HELP)] = None,
) -> None:
    """Migrate, load the Long Biên sample round and print how to log in."""
    from app.demo import load_demo

    settings = get_settings()
    migrations.upgrade(settings.database_url)
    settings.secret_key_bytes()
    try:
        with transaction(_factory()) as session:
            result = load_demo(
                session, sample_dir=sample_dir, threshold=settings.anonymity_threshold
            )
    except DomainError as exc:
        _fail(exc)
    typer.echo(result.describe(settings.public_base_url))


def main() -> None:
    """Entry point of the ``phieukin`` script."""
    cli()
