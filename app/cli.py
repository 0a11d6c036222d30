"""The ``phieukin`` command line."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine  # layers: each command opens its engine, as a request does
from sqlalchemy.orm import Session

from app import migrations, share_files
from app.errors import console_line
from app.settings import get_settings
from ballots import (
    account_admin,
    accounts,
    audit,
    consistency,
    leaders,
    lifecycle,
    lottery,
    minutes,
    rounds,
    scrub,
    subjects,
    tokens,
    units,
)
from ballots.db import make_engine, make_session_factory, transaction, utcnow
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
tokens_cli = typer.Typer(help="One-time tokens and print-ready slips.", no_args_is_help=True)
lottery_cli = typer.Typer(help="The school lottery.", no_args_is_help=True)
round_cli = typer.Typer(help="Open, close and publish a round.", no_args_is_help=True)
audit_cli = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
leaders_cli = typer.Typer(help="Logins for the heads of a published round.", no_args_is_help=True)
cli.add_typer(leaders_cli, name="leaders")
cli.add_typer(tokens_cli, name="tokens")
cli.add_typer(lottery_cli, name="lottery")
cli.add_typer(round_cli, name="round")
cli.add_typer(audit_cli, name="audit")

# The audit log names who acted; at the console that is the operator of the server.
CLI_ACTOR = f"cli:{getpass.getuser()}"
SAMPLE_DIR_HELP = "Folder with long_bien_units.csv and long_bien_subjects.csv."


def _engine() -> Engine:
    return make_engine(get_settings().database_url)


YesOpt = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (for scripts).")
]


def _confirm(yes: bool, what: str) -> None:
    """Say what cannot be undone and ask; ``--yes`` skips the question (no answer: no)."""
    if yes:
        return
    typer.echo(what)
    typer.confirm("Go ahead?", abort=True)


@contextmanager
def use_case(engine: Engine | None = None) -> Iterator[Session]:
    """One command, one transaction; a domain error is printed from the table, exit code 1."""
    try:
        with transaction(make_session_factory(engine or _engine())) as session:
            yield session
    except DomainError as exc:
        typer.secho(console_line(exc), fg=typer.colors.RED, err=True)
        for problem in exc.details.get("errors", []) or []:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(code=1) from None


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
    from app.logs import configure_logging
    from app.server import uvicorn_options

    configure_logging()
    uvicorn.run(
        "app.asgi:app",
        **uvicorn_options(host=host, port=port, workers=workers, proxy_headers=proxy_headers),
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
    with use_case() as session:
        user = accounts.create_user(
            session,
            username=username,
            full_name=full_name or username,
            role=role,
            password=password,
            actor=CLI_ACTOR,
        )
        typer.echo(f"Created {user.role.value} {user.username}.")


@admin_cli.command("list")
def admin_list() -> None:
    """Every account with its role and whether it is active."""
    with use_case() as session:
        users = account_admin.list_users(session)
        for u in users:
            state = "active" if u.is_active else "disabled"
            typer.echo(f"{u.username:16} {u.role.value:9} {state:9} {u.full_name}")


@admin_cli.command("disable")
def admin_disable(username: str, yes: YesOpt = False) -> None:
    """Disable an account: its sessions end at once and it cannot log in."""
    _confirm(
        yes,
        f"Disabling {username} logs it out everywhere now. It can be enabled again later, "
        "but the sessions ended cannot be restored.",
    )
    with use_case() as session:
        account_admin.disable_user(session, username, actor=CLI_ACTOR)
    typer.echo(f"{username} is disabled.")


@admin_cli.command("enable")
def admin_enable(username: str) -> None:
    """Let a disabled account log in again."""
    with use_case() as session:
        account_admin.enable_user(session, username, actor=CLI_ACTOR)
    typer.echo(f"{username} is enabled.")


@admin_cli.command("reset-password")
def admin_reset_password(username: str, yes: YesOpt = False) -> None:
    """Forget a password and print a one-time setup code to hand over in person."""
    _confirm(yes, f"The password of {username} stops working now and its sessions end.")
    with use_case() as session:
        reset = account_admin.reset_password(session, username, actor=CLI_ACTOR, now=utcnow())
    typer.echo(f"Setup code for {reset.user.username}: {reset.setup_code}")
    typer.echo(f"Valid until {reset.expires_at:%Y-%m-%d %H:%M} UTC, once, at /setup.")


@import_cli.command("units")
def import_units(file: Path) -> None:
    """Create or update units from CSV (code,kind,level,name,ward[,electorate])."""
    with use_case() as session:
        summary = units.import_units(session, file.read_bytes(), actor=CLI_ACTOR)
    typer.echo(f"Units: {summary.created} created, {summary.updated} updated.")


@import_cli.command("subjects")
def import_subjects(
    file: Path, round_id: Annotated[int, typer.Option("--round", help="Round id.")]
) -> None:
    """Record who heads each unit in a round from CSV (unit_code,role,full_name)."""
    with use_case() as session:
        created, updated = subjects.import_subjects(
            session, round_id, file.read_bytes(), actor=CLI_ACTOR
        )
    typer.echo(f"Subjects: {created} created, {updated} updated.")


RoundOpt = Annotated[int, typer.Option("--round", help="Round id.")]


@tokens_cli.command("issue")
def tokens_issue(
    round_id: RoundOpt,
    unit: Annotated[str, typer.Option(help="Unit code, e.g. PHUONG-BODE.")],
    count: Annotated[int, typer.Option(help="Number of slips.")],
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
    override_electorate: Annotated[
        bool, typer.Option(help="Issue more slips than the electorate (audit-logged).")
    ] = False,
) -> None:
    """Make a batch of slips for a unit and write the print-ready PDF (shown once)."""
    if out.exists():
        typer.secho(f"Error: {out} exists; slips are never overwritten.", fg="red", err=True)
        raise typer.Exit(code=1)
    with use_case() as session:
        issued = tokens.issue_slips(
            session,
            round_id,
            unit,
            count,
            base_url=get_settings().public_base_url,
            actor=CLI_ACTOR,
            override_electorate=override_electorate,
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(issued.pdf)
    typer.echo(f"Batch {issued.batch.id}: {count} slips for {issued.unit.name} in {out}")


@tokens_cli.command("void")
def tokens_void(
    batch: Annotated[int, typer.Option(help="Batch id.")],
    reason: Annotated[str, typer.Option(help="Why (logged).")] = "slips lost",
    yes: YesOpt = False,
) -> None:
    """Void a batch: its unused slips stop working."""
    _confirm(yes, f"Voiding batch {batch} stops its unused slips for good. This cannot be undone.")
    with use_case() as session:
        tokens.void_batch(session, batch, actor=CLI_ACTOR, reason=reason)
    typer.echo(f"Batch {batch} is void.")


def _parse_counts(text: str) -> dict[str, int]:
    levels = ("kindergarten", "primary", "lower_secondary")
    parts = text.split(",")
    if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
        raise typer.BadParameter("give three numbers: kindergarten,primary,lower_secondary")
    return {lv: int(p) for lv, p in zip(levels, parts, strict=True)}


@lottery_cli.command("draw")
def lottery_draw(
    round_id: RoundOpt,
    phrase: Annotated[str, typer.Option(help="The public phrase agreed at the meeting.")],
    counts: Annotated[str, typer.Option(help="kindergarten,primary,lower_secondary")] = "5,5,5",
    exclude: Annotated[list[str] | None, typer.Option(help="School code to leave out.")] = None,
    reason: Annotated[str | None, typer.Option(help="Needed for a redraw.")] = None,
    yes: YesOpt = False,
) -> None:
    """Draw the schools of a round and print the proof."""
    with use_case() as session:
        redraw = lottery.current_draw(session, round_id) is not None
    if redraw:
        _confirm(
            yes,
            f"Round {round_id} already has a draw. A redraw replaces its schools; both draws "
            "stay in the audit log. This cannot be undone.",
        )
    with use_case() as session:
        draw = lottery.draw_schools(
            session,
            round_id,
            phrase=phrase,
            counts=_parse_counts(counts),
            excluded=exclude or [],
            reason=reason,
            actor=CLI_ACTOR,
        )
        proof = lottery.proof(draw)
    typer.echo(json.dumps(proof, ensure_ascii=False, indent=1))


@lottery_cli.command("verify")
def lottery_verify(round_id: RoundOpt) -> None:
    """Re-run the stored draw and say whether it matches."""
    with use_case() as session:
        result = lottery.verify_draw(session, round_id)
    if result.matches:
        typer.echo(f"Lottery of round {round_id} verifies: seed {result.recomputed_seed}")
        return
    typer.secho(f"Lottery of round {round_id} does NOT match its inputs.", fg="red", err=True)
    raise typer.Exit(code=1)


WARNINGS = {
    "open": "Opening round {r} freezes its units, heads, questionnaire and k; voting starts.",
    "close": "Closing round {r} ends voting for good, opens the sealed box and shuffles it.",
    "publish": "Publishing round {r} lets every head read their own report.",
}


def _report(done: lifecycle.Transition) -> None:
    typer.echo(f"Round {done.round.id} is {done.round.status.value}.")
    typer.echo(f"Write on the minutes: audit head {done.head_seq}:{done.head_hash}")


def _scrub_and_report(engine: Engine, round_id: int) -> bool:
    """Scrub the files, write the result in the audit log, say loudly if it was not done."""
    result = scrub.scrub(engine, patience_s=get_settings().scrub_patience_seconds)
    with transaction(make_session_factory(engine)) as session:
        scrub.record(session, round_id, result, actor=CLI_ACTOR)
    if result.done:
        typer.echo(f"Files scrubbed ({result.backend}): {result.detail}")
        return True
    typer.secho(
        f"The files were NOT scrubbed ({result.backend}, {result.attempts} attempts): "
        f"{result.detail}.\nDeleted ballot content may remain in them. Close what holds "
        f"the database open, then run: phieukin round scrub {round_id}",
        fg="red",
        err=True,
    )
    return False


@round_cli.command("open")
def round_open(
    round_id: int,
    holder: Annotated[
        list[str] | None,
        typer.Option("--holder", help="A key holder's name; repeat for each (n >= 2)."),
    ] = None,
    needed: Annotated[
        int | None, typer.Option(help="Shares needed to open the box (k >= 2; default 3).")
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Empty folder for the share files and sheets, one per holder.")
    ] = Path("key-shares"),
    yes: YesOpt = False,
) -> None:
    """Open voting with the key ceremony: the ballot box is sealed until k holders close it."""
    if not holder:
        typer.secho(
            "Error: a round opens with its key ceremony: name each key holder with --holder "
            "(for example five, of whom --needed 3 open the box).",
            fg="red",
            err=True,
        )
        raise typer.Exit(code=1)
    _confirm(yes, WARNINGS["open"].format(r=round_id) + " This cannot be undone.")
    folder = out / f"round-{round_id}"
    if folder.exists() and any(folder.iterdir()):
        typer.secho(
            f"Error: {folder} is not empty; shares are never overwritten.", fg="red", err=True
        )
        raise typer.Exit(code=1)
    with use_case() as session:
        done = lifecycle.open_round(
            session, round_id, actor=CLI_ACTOR, key_holders=holder, shares_needed=needed
        )
        # Written before the commit: if the files cannot be written, the round stays shut.
        share_files.write_shares(folder, done.round.title, done.shares)
    first = done.shares[0].share
    _report(done)
    typer.echo(
        f"Sealed: {first.needed} of {first.holders} key shares open the ballot box. "
        f"Hand each holder their sheet and file from {folder}/ now, then delete them here:"
    )
    for s in done.shares:
        typer.echo(f"  share {s.number}: {s.holder:30} {folder / s.file_name} (+ .pdf)")


@round_cli.command("close")
def round_close(
    round_id: int,
    share: Annotated[
        list[Path] | None,
        typer.Option("--share", help="A key holder's share file; repeat for k of them."),
    ] = None,
    yes: YesOpt = False,
) -> None:
    """Close voting for good: open the sealed box with k key shares, then rewrite it."""
    _confirm(yes, WARNINGS["close"].format(r=round_id) + " This cannot be undone.")
    texts = []
    for path in share or []:
        try:
            texts.append(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            typer.secho(f"Error: cannot read share file {path}: {exc}", fg="red", err=True)
            raise typer.Exit(code=1) from None
    engine = _engine()
    with use_case(engine) as session:
        done = lifecycle.close_round(session, round_id, actor=CLI_ACTOR, shares=texts)
    typer.echo(f"Round {done.round.id} is {done.round.status.value}.")
    scrubbed = _scrub_and_report(engine, round_id)  # after the commit
    typer.echo(f"Write on the minutes: audit head {done.head_seq}:{done.head_hash}")
    if not scrubbed:
        raise typer.Exit(code=1)


@round_cli.command("scrub")
def round_scrub(round_id: int) -> None:
    """Clear deleted ballot content from the database files again, and verify it."""
    engine = _engine()
    with use_case(engine) as session:
        scrub.require_closed(session, round_id)
    if not _scrub_and_report(engine, round_id):
        raise typer.Exit(code=1)


@cli.command("check")
def check(
    round_ids: Annotated[
        list[int] | None,
        typer.Option("--round", help="Round to check (repeatable); every round when left out."),
    ] = None,
) -> None:
    """Consistency: ballots = spent slips per unit = receipts, audit chain, close anchor."""
    with use_case() as session:
        ids = round_ids or [r.id for r in rounds.list_rounds(session)]
        reports = [consistency.check_round(session, rid) for rid in ids]
    for report in reports:
        typer.echo(f"Round {report.round_id}: {'consistent' if report.ok else 'NOT consistent'}")
        for finding in report.findings:
            mark = "ok  " if finding.ok else "FAIL"
            typer.echo(f"  {mark} {finding.name}: {finding.detail}")
    if not all(r.ok for r in reports):
        raise typer.Exit(code=1)


@round_cli.command("publish")
def round_publish(round_id: int, yes: YesOpt = False) -> None:
    """Release the reports to the heads."""
    _confirm(yes, WARNINGS["publish"].format(r=round_id) + " This cannot be undone.")
    with use_case() as session:
        done = lifecycle.publish_round(session, round_id, actor=CLI_ACTOR)
    _report(done)


@round_cli.command("minutes")
def round_minutes(
    round_id: int,
    out: Annotated[Path, typer.Option(help="Where to write the PDF.")],
) -> None:
    """Write the round's minutes (biên bản) as a PDF to print and sign."""
    from app.web.minutes_pdf import render_minutes_pdf

    with use_case() as session:
        pdf = render_minutes_pdf(minutes.gather(session, round_id))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(pdf)
    typer.echo(f"Minutes of round {round_id} in {out}")


@audit_cli.command("verify")
def audit_verify(
    head: Annotated[str | None, typer.Option(help="SEQ:HASH written down earlier.")] = None,
) -> None:
    """Check the whole chain; with --head, also that nothing after it was cut off."""
    with use_case() as session:
        verdict = audit.verify(session, audit.parse_head(head) if head else None)
    if verdict.ok:
        shown = f"{verdict.head[0]}:{verdict.head[1]}" if verdict.head else "empty"
        typer.echo(f"Audit chain verifies: {verdict.entries_checked} entries, head {shown}")
        return
    typer.secho(
        f"Audit chain BROKEN at entry {verdict.first_broken_seq}: {verdict.reason}",
        fg="red",
        err=True,
    )
    raise typer.Exit(code=1)


@leaders_cli.command("create")
def leaders_create(round_id: RoundOpt) -> None:
    """Make a login per head; prints each setup code once (hand them over sealed)."""
    with use_case() as session:
        invites = leaders.create_leader_accounts(session, round_id, actor=CLI_ACTOR, now=utcnow())
    for i in invites:
        code = i.setup_code or "(existing account linked)"
        typer.echo(f"{i.username:12} {code:22} {i.full_name} - {i.role} - {i.unit_name}")
    typer.echo(f"{len(invites)} heads. Each chooses a password at /setup with the code.")


def _progress_line() -> Callable[[str], None]:
    """One line on standard error that says what the demo is doing, rewritten in place."""
    steps = iter(range(1, 100))
    tty = sys.stderr.isatty()

    def show(step: str) -> None:
        if not step:  # done
            if tty:
                typer.echo("\r\033[K", err=True, nl=False)
            return
        line = f"[{next(steps)}] {step}..."
        if tty:
            typer.echo(f"\r\033[K{line}", err=True, nl=False)
        else:
            typer.echo(line, err=True)

    return show


@cli.command()
def demo(
    sample_dir: Annotated[Path | None, typer.Option(help=SAMPLE_DIR_HELP)] = None,
) -> None:
    """Migrate, load the Long Biên sample round and print how to log in."""
    from app.demo import load_demo

    settings = get_settings()
    progress = _progress_line()
    progress("Migrating the database")
    migrations.upgrade(settings.database_url)
    key = settings.secret_key_bytes()
    engine = make_engine(settings.database_url)
    with use_case(engine) as session:
        result = load_demo(
            session,
            sample_dir=sample_dir,
            threshold=settings.anonymity_threshold,
            base_url=settings.public_base_url,
            slips_root=Path("slips"),
            secret_key=key,
            progress=progress,
        )
        progress("Saving")
    progress("")
    # The demo closed rounds: leave no deleted ballot in the file.
    scrubbed = scrub.scrub(engine)
    if not scrubbed.done:
        typer.secho(f"The file was NOT scrubbed: {scrubbed.detail}", fg="red", err=True)
    typer.echo(result.describe(settings.public_base_url))


def main() -> None:
    """Entry point of the ``phieukin`` script."""
    cli()
