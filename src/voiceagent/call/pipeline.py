"""One call = one Pipecat pipeline: phone audio in, turn-taking, STT, brain, TTS, phone audio out."""

from __future__ import annotations

from dataclasses import dataclass

from pipecat.frames.frames import BotSpeakingFrame, Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_transport import BaseTransport

from voiceagent.brain.prompt import system_prompt
from voiceagent.call.assembly import make_brain, make_call_voice
from voiceagent.call.cues import ListeningCues
from voiceagent.call.idle import IdleCheck, watch_idle
from voiceagent.call.llm_tools import tools_schema
from voiceagent.call.playback import HangupAfterClosing, HeardContextFilter, PlaybackTracker
from voiceagent.call.recording import CallRecording
from voiceagent.call.retrieval import RetrievalContext, RetrievalPrefetch
from voiceagent.call.turn_taking import turn_taking_params
from voiceagent.call.turn_taking.speculation import SpeculativeTurnStopStrategy
from voiceagent.observability.metrics import CallMetrics
from voiceagent.providers.factory import make_stt
from voiceagent.runtime import AgentRuntime
from voiceagent.shared.record import CallRecord


class FramesDone(FrameProcessor):
    """Stops frames of some kinds, going one way, that nothing past this point uses; every other frame goes on."""

    def __init__(self, kinds: tuple[type[Frame], ...], direction: FrameDirection = FrameDirection.DOWNSTREAM):
        super().__init__()
        self._kinds, self._direction = kinds, direction

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if direction != self._direction or not isinstance(frame, self._kinds):
            await self.push_frame(frame, direction)


def caller_audio_done() -> FramesDone:
    """After the user aggregator: the caller's audio has been heard by the STT, VAD and turn model, and nothing
    downstream uses it. Pipecat would pass each frame through every later processor (brain, TTS, output...);
    stopping it here saves that queue-to-queue work for every chunk (25 a second per call while the caller
    speaks, 5 on a quiet line)."""
    return FramesDone((InputAudioRawFrame,))


def agent_audio_done() -> FramesDone:
    """After the output transport (and the recording's tap): each 40 ms of the agent's audio, once written to
    Twilio, and the transport's "bot speaking" beat would go on through the assistant aggregator and the
    pipeline's sink, which do nothing with them."""
    return FramesDone((OutputAudioRawFrame, BotSpeakingFrame))


def bot_speaking_beat_done() -> FramesDone:
    """Just before the output transport: while the agent speaks, the transport sends a BotSpeakingFrame upstream
    five times a second, through every processor back to the input. Only Pipecat's pipeline idle check and its
    wake-phrase strategy read it, and a call uses neither (its idle check is the call's own, IdleCheck)."""
    return FramesDone((BotSpeakingFrame,), FrameDirection.UPSTREAM)


@dataclass
class CallPipeline:
    """The pipeline of one call and the processors the session talks to."""

    pipeline: Pipeline
    context: LLMContext
    tracker: PlaybackTracker
    hangup: HangupAfterClosing
    idle: IdleCheck
    llm_brain: bool = False
    speculation: SpeculativeTurnStopStrategy | None = None
    cues: ListeningCues | None = None  # LLM brains (the offline engine says its own cues)
    recording: CallRecording | None = None  # RECORD_CALLS


def build_call_pipeline(runtime: AgentRuntime, transport: BaseTransport, record: CallRecord, end_call,
                        metrics: CallMetrics | None = None) -> CallPipeline:
    """Wire the processors of one call; `end_call(outcome)` ends it politely."""
    settings = runtime.settings
    brain = make_brain(runtime, record, metrics)
    cues = None
    if brain.is_llm:
        prompt = system_prompt(settings.business_name, settings.appointment_minutes)
        context = LLMContext(messages=[{"role": "system", "content": prompt}], tools=tools_schema())
        prefetch = RetrievalPrefetch(runtime.knowledge)
        # Retrieval starts on interim transcripts, except in the stock profile the bench compares against.
        before_user = [prefetch] if settings.pipeline_profile == "tuned" else []
        cues = ListeningCues(settings.cue_after_secs)
        before_brain = [cues.watch, RetrievalContext(runtime.knowledge, prefetch)]
    else:
        context, before_user, before_brain = LLMContext(), [], []
    user_params, speculation = turn_taking_params(settings, runtime.turn_models, speculate=brain.is_llm)
    user_params.user_idle_timeout = settings.idle_hangup_secs / 2  # "are you still there?" at half, goodbye at full
    aggregators = LLMContextAggregatorPair(context, user_params=user_params)
    idle = watch_idle(aggregators.user(), record, settings.business_name)
    if brain.is_llm:
        @aggregators.user().event_handler("on_user_turn_stopped")
        async def _caller_said(_aggregator, _strategy, message):
            if message.content:  # the committed words (the offline brain records its own)
                record.caller_said(message.content)

    tracker = PlaybackTracker(record)
    hangup = HangupAfterClosing(record, tracker, settings.hangup_after_goodbye_secs, end_call)
    recording = CallRecording() if settings.record_calls else None
    caller_tap, agent_tap = recording.taps() if recording else (None, None)
    stock = settings.pipeline_profile == "stock"  # Pipecat's own pipeline, for the bench's comparison

    def tuned(make_processor) -> list:
        return [] if stock else [make_processor()]

    pipeline = Pipeline(
        [
            transport.input(),
            *([caller_tap] if caller_tap else []),
            make_stt(runtime.settings, runtime.speech_models),
            *before_user,
            aggregators.user(),
            *tuned(caller_audio_done),
            HeardContextFilter(record),
            *before_brain,
            *brain.processors,
            *([cues.speaker] if cues else []),
            make_call_voice(runtime),
            tracker,
            hangup,
            *tuned(bot_speaking_beat_done),
            transport.output(),
            *([agent_tap] if agent_tap else []),  # what was written to Twilio, and the barge-in clears
            *tuned(agent_audio_done),
            aggregators.assistant(),
        ]
    )
    return CallPipeline(pipeline=pipeline, context=context, tracker=tracker, hangup=hangup, idle=idle,
                        llm_brain=brain.is_llm, speculation=speculation, cues=cues,
                        recording=recording)
