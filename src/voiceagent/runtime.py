"""Everything a call needs that is built once per process: models, database, knowledge base."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from loguru import logger

from voiceagent.brain.intents import IntentClassifier
from voiceagent.config import Settings
from voiceagent.knowledge import KnowledgeBase, load_faq
from voiceagent.process import tune_memory_allocator
from voiceagent.providers.audio_cache import AudioCache
from voiceagent.providers.embeddings import make_embedder
from voiceagent.providers.factory import start_up_warnings
from voiceagent.providers.speech_models import SpeechModels
from voiceagent.providers.turn_models import TurnModels
from voiceagent.storage import Database
from voiceagent.storage.file_lock import file_lock
from voiceagent.telephony.rest import TwilioCallControl, TwilioMessages


@dataclass
class AgentRuntime:
    """Shared resources handed to every call: models, database engine, knowledge base, call control."""

    settings: Settings
    turn_models: TurnModels
    speech_models: SpeechModels | None
    database: Database
    knowledge: KnowledgeBase
    call_control: TwilioCallControl | None = None
    text_messages: TwilioMessages | None = None  # booking confirmations, when SMS_FROM and the credentials are set
    intents: IntentClassifier | None = None  # the offline brain's intent classifier, on the knowledge base's embedder
    # Fixed phrases a cloud voice has spoken once (greeting, cues), replayed in later calls without a round trip.
    phrase_audio: AudioCache = field(default_factory=lambda: AudioCache(limit_bytes=4 << 20))
    started_at: float = field(default_factory=time.time)

    @classmethod
    def load(cls, settings: Settings) -> AgentRuntime:
        """Load models once; the embedded speech models only when a part of the stack uses them."""
        tune_memory_allocator()
        stack = settings.stack_summary()
        logger.info("Stack: " + ", ".join(f"{part}={provider}" for part, provider in stack.items()))
        for warning in start_up_warnings(settings):
            logger.warning(warning)
        # Piper also stands by as the fallback voice of a cloud TTS, so the speech models load either way
        # unless both STT and TTS are cloud and the fallback is not wanted.
        needs_speech = stack["stt"] == "embedded" or stack["tts"] in ("embedded", "elevenlabs")
        speech = SpeechModels.load(whisper_threads=settings.whisper_threads) if needs_speech else None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        database = Database(settings.database_location)
        with database.schema_lock():  # several instances or workers may start at once on one database
            database.create_all()
        # Workers sharing DATA_DIR take turns to open and fill the embedded vector store: the first one ingests,
        # the others then find every entry unchanged (two writers at once could corrupt it).
        embedder = make_embedder(settings)
        with file_lock(settings.data_dir / "chroma.lock"):
            knowledge = KnowledgeBase(settings.data_dir / "chroma", embedder, url=settings.chroma_url)
            report = knowledge.ingest(load_faq(settings.faq_path))
        logger.info(f"Knowledge base: {report.added} added, {report.updated} updated, {report.deleted} deleted, "
                    f"{report.unchanged} unchanged ({knowledge.embedder.model_id})")
        # The offline brain reads intents with the embedder already loaded (never a second copy); its examples
        # are embedded once here, not in the first call.
        intents = IntentClassifier(knowledge.embedder.embed)
        if stack["llm"] == "embedded":
            intents.warm_up()
        control = messages = None
        if settings.twilio_account_sid and settings.twilio_auth_token:
            control = TwilioCallControl(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                                        settings.twilio_api_base_url)
            if settings.sms_from:
                messages = TwilioMessages(settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value(),
                                          settings.sms_from, settings.twilio_api_base_url)
        return cls(settings=settings, turn_models=TurnModels.load(), speech_models=speech, database=database,
                   knowledge=knowledge, call_control=control, intents=intents, text_messages=messages)
