"""Runs one phone call from the Media Stream handshake to hang-up, and frees everything it held."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict

from loguru import logger
from pipecat.frames.frames import EndFrame, LLMRunFrame, TTSSpeakFrame
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

from voiceagent.call.pipeline import build_call_pipeline
from voiceagent.call.recording import save_recording
from voiceagent.observability.call_observer import CallObserver, CallWorker
from voiceagent.observability.errors import ErrorObserver
from voiceagent.observability.latency import TurnLatencyObserver
from voiceagent.observability.live import LiveCalls
from voiceagent.observability.metrics import CallMetrics
from voiceagent.observability.usage import UsageObserver
from voiceagent.process import release_free_memory
from voiceagent.runtime import AgentRuntime
from voiceagent.shared.phrases import SERVER_CLOSING, greeting_line
from voiceagent.shared.record import CallRecord
from voiceagent.storage.calls import save_call_record
from voiceagent.storage.subject import caller_key, data_hash_secret
from voiceagent.telephony.media_stream import MediaStreamSerializer, StreamProtocolError, StreamStart, read_stream_start

CLOSING_LINE_MAX_SECS = 12.0  # the server's closing line has this long to be heard before the call ends anyway


async def _receive_text(websocket) -> str | bytes | None:
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        return None
    return message.get("text") if message.get("text") is not None else message.get("bytes")


def _save(runtime: AgentRuntime, record: CallRecord) -> None:
    save_call_record(
        runtime.database, call_sid=record.call_sid or record.stream_sid or "unknown",
        caller=record.caller_redacted, started_at=record.started_at, ended_at=record.ended_at,
        outcome=record.outcome or "unknown", turns=[asdict(turn) for turn in record.turns],
        transcript=record.redacted_transcript(), tool_calls=record.tool_calls, usage=record.usage.as_dict(),
        cost_usd=record.cost_usd, caller_key=caller_key(record.caller, _hash_secret(runtime)),
    )


def _hash_secret(runtime: AgentRuntime) -> bytes:
    configured = runtime.settings.data_hash_secret
    return data_hash_secret(configured.get_secret_value() if configured else None, runtime.settings.data_dir)


async def receive_start(websocket, metrics: CallMetrics) -> StreamStart | None:
    """The stream's `start` (within 15 s); on a protocol error the socket is closed and None returned."""
    try:
        return await asyncio.wait_for(read_stream_start(lambda: _receive_text(websocket)), timeout=15)
    except (StreamProtocolError, TimeoutError) as error:
        reason = str(error) or "no start message within 15 s"
        code = getattr(error, "close_code", 1008)
        logger.warning(f"Media stream refused: {reason}")
        metrics.rejected_requests.labels(reason="protocol").inc()
        try:
            await websocket.close(code=code, reason=reason[:120])
        except Exception:
            pass
        return None


async def _close_when(closing: asyncio.Event, task: PipelineWorker, record: CallRecord, end_call) -> None:
    """Once `closing` is set (the end of a deploy's drain): say the closing line, hang up once it has been heard
    (its mark came back) or after CLOSING_LINE_MAX_SECS, whether or not the caller talks over it."""
    await closing.wait()
    record.outcome = record.outcome or "drained"
    already = len(record.transcript)
    await task.queue_frame(TTSSpeakFrame(SERVER_CLOSING))

    def line_heard() -> bool:
        return any(entry["role"] == "agent" and entry["heard"] and SERVER_CLOSING.endswith(entry["text"])
                   for entry in record.transcript[already:])

    deadline = time.monotonic() + CLOSING_LINE_MAX_SECS
    while not line_heard() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await end_call("drained")


async def run_call(websocket, runtime: AgentRuntime, metrics: CallMetrics, start: StreamStart | None = None,
                   closing: asyncio.Event | None = None, live: LiveCalls | None = None) -> CallRecord | None:
    """Serve one accepted Media Stream WebSocket until the call ends (reading its `start` unless given).

    When `closing` is set the call says the server's closing line and ends. `live` lists the call's record while it
    runs, for the softphone page's event stream (watchers read it; the call publishes nothing).
    """
    start = start or await receive_start(websocket, metrics)
    if start is None:
        return None

    record = CallRecord(call_sid=start.call_sid, stream_sid=start.stream_sid, caller=start.caller)
    log = logger.bind(call=start.call_sid or start.stream_sid)
    log.info(f"Call started from {record.caller_redacted}")
    metrics.active_calls.inc()
    if live is not None:
        live.add(record)
    task: PipelineWorker | None = None

    async def end_call(outcome: str) -> None:
        record.outcome = record.outcome or outcome
        if task is not None:
            await task.queue_frame(EndFrame())

    async def on_stop() -> None:
        record.outcome = record.outcome or ("completed" if record.closing else "caller_hung_up")
        if task is not None:
            await task.cancel()

    serializer = MediaStreamSerializer.for_call(start, runtime.settings, on_stop=on_stop)
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True,
            audio_out_enabled=True,
            add_wav_header=False,
            serializer=serializer,
            session_timeout=int(runtime.settings.max_call_secs),
            **({"audio_out_10ms_chunks": chunk_ms // 10}
               if (chunk_ms := runtime.settings.pipeline_outbound_chunk_ms) else {}),
        ),
    )
    call = None
    closer: asyncio.Task | None = None
    try:
        call = build_call_pipeline(runtime, transport, record, end_call, metrics)
        task = CallWorker(
            call.pipeline,
            params=PipelineParams(
                audio_in_sample_rate=runtime.settings.pipeline_rates[0],
                audio_out_sample_rate=runtime.settings.pipeline_rates[1],
                enable_metrics=True,
                enable_usage_metrics=True,
            ),
            enable_rtvi=False,
            enable_turn_tracking=False,  # the call record and TurnLatencyObserver keep the turns
            # Pipecat's idle check would be a fourth observer queue fed every frame; the call's own idle check
            # (IDLE_HANGUP_SECS) and MAX_CALL_SECS end a call nobody speaks on.
            idle_timeout_secs=None,
            observer=CallObserver(
                TurnLatencyObserver(record, metrics, runtime.settings.turn_stop_secs),
                UsageObserver(record.usage, metrics),
                ErrorObserver(metrics),
            ),
        )

        @transport.event_handler("on_client_disconnected")
        async def _on_disconnected(_transport, _websocket):
            record.outcome = record.outcome or ("completed" if record.closing else "caller_hung_up")
            await task.cancel()

        @transport.event_handler("on_session_timeout")
        async def _on_timeout(_transport, _websocket):
            await end_call("completed")

        # The offline engine greets when run; an LLM brain gets the plan's greeting spoken verbatim (both say
        # that the call is recorded when it is).
        greeting = greeting_line(runtime.settings.business_name, recorded=runtime.settings.record_calls)
        await task.queue_frames([TTSSpeakFrame(greeting) if call.llm_brain else LLMRunFrame()])
        runner = WorkerRunner(handle_sigint=False, handle_sigterm=False)
        await runner.add_workers(task)
        if closing is not None:
            closer = asyncio.create_task(_close_when(closing, task, record, end_call))
        await runner.run()
    except Exception:
        record.outcome = "failed"
        metrics.errors.labels(component="call").inc()
        log.exception("Call failed")
        try:
            await websocket.close(code=1011, reason="internal error")
        except Exception:
            pass
    finally:
        if closer is not None:
            closer.cancel()
        record.ended_at = time.time()
        record.outcome = record.outcome or "caller_hung_up"
        if record.escalated and record.outcome != "failed":
            record.outcome = "escalated"
        record.cost_usd = record.usage.estimated_cost(runtime.settings.stack_summary(), record.ended_at - record.started_at)
        metrics.call_cost.observe(record.cost_usd)
        try:
            await asyncio.to_thread(_save, runtime, record)
        except Exception:  # the call is over either way; a failed write must not raise into the server
            metrics.errors.labels(component="storage").inc()
            log.exception("Could not save the call record")
        if call and call.recording:  # a failed call's too: what was said until it failed
            await save_recording(runtime.settings, record.call_sid or record.stream_sid, call.recording, metrics, log)
        if live is not None:  # after the save: a watcher told the call ended finds it in the console
            live.remove(record)
        if call and call.speculation:
            metrics.speculative_answers.labels(result="kept").inc(call.speculation.kept)
            metrics.speculative_answers.labels(result="discarded").inc(call.speculation.discarded)
        await asyncio.to_thread(release_free_memory)  # what the call freed goes back to the OS
        metrics.active_calls.dec()
        metrics.calls.labels(outcome=record.outcome).inc()
        log.info(f"Call ended: {record.outcome}, {len(record.turns)} turns")
    return record
