"""`voiceagent data`: a caller's data (export, delete) and the retention purge, against the configured database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console

from voiceagent.config import load_settings

app = typer.Typer(help="Personal data: export or delete what is held about a number; purge what is past retention.",
                  no_args_is_help=True)
console = Console(stderr=True)  # stdout carries the export's JSON alone


def _open():
    from voiceagent.observability.logging import configure_logging
    from voiceagent.storage import Database

    configure_logging("WARNING")
    settings = load_settings()
    database = Database(settings.database_location)
    database.create_all()  # a database from before caller_key gets the column
    return settings, database


def _subject(phone: str):
    from voiceagent.storage.subject import data_hash_secret, find_subject
    from voiceagent.tools.phone import InvalidPhone, normalize_phone

    try:
        number = normalize_phone(phone)
    except InvalidPhone as error:
        console.print(f"[red]{error}[/red] (give the number with its area code, e.g. +15551234567)")
        raise typer.Exit(2) from error
    settings, database = _open()
    configured = settings.data_hash_secret.get_secret_value() if settings.data_hash_secret else None
    secret = data_hash_secret(configured, settings.data_dir)
    return database, find_subject(database, number, secret, settings.data_dir)


def _print_counts(title: str, counts: dict[str, int]) -> None:
    console.print(f"{title}: " + ", ".join(f"{count} {kind.replace('_', ' ')}" for kind, count in counts.items()))


@app.command()
def export(phone: str = typer.Option(..., help="The number, e.g. +15551234567"),
           out: Path = typer.Option(None, help="Write the JSON here (mode 0600) instead of to stdout")):
    """Everything held about a number as JSON: appointments, support tickets, call records, recordings."""
    from voiceagent.storage.subject import export_subject

    _, data = _subject(phone)
    document = json.dumps(export_subject(data), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(document)
    else:
        handle = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # personal data: owner only
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(document + "\n")
        console.print(f"Written to {out}")
    _print_counts("Exported", data.counts())


@app.command("delete")
def delete_data(phone: str = typer.Option(..., help="The number, e.g. +15551234567"),
                yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation")):
    """Erase what is held about a number (appointments, tickets, its call records and their recordings)."""
    from voiceagent.storage.subject import delete_subject

    database, data = _subject(phone)
    _print_counts("Found", data.counts())
    if not any(data.counts().values()):
        return
    if not yes and not typer.confirm("Delete all of it? This cannot be undone", default=False):
        raise typer.Exit(1)
    _print_counts("Deleted", delete_subject(database, data))


@app.command()
def purge(days: int = typer.Option(None, min=1, help="Keep this many days (default: RETENTION_DAYS)")):
    """Delete call records, tickets, appointments and recordings that ended more than RETENTION_DAYS ago."""
    from voiceagent.storage.retention import purge as run_purge

    settings, database = _open()
    days = days or settings.retention_days
    report = run_purge(database, days, settings.data_dir)
    console.print(f"Deleted what ended more than {days} days ago: {report.summary()}")
