"""What of Whisper's text reaches the dialog: its inventions on noise and mumbles do not."""

from __future__ import annotations

import pytest

from voiceagent.providers.whisper import usable_text


@pytest.mark.parametrize("invented", [
    "and see you guys in the next video.", "Thanks for watching!", "Thank you for watching.",
    "Don't forget to subscribe to the channel", "you",
])
def test_video_sign_offs_and_lone_fillers_are_not_a_caller_turn(invented):
    assert usable_text(invented) == ""


@pytest.mark.parametrize("said", [
    "See you next Tuesday.", "I want to subscribe to the Pro plan.", "Thank you, goodbye.", "Bye, thank you.",
])
def test_a_callers_words_pass(said):
    assert usable_text(said) == said


class _Recorder:
    """Stands in for the CTranslate2 model: records how it was asked to decode, hears nothing."""

    def __init__(self):
        self.options = {}

    def transcribe(self, audio, **options):
        self.options = options
        return iter(()), None


def test_a_decode_is_bounded_by_what_a_caller_can_say_in_the_time():
    import numpy as np

    from voiceagent.providers.whisper import MAX_TOKENS_PER_SEC, WHISPER_RATE, decode

    model = _Recorder()
    assert decode(model, np.zeros(3 * WHISPER_RATE, dtype=np.float32)) == ""
    assert model.options["max_new_tokens"] == 3 * MAX_TOKENS_PER_SEC + 16  # not Whisper's 448
    assert len(model.options["temperature"]) <= 3  # not six re-decodes of a looping segment
