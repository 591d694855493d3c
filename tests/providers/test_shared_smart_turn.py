"""Every call's turn model runs on the process's one smart-turn thread and session, and decides as Pipecat's
own analyzer does."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
from pipecat.audio.turn.base_turn_analyzer import EndOfTurnState
from pipecat.audio.turn.smart_turn.base_smart_turn import SmartTurnParams
from pipecat.audio.turn.smart_turn.local_smart_turn_v3 import LocalSmartTurnAnalyzerV3


def fed(analyzer, audio: np.ndarray):
    """The analyzer after hearing the audio (20 ms frames, speech as long as the audio is loud) and a short quiet."""
    analyzer.set_sample_rate(8000)
    for i in range(0, len(audio) - 159, 160):
        frame = audio[i:i + 160]
        analyzer.append_audio(frame.tobytes(), is_speech=bool(np.abs(frame).max() > 500))
    analyzer.append_audio(np.zeros(1600, dtype=np.int16).tobytes(), is_speech=False)
    return analyzer


async def test_calls_share_one_thread_and_decide_as_pipecats_analyzer(runtime, caller_voice, monkeypatch):
    question = caller_voice.say("How much does the Pro plan cost?").astype(np.int16)
    trailing = caller_voice.say("I was wondering if").astype(np.int16)
    params = SmartTurnParams(stop_secs=3.0)
    threads: set[str] = set()
    original = LocalSmartTurnAnalyzerV3._predict_endpoint

    def noting_thread(self, audio):
        threads.add(threading.current_thread().name)
        return original(self, audio)

    monkeypatch.setattr(LocalSmartTurnAnalyzerV3, "_predict_endpoint", noting_thread)
    ours = [fed(runtime.turn_models.smart_turn(params), audio) for audio in (question, trailing, question)]
    theirs = [fed(LocalSmartTurnAnalyzerV3(params=params), audio) for audio in (question, trailing)]
    heard = await asyncio.gather(*(analyzer.analyze_end_of_turn() for analyzer in ours))
    expected = [await analyzer.analyze_end_of_turn() for analyzer in theirs]
    # Three calls at once ran on the one shared thread; Pipecat's analyzers each started their own.
    assert len({name for name in threads if name.startswith("smart-turn")}) == 1
    assert len(threads) == 3
    for (state, metrics), (their_state, their_metrics) in zip(heard, expected, strict=False):
        assert state == their_state
        assert abs(metrics.probability - their_metrics.probability) < 1e-4
    assert heard[0][0] == EndOfTurnState.COMPLETE and heard[1][0] == EndOfTurnState.INCOMPLETE


async def test_a_calls_cleanup_leaves_the_shared_thread_running(runtime, caller_voice):
    question = caller_voice.say("What are your opening hours?").astype(np.int16)
    first = fed(runtime.turn_models.smart_turn(SmartTurnParams()), question)
    await first.analyze_end_of_turn()
    await first.cleanup()  # the call ended
    second = fed(runtime.turn_models.smart_turn(SmartTurnParams()), question)
    state, _ = await second.analyze_end_of_turn()
    assert state == EndOfTurnState.COMPLETE
    assert not runtime.turn_models.smart_turn_thread._shutdown
