"""Text for TTS in sentences, except a reply's first clause, which goes out as soon as it is complete.

The caller hears the agent start a comma earlier: "The Pro plan is $99 a month," is synthesized while the
rest of the sentence is still being generated. Later clauses stay in whole sentences for natural prosody.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from pipecat.services.tts_service import TTSService
from pipecat.utils.text.base_text_aggregator import Aggregation, TextType
from pipecat.utils.text.simple_text_aggregator import SimpleTextAggregator

CLAUSE_ENDS = ",;:"


class FirstClauseTextAggregator(SimpleTextAggregator):
    """Pipecat's sentence aggregator, releasing a reply's first clause of `min_words` or more words early.

    A clause ends at a comma, semicolon or colon followed by a space, so "10,000" and "9:30" never split.
    """

    def __init__(self, min_words: int = 4, **kwargs):
        super().__init__(**kwargs)
        self._min_words = min_words
        self._first_piece = True

    async def aggregate(self, text: str) -> AsyncIterator[Aggregation]:
        if self._aggregation_type == TextType.TOKEN:
            async for piece in super().aggregate(text):
                yield piece
            return
        for char in text:
            if self._first_piece and char.isspace() and self._ends_first_clause():
                clause = self._text.strip(" ")
                await SimpleTextAggregator.reset(self)
                self._first_piece = False
                yield Aggregation(text=clause, type=TextType.SENTENCE)
                continue
            self._text += char
            sentence = await self._check_sentence_with_lookahead(char)
            if sentence:
                self._first_piece = False
                yield sentence

    def _ends_first_clause(self) -> bool:
        return bool(self._text) and self._text[-1] in CLAUSE_ENDS and len(self._text.split()) >= self._min_words

    async def flush(self) -> Aggregation | None:
        self._first_piece = True  # the reply is over; the next one starts with a clause again
        return await super().flush()

    async def handle_interruption(self):
        self._first_piece = True
        await super().handle_interruption()

    async def reset(self):
        self._first_piece = True
        await super().reset()


def speak_first_clause_early(tts: TTSService) -> TTSService:
    """Give `tts` the first-clause aggregator (Pipecat 1.14 has no public setter for the aggregator)."""
    current = tts._text_aggregator
    if isinstance(current, SimpleTextAggregator) and current._aggregation_type == TextType.SENTENCE:
        tts._text_aggregator = FirstClauseTextAggregator(aggregation_type=TextType.SENTENCE, language=current.language)
    return tts
