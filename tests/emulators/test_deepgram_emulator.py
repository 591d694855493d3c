"""The Deepgram emulator answers audio it has already recognised from memory, and only that audio."""

from __future__ import annotations

import numpy as np

from voiceagent.emulators.deepgram_live import DeepgramEmulator, _Session


class CountingModels:
    def __init__(self):
        self.heard = 0

    def transcribe(self, audio):
        self.heard += 1
        return f"utterance {self.heard}"


def test_the_same_audio_is_decoded_once_and_other_audio_is_decoded_again():
    models = CountingModels()
    emulator = DeepgramEmulator(models)
    line = (np.sin(np.arange(8000) / 5) * 8000).astype(np.int16)
    first = emulator.transcribe(line, 8000)
    assert emulator.transcribe(line.copy(), 8000) == first and models.heard == 1 and emulator.decodes == 1
    other = line.copy()
    other[100] += 1
    assert emulator.transcribe(other, 8000) != first and models.heard == 2
    assert emulator.transcribe(line, 16000) != first and models.heard == 3  # same samples, another rate


def test_the_same_words_cut_with_other_quiet_around_them_are_decoded_once():
    models = CountingModels()
    emulator = DeepgramEmulator(models)
    words = (np.sin(np.arange(8000) / 5) * 8000).astype(np.int16)
    hiss = np.full(80, 30, dtype=np.int16)  # quieter than the key's level
    first = emulator.transcribe(np.concatenate([np.zeros(160, np.int16), words, hiss]), 8000)
    again = emulator.transcribe(np.concatenate([hiss, hiss, words, np.zeros(480, np.int16)]), 8000)
    assert again == first and models.heard == 1
    cut_short = emulator.transcribe(np.concatenate([np.zeros(160, np.int16), words[:-400]]), 8000)
    assert cut_short != first and models.heard == 2  # fewer words: recognised afresh
    silence = emulator.transcribe(np.zeros(800, np.int16), 8000)
    assert emulator.transcribe(np.zeros(1600, np.int16), 8000) != silence  # all quiet: keyed as it is


def test_an_utterance_is_recognised_from_its_onset_whatever_silence_came_before():
    """The audio sent for recognition does not depend on how much silence preceded or followed the speech."""
    class Connection:
        request = None

    heard = []
    models = CountingModels()
    emulator = DeepgramEmulator(models)
    speech = (np.sin(np.arange(4000) / 3) * 8000).astype(np.int16)
    for silence_before, silence_after in ((0.1, 0.04), (0.7, 0.12)):  # pauses shorter than a guess
        session = _Session(emulator, Connection(), {"sample_rate": "8000", "encoding": "linear16"})
        audio = np.concatenate([np.zeros(int(8000 * silence_before), np.int16), speech,
                                np.zeros(int(8000 * silence_after), np.int16)])
        for i in range(0, len(audio), 160):  # 20 ms chunks, as they come from a phone line
            session._audio(audio[i:i + 160].tobytes())
        heard.append(session._speech())
    assert np.array_equal(heard[0], heard[1])
    assert len(heard[0]) == int(0.2 * 8000) + len(speech)
