"""TwiML answers built with the official `twilio` package."""

from __future__ import annotations

from twilio.twiml.voice_response import Connect, Dial, VoiceResponse

from voiceagent.shared.phrases import TRANSFER_ANNOUNCEMENT


def connect_stream_twiml(stream_url: str, parameters: dict[str, str]) -> str:
    """`<Connect><Stream>` to our media WebSocket; data travels as `<Parameter>`s (no query string)."""
    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        if value:
            stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def transfer_twiml(number: str) -> str:
    """`<Dial>` a human: used to transfer a live call."""
    response = VoiceResponse()
    response.say(TRANSFER_ANNOUNCEMENT)
    response.append(Dial(number))
    return str(response)


def say_and_hang_up_twiml(line: str) -> str:
    """`<Say>` one line, then `<Hangup/>`: the webhook's polite refusal (busy, too many calls)."""
    response = VoiceResponse()
    response.say(line)
    response.hangup()
    return str(response)
