"""A real browser (Debian's chromium, a WAV file as its microphone) places calls from /phone against a live
in-process server, then finds them in /console. `UPDATE_SCREENSHOTS=1` refreshes the pages' screenshots in
docs/images/."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest

from tests.call.helpers import runtime_with, squash
from tests.conftest import make_settings
from tests.web.browser import chromium, microphone_wav
from voiceagent.simulate.run import local_server
from voiceagent.storage import Database

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
# The screenshots in docs/images/ are refreshed only on request; otherwise they go to the test's temp folder.
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
QUESTION = "How much does the Pro plan cost?"
ANSWER = re.compile(r"\b99\b")


def _agent(runtime, tmp_path, **settings):
    database = Database(f"sqlite:///{tmp_path / 'calls.db'}")
    database.create_all()
    return runtime_with(runtime, make_settings(tmp_path, **settings), database=database)


async def _screenshot(page, folder: Path, name: str) -> None:
    path = (DOCS_IMAGES if UPDATE_SCREENSHOTS else folder) / name
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: an empty page?"


@pytest.mark.realtime
async def test_a_browser_call_from_the_phone_page_shows_in_the_console(runtime, caller_voice, tmp_path):
    agent = _agent(runtime, tmp_path, record_calls=True, recording_key=base64.b64encode(os.urandom(32)).decode())
    # The greeting plays first (about 7 s with the recording notice); the question comes after it, then quiet.
    mic = microphone_wav(tmp_path / "caller.wav", caller_voice.say(QUESTION), before_secs=9.5, after_secs=16.0)
    async with local_server(agent, agent.settings) as media_url:
        base = media_url.replace("ws://", "http://").removesuffix("/ws/media")
        async with chromium(mic, tmp_path / "profile") as browser:
            page = await browser.new_page()
            errors: list[str] = []  # script errors and blocked content (the pages' Content-Security-Policy)
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(f"{base}/phone")
            await page.click("#call")
            transcript = page.locator("#transcript")
            await page.wait_for_selector("body[data-call=active]", timeout=20_000)
            await transcript.locator("li.agent", has_text="How can I help").wait_for(timeout=30_000)
            answer = transcript.locator("li.agent", has_text=ANSWER)
            await answer.wait_for(timeout=60_000)
            await page.locator("#latencies li").first.wait_for(timeout=10_000)
            caller_lines = await transcript.locator("li.caller").all_inner_texts()
            latency = await page.locator("#latencies li").first.inner_text()
            badge = await answer.locator(".latency").inner_text()
            await page.click("#hangup")
            outcome = page.locator("#outcome")
            await outcome.locator("a").wait_for(timeout=30_000)
            outcome_text = await outcome.inner_text()
            stats = await page.locator("#stats").inner_text()
            await _screenshot(page, tmp_path, "phone.png")

            await page.goto(f"{base}/console")
            rows = page.locator("table.calls tbody tr[data-call-sid]")
            assert await rows.count() == 1
            row_text = await rows.first.inner_text()
            await _screenshot(page, tmp_path, "console.png")
            await rows.first.locator("a").click()
            await page.wait_for_selector("ol.transcript li.caller")
            call_page = await page.locator("main").inner_text()
            stages = await page.locator(".waterfall .stage").count()
            # The recording player: the browser loads the decrypted WAV and knows how long the call was.
            recording_secs = await page.locator("audio").evaluate(
                "audio => new Promise((resolve, reject) => { audio.onloadedmetadata = () => resolve(audio.duration);"
                " audio.onerror = () => reject(new Error('the recording did not load')); audio.load(); })")
            await _screenshot(page, tmp_path, "console-call.png")

    assert any("procost" in squash(line) or "proplan" in squash(line) for line in caller_lines), caller_lines
    assert re.search(r"Turn 1: \d+\.\d\d s", latency), latency
    assert re.fullmatch(r"\d+\.\d\d s", badge), badge
    assert "caller_hung_up" in outcome_text, outcome_text
    assert int(re.search(r"(\d+) marks echoed", stats).group(1)) > 0, stats  # echoed once their audio played
    assert "caller_hung_up" in row_text and "browser" in row_text, row_text
    assert "99" in call_page and "How can I help" in call_page, call_page
    assert stages >= 3, "the waterfall shows the turn's stages"
    assert 5 < recording_secs < 60, recording_secs
    assert errors == []


@pytest.mark.realtime
async def test_talking_over_the_greeting_clears_it_and_greys_what_was_not_heard(runtime, caller_voice, tmp_path):
    agent = _agent(runtime, tmp_path)
    # The question starts 3 s after the microphone opens, while the greeting (about 5 s) is still playing.
    mic = microphone_wav(tmp_path / "caller.wav", caller_voice.say(QUESTION), before_secs=3.0, after_secs=20.0)
    async with local_server(agent, agent.settings) as media_url:
        base = media_url.replace("ws://", "http://").removesuffix("/ws/media")
        async with chromium(mic, tmp_path / "profile") as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/phone")
            await page.click("#call")
            transcript = page.locator("#transcript")
            await transcript.locator("li.agent", has_text=ANSWER).wait_for(timeout=60_000)
            unheard = await transcript.locator("li.agent .text.unheard").all_inner_texts()
            stats = await page.locator("#stats").inner_text()
            await page.click("#hangup")
            await page.locator("#outcome a").wait_for(timeout=30_000)

            await page.goto(f"{base}/console")
            await page.locator("table.calls tbody tr[data-call-sid] a").first.click()
            stored_unheard = await page.locator("ol.transcript li.agent .text.unheard").all_inner_texts()

    assert unheard, "the greeting's unheard sentences are greyed on the page"
    assert int(re.search(r"(\d+) clears", stats).group(1)) >= 1, stats  # the page dropped the queued audio
    assert stored_unheard == unheard, (stored_unheard, unheard)
