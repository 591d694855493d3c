"""Frames the call pipeline adds to Pipecat's: playback marks and their echoes, retrieval done."""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.frames.frames import OutputTransportMessageFrame, SystemFrame


@dataclass
class PlaybackMarkFrame(OutputTransportMessageFrame):
    """Sent after a piece of agent speech; the phone side echoes it once that audio has played.

    `message` holds {"mark": name}; the telephony serializer turns it into the wire format.
    """

    @property
    def mark(self) -> str:
        return self.message["mark"]


@dataclass
class PlaybackMarkEchoFrame(SystemFrame):
    """The phone side has finished playing everything up to the mark (or has cleared it)."""

    mark: str


@dataclass
class RetrievalDoneFrame(SystemFrame):
    """The knowledge hits for the caller's latest words are in the context (stamps the turn's retrieval stage)."""

    hits: int = 0
