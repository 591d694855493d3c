"""When does the caller's turn end: the VAD, the turn model and one stop strategy per kind of STT.

- `segmented_stop`: the embedded STT, which transcribes whole VAD segments.
- `streaming_stop`: a streaming STT (interim and final words while the caller speaks).
- `speculation`: the streaming stop that also starts an LLM's answer before the turn is certain to end.
- `sentences`: whether a transcript reads as finished or trails off.
Every threshold comes from one object, `Settings.turn_taking` (see docs/turn-taking.md).
"""

from voiceagent.call.turn_taking.params import turn_taking_params

__all__ = ["turn_taking_params"]
