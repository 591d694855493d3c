"""One call on the plan's whole cloud stack, every vendor emulated and reached through its real client:
Deepgram STT, Claude with retrieval over OpenAI embeddings, a streamed tool call, ElevenLabs TTS,
barge-in, and a live transfer through Twilio's REST API."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select

from tests.call.helpers import runtime_with, squash
from tests.conftest import make_settings
from voiceagent.emulators.run import start_emulators
from voiceagent.knowledge import KnowledgeBase, load_faq
from voiceagent.providers.embeddings import make_embedder
from voiceagent.simulate.caller import CallerTurn
from voiceagent.simulate.run import local_server, simulate_call
from voiceagent.storage import CallRecordRow, Database
from voiceagent.telephony.rest import TwilioCallControl

pytestmark = pytest.mark.realtime  # every test here places a real-time call



async def test_a_call_on_the_full_cloud_stack(runtime, caller_voice, tmp_path):
    async with start_emulators(runtime.speech_models) as emulators:
        overrides = {key.lower(): value for key, value in emulators.env().items()}
        settings = make_settings(tmp_path, transfer_number="+15550001111", **overrides)
        assert settings.stack_summary() == {
            "stt": "deepgram",
            "llm": "anthropic",
            "tts": "elevenlabs",
            "embeddings": "openai",
        }
        knowledge = KnowledgeBase(tmp_path / "chroma", make_embedder(settings))
        await asyncio.to_thread(knowledge.ingest, load_faq())  # the emulator runs on this event loop
        database = Database(settings.database_location)
        database.create_all()
        cloud = runtime_with(
            runtime,
            settings,
            database=database,
            knowledge=knowledge,
            call_control=TwilioCallControl(
                settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(), settings.twilio_api_base_url
            ),
        )
        turns = [
            CallerTurn(audio=caller_voice.say("How much is the Business plan?"), text="business plan price"),
            # Talks over the answer, 2.5 s into it.
            CallerTurn(audio=caller_voice.say("Sorry, can I talk to a person?"), text="a person", barge_in_after=2.5),
        ]
        async with local_server(cloud, settings) as url:
            report = await simulate_call(
                url, turns, runtime.speech_models, auth_token=settings.twilio_auth_token.get_secret_value()
            )

        spoken = squash(" ".join(report.agent_texts))
        assert "byteai" in squash(report.greeting), report.agent_texts
        assert "299" in spoken, report.agent_texts
        assert report.result.clears >= 1 and any(speech.cleared for speech in report.result.agent[1:])
        assert emulators.deepgram.connections >= 1
        assert emulators.openai.requests, "retrieval never embedded a query"
        requests = json.dumps(emulators.anthropic.requests)
        assert "Relevant FAQ" in requests and "escalate_to_human" in requests
        assert any(m.get("text", "").strip() for m in emulators.elevenlabs.messages)
        transfers = [r for r in emulators.twilio.requests if "Twiml" in r]
        assert transfers and "<Dial>+15550001111</Dial>" in transfers[0]["Twiml"]
        assert transfers[0]["call_sid"] == report.result.call_sid
        # The caller's words are in the call record, not only the agent's (saved as the call ends).
        for _ in range(50):
            with database.session() as session:
                record = session.scalars(select(CallRecordRow)).first()
            if record is not None:
                break
            await asyncio.sleep(0.2)
        assert record is not None, "the call record was not saved"
        caller_lines = squash(" ".join(e["text"] for e in json.loads(record.transcript) if e["role"] == "caller"))
        assert "businessplan" in caller_lines, record.transcript
