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
