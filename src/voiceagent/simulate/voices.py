"""Caller speech for simulated calls: text spoken by the local Piper voice, or WAV files."""

from __future__ import annotations

import re

import numpy as np

from voiceagent.simulate.audio import SAMPLE_RATE, to_phone_line

_PAUSE = re.compile(r"\[pause (\d+)\]")


class CallerVoice:
    """Speaks caller lines slightly slower and quieter than the agent; `[pause 400]` inserts silence."""

    def __init__(self, piper_voice, length_scale: float = 1.08, volume: float = 0.8, steady: bool = False):
        """`steady`: without Piper's sampling noise (its graph draws fresh noise every synthesis, so the same line
        sounds a little different each time): the same audio every run."""
        from piper.config import SynthesisConfig

        self._voice = piper_voice
        noise = {"noise_scale": 0.0, "noise_w_scale": 0.0} if steady else {}
        self._config = SynthesisConfig(length_scale=length_scale, volume=volume, **noise)

    def say(self, text: str) -> np.ndarray:
        pieces: list[np.ndarray] = []
        for index, part in enumerate(_PAUSE.split(text)):
            if index % 2 == 1:
                pieces.append(np.zeros(int(SAMPLE_RATE * int(part) / 1000), dtype=np.int16))
            elif part.strip():
                for chunk in self._voice.synthesize(part.strip(), syn_config=self._config):
                    pcm = np.frombuffer(chunk.audio_int16_bytes, dtype=np.int16)
                    pieces.append(to_phone_line(pcm, chunk.sample_rate))
        # A little room tone before and after, like a real line.
        lead = np.zeros(int(SAMPLE_RATE * 0.1), dtype=np.int16)
        return np.concatenate([lead, *pieces, lead])


# Callers who do not sound like the agent (which speaks with Piper joe): Debian's espeak-ng and flite voices, at
# a speed, through a telephone band-pass and with line noise added by sox. Named "<voice>[-slow|-fast][-noisy]",
# e.g. "slt-slow-noisy"; "piper" is the default caller (the agent's own voice, a little slower).
ENGINES = {
    "piper": ("piper", ""),
    "espeak-us": ("espeak-ng", "en-us"),
    "espeak-us-f": ("espeak-ng", "en-us+f3"),
    "espeak-gb": ("espeak-ng", "en-gb-x-rp"),
    "slt": ("flite", "slt"),  # US English, female (CMU Arctic)
    "rms": ("flite", "rms"),  # US English, male
    "awb": ("flite", "awb"),  # Scottish English, male
}
SPEEDS = {"": 1.0, "slow": 0.8, "fast": 1.2}
NOISE_VOLUME = 0.06  # pink noise under the voice, about 20 dB below speech after normalisation
VOICE_NAMES = [f"{base}{f'-{speed}' if speed else ''}{suffix}" for base in ENGINES for speed in SPEEDS
               for suffix in ("", "-noisy") if not (base == "piper" and suffix)]


def parse_voice_name(name: str) -> tuple[str, float, bool]:
    """'slt-slow-noisy' -> ('slt', 0.8, True); raises ValueError naming the choices for an unknown voice."""
    noisy = name.endswith("-noisy")
    rest = name.removesuffix("-noisy")
    speed = next((s for s in SPEEDS if s and rest.endswith(f"-{s}")), "")
    base = rest.removesuffix(f"-{speed}") if speed else rest
    if base not in ENGINES:
        raise ValueError(f"unknown caller voice '{name}': use one of {', '.join(ENGINES)}, optionally followed by "
                         "-slow or -fast and -noisy (e.g. slt-slow-noisy)")
    return base, SPEEDS[speed], noisy


def _run(command: list[str]) -> None:
    import subprocess

    try:
        subprocess.run(command, check=True, capture_output=True, timeout=60)
    except FileNotFoundError as error:
        raise RuntimeError(f"{command[0]} is not installed: apt-get install -y espeak-ng flite sox") from error
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"{command[0]} failed: {error.stderr.decode(errors='replace')[-300:]}") from error


class SystemVoice:
    """A caller voice of a Debian TTS package, rendered to 8 kHz phone audio with sox (band-pass, noise)."""

    def __init__(self, name: str):
        self.name = name
        self._base, self._speed, self._noisy = parse_voice_name(name)
        self._engine, self._voice = ENGINES[self._base]

    def _render(self, text: str, folder) -> np.ndarray:
        raw, line = f"{folder}/raw.wav", f"{folder}/line.wav"
        if self._engine == "espeak-ng":
            _run(["espeak-ng", "-v", self._voice, "-s", str(int(160 * self._speed)), "-w", raw, text])
        else:
            _run(["flite", "-voice", self._voice, "--setf", f"duration_stretch={1 / self._speed:.2f}", "-t", text,
                  "-o", raw])
        # The telephone band, one level for every voice, 8 kHz 16-bit as the phone network carries it.
        _run(["sox", "-R", "-D", raw, "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", line,
              "highpass", "300", "lowpass", "3400", "norm", "-6"])  # -R -D: no random dither, the same every run
        if self._noisy:
            noise, mixed = f"{folder}/noise.wav", f"{folder}/mixed.wav"
            _run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", noise, "synth",
                  f"{_seconds(line) + 0.05:.2f}", "pinknoise", "vol", str(NOISE_VOLUME)])  # -R: the same every run
            _run(["sox", "-R", "-D", "-m", "-v", "1", line, "-v", "1", noise, mixed, "trim", "0", f"{_seconds(line):.2f}"])
            line = mixed
        from voiceagent.simulate.audio import read_wav

        return to_phone_line(read_wav(line), SAMPLE_RATE)

    def say(self, text: str) -> np.ndarray:
        import tempfile

        pieces: list[np.ndarray] = []
        with tempfile.TemporaryDirectory(prefix="caller-voice-") as folder:
            for index, part in enumerate(_PAUSE.split(text)):
                if index % 2 == 1:
                    pieces.append(np.zeros(int(SAMPLE_RATE * int(part) / 1000), dtype=np.int16))
                elif part.strip():
                    pieces.append(self._render(part.strip(), folder))
        lead = np.zeros(int(SAMPLE_RATE * 0.1), dtype=np.int16)
        return np.concatenate([lead, *pieces, lead])


def _seconds(path: str) -> float:
    import wave

    with wave.open(path, "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def caller_voice(name: str, piper_voice) -> CallerVoice | SystemVoice:
    """The caller voice called `name`: "piper" (the default) or a Debian voice, see VOICE_NAMES."""
    base, speed, noisy = parse_voice_name(name)
    if base == "piper" and not noisy:
        return CallerVoice(piper_voice, length_scale=1.08 / speed)
    if base == "piper":
        raise ValueError("the piper caller has no -noisy variant; pick a Debian voice such as slt-noisy")
    return SystemVoice(name)


def line_noise(volume: float = NOISE_VOLUME, seconds: float = 7.0) -> np.ndarray:
    """A noisy line's hiss: pink noise in the telephone band at `volume` (sox's), 8 kHz int16, to loop under a
    whole call, the caller's silences included (the -noisy voices carry noise only while they speak)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="line-noise-") as folder:
        path = f"{folder}/noise.wav"
        _run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16", path, "synth", f"{seconds:.2f}",
              "pinknoise", "vol", str(volume), "highpass", "300", "lowpass", "3400"])
        from voiceagent.simulate.audio import read_wav

        return to_phone_line(read_wav(path), SAMPLE_RATE)
