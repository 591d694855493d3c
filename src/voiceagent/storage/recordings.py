"""Call recordings encrypted at rest: one AES-GCM file per call under DATA_DIR/recordings, never plaintext on disk.

File layout (docs/recordings.md): MAGIC, a version byte, the key id's length and the key id, a 12-byte nonce,
then the ciphertext and its 16-byte tag. The whole header is the AES-GCM associated data, so a header swapped
(another key id, another nonce) fails to decrypt like a changed byte of audio does.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VAREC"
VERSION = 1
NONCE_BYTES = 12
TAG_BYTES = 16
SUFFIX = ".wav.enc"
PART_SUFFIX = ".part"  # an encrypted file still being written; renamed into place when complete
_FIXED_HEADER = len(MAGIC) + 2  # magic, version, key id length
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]")


class RecordingError(Exception):
    """A recording cannot be read: the message says why, for an operator."""


class UnknownKey(RecordingError):
    """The file names a key id that is not configured."""


class NotARecording(RecordingError):
    """The file is not a recording of this format (or is truncated)."""


class DecryptionFailed(RecordingError):
    """The key does not open the file: a different key under the same id, or the file was altered."""


@dataclass(frozen=True)
class RecordingKeys:
    """The key new recordings are written with, and every key (current and old) recordings can be read with."""

    current_id: str
    keys: dict[str, bytes]

    @classmethod
    def from_settings(cls, settings) -> RecordingKeys:
        """From RECORDING_KEY / RECORDING_KEY_ID / RECORDING_OLD_KEYS (checked by Settings at start-up)."""
        return cls(current_id=settings.recording_key_id, keys=settings.recording_keyring())

    @property
    def can_write(self) -> bool:
        return self.current_id in self.keys


@dataclass(frozen=True)
class RecordingHeader:
    version: int
    key_id: str
    nonce: bytes
    size: int  # bytes of the header itself

    def encode(self) -> bytes:
        key_id = self.key_id.encode()
        return MAGIC + bytes([self.version, len(key_id)]) + key_id + self.nonce


@dataclass(frozen=True)
class RecordingInfo:
    """What `recordings list` shows: readable without any key."""

    call_sid: str
    path: Path
    written_at: datetime  # UTC, from the file's mtime (what retention goes by)
    size: int
    key_id: str


def parse_header(data: bytes) -> RecordingHeader:
    """The header at the start of `data`; NotARecording when it is not one."""
    if len(data) < _FIXED_HEADER or not data.startswith(MAGIC):
        raise NotARecording("not an encrypted voiceagent recording (no VAREC header)")
    version, id_length = data[len(MAGIC)], data[len(MAGIC) + 1]
    if version != VERSION:
        raise NotARecording(f"recording format version {version} is not supported (this version reads {VERSION})")
    size = _FIXED_HEADER + id_length + NONCE_BYTES
    if len(data) < size + TAG_BYTES:
        raise NotARecording("the recording is truncated")
    try:
        key_id = data[_FIXED_HEADER:_FIXED_HEADER + id_length].decode("ascii")
    except UnicodeDecodeError:
        raise NotARecording("the recording's key id is not readable") from None
    return RecordingHeader(version, key_id, data[size - NONCE_BYTES:size], size)


def encrypt_chunks(chunks: Iterable[bytes], keys: RecordingKeys) -> Iterable[bytes]:
    """Header, then the ciphertext of each chunk, then the tag: a long call is never held twice in memory."""
    if not keys.can_write:
        raise UnknownKey(f"no key for RECORDING_KEY_ID={keys.current_id!r}: set RECORDING_KEY")
    header = RecordingHeader(VERSION, keys.current_id, os.urandom(NONCE_BYTES), 0).encode()
    encryptor = Cipher(algorithms.AES(keys.keys[keys.current_id]), modes.GCM(header[-NONCE_BYTES:])).encryptor()
    encryptor.authenticate_additional_data(header)
    yield header
    for chunk in chunks:
        yield encryptor.update(chunk)
    yield encryptor.finalize() + encryptor.tag


def encrypt(plaintext: bytes, keys: RecordingKeys) -> bytes:
    return b"".join(encrypt_chunks([plaintext], keys))


def decrypt(data: bytes, keys: RecordingKeys) -> bytes:
    """The plaintext, authenticated (header included) before any of it is returned."""
    header = parse_header(data)
    key = keys.keys.get(header.key_id)
    if key is None:
        known = ", ".join(sorted(keys.keys)) or "none"
        raise UnknownKey(f"encrypted with key {header.key_id!r}, which is not configured (configured: {known}); "
                         "put it in RECORDING_KEY or RECORDING_OLD_KEYS")
    try:
        return AESGCM(key).decrypt(header.nonce, data[header.size:], data[:header.size])
    except InvalidTag:
        raise DecryptionFailed(f"key {header.key_id!r} does not open this recording: the configured key under that "
                               "id is not the one it was written with, or the file was altered") from None


def safe_name(call_sid: str | None) -> str:
    """A file name from a CallSid (peer-supplied: only letters, digits, '-' and '_' survive)."""
    return _SAFE_NAME.sub("_", call_sid or "")[:64] or "unknown"


def purge_folder(directory: Path, cutoff: datetime | float) -> int:
    """Delete recordings (and abandoned `.part` files) in `directory` last written before `cutoff` (a naive
    datetime is UTC, as storage/retention.py's cutoff is; or a POSIX time); returns how many. Needs no key."""
    if isinstance(cutoff, datetime):
        limit = (cutoff if cutoff.tzinfo else cutoff.replace(tzinfo=timezone.utc)).timestamp()
    else:
        limit = float(cutoff)
    directory = Path(directory)
    removed = 0
    for path in [*directory.glob(f"*{SUFFIX}"), *directory.glob(f".*{PART_SUFFIX}")]:
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile (another instance's purge)
            continue
    return removed


class RecordingStore:
    """The recordings folder: write, list, read, purge."""

    def __init__(self, directory: Path, keys: RecordingKeys):
        self.directory = Path(directory)
        self.keys = keys

    @classmethod
    def from_settings(cls, settings) -> RecordingStore:
        return cls(settings.data_dir / "recordings", RecordingKeys.from_settings(settings))

    def path_for(self, call_sid: str) -> Path:
        return self.directory / f"{safe_name(call_sid)}{SUFFIX}"

    def save(self, call_sid: str | None, chunks: Iterable[bytes]) -> Path:
        """Encrypt `chunks` into `<CallSid>.wav.enc` (a second stream of the same call gets `-2`, ...).

        Written to an encrypted `.part` file, then linked under its name: a crash leaves no half file under it.
        """
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = safe_name(call_sid)
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=PART_SUFFIX)
        try:
            with os.fdopen(handle, "wb") as file:  # mkstemp: mode 0600
                for piece in encrypt_chunks(chunks, self.keys):
                    file.write(piece)
                file.flush()
                os.fsync(file.fileno())
            number = 1
            while True:  # link() never replaces an existing file, even one another instance just wrote
                target = self.path_for(name if number == 1 else f"{name}-{number}")
                try:
                    os.link(temporary, target)
                    return target
                except FileExistsError:
                    number += 1
        finally:
            Path(temporary).unlink(missing_ok=True)

    def list(self) -> list[RecordingInfo]:
        """Every recording, oldest first; files that are not recordings are left out."""
        found = []
        for path in self.directory.glob(f"*{SUFFIX}"):
            try:
                stat = path.stat()
                with path.open("rb") as file:
                    header = parse_header(file.read(512))
            except (OSError, NotARecording):
                continue
            found.append(RecordingInfo(path.name.removesuffix(SUFFIX), path,
                                       datetime.fromtimestamp(stat.st_mtime, timezone.utc), stat.st_size,
                                       header.key_id))
        return sorted(found, key=lambda info: (info.written_at, info.call_sid))

    def read(self, call_sid: str) -> bytes:
        """The decrypted WAV of one call; RecordingError (with the reason) when it cannot be."""
        path = self.path_for(call_sid)
        if safe_name(call_sid) != call_sid or not path.is_file():
            raise RecordingError(f"no recording for {call_sid!r} in {self.directory}")
        return decrypt(path.read_bytes(), self.keys)

    def purge_older_than(self, cutoff: datetime | float) -> int:
        """Delete recordings (and abandoned `.part` files) last written before `cutoff`; returns how many."""
        return purge_folder(self.directory, cutoff)
