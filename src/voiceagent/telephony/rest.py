"""Twilio's REST API through the official SDK: transfer a live call to a human, hang up, send a text message."""

from __future__ import annotations

import asyncio

from loguru import logger
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from voiceagent.telephony.twiml import transfer_twiml


class TwilioCallControl:
    """Acts on live calls; `api_base_url` points the SDK at another host (a local emulator in tests)."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str | None = None, timeout: float = 10.0):
        self._client = Client(account_sid, auth_token)
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")
        self._timeout = timeout

    async def transfer(self, call_sid: str, number: str) -> bool:
        """Replace the call's TwiML with `<Dial number>`: Twilio ends our stream and connects the human."""
        return await self._update(call_sid, twiml=transfer_twiml(number))

    async def hang_up(self, call_sid: str) -> bool:
        return await self._update(call_sid, status="completed")

    async def _update(self, call_sid: str, **changes) -> bool:
        try:
            await asyncio.wait_for(asyncio.to_thread(lambda: self._client.calls(call_sid).update(**changes)),
                                   self._timeout)
            return True
        except TwilioRestException as error:
            if error.status == 404 and error.code == 20404:
                logger.info("Call already ended")
            else:
                logger.warning(f"Twilio call update failed: HTTP {error.status} code {error.code}")
            return False
        except (TimeoutError, OSError) as error:
            logger.warning(f"Twilio call update failed: {type(error).__name__}")
            return False


class TwilioMessages:
    """Sends text messages through Twilio's Messages API (the official SDK) from one configured number."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, api_base_url: str | None = None,
                 timeout: float = 5.0):
        self._client = Client(account_sid, auth_token)
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")
        self._from = from_number
        self._timeout = timeout

    async def send(self, to: str, body: str) -> str | None:
        """The message's SID once Twilio accepted it; None when it refused it or could not be reached (logged
        with Twilio's error code, never the number or the text)."""
        try:
            message = await asyncio.wait_for(asyncio.to_thread(
                lambda: self._client.messages.create(to=to, from_=self._from, body=body)), self._timeout)
            return message.sid
        except TwilioRestException as error:
            logger.warning(f"Twilio refused a text message: HTTP {error.status} code {error.code}")
            return None
        except (TimeoutError, OSError) as error:
            logger.warning(f"Twilio text message failed: {type(error).__name__}")
            return None
