"""`voiceagent recordings`: list the encrypted call recordings, decrypt one for an operator, make a key."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voiceagent.config import load_settings
from voiceagent.storage.recordings import RecordingError, RecordingStore

app = typer.Typer(help="Call recordings (RECORD_CALLS): list, decrypt, new key.", no_args_is_help=True)
console = Console()


def _store() -> RecordingStore:
    return RecordingStore.from_settings(load_settings())


def _size(size: int) -> str:
    return f"{size / 1024:.0f} kB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


@app.command("list")
def list_recordings():
    """Every recording: CallSid, when it was written (UTC), size and the key it is encrypted with."""
    store = _store()
    recordings = store.list()
    if not recordings:
        console.print(f"no recordings in {store.directory}")
        return
    table = Table(title=f"{len(recordings)} recordings in {store.directory}")
    table.add_column("CallSid", no_wrap=True)  # copied into `recordings play`: never cut or folded
    table.add_column("written (UTC)", no_wrap=True)
    table.add_column("size", justify="right")
    table.add_column("key id")
    for info in recordings:
        key = info.key_id if info.key_id in store.keys.keys else f"{info.key_id} [red](not configured)[/red]"
        table.add_row(info.call_sid, info.written_at.strftime("%Y-%m-%d %H:%M:%S"), _size(info.size), key)
    console.print(table)


@app.command()
def play(call_sid: str = typer.Argument(..., help="The call's CallSid, as `recordings list` shows it"),
         out: Path = typer.Option(..., "--out", "-o", help="Write the decrypted stereo WAV here (left caller, "
                                  "right agent); it is plaintext: delete it when done")):
    """Decrypt one call's recording to a WAV file."""
    try:
        audio = _store().read(call_sid)
    except RecordingError as error:
        console.print(f"[red]Cannot decrypt {escape(call_sid)}: {escape(str(error))}[/red]")
        raise typer.Exit(2) from None
    try:  # only the operator reads it: created 0600, not with the umask's usual world-readable default
        descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(audio)
    except OSError as error:
        console.print(f"[red]Cannot write {escape(str(out))}: {escape(error.strerror or str(error))}[/red]")
        raise typer.Exit(2) from None
    console.print(f"wrote {out} ({_size(len(audio))})")


@app.command("new-key")
def new_key():
    """Print a fresh random key for RECORDING_KEY (base64 of 32 bytes)."""
    typer.echo(base64.b64encode(os.urandom(32)).decode())
