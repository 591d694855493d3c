"""The softphone's audio maths, run by node exactly as the browser runs it (the same .mjs files)."""

from __future__ import annotations

import audioop
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

STATIC = Path(__file__).resolve().parents[2] / "src" / "voiceagent" / "web" / "static"


def run_node(script: str) -> dict:
    """Run an ES module script with the softphone's static folder importable; its JSON output."""
    node = shutil.which("node")
    assert node, "node is missing: apt-get install nodejs"
    result = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True,
                            timeout=60, cwd=STATIC)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_mu_law_encoder_matches_the_reference_for_every_16_bit_sample():
    out = run_node(f"""
        import {{ linearToMuLaw, muLawToLinear }} from "{STATIC / 'codec.mjs'}";
        const encoded = []; for (let s = -32768; s < 32768; s++) encoded.push(linearToMuLaw(s));
        const decoded = []; for (let c = 0; c < 256; c++) decoded.push(muLawToLinear(c));
        console.log(JSON.stringify({{ encoded, decoded }}));""")
    samples = np.arange(-32768, 32768, dtype=np.int16)
    assert bytes(out["encoded"]) == audioop.lin2ulaw(samples.tobytes(), 2)  # what the server's decoder expects
    assert np.array_equal(np.array(out["decoded"], dtype=np.int16),
                          np.frombuffer(audioop.ulaw2lin(bytes(range(256)), 2), dtype=np.int16))


def test_the_microphone_becomes_20_ms_frames_at_8_khz_without_aliasing():
    out = run_node(f"""
        import {{ MuLawFramer, muLawToLinear }} from "{STATIC / 'codec.mjs'}";
        function tone(hz, rate, seconds) {{
          const framer = new MuLawFramer(rate); const frames = [];
          const block = new Float32Array(128); let n = 0;
          while (n < rate * seconds) {{
            for (let i = 0; i < 128; i++, n++) block[i] = 0.5 * Math.sin(2 * Math.PI * hz * n / rate);
            frames.push(...framer.push(block));
          }}
          return {{ sizes: [...new Set(frames.map((f) => f.length))],
                    pcm: frames.flatMap((f) => Array.from(f, muLawToLinear)) }};
        }}
        console.log(JSON.stringify({{ speech: tone(1000, 48000, 1), alias: tone(6000, 48000, 1),
                                      cd: tone(440, 44100, 1) }}));""")

    def spectrum(pcm: list[int]) -> tuple[float, float]:
        signal = np.array(pcm[800:], dtype=np.float64) / 32768  # past the filter's start-up
        magnitude = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
        peak = np.fft.rfftfreq(len(signal), 1 / 8000)[magnitude.argmax()]
        return peak, float(np.sqrt(np.mean(signal ** 2)))

    for name, hz, seconds_of_audio in (("speech", 1000, 1), ("cd", 440, 1)):
        assert out[name]["sizes"] == [160]
        assert abs(len(out[name]["pcm"]) - 8000 * seconds_of_audio) <= 160  # 20 ms frames, 8000 samples a second
        peak, level = spectrum(out[name]["pcm"])
        assert abs(peak - hz) < 10, (name, peak)
        assert 0.3 < level < 0.4, (name, level)  # a 0.5 sine keeps its level (RMS 0.35)
    # 6 kHz cannot be carried at 8 kHz: without the low-pass it would fold to 2 kHz at nearly full level.
    assert spectrum(out["alias"]["pcm"])[1] < 0.01


def test_the_jitter_buffer_waits_for_60_ms_plays_in_order_and_clear_drops_the_rest():
    out = run_node(f"""
        const processors = {{}};
        globalThis.sampleRate = 8000;
        globalThis.AudioWorkletProcessor = class {{ constructor() {{ this.port = {{ posted: [], postMessage(m) {{ this.posted.push(m); }} }}; }} }};
        globalThis.registerProcessor = (name, cls) => {{ processors[name] = cls; }};
        await import("{STATIC / 'worklets.mjs'}");
        const player = new processors["jitter-player"]();
        const render = () => {{ const out = [new Float32Array(128)]; player.process([], [out]); return Array.from(out[0]); }};
        const ramp = Float32Array.from({{ length: 600 }}, (_, i) => (i + 1) / 1000);
        player.port.onmessage({{ data: {{ type: "audio", samples: ramp.slice(0, 160) }} }});
        const before = render();  // 20 ms queued: under the prebuffer, and not yet waited long enough
        player.port.onmessage({{ data: {{ type: "audio", samples: ramp.slice(160) }} }});
        const first = render();
        const playedBefore = player.played;
        player.port.onmessage({{ data: {{ type: "clear" }} }});
        const afterClear = render();
        const played = player.played, last = player.port.posted.at(-1);
        player.port.onmessage({{ data: {{ type: "audio", samples: ramp.slice(0, 100) }} }});  // a short tail
        const tail = [render(), render(), render(), render(), render()].flat();
        console.log(JSON.stringify({{ before, first, playedBefore, played, afterClear, last, tail,
                                      tailPlayed: player.played }}));""")
    assert set(out["before"]) == {0}
    assert out["first"][:3] == [np.float32(0.001).item(), np.float32(0.002).item(), np.float32(0.003).item()]
    assert out["playedBefore"] == 128
    assert out["played"] == 600  # what `clear` dropped counts as done: every pending mark is due
    assert set(out["afterClear"]) == {0}
    assert out["last"] == {"type": "played", "played": 600, "queued": 0}
    # Under the prebuffer, a tail waits as long as the prebuffer would take (480 samples), then plays whole.
    started = next(i for i, value in enumerate(out["tail"]) if value)
    assert 480 <= started <= 512 and out["tail"][started] == np.float32(0.001).item()
    assert out["tailPlayed"] == 700
